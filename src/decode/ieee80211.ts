/**
 * IEEE 802.11 frames (LINKTYPE_IEEE802_11) and the radiotap header in front of them
 * (LINKTYPE_IEEE802_11_RADIO, https://www.radiotap.org/), decoded as far as the LLC/SNAP payload of data
 * frames, whose EtherType then goes through the registry like any other.
 *
 * @module
 */

import { macString } from "./_bytes.ts";
import type { DecodeContext } from "./context.ts";
import { decodeLlc } from "./ethernet.ts";
import type { LayerSet } from "./layers.ts";

const TYPE_MGMT = 0, TYPE_CTRL = 1, TYPE_DATA = 2;
const FC_TO_DS = 0x01, FC_FROM_DS = 0x02, FC_PROTECTED = 0x40, FC_ORDER = 0x80;
/** Radiotap "flags" field: the frame ends with a 4-byte FCS. */
const RADIOTAP_F_FCS = 0x10;
/** Radiotap "flags" field: the driver padded the 802.11 header to a multiple of 4 bytes (Atheros does). */
const RADIOTAP_F_DATAPAD = 0x20;

/** Radiotap header, then the 802.11 frame. */
export function decodeRadiotap(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 8) {
    ctx.report("radiotap_truncated", off);
    return;
  }
  const v = ctx.view;
  const hdrLen = v.getUint16(off + 2, true);
  if (ctx.bytes[off] !== 0 || hdrLen < 8 || off + hdrLen > end) {
    ctx.report("radiotap_bad_length", off);
    return;
  }
  // Find the Flags field (bit 1): after the present words, TSFT (bit 0, 8 bytes aligned to 8) may precede it.
  let flags = 0;
  const present = v.getUint32(off + 4, true);
  let p = off + 8;
  let word = present;
  while (word & 0x80000000 && p + 4 <= off + hdrLen) {
    word = v.getUint32(p, true);
    p += 4;
  }
  if (present & 0x2) {
    if (present & 0x1) p = off + ((p - off + 7) & ~7) + 8;
    if (p < off + hdrLen) flags = ctx.bytes[p];
  }
  // The FCS is the last 4 bytes on the wire: when the snaplen cut the frame, fewer of them (or none) were
  // captured, and cutting 4 bytes anyway took real payload (an ARP cut short, found on a corpus capture).
  let macEnd = end;
  if ((flags & RADIOTAP_F_FCS) !== 0 && end - off - hdrLen >= 4) {
    macEnd = Math.min(end, (end === ctx.frameEnd ? ctx.wireEnd : end) - 4);
  }
  decodeMac(ctx, out, off + hdrLen, macEnd, (flags & RADIOTAP_F_DATAPAD) !== 0);
}

/** An 802.11 MAC frame (IEEE 802.11-2020 section 9.2). */
export function decodeIeee80211(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  decodeMac(ctx, out, off, end, false);
}

/** `dataPad`: radiotap said the header is padded; ignoring it decoded the pad bytes as the LLC header. */
function decodeMac(ctx: DecodeContext, out: LayerSet, off: number, end: number, dataPad: boolean): void {
  if (end - off < 10) {
    ctx.report("wlan_truncated", off);
    return;
  }
  const b = ctx.bytes;
  const fc0 = b[off], fc1 = b[off + 1];
  const type = (fc0 >> 2) & 3;
  const subtype = fc0 >> 4;
  const wlan: Record<string, unknown> = { type, subtype, flags: fc1 };
  out.wlan = wlan;
  wlan.ra = macString(b, off + 4);
  if (type === TYPE_CTRL) return;
  if (end - off < 24) {
    ctx.report("wlan_truncated", off);
    return;
  }
  wlan.ta = macString(b, off + 10);
  wlan.addr3 = macString(b, off + 16);
  if (type === TYPE_MGMT || type !== TYPE_DATA) return;
  let hdr = 24;
  if ((fc1 & FC_TO_DS) && (fc1 & FC_FROM_DS)) hdr += 6;
  const qos = (subtype & 0x8) !== 0;
  if (qos) hdr += 2;
  if (qos && (fc1 & FC_ORDER)) hdr += 4;
  if (dataPad) hdr = (hdr + 3) & ~3;
  // Null-function subtypes carry no payload.
  if ((subtype & 0x4) !== 0 || end - off <= hdr) return;
  if (fc1 & FC_PROTECTED) {
    wlan.protected = true;
    return;
  }
  decodeLlc(ctx, out, off + hdr, end);
}
