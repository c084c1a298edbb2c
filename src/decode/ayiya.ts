/**
 * AYIYA, "Anything In Anything" (UDP port 5072), an IPv6 tunnel broker protocol: a header whose size is
 * given by its identity and signature length fields, then the packet named by the next-header field.
 *
 * @module
 */

import { type DecodeContext, MAX_TUNNEL_DEPTH } from "./context.ts";
import type { LayerSet } from "./layers.ts";

const OPCODE_FORWARD = 1;

/** Returns false when the payload is not an AYIYA forward packet. */
export function decodeAyiya(ctx: DecodeContext, out: LayerSet, off: number, end: number): boolean {
  const b = ctx.bytes;
  if (end - off < 8) return false;
  const idLen = 1 << (b[off] >> 4);
  const sigLen = (b[off + 1] >> 4) * 4;
  const opcode = b[off + 2] & 0x0f;
  const next = b[off + 3];
  const p = off + 8 + idLen + sigLen;
  if (p > end) return false;
  out.tunnel = { type: "ayiya", proto: next };
  if (opcode !== OPCODE_FORWARD || p === end) return true;
  if (ctx.depth >= MAX_TUNNEL_DEPTH) {
    ctx.report("tunnel_too_deep", p);
    return true;
  }
  const inner: LayerSet = {};
  out.inner = inner;
  ctx.depth++;
  // The next header is an IP protocol number; IP-in-IP values name the inner packet itself.
  if (next === 41) ctx.registry.dispatchEtherType(0x86dd, ctx, inner, p, end);
  else if (next === 4) ctx.registry.dispatchEtherType(0x0800, ctx, inner, p, end);
  else ctx.registry.dispatchIpProto(next, ctx, inner, p, end);
  ctx.depth--;
  return true;
}
