/**
 * Hand-built packets for the flow tests: Ethernet (optionally 802.1Q-tagged) + IPv4/IPv6 + TCP/UDP/ICMP
 * frames, decoded with the real `PacketDecoder`, so the flow code sees exactly what it sees in use.
 *
 * @module
 */

import type { Frame } from "../capture/source.ts";
import { type DecodedPacket, PacketDecoder } from "../decode/packet_decoder.ts";

/** What a test packet carries. Addresses are IPv4 dotted quads or IPv6 text. */
export interface PacketSpec {
  src: string;
  dst: string;
  proto?: "tcp" | "udp" | "icmp" | "icmp6";
  sport?: number;
  dport?: number;
  /** TCP flags as letters: S (SYN), A (ACK), F (FIN), R (RST), P (PSH). Default `A`. */
  flags?: string;
  seq?: number;
  ack?: number;
  /** Payload bytes, a string (UTF-8), or a length of filler bytes. */
  payload?: Uint8Array | string | number;
  /** 802.1Q tags, outermost first. */
  vlan?: number[];
  /** Packet time in seconds; microsecond precision. */
  t?: number;
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  /** Wrap the IP packet in an outer IPv4 IP-in-IP header between these addresses (RFC 2003). */
  ipip?: [string, string];
  /** IPv4 fragment fields. */
  mf?: boolean;
  fragOffset?: number;
  ipId?: number;
  /** Send only `[start, end)` of the transport header + payload (for building fragments). */
  slice?: [number, number];
}

const enc = new TextEncoder();

/** Parses IPv4 or IPv6 text into bytes (test input only; no validation beyond what tests need). */
export function addrBytes(a: string): Uint8Array {
  if (!a.includes(":")) return Uint8Array.from(a.split(".").map(Number));
  const out = new Uint8Array(16);
  const [head, tail] = a.includes("::") ? a.split("::") : [a, ""];
  const hs = head ? head.split(":") : [];
  const ts = tail ? tail.split(":") : [];
  hs.forEach((g, i) => {
    out[i * 2] = parseInt(g, 16) >> 8;
    out[i * 2 + 1] = parseInt(g, 16) & 0xff;
  });
  ts.forEach((g, i) => {
    const j = 8 - ts.length + i;
    out[j * 2] = parseInt(g, 16) >> 8;
    out[j * 2 + 1] = parseInt(g, 16) & 0xff;
  });
  return out;
}

function payloadOf(p: PacketSpec["payload"]): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  if (typeof p === "number") return new Uint8Array(p).fill(0x61);
  if (typeof p === "string") return enc.encode(p);
  return p;
}

function flagBits(f: string): number {
  let b = 0;
  for (const c of f) b |= ({ F: 1, S: 2, R: 4, P: 8, A: 16, U: 32 } as Record<string, number>)[c] ?? 0;
  return b;
}

/** The transport header and payload of `s`. */
function transport(s: PacketSpec): Uint8Array {
  const data = payloadOf(s.payload);
  const proto = s.proto ?? "tcp";
  if (proto === "tcp") {
    const t = new Uint8Array(20 + data.length);
    const v = new DataView(t.buffer);
    v.setUint16(0, s.sport ?? 0);
    v.setUint16(2, s.dport ?? 0);
    v.setUint32(4, (s.seq ?? 0) >>> 0);
    v.setUint32(8, (s.ack ?? 0) >>> 0);
    t[12] = 0x50;
    t[13] = flagBits(s.flags ?? "A");
    v.setUint16(14, 65535);
    t.set(data, 20);
    return t;
  }
  if (proto === "udp") {
    const t = new Uint8Array(8 + data.length);
    const v = new DataView(t.buffer);
    v.setUint16(0, s.sport ?? 0);
    v.setUint16(2, s.dport ?? 0);
    v.setUint16(4, 8 + data.length);
    t.set(data, 8);
    return t;
  }
  const t = new Uint8Array(8 + data.length);
  const v = new DataView(t.buffer);
  t[0] = s.icmpType ?? (proto === "icmp" ? 8 : 128);
  t[1] = s.icmpCode ?? 0;
  v.setUint16(4, s.icmpId ?? 0);
  v.setUint16(6, 1);
  t.set(data, 8);
  return t;
}

const PROTO_NUMBERS = { tcp: 6, udp: 17, icmp: 1, icmp6: 58 };

function ipPacket(src: string, dst: string, proto: number, body: Uint8Array, s: PacketSpec): Uint8Array {
  const a = addrBytes(src), b = addrBytes(dst);
  if (a.length === 4) {
    const ip = new Uint8Array(20 + body.length);
    const v = new DataView(ip.buffer);
    ip[0] = 0x45;
    v.setUint16(2, ip.length);
    v.setUint16(4, s.ipId ?? 1);
    v.setUint16(6, ((s.mf ? 0x2000 : 0) | ((s.fragOffset ?? 0) >> 3)) & 0xffff);
    ip[8] = 64;
    ip[9] = proto;
    ip.set(a, 12);
    ip.set(b, 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(10, ~sum & 0xffff);
    ip.set(body, 20);
    return ip;
  }
  const ip = new Uint8Array(40 + body.length);
  const v = new DataView(ip.buffer);
  ip[0] = 0x60;
  v.setUint16(4, body.length);
  ip[6] = proto;
  ip[7] = 64;
  ip.set(a, 8);
  ip.set(b, 24);
  ip.set(body, 40);
  return ip;
}

/** The Ethernet frame bytes of `s`. */
export function frameBytes(s: PacketSpec): Uint8Array {
  const proto = PROTO_NUMBERS[s.proto ?? "tcp"];
  let body = transport(s);
  if (s.slice) body = body.slice(...s.slice);
  let ip = ipPacket(s.src, s.dst, proto, body, s);
  let v6 = addrBytes(s.src).length === 16;
  if (s.ipip) {
    ip = ipPacket(s.ipip[0], s.ipip[1], v6 ? 41 : 4, ip, {} as PacketSpec);
    v6 = false;
  }
  const tags = s.vlan ?? [];
  const f = new Uint8Array(14 + tags.length * 4 + ip.length);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  let p = 12;
  for (const tag of tags) {
    v.setUint16(p, 0x8100);
    v.setUint16(p + 2, tag);
    p += 4;
  }
  v.setUint16(p, v6 ? 0x86dd : 0x0800);
  f.set(ip, p + 2);
  return f;
}

/** Decodes hand-built packets; one decoder per instance (it holds fragment reassembly state). */
export class TestPackets {
  private readonly decoder = new PacketDecoder();
  private n = 0;

  /** The decoded packet of `s`. Its bytes sit at a non-zero offset with junk after them. */
  packet(s: PacketSpec): DecodedPacket {
    return this.decode(frameBytes(s), s.t ?? 0);
  }

  /** Decodes the Ethernet frame `data` captured at `t` seconds after `T0`. */
  decode(data: Uint8Array, t: number): DecodedPacket {
    const bytes = new Uint8Array(data.length + 16).fill(0xee);
    bytes.set(data, 7);
    const sec = Math.floor(t);
    const frame: Frame = {
      n: ++this.n,
      bytes,
      view: new DataView(bytes.buffer),
      start: 7,
      caplen: data.length,
      len: data.length,
      tsSec: 1_700_000_000 + sec,
      tsFrac: Math.round((t - sec) * 1e6),
      tsDigits: 6,
      linkType: 1,
      iface: 0,
    };
    return this.decoder.decode(frame);
  }
}

/** Epoch second the test packets' `t` counts from. */
export const T0 = 1_700_000_000;

/** A DNS query for `name` (RFC 1035 section 4.1). */
export function dnsQuery(name: string, id = 0x1234): Uint8Array {
  const out = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const label of name.split(".")) out.push(label.length, ...enc.encode(label));
  out.push(0, 0, 1, 0, 1);
  return Uint8Array.from(out);
}

/** A minimal TLS 1.2 ClientHello record with a server_name extension (RFC 8446 section 4.1.2, RFC 6066). */
export function clientHello(sni: string): Uint8Array {
  const name = enc.encode(sni);
  const ext = [0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length, ...name];
  ext.push(0, 10, 0, 4, 0, 2, 0, 0x1d); // supported_groups: x25519
  const suites = [0xc0, 0x2f];
  const body = [3, 3, ...new Array(32).fill(1), 0, 0, suites.length, ...suites, 1, 0];
  body.push(ext.length >> 8, ext.length & 0xff, ...ext);
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  return Uint8Array.from([22, 3, 1, hs.length >> 8, hs.length & 0xff, ...hs]);
}
