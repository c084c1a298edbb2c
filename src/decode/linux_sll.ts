/**
 * Linux "cooked" capture headers: SLL (LINKTYPE_LINUX_SLL, 16 bytes) and SLL2 (LINKTYPE_LINUX_SLL2,
 * 20 bytes), which replace the link header when capturing on the "any" device.
 * https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html
 *
 * @module
 */

import { macString } from "./_bytes.ts";
import type { DecodeContext } from "./context.ts";
import { decodeLlc } from "./ethernet.ts";
import type { LayerSet } from "./layers.ts";

const ARPHRD_IPGRE = 778;
const ARPHRD_NETLINK = 824;
/** Protocol values that are not EtherTypes (linux/if_ether.h). */
const ETH_P_802_3 = 0x0001;
const ETH_P_802_2 = 0x0004;

/** Decodes an SLL header. */
export function decodeSll(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 16) {
    ctx.report("sll_truncated", off);
    return;
  }
  const v = ctx.view;
  dispatch(
    ctx,
    out,
    off,
    off + 16,
    end,
    v.getUint16(off),
    v.getUint16(off + 2),
    v.getUint16(off + 4),
    off + 6,
    v.getUint16(off + 14),
  );
}

/** Decodes an SLL2 header. */
export function decodeSll2(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 20) {
    ctx.report("sll2_truncated", off);
    return;
  }
  const v = ctx.view;
  dispatch(
    ctx,
    out,
    off,
    off + 20,
    end,
    ctx.bytes[off + 10],
    v.getUint16(off + 8),
    ctx.bytes[off + 11],
    off + 12,
    v.getUint16(off),
  );
}

function dispatch(
  ctx: DecodeContext,
  out: LayerSet,
  _off: number,
  payload: number,
  end: number,
  pktType: number,
  hatype: number,
  addrLen: number,
  addrOff: number,
  protocol: number,
): void {
  out.sll = {
    pkttype: pktType,
    hatype,
    addr: addrLen === 6 ? macString(ctx.bytes, addrOff) : undefined,
    protocol,
  };
  if (hatype === ARPHRD_NETLINK) return;
  if (hatype === ARPHRD_IPGRE) {
    // The protocol field is the GRE protocol type; the payload is the GRE payload.
    ctx.registry.dispatchEtherType(protocol, ctx, out, payload, end);
    return;
  }
  if (protocol === ETH_P_802_2) {
    decodeLlc(ctx, out, payload, end);
    return;
  }
  if (protocol === ETH_P_802_3) return; // Novell raw IPX
  ctx.registry.dispatchEtherType(protocol, ctx, out, payload, end);
}
