/**
 * Everything `netwatch analyze` reports about a capture, accumulated one decoded packet at a time:
 * the capinfos-like summary, the protocol hierarchy, flows, hosts, DNS, HTTP, TLS, TCP outcomes and a
 * timeline. Shared by the CLI and (later) the MCP server, which can take a report part-way through.
 *
 * Memory is bounded whatever the capture's size: by the flow table (`maxFlows`) and by the documented
 * cap of every table that grows with the input (hosts, address pairs, names, user agents,
 * fingerprints...). What a cap kept out is counted (`dropped`, `dropped_packets`), and every top list
 * says how many entries it left out.
 *
 * @example
 * ```ts
 * const analysis = new Analysis();
 * await runSource(source, (packet) => analysis.add(packet));
 * console.log(JSON.stringify(analysis.toJSON()));
 * ```
 *
 * @module
 */

import type { DnsRecord } from "../decode/dns.ts";
import type { HttpRecord } from "../decode/http.ts";
import type { LayerSet } from "../decode/layers.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import type { QuicRecord } from "../decode/quic.ts";
import type { TlsRecord } from "../decode/tls.ts";
import { FlowTable, type FlowTableOptions } from "../flow/flow_table.ts";
import { TrafficSummary } from "./traffic_summary.ts";
import { DnsStats } from "./dns_stats.ts";
import { FlowStats } from "./flow_stats.ts";
import { HostStats, type HostStatsOptions } from "./host_stats.ts";
import { HttpStats } from "./http_stats.ts";
import { DEFAULT_MAX_PROTOCOL_NODES, ProtocolHierarchy } from "./protocol_hierarchy.ts";
import { Timeline } from "./timeline.ts";
import { TlsStats } from "./tls_stats.ts";
import { DEFAULT_MAX_VALUES, DEFAULT_TOP } from "./top_counter.ts";

/** The sections of a report, in output order. */
export const ANALYSIS_SECTIONS = [
  "summary",
  "protocols",
  "flows",
  "hosts",
  "dns",
  "http",
  "tls",
  "tcp",
  "timeline",
  "alerts",
] as const;

/** One section name. */
export type AnalysisSection = typeof ANALYSIS_SECTIONS[number];

/** Options for `Analysis`. Every cap has a default documented where it is defined. */
export interface AnalysisOptions {
  /** Entries in each top list (default 10). */
  top?: number;
  /** Distinct values per name table: DNS names, HTTP hosts and user agents, TLS fingerprints... */
  maxValues?: number;
  /** Host and address-pair tables (see `HostStatsOptions`). */
  hosts?: HostStatsOptions;
  /** Protocol hierarchy nodes. */
  maxProtocolNodes?: number;
  /** Timeline buckets at most (default 60). */
  maxBuckets?: number;
  /** Flow table options; `onFlowEnd` is called after the analysis has counted the flow. */
  flows?: FlowTableOptions;
}

/** Accumulates a report. Feed it every decoded packet in capture order. */
export class Analysis {
  readonly summary: TrafficSummary = new TrafficSummary();
  readonly protocols: ProtocolHierarchy;
  readonly hosts: HostStats;
  readonly dns: DnsStats;
  readonly http: HttpStats;
  readonly tls: TlsStats;
  readonly timeline: Timeline;
  readonly flowStats: FlowStats;
  /** The flow table the analysis feeds (its flows are live until they end or the table is flushed). */
  readonly flows: FlowTable;
  private readonly top: number;

  constructor(options: AnalysisOptions = {}) {
    this.top = options.top ?? DEFAULT_TOP;
    if (!Number.isInteger(this.top) || this.top < 1) {
      throw new RangeError(`top must be a positive integer, got ${this.top}`);
    }
    const maxValues = options.maxValues ?? DEFAULT_MAX_VALUES;
    this.protocols = new ProtocolHierarchy(options.maxProtocolNodes ?? DEFAULT_MAX_PROTOCOL_NODES);
    this.hosts = new HostStats(options.hosts);
    this.dns = new DnsStats(maxValues);
    this.http = new HttpStats(maxValues);
    this.tls = new TlsStats(maxValues);
    this.timeline = new Timeline(options.maxBuckets);
    this.flowStats = new FlowStats(this.top);
    const onFlowEnd = options.flows?.onFlowEnd;
    this.flows = new FlowTable({
      ...options.flows,
      onFlowEnd: (flow, reason) => {
        this.flowStats.flowEnded(flow);
        onFlowEnd?.(flow, reason);
      },
    });
  }

  /** Packets added so far. */
  get packets(): number {
    return this.summary.packets;
  }

  /** Accounts one packet. Its layers are read during the call only. */
  add(p: DecodedPacket): void {
    this.summary.add(p);
    this.protocols.add(p);
    this.timeline.add(p);
    this.hosts.add(p);
    const flow = this.flows.update(p);
    if (flow !== undefined && flow.origPackets + flow.respPackets === 1) this.hosts.flowStarted(flow);
    let ls: LayerSet | undefined = p.layers;
    // The application record sits in the innermost layer set that has one (tunnels nest them).
    while (ls !== undefined && ls.app === undefined) ls = ls.inner;
    if (ls === undefined || ls.appRecord === undefined) return;
    const rec = ls.appRecord;
    switch (ls.app) {
      case "dns":
        if (ls.udp !== undefined) this.dns.add(rec as DnsRecord, ls.ip?.dst, ls.udp.sport, ls.udp.dport);
        else if (ls.tcp !== undefined) this.dns.add(rec as DnsRecord, ls.ip?.dst, ls.tcp.sport, ls.tcp.dport);
        break;
      case "http":
        this.http.add(rec as HttpRecord);
        break;
      case "tls":
        this.tls.add(rec as TlsRecord);
        break;
      case "quic":
        this.tls.addQuic(rec as QuicRecord);
        break;
    }
  }

  /**
   * The report as plain JSON: the `sections` asked for (default all), in `ANALYSIS_SECTIONS` order.
   * Does not change the analysis: live flows are counted without being ended.
   */
  toJSON(sections: readonly AnalysisSection[] = ANALYSIS_SECTIONS): Record<string, unknown> {
    const want = new Set(sections);
    const top = this.top;
    const flowParts = want.has("flows") || want.has("tcp")
      ? this.flowStats.toJSON(this.flows, top)
      : undefined;
    const out: Record<string, unknown> = {};
    for (const s of ANALYSIS_SECTIONS) {
      if (!want.has(s)) continue;
      switch (s) {
        case "summary":
          out.summary = this.summary.toJSON();
          break;
        case "protocols":
          out.protocols = this.protocols.toJSON();
          break;
        case "flows":
          out.flows = flowParts!.flows;
          break;
        case "hosts":
          out.hosts = this.hosts.toJSON(top);
          break;
        case "dns":
          out.dns = this.dns.toJSON(top);
          break;
        case "http":
          out.http = this.http.toJSON(top);
          break;
        case "tls":
          out.tls = this.tls.toJSON(top);
          break;
        case "tcp":
          out.tcp = flowParts!.tcp;
          break;
        case "timeline":
          out.timeline = this.timeline.toJSON();
          break;
        case "alerts":
          // The detectors come with the next issue; until then there is nothing to report.
          out.alerts = [];
          break;
      }
    }
    return out;
  }
}
