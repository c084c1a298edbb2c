/**
 * PIM Register messages (RFC 7761 section 4.9.3, IP protocol 103): a first-hop router tunnels a multicast
 * packet to the rendezvous point inside a Register, so the packet after the 8-byte header is decoded into
 * `inner`. Other PIM messages carry no packet.
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet } from "./layers.ts";

const PIM_REGISTER = 1;
const REGISTER_HEADER_LEN = 8;

/** Decodes the packet inside a PIM Register, if this is one. */
export function decodePim(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const b = ctx.bytes;
  if (end - off < REGISTER_HEADER_LEN + 20 || (b[off] & 0x0f) !== PIM_REGISTER || b[off] >> 4 !== 2) return;
  const p = off + REGISTER_HEADER_LEN;
  const version = b[p] >> 4;
  if (version !== 4 && version !== 6) return;
  ctx.decodeInner(out, { type: "pim" }, "ether", version === 4 ? 0x0800 : 0x86dd, p, end);
}
