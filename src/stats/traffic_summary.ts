/**
 * A capinfos-like summary of a capture: packet and byte counts, time span, link types and rates. The
 * `summary` section of `netwatch analyze` (see `src/stats/analysis.ts` for the other sections). Fed one
 * decoded packet at a time; its memory is constant (link types are a handful of numbers).
 *
 * @module
 */

import { linkTypeName } from "../capture/link_type.ts";
import { formatTs, tsToNumber } from "../capture/timestamp.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import { round } from "./top_counter.ts";

/** The summary as JSON. Rates are null when the capture spans no time. */
export interface TrafficSummaryRecord {
  packets: number;
  /** Bytes on the wire (frame lengths). */
  bytes: number;
  /** Bytes captured (at most `bytes`; less when the snaplen cut packets). */
  captured_bytes: number;
  /** Packets captured shorter than they were on the wire. */
  cut_packets: number;
  first_ts: string | null;
  last_ts: string | null;
  duration_s: number;
  /** Packets per link type name. */
  link_types: Record<string, number>;
  avg_packet_bytes: number;
  packets_per_s: number | null;
  bits_per_s: number | null;
  /** Packets with at least one decoding anomaly. */
  malformed_packets: number;
  /** Packets whose timestamp is earlier than a packet before them (merged or clock-stepped captures). */
  out_of_order_packets: number;
}

/** Accumulates the summary figures. */
export class TrafficSummary {
  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  malformed = 0;
  private cut = 0;
  private outOfOrder = 0;
  private firstTs: [number, number, number] | undefined;
  private lastTs: [number, number, number] | undefined;
  private firstNum = 0;
  private lastNum = 0;
  private readonly linkTypes = new Map<number, number>();

  /** Accounts one packet. */
  add(p: DecodedPacket): void {
    this.packets++;
    this.bytes += p.len;
    this.capturedBytes += p.caplen;
    if (p.caplen < p.len) this.cut++;
    if (p.malformed !== undefined) this.malformed++;
    // Files are nearly always in time order: compare as numbers, and keep a tuple only when it changes.
    const t = tsToNumber(p.tsSec, p.tsFrac, p.tsDigits);
    if (this.firstTs === undefined || t < this.firstNum) {
      this.firstTs = [p.tsSec, p.tsFrac, p.tsDigits];
      this.firstNum = t;
    }
    if (this.lastTs === undefined || t >= this.lastNum) {
      if (t > this.lastNum || this.lastTs === undefined) this.lastTs = [p.tsSec, p.tsFrac, p.tsDigits];
      this.lastNum = t;
    } else {
      this.outOfOrder++;
    }
    this.linkTypes.set(p.linkType, (this.linkTypes.get(p.linkType) ?? 0) + 1);
  }

  /** The summary as plain JSON. */
  toJSON(): TrafficSummaryRecord {
    const first = this.firstTs, last = this.lastTs;
    const duration = first && last ? tsToNumber(...last) - tsToNumber(...first) : 0;
    return {
      packets: this.packets,
      bytes: this.bytes,
      captured_bytes: this.capturedBytes,
      cut_packets: this.cut,
      first_ts: first ? formatTs(...first) : null,
      last_ts: last ? formatTs(...last) : null,
      duration_s: round(duration, 6),
      link_types: Object.fromEntries([...this.linkTypes].map(([lt, n]) => [linkTypeName(lt), n])),
      avg_packet_bytes: this.packets ? round(this.bytes / this.packets, 1) : 0,
      packets_per_s: duration > 0 ? round(this.packets / duration, 1) : null,
      bits_per_s: duration > 0 ? round((this.bytes * 8) / duration, 1) : null,
      malformed_packets: this.malformed,
      out_of_order_packets: this.outOfOrder,
    };
  }
}
