/**
 * The decoder registry: wire numbers (link types, EtherTypes, IP protocols, ports) mapped to decoders, and
 * the content sniffers tried before port hints. Adding a protocol is one file plus one registration in
 * `default_registry.ts`.
 *
 * @module
 */

import type { AppHint, AppProtocol } from "./app.ts";
import type { DecodeContext, LayerDecoder } from "./context.ts";
import type { LayerSet } from "./layers.ts";

/** A UDP-carried tunnel: returns false when the payload turned out not to be the tunnel. */
export type UdpTunnelDecoder = (
  ctx: DecodeContext,
  out: LayerSet,
  off: number,
  end: number,
) => boolean | void;

/** Mutable hint object reused for every application dispatch (no allocation per packet). */
class Hint implements AppHint {
  transport: "tcp" | "udp" = "udp";
  srcPort = 0;
  dstPort = 0;
}

/** Maps wire numbers to decoders. */
export class Registry {
  private readonly linkTypes = new Map<number, LayerDecoder>();
  private readonly etherTypes = new Map<number, LayerDecoder>();
  private readonly ipProtos = new Map<number, LayerDecoder>();
  private readonly udpTunnels = new Map<number, UdpTunnelDecoder>();
  private readonly tcpPorts = new Map<number, AppProtocol[]>();
  private readonly udpPorts = new Map<number, AppProtocol[]>();
  private readonly sniffers: AppProtocol[] = [];
  private readonly hint = new Hint();

  registerLinkType(linkType: number, decoder: LayerDecoder): this {
    this.linkTypes.set(linkType, decoder);
    return this;
  }
  registerEtherType(etherType: number, decoder: LayerDecoder): this {
    this.etherTypes.set(etherType, decoder);
    return this;
  }
  registerIpProto(proto: number, decoder: LayerDecoder): this {
    this.ipProtos.set(proto, decoder);
    return this;
  }
  registerUdpTunnel(port: number, decoder: UdpTunnelDecoder): this {
    this.udpTunnels.set(port, decoder);
    return this;
  }
  /** Registers an application protocol on its ports, and as a sniffer when it has one. */
  registerApp(protocol: AppProtocol): this {
    for (const port of protocol.ports.tcp ?? []) push(this.tcpPorts, port, protocol);
    for (const port of protocol.ports.udp ?? []) push(this.udpPorts, port, protocol);
    if (protocol.sniff) this.sniffers.push(protocol);
    return this;
  }

  /** Whether the EtherType has a decoder. */
  hasEtherType(etherType: number): boolean {
    return this.etherTypes.has(etherType);
  }

  /** Whether the link type has a decoder. */
  hasLinkType(linkType: number): boolean {
    return this.linkTypes.has(linkType);
  }

  dispatchLinkType(linkType: number, ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
    this.linkTypes.get(linkType)?.(ctx, out, off, end);
  }
  dispatchEtherType(etherType: number, ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
    this.etherTypes.get(etherType)?.(ctx, out, off, end);
  }
  dispatchIpProto(proto: number, ctx: DecodeContext, out: LayerSet, off: number, end: number): void {
    this.ipProtos.get(proto)?.(ctx, out, off, end);
  }

  /**
   * Hands a transport payload to the first decoder that accepts it: UDP tunnels by port, then content
   * sniffers, then the protocols registered on the lower port and then the higher one (as Wireshark
   * does, since the lower port is usually the service).
   */
  dispatchApp(
    transport: "tcp" | "udp",
    srcPort: number,
    dstPort: number,
    ctx: DecodeContext,
    out: LayerSet,
    off: number,
    end: number,
  ): void {
    const low = srcPort < dstPort ? srcPort : dstPort;
    const high = srcPort < dstPort ? dstPort : srcPort;
    if (transport === "udp") {
      const tunnel = this.udpTunnels.get(low) ?? this.udpTunnels.get(high);
      if (tunnel !== undefined && tunnel(ctx, out, off, end) !== false) return;
    }
    const hint = this.hint;
    hint.transport = transport;
    hint.srcPort = srcPort;
    hint.dstPort = dstPort;
    for (let i = 0; i < this.sniffers.length; i++) {
      const p = this.sniffers[i];
      if (p.sniff!(ctx.bytes, off, end, hint) && this.tryApp(p, ctx, out, off, end)) return;
    }
    const ports = transport === "tcp" ? this.tcpPorts : this.udpPorts;
    const first = ports.get(low);
    if (first !== undefined) {
      for (let i = 0; i < first.length; i++) if (this.tryApp(first[i], ctx, out, off, end)) return;
    }
    if (high !== low) {
      const second = ports.get(high);
      if (second !== undefined) {
        for (let i = 0; i < second.length; i++) if (this.tryApp(second[i], ctx, out, off, end)) return;
      }
    }
  }

  private tryApp(p: AppProtocol, ctx: DecodeContext, out: LayerSet, off: number, end: number): boolean {
    let record: object | null;
    try {
      record = p.decode(ctx.bytes, ctx.view, off, end, ctx, this.hint);
    } catch {
      // A decoder must not throw; if one does, the packet keeps its lower layers and the bug is visible
      // as an anomaly (the fuzz test fails on any), instead of one bad packet stopping a whole capture.
      ctx.report(`decoder_exception_${p.name}`, off);
      return true;
    }
    if (record === null) return false;
    out.app = p.name;
    out.appRecord = record;
    return true;
  }
}

function push(map: Map<number, AppProtocol[]>, port: number, p: AppProtocol): void {
  const list = map.get(port);
  if (list === undefined) map.set(port, [p]);
  else if (!list.includes(p)) list.push(p);
}
