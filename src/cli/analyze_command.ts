/**
 * `netwatch analyze FILE [--json]`: the summary of a capture, as a readable report or as JSON.
 *
 * @module
 */

import { runSource } from "../engine.ts";
import { error } from "../log.ts";
import { TrafficSummary } from "../store/traffic_summary.ts";
import { describeOpenError, openCaptureForCli } from "./open_input.ts";
import { LineWriter, OutputClosed } from "./output.ts";
import { formatReport } from "./report.ts";

/** Options of the `analyze` command. */
export interface AnalyzeOptions {
  json: boolean;
}

/** Runs the command; resolves to the exit code. */
export async function analyzeCommand(
  path: string,
  options: AnalyzeOptions,
  out = new LineWriter(),
): Promise<number> {
  const source = await openCaptureForCli(path);
  const summary = new TrafficSummary();
  const result = await runSource(source, (packet) => summary.add(packet));
  const report: Record<string, unknown> = { file: path, ...summary.toJSON() };
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
