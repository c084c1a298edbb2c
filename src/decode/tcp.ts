/** TCP (RFC 9293) with the options analysis needs (RFC 7323, RFC 2018). @module */

import type { DecodeContext } from "./context.ts";
import { type LayerSet, TcpLayer, type TcpOptions } from "./layers.ts";

const MIN_HEADER = 20;
const OPT_END = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WSCALE = 3, OPT_SACK_PERM = 4, OPT_SACK = 5, OPT_TS = 8;

/**
 * Decodes a TCP header. `len` is the payload length the IP header implies (tshark's `tcp.len`), which
 * stays right when the snaplen cut the captured bytes; the captured payload goes to the application
 * decoders.
 */
export function decodeTcp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const b = ctx.bytes, v = ctx.view;
  if (end - off < MIN_HEADER) {
    ctx.report("tcp_truncated", off);
    return;
  }
  const hlen = (b[off + 12] >> 4) * 4;
  // The IP layer of this same layer set holds the claimed length of exactly this payload.
  const ipPayload = out.ip !== undefined ? out.ip.payloadLen : end - off;
  const tcp = new TcpLayer(
    v.getUint16(off),
    v.getUint16(off + 2),
    v.getUint32(off + 4),
    v.getUint32(off + 8),
    v.getUint16(off + 12) & 0x0fff,
    v.getUint16(off + 14),
    hlen,
    Math.max(0, ipPayload - hlen),
    off + hlen,
    Math.max(0, end - off - hlen),
  );
  out.tcp = tcp;
  if (hlen < MIN_HEADER) {
    ctx.report("tcp_bad_header_length", off + 12);
    return;
  }
  if (end - off < hlen) {
    ctx.report("tcp_truncated", off);
    return;
  }
  if (hlen > MIN_HEADER) tcp.options = options(ctx, off + MIN_HEADER, off + hlen);
  if (end > off + hlen) {
    ctx.registry.dispatchApp("tcp", tcp.sport, tcp.dport, ctx, out, off + hlen, end);
  }
}

function options(ctx: DecodeContext, off: number, end: number): TcpOptions | undefined {
  const b = ctx.bytes, v = ctx.view;
  let opts: TcpOptions | undefined;
  while (off < end) {
    const kind = b[off];
    if (kind === OPT_END) break;
    if (kind === OPT_NOP) {
      off++;
      continue;
    }
    if (off + 1 >= end) break;
    const len = b[off + 1];
    if (len < 2 || off + len > end) {
      ctx.report("tcp_bad_option", off);
      break;
    }
    if (kind === OPT_MSS && len === 4) (opts ??= {}).mss = v.getUint16(off + 2);
    else if (kind === OPT_WSCALE && len === 3) (opts ??= {}).wscale = b[off + 2];
    else if (kind === OPT_SACK_PERM) (opts ??= {}).sack_perm = true;
    else if (kind === OPT_SACK && len >= 10) {
      const edges: number[] = [];
      for (let p = off + 2; p + 8 <= off + len; p += 8) edges.push(v.getUint32(p), v.getUint32(p + 4));
      (opts ??= {}).sack = edges;
    } else if (kind === OPT_TS && len === 10) (opts ??= {}).ts = [v.getUint32(off + 2), v.getUint32(off + 6)];
    off += len;
  }
  return opts;
}
