/** IPv6 (RFC 8200) with its extension headers. @module */

import { toHex } from "./_bytes.ts";
import type { DecodeContext } from "./context.ts";
import { IpLayer, type LayerSet } from "./layers.ts";

const HEADER_LEN = 40;
const HOP_BY_HOP = 0, ROUTING = 43, FRAGMENT = 44, ESP = 50, AH = 51, NO_NEXT = 59, DEST_OPTS = 60;
const MOBILITY = 135, HIP = 139, SHIM6 = 140;
/** A chain longer than this is crafted; real stacks use a handful. */
const MAX_EXT_HEADERS = 16;

/**
 * Decodes an IPv6 header, walks the extension headers to the upper-layer protocol (which becomes
 * `ip.proto`), and dispatches the payload. A non-first fragment stops at the fragment header.
 */
export function decodeIpv6(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const b = ctx.bytes, v = ctx.view;
  if (end - off < HEADER_LEN) {
    ctx.report("ipv6_truncated", off);
    return;
  }
  if (b[off] >> 4 !== 6) {
    ctx.report("ip_bad_version", off);
    return;
  }
  const payloadLen = v.getUint16(off + 4);
  // Payload length 0 is legitimate only for a jumbogram, whose length is in a hop-by-hop option (RFC 2675).
  // An empty packet with no next header (RFC 8200 section 4.7) is valid too: keepalives, tests.
  if (payloadLen === 0 && b[off + 6] !== HOP_BY_HOP && b[off + 6] !== NO_NEXT) {
    out.ip = new IpLayer(b, off + 8, 6, b[off + 7], 0, false, false, 0, 0);
    out.ip.proto = b[off + 6];
    ctx.report("ipv6_zero_payload_length", off + 4);
    return;
  }
  const payloadEnd = payloadLen === 0 ? end : Math.min(end, off + HEADER_LEN + payloadLen);
  let next = b[off + 6];
  let p = off + HEADER_LEN;
  let fragOffset = 0, mf = false, id = 0;
  let ext: number[] | undefined;
  let stopped = false;
  let isFragment = false;
  for (let i = 0; i < MAX_EXT_HEADERS; i++) {
    if (!isExtensionHeader(next)) break;
    (ext ??= []).push(next);
    if (payloadEnd - p < 8) {
      ctx.report("ipv6_ext_truncated", p);
      stopped = true;
      break;
    }
    const hdrNext = b[p];
    let len: number;
    if (next === FRAGMENT) {
      len = 8;
      isFragment = true;
      const fo = v.getUint16(p + 2);
      fragOffset = fo & 0xfff8;
      mf = (fo & 1) === 1;
      id = v.getUint32(p + 4);
    } else if (next === AH) {
      len = (b[p + 1] + 2) * 4;
    } else {
      len = (b[p + 1] + 1) * 8;
    }
    if (p + len > payloadEnd) {
      ctx.report("ipv6_ext_truncated", p);
      stopped = true;
      next = hdrNext;
      break;
    }
    p += len;
    next = hdrNext;
  }
  // The loop ran out with another extension header to go: say why decoding stops here.
  if (!stopped && isExtensionHeader(next)) {
    ctx.report("ipv6_too_many_ext_headers", p);
    stopped = true;
  }
  // The claimed length of the upper-layer payload, which stays right when the snaplen cut the capture.
  const wire = ctx.wireAvailable(off, end) - HEADER_LEN;
  const claimed = Math.max(
    0,
    (payloadLen === 0 ? payloadEnd - off - HEADER_LEN : Math.min(payloadLen, wire)) - (p - off - HEADER_LEN),
  );
  const ip = new IpLayer(b, off + 8, 6, b[off + 7], id, false, mf, fragOffset, claimed);
  ip.proto = next;
  ip.ext = ext;
  out.ip = ip;
  if (stopped || next === NO_NEXT || next === ESP) return;
  if (isFragment) {
    if (ctx.reassembler === undefined || ctx.quoting > 0) {
      if (fragOffset === 0) ctx.registry.dispatchIpProto(next, ctx, out, p, payloadEnd);
      return;
    }
    const key = `6:${toHex(b, off + 8, off + 40)}:${id}`;
    const whole = ctx.reassembler.add(key, b, p, payloadEnd, fragOffset, mf, ctx.now);
    if (whole !== undefined) {
      ip.payloadLen = ip.reassembledLen = whole.length;
      ctx.decodeReassembled(next, whole, out);
    }
    return;
  }
  ctx.registry.dispatchIpProto(next, ctx, out, p, payloadEnd);
}

/** Whether `next` names an extension header this decoder walks (ESP is not walked: it is encrypted). */
function isExtensionHeader(next: number): boolean {
  return next === HOP_BY_HOP || next === ROUTING || next === FRAGMENT || next === DEST_OPTS || next === AH ||
    next === MOBILITY || next === HIP || next === SHIM6;
}
