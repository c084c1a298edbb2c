/**
 * The bidirectional key of a flow: IP version, both addresses, the IP protocol, both ports (or the ICMP
 * equivalents) and the outermost VLAN id. A `FlowKey` is filled from a decoded packet's layers by reading
 * the address bytes as 32-bit words, so keying a packet allocates nothing: no address strings, no key
 * string. Its `hash` is symmetric (the same for both directions of a conversation), in the spirit of
 * gopacket's `FastHash`, and a table resolves collisions by comparing the words (`sameDirection`,
 * `reverseOf`).
 *
 * Choices a caller relies on:
 * - **Tunnels**: the key is taken from the innermost layer set that has an IP layer (GRE, VXLAN, Geneve,
 *   IP-in-IP, Teredo, GTP...), because that is the conversation the tunnel carries and the one detectors
 *   reason about; the tunnel endpoints' own traffic is not a separate flow (but a tunnel whose payload is
 *   not IP, such as ARP over VXLAN, is keyed on the outer packet). The VLAN id is the outermost
 *   one of the outer frame (the tag the capture point saw), and `tunnel` names the outermost tunnel.
 * - **ICMP** (RFC 792, RFC 4443): request/reply pairs key on the request type as the originator's "port"
 *   and the reply type as the responder's (as Zeek writes them: echo is 8/0, ICMPv6 echo 128/129), plus
 *   the echo identifier, so one `ping` run is one flow in both directions. Other messages key on
 *   type/code.
 * - **Fragments**: a fragment that did not complete a datagram carries no transport header; it is not
 *   keyed (`fromLayers` returns false) rather than made into a bogus port-0 flow. The fragment that
 *   completes the datagram carries the reassembled transport header and is keyed normally (tshark counts
 *   a fragmented datagram the same way).
 *
 * @module
 */

import { ipv4String, ipv6String } from "../decode/_bytes.ts";
import type { IcmpLayer, LayerSet } from "../decode/layers.ts";

/** IP protocol numbers the flow code treats specially. */
export const PROTO_ICMP = 1, PROTO_TCP = 6, PROTO_UDP = 17, PROTO_ICMP6 = 58;

/** Names of common IP protocols, for `FlowKey.protoName`. Unknown numbers print as `proto_<n>`. */
export const IP_PROTO_NAMES: Readonly<Record<number, string>> = {
  1: "icmp",
  2: "igmp",
  4: "ipip",
  6: "tcp",
  17: "udp",
  41: "ipv6",
  47: "gre",
  50: "esp",
  51: "ah",
  58: "icmp6",
  88: "eigrp",
  89: "ospf",
  103: "pim",
  112: "vrrp",
  132: "sctp",
};

/**
 * ICMP request type -> reply type, and back (RFC 792: echo, timestamp, information, address mask;
 * RFC 1256 router discovery). A message whose type is not here keys on type/code.
 */
const ICMP4_PAIRS = new Map<number, [number, number]>([
  [8, [8, 0]],
  [0, [8, 0]],
  [13, [13, 14]],
  [14, [13, 14]],
  [15, [15, 16]],
  [16, [15, 16]],
  [17, [17, 18]],
  [18, [17, 18]],
  [10, [10, 9]],
  [9, [10, 9]],
]);
/** ICMPv6 request/reply pairs (RFC 4443 echo, RFC 4861 router and neighbour discovery, MLD query/report). */
const ICMP6_PAIRS = new Map<number, [number, number]>([
  [128, [128, 129]],
  [129, [128, 129]],
  [133, [133, 134]],
  [134, [133, 134]],
  [135, [135, 136]],
  [136, [135, 136]],
  [130, [130, 131]],
  [131, [130, 131]],
]);

/**
 * One direction of a conversation as seen in a packet (`s*` = source, `d*` = destination), plus the
 * symmetric `hash`. IPv4 addresses use word 0 only (words 1-3 are 0). Fill it with `fromLayers`; reuse
 * one instance for every packet.
 */
export class FlowKey {
  v: 4 | 6 = 4;
  proto = 0;
  /** Outermost VLAN id, or -1 when the frame had no 802.1Q tag. */
  vlan = -1;
  /** ICMP echo (and other request/reply) identifier; 0 for other protocols. */
  ident = 0;
  s0 = 0;
  s1 = 0;
  s2 = 0;
  s3 = 0;
  d0 = 0;
  d1 = 0;
  d2 = 0;
  d3 = 0;
  sport = 0;
  dport = 0;
  /** Symmetric hash of the key, a non-negative 30-bit integer (a V8 small integer, cheap as a Map key). */
  hash = 0;
  /** Type of the outermost tunnel the keyed packet came through, if any. */
  tunnel: string | undefined = undefined;
  /** The layer set the key was taken from (the innermost one with an IP layer); valid with the packet. */
  layers: LayerSet | undefined = undefined;

  /**
   * Fills this key from a packet's layers. Returns false (leaving the key unusable) when the packet has no
   * IP layer, is a fragment that did not complete its datagram, or its TCP/UDP header was not decoded.
   */
  fromLayers(outer: LayerSet): boolean {
    let ls = outer;
    // Descend to the innermost layer set with an IP layer: the conversation the tunnels carry.
    while (ls.inner !== undefined && ls.inner.ip !== undefined) ls = ls.inner;
    const ip = ls.ip;
    if (ip === undefined) return false;
    const proto = ip.proto;
    if (ip.fragment && ip.reassembledLen === undefined) return false;
    let sport = 0, dport = 0, ident = 0;
    if (proto === PROTO_TCP) {
      const tcp = ls.tcp;
      if (tcp === undefined) return false;
      sport = tcp.sport;
      dport = tcp.dport;
    } else if (proto === PROTO_UDP) {
      const udp = ls.udp;
      if (udp === undefined) return false;
      sport = udp.sport;
      dport = udp.dport;
    } else if (proto === PROTO_ICMP || proto === PROTO_ICMP6) {
      const icmp = proto === PROTO_ICMP ? ls.icmp : ls.icmp6;
      if (icmp !== undefined) {
        const pair = (proto === PROTO_ICMP ? ICMP4_PAIRS : ICMP6_PAIRS).get(icmp.type);
        if (pair === undefined) {
          sport = icmp.type;
          dport = icmp.code;
        } else if (icmp.type === pair[0]) {
          sport = pair[0];
          dport = pair[1];
          ident = icmpIdent(icmp);
        } else {
          sport = pair[1];
          dport = pair[0];
          ident = icmpIdent(icmp);
        }
      }
    }
    const b = ip.bytes, o = ip.addrOff;
    this.v = ip.v;
    this.proto = proto;
    this.sport = sport;
    this.dport = dport;
    this.ident = ident;
    this.vlan = outer.vlan !== undefined && outer.vlan.length > 0 ? outer.vlan[0] : -1;
    this.tunnel = ls === outer ? undefined : outer.tunnel?.type;
    this.layers = ls;
    if (ip.v === 4) {
      this.s0 = word(b, o);
      this.d0 = word(b, o + 4);
      this.s1 =
        this.s2 =
        this.s3 =
        this.d1 =
        this.d2 =
        this.d3 =
          0;
    } else {
      this.s0 = word(b, o);
      this.s1 = word(b, o + 4);
      this.s2 = word(b, o + 8);
      this.s3 = word(b, o + 12);
      this.d0 = word(b, o + 16);
      this.d1 = word(b, o + 20);
      this.d2 = word(b, o + 24);
      this.d3 = word(b, o + 28);
    }
    this.hash = this.computeHash();
    return true;
  }

  /**
   * The symmetric hash: each endpoint (address words and port) is mixed on its own and the two results
   * are added, so swapping source and destination gives the same value; the sum is then mixed with the
   * protocol, VLAN and identifier. Collisions are expected and resolved by the caller's comparison.
   */
  computeHash(): number {
    const a = endpointHash(this.s0, this.s1, this.s2, this.s3, this.sport);
    const z = endpointHash(this.d0, this.d1, this.d2, this.d3, this.dport);
    let h = (a + z) | 0;
    h = Math.imul(h ^ (this.proto | (this.v << 8) | ((this.vlan & 0xffff) << 16)), 0x85ebca6b);
    h = Math.imul(h ^ this.ident ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    return h & 0x3fffffff;
  }

  /** True when `other` is the same conversation in the same direction (source = other's source). */
  sameDirection(other: FlowKey): boolean {
    return this.s0 === other.s0 && this.d0 === other.d0 && this.sport === other.sport &&
      this.dport === other.dport && this.proto === other.proto && this.vlan === other.vlan &&
      this.ident === other.ident && this.v === other.v && this.s1 === other.s1 && this.s2 === other.s2 &&
      this.s3 === other.s3 && this.d1 === other.d1 && this.d2 === other.d2 && this.d3 === other.d3;
  }

  /** True when `other` is the same conversation in the opposite direction (source = other's destination). */
  reverseOf(other: FlowKey): boolean {
    return this.s0 === other.d0 && this.d0 === other.s0 && this.sport === other.dport &&
      this.dport === other.sport && this.proto === other.proto && this.vlan === other.vlan &&
      this.ident === other.ident && this.v === other.v && this.s1 === other.d1 && this.s2 === other.d2 &&
      this.s3 === other.d3 && this.d1 === other.s1 && this.d2 === other.s2 && this.d3 === other.s3;
  }

  /** Copies `k`'s key fields (not its packet reference) into this key. */
  copyFrom(k: FlowKey): void {
    this.v = k.v;
    this.proto = k.proto;
    this.vlan = k.vlan;
    this.ident = k.ident;
    this.s0 = k.s0;
    this.s1 = k.s1;
    this.s2 = k.s2;
    this.s3 = k.s3;
    this.d0 = k.d0;
    this.d1 = k.d1;
    this.d2 = k.d2;
    this.d3 = k.d3;
    this.sport = k.sport;
    this.dport = k.dport;
    this.hash = k.hash;
    this.tunnel = k.tunnel;
  }

  /** A copy that no longer refers to the packet. */
  clone(): FlowKey {
    const k = new FlowKey();
    k.copyFrom(this);
    return k;
  }

  /** The source address as text (built on demand, not per packet). */
  get src(): string {
    return addrString(this.v, this.s0, this.s1, this.s2, this.s3);
  }

  /** The destination address as text. */
  get dst(): string {
    return addrString(this.v, this.d0, this.d1, this.d2, this.d3);
  }

  /** `tcp`, `udp`, `icmp`, ... or `proto_<n>`. */
  get protoName(): string {
    return IP_PROTO_NAMES[this.proto] ?? `proto_${this.proto}`;
  }

  /** Whether the protocol has ports (or ICMP's type pair) worth showing. */
  get hasPorts(): boolean {
    return this.proto === PROTO_TCP || this.proto === PROTO_UDP || this.proto === PROTO_ICMP ||
      this.proto === PROTO_ICMP6 || this.proto === 132;
  }

  /** `tcp 10.0.0.1:1234 -> 10.0.0.2:80 vlan 10`, for messages and tests. */
  toString(): string {
    const ep = (addr: string, port: number) =>
      this.hasPorts ? (this.v === 6 ? `[${addr}]:${port}` : `${addr}:${port}`) : addr;
    const vlan = this.vlan >= 0 ? ` vlan ${this.vlan}` : "";
    return `${this.protoName} ${ep(this.src, this.sport)} -> ${ep(this.dst, this.dport)}${vlan}`;
  }
}

function icmpIdent(icmp: IcmpLayer): number {
  // Only echo carries an identifier the decoder reads; other pairs key on addresses and types alone.
  return icmp.id ?? 0;
}

/**
 * Big-endian 32-bit word at `o`, as a signed int32 (the caller validated the IP header, so the bytes are
 * present). Signed so that V8 keeps it a small integer in the object (64-bit builds without pointer
 * compression, as Deno's): an unsigned word over 2^31 would be a boxed heap number, one more cache miss
 * per comparison in a table of many flows.
 */
function word(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** murmur3-style mixing of one endpoint; the addition in `computeHash` makes the pair symmetric. */
function endpointHash(w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ w1;
  h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
  h = Math.imul(h ^ w2, 0xcc9e2d51) ^ w3;
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593) ^ port;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

const scratch = new Uint8Array(16);

/** Text form of an address held as words. */
export function addrString(v: 4 | 6, w0: number, w1: number, w2: number, w3: number): string {
  const words = [w0, w1, w2, w3];
  const n = v === 4 ? 1 : 4;
  for (let i = 0; i < n; i++) {
    const w = words[i];
    scratch[i * 4] = w >>> 24;
    scratch[i * 4 + 1] = (w >>> 16) & 0xff;
    scratch[i * 4 + 2] = (w >>> 8) & 0xff;
    scratch[i * 4 + 3] = w & 0xff;
  }
  return v === 4 ? ipv4String(scratch, 0) : ipv6String(scratch, 0);
}
