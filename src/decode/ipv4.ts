/** IPv4 (RFC 791). @module */

import type { DecodeContext } from "./context.ts";
import { IpLayer, type LayerSet } from "./layers.ts";

const MIN_HEADER = 20;

/**
 * Decodes an IPv4 header and dispatches the payload by protocol number. The payload ends at the header's
 * total length (Ethernet padding is not payload) or at the captured end, whichever comes first. Only a
 * first fragment is handed to the transport decoder: later fragments hold no transport header.
 */
export function decodeIpv4(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const b = ctx.bytes, v = ctx.view;
  if (end - off < MIN_HEADER) {
    ctx.report("ip_truncated", off);
    return;
  }
  const ihl = (b[off] & 0x0f) * 4;
  if (b[off] >> 4 !== 4) {
    ctx.report("ip_bad_version", off);
    return;
  }
  if (ihl < MIN_HEADER) {
    ctx.report("ip_bad_header_length", off);
    return;
  }
  const totalLen = v.getUint16(off + 2);
  const flags = v.getUint16(off + 6);
  // A total length of 0 is what TCP segmentation offload leaves in captures taken on the sender.
  const wire = ctx.wireAvailable(off, end);
  const claimed = totalLen === 0 ? wire : Math.min(totalLen, wire);
  const ip = new IpLayer(
    b,
    off + 12,
    4,
    b[off + 8],
    v.getUint16(off + 4),
    (flags & 0x4000) !== 0,
    (flags & 0x2000) !== 0,
    (flags & 0x1fff) * 8,
    Math.max(0, claimed - ihl),
  );
  ip.proto = b[off + 9];
  ip.optionsLen = ihl - MIN_HEADER;
  out.ip = ip;
  if (end - off < ihl) {
    ctx.report("ip_truncated", off);
    return;
  }
  if (claimed < ihl) {
    ctx.report("ip_bad_total_length", off + 2);
    return;
  }
  const payloadEnd = Math.min(end, off + claimed);
  if (ip.mf || ip.fragOffset !== 0) {
    // A fragment: its transport header (if any) is decoded only once the whole datagram is here.
    if (ctx.reassembler === undefined || ctx.quoting > 0) {
      if (ip.fragOffset === 0) ctx.registry.dispatchIpProto(ip.proto, ctx, out, off + ihl, payloadEnd);
      return;
    }
    const key = `4:${v.getUint32(off + 12)}:${v.getUint32(off + 16)}:${ip.proto}:${ip.id}`;
    const whole = ctx.reassembler.add(key, b, off + ihl, payloadEnd, ip.fragOffset, ip.mf, ctx.now);
    if (whole !== undefined) {
      ip.payloadLen = ip.reassembledLen = whole.length;
      ctx.decodeReassembled(ip.proto, whole, out);
    }
    return;
  }
  ctx.registry.dispatchIpProto(ip.proto, ctx, out, off + ihl, payloadEnd);
}
