/**
 * `list_interfaces`: the capture devices libpcap knows, with addresses, flags and link types.
 *
 * @module
 */

import type { McpServer } from "@modelcontextprotocol/server";
import { z } from "zod";
import { listInterfaces } from "../../../ffi/interfaces.ts";
import { fitItems, jsonResult } from "../format.ts";
import { guarded } from "./_shared.ts";

const addressSchema = z.object({
  family: z.enum(["ipv4", "ipv6", "link"]),
  addr: z.string(),
  netmask: z.string().optional(),
  broadaddr: z.string().optional(),
  dstaddr: z.string().optional(),
});

/** Output of `list_interfaces`. */
export const listInterfacesOutput = z.object({
  interfaces: z.array(z.object({
    name: z.string().describe("Device name to pass to capture_start"),
    description: z.string().optional(),
    addresses: z.array(addressSchema),
    flags: z.object({
      up: z.boolean(),
      running: z.boolean(),
      loopback: z.boolean(),
      wireless: z.boolean(),
      connection_status: z.enum(["unknown", "connected", "disconnected", "not_applicable"]),
    }),
    link_types: z.array(z.object({
      value: z.number(),
      name: z.string().optional(),
      description: z.string().optional(),
    })).optional().describe("Link types the device offers; the first is the default"),
    link_types_note: z.string().optional().describe("Why link_types is absent"),
  })),
  total: z.number().describe("Devices libpcap listed"),
  left_out: z.number().describe("Devices not shown to keep the result small"),
});

/** Registers `list_interfaces`. */
export function registerListInterfaces(server: McpServer): void {
  server.registerTool("list_interfaces", {
    title: "List capture interfaces",
    description: "List the network interfaces this host can capture on (libpcap's pcap_findalldevs), " +
      "with their addresses, up/running/loopback flags and link types. Use a returned `name` as the " +
      "`interface` of capture_start. The first device is libpcap's default.",
    inputSchema: z.object({
      link_types: z.boolean().optional().describe(
        "Open each device to list its link types (default true; needs capture rights, otherwise " +
          "each device carries link_types_note instead). Set false for a faster answer.",
      ),
    }),
    outputSchema: listInterfacesOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  }, ({ link_types }) =>
    guarded(() => {
      const all = listInterfaces({ linkTypes: link_types ?? true });
      const n = fitItems(all);
      return jsonResult({ interfaces: all.slice(0, n), total: all.length, left_out: all.length - n });
    }));
}
