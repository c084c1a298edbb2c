/**
 * BSD loopback encapsulations: LINKTYPE_NULL (a 4-byte address family in the capturing host's byte order)
 * and LINKTYPE_LOOP (the same, always big-endian); and raw IP link types.
 * https://www.tcpdump.org/linktypes/LINKTYPE_NULL.html
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet } from "./layers.ts";

/** AF_INET everywhere; the many values BSDs, macOS, Linux and Windows use for AF_INET6. */
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]);

/** LINKTYPE_NULL: the family's byte order is guessed, as the writer's host order is unknown. */
export function decodeNull(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 4) {
    ctx.report("null_truncated", off);
    return;
  }
  // A family is small, so whichever end holds the non-zero bytes tells the byte order.
  const family = ctx.bytes[off] === 0 && ctx.bytes[off + 1] === 0
    ? ctx.view.getUint32(off, false)
    : ctx.view.getUint32(off, true);
  dispatchFamily(ctx, out, family, off + 4, end);
}

/** LINKTYPE_LOOP (OpenBSD): the family is big-endian. */
export function decodeLoop(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 4) {
    ctx.report("null_truncated", off);
    return;
  }
  dispatchFamily(ctx, out, ctx.view.getUint32(off, false), off + 4, end);
}

function dispatchFamily(ctx: DecodeContext, out: LayerSet, family: number, off: number, end: number): void {
  if (family === AF_INET) ctx.registry.dispatchEtherType(0x0800, ctx, out, off, end);
  else if (AF_INET6.has(family)) ctx.registry.dispatchEtherType(0x86dd, ctx, out, off, end);
}

/** Raw IP: the version nibble says IPv4 or IPv6. */
export function decodeRawIp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  if (end - off < 1) {
    ctx.report("ip_truncated", off);
    return;
  }
  const version = ctx.bytes[off] >> 4;
  if (version === 4) ctx.registry.dispatchEtherType(0x0800, ctx, out, off, end);
  else if (version === 6) ctx.registry.dispatchEtherType(0x86dd, ctx, out, off, end);
  else ctx.report("ip_bad_version", off);
}
