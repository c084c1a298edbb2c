/** ARP (RFC 826). @module */

import type { DecodeContext } from "./context.ts";
import { ArpLayer, type LayerSet } from "./layers.ts";

/** Decodes an ARP packet; the addresses are read lazily by `ArpLayer`. */
export function decodeArp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 8) {
    ctx.report("arp_truncated", off);
    return;
  }
  const hlen = ctx.bytes[off + 4], plen = ctx.bytes[off + 5];
  const op = ctx.view.getUint16(off + 6);
  if (end - off < 8 + 2 * (hlen + plen)) {
    ctx.report("arp_truncated", off);
    out.arp = new ArpLayer(ctx.bytes, off, op, 0, 0);
    return;
  }
  out.arp = new ArpLayer(ctx.bytes, off, op, hlen, plen);
}
