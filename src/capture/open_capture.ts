/**
 * Opens a capture file of any supported format: the format is decided by the file's magic, never by its
 * name, and gzip compression is undone on the fly.
 *
 * @module
 */

import { type ByteInput, ChunkBuffer, FileInput, StreamInput } from "./byte_input.ts";
import { CaptureFormatError } from "./capture_error.ts";
import { isPcapMagic, PcapReader } from "./pcap_reader.ts";
import { isPcapngMagic, PcapngReader } from "./pcapng_reader.ts";
import type { PacketSource } from "./source.ts";

/** Options for `openCapture`. */
export interface OpenCaptureOptions {
  /** Size of the read buffer; records larger than it grow it. */
  chunkBytes?: number;
}

/** A packet source over a capture file, with what was learned when opening it. */
export interface CaptureFile extends PacketSource {
  /** `pcap` or `pcapng`. */
  readonly format: "pcap" | "pcapng";
  /** Whether the file was gzip-compressed. */
  readonly gzip: boolean;
}

/**
 * Opens the capture at `path`. Throws `Deno.errors.NotFound` / `PermissionDenied` as Deno does for a path
 * that cannot be opened, and `CaptureFormatError` for a file that is not a capture.
 */
export async function openCapture(path: string, options: OpenCaptureOptions = {}): Promise<CaptureFile> {
  const file = await Deno.open(path, { read: true });
  return await openCaptureInput(new FileInput(file), path, options);
}

/**
 * Opens a capture from any byte input (a file, an HTTP body, ...). `name` is used in messages.
 * The input is closed when the returned source ends, or here on failure.
 */
export async function openCaptureInput(
  input: ByteInput,
  name: string,
  options: OpenCaptureOptions = {},
): Promise<CaptureFile> {
  let buf = new ChunkBuffer(input, options.chunkBytes, name);
  let gzip = false;
  try {
    await buf.fill(4);
    if (buf.available >= 2 && buf.bytes[0] === 0x1f && buf.bytes[1] === 0x8b) {
      gzip = true;
      buf = new ChunkBuffer(new StreamInput(gunzip(buf, input)), options.chunkBytes, name);
      await buf.fill(4);
    }
    if (buf.available === 0) {
      throw new CaptureFormatError(`Cannot read "${name}": the file is empty`, 0);
    }
    if (buf.available >= 4 && isPcapMagic(buf.bytes, 0)) {
      return Object.assign(new PcapReader(buf, name), { format: "pcap" as const, gzip });
    }
    if (buf.available >= 4 && isPcapngMagic(buf.bytes, 0)) {
      return Object.assign(new PcapngReader(buf, name), { format: "pcapng" as const, gzip });
    }
    throw new CaptureFormatError(
      `Cannot read "${name}": not a pcap or pcapng capture file (it starts with ${describeStart(buf)})`,
      0,
    );
  } catch (e) {
    buf.close();
    if (e instanceof CaptureFormatError) throw e;
    if (gzip && e instanceof TypeError) {
      throw new CaptureFormatError(`Cannot read "${name}": the gzip data is corrupt (${e.message})`, 0, {
        cause: e,
      });
    }
    throw e;
  }
}

/** Decompresses the input, starting with the bytes already buffered. */
function gunzip(buf: ChunkBuffer, input: ByteInput): ReadableStream<Uint8Array> {
  const head = buf.bytes.slice(buf.pos, buf.end);
  let sentHead = false;
  const raw = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      const chunk = new Uint8Array(1 << 20);
      const n = await input.read(chunk);
      if (n === null) controller.close();
      else controller.enqueue(chunk.subarray(0, n));
    },
    cancel() {
      input.close();
    },
  }, { highWaterMark: 0 });
  return raw.pipeThrough(
    new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>,
  );
}

function describeStart(buf: ChunkBuffer): string {
  const n = Math.min(8, buf.available);
  const hex = Array.from(buf.bytes.subarray(buf.pos, buf.pos + n), (b) => b.toString(16).padStart(2, "0"));
  const text = new TextDecoder().decode(buf.bytes.subarray(buf.pos, buf.pos + Math.min(16, buf.available)));
  const printable = /^[\x20-\x7e\r\n\t]+$/.test(text)
    ? `, text "${text.replace(/[\r\n\t]/g, " ").trim()}"`
    : "";
  return `bytes ${hex.join(" ")}${printable}`;
}
