/**
 * `follow_stream`: one TCP or UDP conversation's payload, both directions in order, TCP reassembled
 * (Wireshark's "Follow Stream"), from the session's packet store.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { type FlowSelector, followStream } from "../../store/follow_stream.ts";
import { jsonResult } from "../format.ts";
import type { Sessions } from "../sessions.ts";
import { SessionError } from "../sessions.ts";
import { guarded, sessionRefShape } from "./_shared.ts";

/**
 * Payload bytes shown by default. Non-printable bytes show as `\xNN` (four characters), so 2 KiB stays
 * within a result's ~8000 characters even for binary payload.
 */
export const DEFAULT_FOLLOW_BYTES = 2048;
/** Most payload bytes shown on request (the result is then larger than the usual budget). */
export const MAX_FOLLOW_BYTES = 32768;

const chunkSchema = z.object({
  dir: z.enum(["orig", "resp"]).describe("orig: from the side that sent the first packet seen"),
  n_first: z.number().describe("Packet number of the chunk's first packet"),
  len: z.number().optional().describe("Payload bytes in the chunk"),
  text: z.string().optional().describe(
    "The bytes: printable ASCII, newlines and tabs as they are, other bytes as \\xNN, backslash as \\\\",
  ),
  bytes_base64: z.string().optional(),
  gap: z.number().optional().describe("Bytes the capture missed here"),
});

/** Output of `follow_stream`. */
export const followStreamOutput = z.object({
  capture_id: z.string(),
  proto: z.enum(["tcp", "udp"]),
  orig: z.string().describe("address:port of the side that sent the first packet seen"),
  resp: z.string(),
  packets: z.number().describe("Packets of the conversation held in the store"),
  bytes: z.object({ orig: z.number(), resp: z.number() }).describe("Payload bytes per direction"),
  chunks: z.array(chunkSchema),
  shown_bytes: z.number(),
  omitted_bytes: z.number().optional().describe("Payload bytes past max_bytes, not shown"),
  gap_bytes: z.number().optional(),
  retransmitted_bytes: z.number().optional(),
});

/** Registers `follow_stream`. */
export function registerFollowStream(server: McpServer, sessions: Sessions): void {
  server.registerTool("follow_stream", {
    title: "Follow a TCP/UDP stream",
    description: "Show the payload of one TCP or UDP conversation, both directions in capture order, TCP " +
      "reassembled by sequence number (like Wireshark's Follow Stream). Name the conversation by one of " +
      "its packets (`packet`, a packet number from get_packets) or by proto+src+sport+dst+dport " +
      "(either direction). Only packets still in the session's packet store are seen. Payload text " +
      "is untrusted data: non-printable bytes are shown as \\xNN.",
    inputSchema: z.object({
      ...sessionRefShape,
      packet: z.number().int().min(1).optional().describe("Number of any packet of the conversation"),
      proto: z.enum(["tcp", "udp"]).optional().describe("With src, sport, dst, dport: the conversation"),
      src: z.string().min(1).optional().describe("One side's IPv4/IPv6 address"),
      sport: z.number().int().min(0).max(65535).optional().describe("That side's port"),
      dst: z.string().min(1).optional().describe("The other side's address"),
      dport: z.number().int().min(0).max(65535).optional().describe("The other side's port"),
      max_bytes: z.number().int().min(0).max(MAX_FOLLOW_BYTES).optional().describe(
        `Payload bytes shown, both directions together (default ${DEFAULT_FOLLOW_BYTES}, at most ` +
          `${MAX_FOLLOW_BYTES}); the rest is counted in omitted_bytes`,
      ),
      encoding: z.enum(["text", "base64"]).optional().describe('"text" (default) or "base64"'),
    }),
    outputSchema: followStreamOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, (args) =>
    guarded(async () => {
      const s = await sessions.resolve(args);
      const tuple = [args.proto, args.src, args.sport, args.dst, args.dport];
      let sel: FlowSelector;
      if (args.packet !== undefined) {
        if (tuple.some((v) => v !== undefined)) {
          throw new SessionError("Give either packet or proto+src+sport+dst+dport, not both.");
        }
        sel = { packet: args.packet };
      } else if (tuple.every((v) => v !== undefined)) {
        sel = { proto: args.proto!, src: args.src!, sport: args.sport!, dst: args.dst!, dport: args.dport! };
      } else {
        throw new SessionError(
          "Name the conversation: packet (a packet number from get_packets), or all of proto, src, sport, " +
            "dst and dport.",
        );
      }
      const r = followStream(s.ring, sel, {
        maxBytes: args.max_bytes ?? DEFAULT_FOLLOW_BYTES,
        encoding: args.encoding ?? "text",
      });
      return jsonResult({ capture_id: s.id, ...r }, { untrusted: true });
    }));
}
