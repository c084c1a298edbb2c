/**
 * Per-packet decoding state shared by the layer decoders: the bytes, the registry to dispatch through,
 * and where anomalies are recorded. One context is reused for every packet.
 *
 * @module
 */

import type { IssueSink } from "./app.ts";
import type { LayerSet, TunnelInfo } from "./layers.ts";
import type { IpReassembler } from "./ip_reassembly.ts";
import type { Registry } from "./registry.ts";

/** How deep tunnels may nest before decoding stops (a GRE-in-GRE loop must not recurse forever). */
export const MAX_TUNNEL_DEPTH = 4;

/** A decoder for a network-level layer: reads `[off, end)` and records what it found in `out`. */
export type LayerDecoder = (ctx: DecodeContext, out: LayerSet, off: number, end: number) => void;

/** The mutable state of decoding one packet. */
export class DecodeContext implements IssueSink {
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.bytes.buffer);
  /** Offset of the packet's first byte in `bytes`: anomaly offsets are reported relative to it. */
  start = 0;
  /** End of the captured bytes. */
  frameEnd = 0;
  /** Where the packet ended on the wire (`start + len`); beyond `frameEnd` when the snaplen cut it. */
  wireEnd = 0;
  /** The first anomaly, as `<code> at byte <offset>`. */
  malformed: string | undefined = undefined;
  /** Every anomaly code seen in this packet (usually none). */
  anomalies: string[] | undefined = undefined;
  /** Current tunnel nesting. */
  depth = 0;
  /** Above 0 while decoding the packet quoted by an ICMP error (a fragment there is not reassembled). */
  quoting = 0;
  /** Packet time in seconds, for the reassembly timeout. */
  now = 0;

  constructor(readonly registry: Registry, readonly reassembler?: IpReassembler) {}

  reset(bytes: Uint8Array, view: DataView, start: number, caplen: number, len: number): void {
    this.bytes = bytes;
    this.view = view;
    this.start = start;
    this.frameEnd = start + caplen;
    this.wireEnd = start + Math.max(len, caplen);
    this.malformed = undefined;
    this.anomalies = undefined;
    this.depth = 0;
    this.quoting = 0;
  }

  /**
   * Decodes a reassembled IP payload as protocol `proto` into `out`. The payload is a buffer of its own,
   * so the context points at it for the duration (layers made meanwhile refer to it, not to the frame).
   */
  decodeReassembled(proto: number, payload: Uint8Array, out: LayerSet): void {
    const bytes = this.bytes, view = this.view, start = this.start;
    const frameEnd = this.frameEnd, wireEnd = this.wireEnd;
    this.bytes = payload;
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    this.start = 0;
    this.frameEnd = this.wireEnd = payload.length;
    try {
      this.registry.dispatchIpProto(proto, this, out, 0, payload.length);
    } finally {
      this.bytes = bytes;
      this.view = view;
      this.start = start;
      this.frameEnd = frameEnd;
      this.wireEnd = wireEnd;
    }
  }

  /**
   * Bytes that were on the wire from `off` to the end of the enclosing layer. An enclosing layer that
   * bounded its payload by a length field passes a smaller `end`, which is then also the wire end;
   * otherwise the payload runs to the packet's wire length, which the snaplen may have cut from `end`.
   * Like tshark's reported length, this caps what an IP header may claim.
   */
  wireAvailable(off: number, end: number): number {
    return (end < this.frameEnd ? end : this.wireEnd) - off;
  }

  /**
   * Records `tunnel` on `out` and decodes `[off, end)` as the packet it carries into a fresh `inner` layer
   * set, dispatched by link type, EtherType or IP protocol `value`. Past `MAX_TUNNEL_DEPTH` it reports
   * `tunnel_too_deep` instead, so crafted tunnel-in-tunnel loops end.
   */
  decodeInner(
    out: LayerSet,
    tunnel: TunnelInfo,
    layer: "link" | "ether" | "ip",
    value: number,
    off: number,
    end: number,
  ): void {
    out.tunnel = tunnel;
    if (this.depth >= MAX_TUNNEL_DEPTH) {
      this.report("tunnel_too_deep", off);
      return;
    }
    const inner: LayerSet = {};
    out.inner = inner;
    this.depth++;
    if (layer === "link") this.registry.dispatchLinkType(value, this, inner, off, end);
    else if (layer === "ether") this.registry.dispatchEtherType(value, this, inner, off, end);
    else this.registry.dispatchIpProto(value, this, inner, off, end);
    this.depth--;
  }

  report(code: string, offset: number): void {
    if (this.malformed === undefined) this.malformed = `${code} at byte ${offset - this.start}`;
    (this.anomalies ??= []).push(code);
  }
}
