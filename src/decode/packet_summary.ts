/**
 * A one-line, human-readable description of a decoded packet, in the spirit of tcpdump's output, for
 * `netwatch packets` without `--jsonl`.
 *
 * @module
 */

import { formatTs } from "../capture/timestamp.ts";
import type { LayerSet } from "./layers.ts";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from "./layers.ts";
import type { DecodedPacket } from "./packet_decoder.ts";

/** `n ts src > dst: what`, one line. */
export function packetSummary(p: DecodedPacket): string {
  const parts = [String(p.n), formatTs(p.tsSec, p.tsFrac, p.tsDigits), describe(p.layers)];
  if (p.caplen < p.len) parts.push(`[${p.caplen} of ${p.len} bytes captured]`);
  else parts.push(`[${p.len} bytes]`);
  if (p.malformed !== undefined) parts.push(`(malformed: ${p.malformed})`);
  return parts.join(" ");
}

function describe(ls: LayerSet): string {
  if (ls.arp !== undefined) {
    const a = ls.arp;
    return a.op === 1
      ? `ARP who-has ${a.tpa} tell ${a.spa}`
      : a.op === 2
      ? `ARP ${a.spa} is-at ${a.sha}`
      : `ARP op ${a.op}`;
  }
  if (ls.ip === undefined) {
    if (ls.eth !== undefined) {
      return `${ls.eth.src} > ${ls.eth.dst} ethertype 0x${ls.eth.type.toString(16).padStart(4, "0")}`;
    }
    if (ls.wlan !== undefined) return "802.11 frame";
    return "frame";
  }
  const ip = ls.ip;
  let src = ip.src, dst = ip.dst, what: string;
  if (ls.tcp !== undefined) {
    src += "." + ls.tcp.sport;
    dst += "." + ls.tcp.dport;
    what = `TCP [${tcpFlags(ls.tcp.flags)}] seq ${ls.tcp.seq} len ${ls.tcp.len}`;
  } else if (ls.udp !== undefined) {
    src += "." + ls.udp.sport;
    dst += "." + ls.udp.dport;
    what = `UDP len ${Math.max(0, ls.udp.len - 8)}`;
  } else if (ls.icmp !== undefined) {
    what = `ICMP type ${ls.icmp.type} code ${ls.icmp.code}`;
  } else if (ls.icmp6 !== undefined) {
    what = `ICMPv6 type ${ls.icmp6.type} code ${ls.icmp6.code}`;
  } else {
    what = `IP proto ${ip.proto}${ip.fragOffset > 0 ? ` fragment offset ${ip.fragOffset}` : ""}`;
  }
  if (ls.app !== undefined) what += ` ${ls.app.toUpperCase()}${appDetail(ls.app, ls.appRecord as AppFields)}`;
  let line = `${src} > ${dst}: ${what}`;
  if (ls.inner !== undefined) line += ` | tunnel ${ls.tunnel?.type ?? ""}: ${describe(ls.inner)}`;
  return line;
}

function tcpFlags(flags: number): string {
  let s = "";
  if (flags & TCP_SYN) s += "S";
  if (flags & TCP_FIN) s += "F";
  if (flags & TCP_RST) s += "R";
  if (flags & TCP_PSH) s += "P";
  if (flags & TCP_URG) s += "U";
  if (flags & TCP_ACK) s += ".";
  return s || "none";
}

/** The few application fields a one-line view shows. Packet strings are capped and control bytes escaped. */
interface AppFields {
  qr?: number;
  qd?: { name: string; type: string }[];
  an?: unknown[];
  rcode?: number;
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  handshake?: string;
  sni?: string;
  banner?: string;
  msg_type?: string;
}

function appDetail(app: string, r: AppFields | undefined): string {
  if (r === undefined) return "";
  const q = r.qd?.[0];
  switch (app) {
    case "dns":
      if (q === undefined) return "";
      return r.qr === 1
        ? ` response ${q.type} ${clip(q.name)}: ${r.an?.length ?? 0} answers${
          r.rcode ? `, rcode ${r.rcode}` : ""
        }`
        : ` query ${q.type} ${clip(q.name)}`;
    case "http":
      if (r.method !== undefined) return ` ${clip(r.method)} ${clip(r.uri ?? "")}`;
      return r.status !== undefined ? ` ${r.status} ${clip(r.reason ?? "")}` : "";
    case "tls":
    case "quic":
      return (r.handshake ? ` ${r.handshake}` : "") + (r.sni ? ` ${clip(r.sni)}` : "");
    case "ssh":
      return r.banner ? ` ${clip(r.banner)}` : "";
    case "dhcp":
      return r.msg_type ? ` ${r.msg_type}` : "";
  }
  return "";
}

/** At most 80 characters, with control characters escaped so a packet cannot drive the terminal. */
function clip(s: string): string {
  // deno-lint-ignore no-control-regex
  const safe = s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  return safe.length > 80 ? safe.slice(0, 79) + "\u2026" : safe;
}
