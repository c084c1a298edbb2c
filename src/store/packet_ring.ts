/**
 * The bounded store of recent packets: their raw bytes and capture facts, kept so that queries, stream
 * following and exports can look back at traffic after the pipeline has moved on.
 *
 * Choices a caller relies on:
 * - **Raw bytes, not decoded objects.** A packet is decoded again when a query needs it (`frameAt` gives
 *   a `Frame` over the stored bytes, ready for a `PacketDecoder`). Decoded layers are many small objects;
 *   the bytes are one copy. The price: state that spans packets is rebuilt per query, so IP fragment
 *   reassembly sees only the fragments the query's decoder is shown (a query that decodes the whole ring
 *   in order reassembles as the pipeline did; decoding one packet alone does not).
 * - **Slabs.** Bytes are copied into large slabs (4 MiB by default) rather than one allocation per packet,
 *   and the per-packet facts live in typed-array columns, so storing a packet allocates nothing in the
 *   steady state. A slab is released when its last packet is evicted.
 * - **Bounded by bytes.** Each packet is charged its captured length plus {@linkcode PACKET_OVERHEAD_BYTES}
 *   of bookkeeping, and a slab's unused tail is charged once the slab is sealed; the oldest packets are
 *   evicted while the charge exceeds `maxBytes`, and the packets and bytes evicted are counted. Memory
 *   held is at most `maxBytes` plus two slabs (the one being filled and one kept for reuse).
 * - **Sequence numbers.** Every stored packet gets a sequence number, 1, 2, 3... per ring, never reused,
 *   independent of the frame's own `n` (a new source starts its `n` again at 1). Cursors are built on them:
 *   a sequence number still names the same packet however far the ring has moved, or nothing once it has
 *   been evicted.
 *
 * @module
 */

import { type Frame, newFrame } from "../capture/source.ts";

/** Default bound of a ring: 256 MiB. */
export const DEFAULT_RING_MAX_BYTES = 256 * 1024 * 1024;
/** Default slab size: large enough that slabs are few, small enough that a released slab is a small step. */
export const DEFAULT_SLAB_BYTES = 4 * 1024 * 1024;
/** Bytes each packet is charged besides its captured bytes: its columns, so tiny packets are bounded too. */
export const PACKET_OVERHEAD_BYTES = 48;

/** Options of {@linkcode PacketRing}. */
export interface PacketRingOptions {
  /** Bound of the bytes charged (captured bytes plus per-packet overhead); default 256 MiB. */
  maxBytes?: number;
  /** Slab size in bytes (default 4 MiB, but never more than `maxBytes`); a larger packet gets its own slab. */
  slabBytes?: number;
}

/** The counters of a ring, JSON-ready. */
export interface PacketRingStats {
  /** Packets held. */
  packets: number;
  /** Captured bytes held. */
  bytes: number;
  /** Bytes charged against `max_bytes` (captured bytes plus per-packet overhead). */
  charged_bytes: number;
  max_bytes: number;
  /** Packets evicted to stay under the bound, since the ring was made. */
  evicted_packets: number;
  /** Captured bytes of the evicted packets. */
  evicted_bytes: number;
  /** Sequence number of the oldest packet held (equal to `next_seq` when the ring is empty). */
  first_seq: number;
  /** Sequence number the next packet will get. */
  next_seq: number;
  /** Bytes allocated in slabs. */
  slab_bytes: number;
}

interface Slab {
  /** Monotonic id, so a packet can name its slab after older slabs were released. */
  id: number;
  buf: Uint8Array;
  view: DataView;
  used: number;
  /** Bytes left unused at the end when the slab was sealed (the next packet did not fit). */
  waste: number;
  sealed: boolean;
}

/** Initial column capacity (grows by doubling). */
const INITIAL_CAPACITY = 1024;

/**
 * The most recent packets with their raw bytes, bounded by bytes. Not thread-safe; `frameAt` and
 * `frames` return views into the ring that are valid until the next `push`.
 *
 * @example
 * ```ts
 * const ring = new PacketRing({ maxBytes: 64 * 1024 * 1024 });
 * await source.run((frame) => ring.push(frame));
 * const decoder = new PacketDecoder();
 * for (const frame of ring.frames()) console.log(decoder.decode(frame).layers.ip?.src);
 * ```
 */
export class PacketRing {
  /** Bound of the bytes charged. */
  readonly maxBytes: number;
  /** A random id, so that a cursor made by another ring (say, before a restart) is recognised. */
  readonly id: number = Math.floor(Math.random() * 0x7fffffff);
  readonly #slabBytes: number;

  #evictedPackets = 0;
  /** Unused tails of sealed slabs: charged too, so fragmentation cannot break the bound. */
  #waste = 0;
  #evictedBytes = 0;
  #bytes = 0;
  /** Sequence number of the oldest packet held. */
  #firstSeq = 1;
  #count = 0;
  /** Column index of the oldest packet. */
  #head = 0;
  #cap = INITIAL_CAPACITY;
  #n = new Float64Array(INITIAL_CAPACITY);
  #tsSec = new Float64Array(INITIAL_CAPACITY);
  #tsFrac = new Uint32Array(INITIAL_CAPACITY);
  #tsDigits = new Uint8Array(INITIAL_CAPACITY);
  #len = new Uint32Array(INITIAL_CAPACITY);
  #caplen = new Uint32Array(INITIAL_CAPACITY);
  #linkType = new Uint16Array(INITIAL_CAPACITY);
  #iface = new Uint32Array(INITIAL_CAPACITY);
  #slab = new Float64Array(INITIAL_CAPACITY);
  #off = new Uint32Array(INITIAL_CAPACITY);
  /** Packet comments (rare), by sequence number. */
  #comments = new Map<number, string>();
  #slabs: Slab[] = [];
  #nextSlabId = 0;
  /** One released slab kept for reuse, so a full ring in steady state allocates no slabs. */
  #spare: Slab | undefined = undefined;
  /** Whether frame numbers have only grown, so `seqOfN` can binary-search. */
  #nAscending = true;
  #lastN = -Infinity;

  constructor(options: PacketRingOptions = {}) {
    const maxBytes = options.maxBytes ?? DEFAULT_RING_MAX_BYTES;
    if (!Number.isInteger(maxBytes) || maxBytes < 1) {
      throw new RangeError(`maxBytes must be a positive integer, got ${maxBytes}`);
    }
    const slabBytes = options.slabBytes ?? DEFAULT_SLAB_BYTES;
    if (!Number.isInteger(slabBytes) || slabBytes < 1) {
      throw new RangeError(`slabBytes must be a positive integer, got ${slabBytes}`);
    }
    this.maxBytes = maxBytes;
    this.#slabBytes = Math.min(slabBytes, maxBytes);
  }

  /** Packets held. */
  get size(): number {
    return this.#count;
  }

  /** Captured bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Packets evicted so far. */
  get evictedPackets(): number {
    return this.#evictedPackets;
  }

  /** Captured bytes of the packets evicted so far. */
  get evictedBytes(): number {
    return this.#evictedBytes;
  }

  /** Sequence number of the oldest packet held (`nextSeq` when empty). */
  get firstSeq(): number {
    return this.#firstSeq;
  }

  /** Sequence number the next stored packet gets. */
  get nextSeq(): number {
    return this.#firstSeq + this.#count;
  }

  /** The counters, JSON-ready. */
  stats(): PacketRingStats {
    let slabBytes = 0;
    for (const s of this.#slabs) slabBytes += s.buf.length;
    if (this.#spare !== undefined) slabBytes += this.#spare.buf.length;
    return {
      packets: this.#count,
      bytes: this.#bytes,
      charged_bytes: this.#charged(),
      max_bytes: this.maxBytes,
      evicted_packets: this.#evictedPackets,
      evicted_bytes: this.#evictedBytes,
      first_seq: this.#firstSeq,
      next_seq: this.nextSeq,
      slab_bytes: slabBytes,
    };
  }

  /**
   * Stores a copy of the frame's bytes and facts, evicting the oldest packets to stay within `maxBytes`,
   * and returns the packet's sequence number. A frame whose charge alone exceeds `maxBytes` is stored
   * cut to fit (its `len` still says what was on the wire), so the bound always holds.
   */
  push(frame: Frame): number {
    let caplen = frame.caplen;
    const room = this.maxBytes - PACKET_OVERHEAD_BYTES;
    if (caplen > room) caplen = Math.max(0, room);
    const last = this.#slabs.length > 0 ? this.#slabs[this.#slabs.length - 1] : undefined;
    if (last !== undefined && !last.sealed && last.used + caplen > last.buf.length) {
      last.sealed = true;
      last.waste = last.buf.length - last.used;
      this.#waste += last.waste;
    }
    this.#evictFor(caplen + PACKET_OVERHEAD_BYTES);
    if (this.#count === this.#cap) this.#grow();
    const slab = this.#slabFor(caplen);
    const off = slab.used;
    slab.buf.set(frame.bytes.subarray(frame.start, frame.start + caplen), off);
    slab.used += caplen;
    const i = (this.#head + this.#count) & (this.#cap - 1);
    this.#n[i] = frame.n;
    this.#tsSec[i] = frame.tsSec;
    this.#tsFrac[i] = frame.tsFrac;
    this.#tsDigits[i] = frame.tsDigits;
    this.#len[i] = Math.max(frame.len, frame.caplen);
    this.#caplen[i] = caplen;
    this.#linkType[i] = frame.linkType;
    this.#iface[i] = frame.iface;
    this.#slab[i] = slab.id;
    this.#off[i] = off;
    const seq = this.#firstSeq + this.#count;
    if (frame.comment !== undefined) this.#comments.set(seq, frame.comment);
    this.#count++;
    this.#bytes += caplen;
    if (frame.n <= this.#lastN) this.#nAscending = false;
    this.#lastN = frame.n;
    return seq;
  }

  /** Whether the packet `seq` is held. */
  has(seq: number): boolean {
    return seq >= this.#firstSeq && seq < this.#firstSeq + this.#count;
  }

  /**
   * The packet `seq` as a `Frame` over the ring's own bytes (not copied), or undefined when it is not
   * held. Fills and returns `into` when given, so a scan allocates nothing per packet. Valid until the
   * next `push`; do not modify its bytes.
   */
  frameAt(seq: number, into?: Frame): Frame | undefined {
    if (!this.has(seq)) return undefined;
    const i = (this.#head + (seq - this.#firstSeq)) & (this.#cap - 1);
    const slab = this.#slabs[this.#slab[i] - this.#slabs[0].id];
    const f: Frame = into ?? newFrame(slab.buf, slab.view);
    f.n = this.#n[i];
    f.bytes = slab.buf;
    f.view = slab.view;
    f.start = this.#off[i];
    f.caplen = this.#caplen[i];
    f.len = this.#len[i];
    f.tsSec = this.#tsSec[i];
    f.tsFrac = this.#tsFrac[i];
    f.tsDigits = this.#tsDigits[i];
    f.linkType = this.#linkType[i];
    f.iface = this.#iface[i];
    const comment = this.#comments.size > 0 ? this.#comments.get(seq) : undefined;
    if (comment !== undefined) f.comment = comment;
    else if (f.comment !== undefined) delete f.comment;
    return f;
  }

  /**
   * Iterates over the packets held from `fromSeq` (default: the oldest) to the newest, yielding one
   * reused `Frame` whose fields change at every step; yields `[seq, frame]`. Packets pushed during the
   * iteration are not yielded, and the iteration must not outlive a `push` that evicts.
   */
  *frames(fromSeq: number = this.#firstSeq, toSeq: number = this.nextSeq): Generator<[number, Frame]> {
    const end = Math.min(toSeq, this.nextSeq);
    let frame: Frame | undefined;
    for (let seq = Math.max(fromSeq, this.#firstSeq); seq < end; seq++) {
      frame = this.frameAt(seq, frame);
      if (frame === undefined) return;
      yield [seq, frame];
    }
  }

  /**
   * The sequence number of the packet held whose frame number is `n`, or undefined. When frame numbers
   * repeat (several sources fed one ring), the newest such packet.
   */
  seqOfN(n: number): number | undefined {
    const mask = this.#cap - 1;
    if (this.#nAscending) {
      let lo = 0, hi = this.#count - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const v = this.#n[(this.#head + mid) & mask];
        if (v === n) return this.#firstSeq + mid;
        if (v < n) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    }
    for (let k = this.#count - 1; k >= 0; k--) {
      if (this.#n[(this.#head + k) & mask] === n) return this.#firstSeq + k;
    }
    return undefined;
  }

  /** Drops every packet (counted as evicted) and releases the slabs; sequence numbers keep growing. */
  clear(): void {
    while (this.#count > 0) this.#evictOldest();
    this.#slabs = [];
    this.#spare = undefined;
    this.#waste = 0;
  }

  #charged(): number {
    return this.#bytes + this.#waste + this.#count * PACKET_OVERHEAD_BYTES;
  }

  #evictFor(charge: number): void {
    while (this.#count > 0 && this.#charged() + charge > this.maxBytes) this.#evictOldest();
  }

  #evictOldest(): void {
    const i = this.#head;
    const caplen = this.#caplen[i];
    this.#bytes -= caplen;
    this.#evictedBytes += caplen;
    this.#evictedPackets++;
    if (this.#comments.size > 0) this.#comments.delete(this.#firstSeq);
    this.#head = (i + 1) & (this.#cap - 1);
    this.#count--;
    this.#firstSeq++;
    // Packets leave in the order they came, so the slabs to release are always the oldest ones.
    const keepFrom = this.#count > 0 ? this.#slab[this.#head] : Infinity;
    while (this.#slabs.length > 0 && this.#slabs[0].id < keepFrom) {
      const released = this.#slabs.shift()!;
      this.#waste -= released.waste;
      released.waste = 0;
      released.sealed = false;
      if (this.#slabs.length === 0 && this.#count === 0) {
        // The newest slab and nothing left in it: keep writing into it from the start.
        released.used = 0;
        this.#slabs.push(released);
        break;
      }
      if (released.buf.length === this.#slabBytes) this.#spare = released;
    }
  }

  #slabFor(caplen: number): Slab {
    const last = this.#slabs.length > 0 ? this.#slabs[this.#slabs.length - 1] : undefined;
    if (last !== undefined && !last.sealed && last.used + caplen <= last.buf.length) return last;
    let slab: Slab;
    if (caplen <= this.#slabBytes && this.#spare !== undefined) {
      slab = this.#spare;
      this.#spare = undefined;
      slab.id = this.#nextSlabId++;
      slab.used = 0;
    } else {
      const buf = new Uint8Array(Math.max(caplen, this.#slabBytes));
      slab = {
        id: this.#nextSlabId++,
        buf,
        view: new DataView(buf.buffer),
        used: 0,
        waste: 0,
        sealed: false,
      };
    }
    this.#slabs.push(slab);
    return slab;
  }

  #grow(): void {
    const cap = this.#cap * 2, head = this.#head, count = this.#count, mask = this.#cap - 1;
    const regrow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
      old: T,
      make: (n: number) => T,
    ): T => {
      const next = make(cap);
      for (let k = 0; k < count; k++) next[k] = old[(head + k) & mask];
      return next;
    };
    this.#n = regrow(this.#n, (n) => new Float64Array(n));
    this.#tsSec = regrow(this.#tsSec, (n) => new Float64Array(n));
    this.#tsFrac = regrow(this.#tsFrac, (n) => new Uint32Array(n));
    this.#tsDigits = regrow(this.#tsDigits, (n) => new Uint8Array(n));
    this.#len = regrow(this.#len, (n) => new Uint32Array(n));
    this.#caplen = regrow(this.#caplen, (n) => new Uint32Array(n));
    this.#linkType = regrow(this.#linkType, (n) => new Uint16Array(n));
    this.#iface = regrow(this.#iface, (n) => new Uint32Array(n));
    this.#slab = regrow(this.#slab, (n) => new Float64Array(n));
    this.#off = regrow(this.#off, (n) => new Uint32Array(n));
    this.#cap = cap;
    this.#head = 0;
  }
}
