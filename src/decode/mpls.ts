/**
 * MPLS label stacks (RFC 3032, EtherTypes 0x8847/0x8848, and MPLS over UDP port 6635 per RFC 7510). The
 * payload type is not signalled, so it is guessed from the first nibble as routers do: 4 is IPv4, 6 is
 * IPv6, and 0 is a pseudowire control word followed by an Ethernet frame.
 *
 * @module
 */

import { type DecodeContext, MAX_TUNNEL_DEPTH } from "./context.ts";
import type { LayerSet } from "./layers.ts";

/** MPLS unicast EtherType, registered to `decodeMpls`. */
const ETHERTYPE_MPLS = 0x8847;
/** A stack deeper than this is crafted. */
const MAX_LABELS = 16;

/** Decodes the label stack and the payload after the bottom-of-stack label, in the same layer set. */
export function decodeMpls(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  let p = off;
  for (let i = 0;; i++) {
    if (end - p < 4) {
      ctx.report("mpls_truncated", p);
      return;
    }
    if (i >= MAX_LABELS) {
      ctx.report("mpls_too_many_labels", p);
      return;
    }
    const bottom = (ctx.bytes[p + 2] & 0x01) === 1;
    p += 4;
    if (bottom) break;
  }
  if (p >= end) return;
  const nibble = ctx.bytes[p] >> 4;
  if (nibble === 4) ctx.registry.dispatchEtherType(0x0800, ctx, out, p, end);
  else if (nibble === 6) ctx.registry.dispatchEtherType(0x86dd, ctx, out, p, end);
  else if (nibble === 0 && end - p >= 4 + 14 && ctx.depth < MAX_TUNNEL_DEPTH) {
    // Ethernet pseudowire with a control word (RFC 4448): the inner frame is another packet.
    ctx.decodeInner(out, { type: "mpls_pw" }, "link", 1, p + 4, end);
  }
}

/** MPLS over UDP (RFC 7510, port 6635): the labelled packet is carried, so it is decoded into `inner`. */
export function decodeMplsOverUdp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  ctx.decodeInner(out, { type: "mpls_udp" }, "ether", ETHERTYPE_MPLS, off, end);
}
