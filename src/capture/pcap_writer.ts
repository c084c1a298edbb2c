/**
 * Writes classic pcap files: the format every tool reads. Used for generated benchmark captures and for
 * tests that need files in either byte order and precision.
 *
 * @module
 */

/** Options for `PcapWriter`. */
export interface PcapWriterOptions {
  linkType?: number;
  snaplen?: number;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nanos?: boolean;
  /** Write big-endian (as a SPARC or PowerPC host would). */
  bigEndian?: boolean;
}

/** Accumulates a pcap file in memory or streams it through `drain`. */
export class PcapWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private readonly little: boolean;
  private readonly digits: number;

  constructor(options: PcapWriterOptions = {}) {
    this.little = !options.bigEndian;
    this.digits = options.nanos ? 9 : 6;
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, options.nanos ? 0xa1b23c4d : 0xa1b2c3d4, this.little);
    h.setUint16(4, 2, this.little);
    h.setUint16(6, 4, this.little);
    h.setUint32(16, options.snaplen ?? 262144, this.little);
    h.setUint32(20, options.linkType ?? 1, this.little);
    this.push(new Uint8Array(h.buffer));
  }

  /**
   * Appends a packet. `frac` is in the file's unit (microseconds or nanoseconds). `len` defaults to the
   * data length; a larger `len` records a packet cut by the snaplen.
   */
  packet(data: Uint8Array, sec: number, frac: number, len = data.length): void {
    const h = new DataView(new ArrayBuffer(16));
    h.setUint32(0, sec, this.little);
    h.setUint32(4, frac, this.little);
    h.setUint32(8, data.length, this.little);
    h.setUint32(12, len, this.little);
    this.push(new Uint8Array(h.buffer));
    this.push(data.slice());
  }

  /** Fraction digits of the timestamps this file stores. */
  get tsDigits(): number {
    return this.digits;
  }

  /** Bytes buffered so far. */
  get length(): number {
    return this.size;
  }

  /** Returns and forgets what is buffered (for streaming large files to disk). */
  drain(): Uint8Array {
    const out = concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return out;
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }
}

/** Concatenates `chunks` (of `total` bytes) into one array. */
export function concat(chunks: Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}
