/**
 * Sequential byte inputs (a file, a decompressed or downloaded stream) and the chunk buffer the readers
 * parse from. The buffer holds a window of the input; records are parsed in place, and only the unparsed
 * tail of a chunk is moved when more is read, so memory stays bounded whatever the file size.
 *
 * @module
 */

import { CaptureFormatError } from "./capture_error.ts";

/** Anything that fills a buffer with the next bytes of an input. */
export interface ByteInput {
  /** Reads up to `into.length` bytes; resolves to the count, or `null` at the end of the input. */
  read(into: Uint8Array): Promise<number | null>;
  close(): void;
}

/** A `ByteInput` over an open file: reads straight into the chunk buffer, no copy. */
export class FileInput implements ByteInput {
  constructor(private readonly file: Deno.FsFile) {}
  read(into: Uint8Array): Promise<number | null> {
    return this.file.read(into);
  }
  close(): void {
    try {
      this.file.close();
    } catch {
      // already closed
    }
  }
}

/** A `ByteInput` over a web stream (gzip decompression, HTTP bodies). Copies each stream chunk once. */
export class StreamInput implements ByteInput {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private pending: Uint8Array | null = null;

  constructor(stream: ReadableStream<Uint8Array>, private readonly onClose?: () => void) {
    this.reader = stream.getReader();
  }

  async read(into: Uint8Array): Promise<number | null> {
    let chunk = this.pending;
    this.pending = null;
    while (chunk === null || chunk.length === 0) {
      const r = await this.reader.read();
      if (r.done) return null;
      chunk = r.value;
    }
    const n = Math.min(chunk.length, into.length);
    into.set(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (n < chunk.length) this.pending = chunk.subarray(n);
    return n;
  }

  close(): void {
    this.reader.cancel().catch(() => {});
    this.onClose?.();
  }
}

/** Default size of a chunk buffer: large reads amortise the await per read over thousands of packets. */
export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * A window `[pos, end)` of unparsed input bytes in one reusable buffer.
 * `base` is the input offset of `bytes[0]`, so `base + pos` is the input offset being parsed.
 */
export class ChunkBuffer {
  bytes: Uint8Array;
  view: DataView;
  pos = 0;
  end = 0;
  base = 0;
  eof = false;

  constructor(
    private readonly input: ByteInput,
    size = DEFAULT_CHUNK_BYTES,
    private readonly name = "input",
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Bytes available from `pos`. */
  get available(): number {
    return this.end - this.pos;
  }

  /** Input offset of `pos`. */
  get offset(): number {
    return this.base + this.pos;
  }

  /**
   * Makes at least `need` bytes available from `pos` unless the input ends first (then `eof` is set and
   * fewer are available). Moves the unparsed tail to the start of the buffer, growing it if `need` is
   * larger than the buffer, and reads until the buffer is full or the input ends.
   */
  async fill(need: number): Promise<void> {
    if (this.available >= need || this.eof) return;
    if (this.pos > 0) {
      this.bytes.copyWithin(0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.end));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    while (this.end < this.bytes.length) {
      let n: number | null;
      try {
        n = await this.input.read(this.bytes.subarray(this.end));
      } catch (e) {
        // A failing gzip stream or download: name where it failed; what was parsed before stays delivered.
        const offset = this.base + this.end;
        const why = e instanceof Error ? e.message : String(e);
        throw new CaptureFormatError(
          `Cannot read "${this.name}": ${why} (at byte offset ${offset})`,
          offset,
          {
            cause: e,
          },
        );
      }
      if (n === null) {
        this.eof = true;
        break;
      }
      this.end += n;
      // A short read from a pipe or stream is normal: stop once the request is satisfied and at least
      // a quarter of the buffer is filled, so small streams do not stall waiting for more.
      if (this.available >= need && this.end >= this.bytes.length / 4) break;
    }
  }

  close(): void {
    this.input.close();
  }
}

/** A `ByteInput` over bytes already in memory (tests, small downloads). */
export class MemoryInput implements ByteInput {
  private off = 0;
  constructor(private readonly data: Uint8Array, private readonly maxRead = Infinity) {}
  read(into: Uint8Array): Promise<number | null> {
    if (this.off >= this.data.length) return Promise.resolve(null);
    const n = Math.min(into.length, this.data.length - this.off, this.maxRead);
    into.set(this.data.subarray(this.off, this.off + n));
    this.off += n;
    return Promise.resolve(n);
  }
  close(): void {}
}
