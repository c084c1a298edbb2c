/**
 * The bidirectional flow table: every keyed packet (see `FlowKey`) is accounted to one `Flow`, which
 * keeps per-direction packet and byte counts, first and last packet time, the TCP state (`TcpState`), the
 * application protocol and a few bounded application facts (DNS names, HTTP hosts, TLS fingerprints).
 *
 * Packet time is the only clock: flows idle past their protocol's timeout end as `expired` (checked at
 * most once per second of packet time, and always for the flow a packet is about to join), and when
 * `maxFlows` flows are live the least recently seen one ends as `evicted`. Every ended flow is handed to
 * `onFlowEnd` and counted; none disappears silently.
 *
 * Because packet time drives expiry, a capture whose clock jumps (a bogus timestamp far in the future)
 * expires every flow idle "since"; merged captures should be fed in time order.
 *
 * Lookup allocates nothing per packet: the key is a reused `FlowKey` of address words, the table a `Map`
 * from its symmetric 30-bit hash to a chain of flows, each flow being its own key. Live flows also sit on
 * one of six intrusive lists, one per timeout class, each in last-seen order; expiry walks the heads of
 * those lists and eviction takes the oldest head, both without scanning the table.
 *
 * @example
 * ```ts
 * const table = new FlowTable({ onFlowEnd: (flow, why) => console.log(why, JSON.stringify(flow)) });
 * await runSource(source, (packet) => void table.update(packet));
 * table.flush();
 * ```
 *
 * @module
 */

import { formatTs, pow10 } from "../capture/timestamp.ts";
import type { DnsRecord } from "../decode/dns.ts";
import type { HttpRecord } from "../decode/http.ts";
import type { LayerSet } from "../decode/layers.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import type { QuicRecord } from "../decode/quic.ts";
import type { TlsRecord } from "../decode/tls.ts";
import { FlowKey, PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP } from "./flow_key.ts";
import { TcpState } from "./tcp_state.ts";

/** Idle timeouts in seconds of packet time, per protocol and TCP state. `Infinity` disables one. */
export interface FlowTimeouts {
  /**
   * TCP with no FIN or RST yet and the handshake done (or never seen). 3600 s keeps quiet long-lived
   * sessions (SSH, database pools, push channels) as one flow; the cost is that a connection whose end
   * the capture missed holds its slot for an hour (Zeek's default is 300 s, which splits such sessions).
   */
  tcpEstablished: number;
  /**
   * TCP handshake incomplete (a SYN without answer, or SYN+ACK without the final ACK). 30 s absorbs the
   * first SYN retransmissions (1, 2, 4, 8 s backoff) while keeping a SYN scan or flood from holding
   * many slots; a client that retries longer than this shows as two half-open flows.
   */
  tcpHalfOpen: number;
  /**
   * TCP after a FIN or RST. 30 s still joins late retransmissions and the final ACKs to the flow; a
   * half-closed connection idle longer than this (rare) is split.
   */
  tcpClosed: number;
  /**
   * UDP. 60 s: request/response exchanges (DNS, NTP) end in milliseconds and streams refresh it
   * constantly; a longer value holds one-packet flows (DNS, scans) in memory longer.
   */
  udp: number;
  /** ICMP and ICMPv6. 30 s covers a ping run (one request a second) with room for lost replies. */
  icmp: number;
  /** Any other IP protocol (GRE not decoded as a tunnel, ESP, OSPF, SCTP...). */
  other: number;
}

/** Default timeouts; see each field for its trade-off. */
export const DEFAULT_FLOW_TIMEOUTS: Readonly<FlowTimeouts> = Object.freeze({
  tcpEstablished: 3600,
  tcpHalfOpen: 30,
  tcpClosed: 30,
  udp: 60,
  icmp: 30,
  other: 60,
});

/** Why a flow left the table. */
export type FlowEndReason =
  /** Idle past its timeout. */
  | "expired"
  /** The table was full and this was the least recently seen flow. */
  | "evicted"
  /** A new TCP connection (a SYN with a new ISN) reused a finished connection's addresses and ports. */
  | "reused"
  /** `flush()` ended it (end of a capture). */
  | "flushed";

/** Options for `FlowTable`. */
export interface FlowTableOptions {
  /**
   * Live flows at most (default 200 000, about 100 MB at worst). Past it the least recently seen flow is
   * evicted: memory stays bounded under a flood of new flows at the price of ending old ones early.
   */
  maxFlows?: number;
  /** Timeouts to override; the rest keep `DEFAULT_FLOW_TIMEOUTS`. */
  timeouts?: Partial<FlowTimeouts>;
  /** Distinct DNS names kept per flow (default 16); more are counted in `dns_names_left_out`. */
  maxDnsNames?: number;
  /** Distinct HTTP hosts, methods and user agents kept per flow, each (default 8). */
  maxHttpValues?: number;
  /** Receives every flow that leaves the table, after it was removed. */
  onFlowEnd?: (flow: Flow, reason: FlowEndReason) => void;
}

/** Default `maxFlows`. */
export const DEFAULT_MAX_FLOWS = 200_000;
/** Default `maxDnsNames`. */
export const DEFAULT_MAX_DNS_NAMES = 16;
/** Default `maxHttpValues`. */
export const DEFAULT_MAX_HTTP_VALUES = 8;

/** Counters of a `FlowTable`, JSON-ready. */
export interface FlowTableStats {
  /** Flows live now. */
  active: number;
  /** Flows created since the table was made. */
  created: number;
  expired: number;
  evicted: number;
  reused: number;
  flushed: number;
  /** Packets not accounted to any flow: no IP layer, a fragment awaiting reassembly, or no TCP/UDP header. */
  unkeyed_packets: number;
}

/** One side of a flow in JSON. */
export interface FlowEndpointRecord {
  addr: string;
  /** Port; for ICMP the type (originator: the request type; responder: the reply type, or the code). */
  port?: number;
  packets: number;
  /** Bytes on the wire (frame length), like tshark's conversation table. */
  bytes: number;
}

/** TLS facts of a flow, each the first seen (the version: the server's choice once its hello was seen). */
export interface FlowTlsRecord {
  sni?: string;
  ja3?: string;
  ja3s?: string;
  ja4?: string;
  version?: string;
}

/** A flow as JSON. Timestamps are decimal strings at the capture's precision, like packet records. */
export interface FlowRecord {
  id: number;
  /** `tcp`, `udp`, `icmp`, `icmp6`, ... or `proto_<n>`. */
  proto: string;
  orig: FlowEndpointRecord;
  resp: FlowEndpointRecord;
  /** Outermost VLAN id. */
  vlan?: number;
  /** Outermost tunnel the flow was carried in (the flow itself is the innermost packet's). */
  tunnel?: string;
  /** ICMP echo identifier. */
  icmp_id?: number;
  first_ts: string;
  last_ts: string;
  duration_s: number;
  /** A `TcpConnState` for TCP; `one_way` or `two_way` for the others. */
  state: string;
  /** TCP only from here to `out_of_order`. */
  history?: string;
  /** First application protocol decoded in the flow. */
  app?: string;
  syn?: number;
  synack?: number;
  rst?: number;
  fin?: number;
  retransmissions?: { orig: number; resp: number };
  out_of_order?: { orig: number; resp: number };
  dns_names?: string[];
  dns_names_left_out?: number;
  http_hosts?: string[];
  http_methods?: string[];
  http_user_agents?: string[];
  /** Occurrences of HTTP values not kept because their list was full. */
  http_left_out?: number;
  /** TLS (or QUIC's TLS) facts. */
  tls?: FlowTlsRecord;
  end_reason?: FlowEndReason;
}

/** Per-flow bounds of the application fact lists (shared by every flow of a table). */
export interface FlowLimits {
  dns: number;
  http: number;
}

const DEFAULT_LIMITS: FlowLimits = { dns: DEFAULT_MAX_DNS_NAMES, http: DEFAULT_MAX_HTTP_VALUES };

/** A list of distinct strings, bounded; what did not fit is counted in `leftOut` (occurrences). */
export class NameList {
  readonly items: string[] = [];
  leftOut = 0;
  add(s: string, max: number): void {
    if (this.items.includes(s)) return;
    if (this.items.length < max) this.items.push(s);
    else this.leftOut++;
  }
}

// Timeout classes: each has its own list, kept in last-seen order.
const C_TCP_ESTABLISHED = 0, C_TCP_HALF_OPEN = 1, C_TCP_CLOSED = 2, C_UDP = 3, C_ICMP = 4, C_OTHER = 5;
const CLASSES = 6;

/**
 * A bidirectional flow. `orig` is the side that sent the first packet seen. A flow is its own key, with
 * source = originator (it extends `FlowKey`), so that a lookup compares the address words without
 * following a pointer to a separate key object: in a table of many flows that pointer is a cache miss.
 */
export class Flow extends FlowKey {
  origPackets = 0;
  origBytes = 0;
  respPackets = 0;
  respBytes = 0;
  /** First and last packet time, exactly (seconds, fraction, fraction digits). */
  firstSec: number;
  firstFrac: number;
  firstDigits: number;
  lastSec: number;
  lastFrac: number;
  lastDigits: number;
  /** First and last packet time as float seconds, for arithmetic. */
  firstTime: number;
  lastTime: number;
  /** Whether the latest packet came from the originator. */
  lastFromOrig = true;
  /** TCP state; undefined for other protocols. */
  readonly tcp: TcpState | undefined;
  /** First application protocol decoded in this flow. */
  app: string | undefined = undefined;
  dnsNames: NameList | undefined = undefined;
  httpHosts: NameList | undefined = undefined;
  httpMethods: NameList | undefined = undefined;
  httpUserAgents: NameList | undefined = undefined;
  tls: FlowTlsRecord | undefined = undefined;
  /** Set when the flow left the table. */
  endReason: FlowEndReason | undefined = undefined;

  // Table links (owned by FlowTable).
  /** @internal */
  _bucketNext: Flow | undefined = undefined;
  /** @internal */
  _prev: Flow | undefined = undefined;
  /** @internal */
  _next: Flow | undefined = undefined;
  /** @internal */
  _class = 0;
  private tlsVersionFromServer = false;

  constructor(
    readonly id: number,
    key: FlowKey,
    p: DecodedPacket,
    now: number,
    private readonly limits: FlowLimits = DEFAULT_LIMITS,
  ) {
    super();
    this.copyFrom(key);
    this.tcp = key.proto === PROTO_TCP ? new TcpState() : undefined;
    this.firstSec = this.lastSec = p.tsSec;
    this.firstFrac = this.lastFrac = p.tsFrac;
    this.firstDigits = this.lastDigits = p.tsDigits;
    this.firstTime = this.lastTime = now;
  }

  /** The flow's key, source = originator (the flow itself). */
  get key(): FlowKey {
    return this;
  }

  /** Originator address as text. */
  get origAddr(): string {
    return this.src;
  }

  /** Responder address as text. */
  get respAddr(): string {
    return this.dst;
  }

  /** TCP state, or `one_way`/`two_way` (whether the responder sent anything) for other protocols. */
  get state(): string {
    if (this.tcp !== undefined) return this.tcp.state;
    return this.respPackets > 0 ? "two_way" : "one_way";
  }

  /** Seconds between the first and the last packet, at the capture's precision. */
  get durationSeconds(): number {
    const digits = Math.max(this.firstDigits, this.lastDigits);
    const d = (this.lastSec - this.firstSec) +
      (this.lastFrac / pow10(this.lastDigits) - this.firstFrac / pow10(this.firstDigits));
    const f = pow10(Math.min(digits, 9));
    return Math.round(d * f) / f;
  }

  /** Accounts one packet (whose key matched this flow) to the flow; `FlowTable.update` calls it. */
  record(p: DecodedPacket, ls: LayerSet, fromOrig: boolean, now: number): void {
    this.lastFromOrig = fromOrig;
    if (fromOrig) {
      this.origPackets++;
      this.origBytes += p.len;
    } else {
      this.respPackets++;
      this.respBytes += p.len;
    }
    // Timestamps may step back (merged captures, clock steps): first is the earliest, last the latest.
    if (now >= this.lastTime) {
      this.lastTime = now;
      this.lastSec = p.tsSec;
      this.lastFrac = p.tsFrac;
      this.lastDigits = p.tsDigits;
    } else if (now < this.firstTime) {
      this.firstTime = now;
      this.firstSec = p.tsSec;
      this.firstFrac = p.tsFrac;
      this.firstDigits = p.tsDigits;
    }
    const tcp = this.tcp;
    if (tcp !== undefined && ls.tcp !== undefined) {
      tcp.update(ls.tcp.flags, ls.tcp.seq, ls.tcp.len, fromOrig);
    }
    if (ls.app !== undefined) this.appFacts(ls.app, ls.appRecord);
  }

  /** Keeps the application facts detectors and summaries ask about, bounded. */
  private appFacts(app: string, rec: object | undefined): void {
    this.app ??= app;
    if (rec === undefined) return;
    const limits = this.limits;
    if (app === "dns") {
      const qd = (rec as DnsRecord).qd;
      if (qd !== undefined) {
        for (const q of qd) (this.dnsNames ??= new NameList()).add(q.name, limits.dns);
      }
    } else if (app === "http") {
      const h = rec as HttpRecord;
      if (h.host !== undefined) (this.httpHosts ??= new NameList()).add(h.host, limits.http);
      if (h.method !== undefined) (this.httpMethods ??= new NameList()).add(h.method, limits.http);
      if (h.user_agent !== undefined) {
        (this.httpUserAgents ??= new NameList()).add(h.user_agent, limits.http);
      }
    } else if (app === "tls") {
      const t = rec as TlsRecord;
      if (
        t.sni === undefined && t.ja3 === undefined && t.ja3s === undefined && t.ja4 === undefined &&
        t.version === undefined
      ) return;
      const tls = this.tls ??= {};
      if (t.sni !== undefined) tls.sni ??= t.sni;
      if (t.ja3 !== undefined) tls.ja3 ??= t.ja3;
      if (t.ja3s !== undefined) tls.ja3s ??= t.ja3s;
      if (t.ja4 !== undefined) tls.ja4 ??= t.ja4;
      if (t.version !== undefined) {
        // A ServerHello's version is the one negotiated; a ClientHello's only the highest offered.
        const fromServer = t.handshake === "server_hello" || t.ja3s !== undefined;
        if (fromServer && !this.tlsVersionFromServer) {
          tls.version = t.version;
          this.tlsVersionFromServer = true;
        } else {
          tls.version ??= t.version;
        }
      }
    } else if (app === "quic") {
      // QUIC carries a TLS 1.3 handshake: its ClientHello facts go under `tls`.
      const q = rec as QuicRecord;
      if (q.sni === undefined && q.ja4 === undefined) return;
      const tls = this.tls ??= {};
      if (q.sni !== undefined) tls.sni ??= q.sni;
      if (q.ja4 !== undefined) tls.ja4 ??= q.ja4;
    }
  }

  /** The flow as a plain JSON record (see `FlowRecord`). */
  toJSON(): FlowRecord {
    const ports = this.hasPorts;
    const orig: FlowEndpointRecord = ports
      ? { addr: this.src, port: this.sport, packets: this.origPackets, bytes: this.origBytes }
      : { addr: this.src, packets: this.origPackets, bytes: this.origBytes };
    const resp: FlowEndpointRecord = ports
      ? { addr: this.dst, port: this.dport, packets: this.respPackets, bytes: this.respBytes }
      : { addr: this.dst, packets: this.respPackets, bytes: this.respBytes };
    const rec: FlowRecord = { id: this.id, proto: this.protoName, orig, resp } as FlowRecord;
    if (this.vlan >= 0) rec.vlan = this.vlan;
    if (this.tunnel !== undefined) rec.tunnel = this.tunnel;
    if ((this.proto === PROTO_ICMP || this.proto === PROTO_ICMP6) && this.ident !== 0) {
      rec.icmp_id = this.ident;
    }
    rec.first_ts = formatTs(this.firstSec, this.firstFrac, this.firstDigits);
    rec.last_ts = formatTs(this.lastSec, this.lastFrac, this.lastDigits);
    rec.duration_s = this.durationSeconds;
    rec.state = this.state;
    const tcp = this.tcp;
    if (tcp !== undefined) rec.history = tcp.history;
    if (this.app !== undefined) rec.app = this.app;
    if (tcp !== undefined) {
      rec.syn = tcp.syn;
      rec.synack = tcp.synack;
      rec.rst = tcp.rst;
      rec.fin = tcp.fin;
      rec.retransmissions = { orig: tcp.retransOrig, resp: tcp.retransResp };
      rec.out_of_order = { orig: tcp.oooOrig, resp: tcp.oooResp };
    }
    if (this.dnsNames !== undefined) {
      rec.dns_names = [...this.dnsNames.items];
      if (this.dnsNames.leftOut > 0) rec.dns_names_left_out = this.dnsNames.leftOut;
    }
    let httpLeftOut = 0;
    if (this.httpHosts !== undefined) {
      rec.http_hosts = [...this.httpHosts.items];
      httpLeftOut += this.httpHosts.leftOut;
    }
    if (this.httpMethods !== undefined) {
      rec.http_methods = [...this.httpMethods.items];
      httpLeftOut += this.httpMethods.leftOut;
    }
    if (this.httpUserAgents !== undefined) {
      rec.http_user_agents = [...this.httpUserAgents.items];
      httpLeftOut += this.httpUserAgents.leftOut;
    }
    if (httpLeftOut > 0) rec.http_left_out = httpLeftOut;
    if (this.tls !== undefined) rec.tls = { ...this.tls };
    if (this.endReason !== undefined) rec.end_reason = this.endReason;
    return rec;
  }
}

/** Head and tail of one timeout class's list. */
interface FlowList {
  head: Flow | undefined;
  tail: Flow | undefined;
}

/** The flow table. Feed it every decoded packet in capture order with `update`. */
export class FlowTable {
  readonly maxFlows: number;
  readonly timeouts: Readonly<FlowTimeouts>;
  private readonly onFlowEnd: ((flow: Flow, reason: FlowEndReason) => void) | undefined;
  private readonly limits: FlowLimits;
  private readonly buckets = new Map<number, Flow>();
  private readonly lists: FlowList[] = [];
  /** Timeout of each class, indexed like `lists`. */
  private readonly classTimeout: number[];
  private readonly key = new FlowKey();
  private readonly findKey = new FlowKey();
  private size = 0;
  private nextExpiry = -Infinity;
  private created = 0;
  private expired = 0;
  private evicted = 0;
  private reused = 0;
  private flushed = 0;
  private unkeyed = 0;

  constructor(options: FlowTableOptions = {}) {
    const maxFlows = options.maxFlows ?? DEFAULT_MAX_FLOWS;
    if (!Number.isInteger(maxFlows) || maxFlows < 1) {
      throw new RangeError(`maxFlows must be a positive integer, got ${maxFlows}`);
    }
    this.maxFlows = maxFlows;
    const timeouts = { ...DEFAULT_FLOW_TIMEOUTS, ...options.timeouts };
    for (const [name, t] of Object.entries(timeouts)) {
      if (typeof t !== "number" || Number.isNaN(t) || t < 0) {
        throw new RangeError(`timeouts.${name} must be a non-negative number of seconds, got ${t}`);
      }
    }
    this.timeouts = Object.freeze(timeouts);
    this.classTimeout = [
      timeouts.tcpEstablished,
      timeouts.tcpHalfOpen,
      timeouts.tcpClosed,
      timeouts.udp,
      timeouts.icmp,
      timeouts.other,
    ];
    this.limits = {
      dns: positive(options.maxDnsNames ?? DEFAULT_MAX_DNS_NAMES, "maxDnsNames"),
      http: positive(options.maxHttpValues ?? DEFAULT_MAX_HTTP_VALUES, "maxHttpValues"),
    };
    this.onFlowEnd = options.onFlowEnd;
    for (let i = 0; i < CLASSES; i++) this.lists.push({ head: undefined, tail: undefined });
  }

  /**
   * Accounts `packet` to its flow, creating the flow when none is live, and returns it; returns undefined
   * for a packet that is not keyed (no IP layer, a fragment awaiting reassembly, no TCP/UDP header),
   * counted in `unkeyed_packets`. The packet's layers are read during the call only.
   */
  update(packet: DecodedPacket): Flow | undefined {
    const key = this.key;
    if (!key.fromLayers(packet.layers)) {
      this.unkeyed++;
      return undefined;
    }
    const now = packet.tsSec + packet.tsFrac / pow10(packet.tsDigits);
    if (now >= this.nextExpiry) {
      this.expire(now);
      this.nextExpiry = Math.floor(now) + 1;
    }
    const ls = key.layers!;
    let fromOrig = true;
    let flow = this.lookup(key);
    if (flow !== undefined) {
      fromOrig = key.sameDirection(flow);
      // Between expiry sweeps a packet may arrive after its flow's timeout: it starts a new flow.
      if (now - flow.lastTime > this.classTimeout[flow._class]) {
        this.end(flow, "expired");
        flow = undefined;
      } else if (
        flow.tcp !== undefined && ls.tcp !== undefined &&
        flow.tcp.isNewConnection(ls.tcp.flags, ls.tcp.seq, fromOrig)
      ) {
        this.end(flow, "reused");
        flow = undefined;
      }
    }
    if (flow === undefined) {
      if (this.size >= this.maxFlows) this.evictOne();
      flow = new Flow(++this.created, key, packet, now, this.limits);
      fromOrig = true;
      this.insert(flow);
    }
    flow.record(packet, ls, fromOrig, now);
    this.requeue(flow);
    return flow;
  }

  /** The live flow `packet` belongs to, without accounting the packet. */
  find(packet: DecodedPacket): Flow | undefined {
    const key = this.findKey;
    return key.fromLayers(packet.layers) ? this.lookup(key) : undefined;
  }

  /**
   * Ends every flow idle for more than its timeout at packet time `now` (float seconds). `update` calls it
   * at most once per second of packet time; call it yourself when packets stop arriving (live capture).
   * Returns how many flows expired.
   */
  expire(now: number): number {
    let n = 0;
    for (let c = 0; c < CLASSES; c++) {
      const list = this.lists[c], timeout = this.classTimeout[c];
      // Lists are in last-seen order, so the first flow still fresh ends the walk.
      while (list.head !== undefined && now - list.head.lastTime > timeout) {
        this.end(list.head, "expired");
        n++;
      }
    }
    return n;
  }

  /** Ends every live flow with reason `flushed` (at the end of a capture), oldest first. */
  flush(): number {
    let n = 0;
    for (;;) {
      const oldest = this.oldest();
      if (oldest === undefined) return n;
      this.end(oldest, "flushed");
      n++;
    }
  }

  /** Live flows, by timeout class, least recently seen first within each. */
  *flows(): IterableIterator<Flow> {
    for (const list of this.lists) {
      for (let f = list.head; f !== undefined;) {
        const next = f._next; // the caller may end flows while iterating
        yield f;
        f = next;
      }
    }
  }

  /** Flows live now. */
  get activeFlows(): number {
    return this.size;
  }

  /** Counters, JSON-ready. */
  stats(): FlowTableStats {
    return {
      active: this.size,
      created: this.created,
      expired: this.expired,
      evicted: this.evicted,
      reused: this.reused,
      flushed: this.flushed,
      unkeyed_packets: this.unkeyed,
    };
  }

  private lookup(key: FlowKey): Flow | undefined {
    for (let f = this.buckets.get(key.hash); f !== undefined; f = f._bucketNext) {
      if (key.sameDirection(f) || key.reverseOf(f)) return f;
    }
    return undefined;
  }

  private insert(flow: Flow): void {
    const head = this.buckets.get(flow.hash);
    if (head === undefined) {
      this.buckets.set(flow.hash, flow);
    } else {
      // Behind the head, so the map entry need not change.
      flow._bucketNext = head._bucketNext;
      head._bucketNext = flow;
    }
    flow._class = classOf(flow);
    this.append(flow);
    this.size++;
  }

  /** Moves `flow` to the tail of its (possibly new) class's list after a packet. */
  private requeue(flow: Flow): void {
    const c = classOf(flow);
    if (c === flow._class && this.lists[c].tail === flow) return;
    this.unlink(flow);
    flow._class = c;
    this.append(flow);
  }

  private append(flow: Flow): void {
    const list = this.lists[flow._class];
    flow._prev = list.tail;
    flow._next = undefined;
    if (list.tail !== undefined) list.tail._next = flow;
    else list.head = flow;
    list.tail = flow;
  }

  private unlink(flow: Flow): void {
    const list = this.lists[flow._class];
    if (flow._prev !== undefined) flow._prev._next = flow._next;
    else list.head = flow._next;
    if (flow._next !== undefined) flow._next._prev = flow._prev;
    else list.tail = flow._prev;
    flow._prev = flow._next = undefined;
  }

  /** The least recently seen live flow: the oldest of the list heads. */
  private oldest(): Flow | undefined {
    let oldest: Flow | undefined;
    for (const list of this.lists) {
      if (list.head !== undefined && (oldest === undefined || list.head.lastTime < oldest.lastTime)) {
        oldest = list.head;
      }
    }
    return oldest;
  }

  private evictOne(): void {
    const victim = this.oldest();
    if (victim !== undefined) this.end(victim, "evicted");
  }

  /** Removes `flow` from the table, counts why, and hands it to `onFlowEnd`. */
  private end(flow: Flow, reason: FlowEndReason): void {
    const hash = flow.hash;
    const head = this.buckets.get(hash);
    if (head === flow) {
      if (flow._bucketNext !== undefined) this.buckets.set(hash, flow._bucketNext);
      else this.buckets.delete(hash);
    } else {
      let p = head;
      while (p !== undefined && p._bucketNext !== flow) p = p._bucketNext;
      if (p !== undefined) p._bucketNext = flow._bucketNext;
    }
    flow._bucketNext = undefined;
    this.unlink(flow);
    this.size--;
    flow.endReason = reason;
    if (reason === "expired") this.expired++;
    else if (reason === "evicted") this.evicted++;
    else if (reason === "reused") this.reused++;
    else this.flushed++;
    this.onFlowEnd?.(flow, reason);
  }
}

function classOf(flow: Flow): number {
  const tcp = flow.tcp;
  if (tcp !== undefined) {
    if (tcp.opening) return C_TCP_HALF_OPEN;
    return tcp.open ? C_TCP_ESTABLISHED : C_TCP_CLOSED;
  }
  const proto = flow.proto;
  if (proto === PROTO_UDP) return C_UDP;
  if (proto === PROTO_ICMP || proto === PROTO_ICMP6) return C_ICMP;
  return C_OTHER;
}

function positive(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, got ${n}`);
  return n;
}
