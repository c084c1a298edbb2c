/**
 * PPPoE session frames (RFC 2516, EtherType 0x8864): a 6-byte PPPoE header, then a PPP protocol number
 * (RFC 1661) whose IPv4 and IPv6 payloads are decoded in the same layer set (PPPoE is a link, not a tunnel).
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet } from "./layers.ts";

const PPPOE_HEADER_LEN = 6;
const PPP_IPV4 = 0x0021, PPP_IPV6 = 0x0057;

/** Decodes a PPPoE session header and the PPP protocol field after it. */
export function decodePppoeSession(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < PPPOE_HEADER_LEN + 2) {
    ctx.report("pppoe_truncated", off);
    return;
  }
  const payloadLen = ctx.view.getUint16(off + 4);
  const payloadEnd = Math.min(end, off + PPPOE_HEADER_LEN + payloadLen);
  decodePpp(ctx, out, off + PPPOE_HEADER_LEN, payloadEnd);
}

/** A PPP frame without HDLC framing: a 2-byte protocol (or 1 byte when compressed), then the payload. */
export function decodePpp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 2) return;
  const b = ctx.bytes;
  // Protocol-field compression (RFC 1661 6.5): an odd first byte is a one-byte protocol.
  const compressed = (b[off] & 1) === 1;
  const proto = compressed ? b[off] : ctx.view.getUint16(off);
  const p = off + (compressed ? 1 : 2);
  if (proto === PPP_IPV4) ctx.registry.dispatchEtherType(0x0800, ctx, out, p, end);
  else if (proto === PPP_IPV6) ctx.registry.dispatchEtherType(0x86dd, ctx, out, p, end);
}
