/**
 * A streaming pcapng writer to a file: the spool behind `netwatch capture -w FILE.pcapng`.
 *
 * The section header and interface description come from `PcapngWriter`; enhanced packet blocks are then
 * encoded straight into one reused buffer (the same bytes `PcapngWriter.packet` builds, without its
 * per-packet allocations), which is written out when it fills, at least once a second, and on close. A
 * crash of the process therefore loses at most the last second: what was written is in the kernel's page
 * cache, and the file always ends on a block boundary, so readers (netwatch, tshark) see every packet
 * up to the last flush. `fsync` is not called: it would protect against a power cut, not a crash, at
 * the cost of a disk round trip per flush.
 *
 * @module
 */

import type { Frame } from "./source.ts";
import { type PcapngInterface, PcapngWriter } from "./pcapng_writer.ts";

/** Enhanced packet block type (pcapng §4.3). */
const BT_EPB = 6;
/** Interface statistics block type (pcapng §4.6). */
const BT_ISB = 5;
/** EPB overhead: block type, length, interface id, timestamp (2 words), caplen, len, trailing length. */
const EPB_OVERHEAD = 32;

/** Longest a written packet waits in memory, in ms: what a crash can lose. */
export const DEFAULT_SPOOL_FLUSH_MS = 1000;
/** Buffer size: large enough that a busy capture writes in big blocks, small enough to hold little. */
export const DEFAULT_SPOOL_BUFFER_BYTES = 1024 * 1024;
/**
 * Packets between two looks at the clock on the write path. The timer flushes an idle spool; this
 * flushes a busy one whose timer is late because the main thread is decoding.
 */
const CLOCK_EVERY = 256;

/** Options of {@linkcode PcapngSpool.create}. */
export interface PcapngSpoolOptions {
  /** The one interface every packet is written for (`if_tsresol` is 9 for nanosecond timestamps). */
  iface: PcapngInterface;
  /** `shb_userappl` (default `"netwatch"`). */
  application?: string;
  /** Flush interval in ms (default {@linkcode DEFAULT_SPOOL_FLUSH_MS}). */
  flushMs?: number;
  /** Buffer size in bytes (default {@linkcode DEFAULT_SPOOL_BUFFER_BYTES}); grows for a larger packet. */
  bufferBytes?: number;
}

/** Capture counters for the closing interface statistics block (pcapng §4.6). */
export interface SpoolStats {
  /** `isb_ifrecv`: packets received (pcap_stats `ps_recv`). */
  received?: number;
  /** `isb_osdrop`: packets the operating system dropped (pcap_stats `ps_drop`). */
  dropped?: number;
  /** `isb_ifdrop`: packets the interface dropped (pcap_stats `ps_ifdrop`). */
  ifDropped?: number;
}

/**
 * Writes one interface's packets to a pcapng file as they arrive. Not thread-safe; call `close()` (or
 * use `await using`) to write what is buffered and release the file.
 *
 * @example
 * ```ts
 * const spool = await PcapngSpool.create("out.pcapng", { iface: { linkType: 1, name: "eth0", tsresol: 9 } });
 * await source.run((frame) => spool.write(frame));
 * spool.close();
 * ```
 */
export class PcapngSpool {
  /** Packets written (buffered or on disk). */
  packets = 0;
  /** Bytes of the file so far, buffered bytes included. */
  bytes = 0;
  /** The path written to. */
  readonly path: string;
  /** `if_tsresol` of the interface: decimal digits of the timestamps written. */
  readonly tsDigits: number;

  #file: Deno.FsFile | null;
  #buf: Uint8Array;
  #view: DataView;
  #used = 0;
  #flushMs: number;
  #lastFlush = performance.now();
  #sinceClock = 0;
  #timer: ReturnType<typeof setInterval>;
  #pow: number;
  #startSec: number;
  #startFrac: number;

  private constructor(path: string, file: Deno.FsFile, options: PcapngSpoolOptions) {
    this.path = path;
    this.#file = file;
    const tsresol = options.iface.tsresol ?? 6;
    if (!Number.isInteger(tsresol) || tsresol < 0 || tsresol > 9) {
      throw new RangeError(`PcapngSpool writes decimal timestamps with 0..9 digits, got tsresol ${tsresol}`);
    }
    this.tsDigits = tsresol;
    this.#pow = 10 ** tsresol;
    [this.#startSec, this.#startFrac] = this.#wallClock(Date.now());
    this.#flushMs = options.flushMs ?? DEFAULT_SPOOL_FLUSH_MS;
    if (!(this.#flushMs > 0)) throw new RangeError(`flushMs must be > 0, got ${this.#flushMs}`);
    const size = Math.max(options.bufferBytes ?? DEFAULT_SPOOL_BUFFER_BYTES, 4096);
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
    const header = new PcapngWriter({ application: options.application ?? "netwatch" });
    header.interface({ ...options.iface, tsresol });
    this.#append(header.drain());
    this.flush(); // a file that exists is a readable (empty) capture at once
    this.#timer = setInterval(() => this.#tick(), Math.max(10, this.#flushMs / 2));
  }

  /**
   * Creates (or truncates) `path` and writes the section header and interface description. Throws what
   * `Deno.open` throws (`NotFound`, `PermissionDenied`, ...).
   */
  /**
   * A spool for a live capture: the interface block names the device, link type, snaplen, timestamp
   * precision and filter of `capture` (a `LiveCapture`, described structurally so this module stays free
   * of libpcap).
   */
  static forCapture(
    path: string,
    capture: { linkType: number; snaplen: number; device: string; filter?: string; tsDigits: number },
  ): Promise<PcapngSpool> {
    return PcapngSpool.create(path, {
      iface: {
        linkType: capture.linkType,
        snaplen: capture.snaplen,
        name: capture.device,
        filter: capture.filter,
        tsresol: capture.tsDigits,
      },
    });
  }

  static async create(path: string, options: PcapngSpoolOptions): Promise<PcapngSpool> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      return new PcapngSpool(path, file, options);
    } catch (e) {
      file.close();
      throw e;
    }
  }

  /** Appends `frame` as an enhanced packet block with its captured bytes and wire length. */
  write(frame: Frame): void {
    this.writePacket(
      frame.bytes,
      frame.start,
      frame.caplen,
      frame.len,
      frame.tsSec,
      frame.tsFrac,
      frame.tsDigits,
    );
  }

  /**
   * Appends the packet `bytes[start, start + caplen)`, `len` bytes on the wire, stamped `tsSec` +
   * `tsFrac / 10^digits` (converted to the spool's resolution, truncating extra digits). Throws
   * `TypeError` after `close()` and `RangeError` for a range outside `bytes`.
   */
  writePacket(
    bytes: Uint8Array,
    start: number,
    caplen: number,
    len: number,
    tsSec: number,
    tsFrac: number,
    digits: number = this.tsDigits,
  ): void {
    if (this.#file === null) throw new TypeError("PcapngSpool is closed");
    if (!(start >= 0 && caplen >= 0 && start + caplen <= bytes.length)) {
      throw new RangeError(`packet [${start}, ${start + caplen}) is outside the ${bytes.length}-byte buffer`);
    }
    const padded = (caplen + 3) & ~3;
    const total = EPB_OVERHEAD + padded;
    if (this.#used + total > this.#buf.length) {
      this.flush();
      if (total > this.#buf.length) this.#grow(total);
    }
    let frac = tsFrac;
    if (digits !== this.tsDigits) {
      frac = digits < this.tsDigits
        ? tsFrac * 10 ** (this.tsDigits - digits)
        : Math.floor(tsFrac / 10 ** (digits - this.tsDigits));
    }
    const v = this.#view, o = this.#used;
    v.setUint32(o, BT_EPB, true);
    v.setUint32(o + 4, total, true);
    v.setUint32(o + 8, 0, true); // interface id: the spool has exactly one
    setUnits(v, o + 12, tsSec, frac, this.#pow);
    v.setUint32(o + 20, caplen, true);
    v.setUint32(o + 24, len < caplen ? caplen : len, true);
    this.#buf.set(bytes.subarray(start, start + caplen), o + 28);
    // The buffer is reused: padding must be zeroed, it may hold an older packet's bytes.
    for (let i = o + 28 + caplen; i < o + 28 + padded; i++) this.#buf[i] = 0;
    v.setUint32(o + 28 + padded, total, true);
    this.#used += total;
    this.bytes += total;
    this.packets++;
    if (++this.#sinceClock >= CLOCK_EVERY) {
      this.#sinceClock = 0;
      if (performance.now() - this.#lastFlush >= this.#flushMs) this.flush();
    }
  }

  /** Writes what is buffered to the file. */
  flush(): void {
    this.#lastFlush = performance.now();
    if (this.#used === 0 || this.#file === null) return;
    const data = this.#buf.subarray(0, this.#used);
    let off = 0;
    while (off < data.length) off += this.#file.writeSync(data.subarray(off));
    this.#used = 0;
  }

  /**
   * Flushes, appends an interface statistics block when `stats` is given (with the time of the last
   * packet and the count written as `isb_usrdeliv`), and closes the file. Idempotent.
   */
  close(stats?: SpoolStats): void {
    if (this.#file === null) return;
    clearInterval(this.#timer);
    try {
      if (stats !== undefined) this.#append(this.#statsBlock(stats));
      this.flush();
    } finally {
      this.#file.close();
      this.#file = null;
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Runs every half flush interval, so a buffered packet waits at most one interval. */
  #tick(): void {
    if (this.#used > 0) this.flush();
  }

  #statsBlock(stats: SpoolStats): Uint8Array {
    const opts: [code: number, value: bigint][] = [];
    if (stats.received !== undefined) opts.push([4, BigInt(stats.received)]); // isb_ifrecv
    if (stats.ifDropped !== undefined) opts.push([5, BigInt(stats.ifDropped)]); // isb_ifdrop
    if (stats.dropped !== undefined) opts.push([7, BigInt(stats.dropped)]); // isb_osdrop
    opts.push([8, BigInt(this.packets)]); // isb_usrdeliv
    // Header, interface id, timestamp; isb_starttime, isb_endtime and each counter (4-byte option
    // header + 8 bytes); opt_endofopt; trailing length.
    const size = 8 + 4 + 8 + 12 * (2 + opts.length) + 4 + 4;
    const out = new Uint8Array(size);
    const v = new DataView(out.buffer);
    v.setUint32(0, BT_ISB, true);
    v.setUint32(4, size, true);
    v.setUint32(8, 0, true);
    // The counters are as of now (as dumpcap writes them), so this block is stamped with the wall clock.
    const [endSec, endFrac] = this.#wallClock(Date.now());
    setUnits(v, 12, endSec, endFrac, this.#pow);
    v.setUint16(20, 2, true); // isb_starttime: same high/low layout as the block timestamp
    v.setUint16(22, 8, true);
    setUnits(v, 24, this.#startSec, this.#startFrac, this.#pow);
    v.setUint16(32, 3, true); // isb_endtime
    v.setUint16(34, 8, true);
    setUnits(v, 36, endSec, endFrac, this.#pow);
    let o = 44;
    for (const [code, value] of opts) {
      v.setUint16(o, code, true);
      v.setUint16(o + 2, 8, true);
      v.setBigUint64(o + 4, value, true);
      o += 12;
    }
    v.setUint32(o, 0, true);
    v.setUint32(o + 4, size, true);
    return out;
  }

  /** Epoch milliseconds as seconds and a fraction in the spool's resolution. */
  #wallClock(ms: number): [number, number] {
    const sec = Math.floor(ms / 1000);
    return [sec, Math.floor(((ms - sec * 1000) / 1000) * this.#pow)];
  }

  #append(block: Uint8Array): void {
    if (this.#used + block.length > this.#buf.length) {
      this.flush();
      if (block.length > this.#buf.length) this.#grow(block.length);
    }
    this.#buf.set(block, this.#used);
    this.#used += block.length;
    this.bytes += block.length;
  }

  #grow(size: number): void {
    this.#buf = new Uint8Array(size);
    this.#view = new DataView(this.#buf.buffer);
  }
}

/**
 * Stores `sec * pow + frac` (a count of timestamp units) at `o` as pcapng's high then low 32-bit word.
 * Exact without BigInt, though nanosecond epochs exceed 2^53: the seconds are multiplied in 16-bit halves
 * so every intermediate stays below 2^53. Requires `pow <= 10^9` and `sec < 2^32`.
 */
function setUnits(v: DataView, o: number, sec: number, frac: number, pow: number): void {
  const secHigh = Math.floor(sec / 65536);
  const a = (sec - secHigh * 65536) * pow + frac; // < 2^47
  const b = secHigh * pow; // the rest, in units of 2^16
  const bHigh = Math.floor(b / 65536);
  const t = (b - bHigh * 65536) * 65536 + a; // < 2^48
  const tHigh = Math.floor(t / 4294967296);
  v.setUint32(o, bHigh + tHigh, true);
  v.setUint32(o + 4, t - tHigh * 4294967296, true);
}
