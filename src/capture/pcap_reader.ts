/**
 * Classic libpcap capture files (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/): both byte
 * orders, microsecond and nanosecond magic, and the Kuznetzov "modified" variant with a longer record
 * header. Records are parsed in place from a `ChunkBuffer`.
 *
 * @module
 */

import type { ChunkBuffer } from "./byte_input.ts";
import { CaptureFormatError } from "./capture_error.ts";
import { linkTypeName, maxCaplenFor } from "./link_type.ts";
import { type Frame, type InterfaceInfo, newFrame, type PacketSource } from "./source.ts";
import { pow10 } from "./timestamp.ts";

const FILE_HEADER_LEN = 24;
const MAGIC_MICRO = 0xa1b2c3d4;
const MAGIC_NANO = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;

/** The four magics, read big-endian, in either byte order. */
export function isPcapMagic(bytes: Uint8Array, off: number): boolean {
  const be = ((bytes[off] << 24) | (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3]) >>> 0;
  const le = ((bytes[off + 3] << 24) | (bytes[off + 2] << 16) | (bytes[off + 1] << 8) | bytes[off]) >>> 0;
  return be === MAGIC_MICRO || be === MAGIC_NANO || be === MAGIC_MODIFIED || le === MAGIC_MICRO ||
    le === MAGIC_NANO || le === MAGIC_MODIFIED;
}

/** Reads a classic pcap file from a chunk buffer positioned at its first byte. */
export class PcapReader implements PacketSource {
  readonly interfaces: InterfaceInfo[] = [];
  private closed = false;

  constructor(private readonly buf: ChunkBuffer, private readonly name: string) {}

  close(): void {
    this.closed = true;
  }

  async run(onFrame: (frame: Frame) => void): Promise<void> {
    const buf = this.buf;
    try {
      await buf.fill(FILE_HEADER_LEN);
      if (buf.available < FILE_HEADER_LEN) {
        throw new CaptureFormatError(
          `Cannot read "${this.name}": the pcap file header is cut short (${buf.available} of 24 bytes)`,
          buf.offset,
        );
      }
      let p = buf.pos;
      const magicBE = buf.view.getUint32(p, false);
      const little = !(magicBE === MAGIC_MICRO || magicBE === MAGIC_NANO || magicBE === MAGIC_MODIFIED);
      const magic = buf.view.getUint32(p, little);
      const digits = magic === MAGIC_NANO ? 9 : 6;
      const recordHeaderLen = magic === MAGIC_MODIFIED ? 24 : 16;
      const snaplen = buf.view.getUint32(p + 16, little);
      const linkType = buf.view.getUint32(p + 20, little) & 0x03ffffff;
      this.interfaces.push({ linkType, snaplen, tsDigits: digits, name: linkTypeName(linkType) });
      const maxCaplen = Math.max(maxCaplenFor(linkType), 0);
      const unit = pow10(digits);
      buf.pos += FILE_HEADER_LEN;

      const frame = newFrame(buf.bytes, buf.view, linkType, digits);
      let n = 0;
      while (!this.closed) {
        // Parse every complete record in the buffer without awaiting.
        const view = buf.view;
        const end = buf.end;
        p = buf.pos;
        frame.bytes = buf.bytes;
        frame.view = view;
        while (end - p >= recordHeaderLen) {
          const caplen = view.getUint32(p + 8, little);
          if (caplen > maxCaplen) {
            buf.pos = p;
            throw new CaptureFormatError(
              `Cannot read "${this.name}": packet ${n + 1} at byte offset ${buf.offset} claims ` +
                `${caplen} captured bytes, more than the maximum of ${maxCaplen}; the file is corrupt`,
              buf.offset,
            );
          }
          if (end - p < recordHeaderLen + caplen) break;
          let sec = view.getUint32(p, little);
          let frac = view.getUint32(p + 4, little);
          if (frac >= unit) {
            // Some writers leave the fraction unnormalised; carry it into the seconds.
            sec += Math.floor(frac / unit);
            frac %= unit;
          }
          frame.n = ++n;
          frame.tsSec = sec;
          frame.tsFrac = frac;
          frame.caplen = caplen;
          frame.len = view.getUint32(p + 12, little);
          frame.start = p + recordHeaderLen;
          onFrame(frame);
          p += recordHeaderLen + caplen;
          if (this.closed) break;
        }
        buf.pos = p;
        if (this.closed) break;
        if (buf.eof) {
          if (buf.available > 0) {
            throw new CaptureFormatError(
              `Cannot read "${this.name}": the file is cut short inside packet ${n + 1} ` +
                `(${buf.available} bytes left at byte offset ${buf.offset})`,
              buf.offset,
            );
          }
          return;
        }
        const need = buf.available >= recordHeaderLen
          ? recordHeaderLen + view.getUint32(buf.pos + 8, little)
          : recordHeaderLen;
        await buf.fill(need);
      }
    } finally {
      buf.close();
    }
  }
}
