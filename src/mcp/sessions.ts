/**
 * The state behind the MCP tools: capture sessions (live captures running in the background, and
 * capture files read once), each with its counters, an `Analysis` (the statistics of `netwatch
 * analyze`) and, for live sessions, the records of its last packets. Knows nothing of MCP: the tools in
 * `tools/` turn it into results. (It belongs with the core library; it sits here until one owns it.)
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
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import { type PacketRecord, packetRecord } from "../decode/packet_record.ts";
import { runSource } from "../engine.ts";
import { Analysis } from "../stats/analysis.ts";
import { PathError, PathPolicy } from "./paths.ts";

/**
 * Records of the last packets kept per session. Trade-off: memory (a record is ~0.5-2 KB) against how
 * far back `get_packets` can page in a live session; files are re-read instead.
 */
export const DEFAULT_RECORDS_KEPT = 1000;
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
  /** Packet numbers whose records are held (`first` to `decoded`); files are re-read instead. */
  records_kept: number;
  warnings?: string[];
  error?: string;
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
  readonly analysis = new Analysis();
  decoded = 0;
  bytes = 0;
  readonly warnings: string[] = [];
  /** Resolves when the source has ended and everything is released. */
  done: Promise<void> = Promise.resolve();
  capture?: LiveCapture;
  spool?: PcapngSpool;
  /** The deadline timer of a live session with `durationS`. */
  timer?: ReturnType<typeof setTimeout>;
  #ring: PacketRecord[];
  #next = 0;
  #cap: number;

  constructor(id: string, kind: SessionKind, source: string, recordsKept: number, filter?: string) {
    this.id = id;
    this.kind = kind;
    this.source = source;
    if (filter !== undefined) this.filter = filter;
    this.#cap = recordsKept;
    this.#ring = [];
  }

  /** Counts and summarises a packet; keeps its record when this session keeps records. */
  add(p: DecodedPacket): void {
    this.decoded++;
    this.bytes += p.len;
    this.analysis.add(p);
    if (this.#cap > 0) {
      // The record is built now: the layers are views over a buffer the source reuses.
      const rec = packetRecord(p);
      if (this.#ring.length < this.#cap) this.#ring.push(rec);
      else this.#ring[this.#next] = rec;
      this.#next = (this.#next + 1) % this.#cap;
    }
  }

  /** Index (0-based, in packets) of the oldest record held. */
  get firstKept(): number {
    return this.decoded - this.#ring.length;
  }

  /** Held records from packet index `offset` (0-based), at most `limit`. */
  records(offset: number, limit: number): PacketRecord[] {
    const out: PacketRecord[] = [];
    const start = Math.max(offset, this.firstKept);
    const oldest = this.#ring.length < this.#cap ? 0 : this.#next;
    for (let i = start; i < this.decoded && out.length < limit; i++) {
      out.push(this.#ring[(oldest + (i - this.firstKept)) % this.#ring.length]);
    }
    return out;
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
      records_kept: this.kind === "live" ? this.#ring.length : 0,
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
  recordsKept?: number;
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
  readonly recordsKept: number;
  readonly maxSessions: number;
  readonly maxRunning: number;
  /** Finished sessions forgotten to stay within `maxSessions`. */
  evicted = 0;
  #openLive: (iface: string, options: LiveCaptureOptions) => LiveCapture;
  #sessions = new Map<string, Session>();
  #seq = 0;

  constructor(options: SessionsOptions = {}) {
    this.paths = options.paths ?? new PathPolicy();
    this.recordsKept = options.recordsKept ?? DEFAULT_RECORDS_KEPT;
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
    const s = new Session(this.#newId("live"), "live", options.iface, this.recordsKept, cap.filter);
    s.capture = cap;
    s.warnings.push(...cap.warnings);
    if (spoolPath !== undefined) {
      try {
        s.spool = await PcapngSpool.create(spoolPath, {
          iface: {
            linkType: cap.linkType,
            snaplen: cap.snaplen,
            name: cap.device,
            filter: cap.filter,
            tsresol: cap.tsDigits,
          },
        });
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
      s.add(packet);
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
    const s = new Session(this.#newId("file"), "file", real, 0);
    this.#add(s);
    let last = performance.now();
    onProgress?.(0, false);
    const run = runSource(source, (packet) => {
      s.add(packet);
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
   * Records of a file session's packets from `offset`, read again from the file (stopping after
   * `limit`), with the file's packet count when the read reached its end.
   */
  async fileRecords(s: Session, offset: number, limit: number): Promise<PacketRecord[]> {
    const source = await openCapture(s.source);
    const out: PacketRecord[] = [];
    let seen = 0;
    await runSource(source, (packet) => {
      if (seen++ < offset) return;
      out.push(packetRecord(packet));
      if (out.length >= limit) return false;
    });
    return out;
  }

  /** Stops every live session (server shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all(this.list().filter((s) => s.kind === "live").map((s) => this.stop(s, "shutdown")));
  }
}
