/**
 * Live capture from a network interface as a `PacketSource`.
 *
 * The handle is created, configured, activated and filtered on the calling thread, so every setup
 * failure is a synchronous `PcapError`; a module worker (`capture_worker.ts`) then reads packets with
 * synchronous `pcap_next_ex` calls and transfers them in batches (one `ArrayBuffer` per batch, flushed
 * when it holds 1024 packets or 1 MiB, or its oldest packet is 50 ms old). Nothing is allocated per
 * packet on either thread; the main thread allocates one view pair per batch.
 *
 * Flow control: Deno dispatches every queued worker message before it runs a timer, so a worker free to
 * post ahead of a slower consumer stalled the main thread for seconds (measured: 0.7-4.3 s at 1M packets
 * with tcpreplay --topspeed, ~70k packets queued, Ctrl-C seconds late). Now the main thread consumes
 * batches in slices of about {@linkcode SLICE_MS} from `setImmediate` callbacks (macrotasks after I/O:
 * timers, signals and reads get a turn between slices; a `MessageChannel` hop does not give timers one
 * in Deno, and a `setTimeout(0)` hop costs ~2 ms) and acknowledges each batch through the shared block
 * once its frames are consumed; the worker stops reading while {@linkcode DEFAULT_BATCHES_IN_FLIGHT}
 * batches are unacknowledged. A backlog then waits in libpcap's kernel buffer, and when that overflows
 * the kernel drops packets and `pcap_stats` counts them: every packet is either delivered or counted.
 *
 * Waking the reader: `close()` sets a stop flag in a `SharedArrayBuffer` and calls `pcap_breakloop`,
 * which libpcap documents as safe from another thread. On Linux (an eventfd) and Windows (an event) it
 * also wakes a reader blocked in the kernel, so the worker leaves its loop within a millisecond even with
 * no traffic; elsewhere (macOS, BSD) it only sets a flag and the short read timeout (50 ms) bounds the
 * wait. The same call is the flush doorbell: on Linux a read never times out without traffic (libpcap
 * 1.10.3, measured with and without immediate mode), so a partly filled batch would otherwise wait for
 * the next packet. A selectable fd with poll() was not chosen: it needs non-blocking reads plus a poll
 * call (two FFI calls per wakeup), does not exist on Windows, and a wakeup fd of our own would duplicate
 * the eventfd libpcap already has.
 *
 * Handle ownership: the worker closes the handle itself after its loop (closing a Linux packet socket
 * waits ~30 ms for the kernel), and a small lock in the shared block keeps `pcap_breakloop` from ever
 * reaching a closed handle.
 *
 * @module
 */

import { type Frame, type InterfaceInfo, newFrame, type PacketSource } from "../src/capture/source.ts";
import { loadLibpcap } from "./load.ts";
import {
  BPF_PROGRAM,
  cString,
  dltToLinkType,
  errbufText,
  type LibpcapSymbols,
  newErrbuf,
  PCAP_NETMASK_UNKNOWN,
  PCAP_STAT,
  PCAP_TSTAMP_PRECISION_NANO,
  pcapErrorText,
} from "./libpcap.ts";
import { PcapError, pcapStatusError } from "./pcap_error.ts";
import { setImmediate } from "node:timers";
import {
  CTL_DROP,
  CTL_HANDLE,
  CTL_IFDROP,
  CTL_INFLIGHT,
  CTL_PENDING,
  CTL_RECV,
  CTL_SLOTS,
  CTL_STATS_VALID,
  CTL_STOP,
  HANDLE_BUSY,
  HANDLE_CLOSED,
  HANDLE_FREE,
  REC_CAPLEN,
  REC_FRAC,
  REC_HEADER,
  REC_LEN,
  REC_SEC,
  recordSize,
  type StartMessage,
  type WorkerMessage,
} from "./_capture_protocol.ts";

/**
 * Read timeout in ms. On Linux (TPACKET_V3) it is the longest a packet waits in a partly filled kernel
 * block; on macOS/BSD it bounds stop latency, since `pcap_breakloop` cannot wake the reader there.
 * Shorter means lower latency but more wakeups (20/s at 50 ms).
 */
export const DEFAULT_TIMEOUT_MS = 50;
/** Kernel buffer. libpcap's default is 2 MiB; 8 MiB absorbs a ~60 ms stall of the reader at 1 Gbit/s. */
export const DEFAULT_BUFFER_SIZE = 8 * 1024 * 1024;
/**
 * Batch buffer size. Large batches amortise the per-message cost (tens of microseconds); small ones bound
 * the memory held on the main thread: at most the window plus one batch.
 */
export const DEFAULT_BATCH_BYTES = 1024 * 1024;
/**
 * Most packets in one batch: ~1 ms of full decoding (~1 us a packet on the capture benchmark's traffic),
 * a few ms with output or detectors on top. Slices, not batches, bound how long `onFrame` holds the main
 * thread, so the limit is set by the window's need: see {@linkcode DEFAULT_BATCHES_IN_FLIGHT}.
 */
export const DEFAULT_BATCH_PACKETS = 1024;
/**
 * Most batches posted and not yet consumed. The worker is idle from the moment the window fills until an
 * acknowledgement wakes it, a round trip of two thread wakeups plus an event-loop turn: a few ms on a
 * loaded host. The window must cover that at full rate or the kernel buffer takes the slack: measured
 * with tcpreplay --topspeed at ~170k packets/s on 2 busy CPUs, 4 batches of 256 packets let the kernel
 * drop in 4 runs of 6 (up to 32k packets), 4 of 1024 in 1 of 6. What waits outside the kernel buffer is
 * then at most 5 MiB / 5120 packets (the window plus the batch being filled).
 */
export const DEFAULT_BATCHES_IN_FLIGHT = 4;
/**
 * Longest the main thread runs `onFrame` before it yields to the event loop (checked every
 * {@linkcode SLICE_CHECK_EVERY} frames): the delay a timer, signal or MCP request sees from the capture.
 * Shorter means more event loop turns (a few microseconds each through `setImmediate`).
 */
export const SLICE_MS = 5;
/** Frames between two looks at the clock: `performance.now()` costs ~0.1 us, a decoded frame ~10. */
const SLICE_CHECK_EVERY = 8;
/** Longest a packet waits in a partly filled batch: the added latency of delivery. */
export const DEFAULT_FLUSH_MS = 50;

/** Options of {@linkcode openLiveCapture}. */
export interface LiveCaptureOptions {
  /** Bytes kept per packet (default 262144, tcpdump's). */
  snaplen?: number;
  /** Promiscuous mode (default true, as tcpdump). */
  promisc?: boolean;
  /** Read timeout in ms (default {@linkcode DEFAULT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Kernel buffer size in bytes (default {@linkcode DEFAULT_BUFFER_SIZE}). */
  bufferSize?: number;
  /**
   * Immediate mode (default false). On Linux it switches libpcap from TPACKET_V3 (variable-size packets
   * packed into blocks, handed over when a block fills or the read timeout expires) to TPACKET_V2 (one
   * fixed slot of snaplen-or-MTU bytes per packet, handed over at once). Measured on lo (MTU 64 KiB,
   * 8 MiB buffer, 100k datagrams in ~1 s on a loaded 2-CPU host): V3 captured all of them, V2 dropped
   * over half, since the buffer then holds only ~120 packets. Without it, delivery latency is up to
   * the read timeout plus the flush interval (~100 ms with the defaults).
   */
  immediate?: boolean;
  /** Ask for nanosecond timestamps (default true); falls back to microseconds where unsupported. */
  nanoseconds?: boolean;
  /** BPF filter expression, set before the first packet is read. */
  filter?: string;
  /** Optimise the filter (default true). */
  optimize?: boolean;
  /** Batch buffer size in bytes (default {@linkcode DEFAULT_BATCH_BYTES}). */
  batchBytes?: number;
  /** Most packets in a batch (default {@linkcode DEFAULT_BATCH_PACKETS}). */
  batchPackets?: number;
  /** Most batches posted and not yet consumed (default {@linkcode DEFAULT_BATCHES_IN_FLIGHT}). */
  batchesInFlight?: number;
  /** Flush interval in ms (default {@linkcode DEFAULT_FLUSH_MS}). */
  flushMs?: number;
  /** Library path to open instead of the usual names. */
  libraryPath?: string;
}

/** `pcap_stats` of a live capture. */
export interface CaptureStats {
  /** Packets received by the filter (platform-defined; on Linux, packets that passed the kernel filter). */
  received: number;
  /** Packets dropped because the buffer was full. */
  dropped: number;
  /** Packets dropped by the interface or its driver. */
  if_dropped: number;
}

type State = "open" | "running" | "stopping" | "done";
type BatchMessage = Extract<WorkerMessage, { type: "batch" }>;

function positiveInt(name: string, value: number, max = 0x7fffffff): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be an integer in [1, ${max}], got ${value}`);
  }
  return value;
}

/**
 * An activated live capture. `run` delivers its frames; `close` stops it within milliseconds (see the
 * module doc). Frames already read when `close` is called are still delivered before `run` resolves.
 */
export class LiveCapture implements PacketSource {
  /** The device captured on. */
  readonly device: string;
  /** LINKTYPE_* of every frame. */
  readonly linkType: number;
  /** 9 with nanosecond timestamps, 6 with microseconds. */
  readonly tsDigits: number;
  /** The snapshot length in effect. */
  readonly snaplen: number;
  /** The filter in effect, if any. */
  readonly filter?: string;
  /** Warnings from activation (e.g. promiscuous mode not supported). */
  readonly warnings: readonly string[];
  /** The single interface frames come from. */
  readonly interfaces: readonly InterfaceInfo[];

  #sym: LibpcapSymbols;
  #libraryPath: string;
  #p: Deno.PointerObject | null;
  #state: State = "open";
  #worker: Worker | null = null;
  #control = new SharedArrayBuffer(CTL_SLOTS * 4);
  #ctl = new Int32Array(this.#control);
  #batchBytes: number;
  #batchPackets: number;
  #window: number;
  #flushMs: number;
  #final: CaptureStats | null = null;
  #n = 0;
  #released = Promise.withResolvers<void>();

  /** Use {@linkcode openLiveCapture}. */
  constructor(
    init: {
      sym: LibpcapSymbols;
      libraryPath: string;
      p: Deno.PointerObject;
      device: string;
      linkType: number;
      tsDigits: number;
      snaplen: number;
      filter?: string;
      warnings: string[];
      batchBytes: number;
      batchPackets: number;
      window: number;
      flushMs: number;
    },
  ) {
    this.#sym = init.sym;
    this.#libraryPath = init.libraryPath;
    this.#p = init.p;
    this.device = init.device;
    this.linkType = init.linkType;
    this.tsDigits = init.tsDigits;
    this.snaplen = init.snaplen;
    this.warnings = init.warnings;
    this.#batchBytes = init.batchBytes;
    this.#batchPackets = init.batchPackets;
    this.#window = init.window;
    this.#flushMs = init.flushMs;
    const info: InterfaceInfo = {
      linkType: init.linkType,
      snaplen: init.snaplen,
      name: init.device,
      tsDigits: init.tsDigits,
    };
    if (init.filter !== undefined) {
      this.filter = init.filter;
      info.filter = init.filter;
    }
    this.interfaces = [info];
  }

  /**
   * Delivers every captured frame until `close()` or a capture error. Rejects with a `PcapError`
   * (code `capture`) carrying libpcap's text, or with what `onFrame` threw (the capture is then stopped).
   * `onFrame` runs in slices of about {@linkcode SLICE_MS}, with the event loop free in between, however
   * far it falls behind the traffic (see the module doc). The handle is released shortly after (see
   * {@linkcode LiveCapture.closed}).
   */
  run(onFrame: (frame: Frame) => void): Promise<void> {
    if (this.#state === "done") return Promise.resolve();
    if (this.#state !== "open") return Promise.reject(new TypeError("LiveCapture.run was already called"));
    this.#state = "running";
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const ctl = this.#ctl;
    let failure: unknown = undefined;
    const frame = newFrame(new Uint8Array(0), new DataView(new ArrayBuffer(0)), this.linkType, this.tsDigits);
    const worker = new Worker(new URL("./capture_worker.ts", import.meta.url), { type: "module" });
    this.#worker = worker;

    // The doorbell: where the read timeout does not fire without traffic (Linux), a partly filled batch
    // would wait for the next packet. Ringing pcap_breakloop makes the worker flush; once a second it
    // also refreshes an idle capture's stats. Not while the window is full: the worker is then asleep
    // in Atomics.wait, and the batch it holds goes out as soon as a slot frees.
    let ticks = 0;
    const doorbell = setInterval(() => {
      const pending = Atomics.load(ctl, CTL_PENDING) !== 0 && Atomics.load(ctl, CTL_INFLIGHT) < this.#window;
      if (pending || ++ticks % Math.ceil(1000 / this.#flushMs) === 0) this.#ring();
    }, this.#flushMs);

    // Batches received and not yet consumed (at most the window plus one), and where the next frame of
    // the first one is. The bytes of a batch are read only here, so `frame` is reused throughout.
    const queue: BatchMessage[] = [];
    let index = 0; // frames of queue[0] already delivered
    let off = 0; // offset of its next record
    let view = frame.view;
    let scheduled = false; // a slice is queued with setImmediate
    let ended = false; // "done" (or a worker crash) seen: no batch follows
    let discarding = false; // onFrame threw: what is left is acknowledged unread

    const finish = () => {
      if (this.#state === "done") return;
      clearInterval(doorbell);
      this.#final = this.#liveStats();
      this.#state = "done";
      if (failure === undefined) resolve();
      else reject(failure);
    };
    const release = () => {
      worker.terminate();
      this.#worker = null;
      // The worker closes the handle after its loop; if it never got that far, the handle is ours.
      if (Atomics.compareExchange(ctl, CTL_HANDLE, HANDLE_FREE, HANDLE_CLOSED) === HANDLE_FREE) {
        this.#sym.pcap_close(this.#p!);
      }
      this.#p = null;
      this.#released.resolve();
    };
    // The acknowledgement that lets the worker read on: one slot of the window is free again.
    const consumed = () => {
      queue.shift();
      index = 0;
      off = 0;
      Atomics.sub(ctl, CTL_INFLIGHT, 1);
      Atomics.notify(ctl, CTL_INFLIGHT);
    };
    const slice = () => {
      scheduled = false;
      const until = performance.now() + SLICE_MS;
      try {
        while (queue.length > 0) {
          const batch = queue[0];
          if (index === 0) {
            view = new DataView(batch.buffer);
            frame.bytes = new Uint8Array(batch.buffer);
            frame.view = view;
          }
          const caplen = view.getUint32(off + REC_CAPLEN, true);
          frame.n = ++this.#n;
          frame.start = off + REC_HEADER;
          frame.caplen = caplen;
          frame.len = view.getUint32(off + REC_LEN, true);
          frame.tsSec = view.getFloat64(off + REC_SEC, true);
          frame.tsFrac = view.getUint32(off + REC_FRAC, true);
          off += recordSize(caplen);
          index++;
          onFrame(frame);
          if (index === batch.count) consumed(); // index is 0 again: the clock is read at every batch end
          if (index % SLICE_CHECK_EVERY === 0 && performance.now() >= until) break;
        }
      } catch (err) {
        failure ??= err;
        discarding = true;
        while (queue.length > 0) consumed();
        this.close();
      }
      if (queue.length > 0) schedule();
      else if (ended) finish();
    };
    const schedule = () => {
      if (scheduled) return;
      scheduled = true;
      // A macrotask that runs after pending I/O and timers; see the module doc for why not the others.
      setImmediate(slice);
    };

    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const msg = event.data;
      switch (msg.type) {
        case "batch":
          // Only queued here: a burst of messages is dispatched back to back, timers waiting.
          if (discarding) {
            Atomics.sub(ctl, CTL_INFLIGHT, 1);
            Atomics.notify(ctl, CTL_INFLIGHT);
          } else {
            queue.push(msg);
            schedule();
          }
          return;
        case "error":
          // Posted after the last batch: the frames read before the failure are still delivered.
          failure ??= new PcapError("capture", `Capture on "${this.device}" failed: ${msg.text}`, {
            pcapText: msg.text,
            status: msg.status,
            device: this.device,
          });
          return;
        case "done":
          ended = true;
          if (queue.length === 0) finish();
          return;
        case "closed":
          release();
          return;
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      failure ??= new PcapError("capture", `Capture worker for "${this.device}" failed: ${event.message}`, {
        device: this.device,
      });
      discarding = true;
      ended = true;
      queue.length = 0;
      finish();
      release(); // an uncaught error happens in JS, never inside a libpcap call: closing is safe
    };
    const start: StartMessage = {
      libraryPath: this.#libraryPath,
      handle: BigInt(Deno.UnsafePointer.value(this.#p!)),
      control: this.#control,
      batchBytes: Math.max(this.#batchBytes, recordSize(this.snaplen)),
      batchPackets: this.#batchPackets,
      window: this.#window,
      flushMs: this.#flushMs,
    };
    worker.postMessage(start);
    return promise;
  }

  /**
   * Resolves once the handle is closed and the reading thread has exited (a few tens of ms after the
   * reader stopped: closing a Linux packet socket waits for the kernel; `run` may resolve before or after,
   * as it also waits for the last batches to be consumed). Await it before exiting a test.
   */
  get closed(): Promise<void> {
    return this.#released.promise;
  }

  /** Wakes the reader with pcap_breakloop unless it already owns (is closing) the handle. */
  #ring(): void {
    if (Atomics.compareExchange(this.#ctl, CTL_HANDLE, HANDLE_FREE, HANDLE_BUSY) !== HANDLE_FREE) return;
    try {
      this.#sym.pcap_breakloop(this.#p!);
    } finally {
      Atomics.store(this.#ctl, CTL_HANDLE, HANDLE_FREE);
      Atomics.notify(this.#ctl, CTL_HANDLE);
    }
  }

  /** Stops the capture: `run` resolves once the worker has flushed what it read. Idempotent. */
  close(): void {
    if (this.#state === "open") {
      this.#final = this.#liveStats();
      this.#sym.pcap_close(this.#p!);
      this.#p = null;
      this.#state = "done";
      this.#released.resolve();
    } else if (this.#state === "running") {
      this.#state = "stopping";
      Atomics.store(this.#ctl, CTL_STOP, 1);
      Atomics.notify(this.#ctl, CTL_INFLIGHT); // a worker asleep at a full window
      this.#ring();
    }
  }

  /**
   * `pcap_stats` now: refreshed by the reading thread at least every flush interval while packets or
   * read timeouts wake it, and final once `run` has resolved.
   */
  stats(): CaptureStats {
    return this.#final ?? this.#liveStats();
  }

  #liveStats(): CaptureStats {
    if (this.#state === "open" && this.#p !== null) {
      // No reader thread yet: asking directly cannot race it.
      const buf = new Uint8Array(new ArrayBuffer(PCAP_STAT.size));
      if (this.#sym.pcap_stats(this.#p, buf) === 0) {
        const v = new DataView(buf.buffer);
        return {
          received: v.getUint32(PCAP_STAT.recvOffset, true),
          dropped: v.getUint32(PCAP_STAT.dropOffset, true),
          if_dropped: v.getUint32(PCAP_STAT.ifdropOffset, true),
        };
      }
    }
    if (Atomics.load(this.#ctl, CTL_STATS_VALID) === 0) return { received: 0, dropped: 0, if_dropped: 0 };
    return {
      received: Atomics.load(this.#ctl, CTL_RECV) >>> 0,
      dropped: Atomics.load(this.#ctl, CTL_DROP) >>> 0,
      if_dropped: Atomics.load(this.#ctl, CTL_IFDROP) >>> 0,
    };
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function lookupNetmask(sym: LibpcapSymbols, device: Uint8Array): number {
  const net = new Uint32Array(1);
  const mask = new Uint32Array(1);
  const ok = sym.pcap_lookupnet(device, new Uint8Array(net.buffer), new Uint8Array(mask.buffer), newErrbuf());
  // The mask comes in network byte order; pcap_compile wants it exactly as lookupnet gave it.
  return ok === 0 ? mask[0] : PCAP_NETMASK_UNKNOWN;
}

function setFilter(
  sym: LibpcapSymbols,
  p: Deno.PointerObject,
  device: string,
  deviceC: Uint8Array,
  expression: string,
  optimize: boolean,
): void {
  const prog = new Uint8Array(new ArrayBuffer(BPF_PROGRAM.size));
  const text = cString(expression, "filter expression");
  if (sym.pcap_compile(p, prog, text, optimize ? 1 : 0, lookupNetmask(sym, deviceC)) !== 0) {
    const err = pcapErrorText(sym, p);
    throw new PcapError("bad_filter", `Invalid filter "${expression}": ${err}`, { pcapText: err, device });
  }
  // pcap_setfilter copies the program (and on Linux re-filters what is already in the ring in user
  // space), so no unfiltered packet reaches the reader and the program can be freed right away.
  const rc = sym.pcap_setfilter(p, prog);
  sym.pcap_freecode(prog);
  if (rc !== 0) {
    const err = pcapErrorText(sym, p, rc);
    throw new PcapError("error", `Cannot set filter "${expression}" on "${device}": ${err}`, {
      pcapText: err,
      status: rc,
      device,
    });
  }
}

/**
 * Opens `device` for live capture: creates, configures and activates the handle and sets the filter.
 * Throws a `PcapError` (`permission` with the platform's fix, `no_device`, `not_up`, `bad_filter`, ...)
 * with libpcap's text; activation warnings are kept in `warnings`.
 *
 * @example
 * ```ts
 * const cap = openLiveCapture("eth0", { filter: "udp port 53" });
 * const done = cap.run((f) => console.log(f.n, f.caplen));
 * setTimeout(() => cap.close(), 5000);
 * await done;
 * console.log(cap.stats()); // { received, dropped, if_dropped }
 * ```
 */
export function openLiveCapture(device: string, options: LiveCaptureOptions = {}): LiveCapture {
  if (typeof device !== "string" || device === "") throw new TypeError("device must be a non-empty string");
  const snaplen = positiveInt("snaplen", options.snaplen ?? 262144);
  const timeoutMs = positiveInt("timeoutMs", options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const bufferSize = positiveInt("bufferSize", options.bufferSize ?? DEFAULT_BUFFER_SIZE);
  const batchBytes = positiveInt("batchBytes", options.batchBytes ?? DEFAULT_BATCH_BYTES, 1 << 30);
  const batchPackets = positiveInt("batchPackets", options.batchPackets ?? DEFAULT_BATCH_PACKETS);
  const window = positiveInt("batchesInFlight", options.batchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT, 1024);
  const flushMs = positiveInt("flushMs", options.flushMs ?? DEFAULT_FLUSH_MS);
  const lib = loadLibpcap(options.libraryPath);
  const sym = lib.symbols;
  const deviceC = cString(device, "device name");
  const errbuf = newErrbuf();
  const p = sym.pcap_create(deviceC, errbuf);
  if (p === null) {
    const text = errbufText(errbuf);
    throw new PcapError("error", `Cannot capture on "${device}": ${text}`, { pcapText: text, device });
  }
  const warnings: string[] = [];
  try {
    // pcap_set_* only fail on an activated handle, which this is not.
    sym.pcap_set_snaplen(p, snaplen);
    sym.pcap_set_promisc(p, options.promisc === false ? 0 : 1);
    sym.pcap_set_timeout(p, timeoutMs);
    sym.pcap_set_buffer_size(p, bufferSize);
    if (options.immediate === true) {
      if (sym.pcap_set_immediate_mode) sym.pcap_set_immediate_mode(p, 1);
      else warnings.push("immediate mode needs libpcap 1.5: packets may wait up to the read timeout");
    }
    if (options.nanoseconds !== false && sym.pcap_set_tstamp_precision) {
      // Refused (PCAP_ERROR_TSTAMP_PRECISION_NOTSUP) where the OS has no nanosecond stamps: keep micro.
      sym.pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    }
    const status = sym.pcap_activate(p);
    if (status < 0) throw pcapStatusError(status, pcapErrorText(sym, p, status), device);
    if (status > 0) warnings.push(pcapErrorText(sym, p, status));
    const precision = sym.pcap_get_tstamp_precision?.(p) ?? 0;
    const filter = options.filter?.trim() ? options.filter : undefined;
    if (filter !== undefined) setFilter(sym, p, device, deviceC, filter, options.optimize !== false);
    return new LiveCapture({
      sym,
      libraryPath: lib.path,
      p,
      device,
      linkType: dltToLinkType(sym.pcap_datalink(p)),
      tsDigits: precision === PCAP_TSTAMP_PRECISION_NANO ? 9 : 6,
      snaplen: sym.pcap_snapshot(p),
      filter,
      warnings,
      batchBytes,
      batchPackets,
      window,
      flushMs,
    });
  } catch (err) {
    sym.pcap_close(p);
    throw err;
  }
}
