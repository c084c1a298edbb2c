/**
 * `open_pcap`: reads a local capture file into a session, reporting progress when asked to.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { jsonResult } from "../format.ts";
import type { ProgressFn, Sessions } from "../sessions.ts";
import { guarded, sessionInfoSchema } from "./_shared.ts";

/** Output of `open_pcap`. */
export const openPcapOutput = z.object({
  capture_id: z.string().describe("Pass to get_packets and analyze_traffic"),
  session: sessionInfoSchema,
});

/** Registers `open_pcap`. */
export function registerOpenPcap(server: McpServer, sessions: Sessions): void {
  server.registerTool("open_pcap", {
    title: "Open a capture file",
    description: "Read a local pcap or pcapng capture file (gzip-compressed allowed) into a new session " +
      "and return its capture_id and packet count; then page through it with get_packets and " +
      "summarise it with analyze_traffic. " + sessions.paths.describe() +
      " Sends progress notifications while reading when the request carries a progressToken. " +
      "A file damaged part-way is kept up to the damage, with the reason in session.error.",
    inputSchema: z.object({
      path: z.string().min(1).max(4096).describe("Path of the capture file"),
    }),
    outputSchema: openPcapOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  }, ({ path }, ctx) =>
    guarded(async () => {
      const token = ctx.mcpReq._meta?.progressToken;
      let progress: ProgressFn | undefined;
      let sent = Promise.resolve();
      if (token !== undefined) {
        let last = -1;
        progress = (packets, done) => {
          // The spec wants progress to increase with every notification (an empty file: 0, then 1).
          const value = done ? Math.max(packets, last + 1) : packets;
          if (value <= last) return;
          last = value;
          const params: Record<string, unknown> = {
            progressToken: token,
            progress: value,
            message: done ? `read ${packets} packets` : `${packets} packets read`,
          };
          if (done) params.total = value;
          sent = sent.then(() => ctx.mcpReq.notify({ method: "notifications/progress", params })).catch(
            () => {},
          );
        };
      }
      const s = await sessions.openFile(path, progress);
      // A progress notification that reaches the client after the result is dropped there. The SDK hands
      // notifications to its transport asynchronously, so after the last one resolves, one more turn of
      // the event loop lets it reach stdout ahead of the result.
      await sent;
      if (token !== undefined) await new Promise((r) => setTimeout(r, 0));
      return jsonResult({ capture_id: s.id, session: s.info() });
    }));
}
