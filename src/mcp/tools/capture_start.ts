/**
 * `capture_start`: starts a live capture session that runs in the background.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { jsonResult } from "../format.ts";
import type { Sessions } from "../sessions.ts";
import { guarded, sessionInfoSchema } from "./_shared.ts";

/** Longest `duration_s` accepted: a day (setTimeout's ceiling is ~24 days). */
export const MAX_DURATION_S = 86_400;

/** Output of `capture_start`. */
export const captureStartOutput = z.object({
  capture_id: z.string().describe("Pass to capture_stop, get_packets, analyze_traffic"),
  session: sessionInfoSchema,
});

/** Registers `capture_start`. */
export function registerCaptureStart(server: McpServer, sessions: Sessions): void {
  server.registerTool("capture_start", {
    title: "Start a live capture",
    description: "Start capturing packets on a network interface in the background and return at once " +
      "with a capture_id. The capture runs until capture_stop, duration_s or max_packets; meanwhile " +
      "list_captures shows its counters, and get_packets / analyze_traffic read what it has seen. " +
      "Needs capture rights (root or CAP_NET_RAW); get interface names from list_interfaces and check " +
      "a filter first with check_filter.",
    inputSchema: z.object({
      interface: z.string().min(1).describe('Interface name from list_interfaces, e.g. "eth0"'),
      filter: z.string().max(4096).optional().describe(
        'BPF filter (pcap-filter(7)), e.g. "tcp port 443"; only matching packets are captured',
      ),
      duration_s: z.number().positive().max(MAX_DURATION_S).optional().describe(
        "Stop by itself after this many seconds",
      ),
      max_packets: z.number().int().positive().optional().describe("Stop by itself after this many packets"),
      spool: z.string().min(1).optional().describe(
        "Also write every packet to this new pcapng file (must not exist; inside --pcap-dir when set)",
      ),
    }),
    outputSchema: captureStartOutput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: true,
    },
  }, (args) =>
    guarded(async () => {
      const s = await sessions.startLive({
        iface: args.interface,
        filter: args.filter,
        durationS: args.duration_s,
        maxPackets: args.max_packets,
        spool: args.spool,
      });
      return jsonResult({ capture_id: s.id, session: s.info() });
    }));
}
