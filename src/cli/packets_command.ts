/**
 * `netwatch packets FILE [--jsonl] [--limit N] [--offset N]`: every packet of a capture, one per line.
 *
 * @module
 */

import { runSource } from "../engine.ts";
import { packetRecord } from "../decode/packet_record.ts";
import { packetSummary } from "../decode/packet_summary.ts";
import { error } from "../log.ts";
import { describeOpenError, openCaptureForCli } from "./open_input.ts";
import { LineWriter, OutputClosed } from "./output.ts";

/** Options of the `packets` command. */
export interface PacketsOptions {
  jsonl: boolean;
  /** Packets to skip first. */
  offset: number;
  /** Packets to print at most (after the offset). */
  limit: number;
}

/** Runs the command; resolves to the exit code. */
export async function packetsCommand(
  path: string,
  options: PacketsOptions,
  out = new LineWriter(),
): Promise<number> {
  const source = await openCaptureForCli(path);
  let seen = 0, printed = 0;
  try {
    const result = await runSource(source, (packet) => {
      if (seen++ < options.offset) return;
      if (printed >= options.limit) return false;
      out.line(options.jsonl ? JSON.stringify(packetRecord(packet)) : packetSummary(packet));
      printed++;
      if (printed >= options.limit) return false;
    });
    out.flush();
    if (result.error !== undefined) {
      error(describeOpenError(path, result.error));
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof OutputClosed) return 0;
    throw e;
  }
}
