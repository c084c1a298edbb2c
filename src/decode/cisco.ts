/**
 * Two Cisco encapsulations met in data-centre captures:
 * - FabricPath (EtherType 0x8903): a 16-byte outer header whose "MAC addresses" are switch identifiers,
 *   then a 2-byte FTAG/TTL word, then the customer's Ethernet frame, which becomes the packet's `eth` (as in
 *   Wireshark) since the outer header carries no real Ethernet addresses.
 * - Cisco MetaData (EtherType 0x8909, seen inside GRE): an 8-byte header carrying a security group tag,
 *   ending with the EtherType of the payload.
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet } from "./layers.ts";

const FABRICPATH_TAG_LEN = 2;
const CMD_HEADER_LEN = 8;

/** FabricPath: the payload starts with the FTAG/TTL word, then the inner Ethernet frame. */
export function decodeFabricPath(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < FABRICPATH_TAG_LEN + 14) {
    ctx.report("fabricpath_truncated", off);
    return;
  }
  ctx.registry.dispatchLinkType(1, ctx, out, off + FABRICPATH_TAG_LEN, end);
}

/** Cisco MetaData: skips the header and dispatches the EtherType in its last two bytes. */
export function decodeCiscoMetadata(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < CMD_HEADER_LEN) {
    ctx.report("cmd_truncated", off);
    return;
  }
  // The EtherType normally closes the header; captures of GRE-carried metadata also show it leading the
  // header, so the other position is tried when the usual one names nothing decodable.
  let type = ctx.view.getUint16(off + 6);
  if (!ctx.registry.hasEtherType(type)) type = ctx.view.getUint16(off);
  ctx.registry.dispatchEtherType(type, ctx, out, off + CMD_HEADER_LEN, end);
}
