/**
 * `netwatch analyze FILE [--json]`: the statistics of a capture (see `src/stats/analysis.ts`), as a
 * readable report or as JSON.
 *
 * @module
 */

import { runSource } from "../engine.ts";
import { error } from "../log.ts";
import { Analysis } from "../stats/analysis.ts";
import { describeOpenError, openCaptureForCli } from "./open_input.ts";
import { LineWriter, OutputClosed } from "./output.ts";
import { formatReport } from "./report.ts";

/** Options of the `analyze` command. */
export interface AnalyzeOptions {
  json: boolean;
  /** Show progress on stderr; by default only when stderr is a terminal. */
  progress?: boolean;
  /** Bound of the flow table (default 200 000): past it the least recently seen flow is evicted and counted. */
  maxFlows?: number;
}

/** Seconds between progress lines: often enough to show life, rarely enough to cost nothing. */
const PROGRESS_EVERY_MS = 2000;

/** Runs the command; resolves to the exit code. */
export async function analyzeCommand(
  path: string,
  options: AnalyzeOptions,
  out = new LineWriter(),
): Promise<number> {
  const source = await openCaptureForCli(path);
  const analysis = new Analysis(
    options.maxFlows === undefined ? {} : { flows: { maxFlows: options.maxFlows } },
  );
  const progress = options.progress ?? Deno.stderr.isTerminal();
  const started = Date.now();
  let nextReport = started + PROGRESS_EVERY_MS;
  let shown = false;
  const result = await runSource(source, (packet) => {
    analysis.add(packet);
    // Reading the clock every 4096 packets keeps it off the per-packet cost.
    if (progress && (analysis.packets & 4095) === 0) {
      const now = Date.now();
      if (now >= nextReport) {
        nextReport = now + PROGRESS_EVERY_MS;
        const mb = analysis.summary.capturedBytes / 1e6;
        const rate = mb / ((now - started) / 1000);
        // `\r` and no newline: the next line overwrites this one on a terminal.
        progressLine(
          `netwatch: ${analysis.packets.toLocaleString("en-US")} packets, ${mb.toFixed(1)} MB of packets, ${
            rate.toFixed(1)
          } MB/s`,
        );
        shown = true;
      }
    }
  });
  if (shown) progressLine("");
  const report: Record<string, unknown> = { file: path, ...analysis.toJSON() };
  if (result.error !== undefined) report.read_error = describeOpenError(path, result.error);
  try {
    if (options.json) out.line(JSON.stringify(report, null, 2));
    else for (const line of formatReport(report)) out.line(line);
    out.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  if (result.error !== undefined) {
    error(
      `${describeOpenError(path, result.error)} (the report covers the ${result.frames} packets before it)`,
    );
    return 1;
  }
  return 0;
}

const encoder = new TextEncoder();

/** Overwrites the progress line on stderr (an empty `text` clears it). */
function progressLine(text: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${text}`));
  } catch {
    // stderr closed: progress is optional
  }
}
