/**
 * `export_pcap`: writes the packets of a session's store that match a filter to a new pcapng file in
 * the server's `--out-dir`, and links to it.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { basename } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { exportQuery } from "../../store/export_pcapng.ts";
import { jsonResult, type ToolResult } from "../format.ts";
import { SessionError, type Sessions } from "../sessions.ts";
import { filterFromArgs, filterShape, guarded, sessionRefShape } from "./_shared.ts";

/** Output of `export_pcap`. */
export const exportPcapOutput = z.object({
  capture_id: z.string(),
  path: z.string().describe("The new file (never an existing one: a taken name gets -1, -2, ...)"),
  uri: z.string().describe("file: URI of the new file (also sent as a resource_link content item)"),
  packets: z.number().describe("Packets written"),
  bytes: z.number().describe("Size of the file in bytes"),
});

/** Registers `export_pcap`. */
export function registerExportPcap(server: McpServer, sessions: Sessions): void {
  const where = sessions.outDir === undefined
    ? "This server has no --out-dir, so exports are refused."
    : `Files are written into ${JSON.stringify(sessions.outDir)}.`;
  server.registerTool("export_pcap", {
    title: "Export packets to pcapng",
    description: "Write the packets of a session's packet store that match a filter (the same filter " +
      "fields as get_packets; none: every packet held) to a new pcapng file, for Wireshark or tcpdump, " +
      "and return a resource_link to it with the packet count and size. " + where +
      " An existing file is never overwritten: a taken name gets -1, -2, ... before the extension.",
    inputSchema: z.object({
      ...sessionRefShape,
      ...filterShape,
      name: z.string().min(1).max(200).describe(
        'File name without directories, e.g. "dns-burst" (".pcapng" is added when missing)',
      ),
    }),
    outputSchema: exportPcapOutput,
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  }, (args) =>
    guarded(async (): Promise<ToolResult> => {
      const outDir = sessions.outDir;
      if (outDir === undefined) {
        throw new SessionError(
          "Exports are disabled: the server was started without --out-dir (or NETWATCH_OUT_DIR).",
        );
      }
      const s = await sessions.resolve(args);
      let r;
      try {
        r = await exportQuery(s.ring, filterFromArgs(args), outDir, {
          name: args.name,
          interfaces: s.interfaces,
          comment: `netwatch export of ${s.id} (${s.source})`,
        });
      } catch (e) {
        if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
          throw new SessionError(`Cannot write into --out-dir "${outDir}": ${e.message}`);
        }
        throw e;
      }
      const uri = pathToFileURL(r.path).href;
      const result = jsonResult({ capture_id: s.id, path: r.path, uri, packets: r.packets, bytes: r.bytes });
      result.content.unshift({
        type: "resource_link",
        uri,
        name: basename(r.path),
        mimeType: "application/x-pcapng",
        size: r.bytes,
        description: `${r.packets} packets exported from ${s.id}`,
      });
      return result;
    }));
}
