/** Helpers for application-decoder tests. @module */

import { IssueList } from "./app.ts";
import type { AppDecode, AppHint } from "./app.ts";

import { concat as concatChunks } from "../capture/pcap_writer.ts";

/** The parts, one after another. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatChunks(parts);
}

/** Bytes from hex text; white space is ignored, so vectors can be laid out like a hex dump. */
export function fromHex(s: string): Uint8Array {
  const h = s.replace(/\s+/g, "");
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

/**
 * Runs `decode` over `payload` placed at offset `at` of a larger buffer filled with `fill`, so a decoder
 * that reads outside `[off, end)` sees junk and fails the test.
 */
export function decodeEmbedded<R extends object>(
  decode: AppDecode<R>,
  payload: Uint8Array,
  hint: AppHint,
  at = 13,
  fill = 0x16,
): { rec: R | null; issues: IssueList } {
  const bytes = new Uint8Array(payload.length + at + 24).fill(fill);
  bytes.set(payload, at);
  const issues = new IssueList();
  const rec = decode(bytes, new DataView(bytes.buffer), at, at + payload.length, issues, hint);
  return { rec, issues };
}
