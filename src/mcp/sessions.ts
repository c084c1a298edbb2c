/**
 * The state behind the MCP tools: capture sessions (live captures running in the background, and
 * capture files read once), each with its counters, an `Analysis` (the statistics of `netwatch
 * analyze`) and a `PacketRing` holding its packets' raw bytes, which `get_packets`, `get_packet`,
 * `follow_stream` and `export_pcap` query. Knows nothing of MCP: the tools in `tools/` turn it into
 * results. (It belongs with the core library; it sits here until one owns it.)
 *
 * The packet store budget (`--store-mb`) is **per session**: every session, live or file, gets its own
 * ring bounded by it. Trade-off: one busy capture cannot evict another session's packets, and a cursor
 * into one session is never disturbed by traffic in another, at the price of a worst case of
 * `maxSessions` x budget (a ring allocates its 4 MiB slabs only as packets arrive, so a small file costs
 * what it holds, and a forgotten session's ring is released with it). What a ring evicts is counted in the
 * session's `store` counters; a file session that did not fit is queried from the file itself.
 *
 * A live session runs `runSource` over a `LiveCapture`, whose delivery yields to the event loop every
 * few milliseconds, so the server answers other calls while a capture is busy.
 *
 * @module
 */

import { type LiveCapture, type LiveCaptureOptions, openLiveCapture } from "../../ffi/live_capture.ts";
import type { CaptureStats } from "../../ffi/live_capture.ts";
import { openCapture } from "../capture/open_capture.ts";
import { PcapngSpool } from "../capture/pcapng_spool.ts";
import { describeOpenError } from "../cli/open_input.ts";
import type { Frame, InterfaceInfo } from "../capture/source.ts";
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import { runSource } from "../engine.ts";
import { Analysis } from "../stats/analysis.ts";
import { PacketRing } from "../store/packet_ring.ts";
import {
  getPacket,
  type PacketDetail,
  type PacketFilter,
  queryCapture,
  type QueryOptions,
  queryPackets,
  type QueryResult,
} from "../store/packet_query.ts";
import { PathError, PathPolicy } from "./paths.ts";

/**
 * Packet store budget of each session, in MiB (`--store-mb`). Trade-off: memory against how far back
 * queries reach in a busy live capture (256 MiB is a few minutes of a loaded 10 Mbit/s link).
 */
export const DEFAULT_STORE_MB = 256;
/** Sessions kept; past it the oldest finished one is forgotten (and counted). */
export const DEFAULT_MAX_SESSIONS = 32;
/** Live sessions running at once: each holds a kernel buffer and a reader thread. */
export const DEFAULT_MAX_RUNNING = 4;
/** Packets between two looks at the clock while reading a file (for progress). */
const PROGRESS_EVERY = 1024;
/** Shortest interval between two progress reports while reading a file. */
export const PROGRESS_INTERVAL_MS = 200;

/** A failure the caller can act on (unknown id, bad path, no permission...): becomes an `isError` result. */
export class SessionError extends Error {
  override name = "SessionError";
}

/** Where a session's packets come from. */
export type SessionKind = "live" | "file";
/** `running` while packets arrive (or a file is read), then `done`, or `failed` with `error`. */
export type SessionState = "running" | "stopping" | "done" | "failed";

/** Options of {@linkcode Sessions.startLive}. */
export interface StartLiveOptions {
  iface: string;
  filter?: string;
  /** Stop after this many seconds. */
  durationS?: number;
  /** Stop after this many packets. */
  maxPackets?: number;
  /** Also write every packet to this new pcapng file (checked against the path policy). */
  spool?: string;
}

/** The JSON view of a session, as tools return it. */
export interface SessionInfo {
  capture_id: string;
  kind: SessionKind;
  state: SessionState;
  /** Interface name (live) or resolved file path (file). */
  source: string;
  filter?: string;
  started_at: string;
  ended_at?: string;
  /** Why a live capture ended: `stopped`, `duration`, `max_packets`, `error`, `shutdown`. */
  stop_reason?: string;
  /** Packets that went through the decoder. */
  decoded: number;
  /** Bytes on the wire of those packets. */
  bytes: number;
  /** libpcap's counters (live sessions). */
  pcap_stats?: CaptureStats;
  /** The spool file and packets written to it. */
  spool?: { path: string; written: number };
  /** The session's packet store: what it holds and what it evicted to stay within its budget. */
  store: StoreInfo;
  warnings?: string[];
  error?: string;
}

/** The counters of a session's packet store. */
export interface StoreInfo {
  /** Packets held. */
  packets: number;
  /** Captured bytes held. */
  bytes: number;
  /** The budget (bytes charged: captured bytes plus per-packet bookkeeping). */
  max_bytes: number;
  /** Packets evicted (oldest first) to stay within the budget. */
  evicted_packets: number;
  /** Captured bytes of the evicted packets. */
  evicted_bytes: number;
  /** Packet number (`n`) of the oldest packet held, when any is held. */
  first_n?: number;
  /** Packet number (`n`) of the newest packet held. */
  last_n?: number;
}

/** Options of a {@linkcode Session}. */
export interface SessionOptions {
  /** Budget of the session's packet store in bytes (default {@linkcode DEFAULT_STORE_MB} MiB). */
  storeBytes?: number;
  /** Flows tracked at once by the session's analysis (default: the flow table's). */
  maxFlows?: number;
  /** The BPF filter of a live capture. */
  filter?: string;
}

/** One capture session. */
export class Session {
  readonly id: string;
  readonly kind: SessionKind;
  readonly source: string;
  readonly filter?: string;
  readonly startedAt = new Date();
  endedAt?: Date;
  state: SessionState = "running";
  stopReason?: string;
  error?: string;
  /** The statistics of `netwatch analyze`, fed with every packet. */
  readonly analysis: Analysis;
  /** The raw bytes of the session's packets, bounded by the store budget. */
  readonly ring: PacketRing;
  /** The interfaces the packets came from (names and snaplens for exports). */
  interfaces: readonly InterfaceInfo[] = [];
  decoded = 0;
  bytes = 0;
  readonly warnings: string[] = [];
  /** Resolves when the source has ended and everything is released. */
  done: Promise<void> = Promise.resolve();
  capture?: LiveCapture;
  spool?: PcapngSpool;
  /** The deadline timer of a live session with `durationS`. */
  timer?: ReturnType<typeof setTimeout>;

  constructor(id: string, kind: SessionKind, source: string, options: SessionOptions = {}) {
    this.id = id;
    this.kind = kind;
    this.source = source;
    if (options.filter !== undefined) this.filter = options.filter;
    this.ring = new PacketRing({ maxBytes: options.storeBytes ?? DEFAULT_STORE_MB * 1024 * 1024 });
    this.analysis = new Analysis(
      options.maxFlows === undefined ? {} : { flows: { maxFlows: options.maxFlows } },
    );
  }

  /** Counts and summarises a packet and stores its bytes (`frame` is the one `packet` was decoded from). */
  add(p: DecodedPacket, frame: Frame): void {
    this.decoded++;
    this.bytes += p.len;
    this.analysis.add(p);
    this.ring.push(frame);
  }

  /** The packet store's counters. */
  storeInfo(): StoreInfo {
    const r = this.ring;
    const info: StoreInfo = {
      packets: r.size,
      bytes: r.bytes,
      max_bytes: r.maxBytes,
      evicted_packets: r.evictedPackets,
      evicted_bytes: r.evictedBytes,
    };
    if (r.size > 0) {
      info.first_n = r.frameAt(r.firstSeq)!.n;
      info.last_n = r.frameAt(r.nextSeq - 1)!.n;
    }
    return info;
  }

  /**
   * One page of the packets matching `filter`, from the store; or, for a file session whose store had to
   * evict, from the file itself, so that every packet of the file can still be reached (its cursors are
   * then file cursors). Throws `TypeError`/`RangeError` for a bad filter or cursor and a `PcapError` for
   * a bad BPF expression.
   */
  async query(
    filter: PacketFilter,
    options: QueryOptions,
  ): Promise<QueryResult & { from: "store" | "file" }> {
    if (this.kind === "file" && this.ring.evictedPackets > 0) {
      return { ...await queryCapture(this.source, filter, options), from: "file" };
    }
    return { ...queryPackets(this.ring, filter, options), from: "store" };
  }

  /** Plain JSON view. */
  info(): SessionInfo {
    const info: SessionInfo = {
      capture_id: this.id,
      kind: this.kind,
      state: this.state,
      source: this.source,
      started_at: this.startedAt.toISOString(),
      decoded: this.decoded,
      bytes: this.bytes,
      store: this.storeInfo(),
    };
    if (this.filter !== undefined) info.filter = this.filter;
    if (this.endedAt !== undefined) info.ended_at = this.endedAt.toISOString();
    if (this.stopReason !== undefined) info.stop_reason = this.stopReason;
    if (this.capture !== undefined) info.pcap_stats = { ...this.capture.stats() };
    if (this.spool !== undefined) info.spool = { path: this.spool.path, written: this.spool.packets };
    if (this.warnings.length > 0) info.warnings = [...this.warnings];
    if (this.error !== undefined) info.error = this.error;
    return info;
  }
}

/** Options of {@linkcode Sessions}. */
export interface SessionsOptions {
  /** Where files may be read and written (default: unconfined). */
  paths?: PathPolicy;
  /** Packet store budget of each session, in bytes (default {@linkcode DEFAULT_STORE_MB} MiB). */
  storeBytes?: number;
  /** Flows tracked at once by each session's analysis (default: the flow table's, 200 000). */
  maxFlows?: number;
  /** Directory `export_pcap` writes into; exports are refused without one. */
  outDir?: string;
  maxSessions?: number;
  maxRunning?: number;
  /** Opens a live capture (default `openLiveCapture`; tests may substitute). */
  openLive?: (iface: string, options: LiveCaptureOptions) => LiveCapture;
}

/** Which session a tool means: an id, a capture file, or (neither) the most recent session. */
export interface SessionRef {
  capture_id?: string;
  pcap?: string;
}

/** Progress of reading a file: packets so far. */
export type ProgressFn = (packets: number, done: boolean) => void;

/** All sessions of one server. */
export class Sessions {
  readonly paths: PathPolicy;
  readonly storeBytes: number;
  readonly maxFlows?: number;
  readonly outDir?: string;
  readonly maxSessions: number;
  readonly maxRunning: number;
  /** Finished sessions forgotten to stay within `maxSessions`. */
  evicted = 0;
  #openLive: (iface: string, options: LiveCaptureOptions) => LiveCapture;
  #sessions = new Map<string, Session>();
  #seq = 0;

  constructor(options: SessionsOptions = {}) {
    this.paths = options.paths ?? new PathPolicy();
    this.storeBytes = options.storeBytes ?? DEFAULT_STORE_MB * 1024 * 1024;
    if (!Number.isInteger(this.storeBytes) || this.storeBytes < 1) {
      throw new RangeError(`storeBytes must be a positive integer, got ${this.storeBytes}`);
    }
    if (options.maxFlows !== undefined) this.maxFlows = options.maxFlows;
    if (options.outDir !== undefined) this.outDir = options.outDir;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.maxRunning = options.maxRunning ?? DEFAULT_MAX_RUNNING;
    this.#openLive = options.openLive ?? openLiveCapture;
  }

  /** Every session, oldest first. */
  list(): Session[] {
    return [...this.#sessions.values()];
  }

  #newId(kind: SessionKind): string {
    return `${kind === "live" ? "cap" : "file"}-${++this.#seq}`;
  }

  #add(s: Session): void {
    this.#sessions.set(s.id, s);
    while (this.#sessions.size > this.maxSessions) {
      const victim = [...this.#sessions.values()].find((x) => x.state === "done" || x.state === "failed");
      if (victim === undefined) break;
      this.#sessions.delete(victim.id);
      this.evicted++;
    }
  }

  /**
   * Starts a live capture in the background. Throws a `PcapError` (bad filter, permission, unknown
   * device...), a `PathError` for a refused spool path, or a `SessionError`.
   */
  async startLive(options: StartLiveOptions): Promise<Session> {
    const running = this.list().filter((s) => s.kind === "live" && s.state === "running").length;
    if (running >= this.maxRunning) {
      throw new SessionError(
        `${running} live captures are already running (the limit is ${this.maxRunning}); stop one with capture_stop first.`,
      );
    }
    const spoolPath = options.spool === undefined ? undefined : this.paths.writable(options.spool);
    const cap = this.#openLive(options.iface, { filter: options.filter });
    const s = new Session(this.#newId("live"), "live", options.iface, this.#sessionOptions(cap.filter));
    s.capture = cap;
    s.interfaces = cap.interfaces;
    s.warnings.push(...cap.warnings);
    if (spoolPath !== undefined) {
      try {
        s.spool = await PcapngSpool.forCapture(spoolPath, cap);
      } catch (e) {
        cap.close();
        await cap.closed;
        throw new PathError(`Cannot write "${options.spool}": ${e instanceof Error ? e.message : e}`);
      }
    }
    const max = options.maxPackets ?? Infinity;
    const spool = s.spool;
    const stop = (reason: string) => {
      s.stopReason ??= reason;
      if (s.state === "running") s.state = "stopping";
      cap.close();
    };
    if (options.durationS !== undefined) {
      s.timer = setTimeout(() => stop("duration"), options.durationS * 1000);
    }
    const run = runSource(cap, (packet, frame) => {
      s.add(packet, frame);
      spool?.write(frame);
      if (s.decoded >= max) {
        s.stopReason ??= "max_packets";
        return false;
      }
    });
    s.done = run.then(
      (result) => {
        if (result.error !== undefined) {
          s.error = result.error.message;
          s.stopReason ??= "error";
        }
      },
      (e) => {
        s.error = e instanceof Error ? e.message : String(e);
        s.stopReason ??= "error";
      },
    ).then(async () => {
      clearTimeout(s.timer);
      await cap.closed;
      if (spool !== undefined) {
        const st = cap.stats();
        try {
          spool.close({ received: st.received, dropped: st.dropped, ifDropped: st.if_dropped });
        } catch (e) {
          s.warnings.push(`spool: ${e instanceof Error ? e.message : e}`);
        }
      }
      s.state = s.error === undefined ? "done" : "failed";
      s.endedAt = new Date();
    });
    this.#add(s);
    return s;
  }

  /** Stops a live session and waits until its final counters are known. */
  async stop(s: Session, reason = "stopped"): Promise<Session> {
    if (s.kind !== "live") {
      throw new SessionError(`${s.id} reads a file, not a live capture: nothing to stop.`);
    }
    if (s.state === "running") {
      s.stopReason ??= reason;
      s.state = "stopping";
      s.capture?.close();
    }
    await s.done;
    return s;
  }

  /**
   * Reads the capture file at `path` (checked against the path policy) into a new session. Throws a
   * `PathError` or `SessionError` when it cannot be opened; damage part-way is kept in `error`.
   */
  async openFile(path: string, onProgress?: ProgressFn): Promise<Session> {
    const real = this.paths.readable(path);
    let source;
    try {
      source = await openCapture(real);
    } catch (e) {
      throw new SessionError(describeOpenError(path, e));
    }
    const s = new Session(this.#newId("file"), "file", real, this.#sessionOptions());
    s.interfaces = source.interfaces;
    this.#add(s);
    let last = performance.now();
    onProgress?.(0, false);
    const run = runSource(source, (packet, frame) => {
      s.add(packet, frame);
      if (onProgress !== undefined && s.decoded % PROGRESS_EVERY === 0) {
        const now = performance.now();
        if (now - last >= PROGRESS_INTERVAL_MS) {
          last = now;
          onProgress(s.decoded, false);
        }
      }
    });
    s.done = run.then((result) => {
      if (result.error !== undefined) s.error = describeOpenError(path, result.error);
    }, (e) => {
      s.error = e instanceof Error ? e.message : String(e);
    }).then(() => {
      const evicted = s.ring.evictedPackets;
      if (evicted > 0) {
        s.warnings.push(
          `The packet store (budget ${s.ring.maxBytes} bytes) holds the last ${s.ring.size} of ${s.decoded} ` +
            `packets (${evicted} evicted); get_packets reads the file instead, get_packet, follow_stream ` +
            `and export_pcap see only the packets held. Raise --store-mb to hold them all.`,
        );
      }
      s.state = s.error === undefined ? "done" : "failed";
      s.endedAt = new Date();
      onProgress?.(s.decoded, true);
    });
    await s.done;
    return s;
  }

  /**
   * The session `ref` names: by id, by file (the newest session of that file, else a new one read
   * now), or the most recent session. Throws a `SessionError` (or `PathError`) saying what exists.
   */
  async resolve(ref: SessionRef, onProgress?: ProgressFn): Promise<Session> {
    if (ref.capture_id !== undefined && ref.pcap !== undefined) {
      throw new SessionError("Give either capture_id or pcap, not both.");
    }
    if (ref.capture_id !== undefined) {
      const s = this.#sessions.get(ref.capture_id);
      if (s === undefined) {
        throw new SessionError(
          `Unknown capture_id "${ref.capture_id}". ${this.#known()} Call list_captures to see the sessions.`,
        );
      }
      return s;
    }
    if (ref.pcap !== undefined) {
      const real = this.paths.readable(ref.pcap);
      const existing = this.list().reverse().find((s) => s.kind === "file" && s.source === real);
      return existing ?? await this.openFile(ref.pcap, onProgress);
    }
    const last = this.list().at(-1);
    if (last === undefined) {
      throw new SessionError(
        "There is no capture session yet: start one with capture_start or open_pcap, or pass pcap.",
      );
    }
    return last;
  }

  #known(): string {
    const ids = this.list().map((s) => s.id);
    return ids.length === 0 ? "There are no sessions." : `Known: ${ids.slice(-10).join(", ")}.`;
  }

  /**
   * Packet `n` of session `s` with a hex dump of at most `maxDumpBytes`, from the store, or from the file
   * when a file session's store no longer holds it. Throws a `SessionError` when it does not exist.
   */
  async packet(s: Session, n: number, maxDumpBytes: number): Promise<PacketDetail> {
    const held = getPacket(s.ring, n, { maxDumpBytes });
    if (held !== undefined) return held;
    if (s.kind === "file" && s.ring.evictedPackets > 0 && n >= 1 && n <= s.decoded) {
      const source = await openCapture(s.source);
      let found: PacketDetail | undefined;
      await source.run((frame) => {
        if (found !== undefined || frame.n !== n) return;
        const one = new PacketRing({ maxBytes: frame.caplen + 4096 });
        one.push(frame);
        found = getPacket(one, n, { maxDumpBytes });
        source.close();
      });
      if (found !== undefined) return found;
    }
    const st = s.storeInfo();
    throw new SessionError(
      `Packet ${n} is not in ${s.id}'s packet store` +
        (st.first_n === undefined
          ? " (it holds no packets)."
          : ` (it holds packets ${st.first_n} to ${st.last_n}; ${st.evicted_packets} older ones were evicted).`),
    );
  }

  #sessionOptions(filter?: string): SessionOptions {
    const o: SessionOptions = { storeBytes: this.storeBytes };
    if (this.maxFlows !== undefined) o.maxFlows = this.maxFlows;
    if (filter !== undefined) o.filter = filter;
    return o;
  }

  /** Stops every live session (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all(this.list().filter((s) => s.kind === "live").map((s) => this.stop(s, "shutdown")));
  }
}
