/**
 * `netwatch capture -i IFACE [-f BPF] [-c COUNT] [--duration S] [-w FILE.pcapng] [--snaplen N]
 * [--no-promisc] [--buffer-mb N] [--json]`: live capture through the same pipeline as files.
 *
 * Output: stdout gets one summary line per packet (as `netwatch packets`), or with `--json` one packet
 * record per line followed by one final `{"capture_stats": {...}}` line. stderr gets the start line
 * (`netwatch: capturing on ...`), the counters every 2 s while stderr is a terminal, and, without
 * `--json`, the final counters as one line; with `--json` they are only in the final stdout object, so a
 * program reading stdout gets everything in one stream.
 *
 * @module
 */

import type { LiveCapture } from "../../ffi/live_capture.ts";
import { openLiveCapture } from "../../ffi/live_capture.ts";
import { PcapError } from "../../ffi/pcap_error.ts";
import { linkTypeName } from "../capture/link_type.ts";
import { PcapngSpool } from "../capture/pcapng_spool.ts";
import { packetRecord } from "../decode/packet_record.ts";
import { packetSummary } from "../decode/packet_summary.ts";
import { runSource } from "../engine.ts";
import { error, logLine, warn } from "../log.ts";
import { UserError } from "./open_input.ts";
import { LineWriter, OutputClosed } from "./output.ts";
import { round } from "../stats/top_counter.ts";

/** How often the running counters are printed (to a terminal). */
export const PROGRESS_INTERVAL_MS = 2000;

/** Packets between two looks at the clock for `--duration` on the packet path. */
const DEADLINE_EVERY = 256;

/** Options of the `capture` command. */
export interface CaptureOptions {
  /** Device to capture on. */
  iface: string;
  /** BPF filter expression. */
  filter?: string;
  /** Stop after this many packets. */
  count?: number;
  /** Stop after this many seconds. */
  durationS?: number;
  /** Spool every captured packet to this pcapng file. */
  write?: string;
  snaplen?: number;
  promisc: boolean;
  /** Kernel buffer size in MiB. */
  bufferMb?: number;
  json: boolean;
  /** Print the counters every 2 s (default: when stderr is a terminal). */
  progress?: boolean;
}

/** The command-line values of `capture` as `parseArgs` gives them. */
export interface CaptureArgs {
  interface?: string;
  filter?: string;
  count?: string;
  duration?: string;
  write?: string;
  snaplen?: string;
  "no-promisc"?: boolean;
  "buffer-mb"?: string;
  json?: boolean;
}

/** Why a capture ended, as printed in the final counters. */
export type StopReason = "count" | "duration" | "SIGINT" | "SIGTERM" | "output_closed" | "error";

/** Validates the command-line values; throws a `UserError` (exit 2) naming what is wrong. */
export function captureOptionsFromArgs(args: CaptureArgs): CaptureOptions {
  if (!args.interface) {
    throw new UserError(`"capture" needs an interface: -i NAME (see "netwatch interfaces")`, 2);
  }
  const options: CaptureOptions = {
    iface: args.interface,
    promisc: !args["no-promisc"],
    json: args.json ?? false,
  };
  if (args.filter !== undefined) options.filter = args.filter;
  if (args.write !== undefined) {
    if (args.write === "") throw new UserError("-w needs a file name", 2);
    options.write = args.write;
  }
  if (args.count !== undefined) options.count = integer("-c", args.count, 1, Number.MAX_SAFE_INTEGER);
  if (args.snaplen !== undefined) options.snaplen = integer("--snaplen", args.snaplen, 1, 262144);
  if (args.duration !== undefined) {
    options.durationS = positive("--duration", args.duration, 2_000_000); // setTimeout's ceiling, ~24 days
  }
  if (args["buffer-mb"] !== undefined) options.bufferMb = positive("--buffer-mb", args["buffer-mb"], 2047);
  return options;
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
    throw new UserError(`${flag} needs a whole number from ${min} to ${max}, not "${text}"`, 2);
  }
  return n;
}

function positive(flag: string, text: string, max: number): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max) {
    throw new UserError(`${flag} needs a number above 0 and at most ${max}, not "${text}"`, 2);
  }
  return n;
}

/** The counters of a capture: libpcap's (`pcap_stats`) and the pipeline's own. */
export interface CaptureCounters {
  /** pcap_stats `ps_recv`: on Linux, packets that passed the kernel filter. */
  received: number;
  /** pcap_stats `ps_drop`: dropped by the kernel because the buffer was full. */
  dropped: number;
  /** pcap_stats `ps_ifdrop`: dropped by the interface or its driver. */
  if_dropped: number;
  /** Packets that went through the decoder. */
  decoded: number;
  /** Packets written to the spool (present with `-w`). */
  written?: number;
}

function countersText(c: CaptureCounters): string {
  return `received ${c.received}, dropped by kernel ${c.dropped}, dropped by interface ${c.if_dropped}; ` +
    `decoded ${c.decoded}` + (c.written === undefined ? "" : `, written ${c.written}`);
}

/** Runs the command; resolves to the exit code (0, or 1 when the capture could not start or failed). */
export async function captureCommand(options: CaptureOptions, out = new LineWriter()): Promise<number> {
  let cap: LiveCapture;
  try {
    cap = openLiveCapture(options.iface, {
      filter: options.filter,
      snaplen: options.snaplen,
      promisc: options.promisc,
      bufferSize: options.bufferMb === undefined ? undefined : Math.round(options.bufferMb * 1024 * 1024),
    });
  } catch (e) {
    // A bad filter, missing permission or unknown device: libpcap's words and the fix, on one line.
    if (e instanceof PcapError) throw new UserError(e.message, 1, { cause: e });
    throw e;
  }
  for (const w of cap.warnings) warn(`${options.iface}: ${w}`);

  let spool: PcapngSpool | undefined;
  if (options.write !== undefined) {
    try {
      spool = await PcapngSpool.forCapture(options.write, cap);
    } catch (e) {
      cap.close();
      await cap.closed;
      throw new UserError(describeWriteError(options.write, e), 1, { cause: e });
    }
  }

  const limit = options.count ?? Infinity;
  let decoded = 0;
  let reason: StopReason | undefined;
  const stop = (why: StopReason) => {
    reason ??= why;
    cap.close();
  };
  const counters = (): CaptureCounters => {
    const s = cap.stats();
    const c: CaptureCounters = {
      received: s.received,
      dropped: s.dropped,
      if_dropped: s.if_dropped,
      decoded,
    };
    if (spool !== undefined) c.written = spool.packets;
    return c;
  };

  // Output is flushed once per batch of packets (a microtask runs after the batch's synchronous
  // delivery), so lines appear as they are captured without a write per packet.
  let flushQueued = false;
  const flushOutput = () => {
    flushQueued = false;
    try {
      out.flush();
    } catch (e) {
      if (!(e instanceof OutputClosed)) throw e;
      stop("output_closed");
    }
  };

  const signals: [Deno.Signal, () => void][] = [];
  let signalsSeen = 0;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const handler = () => {
      if (++signalsSeen >= 2) {
        // A second signal: the user has waited long enough. Keep what was spooled.
        spool?.close();
        error("stopped at once on a second signal");
        Deno.exit(130);
      }
      stop(sig);
    };
    try {
      Deno.addSignalListener(sig, handler);
      signals.push([sig, handler]);
    } catch { /* SIGTERM cannot be listened to on Windows */ }
  }
  const timers: ReturnType<typeof setTimeout>[] = [];
  const t0 = performance.now();
  const deadline = options.durationS === undefined ? Infinity : t0 + options.durationS * 1000;
  if (options.durationS !== undefined) {
    timers.push(setTimeout(() => stop("duration"), options.durationS * 1000));
  }
  const progress = options.progress ?? Deno.stderr.isTerminal();
  let lastProgress = t0;
  const showProgress = () => {
    const now = performance.now();
    if (now - lastProgress < PROGRESS_INTERVAL_MS * 0.9) return;
    lastProgress = now;
    logLine(`netwatch: ${((now - t0) / 1000).toFixed(1)} s: ${countersText(counters())}`);
  };
  if (progress) timers.push(setInterval(showProgress, PROGRESS_INTERVAL_MS));

  logLine(
    `netwatch: capturing on ${cap.device} (${linkTypeName(cap.linkType)}, snaplen ${cap.snaplen}, ` +
      `${cap.tsDigits === 9 ? "nanosecond" : "microsecond"} timestamps)` +
      (cap.filter === undefined ? "" : `, filter "${cap.filter}"`) +
      (options.write === undefined ? "" : `, writing ${options.write}`) +
      (options.count === undefined ? "" : `, stopping after ${options.count} packets`) +
      (options.durationS === undefined ? "" : `, stopping after ${options.durationS} s`) +
      "; Ctrl-C stops",
  );

  let failure: string | undefined;
  let thrown: unknown;
  try {
    const result = await runSource(cap, (packet, frame) => {
      decoded++;
      if (spool !== undefined) {
        try {
          spool.write(frame);
        } catch (e) {
          // Disk full, file system gone...: stop, keeping what was written.
          failure ??= describeWriteError(spool.path, e);
          reason ??= "error";
          return false;
        }
      }
      out.line(options.json ? JSON.stringify(packetRecord(packet)) : packetSummary(packet));
      if (!flushQueued) {
        flushQueued = true;
        queueMicrotask(flushOutput);
      }
      if (decoded >= limit) {
        reason ??= "count";
        return false;
      }
      // The live source delivers in short time slices, so timers and signal listeners run between them;
      // the clock is also checked here, cheaply, so a deadline is kept to the packet under a flood.
      if (decoded % DEADLINE_EVERY === 0) {
        if (performance.now() >= deadline) {
          reason ??= "duration";
          return false;
        }
        if (progress) showProgress();
      }
    });
    if (result.error !== undefined) {
      reason ??= "error";
      failure ??= result.error.message;
    }
  } catch (e) {
    // runSource has stopped the capture. A closed stdout (`| head`) ends quietly; anything else is a bug,
    // rethrown once the capture is released.
    if (e instanceof OutputClosed) reason ??= "output_closed";
    else thrown = e;
  } finally {
    for (const t of timers) clearTimeout(t);
  }
  await cap.closed;
  for (const [sig, handler] of signals) Deno.removeSignalListener(sig, handler);
  if (thrown !== undefined) {
    spool?.close();
    throw thrown;
  }
  const elapsed = (performance.now() - t0) / 1000;
  const final = counters();
  try {
    spool?.close({ received: final.received, dropped: final.dropped, ifDropped: final.if_dropped });
  } catch (e) {
    reason ??= "error";
    failure ??= describeWriteError(options.write!, e);
  }

  try {
    if (options.json) {
      const stats: Record<string, unknown> = {
        interface: cap.device,
        link_type: linkTypeName(cap.linkType),
      };
      if (cap.filter !== undefined) stats.filter = cap.filter;
      if (options.write !== undefined) stats.file = options.write;
      Object.assign(stats, { stop_reason: reason ?? "error", duration_s: round(elapsed, 3), ...final });
      if (failure !== undefined) stats.error = failure;
      out.line(JSON.stringify({ capture_stats: stats }));
    }
    out.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  if (!options.json) {
    logLine(
      `netwatch: stopped (${describeReason(reason)}) after ${elapsed.toFixed(3)} s: ${countersText(final)}`,
    );
  }
  if (failure !== undefined) {
    error(failure);
    return 1;
  }
  return 0;
}

function describeReason(reason: StopReason | undefined): string {
  switch (reason) {
    case "count":
      return "count reached";
    case "duration":
      return "duration reached";
    case "output_closed":
      return "output closed";
    case "SIGINT":
    case "SIGTERM":
      return reason;
    default:
      return "error";
  }
}

/** One sentence for why the spool at `path` could not be written. */
function describeWriteError(path: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return `Cannot write "${path}": no such directory`;
  if (e instanceof Deno.errors.PermissionDenied) return `Cannot write "${path}": permission denied`;
  if (e instanceof Deno.errors.IsADirectory) return `Cannot write "${path}": it is a directory`;
  return `Cannot write "${path}": ${e instanceof Error ? e.message : String(e)}`;
}
