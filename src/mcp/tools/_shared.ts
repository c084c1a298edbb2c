/**
 * Schemas and helpers shared by the tools: the session reference every analysis tool accepts, the
 * session view, and the mapping of domain failures to `isError` results.
 *
 * @module
 */

import { z } from "zod";
import { PcapError } from "../../../ffi/pcap_error.ts";
import type { PacketFilter } from "../../store/packet_query.ts";
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

/** The counters of a session's packet store (`StoreInfo`). */
export const storeInfoSchema = z.object({
  packets: z.number().describe("Packets held in the session's packet store"),
  bytes: z.number().describe("Captured bytes held"),
  max_bytes: z.number().describe("The store's budget in bytes (--store-mb)"),
  evicted_packets: z.number().describe("Oldest packets evicted to stay within the budget"),
  evicted_bytes: z.number(),
  first_n: z.number().optional().describe("Packet number of the oldest packet held"),
  last_n: z.number().optional().describe("Packet number of the newest packet held"),
}).describe("The session's packet store, which get_packet, follow_stream and export_pcap read");

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
  store: storeInfoSchema,
  warnings: z.array(z.string()).optional(),
  error: z.string().optional(),
});

/** Input fields selecting packets (`PacketFilter`); every field given must match. */
export const filterShape = {
  protocol: z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(32)]).optional().describe(
    "Protocol name, or a list of names (any matches): eth, vlan, arp, ip, ipv4, ipv6, tcp, udp, icmp, " +
      "icmp6, a tunnel (gre, vxlan, ...) or an application protocol (dns, http, tls, quic, ssh, dhcp, ...)",
  ),
  host: z.string().min(1).optional().describe(
    "Either address equals this IPv4/IPv6 address or lies in this CIDR prefix",
  ),
  src_host: z.string().min(1).optional().describe("Source address or CIDR prefix"),
  dst_host: z.string().min(1).optional().describe("Destination address or CIDR prefix"),
  port: z.number().int().min(0).max(65535).optional().describe("Either TCP/UDP port"),
  src_port: z.number().int().min(0).max(65535).optional().describe("TCP/UDP source port"),
  dst_port: z.number().int().min(0).max(65535).optional().describe("TCP/UDP destination port"),
  from_ts: z.union([z.string(), z.number()]).optional().describe(
    'Packets at or after this time, epoch seconds (e.g. "1700000000.25")',
  ),
  to_ts: z.union([z.string(), z.number()]).optional().describe(
    "Packets at or before this time, epoch seconds",
  ),
  tcp_flags: z.union([z.string(), z.number()]).optional().describe(
    'TCP flags that must be set: names ("syn", "syn,ack"; "!ack" requires ACK clear) or a mask number',
  ),
  dns_name: z.string().optional().describe("A DNS question/answer name equal to this name or under it"),
  contains: z.string().min(1).max(256).optional().describe(
    "Text the payload contains (ASCII, case-insensitive)",
  ),
  bpf: z.string().min(1).max(4096).optional().describe(
    'A libpcap/tcpdump filter expression (e.g. "tcp port 80 and host 10.0.0.1"); check it with check_filter',
  ),
};

/** The `PacketFilter` of a tool's arguments: the filter fields that were given. */
export function filterFromArgs(args: Record<string, unknown>): PacketFilter {
  const filter: Record<string, unknown> = {};
  for (const k of Object.keys(filterShape)) {
    if (args[k] !== undefined) filter[k] = args[k];
  }
  return filter as PacketFilter;
}

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
