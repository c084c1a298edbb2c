/**
 * IPv4 and IPv6 fragment reassembly (RFC 791 section 3.2, RFC 8200 section 4.5), so that a datagram
 * split into fragments (large DNS answers, tunnelled traffic) is decoded whole on the fragment that
 * completes it, as tshark and every IDS do. Fragments are copied (the capture buffer is reused), and the
 * table is bounded in datagrams, bytes and packet time; what it drops is counted.
 *
 * @module
 */

/** Limits of the reassembly table. Trade-off: memory against tolerance for slow or interleaved senders. */
export interface ReassemblyConfig {
  /** Datagrams being reassembled at once; the oldest is dropped past this. */
  maxDatagrams: number;
  /** Largest datagram accepted (IPv4's own limit is 65 535; IPv6 jumbograms are not fragmented). */
  maxDatagramBytes: number;
  /** Seconds of packet time a datagram may wait for its missing fragments (RFC 791 suggests 15+ s). */
  timeoutSeconds: number;
}

/** Defaults: generous enough for any real flow, small enough that a fragment flood costs a few MB. */
export const DEFAULT_REASSEMBLY: ReassemblyConfig = {
  maxDatagrams: 1024,
  maxDatagramBytes: 65535,
  timeoutSeconds: 60,
};

interface Pending {
  /** Payload bytes received so far, at their offsets. */
  data: Uint8Array;
  /** Received ranges [start, end) sorted by start, merged. */
  ranges: number[];
  /** Total payload length, known once the last fragment (MF clear) arrived; -1 before. */
  total: number;
  firstSeen: number;
}

/** Counters a reassembler reports. */
export interface ReassemblyStats {
  completed: number;
  timedOut: number;
  evicted: number;
  oversized: number;
  overlapping: number;
}

/** The reassembly table for one packet stream. */
export class IpReassembler {
  private readonly pending = new Map<string, Pending>();
  readonly stats: ReassemblyStats = { completed: 0, timedOut: 0, evicted: 0, oversized: 0, overlapping: 0 };
  private lastExpiry = 0;

  constructor(readonly config: ReassemblyConfig = DEFAULT_REASSEMBLY) {}

  /** Datagrams waiting for fragments. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds the fragment `bytes[off, end)` of the datagram `key`, whose payload starts at `fragOffset` bytes.
   * Returns the whole payload when this fragment completes the datagram, else `undefined`.
   */
  add(
    key: string,
    bytes: Uint8Array,
    off: number,
    end: number,
    fragOffset: number,
    more: boolean,
    now: number,
  ):
    | Uint8Array
    | undefined {
    this.expire(now);
    const len = end - off;
    if (fragOffset + len > this.config.maxDatagramBytes) {
      this.stats.oversized++;
      this.pending.delete(key);
      return undefined;
    }
    let p = this.pending.get(key);
    if (p === undefined) {
      if (this.pending.size >= this.config.maxDatagrams) {
        // Maps iterate in insertion order: the first key is the oldest datagram.
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
        this.stats.evicted++;
      }
      p = { data: new Uint8Array(Math.max(1500, fragOffset + len)), ranges: [], total: -1, firstSeen: now };
      this.pending.set(key, p);
    }
    if (fragOffset + len > p.data.length) {
      const grown = new Uint8Array(
        Math.min(this.config.maxDatagramBytes, Math.max(fragOffset + len, p.data.length * 2)),
      );
      grown.set(p.data);
      p.data = grown;
    }
    if (overlaps(p.ranges, fragOffset, fragOffset + len)) this.stats.overlapping++;
    p.data.set(bytes.subarray(off, end), fragOffset);
    addRange(p.ranges, fragOffset, fragOffset + len);
    if (!more) p.total = fragOffset + len;
    if (p.total >= 0 && p.ranges.length === 2 && p.ranges[0] === 0 && p.ranges[1] >= p.total) {
      this.pending.delete(key);
      this.stats.completed++;
      return p.data.subarray(0, p.total);
    }
    return undefined;
  }

  /** Drops datagrams older than the timeout (checked at most once per second of packet time). */
  expire(now: number): void {
    if (now - this.lastExpiry < 1 && now >= this.lastExpiry) return;
    this.lastExpiry = now;
    for (const [key, p] of this.pending) {
      if (now - p.firstSeen <= this.config.timeoutSeconds) break; // insertion order is age order
      this.pending.delete(key);
      this.stats.timedOut++;
    }
  }
}

function overlaps(ranges: number[], start: number, end: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (start < ranges[i + 1] && end > ranges[i]) return true;
  return false;
}

/** Inserts [start, end) into the sorted, merged list of ranges. */
function addRange(ranges: number[], start: number, end: number): void {
  const merged: number[] = [];
  let placed = false;
  for (let i = 0; i < ranges.length; i += 2) {
    const s = ranges[i], e = ranges[i + 1];
    if (e < start || s > end) {
      if (!placed && s > end) {
        merged.push(start, end);
        placed = true;
      }
      merged.push(s, e);
    } else {
      start = Math.min(start, s);
      end = Math.max(end, e);
    }
  }
  if (!placed) merged.push(start, end);
  merged.sort((a, b) => a - b);
  ranges.length = 0;
  ranges.push(...merged);
}
