/** UDP (RFC 768). @module */

import type { DecodeContext } from "./context.ts";
import { type LayerSet, UdpLayer } from "./layers.ts";

const HEADER_LEN = 8;

/** Decodes a UDP header and hands the payload to tunnel or application decoders. */
export function decodeUdp(ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
  const v = ctx.view;
  if (end - off < HEADER_LEN) {
    ctx.report("udp_truncated", off);
    return;
  }
  const len = v.getUint16(off + 4);
  let payloadEnd = end;
  if (len >= HEADER_LEN && off + len < end) payloadEnd = off + len;
  // 0 is an IPv6 jumbogram's (RFC 2675), so not an error there. A length beyond the IP payload is a lie, as
  // tshark's "bad length value" says; both used to pass silently (the captured bytes, not the field, bound
  // the payload either way).
  const jumbo = len === 0 && out.ip?.v === 6;
  if ((len < HEADER_LEN && !jumbo) || (out.ip !== undefined && len > out.ip.payloadLen)) {
    ctx.report("udp_bad_length", off + 4);
  }
  const udp = new UdpLayer(
    v.getUint16(off),
    v.getUint16(off + 2),
    len,
    off + HEADER_LEN,
    payloadEnd - off - HEADER_LEN,
  );
  out.udp = udp;
  if (payloadEnd > off + HEADER_LEN) {
    ctx.registry.dispatchApp("udp", udp.sport, udp.dport, ctx, out, off + HEADER_LEN, payloadEnd);
  }
}
