/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443, neighbour discovery RFC 4861): type, code, echo identifier and
 * sequence, and the invoking packet quoted by error messages, decoded as a packet of its own.
 *
 * @module
 */

import { ipv6String, macString } from "./_bytes.ts";
import type { DecodeContext } from "./context.ts";
import { IcmpLayer, type LayerSet } from "./layers.ts";

const ICMP_HEADER_LEN = 8;
const ICMP4_ECHO = new Set([0, 8, 13, 14, 15, 16, 17, 18]);
const ICMP4_ERRORS = new Set([3, 4, 5, 11, 12]);
const ICMP6_ERRORS = new Set([1, 2, 3, 4]);
const ND_NEIGHBOR_SOLICIT = 135, ND_NEIGHBOR_ADVERT = 136, ND_REDIRECT = 137;
const ND_OPT_SOURCE_LLADDR = 1, ND_OPT_TARGET_LLADDR = 2;

/** ICMPv4. */
export function decodeIcmp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const icmp = decodeCommon(ctx, off, end, "icmp");
  if (icmp === undefined) return;
  out.icmp = icmp;
  if (ICMP4_ECHO.has(icmp.type)) {
    echoIds(ctx, icmp, off, end);
  } else if (ICMP4_ERRORS.has(icmp.type)) {
    quote(ctx, icmp, 0x0800, off + ICMP_HEADER_LEN, end);
  }
}

/** ICMPv6. */
export function decodeIcmp6(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const icmp = decodeCommon(ctx, off, end, "icmp6");
  if (icmp === undefined) return;
  out.icmp6 = icmp;
  const t = icmp.type;
  if (t === 128 || t === 129) {
    echoIds(ctx, icmp, off, end);
  } else if (ICMP6_ERRORS.has(t)) {
    quote(ctx, icmp, 0x86dd, off + ICMP_HEADER_LEN, end);
  } else if (t === ND_NEIGHBOR_SOLICIT || t === ND_NEIGHBOR_ADVERT || t === ND_REDIRECT) {
    if (end - off < 24) {
      ctx.report("icmp6_truncated", off);
      return;
    }
    icmp.target = ipv6String(ctx.bytes, off + 8);
    ndOptions(ctx, icmp, off + (t === ND_REDIRECT ? 40 : 24), end);
  } else if (t === 133 || t === 134) {
    ndOptions(ctx, icmp, off + (t === 133 ? 8 : 16), end);
  }
}

function decodeCommon(ctx: DecodeContext, off: number, end: number, name: string): IcmpLayer | undefined {
  if (end - off < 4) {
    ctx.report(`${name}_truncated`, off);
    return undefined;
  }
  const icmp = new IcmpLayer(
    ctx.bytes[off],
    ctx.bytes[off + 1],
    off + ICMP_HEADER_LEN,
    Math.max(0, end - off - 8),
  );
  if (end - off < ICMP_HEADER_LEN) ctx.report(`${name}_truncated`, off);
  return icmp;
}

/**
 * Echo identifier and sequence. `decodeCommon` accepts a message cut after 4 bytes (and reports it), so
 * each field is read only when it was captured: reading past `end` would take the next packet's bytes, or
 * throw at the end of the buffer. (Found by the byte-vector tests on a 6-byte echo request.)
 */
function echoIds(ctx: DecodeContext, icmp: IcmpLayer, off: number, end: number): void {
  if (end - off >= 6) icmp.id = ctx.view.getUint16(off + 4);
  if (end - off >= 8) icmp.seq = ctx.view.getUint16(off + 6);
}

/** Decodes the quoted invoking packet; anomalies inside it are expected (it is usually cut) and not reported. */
function quote(ctx: DecodeContext, icmp: IcmpLayer, etherType: number, off: number, end: number): void {
  if (end <= off || ctx.depth >= 2) return;
  const quoted: LayerSet = {};
  const saved = ctx.malformed, savedAnomalies = ctx.anomalies;
  ctx.depth++;
  ctx.quoting++;
  ctx.registry.dispatchEtherType(etherType, ctx, quoted, off, end);
  ctx.quoting--;
  ctx.depth--;
  ctx.malformed = saved;
  ctx.anomalies = savedAnomalies;
  icmp.quoted = quoted;
}

/** Neighbour discovery options: the link-layer address, if any. */
function ndOptions(ctx: DecodeContext, icmp: IcmpLayer, off: number, end: number): void {
  const b = ctx.bytes;
  while (end - off >= 2) {
    const type = b[off], len = b[off + 1] * 8;
    if (len === 0 || off + len > end) {
      ctx.report("icmp6_bad_option", off);
      return;
    }
    if ((type === ND_OPT_SOURCE_LLADDR || type === ND_OPT_TARGET_LLADDR) && len >= 8) {
      icmp.lladdr = macString(b, off + 2);
    }
    off += len;
  }
}
