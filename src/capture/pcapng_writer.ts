/**
 * Writes pcapng files (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/): a section header,
 * interface descriptions with name, filter and resolution, and enhanced packet blocks carrying the
 * original bytes. The same writer makes exports, capture spools and test files (which is why it can also
 * write the rarer simple/obsolete packet blocks and arbitrary blocks).
 *
 * @module
 */

import { concat } from "./pcap_writer.ts";

const encoder = new TextEncoder();

/** An interface description. */
export interface PcapngInterface {
  linkType: number;
  snaplen?: number;
  name?: string;
  description?: string;
  /** The capture filter, stored as `if_filter` (type 0: libpcap filter string). */
  filter?: string;
  comment?: string;
  /** `if_tsresol` byte: decimal digits (6 = microseconds, 9 = nanoseconds), or 0x80|n for 2^-n. */
  tsresol?: number;
  /** `if_tsoffset`: seconds added to every timestamp. */
  tsoffset?: number;
}

/** Options of the section header. */
export interface PcapngSectionOptions {
  bigEndian?: boolean;
  comment?: string;
  /** `shb_userappl`: the writing application. */
  application?: string;
}

type Option = [code: number, value: Uint8Array];

/** Builds pcapng blocks. */
export class PcapngWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private little = true;
  private readonly resolutions: number[] = [];

  constructor(section: PcapngSectionOptions = {}) {
    this.section(section);
  }

  /** Starts a new section (interfaces are numbered from 0 again). */
  section(options: PcapngSectionOptions = {}): void {
    this.little = !options.bigEndian;
    this.resolutions.length = 0;
    const body = new DataView(new ArrayBuffer(16));
    body.setUint32(0, 0x1a2b3c4d, this.little);
    body.setUint16(4, 1, this.little);
    body.setUint16(6, 0, this.little);
    body.setBigInt64(8, -1n, this.little); // section length unknown
    const opts: Option[] = [];
    if (options.comment) opts.push([1, encoder.encode(options.comment)]);
    if (options.application) opts.push([4, encoder.encode(options.application)]);
    this.block(0x0a0d0d0a, new Uint8Array(body.buffer), opts);
  }

  /** Declares an interface; returns its id within the section. */
  interface(iface: PcapngInterface): number {
    const body = new DataView(new ArrayBuffer(8));
    body.setUint16(0, iface.linkType, this.little);
    body.setUint32(4, iface.snaplen ?? 262144, this.little);
    const opts: Option[] = [];
    if (iface.comment) opts.push([1, encoder.encode(iface.comment)]);
    if (iface.name) opts.push([2, encoder.encode(iface.name)]);
    if (iface.description) opts.push([3, encoder.encode(iface.description)]);
    if (iface.tsresol !== undefined) opts.push([9, Uint8Array.of(iface.tsresol)]);
    if (iface.filter) opts.push([11, concat([Uint8Array.of(0), encoder.encode(iface.filter)])]);
    if (iface.tsoffset) {
      const v = new DataView(new ArrayBuffer(8));
      v.setBigInt64(0, BigInt(iface.tsoffset), this.little);
      opts.push([14, new Uint8Array(v.buffer)]);
    }
    this.block(1, new Uint8Array(body.buffer), opts);
    this.resolutions.push(iface.tsresol ?? 6);
    return this.resolutions.length - 1;
  }

  /**
   * Appends an enhanced packet block. `units` is the timestamp in the interface's resolution
   * (microseconds by default) as a bigint, so nanosecond epochs keep every digit.
   */
  packet(ifaceId: number, data: Uint8Array, units: bigint, len = data.length, comment?: string): void {
    const body = new DataView(new ArrayBuffer(20));
    body.setUint32(0, ifaceId, this.little);
    body.setUint32(4, Number(units >> 32n), this.little);
    body.setUint32(8, Number(units & 0xffffffffn), this.little);
    body.setUint32(12, data.length, this.little);
    body.setUint32(16, len, this.little);
    this.block(
      6,
      concat([new Uint8Array(body.buffer), pad4(data)]),
      comment ? [[1, encoder.encode(comment)]] : [],
    );
  }

  /** Appends a simple packet block (interface 0, no timestamp). */
  simplePacket(data: Uint8Array, len = data.length): void {
    const body = new DataView(new ArrayBuffer(4));
    body.setUint32(0, len, this.little);
    this.block(3, concat([new Uint8Array(body.buffer), pad4(data)]), []);
  }

  /** Appends an obsolete packet block (type 2), as old Wireshark versions wrote. */
  obsoletePacket(ifaceId: number, data: Uint8Array, units: bigint, len = data.length): void {
    const body = new DataView(new ArrayBuffer(20));
    body.setUint16(0, ifaceId, this.little);
    body.setUint16(2, 0, this.little);
    body.setUint32(4, Number(units >> 32n), this.little);
    body.setUint32(8, Number(units & 0xffffffffn), this.little);
    body.setUint32(12, data.length, this.little);
    body.setUint32(16, len, this.little);
    this.block(2, concat([new Uint8Array(body.buffer), pad4(data)]), []);
  }

  /** Appends any block with a raw body (custom blocks, name resolution, statistics...). */
  rawBlock(type: number, body: Uint8Array): void {
    this.block(type, pad4(body), []);
  }

  /** Bytes buffered so far. */
  get length(): number {
    return this.size;
  }

  /** Returns and forgets what is buffered. */
  drain(): Uint8Array {
    const out = concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    return out;
  }

  private block(type: number, body: Uint8Array, opts: Option[]): void {
    const optBytes = opts.length ? encodeOptions(opts, this.little) : new Uint8Array(0);
    const total = 12 + body.length + optBytes.length;
    const head = new DataView(new ArrayBuffer(8));
    head.setUint32(0, type, this.little);
    head.setUint32(4, total, this.little);
    const tail = new DataView(new ArrayBuffer(4));
    tail.setUint32(0, total, this.little);
    for (const part of [new Uint8Array(head.buffer), body, optBytes, new Uint8Array(tail.buffer)]) {
      this.chunks.push(part);
      this.size += part.length;
    }
  }
}

function pad4(data: Uint8Array): Uint8Array {
  const padded = (data.length + 3) & ~3;
  if (padded === data.length) return data.slice();
  const out = new Uint8Array(padded);
  out.set(data);
  return out;
}

function encodeOptions(opts: Option[], little: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [code, value] of [...opts, [0, new Uint8Array(0)] as Option]) {
    const h = new DataView(new ArrayBuffer(4));
    h.setUint16(0, code, little);
    h.setUint16(2, value.length, little);
    parts.push(new Uint8Array(h.buffer), pad4(value));
  }
  return concat(parts);
}
