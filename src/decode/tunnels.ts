/**
 * Tunnels whose payload is another packet: GRE (RFC 2784, RFC 2890, and PPTP's enhanced GRE), ERSPAN,
 * VXLAN (RFC 7348), Geneve (RFC 8926), Teredo (RFC 4380) and IP-in-IP (RFC 2003, RFC 2473). The inner
 * packet is decoded into `inner`, so the outer addresses stay those of the tunnel endpoints.
 *
 * @module
 */

import { type DecodeContext, MAX_TUNNEL_DEPTH } from "./context.ts";
import type { LayerSet, TunnelInfo } from "./layers.ts";
import { decodePpp } from "./pppoe.ts";

const ETHERTYPE_TEB = 0x6558;
const ERSPAN_II = 0x88be, ERSPAN_III = 0x22eb;
const ERSPAN_III_HEADER_LEN = 12;
const PPP_OVER_GRE = 0x880b;

/** Decodes `[off, end)` as a packet starting at `etherType`'s layer (TEB: an Ethernet frame) into `inner`. */
function decodeInner(
  ctx: DecodeContext,
  out: LayerSet,
  tunnel: TunnelInfo,
  etherType: number,
  off: number,
  end: number,
): void {
  if (etherType === ETHERTYPE_TEB) ctx.decodeInner(out, tunnel, "link", 1, off, end);
  else ctx.decodeInner(out, tunnel, "ether", etherType, off, end);
}

/** GRE, version 0 and version 1 (PPTP). */
export function decodeGre(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 4) {
    ctx.report("gre_truncated", off);
    return;
  }
  const v = ctx.view;
  const flags = v.getUint16(off);
  const proto = v.getUint16(off + 2);
  const version = flags & 0x7;
  let p = off + 4;
  const info: TunnelInfo = { type: "gre", proto };
  // RFC 1701: the checksum and offset fields are present when either the checksum or the routing bit is
  // set (RFC 2784 keeps only the checksum bit, but RFC 1701 senders and crafted packets use both).
  if (flags & 0xc000) p += 4;
  if (flags & 0x2000) {
    if (end - p >= 4) info.key = v.getUint32(p);
    p += 4;
  }
  if (flags & 0x1000) p += 4; // sequence
  if (version === 1 && flags & 0x0080) p += 4; // PPTP acknowledgement
  // RFC 1701 source routing: entries (family, offset, length, data) up to a NULL entry, then the payload.
  // Without this the route was decoded as the inner packet. Each entry advances `p` by at least 4.
  let routed = (flags & 0x4000) === 0;
  while (!routed && end - p >= 4) {
    const family = v.getUint16(p), sreLen = ctx.bytes[p + 3];
    p += 4 + sreLen;
    routed = family === 0 && sreLen === 0;
  }
  if (p > end || !routed) {
    ctx.report("gre_truncated", off);
    out.tunnel = info;
    return;
  }
  if (proto === ERSPAN_II) {
    // ERSPAN type II without the sequence bit is the headerless "type I".
    decodeInner(ctx, out, info, ETHERTYPE_TEB, flags & 0x1000 ? p + 8 : p, end);
    return;
  }
  if (proto === ERSPAN_III) {
    decodeErspan3(ctx, out, info, p, end);
    return;
  }
  if (version === 1 && proto === PPP_OVER_GRE) {
    decodePptpPayload(ctx, out, info, p, end);
    return;
  }
  if (version !== 0) {
    out.tunnel = info;
    return;
  }
  decodeInner(ctx, out, info, proto, p, end);
}

/**
 * ERSPAN type III (draft-foschiano-erspan-03 section 4.3): a 12-byte header whose last 16 bits hold the
 * frame type (0 Ethernet, 2 IP) and, in the low bit, the flag of an 8-byte platform-specific sub-header.
 * Both used to be ignored, so the sub-header or a non-Ethernet payload was decoded as an Ethernet frame.
 */
function decodeErspan3(ctx: DecodeContext, out: LayerSet, info: TunnelInfo, off: number, end: number): void {
  if (end - off < ERSPAN_III_HEADER_LEN) {
    ctx.report("erspan_truncated", off);
    out.tunnel = info;
    return;
  }
  const b = ctx.bytes;
  const frameType = (b[off + 10] >> 2) & 0x1f;
  const p = off + ERSPAN_III_HEADER_LEN + (b[off + 11] & 1 ? 8 : 0);
  if (p > end) {
    ctx.report("erspan_truncated", off);
    out.tunnel = info;
    return;
  }
  if (frameType === 0) decodeInner(ctx, out, info, ETHERTYPE_TEB, p, end);
  else if (frameType === 2 && p < end && b[p] >> 4 === 4) decodeInner(ctx, out, info, 0x0800, p, end);
  else if (frameType === 2 && p < end && b[p] >> 4 === 6) decodeInner(ctx, out, info, 0x86dd, p, end);
  else out.tunnel = info; // a reserved frame type: the payload is not decoded
}

/** PPTP's enhanced GRE carries PPP frames, possibly with the HDLC address and control bytes (FF 03). */
function decodePptpPayload(
  ctx: DecodeContext,
  out: LayerSet,
  info: TunnelInfo,
  off: number,
  end: number,
): void {
  out.tunnel = info;
  if (end - off < 2 || ctx.depth >= MAX_TUNNEL_DEPTH) return;
  const p = ctx.bytes[off] === 0xff && ctx.bytes[off + 1] === 0x03 ? off + 2 : off;
  const inner: LayerSet = {};
  ctx.depth++;
  decodePpp(ctx, inner, p, end);
  ctx.depth--;
  if (inner.ip !== undefined) out.inner = inner;
}

/** IPv4-in-IP (protocol 4). */
export function decodeIpInIp4(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  decodeInner(ctx, out, { type: "ipip" }, 0x0800, off, end);
}

/** IPv6-in-IP (protocol 41, also 6in4). */
export function decodeIpInIp6(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  decodeInner(ctx, out, { type: "ipip" }, 0x86dd, off, end);
}

/** VXLAN over UDP 4789: an 8-byte header, then an Ethernet frame. */
export function decodeVxlan(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 8) {
    ctx.report("vxlan_truncated", off);
    return;
  }
  const vni = ctx.view.getUint32(off + 4) >>> 8;
  decodeInner(ctx, out, { type: "vxlan", vni }, ETHERTYPE_TEB, off + 8, end);
}

/** Geneve over UDP 6081: a header with options, then the protocol its type names. */
export function decodeGeneve(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 8) {
    ctx.report("geneve_truncated", off);
    return;
  }
  const optLen = (ctx.bytes[off] & 0x3f) * 4;
  const proto = ctx.view.getUint16(off + 2);
  const vni = ctx.view.getUint32(off + 4) >>> 8;
  if (off + 8 + optLen > end) {
    ctx.report("geneve_truncated", off);
    return;
  }
  decodeInner(ctx, out, { type: "geneve", vni, proto }, proto, off + 8 + optLen, end);
}

/**
 * Teredo over UDP 3544: optional authentication and origin-indication headers, then an IPv6 packet.
 * Returns false when the payload is not Teredo (so other decoders may try).
 */
export function decodeTeredo(ctx: DecodeContext, out: LayerSet, off: number, end: number): boolean {
  const b = ctx.bytes;
  let p = off;
  if (end - p >= 4 && b[p] === 0 && b[p + 1] === 1) {
    // Authentication: client id length and auth value length, nonce (8), confirmation (1).
    p += 4 + b[p + 2] + b[p + 3] + 9;
  }
  if (end - p >= 8 && b[p] === 0 && b[p + 1] === 0) p += 8; // origin indication
  if (end - p < 40 || b[p] >> 4 !== 6) return false;
  decodeInner(ctx, out, { type: "teredo" }, 0x86dd, p, end);
  return true;
}
