/**
 * GTP-U (3GPP TS 29.281, UDP port 2152): the user-plane tunnel of mobile networks. A T-PDU (message type
 * 255) carries an IP packet, decoded into `inner`; other messages (echo, error indication) carry none.
 *
 * @module
 */

import type { DecodeContext } from "./context.ts";
import type { LayerSet, TunnelInfo } from "./layers.ts";

const T_PDU = 255;
const MAX_EXTENSIONS = 8;

/** Returns false when the payload is not GTPv1-U, so other decoders may try. */
export function decodeGtpU(ctx: DecodeContext, out: LayerSet, off: number, end: number): boolean {
  const b = ctx.bytes;
  if (end - off < 8 || b[off] >> 5 !== 1 || (b[off] & 0x10) === 0) return false;
  const flags = b[off];
  const type = b[off + 1];
  const length = ctx.view.getUint16(off + 2);
  const teid = ctx.view.getUint32(off + 4);
  const payloadEnd = Math.min(end, off + 8 + length);
  let p = off + 8;
  if (flags & 0x07) {
    // Sequence number, N-PDU number and next extension type are present together when any flag is set.
    if (payloadEnd - p < 4) {
      ctx.report("gtp_truncated", off);
      return true;
    }
    let next = b[p + 3];
    p += 4;
    for (let i = 0; next !== 0 && i < MAX_EXTENSIONS; i++) {
      const len = b[p] * 4;
      if (len === 0 || p + len > payloadEnd) {
        ctx.report("gtp_bad_extension", p);
        return true;
      }
      next = b[p + len - 1];
      p += len;
    }
  }
  const tunnel: TunnelInfo = { type: "gtp", proto: type, key: teid };
  out.tunnel = tunnel;
  if (type !== T_PDU || p >= payloadEnd) return true;
  const version = b[p] >> 4;
  if (version !== 4 && version !== 6) return true;
  ctx.decodeInner(out, tunnel, "ether", version === 4 ? 0x0800 : 0x86dd, p, payloadEnd);
  return true;
}
