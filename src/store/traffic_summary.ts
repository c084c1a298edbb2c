/**
 * A capinfos-like summary of a capture plus a protocol breakdown and top talkers: the figures every
 * report starts with. Fed one decoded packet at a time; memory is bounded by `maxHosts`.
 *
 * @module
 */

import { linkTypeName } from "../capture/link_type.ts";
import { formatTs, tsToNumber } from "../capture/timestamp.ts";
import type { LayerSet } from "../decode/layers.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";

/** Options for `TrafficSummary`. */
export interface TrafficSummaryOptions {
  /** Hosts tracked for top talkers; past it new hosts are counted as left out. Trade-off: memory vs recall. */
  maxHosts?: number;
  /** Entries in each top list. */
  top?: number;
}

interface HostCounts {
  packetsOut: number;
  bytesOut: number;
  packetsIn: number;
  bytesIn: number;
}

/** Accumulates summary figures. */
export class TrafficSummary {
  packets = 0;
  bytes = 0;
  capturedBytes = 0;
  malformed = 0;
  private firstTs: [number, number, number] | undefined;
  private lastTs: [number, number, number] | undefined;
  private firstNum = 0;
  private lastNum = 0;
  private readonly linkTypes = new Map<number, number>();
  private readonly protocols = new Map<string, number>();
  private readonly hosts = new Map<string, HostCounts>();
  private hostsLeftOut = 0;
  private readonly maxHosts: number;
  private readonly top: number;

  constructor(options: TrafficSummaryOptions = {}) {
    this.maxHosts = options.maxHosts ?? 100_000;
    this.top = options.top ?? 10;
  }

  add(p: DecodedPacket): void {
    this.packets++;
    this.bytes += p.len;
    this.capturedBytes += p.caplen;
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
    }
    this.linkTypes.set(p.linkType, (this.linkTypes.get(p.linkType) ?? 0) + 1);
    this.countProtocols(p.layers);
    const ip = p.layers.ip;
    if (ip !== undefined) {
      const src = this.host(ip.src), dst = this.host(ip.dst);
      if (src !== undefined) {
        src.packetsOut++;
        src.bytesOut += p.len;
      }
      if (dst !== undefined) {
        dst.packetsIn++;
        dst.bytesIn += p.len;
      }
    }
  }

  private host(addr: string): HostCounts | undefined {
    let h = this.hosts.get(addr);
    if (h === undefined) {
      if (this.hosts.size >= this.maxHosts) {
        this.hostsLeftOut++;
        return undefined;
      }
      h = { packetsOut: 0, bytesOut: 0, packetsIn: 0, bytesIn: 0 };
      this.hosts.set(addr, h);
    }
    return h;
  }

  private countProtocols(ls: LayerSet): void {
    const bump = (name: string) => this.protocols.set(name, (this.protocols.get(name) ?? 0) + 1);
    if (ls.eth !== undefined) bump("eth");
    if (ls.wlan !== undefined) bump("wlan");
    if (ls.sll !== undefined) bump("sll");
    if (ls.vlan !== undefined) bump("vlan");
    if (ls.arp !== undefined) bump("arp");
    if (ls.ip !== undefined) bump(ls.ip.v === 4 ? "ipv4" : "ipv6");
    if (ls.tunnel !== undefined) bump(ls.tunnel.type);
    if (ls.tcp !== undefined) bump("tcp");
    if (ls.udp !== undefined) bump("udp");
    if (ls.icmp !== undefined) bump("icmp");
    if (ls.icmp6 !== undefined) bump("icmp6");
    if (ls.app !== undefined) bump(ls.app);
  }

  /** The summary as plain JSON. */
  toJSON(): Record<string, unknown> {
    const first = this.firstTs, last = this.lastTs;
    const duration = first && last ? tsToNumber(...last) - tsToNumber(...first) : 0;
    const topBy = (key: (h: HostCounts) => number) =>
      [...this.hosts].filter(([, h]) => key(h) > 0).sort((a, b) => key(b[1]) - key(a[1])).slice(0, this.top);
    const hostList = (key: (h: HostCounts) => number) => ({
      items: topBy(key).map(([addr, h]) => ({
        addr,
        packets_out: h.packetsOut,
        bytes_out: h.bytesOut,
        packets_in: h.packetsIn,
        bytes_in: h.bytesIn,
      })),
      left_out: Math.max(0, [...this.hosts.values()].filter((h) => key(h) > 0).length - this.top) +
        this.hostsLeftOut,
    });
    return {
      summary: {
        packets: this.packets,
        bytes: this.bytes,
        captured_bytes: this.capturedBytes,
        first_ts: first ? formatTs(...first) : null,
        last_ts: last ? formatTs(...last) : null,
        duration_s: round(duration, 6),
        link_types: Object.fromEntries([...this.linkTypes].map(([lt, n]) => [linkTypeName(lt), n])),
        avg_packet_bytes: this.packets ? round(this.bytes / this.packets, 1) : 0,
        packets_per_s: duration > 0 ? round(this.packets / duration, 1) : null,
        bits_per_s: duration > 0 ? round((this.bytes * 8) / duration, 1) : null,
        malformed_packets: this.malformed,
      },
      protocols: Object.fromEntries([...this.protocols].sort((a, b) => b[1] - a[1])),
      hosts: {
        count: this.hosts.size + this.hostsLeftOut,
        top_senders: hostList((h) => h.bytesOut),
        top_receivers: hostList((h) => h.bytesIn),
      },
    };
  }
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
