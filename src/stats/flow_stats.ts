/**
 * The `flows` and `tcp` sections of `netwatch analyze`, computed from the flow table: flows by
 * application, the conversations (5-tuple flows) with the most bytes, the table's counters, and TCP
 * connection outcomes (handshakes completed or failed, resets, retransmissions).
 *
 * Ended flows are folded into counters as they leave the table; live flows are read at `toJSON` time
 * without being ended, so a report can be taken part-way through a capture (or a live one).
 *
 * @module
 */

import type { Flow, FlowRecord, FlowTable, FlowTableStats } from "../flow/flow_table.ts";
import { DEFAULT_TOP, round, type TopList } from "./top_counter.ts";

/** Flows, packets and bytes of one application (or transport, when no application was decoded). */
export interface AppFlowCounts {
  flows: number;
  packets: number;
  bytes: number;
}

/** The `flows` section. */
export interface FlowStatsRecord {
  /** Flows created (ended ones and live ones). */
  count: number;
  /** Keyed by the flow's application protocol, else `<transport>` (`tcp`, `udp`, `icmp`, ...). */
  by_app: Record<string, AppFlowCounts>;
  /** Flows with the most bytes (both directions), as flow records. */
  top_by_bytes: TopList<FlowRecord>;
  /** The flow table's counters. */
  table: FlowTableStats;
}

/** The `tcp` section. See `FlowStats` for how each outcome is told. */
export interface TcpStatsRecord {
  /** TCP flows. */
  connections: number;
  /** Flows whose three-way handshake completed. */
  handshakes_completed: number;
  /** Flows that began with a SYN and never completed the handshake (the three cases below). */
  handshakes_failed: number;
  /** ... the SYN got no answer. */
  unanswered: number;
  /** ... the SYN was answered by a RST. */
  rejected: number;
  /** ... a SYN+ACK was seen but not the final ACK (or a RST came during the handshake). */
  incomplete: number;
  /** Flows already open when the capture began (no SYN seen). */
  midstream: number;
  /** Flows with at least one RST, and RST segments. */
  reset_connections: number;
  rst_segments: number;
  /** TCP segments accounted to flows, and the retransmitted and out-of-order ones among them. */
  segments: number;
  retransmissions: number;
  out_of_order: number;
  /** retransmissions / segments (null without segments). */
  retransmission_rate: number | null;
}

class Counts {
  byApp = new Map<string, AppFlowCounts>();
  connections = 0;
  completed = 0;
  unanswered = 0;
  rejected = 0;
  incomplete = 0;
  midstream = 0;
  resetConnections = 0;
  rst = 0;
  segments = 0;
  retrans = 0;
  ooo = 0;

  clone(): Counts {
    const c = Object.assign(new Counts(), this);
    c.byApp = new Map([...this.byApp].map(([k, v]) => [k, { ...v }]));
    return c;
  }

  add(f: Flow): void {
    const key = f.app ?? f.protoName;
    let a = this.byApp.get(key);
    // Application names come from the decoder registry and transports from a fixed table: few keys.
    if (a === undefined) this.byApp.set(key, a = { flows: 0, packets: 0, bytes: 0 });
    a.flows++;
    a.packets += f.origPackets + f.respPackets;
    a.bytes += f.origBytes + f.respBytes;
    const tcp = f.tcp;
    if (tcp === undefined) return;
    this.connections++;
    this.segments += f.origPackets + f.respPackets;
    this.retrans += tcp.retransOrig + tcp.retransResp;
    this.ooo += tcp.oooOrig + tcp.oooResp;
    this.rst += tcp.rst;
    if (tcp.rst > 0) this.resetConnections++;
    if (tcp.syn === 0 && tcp.synack === 0) {
      this.midstream++;
      return;
    }
    switch (handshakeOutcome(f)) {
      case "completed":
        this.completed++;
        break;
      case "unanswered":
        this.unanswered++;
        break;
      case "rejected":
        this.rejected++;
        break;
      default:
        this.incomplete++;
    }
  }
}

/**
 * How a flow's handshake ended. `completed`: SYN and SYN+ACK seen and the connection reached a
 * state past the handshake (established, closing or closed; or reset after the SYN sender had sent an
 * ACK or data, history `A`/`D`). `rejected`: the SYN was answered by a RST. `unanswered`: only SYNs.
 * `incomplete`: anything else that began with a SYN or SYN+ACK.
 */
export function handshakeOutcome(f: Flow): "completed" | "unanswered" | "rejected" | "incomplete" {
  const tcp = f.tcp!;
  const state = tcp.state;
  if (state === "rejected") return "rejected";
  if (state === "half_open") return "unanswered";
  if (tcp.syn === 0 || tcp.synack === 0) return "incomplete";
  if (state === "established" || state === "closing" || state === "closed") return "completed";
  // A reset: the handshake completed if the SYN's sender (the originator, as a rule) went on to ACK.
  if (state === "reset" && /[AD]/.test(tcp.history)) return "completed";
  return "incomplete";
}

/** Folds flows into the `flows` and `tcp` figures. Call `flowEnded` from the table's `onFlowEnd`. */
export class FlowStats {
  private readonly ended = new Counts();
  /** The largest ended flows, as records, at most `top` of them, largest first. */
  private topEnded: { bytes: number; rec: FlowRecord }[] = [];

  constructor(readonly top: number = DEFAULT_TOP) {}

  /** Accounts a flow that left the table. */
  flowEnded(f: Flow): void {
    this.ended.add(f);
    const bytes = f.origBytes + f.respBytes;
    const list = this.topEnded;
    if (list.length < this.top || bytes > list[list.length - 1].bytes) {
      list.push({ bytes, rec: f.toJSON() });
      list.sort((a, b) => b.bytes - a.bytes);
      if (list.length > this.top) list.pop();
    }
  }

  /** Both sections, counting the table's live flows as well as the ended ones. */
  toJSON(table: FlowTable, top: number = this.top): { flows: FlowStatsRecord; tcp: TcpStatsRecord } {
    const c = this.ended.clone();
    const candidates = this.topEnded.slice();
    for (const f of table.flows()) {
      c.add(f);
      const bytes = f.origBytes + f.respBytes;
      if (candidates.length < top || bytes > candidates[candidates.length - 1].bytes) {
        candidates.push({ bytes, rec: f.toJSON() });
        candidates.sort((a, b) => b.bytes - a.bytes);
        if (candidates.length > top) candidates.pop();
      }
    }
    const stats = table.stats();
    const total = stats.created;
    const items = candidates.slice(0, top).map((e) => e.rec);
    const byApp = [...c.byApp].sort((a, b) => b[1].bytes - a[1].bytes || (a[0] < b[0] ? -1 : 1));
    return {
      flows: {
        count: total,
        by_app: Object.fromEntries(byApp),
        top_by_bytes: { items, left_out: total - items.length, dropped: 0 },
        table: stats,
      },
      tcp: {
        connections: c.connections,
        handshakes_completed: c.completed,
        handshakes_failed: c.unanswered + c.rejected + c.incomplete,
        unanswered: c.unanswered,
        rejected: c.rejected,
        incomplete: c.incomplete,
        midstream: c.midstream,
        reset_connections: c.resetConnections,
        rst_segments: c.rst,
        segments: c.segments,
        retransmissions: c.retrans,
        out_of_order: c.ooo,
        retransmission_rate: c.segments > 0 ? round(c.retrans / c.segments, 4) : null,
      },
    };
  }
}
