/**
 * pcapng capture files (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/): sections in either
 * byte order, interface descriptions with their resolution and offset, enhanced, simple and obsolete packet
 * blocks; every other block is skipped by its length. Blocks are parsed in place from a `ChunkBuffer`.
 *
 * @module
 */

import type { ChunkBuffer } from "./byte_input.ts";
import { CaptureFormatError } from "./capture_error.ts";
import { maxCaplenFor } from "./link_type.ts";
import { type Frame, type InterfaceInfo, newFrame, type PacketSource } from "./source.ts";
import { splitUnits } from "./timestamp.ts";

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_PB = 0x00000002;
const BT_SPB = 0x00000003;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const IF_FILTER = 11;
const IF_TSOFFSET = 14;

/** Wireshark's limit on a block (largest packet it accepts plus room for options); larger means corrupt. */
const MAX_BLOCK_LEN = 128 * 1024 * 1024 + 131072 + 32;

/** The pcapng section header block type, which is also the file's magic. */
export function isPcapngMagic(bytes: Uint8Array, off: number): boolean {
  return bytes[off] === 0x0a && bytes[off + 1] === 0x0d && bytes[off + 2] === 0x0d && bytes[off + 3] === 0x0a;
}

/** An interface as the reader needs it to convert timestamps. */
interface Iface extends InterfaceInfo {
  /** `10^-digits` units when `binaryExp` is -1; otherwise the resolution is `2^-binaryExp`. */
  binaryExp: number;
  /** Resolution digits beyond 9 are reduced to nanoseconds by dividing by this. */
  unitDivisor: number;
  tsOffset: number;
  comment?: string;
}

const textDecoder = new TextDecoder();

/** Reads a pcapng file from a chunk buffer positioned at its first byte. */
export class PcapngReader implements PacketSource {
  readonly interfaces: InterfaceInfo[] = [];
  /** Comments of the section headers, in order. */
  readonly sectionComments: string[] = [];
  private closed = false;
  private sectionIfaces: Iface[] = [];
  private sectionBase = 0;
  private little = true;
  private readonly tsParts = [0, 0];

  constructor(private readonly buf: ChunkBuffer, private readonly name: string) {}

  close(): void {
    this.closed = true;
  }

  async run(onFrame: (frame: Frame) => void): Promise<void> {
    const buf = this.buf;
    const frame = newFrame(buf.bytes, buf.view);
    try {
      let first = true;
      while (!this.closed) {
        if (buf.available < 12) await buf.fill(12);
        if (buf.available === 0 && buf.eof) {
          if (first) throw this.error("the file is empty");
          return;
        }
        if (buf.available < 12) {
          throw this.error(`the file ends inside a block header (${buf.available} bytes left)`);
        }
        let p = buf.pos;
        const type = buf.view.getUint32(p, this.little);
        if (type === BT_SHB) {
          // The byte-order magic decides how this section, including its own length, is read.
          if (buf.available < 12) await buf.fill(12);
          const magic = buf.view.getUint32(p + 8, true);
          if (magic === BYTE_ORDER_MAGIC) this.little = true;
          else if (buf.view.getUint32(p + 8, false) === BYTE_ORDER_MAGIC) this.little = false;
          else throw this.error("a section header block has no valid byte-order magic");
        } else if (first) {
          throw this.error("the file does not start with a section header block");
        }
        first = false;
        const blockLen = buf.view.getUint32(p + 4, this.little);
        if (blockLen < 12 || blockLen % 4 !== 0 || blockLen > MAX_BLOCK_LEN) {
          throw this.error(`block of type 0x${type.toString(16)} has an invalid length ${blockLen}`);
        }
        if (buf.available < blockLen) {
          await buf.fill(blockLen);
          if (buf.available < blockLen) {
            throw this.error(
              `the file is cut short inside a block of type 0x${type.toString(16)} ` +
                `(${buf.available} of ${blockLen} bytes)`,
            );
          }
          p = buf.pos;
        }
        const view = buf.view;
        if (view.getUint32(p + blockLen - 4, this.little) !== blockLen) {
          throw this.error(
            `block of type 0x${type.toString(16)} has mismatched leading and trailing lengths`,
          );
        }
        // Parse this block, then every complete block after it that is already buffered, without awaiting.
        let end = buf.end;
        let len = blockLen;
        let t = type;
        for (;;) {
          if (t === BT_EPB || t === BT_SPB || t === BT_PB) {
            frame.bytes = buf.bytes;
            frame.view = view;
            if (this.packet(t, p, len, frame)) onFrame(frame);
          } else if (t === BT_SHB) {
            this.sectionHeader(p, len);
          } else if (t === BT_IDB) {
            this.interfaceDescription(p, len);
          }
          p += len;
          buf.pos = p;
          if (this.closed || end - p < 12) break;
          t = view.getUint32(p, this.little);
          if (t === BT_SHB) break; // the slow path re-reads the byte order
          len = view.getUint32(p + 4, this.little);
          if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_LEN || end - p < len) break;
          if (view.getUint32(p + len - 4, this.little) !== len) break;
          end = buf.end;
        }
      }
    } finally {
      buf.close();
    }
  }

  private error(what: string): CaptureFormatError {
    return new CaptureFormatError(
      `Cannot read "${this.name}": ${what} at byte offset ${this.buf.offset}`,
      this.buf.offset,
    );
  }

  private sectionHeader(p: number, len: number): void {
    this.sectionBase = this.interfaces.length;
    this.sectionIfaces = [];
    if (len < 28) throw this.error("a section header block is too short");
    this.options(p + 24, p + len - 4, (code, o, l) => {
      if (code === OPT_COMMENT) this.sectionComments.push(this.text(o, l));
    });
  }

  private interfaceDescription(p: number, len: number): void {
    if (len < 20) throw this.error("an interface description block is too short");
    const view = this.buf.view;
    const linkType = view.getUint16(p + 8, this.little);
    const snaplen = view.getUint32(p + 12, this.little);
    const iface: Iface = { linkType, snaplen, tsDigits: 6, binaryExp: -1, unitDivisor: 1, tsOffset: 0 };
    this.options(p + 16, p + len - 4, (code, o, l) => {
      if (code === IF_NAME) iface.name = this.text(o, l);
      else if (code === IF_DESCRIPTION) iface.description = this.text(o, l);
      else if (code === OPT_COMMENT) iface.comment = this.text(o, l);
      else if (code === IF_FILTER && l > 1) iface.filter = this.text(o + 1, l - 1);
      else if (code === IF_TSRESOL && l >= 1) {
        const r = this.buf.bytes[o];
        const exp = r & 0x7f;
        if (r & 0x80) {
          iface.binaryExp = exp;
          iface.tsDigits = 9;
        } else if (exp > 9) {
          iface.unitDivisor = 10 ** (exp - 9);
          iface.tsDigits = 9;
        } else {
          iface.tsDigits = exp;
        }
      } else if (code === IF_TSOFFSET && l >= 8) {
        iface.tsOffset = Number(view.getBigInt64(o, this.little));
      }
    });
    this.sectionIfaces.push(iface);
    this.interfaces.push(iface);
  }

  /** Fills `frame` from a packet block; false for a block that carries no packet. */
  private packet(type: number, p: number, len: number, frame: Frame): boolean {
    const view = this.buf.view;
    let localId = 0, high = 0, low = 0, caplen: number, wireLen: number, dataOff: number, optOff = -1;
    const bodyEnd = p + len - 4;
    if (type === BT_EPB || type === BT_PB) {
      if (len < 32) throw this.error("a packet block is too short");
      localId = type === BT_EPB ? view.getUint32(p + 8, this.little) : view.getUint16(p + 8, this.little);
      high = view.getUint32(p + 12, this.little);
      low = view.getUint32(p + 16, this.little);
      caplen = view.getUint32(p + 20, this.little);
      wireLen = view.getUint32(p + 24, this.little);
      dataOff = p + 28;
      if (dataOff + caplen > bodyEnd) {
        throw this.error(`a packet block's captured length ${caplen} runs past the block`);
      }
      optOff = dataOff + ((caplen + 3) & ~3);
    } else {
      if (len < 16) throw this.error("a simple packet block is too short");
      wireLen = view.getUint32(p + 8, this.little);
      dataOff = p + 12;
      const snap = this.sectionIfaces[0]?.snaplen ?? 0;
      caplen = Math.min(wireLen, bodyEnd - dataOff);
      if (snap > 0) caplen = Math.min(caplen, snap);
    }
    const iface = this.sectionIfaces[localId];
    if (iface === undefined) {
      throw this.error(
        `a packet refers to interface ${localId} but the section declares ${this.sectionIfaces.length}`,
      );
    }
    const max = maxCaplenFor(iface.linkType);
    if (caplen > max) throw this.error(`a packet's captured length ${caplen} exceeds the maximum of ${max}`);
    frame.n++;
    frame.start = dataOff;
    frame.caplen = caplen;
    frame.len = wireLen;
    frame.linkType = iface.linkType;
    frame.iface = this.sectionBase + localId;
    frame.tsDigits = iface.tsDigits;
    frame.comment = undefined;
    if (type === BT_SPB) {
      // A simple packet block has no timestamp.
      frame.tsSec = 0;
      frame.tsFrac = 0;
    } else if (iface.binaryExp < 0 && iface.unitDivisor === 1) {
      splitUnits(high, low, iface.tsDigits, this.tsParts);
      frame.tsSec = this.tsParts[0] + iface.tsOffset;
      frame.tsFrac = this.tsParts[1];
    } else {
      const units = (BigInt(high) << 32n) | BigInt(low);
      const ns = iface.binaryExp >= 0
        ? (units * 1_000_000_000n) >> BigInt(iface.binaryExp)
        : units / BigInt(iface.unitDivisor);
      frame.tsSec = Number(ns / 1_000_000_000n) + iface.tsOffset;
      frame.tsFrac = Number(ns % 1_000_000_000n);
    }
    if (optOff >= 0 && optOff < bodyEnd) {
      this.options(optOff, bodyEnd, (code, o, l) => {
        if (code === OPT_COMMENT) frame.comment = this.text(o, l);
      });
    }
    return true;
  }

  /** Walks the options in `[off, end)`; stops quietly at a malformed option, as readers conventionally do. */
  private options(
    off: number,
    end: number,
    visit: (code: number, valueOff: number, valueLen: number) => void,
  ): void {
    const view = this.buf.view;
    while (off + 4 <= end) {
      const code = view.getUint16(off, this.little);
      const l = view.getUint16(off + 2, this.little);
      if (code === OPT_ENDOFOPT) return;
      if (off + 4 + l > end) return;
      visit(code, off + 4, l);
      off += 4 + ((l + 3) & ~3);
    }
  }

  private text(off: number, len: number): string {
    let e = off + len;
    while (e > off && this.buf.bytes[e - 1] === 0) e--;
    return textDecoder.decode(this.buf.bytes.subarray(off, e));
  }
}
