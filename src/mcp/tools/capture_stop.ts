/**
 * `capture_stop`: stops a live capture session and returns its final counters.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { errorResult, jsonResult } from "../format.ts";
import type { Sessions } from "../sessions.ts";
import { guarded, pcapStatsSchema, sessionInfoSchema } from "./_shared.ts";

/** Output of `capture_stop`. */
export const captureStopOutput = z.object({
  capture_id: z.string(),
  pcap_stats: pcapStatsSchema.describe("libpcap's final counters"),
  decoded: z.number().describe("Packets that went through the decoder"),
  session: sessionInfoSchema,
});

/** Registers `capture_stop`. */
export function registerCaptureStop(server: McpServer, sessions: Sessions): void {
  server.registerTool("capture_stop", {
    title: "Stop a live capture",
    description: "Stop a live capture started with capture_start and return its final counters: " +
      "libpcap's received / dropped / if_dropped and the packets decoded. The session stays available " +
      "to get_packets and analyze_traffic. Stopping a capture that already ended returns its counters.",
    inputSchema: z.object({
      capture_id: z.string().min(1).describe("The id capture_start returned (see list_captures)"),
    }),
    outputSchema: captureStopOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, ({ capture_id }) =>
    guarded(async () => {
      const s = await sessions.stop(await sessions.resolve({ capture_id }));
      const info = s.info();
      if (info.pcap_stats === undefined) return errorResult(`${s.id} has no capture counters.`);
      return jsonResult({ capture_id: s.id, pcap_stats: info.pcap_stats, decoded: s.decoded, session: info });
    }));
}
