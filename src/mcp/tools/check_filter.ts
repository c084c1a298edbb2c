/**
 * `check_filter`: validates a BPF expression and shows its program, or libpcap's own error.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { checkFilter } from "../../../ffi/filter.ts";
import { parseLinkType } from "../../cli/filter_command.ts";
import { UserError } from "../../cli/open_input.ts";
import { errorResult, fitItems, jsonResult } from "../format.ts";
import { guarded } from "./_shared.ts";

/** Output of `check_filter`. */
export const checkFilterOutput = z.object({
  expression: z.string(),
  link_type: z.number().describe("LINKTYPE_* number the filter was compiled for"),
  valid: z.boolean(),
  instructions: z.array(z.string()).optional().describe("BPF program as `tcpdump -d` prints it (when valid)"),
  instructions_left_out: z.number().optional(),
  error: z.string().optional().describe("libpcap's error message (when not valid)"),
});

/** Registers `check_filter`. */
export function registerCheckFilter(server: McpServer): void {
  server.registerTool("check_filter", {
    title: "Check a BPF capture filter",
    description: "Check a BPF capture filter expression (pcap-filter(7) syntax, as used by tcpdump, " +
      'e.g. "udp port 53" or "tcp[tcpflags] & tcp-syn != 0") without capturing. Returns valid=true ' +
      "with the compiled BPF program, or valid=false with libpcap's error message; an invalid filter " +
      "is a normal answer, not a failure. Use it before capture_start.",
    inputSchema: z.object({
      expression: z.string().max(4096).describe("The filter expression"),
      link_type: z.union([z.number().int().min(0).max(65535), z.string().min(1)]).optional().describe(
        "Link type of the packets the filter will see: a LINKTYPE number or a name such as EN10MB " +
          "(Ethernet, the default), RAW, LINUX_SLL2, IEEE802_11_RADIO",
      ),
    }),
    outputSchema: checkFilterOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, ({ expression, link_type }) =>
    guarded(() => {
      let lt: number;
      try {
        lt = link_type === undefined ? 1 : parseLinkType(String(link_type));
      } catch (e) {
        if (e instanceof UserError) return errorResult(e.message.replace("--link-type", "link_type"));
        throw e;
      }
      const check = checkFilter(expression, { linkType: lt });
      if (!check.valid) return jsonResult({ expression, link_type: lt, valid: false, error: check.error });
      const n = fitItems(check.instructions);
      const out: Record<string, unknown> = {
        expression,
        link_type: lt,
        valid: true,
        instructions: check.instructions.slice(0, n),
      };
      if (n < check.instructions.length) out.instructions_left_out = check.instructions.length - n;
      return jsonResult(out);
    }));
}
