/**
 * Ethernet II and IEEE 802.3 with LLC/SNAP, and 802.1Q / 802.1ad (QinQ) VLAN tags.
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import { EthernetLayer, type LayerSet } from "./layers.ts";

const ETH_HEADER_LEN = 14;
/** TPIDs that introduce a VLAN tag: 802.1Q, 802.1ad, and the pre-standard QinQ value. */
const VLAN_TPIDS = new Set([0x8100, 0x88a8, 0x9100]);
/** Enough tags for any real network; more means a crafted loop. */
const MAX_VLAN_TAGS = 8;

/** Decodes an Ethernet frame at `off` and dispatches its payload by EtherType. */
export function decodeEthernet(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < ETH_HEADER_LEN) {
    ctx.report("eth_truncated", off);
    return;
  }
  const view = ctx.view;
  let type = view.getUint16(off + 12);
  out.eth = new EthernetLayer(ctx.bytes, off, type);
  let p = off + ETH_HEADER_LEN;
  while (VLAN_TPIDS.has(type)) {
    if (end - p < 4) {
      ctx.report("vlan_truncated", p);
      return;
    }
    const vlans = out.vlan ??= [];
    if (vlans.length >= MAX_VLAN_TAGS) {
      ctx.report("vlan_too_many_tags", p);
      return;
    }
    vlans.push(view.getUint16(p) & 0x0fff);
    type = view.getUint16(p + 2);
    p += 4;
  }
  if (type <= 1500) {
    // An 802.3 length field: the payload starts with an 802.2 LLC header.
    decodeLlc(ctx, out, p, Math.min(end, p + type));
    return;
  }
  ctx.registry.dispatchEtherType(type, ctx, out, p, end);
}

/**
 * 802.2 LLC: SNAP (AA AA 03 + OUI + EtherType) carries an EtherType; other SAPs are not decoded further.
 * Shared by 802.3 and 802.11.
 */
export function decodeLlc(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const b = ctx.bytes;
  if (end - off >= 8 && b[off] === 0xaa && b[off + 1] === 0xaa && b[off + 2] === 0x03) {
    ctx.registry.dispatchEtherType(ctx.view.getUint16(off + 6), ctx, out, off + 8, end);
  }
}
