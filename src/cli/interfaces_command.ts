/**
 * `netwatch interfaces [--json]`: every capture device libpcap reports, with its description, addresses,
 * flags and link types, as a table or as JSON (the `InterfaceRecord`s of `ffi/interfaces.ts`).
 *
 * @module
 */

import { type InterfaceAddress, type InterfaceRecord, listInterfaces } from "../../ffi/interfaces.ts";
import { PcapError } from "../../ffi/pcap_error.ts";
import { UserError } from "./open_input.ts";
import { LineWriter, OutputClosed } from "./output.ts";

/** Options of the `interfaces` command. */
export interface InterfacesOptions {
  json: boolean;
}

/** Runs the command; resolves to the exit code. */
export function interfacesCommand(options: InterfacesOptions, out = new LineWriter()): number {
  let records: InterfaceRecord[];
  try {
    records = listInterfaces();
  } catch (e) {
    if (e instanceof PcapError) throw new UserError(e.message, 1, { cause: e });
    throw e;
  }
  try {
    if (options.json) out.line(JSON.stringify(records, null, 2));
    else for (const line of formatInterfaces(records)) out.line(line);
    out.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  return 0;
}

/**
 * The table: one row per device (number, name, flags, link types, first address), further addresses on
 * continuation lines, the description under the name, and why link types are missing once at the end.
 */
export function formatInterfaces(records: readonly InterfaceRecord[]): string[] {
  if (records.length === 0) {
    return [
      "No capture devices found (without capture rights some systems list none: see `netwatch doctor`).",
    ];
  }
  const rows = records.map((r, i) => ({
    num: String(i + 1),
    name: r.name,
    flags: flagWords(r).join(","),
    links: r.link_types?.map((t) => t.name ?? String(t.value)).join(",") ?? "?",
    addrs: r.addresses.map(formatAddress),
    description: r.description,
  }));
  const w = {
    num: Math.max(1, ...rows.map((r) => r.num.length)),
    name: Math.max(4, ...rows.map((r) => r.name.length)),
    flags: Math.max(5, ...rows.map((r) => r.flags.length)),
    links: Math.max(10, ...rows.map((r) => r.links.length)),
  };
  const cols = (num: string, name: string, flags: string, links: string, addr: string) =>
    `${num.padStart(w.num)}  ${name.padEnd(w.name)}  ${flags.padEnd(w.flags)}  ${
      links.padEnd(w.links)
    }  ${addr}`
      .trimEnd();
  const lines = [cols("#", "NAME", "FLAGS", "LINK TYPES", "ADDRESSES")];
  for (const r of rows) {
    lines.push(cols(r.num, r.name, r.flags, r.links, r.addrs[0] ?? "-"));
    for (const a of r.addrs.slice(1)) lines.push(cols("", "", "", "", a));
    if (r.description) lines.push(`${"".padStart(w.num)}  (${r.description})`);
  }
  const notes = new Set(records.flatMap((r) => (r.link_types_note ? [r.link_types_note] : [])));
  if (notes.size > 0) {
    lines.push("");
    for (const n of notes) {
      const who = records.filter((r) => r.link_types_note === n).map((r) => r.name);
      lines.push(`? link types of ${who.join(", ")}: ${n}`);
    }
  }
  return lines;
}

function flagWords(r: InterfaceRecord): string[] {
  const words: string[] = [];
  if (r.flags.up) words.push("up");
  if (r.flags.running) words.push("running");
  if (r.flags.loopback) words.push("loopback");
  if (r.flags.wireless) words.push("wireless");
  if (r.flags.connection_status === "connected" || r.flags.connection_status === "disconnected") {
    words.push(r.flags.connection_status);
  }
  return words.length > 0 ? words : ["-"];
}

/** `10.0.0.5/24 brd 10.0.0.255`, `fe80::1/64`, `link 02:42:ac:11:00:02`. */
export function formatAddress(a: InterfaceAddress): string {
  if (a.family === "link") return `link ${a.addr}`;
  let s = a.addr;
  if (a.netmask !== undefined) {
    const bits = prefixLength(a.netmask);
    s += bits === undefined ? ` netmask ${a.netmask}` : `/${bits}`;
  }
  if (a.broadaddr !== undefined) s += ` brd ${a.broadaddr}`;
  if (a.dstaddr !== undefined) s += ` peer ${a.dstaddr}`;
  return s;
}

/** The prefix length of a contiguous netmask (`255.255.255.0` -> 24, `ffff:ffff::` -> 32), else undefined. */
export function prefixLength(mask: string): number | undefined {
  let bits = "";
  if (mask.includes(":")) {
    const halves = mask.split("::");
    if (halves.length > 2) return undefined;
    const head = halves[0] ? halves[0].split(":") : [];
    const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
    const groups = halves.length === 2
      ? [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail]
      : head;
    if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
    for (const g of groups) bits += parseInt(g, 16).toString(2).padStart(16, "0");
  } else {
    const parts = mask.split(".");
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    for (const p of parts) bits += Number(p).toString(2).padStart(8, "0");
  }
  return /^1*0*$/.test(bits) ? bits.indexOf("0") === -1 ? bits.length : bits.indexOf("0") : undefined;
}
