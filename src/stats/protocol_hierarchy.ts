/**
 * Protocol hierarchy statistics, like `tshark -z io,phs`: packets and bytes (frame lengths) per layer
 * path, nested, e.g. `eth > ipv4 > tcp > tls`. Each packet counts once at every node of its path.
 *
 * Names differ from tshark's where netwatch's do: `ipv4` (tshark `ip`), `icmp6` (`icmpv6`); a tunnel shows
 * as its own node (`gre`, `vxlan`, `ipip`, ...) above the inner packet's layers. tshark also lists
 * dissector pseudo-layers (`data`, `tcp.segments`, `_ws.malformed`) that netwatch does not have, and it
 * counts an application protocol only on the packets it dissected as such, as netwatch does.
 *
 * @module
 */

import { linkTypeName } from "../capture/link_type.ts";
import type { LayerSet } from "../decode/layers.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";

/**
 * Nodes at most below the link-layer roots (default 1000). Paths come from a fixed set of decoder
 * names, so real captures use a few dozen; the cap only guards against pathological tunnel nesting.
 * Past it, a packet stops descending and its remaining layers count in `unlisted_packets` of the
 * deepest node it reached.
 */
export const DEFAULT_MAX_PROTOCOL_NODES = 1000;

const LINKTYPE_IPV4 = 228, LINKTYPE_IPV6 = 229;

/** One node of the hierarchy as JSON. */
export interface ProtocolNodeRecord {
  packets: number;
  bytes: number;
  /** Packets whose deeper layers were not counted because the node cap was reached. */
  unlisted_packets?: number;
  children?: Record<string, ProtocolNodeRecord>;
}

class Node {
  packets = 0;
  bytes = 0;
  unlisted = 0;
  children: Map<string, Node> | undefined = undefined;

  toJSON(): ProtocolNodeRecord {
    const r: ProtocolNodeRecord = { packets: this.packets, bytes: this.bytes };
    if (this.unlisted > 0) r.unlisted_packets = this.unlisted;
    if (this.children !== undefined && this.children.size > 0) r.children = nodesJSON(this.children);
    return r;
  }
}

function nodesJSON(m: Map<string, Node>): Record<string, ProtocolNodeRecord> {
  const sorted = [...m].sort((a, b) => b[1].packets - a[1].packets || (a[0] < b[0] ? -1 : 1));
  return Object.fromEntries(sorted.map(([name, n]) => [name, n.toJSON()]));
}

/** Accumulates the hierarchy. */
export class ProtocolHierarchy {
  private readonly roots = new Map<string, Node>();
  private nodes = 0;
  // The walk's state for the current packet; fields, so that a packet costs no closure.
  private level: Map<string, Node> | undefined;
  private current: Node | undefined;
  private stopped = false;
  private len = 0;

  constructor(readonly maxNodes: number = DEFAULT_MAX_PROTOCOL_NODES) {}

  /** Accounts one packet along its layer path. */
  add(p: DecodedPacket): void {
    const ls = p.layers;
    this.len = p.len;
    this.stopped = false;
    this.current = undefined;
    this.level = this.roots;
    // The link layer is the root, named after the link type when netwatch has no layer for it (`raw`,
    // `null`...); LINKTYPE_IPV4/IPV6 frames have no link header at all, so the IP layer is the root.
    if (ls.eth !== undefined) this.visit("eth");
    else if (ls.wlan !== undefined) this.visit("wlan");
    else if (ls.sll !== undefined) this.visit("sll");
    else if (p.linkType !== LINKTYPE_IPV4 && p.linkType !== LINKTYPE_IPV6) {
      this.visit(linkTypeName(p.linkType).toLowerCase());
    }
    this.walk(ls, false);
  }

  private walk(ls: LayerSet, inner: boolean): void {
    // An inner layer set of a tunnel may start with its own Ethernet header (VXLAN, Geneve, GRE TEB).
    if (inner && ls.eth !== undefined) this.visit("eth");
    if (ls.vlan !== undefined) { for (let i = 0; i < ls.vlan.length; i++) this.visit("vlan"); }
    if (ls.arp !== undefined) this.visit("arp");
    if (ls.ip !== undefined) this.visit(ls.ip.v === 4 ? "ipv4" : "ipv6");
    if (ls.tcp !== undefined) this.visit("tcp");
    if (ls.udp !== undefined) this.visit("udp");
    if (ls.icmp !== undefined) this.visit("icmp");
    if (ls.icmp6 !== undefined) this.visit("icmp6");
    if (ls.app !== undefined) this.visit(ls.app);
    if (ls.tunnel !== undefined) this.visit(ls.tunnel.type);
    if (ls.inner !== undefined) this.walk(ls.inner, true);
  }

  private visit(name: string): void {
    if (this.stopped) return;
    const level = this.level!;
    let node = level.get(name);
    if (node === undefined) {
      if (this.current !== undefined && this.nodes >= this.maxNodes) {
        this.current.unlisted++;
        this.stopped = true;
        return;
      }
      node = new Node();
      level.set(name, node);
      if (this.current !== undefined) this.nodes++;
    }
    node.packets++;
    node.bytes += this.len;
    this.current = node;
    this.level = node.children ??= new Map();
  }

  /** The hierarchy: link-layer roots, each node's children sorted by packets. */
  toJSON(): Record<string, ProtocolNodeRecord> {
    return nodesJSON(this.roots);
  }
}
