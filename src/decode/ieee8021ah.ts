/**
 * Provider backbone bridging (IEEE 802.1ah, EtherType 0x88e7): a 4-byte I-TAG, then the customer's MAC
 * addresses and EtherType. The backbone Ethernet header stays the packet's `eth`; the customer frame's
 * payload is decoded in the same layer set.
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet } from "./layers.ts";

const ITAG_LEN = 4;
const CUSTOMER_MACS = 12;
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);

/** Decodes an I-TAG and dispatches the customer frame's EtherType (after any customer VLAN tags). */
export function decodePbb(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  let p = off + ITAG_LEN + CUSTOMER_MACS;
  if (end - p < 2) {
    ctx.report("pbb_truncated", off);
    return;
  }
  let type = ctx.view.getUint16(p);
  p += 2;
  while (VLAN_TPIDS.has(type) && end - p >= 4) {
    (out.vlan ??= []).push(ctx.view.getUint16(p) & 0x0fff);
    type = ctx.view.getUint16(p + 2);
    p += 4;
  }
  ctx.registry.dispatchEtherType(type, ctx, out, p, end);
}
