/** Helpers for reader tests: read a whole in-memory capture into plain records. @module */

import { MemoryInput } from "./byte_input.ts";
import { openCaptureInput } from "./open_capture.ts";
import { formatTs } from "./timestamp.ts";

/** What a test checks of a frame. */
export interface FrameFacts {
  n: number;
  ts: string;
  len: number;
  caplen: number;
  linkType: number;
  iface: number;
  firstByte: number | undefined;
  comment?: string;
}

/** Reads every frame of `bytes`; a read error is returned, not thrown. */
export async function readAll(
  bytes: Uint8Array,
  options: { chunkBytes?: number; maxRead?: number } = {},
): Promise<{ frames: FrameFacts[]; error?: Error; format: string }> {
  const source = await openCaptureInput(new MemoryInput(bytes, options.maxRead), "test.pcap", {
    chunkBytes: options.chunkBytes,
  });
  const frames: FrameFacts[] = [];
  try {
    await source.run((f) => {
      const facts: FrameFacts = {
        n: f.n,
        ts: formatTs(f.tsSec, f.tsFrac, f.tsDigits),
        len: f.len,
        caplen: f.caplen,
        linkType: f.linkType,
        iface: f.iface,
        firstByte: f.caplen > 0 ? f.bytes[f.start] : undefined,
      };
      if (f.comment !== undefined) facts.comment = f.comment;
      frames.push(facts);
    });
  } catch (e) {
    return { frames, error: e as Error, format: source.format };
  }
  return { frames, format: source.format };
}

/** `n` bytes whose first byte is `first` (so tests can tell packets apart). */
export function payload(n: number, first: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (first + i) & 0xff;
  return b;
}
