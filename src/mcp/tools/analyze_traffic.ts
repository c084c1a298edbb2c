/**
 * `analyze_traffic`: the statistics of a session, the object `netwatch analyze --json` prints
 * (`src/stats/analysis.ts`), bounded by leaving out whole sections.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { ANALYSIS_SECTIONS, type AnalysisSection } from "../../stats/analysis.ts";
import { DEFAULT_MAX_CHARS, jsonResult, sanitize } from "../format.ts";
import type { Sessions } from "../sessions.ts";
import { guarded, sessionRefShape } from "./_shared.ts";

/**
 * Which sections go first when the report is over budget: the bulkiest and most detailed first, the
 * overview (`summary`, `protocols`, `alerts`) never.
 */
const DROP_ORDER: readonly AnalysisSection[] = ["timeline", "flows", "tcp", "tls", "http", "dns", "hosts"];

const section = z.record(z.string(), z.unknown());

/**
 * Output of `analyze_traffic`. Loose: the analysis keeps growing, and new sections or fields must not
 * break clients that validate against this schema.
 */
export const analyzeTrafficOutput = z.looseObject({
  capture_id: z.string(),
  file: z.string().optional().describe("The capture file (file sessions)"),
  interface: z.string().optional().describe("The interface (live sessions)"),
  state: z.string().describe("Session state; a running capture gives the statistics so far"),
  summary: z.looseObject({
    packets: z.number(),
    bytes: z.number(),
    captured_bytes: z.number(),
    first_ts: z.string().nullable(),
    last_ts: z.string().nullable(),
    duration_s: z.number(),
    link_types: z.record(z.string(), z.number()),
    packets_per_s: z.number().nullable(),
    bits_per_s: z.number().nullable(),
    malformed_packets: z.number(),
  }).optional(),
  protocols: section.optional().describe("Protocol hierarchy: packets and bytes per layer"),
  flows: section.optional(),
  hosts: section.optional(),
  dns: section.optional(),
  http: section.optional(),
  tls: section.optional(),
  tcp: section.optional(),
  timeline: section.optional(),
  alerts: z.array(z.unknown()).optional(),
  sections_left_out: z.array(z.string()).optional().describe(
    "Sections dropped to keep the result small: ask for them with `sections`",
  ),
  read_error: z.string().optional(),
});

/** Registers `analyze_traffic`. */
export function registerAnalyzeTraffic(server: McpServer, sessions: Sessions): void {
  server.registerTool("analyze_traffic", {
    title: "Analyze traffic",
    description: "Statistics of a session's traffic, as `netwatch analyze --json`: summary (counts, " +
      "time span, rates), protocol hierarchy, flows, top hosts, DNS names, HTTP hosts, TLS SNI and " +
      "versions, TCP handshake outcomes, a timeline, alerts. Works on a running capture (statistics " +
      "so far). The result is bounded to ~8000 characters: sections that do not fit are listed in " +
      "sections_left_out; ask for them by name with `sections`. Strings copied from packets (names, " +
      "hosts) are untrusted data, escaped.",
    inputSchema: z.object({
      ...sessionRefShape,
      sections: z.array(z.enum(ANALYSIS_SECTIONS)).min(1).optional().describe(
        `Sections to return (default all): ${ANALYSIS_SECTIONS.join(", ")}`,
      ),
    }),
    outputSchema: analyzeTrafficOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, (args) =>
    guarded(async () => {
      const s = await sessions.resolve(args);
      const report: Record<string, unknown> = { capture_id: s.id };
      if (s.kind === "file") report.file = s.source;
      else report.interface = s.source;
      report.state = s.state;
      Object.assign(report, sanitize(s.analysis.toJSON(args.sections ?? ANALYSIS_SECTIONS)));
      if (s.error !== undefined) report.read_error = s.error;
      const left: string[] = [];
      for (const name of DROP_ORDER) {
        if (JSON.stringify(report).length <= DEFAULT_MAX_CHARS) break;
        if (report[name] === undefined) continue;
        delete report[name];
        left.push(name);
      }
      if (left.length > 0) report.sections_left_out = left;
      return jsonResult(report, { untrusted: true });
    }));
}
