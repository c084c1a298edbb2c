/**
 * Per-host and per-address-pair traffic: top talkers by bytes and packets in each direction, IP
 * conversations (like `tshark -z conv,ip`) and, for the busiest hosts, who they talked to, on which
 * ports and with which protocols.
 *
 * Every IP header of a packet counts, as in tshark's conversation and endpoint tables: a tunnelled
 * packet counts for the tunnel's endpoints and for the hosts inside it, each with the frame's length.
 * Fragments count too. Ports come from flows (the innermost conversation), one count per flow.
 *
 * @module
 */

import type { IpLayer, LayerSet } from "../decode/layers.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import { PROTO_TCP, PROTO_UDP } from "../flow/flow_key.ts";
import type { Flow } from "../flow/flow_table.ts";
import { DEFAULT_TOP, topBy, TopCounter, type TopList } from "./top_counter.ts";

/**
 * Hosts tracked (default 10 000). Trade-off: each host costs a few hundred bytes plus its detail tables;
 * addresses first seen after the table filled (a spoofed-source flood) are not tracked and their packets
 * are counted in `dropped_packets`.
 */
export const DEFAULT_MAX_HOSTS = 10_000;
/** Address pairs tracked (default 20 000); later pairs are counted in the list's `dropped` (packets). */
export const DEFAULT_MAX_PAIRS = 20_000;
/** Distinct peers, ports and protocols kept per host (default 16 each); more are counted as dropped. */
export const DEFAULT_MAX_HOST_DETAIL = 16;

/** Options for `HostStats`. */
export interface HostStatsOptions {
  maxHosts?: number;
  maxPairs?: number;
  maxDetail?: number;
}

class Host {
  packetsOut = 0;
  bytesOut = 0;
  packetsIn = 0;
  bytesIn = 0;
  /** Bytes exchanged with each peer, both directions. */
  readonly peers: TopCounter;
  /** Responder ports of the flows this host originated. */
  readonly portsContacted: TopCounter;
  /** Its own ports in the flows it answered. */
  readonly portsServed: TopCounter;
  /** Packets by protocol (application protocol, else transport). */
  readonly protocols: TopCounter;
  constructor(readonly addr: string, cap: number) {
    this.peers = new TopCounter(cap);
    this.portsContacted = new TopCounter(cap);
    this.portsServed = new TopCounter(cap);
    this.protocols = new TopCounter(cap);
  }
}

/** An IPv4 address as a 32-bit number, or an IPv6 address as text. */
type HostKey = number | string;

class Pair {
  /** Packets and bytes from `a` to `b`, and back. */
  packetsAB = 0;
  bytesAB = 0;
  packetsBA = 0;
  bytesBA = 0;
  constructor(readonly a: string, readonly b: string) {}
}

/** A host in a top list. */
export interface HostRecord {
  addr: string;
  packets_out: number;
  bytes_out: number;
  packets_in: number;
  bytes_in: number;
}

/** A host in `details`: its counts plus peers, ports and protocols. */
export interface HostDetailRecord extends HostRecord {
  /** Peers by bytes exchanged. */
  peers: TopList;
  /** Ports it connected to (responder ports of the flows it originated), by flows. */
  ports_contacted: TopList;
  /** Its ports that others connected to, by flows. */
  ports_served: TopList;
  /** Protocols by packets. */
  protocols: TopList;
}

/** An IP conversation: `a` is the address that sent the first packet seen between the two. */
export interface PairRecord {
  a: string;
  b: string;
  packets_a_to_b: number;
  bytes_a_to_b: number;
  packets_b_to_a: number;
  bytes_b_to_a: number;
  packets: number;
  bytes: number;
}

/** The `hosts` section. */
export interface HostStatsRecord {
  /** Hosts tracked. */
  count: number;
  /** IP headers whose source or destination host was not tracked (the host table was full). */
  dropped_packets: number;
  top_by_bytes_out: TopList<HostRecord>;
  top_by_bytes_in: TopList<HostRecord>;
  top_by_packets_out: TopList<HostRecord>;
  top_by_packets_in: TopList<HostRecord>;
  /** The IP conversations with the most bytes. */
  conversations: TopList<PairRecord>;
  /** Detail of the hosts with the most bytes (sent plus received). */
  details: TopList<HostDetailRecord>;
}

/** Accumulates host and conversation figures. */
export class HostStats {
  private readonly hosts = new Map<HostKey, Host>();
  /** The same hosts by address text, for the per-flow lookups. */
  private readonly byAddr = new Map<string, Host>();
  /** Pairs by first sender, then receiver. */
  private readonly pairs = new Map<HostKey, Map<HostKey, Pair>>();
  private pairCount = 0;
  private droppedPackets = 0;
  private droppedPairPackets = 0;
  private readonly maxHosts: number;
  private readonly maxPairs: number;
  private readonly maxDetail: number;

  constructor(options: HostStatsOptions = {}) {
    this.maxHosts = options.maxHosts ?? DEFAULT_MAX_HOSTS;
    this.maxPairs = options.maxPairs ?? DEFAULT_MAX_PAIRS;
    this.maxDetail = options.maxDetail ?? DEFAULT_MAX_HOST_DETAIL;
  }

  /** Accounts one packet at each of its IP layers (nothing for packets without one). */
  add(p: DecodedPacket): void {
    const proto = protocolOf(p);
    for (let ls: LayerSet | undefined = p.layers; ls !== undefined; ls = ls.inner) {
      if (ls.ip !== undefined) this.addIp(ls.ip, p.len, proto);
    }
  }

  private addIp(ip: IpLayer, len: number, proto: string): void {
    // IPv4 hosts are keyed by the address as a number, so a packet of known hosts allocates no string;
    // IPv6 ones by their text.
    const b = ip.bytes, o = ip.addrOff;
    const srcKey = ip.v === 4 ? ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0 : ip.src;
    const dstKey = ip.v === 4
      ? ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0
      : ip.dst;
    const src = this.host(srcKey, ip, true), dst = this.host(dstKey, ip, false);
    if (src === undefined || dst === undefined) this.droppedPackets++;
    if (src !== undefined) {
      src.packetsOut++;
      src.bytesOut += len;
      src.peers.add(dst?.addr ?? ip.dst, len);
      src.protocols.add(proto);
    }
    if (dst !== undefined) {
      dst.packetsIn++;
      dst.bytesIn += len;
      if (dst !== src) {
        dst.peers.add(src?.addr ?? ip.src, len);
        dst.protocols.add(proto);
      }
    }
    this.pair(srcKey, dstKey, ip, len);
  }

  /** Accounts a new TCP or UDP flow's port to its two hosts (call once, on the flow's first packet). */
  flowStarted(flow: Flow): void {
    // ICMP flows key on message types, which are not ports.
    if (flow.proto !== PROTO_TCP && flow.proto !== PROTO_UDP) return;
    const port = String(flow.dport);
    this.byAddr.get(flow.origAddr)?.portsContacted.add(port);
    this.byAddr.get(flow.respAddr)?.portsServed.add(port);
  }

  private host(key: HostKey, ip: IpLayer, source: boolean): Host | undefined {
    let h = this.hosts.get(key);
    if (h === undefined) {
      if (this.hosts.size >= this.maxHosts) return undefined;
      h = new Host(source ? ip.src : ip.dst, this.maxDetail);
      this.hosts.set(key, h);
      this.byAddr.set(h.addr, h);
    }
    return h;
  }

  private pair(src: HostKey, dst: HostKey, ip: IpLayer, len: number): void {
    // Both orders are looked up rather than ordering the keys, so that `a` stays the first sender.
    let pr = this.pairs.get(src)?.get(dst);
    let forward = true;
    if (pr === undefined) {
      pr = this.pairs.get(dst)?.get(src);
      forward = false;
    }
    if (pr === undefined) {
      if (this.pairCount >= this.maxPairs) {
        this.droppedPairPackets++;
        return;
      }
      pr = new Pair(ip.src, ip.dst);
      let inner = this.pairs.get(src);
      if (inner === undefined) this.pairs.set(src, inner = new Map());
      inner.set(dst, pr);
      this.pairCount++;
      forward = true;
    }
    if (forward) {
      pr.packetsAB++;
      pr.bytesAB += len;
    } else {
      pr.packetsBA++;
      pr.bytesBA += len;
    }
  }

  /** Every tracked IP conversation (for tests and tools that want all of them). */
  *conversations(): IterableIterator<PairRecord> {
    for (const inner of this.pairs.values()) for (const pr of inner.values()) yield pairRecord(pr);
  }

  /** The section as JSON, each list at most `top` long. */
  toJSON(top: number = DEFAULT_TOP): HostStatsRecord {
    const hosts = [...this.hosts.values()];
    const list = (key: (h: Host) => number): TopList<HostRecord> => {
      const l = topBy(hosts.filter((h) => key(h) > 0), top, key, this.droppedPackets);
      return { items: l.items.map(hostRecord), left_out: l.left_out, dropped: l.dropped };
    };
    const all = [...this.pairs.values()].flatMap((inner) => [...inner.values()]);
    const pairs = topBy(all, top, (p) => p.bytesAB + p.bytesBA, this.droppedPairPackets);
    const details = topBy(hosts, top, (h) => h.bytesIn + h.bytesOut, this.droppedPackets);
    return {
      count: this.hosts.size,
      dropped_packets: this.droppedPackets,
      top_by_bytes_out: list((h) => h.bytesOut),
      top_by_bytes_in: list((h) => h.bytesIn),
      top_by_packets_out: list((h) => h.packetsOut),
      top_by_packets_in: list((h) => h.packetsIn),
      conversations: { items: pairs.items.map(pairRecord), left_out: pairs.left_out, dropped: pairs.dropped },
      details: {
        items: details.items.map((h) => ({
          ...hostRecord(h),
          peers: h.peers.top(top),
          ports_contacted: h.portsContacted.top(top),
          ports_served: h.portsServed.top(top),
          protocols: h.protocols.top(top),
        })),
        left_out: details.left_out,
        dropped: details.dropped,
      },
    };
  }
}

function hostRecord(h: Host): HostRecord {
  return {
    addr: h.addr,
    packets_out: h.packetsOut,
    bytes_out: h.bytesOut,
    packets_in: h.packetsIn,
    bytes_in: h.bytesIn,
  };
}

function pairRecord(p: Pair): PairRecord {
  return {
    a: p.a,
    b: p.b,
    packets_a_to_b: p.packetsAB,
    bytes_a_to_b: p.bytesAB,
    packets_b_to_a: p.packetsBA,
    bytes_b_to_a: p.bytesBA,
    packets: p.packetsAB + p.packetsBA,
    bytes: p.bytesAB + p.bytesBA,
  };
}

/** The innermost application protocol of a packet, else its transport, else its IP protocol number. */
function protocolOf(p: DecodedPacket): string {
  let ls = p.layers;
  while (ls.inner !== undefined) ls = ls.inner;
  if (ls.app !== undefined) return ls.app;
  if (ls.tcp !== undefined) return "tcp";
  if (ls.udp !== undefined) return "udp";
  if (ls.icmp !== undefined) return "icmp";
  if (ls.icmp6 !== undefined) return "icmp6";
  const ip = ls.ip ?? p.layers.ip;
  return ip !== undefined ? `ip_proto_${ip.proto}` : "other";
}
