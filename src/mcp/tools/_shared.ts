/**
 * Schemas and helpers shared by the tools: the session reference every analysis tool accepts, the
 * session view, and the mapping of domain failures to `isError` results.
 *
 * @module
 */

import { z } from "zod";
import { PcapError } from "../../../ffi/pcap_error.ts";
import { errorResult, type ToolResult } from "../format.ts";
import { PathError } from "../paths.ts";
import { SessionError } from "../sessions.ts";

/** Input fields naming a session; both absent means the most recent session. */
export const sessionRefShape = {
  capture_id: z.string().min(1).optional().describe(
    'Session id from capture_start, open_pcap or list_captures (e.g. "cap-1", "file-2"). ' +
      "Omit both capture_id and pcap to use the most recent session.",
  ),
  pcap: z.string().min(1).optional().describe(
    "Path of a pcap/pcapng capture file (gzip allowed) to use instead of a session; it is read " +
      "once and kept as a session. Must lie inside the server's --pcap-dir roots when set.",
  ),
};

/** `pcap_stats` counters. */
export const pcapStatsSchema = z.object({
  received: z.number().describe("Packets received by the kernel filter"),
  dropped: z.number().describe("Packets dropped because the capture buffer was full"),
  if_dropped: z.number().describe("Packets dropped by the interface or its driver"),
});

/** The JSON view of a session (`SessionInfo`). */
export const sessionInfoSchema = z.object({
  capture_id: z.string(),
  kind: z.enum(["live", "file"]),
  state: z.enum(["running", "stopping", "done", "failed"]),
  source: z.string().describe("Interface name (live) or file path (file)"),
  filter: z.string().optional(),
  started_at: z.string(),
  ended_at: z.string().optional(),
  stop_reason: z.string().optional(),
  decoded: z.number().describe("Packets decoded so far"),
  bytes: z.number().describe("Bytes on the wire of the decoded packets"),
  pcap_stats: pcapStatsSchema.optional(),
  spool: z.object({ path: z.string(), written: z.number() }).optional(),
  records_kept: z.number().describe("Packet records held in memory for get_packets (live sessions)"),
  warnings: z.array(z.string()).optional(),
  error: z.string().optional(),
});

/**
 * Runs a tool body; a domain failure (bad path, unknown session, libpcap's refusal, bad argument to
 * the library) becomes an `isError` result whose message says what to do. Anything else is a bug and
 * is rethrown (the SDK then reports it as a tool error too, but with its own wording).
 */
export async function guarded(body: () => Promise<ToolResult> | ToolResult): Promise<ToolResult> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof PathError || e instanceof SessionError) return errorResult(e.message);
    if (e instanceof PcapError) return errorResult(pcapMessage(e));
    if (e instanceof RangeError || e instanceof TypeError) {
      return errorResult(`Invalid argument: ${e.message}`);
    }
    throw e;
  }
}

function pcapMessage(e: PcapError): string {
  switch (e.code) {
    case "no_device":
      return `${e.message} Call list_interfaces to see the capture devices.`;
    case "bad_filter":
      return `${e.message} Check the expression with check_filter (pcap-filter(7) syntax).`;
    case "no_library":
      return `${e.message} Live capture and filters need libpcap; capture files can still be analysed.`;
    default:
      return e.message;
  }
}
