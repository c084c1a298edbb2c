/**
 * AYIYA, "Anything In Anything" (UDP port 5072), an IPv6 tunnel broker protocol: a header whose size is
 * given by its identity and signature length fields, then the packet named by the next-header field.
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet, TunnelInfo } from "./layers.ts";

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
  const tunnel: TunnelInfo = { type: "ayiya", proto: next };
  out.tunnel = tunnel;
  if (opcode !== OPCODE_FORWARD || p === end) return true;
  // The next header is an IP protocol number; IP-in-IP values name the inner packet itself.
  if (next === 41) ctx.decodeInner(out, tunnel, "ether", 0x86dd, p, end);
  else if (next === 4) ctx.decodeInner(out, tunnel, "ether", 0x0800, p, end);
  else ctx.decodeInner(out, tunnel, "ip", next, p, end);
  return true;
}
