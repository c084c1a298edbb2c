/**
 * Follows one TCP or UDP conversation in the packet store, as Wireshark's "Follow Stream" does: the
 * payload of both directions in capture order, TCP reassembled by sequence number per direction.
 *
 * TCP reassembly, per direction: the first sequence number seen (the SYN's plus one, when the SYN was
 * captured) is where the stream starts; bytes before the next expected sequence number are
 * retransmissions and are dropped (counted); a segment beyond it waits until the missing bytes arrive,
 * and is released with a `{gap: N}` entry when the other side acknowledges past the hole (the receiver
 * got bytes the capture missed), when too much waits, or at the end. A segment the snaplen cut is
 * delivered as its captured bytes plus a gap for the rest.
 *
 * The conversation is matched on addresses, ports and protocol in either direction (innermost IP layer
 * when tunnelled, VLAN tags ignored); `orig` is the side that sent the first packet seen. Packets are
 * decoded in order from the oldest held, so an IP-fragmented datagram is reassembled when all its
 * fragments are still held.
 *
 * @module
 */

import type { Frame } from "../capture/source.ts";
import { TCP_SYN } from "../decode/layers.ts";
import { type DecodedPacket, PacketDecoder } from "../decode/packet_decoder.ts";
import { FlowKey, PROTO_TCP, PROTO_UDP } from "../flow/flow_key.ts";
import type { PacketRing } from "./packet_ring.ts";
import { parseIpv4, parseIpv6 } from "./packet_query.ts";

/** Payload bytes shown by default (both directions together). */
export const DEFAULT_FOLLOW_MAX_BYTES = 64 * 1024;
/** Bytes of out-of-order TCP segments held per direction before the hole is given up as a gap. */
export const MAX_PENDING_BYTES = 1024 * 1024;

/** Which conversation: one of its packets by frame number, or its 5-tuple (either direction). */
export type FlowSelector =
  | { packet: number }
  | { proto: "tcp" | "udp"; src: string; sport: number; dst: string; dport: number };

/** Options of {@linkcode followStream}. */
export interface FollowOptions {
  /** Payload bytes shown, both directions together (default 64 KiB); the rest is counted as omitted. */
  maxBytes?: number;
  /** `text` (default): printable ASCII, `\n`, `\r`, `\t` as they are, other bytes as `\xNN`, `\` as `\\`;
   * `base64`: the bytes as base64. */
  encoding?: "text" | "base64";
}

/** Payload of one direction, merged over consecutive packets, or a hole the capture did not see. */
export type FollowChunk =
  | { dir: "orig" | "resp"; n_first: number; len: number; text?: string; bytes_base64?: string }
  | { dir: "orig" | "resp"; n_first: number; gap: number };

/** A followed conversation. */
export interface FollowResult {
  proto: "tcp" | "udp";
  /** `address:port` of the side that sent the first packet seen (`[v6]:port` for IPv6). */
  orig: string;
  resp: string;
  /** Packets of the conversation held. */
  packets: number;
  /** Payload bytes delivered per direction (after reassembly, before the `maxBytes` cut). */
  bytes: { orig: number; resp: number };
  chunks: FollowChunk[];
  /** Payload bytes in `chunks`. */
  shown_bytes: number;
  /** Payload bytes left out past `maxBytes`, present when some were. */
  omitted_bytes?: number;
  /** Bytes missing from the capture (sum of the gaps), present when any were. */
  gap_bytes?: number;
  /** TCP bytes seen again (retransmissions, overlaps) and dropped, present when any were. */
  retransmitted_bytes?: number;
}

interface Segment {
  seq: number;
  /** The captured bytes (fewer than `wire` when the snaplen cut the segment). */
  data: Uint8Array;
  wire: number;
  n: number;
}

interface Direction {
  name: "orig" | "resp";
  started: boolean;
  /** Next expected sequence number (uint32). */
  next: number;
  pending: Segment[];
  pendingBytes: number;
  delivered: number;
}

/** 1: same direction as `t`, 2: reverse, 0: another conversation. Ignores VLAN and ICMP identifier. */
function direction(k: FlowKey, t: FlowKey): 0 | 1 | 2 {
  if (k.proto !== t.proto || k.v !== t.v) return 0;
  if (
    k.sport === t.sport && k.dport === t.dport && k.s0 === t.s0 && k.s1 === t.s1 && k.s2 === t.s2 &&
    k.s3 === t.s3 && k.d0 === t.d0 && k.d1 === t.d1 && k.d2 === t.d2 && k.d3 === t.d3
  ) return 1;
  if (
    k.sport === t.dport && k.dport === t.sport && k.s0 === t.d0 && k.s1 === t.d1 && k.s2 === t.d2 &&
    k.s3 === t.d3 && k.d0 === t.s0 && k.d1 === t.s1 && k.d2 === t.s2 && k.d3 === t.s3
  ) return 2;
  return 0;
}

function keyWords(bytes: Uint8Array): number[] {
  const w = [0, 0, 0, 0];
  for (let i = 0; i < bytes.length / 4; i++) {
    w[i] = (bytes[4 * i] << 24) | (bytes[4 * i + 1] << 16) | (bytes[4 * i + 2] << 8) | bytes[4 * i + 3];
  }
  return w;
}

function parseAddr(text: string, name: string): Uint8Array {
  const b = typeof text !== "string" ? undefined : text.includes(":") ? parseIpv6(text) : parseIpv4(text);
  if (b === undefined) throw new TypeError(`${name} must be an IPv4 or IPv6 address, got "${text}"`);
  return b;
}

/** A key for the 5-tuple of `sel`. */
function keyOfTuple(sel: Extract<FlowSelector, { proto: string }>): FlowKey {
  if (sel.proto !== "tcp" && sel.proto !== "udp") {
    throw new TypeError(`proto must be "tcp" or "udp", got "${sel.proto}"`);
  }
  for (const k of ["sport", "dport"] as const) {
    const v = sel[k];
    if (!(Number.isInteger(v) && v >= 0 && v <= 65535)) {
      throw new RangeError(`${k} must be in [0, 65535], got ${v}`);
    }
  }
  const s = parseAddr(sel.src, "src"), d = parseAddr(sel.dst, "dst");
  if (s.length !== d.length) throw new TypeError("src and dst must be of the same IP version");
  const k = new FlowKey();
  k.v = s.length === 4 ? 4 : 6;
  k.proto = sel.proto === "tcp" ? PROTO_TCP : PROTO_UDP;
  [k.s0, k.s1, k.s2, k.s3] = keyWords(s);
  [k.d0, k.d1, k.d2, k.d3] = keyWords(d);
  k.sport = sel.sport;
  k.dport = sel.dport;
  k.hash = k.computeHash();
  return k;
}

/**
 * The key of the conversation `sel` names in `ring`. Throws `RangeError` when packet `n` is not held and
 * `TypeError` when it has no TCP/UDP (or other keyable) header.
 */
export function resolveFlow(ring: PacketRing, sel: FlowSelector): FlowKey {
  if (sel === null || typeof sel !== "object") throw new TypeError("flow selector must be an object");
  if ("packet" in sel) {
    const seq = ring.seqOfN(sel.packet);
    if (seq === undefined) {
      throw new RangeError(`Packet ${sel.packet} is not in the packet store (evicted or never seen)`);
    }
    const p = new PacketDecoder().decode(ring.frameAt(seq)!);
    const k = new FlowKey();
    if (!k.fromLayers(p.layers)) {
      throw new TypeError(
        `Packet ${sel.packet} belongs to no flow (no IP layer, or a fragment without ports)`,
      );
    }
    return k.clone();
  }
  return keyOfTuple(sel);
}

/** A `PacketDecoder` that also hands out the last reassembled IP payload (transport layers point into it). */
function decoderWithReassembled(): { decoder: PacketDecoder; take(): Uint8Array | undefined } {
  const decoder = new PacketDecoder();
  const r = decoder.reassembler;
  const add = r.add.bind(r);
  let last: Uint8Array | undefined;
  r.add = (...args: Parameters<typeof add>) => {
    const whole = add(...args);
    if (whole !== undefined) last = whole;
    return whole;
  };
  return {
    decoder,
    take() {
      const w = last;
      last = undefined;
      return w;
    },
  };
}

/**
 * Calls `visit` for every packet held that belongs to the conversation `key`, oldest first, with the
 * decoded packet, the key (filled from it: innermost layers in `key.layers`), whether it goes the same
 * way as `key`, and the buffer its transport layers refer to.
 */
function scanFlow(
  ring: PacketRing,
  target: FlowKey,
  visit: (seq: number, frame: Frame, p: DecodedPacket, k: FlowKey, same: boolean, buf: Uint8Array) => void,
): void {
  const { decoder, take } = decoderWithReassembled();
  const k = new FlowKey();
  for (const [seq, frame] of ring.frames()) {
    const p = decoder.decode(frame);
    const whole = take();
    if (!k.fromLayers(p.layers)) continue;
    const dir = direction(k, target);
    if (dir === 0) continue;
    const buf = k.layers?.ip?.reassembledLen !== undefined && whole !== undefined ? whole : frame.bytes;
    visit(seq, frame, p, k, dir === 1, buf);
  }
}

/** The sequence numbers of every packet held of the conversation `sel` (for exports). */
export function flowSeqs(ring: PacketRing, sel: FlowSelector): number[] {
  const key = resolveFlow(ring, sel);
  const seqs: number[] = [];
  scanFlow(ring, key, (seq) => seqs.push(seq));
  return seqs;
}

/**
 * Follows the TCP or UDP conversation `sel` through the packets held in `ring`.
 *
 * @example
 * ```ts
 * const r = followStream(ring, { packet: 4 });
 * for (const c of r.chunks) console.log(c.dir, "gap" in c ? `[${c.gap} bytes missing]` : c.text);
 * ```
 */
export function followStream(ring: PacketRing, sel: FlowSelector, options: FollowOptions = {}): FollowResult {
  const maxBytes = options.maxBytes ?? DEFAULT_FOLLOW_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
  const encoding = options.encoding ?? "text";
  if (encoding !== "text" && encoding !== "base64") {
    throw new TypeError(`encoding must be "text" or "base64", got "${encoding}"`);
  }
  const key = resolveFlow(ring, sel);
  if (key.proto !== PROTO_TCP && key.proto !== PROTO_UDP) {
    throw new TypeError(`Only TCP and UDP streams can be followed; the flow is ${key.protoName}`);
  }
  const out = new ChunkBuilder(maxBytes);
  let origKey: FlowKey | undefined;
  let packets = 0;
  const dirs: Record<"orig" | "resp", Direction> = {
    orig: { name: "orig", started: false, next: 0, pending: [], pendingBytes: 0, delivered: 0 },
    resp: { name: "resp", started: false, next: 0, pending: [], pendingBytes: 0, delivered: 0 },
  };
  scanFlow(ring, key, (_seq, frame, _p, k, _same, buf) => {
    packets++;
    if (origKey === undefined) origKey = k.clone();
    const d = direction(k, origKey) === 1 ? dirs.orig : dirs.resp;
    const ls = k.layers!;
    if (key.proto === PROTO_UDP) {
      const udp = ls.udp!;
      if (udp.payloadCaplen > 0) {
        d.delivered += udp.payloadCaplen;
        out.data(d.name, frame.n, buf.subarray(udp.payloadOff, udp.payloadOff + udp.payloadCaplen), false);
      }
      return;
    }
    const tcp = ls.tcp!;
    const other = d === dirs.orig ? dirs.resp : dirs.orig;
    let seq = tcp.seq;
    if (tcp.flags & TCP_SYN) {
      seq = (seq + 1) >>> 0;
      if (!d.started) {
        d.started = true;
        d.next = seq;
      }
    }
    if (tcp.flags & 0x10) ackPast(other, tcp.ack, out);
    if (tcp.len === 0) return;
    if (!d.started) {
      d.started = true;
      d.next = seq;
    }
    const caplen = Math.min(tcp.payloadCaplen, tcp.len);
    segment(d, seq, buf.subarray(tcp.payloadOff, tcp.payloadOff + caplen), tcp.len, frame.n, out);
  });
  for (const d of [dirs.orig, dirs.resp]) flushPending(d, out, true);
  if (origKey === undefined) {
    // Nothing held: describe the flow as asked.
    origKey = key;
  }
  const ep = (addr: string, port: number) => origKey!.v === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
  const result: FollowResult = {
    proto: key.proto === PROTO_TCP ? "tcp" : "udp",
    orig: ep(origKey.src, origKey.sport),
    resp: ep(origKey.dst, origKey.dport),
    packets,
    bytes: { orig: dirs.orig.delivered, resp: dirs.resp.delivered },
    chunks: out.finish(encoding),
    shown_bytes: out.shown,
  };
  if (out.omitted > 0) result.omitted_bytes = out.omitted;
  if (out.gapBytes > 0) result.gap_bytes = out.gapBytes;
  if (out.retransmitted > 0) result.retransmitted_bytes = out.retransmitted;
  return result;
}

/** Handles a data segment of `wireLen` bytes at `seq`, of which `data` were captured. */
function segment(
  d: Direction,
  seq: number,
  data: Uint8Array,
  wireLen: number,
  n: number,
  out: ChunkBuilder,
): void {
  const diff = (seq - d.next) | 0;
  if (diff > 0) {
    // Ahead of what is expected: wait for the hole to fill. Copied, since the frame's buffer may be reused.
    d.pending.push({ seq, data: data.slice(), wire: wireLen, n });
    d.pendingBytes += data.length;
    if (d.pendingBytes > MAX_PENDING_BYTES) flushPending(d, out, true);
    return;
  }
  deliver(d, seq, data, wireLen, n, out);
  flushPending(d, out, false);
}

/** Delivers what of the segment at `seq` (not ahead of `next`) is new. */
function deliver(
  d: Direction,
  seq: number,
  data: Uint8Array,
  wireLen: number,
  n: number,
  out: ChunkBuilder,
): void {
  const diff = (seq - d.next) | 0; // <= 0
  const end = diff + wireLen;
  if (end <= 0) {
    out.retransmitted += wireLen;
    return;
  }
  const skip = -diff;
  out.retransmitted += skip;
  if (skip < data.length) {
    const fresh = data.subarray(skip);
    d.delivered += fresh.length;
    out.data(d.name, n, fresh, true);
  }
  const missing = wireLen - Math.max(skip, data.length);
  if (missing > 0) out.gap(d.name, n, missing);
  d.next = (seq + wireLen) >>> 0;
}

/** Releases waiting segments that now fit; with `force`, gives up each hole before the next one as a gap. */
function flushPending(d: Direction, out: ChunkBuilder, force: boolean): void {
  while (d.pending.length > 0) {
    let best = -1, bestDiff = Infinity;
    for (let i = 0; i < d.pending.length; i++) {
      const diff = (d.pending[i].seq - d.next) | 0;
      if (diff < bestDiff) {
        bestDiff = diff;
        best = i;
      }
    }
    const s = d.pending[best];
    if (bestDiff > 0) {
      if (!force) return;
      out.gap(d.name, s.n, bestDiff);
      d.next = s.seq;
    }
    d.pending.splice(best, 1);
    d.pendingBytes -= s.data.length;
    deliver(d, s.seq, s.data, s.wire, s.n, out);
  }
}

/** The other side acknowledged `ack`: a hole of `d` before it was received, so the capture missed it. */
function ackPast(d: Direction, ack: number, out: ChunkBuilder): void {
  while (d.started && d.pending.length > 0) {
    let first = d.pending[0];
    for (const s of d.pending) if (((s.seq - d.next) | 0) < ((first.seq - d.next) | 0)) first = s;
    const hole = (first.seq - d.next) | 0;
    if (hole > 0) {
      if (((ack - first.seq) | 0) < 0) return;
      out.gap(d.name, first.n, hole);
      d.next = first.seq;
    }
    flushPending(d, out, false);
  }
}

/** Collects chunks up to the byte budget, merging consecutive TCP data of one direction. */
class ChunkBuilder {
  shown = 0;
  omitted = 0;
  gapBytes = 0;
  retransmitted = 0;
  #chunks: {
    dir: "orig" | "resp";
    n: number;
    parts?: Uint8Array[];
    len: number;
    gap?: number;
    merge: boolean;
  }[] = [];

  constructor(readonly maxBytes: number) {}

  data(dir: "orig" | "resp", n: number, bytes: Uint8Array, merge: boolean): void {
    const room = this.maxBytes - this.shown;
    const take = Math.min(room, bytes.length);
    this.omitted += bytes.length - take;
    if (take <= 0) return;
    const part = bytes.slice(0, take);
    this.shown += take;
    const last = this.#chunks[this.#chunks.length - 1];
    if (merge && last !== undefined && last.merge && last.dir === dir && last.parts !== undefined) {
      last.parts.push(part);
      last.len += take;
      return;
    }
    this.#chunks.push({ dir, n, parts: [part], len: take, merge });
  }

  gap(dir: "orig" | "resp", n: number, size: number): void {
    this.gapBytes += size;
    if (this.shown >= this.maxBytes) return;
    this.#chunks.push({ dir, n, len: 0, gap: size, merge: false });
  }

  finish(encoding: "text" | "base64"): FollowChunk[] {
    return this.#chunks.map((c): FollowChunk => {
      if (c.gap !== undefined) return { dir: c.dir, n_first: c.n, gap: c.gap };
      const bytes = new Uint8Array(c.len);
      let o = 0;
      for (const p of c.parts!) {
        bytes.set(p, o);
        o += p.length;
      }
      return encoding === "text"
        ? { dir: c.dir, n_first: c.n, len: c.len, text: escapeText(bytes) }
        : { dir: c.dir, n_first: c.n, len: c.len, bytes_base64: base64(bytes) };
    });
  }
}

/** Printable ASCII, `\n`, `\r` and `\t` as they are; `\` as `\\`; any other byte as `\xNN`. */
export function escapeText(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x5c) s += "\\\\";
    else if ((b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d || b === 0x09) s += String.fromCharCode(b);
    else s += "\\x" + b.toString(16).padStart(2, "0");
  }
  return s;
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}
