/**
 * `list_captures`: every session with its state and counters.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { fitItems, jsonResult } from "../format.ts";
import type { Sessions } from "../sessions.ts";
import { guarded, sessionInfoSchema } from "./_shared.ts";

/** Output of `list_captures`. */
export const listCapturesOutput = z.object({
  captures: z.array(sessionInfoSchema).describe("Newest first"),
  total: z.number(),
  left_out: z.number().describe("Older sessions not shown to keep the result small"),
  forgotten: z.number().describe("Finished sessions dropped to stay within the session limit"),
});

/** Registers `list_captures`. */
export function registerListCaptures(server: McpServer, sessions: Sessions): void {
  server.registerTool("list_captures", {
    title: "List capture sessions",
    description: "List the capture sessions of this server, newest first: live captures " +
      "(capture_start) and capture files (open_pcap), with their state (running, stopping, done, " +
      "failed), packets decoded and libpcap's counters. Cheap; call it to follow a running capture.",
    inputSchema: z.object({}),
    outputSchema: listCapturesOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, () =>
    guarded(() => {
      const all = sessions.list().reverse().map((s) => s.info());
      const n = fitItems(all);
      return jsonResult({
        captures: all.slice(0, n),
        total: all.length,
        left_out: all.length - n,
        forgotten: sessions.evicted,
      });
    }));
}
