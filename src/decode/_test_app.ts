/** Helpers for application-decoder tests. @module */

import { IssueList } from "./app.ts";
import type { AppDecode, AppHint } from "./app.ts";

export { cat as concat, hex as fromHex } from "./_test_frame.ts";

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
