/**
 * Packets and bytes per time interval, with the interval chosen as the capture goes so that there are at
 * most `maxBuckets` buckets (default 60) whatever the capture's length, in constant memory.
 *
 * Buckets start at the first packet's time. The interval starts at 1 ms and, whenever a packet falls past
 * the last bucket, steps up a ladder of round intervals each a whole multiple of the one before
 * (1, 2, 10, 20, 100, 200 ms, 1, 2, 10, 20, 60, 120 s, 10, 20, 60, 120, 360 min, 1 day, then doubling),
 * merging the buckets it has: the result is exactly what binning with the final interval from the start
 * would give. A packet earlier than the first one (an out-of-order timestamp) counts in bucket 0.
 *
 * @module
 */

import type { DecodedPacket } from "../decode/packet_decoder.ts";

/** Buckets at most, by default. */
export const DEFAULT_MAX_BUCKETS = 60;

// Interval ladder in milliseconds; every step is a whole multiple of the previous one.
const LADDER_MS = [
  1,
  2,
  10,
  20,
  100,
  200,
  1_000,
  2_000,
  10_000,
  20_000,
  60_000,
  120_000,
  600_000,
  1_200_000,
  3_600_000,
  7_200_000,
  21_600_000,
  86_400_000,
];

/** One bucket as JSON. `start_s`: seconds after the first packet. */
export interface TimelineBucket {
  start_s: number;
  packets: number;
  bytes: number;
}

/** The `timeline` section. */
export interface TimelineRecord {
  /** Width of each bucket in seconds. */
  interval_s: number;
  /** Time of the first bucket's start (the first packet), as float epoch seconds; null when empty. */
  start: number | null;
  /** Every bucket from the first to the last packet's, empty ones included. */
  buckets: TimelineBucket[];
}

/** Accumulates the timeline. */
export class Timeline {
  /** Whole seconds and milliseconds of the first packet's time. */
  private origin = NaN;
  private originFracMs = 0;
  private step = 0;
  private intervalMs = LADDER_MS[0];
  private packets: number[] = [];
  private bytes: number[] = [];

  constructor(readonly maxBuckets: number = DEFAULT_MAX_BUCKETS) {
    if (!Number.isInteger(maxBuckets) || maxBuckets < 1) {
      throw new RangeError(`maxBuckets must be a positive integer, got ${maxBuckets}`);
    }
  }

  /** Accounts one packet. */
  add(p: DecodedPacket): void {
    // Seconds apart from the fraction: epoch milliseconds as one float would blur bucket edges.
    const fracMs = (p.tsFrac * 1000) / 10 ** p.tsDigits;
    if (Number.isNaN(this.origin)) {
      this.origin = p.tsSec;
      this.originFracMs = fracMs;
    }
    const offset = Math.max(0, (p.tsSec - this.origin) * 1000 + (fracMs - this.originFracMs));
    let i = Math.floor(offset / this.intervalMs);
    while (i >= this.maxBuckets) {
      this.coarsen();
      i = Math.floor(offset / this.intervalMs);
    }
    while (this.packets.length <= i) {
      this.packets.push(0);
      this.bytes.push(0);
    }
    this.packets[i]++;
    this.bytes[i] += p.len;
  }

  /** Moves one step up the ladder, merging the buckets that fall into each new one. */
  private coarsen(): void {
    const next = this.step + 1 < LADDER_MS.length ? LADDER_MS[this.step + 1] : this.intervalMs * 2;
    this.step++;
    const factor = next / this.intervalMs;
    const packets: number[] = [], bytes: number[] = [];
    for (let i = 0; i < this.packets.length; i++) {
      const j = Math.floor(i / factor);
      if (j >= packets.length) {
        packets.push(0);
        bytes.push(0);
      }
      packets[j] += this.packets[i];
      bytes[j] += this.bytes[i];
    }
    this.packets = packets;
    this.bytes = bytes;
    this.intervalMs = next;
  }

  /** The timeline as JSON. */
  toJSON(): TimelineRecord {
    return {
      interval_s: this.intervalMs / 1000,
      start: Number.isNaN(this.origin) ? null : this.origin + this.originFracMs / 1000,
      buckets: this.packets.map((n, i) => ({
        start_s: (i * this.intervalMs) / 1000,
        packets: n,
        bytes: this.bytes[i],
      })),
    };
  }
}
