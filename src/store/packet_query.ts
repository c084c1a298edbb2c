/**
 * Queries over the packet store (and over capture files): filter by protocol, address, port, time, TCP
 * flags, DNS name, payload text and BPF expression; page through the matches with a stable cursor; fetch
 * one packet with a hex dump.
 *
 * Every query decodes the packets held in order with a fresh `PacketDecoder`, from the oldest, so IP
 * fragments are reassembled as the pipeline reassembled them and `total` counts every match held. That is
 * linear in the ring's size (about a second for a full 256 MiB ring); the cheap tests (time, BPF) run
 * before decoding.
 *
 * @module
 */

import { compileFilter } from "../../ffi/filter.ts";
import { openCapture } from "../capture/open_capture.ts";
import type { Frame } from "../capture/source.ts";
import { APP_PROTOCOLS } from "../decode/app_protocols.ts";
import type { LayerSet } from "../decode/layers.ts";
import { type DecodedPacket, PacketDecoder } from "../decode/packet_decoder.ts";
import { type PacketRecord, packetRecord } from "../decode/packet_record.ts";
import { DEFAULT_HEXDUMP_MAX_BYTES, hexdump } from "./hexdump.ts";
import type { PacketRing } from "./packet_ring.ts";

/** Matches per page by default. */
export const DEFAULT_QUERY_LIMIT = 100;
/** Most matches per page: a page of full records must stay a reasonable tool result. */
export const MAX_QUERY_LIMIT = 10000;

/**
 * What packets to select. Every given field must match (AND). Addresses and ports are tested on every
 * layer set of the packet (the outer one and any tunnelled one), protocols likewise.
 */
export interface PacketFilter {
  /** Protocol name or names (any of them): `eth`, `vlan`, `arp`, `ip` (either version), `ipv4`, `ipv6`,
   * `tcp`, `udp`, `icmp`, `icmp6`, a tunnel (`gre`, `vxlan`, ...) or an application protocol (`dns`,
   * `http`, `tls`, `quic`, `ssh`, `dhcp`, `ntp`, `sip`, `bgp`, ...). */
  protocol?: string | string[];
  /** Either address is this IPv4/IPv6 address or inside this CIDR prefix (ARP sender/target count). */
  host?: string;
  /** Source address (or prefix). */
  src_host?: string;
  /** Destination address (or prefix). */
  dst_host?: string;
  /** Either TCP/UDP port. */
  port?: number;
  src_port?: number;
  dst_port?: number;
  /** Packets at or after this time: epoch seconds as a decimal string (`"1700000000.25"`) or number. */
  from_ts?: string | number;
  /** Packets at or before this time. */
  to_ts?: string | number;
  /**
   * TCP flags that must be set, by name (`"syn"`, `"syn,ack"`, `"rst"`; `!` before a name requires it
   * clear: `"syn,!ack"`) or as a mask number (all its bits set). Non-TCP packets do not match.
   */
  tcp_flags?: string | number;
  /** A DNS question or answer name equal to this name or under it (`example.com` matches `a.example.com`). */
  dns_name?: string;
  /** Text the transport payload contains, compared case-insensitively as ASCII bytes. */
  contains?: string;
  /** A libpcap filter expression (`tcpdump` syntax), compiled once per link type per query. */
  bpf?: string;
}

/** Paging of a query. */
export interface QueryOptions {
  /** A cursor from a previous result with the same filter: continue after its last packet. */
  cursor?: string;
  /** Most packets returned (default {@linkcode DEFAULT_QUERY_LIMIT}, at most {@linkcode MAX_QUERY_LIMIT}). */
  limit?: number;
}

/** A page of matches. */
export interface QueryResult {
  /** The matching packets' records, oldest first. */
  packets: PacketRecord[];
  /**
   * Where the next page starts. Always present: once every match has been returned it points past the
   * newest packet, so a caller can come back later for packets that arrived since.
   */
  cursor: string;
  /** Matching packets held now (before and after the cursor). */
  total: number;
  /** Matching packets after this page, held now. */
  remaining: number;
  /** Packets (matching or not) evicted between the cursor's position and the oldest packet held. */
  skipped_evicted?: number;
}

/** A compiled BPF program as the query needs it (`CompiledFilter` from `ffi/filter.ts`). */
export interface BpfProgram {
  matches(bytes: Uint8Array, start: number, caplen: number, len: number): boolean;
  close(): void;
}

/** Compiles a BPF expression for a link type; throws on a bad expression. */
export type BpfCompiler = (expression: string, linkType: number) => BpfProgram;

const STRUCTURAL = new Set([
  "eth",
  "vlan",
  "arp",
  "ip",
  "ipv4",
  "ip4",
  "ipv6",
  "ip6",
  "tcp",
  "udp",
  "icmp",
  "icmp6",
  "icmpv6",
  "wlan",
  "sll",
  "gre",
  "vxlan",
  "geneve",
  "ipip",
  "teredo",
  "gtp",
  "ayiya",
  "mpls_pw",
  "mpls_udp",
  "pim",
]);

const TCP_FLAG_BITS: Record<string, number> = {
  fin: 0x01,
  syn: 0x02,
  rst: 0x04,
  psh: 0x08,
  ack: 0x10,
  urg: 0x20,
  ece: 0x40,
  cwr: 0x80,
  ns: 0x100,
  ae: 0x100,
};

/** An address prefix: the address bytes and how many leading bits must agree. */
interface Prefix {
  bytes: Uint8Array;
  bits: number;
}

/**
 * A filter checked and prepared for matching: addresses parsed, times split, flags turned into masks.
 * `close()` frees the BPF programs. Throws `TypeError`/`RangeError` for a malformed filter and the
 * compiler's error (a `PcapError` naming libpcap's message) for a bad BPF expression.
 */
export class PacketMatcher {
  /** The filter as given. */
  readonly filter: PacketFilter;
  /** A hash of the canonical filter: cursors remember it, so one cannot be used with another filter. */
  readonly hash: string;
  #protocols: string[] | undefined;
  #host: Prefix | undefined;
  #src: Prefix | undefined;
  #dst: Prefix | undefined;
  #from: [number, number] | undefined;
  #to: [number, number] | undefined;
  #flagsSet = 0;
  #flagsClear = 0;
  #hasFlags = false;
  #dnsName: string | undefined;
  #contains: Uint8Array | undefined;
  #compile: BpfCompiler;
  #bpf = new Map<number, BpfProgram>();

  constructor(filter: PacketFilter, compile: BpfCompiler = compileFilter) {
    if (filter === null || typeof filter !== "object") throw new TypeError("filter must be an object");
    this.filter = filter;
    this.#compile = compile;
    const known = new Set([
      "protocol",
      "host",
      "src_host",
      "dst_host",
      "port",
      "src_port",
      "dst_port",
      "from_ts",
      "to_ts",
      "tcp_flags",
      "dns_name",
      "contains",
      "bpf",
    ]);
    for (const k of Object.keys(filter)) {
      if (!known.has(k)) {
        throw new TypeError(`Unknown filter field "${k}"; expected one of ${[...known].join(", ")}`);
      }
    }
    if (filter.protocol !== undefined) {
      const list = Array.isArray(filter.protocol) ? filter.protocol : [filter.protocol];
      const apps = new Set(APP_PROTOCOLS.map((p) => p.name));
      this.#protocols = list.map((p) => {
        const name = String(p).toLowerCase();
        if (!STRUCTURAL.has(name) && !apps.has(name)) {
          throw new TypeError(
            `Unknown protocol "${p}"; expected one of ${[...STRUCTURAL, ...apps].join(", ")}`,
          );
        }
        return name;
      });
    }
    if (filter.host !== undefined) this.#host = parsePrefix(filter.host, "host");
    if (filter.src_host !== undefined) this.#src = parsePrefix(filter.src_host, "src_host");
    if (filter.dst_host !== undefined) this.#dst = parsePrefix(filter.dst_host, "dst_host");
    for (const k of ["port", "src_port", "dst_port"] as const) {
      const v = filter[k];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 65535)) {
        throw new RangeError(`${k} must be an integer in [0, 65535], got ${v}`);
      }
    }
    if (filter.from_ts !== undefined) this.#from = parseTs(filter.from_ts, "from_ts");
    if (filter.to_ts !== undefined) this.#to = parseTs(filter.to_ts, "to_ts");
    if (filter.tcp_flags !== undefined) {
      this.#hasFlags = true;
      [this.#flagsSet, this.#flagsClear] = parseFlags(filter.tcp_flags);
    }
    if (filter.dns_name !== undefined) {
      if (typeof filter.dns_name !== "string") throw new TypeError("dns_name must be a string");
      this.#dnsName = filter.dns_name.toLowerCase().replace(/\.$/, "");
    }
    if (filter.contains !== undefined) {
      if (typeof filter.contains !== "string" || filter.contains.length === 0) {
        throw new TypeError("contains must be a non-empty string");
      }
      this.#contains = lowerAscii(new TextEncoder().encode(filter.contains));
    }
    if (filter.bpf !== undefined) {
      if (typeof filter.bpf !== "string") throw new TypeError("bpf must be a string");
      // Compile for Ethernet at once so that a bad expression fails even on an empty store.
      this.#program(1);
    }
    this.hash = fnv1a(canonical(filter));
  }

  /** The tests that need no decoding: time and BPF. */
  matchesFrame(f: Frame): boolean {
    if (this.#from !== undefined || this.#to !== undefined) {
      const ns = Math.round(f.tsFrac * 10 ** (9 - f.tsDigits));
      if (this.#from !== undefined && cmpTs(f.tsSec, ns, this.#from) < 0) return false;
      if (this.#to !== undefined && cmpTs(f.tsSec, ns, this.#to) > 0) return false;
    }
    if (this.filter.bpf !== undefined) {
      if (!this.#program(f.linkType).matches(f.bytes, f.start, f.caplen, f.len)) return false;
    }
    return true;
  }

  /** The tests on the decoded packet (call after `matchesFrame`). */
  matchesDecoded(p: DecodedPacket, f: Frame): boolean {
    const sets = layerSets(p.layers);
    if (
      this.#protocols !== undefined &&
      !this.#protocols.some((name) => sets.some((ls) => hasProtocol(ls, name)))
    ) {
      return false;
    }
    if (this.#host !== undefined && !sets.some((ls) => addrMatches(ls, this.#host!, true, true))) {
      return false;
    }
    if (this.#src !== undefined && !sets.some((ls) => addrMatches(ls, this.#src!, true, false))) return false;
    if (this.#dst !== undefined && !sets.some((ls) => addrMatches(ls, this.#dst!, false, true))) return false;
    const { port, src_port, dst_port } = this.filter;
    if (port !== undefined || src_port !== undefined || dst_port !== undefined) {
      const ok = sets.some((ls) => {
        const t = ls.tcp ?? ls.udp;
        if (t === undefined) return false;
        return (port === undefined || t.sport === port || t.dport === port) &&
          (src_port === undefined || t.sport === src_port) &&
          (dst_port === undefined || t.dport === dst_port);
      });
      if (!ok) return false;
    }
    if (this.#hasFlags) {
      const ok = sets.some((ls) =>
        ls.tcp !== undefined && (ls.tcp.flags & this.#flagsSet) === this.#flagsSet &&
        (ls.tcp.flags & this.#flagsClear) === 0
      );
      if (!ok) return false;
    }
    if (this.#dnsName !== undefined && !sets.some((ls) => dnsNameMatches(ls, this.#dnsName!))) return false;
    if (this.#contains !== undefined && !this.#payloadContains(p.layers, f)) return false;
    return true;
  }

  /** Frees the compiled BPF programs. */
  close(): void {
    for (const p of this.#bpf.values()) p.close();
    this.#bpf.clear();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #program(linkType: number): BpfProgram {
    let prog = this.#bpf.get(linkType);
    if (prog === undefined) {
      prog = this.#compile(this.filter.bpf!, linkType);
      this.#bpf.set(linkType, prog);
    }
    return prog;
  }

  /** Searches the innermost TCP/UDP payload, an ICMP message's data, or else the whole frame. */
  #payloadContains(outer: LayerSet, f: Frame): boolean {
    let ls = outer;
    while (ls.inner !== undefined) ls = ls.inner;
    const needle = this.#contains!;
    // A reassembled datagram's transport layers refer to a buffer of their own: search the frame instead.
    const reassembled = ls.ip?.reassembledLen !== undefined;
    const t = ls.tcp ?? ls.udp;
    if (t !== undefined && !reassembled) {
      return indexOfCaseless(f.bytes, t.payloadOff, t.payloadOff + t.payloadCaplen, needle) >= 0;
    }
    const icmp = ls.icmp ?? ls.icmp6;
    if (icmp !== undefined && !reassembled) {
      const end = Math.min(icmp.dataOff + icmp.dataLen, f.start + f.caplen);
      return indexOfCaseless(f.bytes, icmp.dataOff, end, needle) >= 0;
    }
    return indexOfCaseless(f.bytes, f.start, f.start + f.caplen, needle) >= 0;
  }
}

/**
 * Runs `filter` over the packets held in `ring`, oldest first, and returns one page of matches. The
 * cursor of the result continues the query; it stays valid while the ring moves (packets evicted before
 * it are counted in `skipped_evicted`) and is refused with a `TypeError` for another filter or ring.
 *
 * @example
 * ```ts
 * let page = queryPackets(ring, { protocol: "dns", dns_name: "example.com" }, { limit: 50 });
 * page = queryPackets(ring, { protocol: "dns", dns_name: "example.com" }, { cursor: page.cursor });
 * ```
 */
export function queryPackets(
  ring: PacketRing,
  filter: PacketFilter,
  options: QueryOptions = {},
  compile?: BpfCompiler,
): QueryResult {
  const limit = checkLimit(options.limit);
  using matcher = new PacketMatcher(filter, compile);
  let startSeq = ring.firstSeq;
  let skipped = 0;
  if (options.cursor !== undefined) {
    const c = decodeCursor(options.cursor, "ring", ring.id, matcher.hash);
    if (c > ring.nextSeq) throw new TypeError("Invalid cursor: it is ahead of the packet store");
    if (c < ring.firstSeq) skipped = ring.firstSeq - c;
    startSeq = Math.max(c, ring.firstSeq);
  }
  const decoder = new PacketDecoder();
  const packets: PacketRecord[] = [];
  let total = 0, remaining = 0, nextSeq = startSeq;
  for (const [seq, frame] of ring.frames()) {
    if (!matcher.matchesFrame(frame)) continue;
    const p = decoder.decode(frame);
    if (!matcher.matchesDecoded(p, frame)) continue;
    total++;
    if (seq < startSeq) continue;
    if (packets.length < limit) {
      packets.push(packetRecord(p));
      nextSeq = seq + 1;
    } else {
      remaining++;
    }
  }
  if (remaining === 0) nextSeq = ring.nextSeq;
  const result: QueryResult = {
    packets,
    cursor: encodeCursor("ring", ring.id, nextSeq, matcher.hash),
    total,
    remaining,
  };
  if (skipped > 0) result.skipped_evicted = skipped;
  return result;
}

/**
 * The sequence numbers of every packet held that matches `filter` (for exports). Throws as
 * {@linkcode queryPackets} does for a bad filter.
 */
export function matchingSeqs(ring: PacketRing, filter: PacketFilter, compile?: BpfCompiler): number[] {
  using matcher = new PacketMatcher(filter, compile);
  const decoder = new PacketDecoder();
  const seqs: number[] = [];
  for (const [seq, frame] of ring.frames()) {
    if (matcher.matchesFrame(frame) && matcher.matchesDecoded(decoder.decode(frame), frame)) seqs.push(seq);
  }
  return seqs;
}

/**
 * Runs `filter` over a capture file (any format `openCapture` reads). The cursor continues at the frame
 * after the last one returned; `total` counts every match in the file.
 */
export async function queryCapture(
  path: string,
  filter: PacketFilter,
  options: QueryOptions = {},
  compile?: BpfCompiler,
): Promise<QueryResult> {
  const limit = checkLimit(options.limit);
  using matcher = new PacketMatcher(filter, compile);
  // The cursor names the file by a hash of its path, so that one file's cursor is refused for another.
  const fileId = parseInt(fnv1a(path), 16) & 0x7fffffff;
  const startN = options.cursor === undefined
    ? 1
    : decodeCursor(options.cursor, "file", fileId, matcher.hash);
  const source = await openCapture(path);
  const decoder = new PacketDecoder();
  const packets: PacketRecord[] = [];
  let total = 0, remaining = 0, nextN = startN, lastN = 0;
  await source.run((frame) => {
    lastN = frame.n;
    if (!matcher.matchesFrame(frame)) return;
    const p = decoder.decode(frame);
    if (!matcher.matchesDecoded(p, frame)) return;
    total++;
    if (frame.n < startN) return;
    if (packets.length < limit) {
      packets.push(packetRecord(p));
      nextN = frame.n + 1;
    } else {
      remaining++;
    }
  });
  if (remaining === 0) nextN = Math.max(lastN + 1, startN);
  return { packets, cursor: encodeCursor("file", fileId, nextN, matcher.hash), total, remaining };
}

/** One packet in full: its record and a bounded hex/ASCII dump of its captured bytes. */
export interface PacketDetail {
  packet: PacketRecord;
  /** The dump, 16 bytes a line (see `hexdump.ts`). */
  hex: string;
  /** Captured bytes shown in `hex`. */
  hex_shown: number;
  /** Captured bytes left out of `hex`, present when some were. */
  hex_omitted?: number;
}

/**
 * The packet with frame number `n` (the `n` of its record), or undefined when the ring does not hold
 * it. It is decoded alone, so a fragment is shown as a fragment (not reassembled).
 */
export function getPacket(
  ring: PacketRing,
  n: number,
  options: { maxDumpBytes?: number } = {},
): PacketDetail | undefined {
  const seq = ring.seqOfN(n);
  if (seq === undefined) return undefined;
  const frame = ring.frameAt(seq)!;
  const record = packetRecord(new PacketDecoder().decode(frame));
  const dump = hexdump(frame.bytes, frame.start, frame.start + frame.caplen, {
    maxBytes: options.maxDumpBytes ?? DEFAULT_HEXDUMP_MAX_BYTES,
  });
  const detail: PacketDetail = { packet: record, hex: dump.text, hex_shown: dump.shown };
  if (dump.omitted !== undefined) detail.hex_omitted = dump.omitted;
  return detail;
}

// ---------------------------------------------------------------------------------------------------------
// Cursors

function encodeCursor(kind: "ring" | "file", id: number, seq: number, hash: string): string {
  return btoa(`nw1:${kind}:${id}:${seq}:${hash}`).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

function decodeCursor(cursor: string, kind: "ring" | "file", id: number, hash: string): number {
  let text: string;
  try {
    const b64 = cursor.replace(/-/g, "+").replace(/_/g, "/");
    text = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  } catch {
    throw new TypeError("Invalid cursor: not one this server returned");
  }
  const m = /^nw1:(ring|file):(\d+):(\d+):([0-9a-f]{8})$/.exec(text);
  if (m === null) throw new TypeError("Invalid cursor: not one this server returned");
  if (m[1] !== kind) {
    throw new TypeError(`Invalid cursor: it belongs to a ${m[1]} query, not a ${kind} query`);
  }
  if (Number(m[2]) !== id) {
    throw new TypeError(
      kind === "ring"
        ? "Invalid cursor: it belongs to another packet store (was the server restarted?)"
        : "Invalid cursor: it belongs to a query of another file",
    );
  }
  if (m[4] !== hash) throw new TypeError("Invalid cursor: it belongs to a query with a different filter");
  return Number(m[3]);
}

function checkLimit(limit: number | undefined): number {
  const v = limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isInteger(v) || v < 0 || v > MAX_QUERY_LIMIT) {
    throw new RangeError(`limit must be an integer in [0, ${MAX_QUERY_LIMIT}], got ${limit}`);
  }
  return v;
}

/** JSON with sorted keys, so the same filter always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) =>
        `${JSON.stringify(k)}:${canonical(o[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(v);
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

// ---------------------------------------------------------------------------------------------------------
// Matching helpers

/** The packet's layer sets, outermost first (tunnels nest under `inner`). */
function layerSets(ls: LayerSet): LayerSet[] {
  const out = [ls];
  let cur = ls;
  while (cur.inner !== undefined && out.length < 16) {
    cur = cur.inner;
    out.push(cur);
  }
  return out;
}

function hasProtocol(ls: LayerSet, name: string): boolean {
  switch (name) {
    case "eth":
      return ls.eth !== undefined;
    case "vlan":
      return ls.vlan !== undefined && ls.vlan.length > 0;
    case "arp":
      return ls.arp !== undefined;
    case "ip":
      return ls.ip !== undefined;
    case "ipv4":
    case "ip4":
      return ls.ip?.v === 4;
    case "ipv6":
    case "ip6":
      return ls.ip?.v === 6;
    case "tcp":
      return ls.tcp !== undefined;
    case "udp":
      return ls.udp !== undefined;
    case "icmp":
      return ls.icmp !== undefined;
    case "icmp6":
    case "icmpv6":
      return ls.icmp6 !== undefined;
    case "wlan":
      return ls.wlan !== undefined;
    case "sll":
      return ls.sll !== undefined;
  }
  if (ls.tunnel?.type === name) return true;
  if (ls.app === name) return true;
  // A QUIC Initial carries a TLS ClientHello, which the record shows as the packet's TLS layer.
  return name === "tls" && ls.app === "quic" && ls.appRecord !== undefined && "tls" in ls.appRecord;
}

function addrMatches(ls: LayerSet, prefix: Prefix, src: boolean, dst: boolean): boolean {
  const ip = ls.ip;
  if (ip !== undefined) {
    const size = ip.v === 4 ? 4 : 16;
    if (size !== prefix.bytes.length) return false;
    return (src && prefixMatches(ip.bytes, ip.addrOff, prefix)) ||
      (dst && prefixMatches(ip.bytes, ip.addrOff + size, prefix));
  }
  const arp = ls.arp;
  if (arp !== undefined && arp.plen === 4 && prefix.bytes.length === 4) {
    return (src && prefixMatches(arp.bytes, arp.off + 8 + arp.hlen, prefix)) ||
      (dst && prefixMatches(arp.bytes, arp.off + 8 + 2 * arp.hlen + 4, prefix));
  }
  return false;
}

function prefixMatches(b: Uint8Array, off: number, p: Prefix): boolean {
  let bits = p.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[off + i] & mask) !== (p.bytes[i] & mask)) return false;
  }
  return true;
}

function dnsNameMatches(ls: LayerSet, suffix: string): boolean {
  const rec = ls.appRecord as { qd?: { name?: unknown }[]; an?: { name?: unknown }[] } | undefined;
  if (rec === undefined || !Array.isArray(rec.qd)) return false;
  const test = (name: unknown) => {
    if (typeof name !== "string") return false;
    const n = name.toLowerCase().replace(/\.$/, "");
    return suffix === "" || n === suffix || n.endsWith("." + suffix);
  };
  return rec.qd.some((q) => test(q.name)) || (Array.isArray(rec.an) && rec.an.some((a) => test(a.name)));
}

function lowerAscii(b: Uint8Array): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < out.length; i++) if (out[i] >= 0x41 && out[i] <= 0x5a) out[i] |= 0x20;
  return out;
}

/** Index of `needle` (already lower-case) in `hay[start, end)` ignoring ASCII case, or -1. */
export function indexOfCaseless(hay: Uint8Array, start: number, end: number, needle: Uint8Array): number {
  const n = needle.length, first = needle[0];
  for (let i = start; i + n <= end; i++) {
    let c = hay[i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== first) continue;
    let j = 1;
    for (; j < n; j++) {
      let d = hay[i + j];
      if (d >= 0x41 && d <= 0x5a) d |= 0x20;
      if (d !== needle[j]) break;
    }
    if (j === n) return i;
  }
  return -1;
}

function cmpTs(sec: number, ns: number, t: [number, number]): number {
  return sec !== t[0] ? sec - t[0] : ns - t[1];
}

/** Splits an epoch time given as a decimal string or a number into whole seconds and nanoseconds. */
function parseTs(v: string | number, name: string): [number, number] {
  // A number is read as its shortest decimal form (what was typed), not its binary value's expansion.
  const text = typeof v === "number" ? (/e/i.test(String(v)) ? v.toFixed(9) : String(v)) : String(v).trim();
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text);
  if (m === null) throw new TypeError(`${name} must be epoch seconds such as "1700000000.123456", got ${v}`);
  const frac = (m[2] ?? "").slice(0, 9).padEnd(9, "0");
  return [Number(m[1]), Number(frac)];
}

function parseFlags(v: string | number): [number, number] {
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 0xfff) {
      throw new RangeError(`tcp_flags mask must be in [0, 4095], got ${v}`);
    }
    return [v, 0];
  }
  if (typeof v !== "string") throw new TypeError("tcp_flags must be a string or a number");
  if (/^(0x[0-9a-f]+|\d+)$/i.test(v.trim())) return parseFlags(Number(v.trim()));
  let set = 0, clear = 0;
  for (const raw of v.toLowerCase().split(/[\s,|+]+/)) {
    if (raw === "") continue;
    const neg = raw.startsWith("!") || raw.startsWith("-");
    const name = neg ? raw.slice(1) : raw;
    const bit = TCP_FLAG_BITS[name];
    if (bit === undefined) {
      throw new TypeError(`Unknown TCP flag "${name}"; expected ${Object.keys(TCP_FLAG_BITS).join(", ")}`);
    }
    if (neg) clear |= bit;
    else set |= bit;
  }
  return [set, clear];
}

function parsePrefix(text: string, name: string): Prefix {
  if (typeof text !== "string") throw new TypeError(`${name} must be a string`);
  const [addr, len, extra] = text.trim().split("/");
  const bytes = addr.includes(":") ? parseIpv6(addr) : parseIpv4(addr);
  const max = bytes === undefined ? 0 : bytes.length * 8;
  const bits = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : -1;
  if (bytes === undefined || extra !== undefined || bits < 0 || bits > max) {
    throw new TypeError(`${name} must be an IPv4 or IPv6 address or CIDR prefix, got "${text}"`);
  }
  return { bytes, bits };
}

/** Parses dotted-quad IPv4 text, or undefined. */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]) || Number(parts[i]) > 255) return undefined;
    out[i] = Number(parts[i]);
  }
  return out;
}

/** Parses IPv6 text (RFC 4291 2.2: `::` compression and a trailing dotted quad), or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (v4 === undefined) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-f]{1,4}$/i.test(p)) {
        out.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i] >> 8;
    out[2 * i + 1] = all[i] & 0xff;
  }
  return out;
}
