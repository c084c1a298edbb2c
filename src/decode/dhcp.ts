/**
 * DHCP decoders: BOOTP/DHCPv4 (RFC 951, RFC 2131, options RFC 2132) and the basics of DHCPv6 (RFC 8415).
 *
 * DHCPv4 decodes the fixed BOOTP part, then, after the magic cookie, walks the options (and, when option 52
 * says so, the `file` and `sname` fields that hold overloaded options). Without the cookie (plain BOOTP) only
 * the fixed part is decoded. Unknown enum values are kept as `unknown_<n>`.
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { ipv4String, ipv6String, macString, toHex, utf8Text } from "./_bytes.ts";

/** Anomaly codes these decoders report (stable API, never renamed). */
export const DHCP_ANOMALIES = {
  /** The payload ends inside the 236-byte BOOTP fixed part. */
  truncated: "dhcp_truncated",
  /** An option's length byte, or its value, runs past the end of the area that holds it. */
  optionOverrun: "dhcp_option_overrun",
  /** A fixed-size option (message type, an address, lease time...) with the wrong length; it is skipped. */
  badOptionLength: "dhcp_bad_option_length",
  /** DHCPv6: the payload ends inside the message header (4 bytes, 34 for relay messages). */
  v6Truncated: "dhcpv6_truncated",
  /** DHCPv6: an option header or value runs past the end of its enclosing area. */
  v6OptionOverrun: "dhcpv6_option_overrun",
} as const;

/** DHCP message type names by option 53 value (RFC 2132, 3203, 4388, 6926, 7724). Index 0 is unused. */
export const DHCP_MESSAGE_TYPES: readonly string[] = [
  "unknown_0",
  "discover",
  "offer",
  "request",
  "decline",
  "ack",
  "nak",
  "release",
  "inform",
  "forcerenew",
  "leasequery",
  "leaseunassigned",
  "leaseunknown",
  "leaseactive",
  "bulkleasequery",
  "leasequerydone",
  "activeleasequery",
  "leasequerystatus",
  "tls",
];

/** A decoded BOOTP/DHCPv4 message. Option-derived fields are present only when their option is. */
export interface DhcpRecord {
  op: "request" | "reply";
  /** Transaction id, `0x` and 8 hex digits. */
  xid: string;
  hops?: number;
  secs?: number;
  /** The broadcast bit of `flags`. */
  broadcast?: boolean;
  ciaddr?: string;
  yiaddr?: string;
  siaddr?: string;
  giaddr?: string;
  /** Client hardware address: a MAC for Ethernet (htype 1, hlen 6), otherwise hex of the `hlen` bytes. */
  chaddr?: string;
  /** Server host name (`sname`), when set and not overloaded with options. */
  sname?: string;
  /** Boot file name (`file`), when set and not overloaded with options. */
  file?: string;
  /** Option 53. */
  msg_type?: string;
  hostname?: string;
  requested_ip?: string;
  server_id?: string;
  /** Option 51, seconds. */
  lease_time?: number;
  subnet_mask?: string;
  router?: string[];
  dns_servers?: string[];
  domain_name?: string;
  param_request_list?: number[];
  vendor_class?: string;
  /** Option 61, hex of the whole value (type byte first). */
  client_id?: string;
  /** Option 56, an error text from server or client. */
  message?: string;
  /** Option 81 (RFC 4702), the client's FQDN. */
  client_fqdn?: string;
  /** Codes of the options seen, in order, pad and end excluded (at most `DHCP_MAX_OPTIONS`). */
  options?: number[];
}

/** Most option codes listed in `options`. */
export const DHCP_MAX_OPTIONS = 64;
/** Most addresses kept in `router` and `dns_servers`. */
export const DHCP_MAX_ADDRESSES = 16;

// BOOTP fixed part (RFC 2131 figure 1).
const OFF_OP = 0;
const OFF_HTYPE = 1;
const OFF_HLEN = 2;
const OFF_HOPS = 3;
const OFF_XID = 4;
const OFF_SECS = 8;
const OFF_FLAGS = 10;
const OFF_CIADDR = 12;
const OFF_YIADDR = 16;
const OFF_SIADDR = 20;
const OFF_GIADDR = 24;
const OFF_CHADDR = 28;
const OFF_SNAME = 44;
const OFF_FILE = 108;
const FIXED_LEN = 236;
const OFF_COOKIE = 236;
const OPTIONS_START = 240;
const MAGIC_COOKIE = 0x63825363;
const OPT_PAD = 0;
const OPT_END = 255;
const OPT_OVERLOAD = 52;

/** Text of `bytes[p, e)` up to the first NUL, as tshark's FT_STRINGZ fields show it. */
function stringz(bytes: Uint8Array, p: number, e: number): string {
  let q = p;
  while (q < e && bytes[q] !== 0) q++;
  return utf8Text(bytes, p, q);
}

function hex32(view: DataView, p: number): string {
  return "0x" + view.getUint32(p).toString(16).padStart(8, "0");
}

function addressList(bytes: Uint8Array, p: number, e: number): string[] {
  const out: string[] = [];
  for (; p + 4 <= e && out.length < DHCP_MAX_ADDRESSES; p += 4) out.push(ipv4String(bytes, p));
  return out;
}

/**
 * Decodes one BOOTP/DHCPv4 message in `bytes[off, end)`. Returns null unless `op` is 1 or 2 and at least the
 * transaction id is present. Never throws: a short fixed part reports `dhcp_truncated`, a bad option stops
 * the option walk with `dhcp_option_overrun`, and what was decoded is returned.
 */
export function decodeDhcp(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint?: AppHint,
): DhcpRecord | null {
  const len = end - off;
  if (len < OFF_SECS) return null;
  const opNum = bytes[off + OFF_OP];
  if (opNum !== 1 && opNum !== 2) return null;
  const rec: DhcpRecord = { op: opNum === 1 ? "request" : "reply", xid: hex32(view, off + OFF_XID) };
  rec.hops = bytes[off + OFF_HOPS];
  if (len < FIXED_LEN) {
    issues.report(DHCP_ANOMALIES.truncated, end);
    // Keep whatever whole fields arrived, so a cut-short request still says who asked.
    if (len >= OFF_FLAGS + 2) {
      rec.secs = view.getUint16(off + OFF_SECS);
      rec.broadcast = (bytes[off + OFF_FLAGS] & 0x80) !== 0;
    }
    if (len >= OFF_CIADDR + 4) rec.ciaddr = ipv4String(bytes, off + OFF_CIADDR);
    if (len >= OFF_YIADDR + 4) rec.yiaddr = ipv4String(bytes, off + OFF_YIADDR);
    if (len >= OFF_SIADDR + 4) rec.siaddr = ipv4String(bytes, off + OFF_SIADDR);
    if (len >= OFF_GIADDR + 4) rec.giaddr = ipv4String(bytes, off + OFF_GIADDR);
    if (len >= OFF_SNAME) setChaddr(bytes, off, rec);
    return rec;
  }
  rec.secs = view.getUint16(off + OFF_SECS);
  rec.broadcast = (bytes[off + OFF_FLAGS] & 0x80) !== 0;
  rec.ciaddr = ipv4String(bytes, off + OFF_CIADDR);
  rec.yiaddr = ipv4String(bytes, off + OFF_YIADDR);
  rec.siaddr = ipv4String(bytes, off + OFF_SIADDR);
  rec.giaddr = ipv4String(bytes, off + OFF_GIADDR);
  setChaddr(bytes, off, rec);
  let overload = 0;
  if (len >= OPTIONS_START && view.getUint32(off + OFF_COOKIE) === MAGIC_COOKIE) {
    overload = walkOptions(bytes, view, off + OPTIONS_START, end, rec, issues);
    // RFC 2131 section 4.1: the options field first, then `file`, then `sname`.
    if (overload & 1) walkOptions(bytes, view, off + OFF_FILE, off + FIXED_LEN, rec, issues);
    if (overload & 2) walkOptions(bytes, view, off + OFF_SNAME, off + OFF_FILE, rec, issues);
  }
  if (!(overload & 2) && bytes[off + OFF_SNAME] !== 0) {
    rec.sname = stringz(bytes, off + OFF_SNAME, off + OFF_FILE);
  }
  if (!(overload & 1) && bytes[off + OFF_FILE] !== 0) {
    rec.file = stringz(bytes, off + OFF_FILE, off + FIXED_LEN);
  }
  return rec;
}

function setChaddr(bytes: Uint8Array, off: number, rec: DhcpRecord) {
  const htype = bytes[off + OFF_HTYPE];
  const hlen = bytes[off + OFF_HLEN];
  if (htype === 1 && hlen === 6) rec.chaddr = macString(bytes, off + OFF_CHADDR);
  else if (hlen > 0) rec.chaddr = toHex(bytes, off + OFF_CHADDR, off + OFF_CHADDR + Math.min(hlen, 16));
}

/**
 * Walks the options in `[p, e)` into `rec` until the end option or the end of the area. Returns the value
 * of an option-overload option (52) met on the way, 0 if none.
 */
function walkOptions(
  bytes: Uint8Array,
  view: DataView,
  p: number,
  e: number,
  rec: DhcpRecord,
  issues: IssueSink,
): number {
  let overload = 0;
  while (p < e) {
    const code = bytes[p];
    if (code === OPT_PAD) {
      p++;
      continue;
    }
    if (code === OPT_END) break;
    if (p + 2 > e || p + 2 + bytes[p + 1] > e) {
      issues.report(DHCP_ANOMALIES.optionOverrun, p);
      break;
    }
    const olen = bytes[p + 1];
    const v = p + 2;
    const ve = v + olen;
    const codes = rec.options ??= [];
    if (codes.length < DHCP_MAX_OPTIONS) codes.push(code);
    // A fixed-size option of the wrong size is skipped (and reported) rather than half-read.
    let bad = false;
    switch (code) {
      case 1:
        if (olen === 4) rec.subnet_mask = ipv4String(bytes, v);
        else bad = true;
        break;
      case 3:
        if (olen >= 4 && (olen & 3) === 0) rec.router = addressList(bytes, v, ve);
        else bad = true;
        break;
      case 6:
        if (olen >= 4 && (olen & 3) === 0) rec.dns_servers = addressList(bytes, v, ve);
        else bad = true;
        break;
      case 12:
        rec.hostname = stringz(bytes, v, ve);
        break;
      case 15:
        rec.domain_name = stringz(bytes, v, ve);
        break;
      case 50:
        if (olen === 4) rec.requested_ip = ipv4String(bytes, v);
        else bad = true;
        break;
      case 51:
        if (olen === 4) rec.lease_time = view.getUint32(v);
        else bad = true;
        break;
      case OPT_OVERLOAD:
        if (olen === 1) overload = bytes[v] & 3;
        else bad = true;
        break;
      case 53:
        if (olen === 1) {
          const t = bytes[v];
          rec.msg_type = t < DHCP_MESSAGE_TYPES.length && t > 0 ? DHCP_MESSAGE_TYPES[t] : "unknown_" + t;
        } else bad = true;
        break;
      case 54:
        if (olen === 4) rec.server_id = ipv4String(bytes, v);
        else bad = true;
        break;
      case 55: {
        const list: number[] = [];
        for (let i = v; i < ve; i++) list.push(bytes[i]);
        rec.param_request_list = list;
        break;
      }
      case 56:
        rec.message = stringz(bytes, v, ve);
        break;
      case 60:
        rec.vendor_class = stringz(bytes, v, ve);
        break;
      case 61:
        rec.client_id = toHex(bytes, v, ve);
        break;
      case 81:
        // RFC 4702: flags, two obsolete rcode bytes, then the name (wire-encoded when the E flag is set).
        if (olen >= 3) rec.client_fqdn = fqdnText(bytes, v + 3, ve, (bytes[v] & 0x04) !== 0);
        else bad = true;
        break;
    }
    if (bad) issues.report(DHCP_ANOMALIES.badOptionLength, p);
    p = ve;
  }
  return overload;
}

/** The name in an FQDN option: DNS wire labels (no compression) when `wire`, otherwise ASCII. */
function fqdnText(bytes: Uint8Array, p: number, e: number, wire: boolean): string {
  if (!wire) return stringz(bytes, p, e);
  let s = "";
  while (p < e) {
    const n = bytes[p];
    if (n === 0 || n > 63 || p + 1 + n > e) break;
    if (s.length > 0) s += ".";
    s += utf8Text(bytes, p + 1, p + 1 + n);
    p += 1 + n;
  }
  return s;
}

/** BOOTP/DHCPv4 on UDP ports 67 (server) and 68 (client); the sniffer looks for the magic cookie. */
export const dhcpProtocol: AppProtocol<DhcpRecord> = {
  name: "dhcp",
  ports: { udp: [67, 68] },
  sniff: (bytes, off, end, hint) =>
    hint.transport === "udp" && end - off >= OPTIONS_START &&
    (bytes[off] === 1 || bytes[off] === 2) && bytes[off + OFF_COOKIE] === 0x63 &&
    bytes[off + OFF_COOKIE + 1] === 0x82 && bytes[off + OFF_COOKIE + 2] === 0x53 &&
    bytes[off + OFF_COOKIE + 3] === 0x63,
  decode: decodeDhcp,
};

// ---------------------------------------------------------------------------------------------------------
// DHCPv6 (RFC 8415)

/** DHCPv6 message type names (RFC 8415 section 7.3, RFC 5007, 5460, 7341, 7653, 8156). Index 0 is unused. */
export const DHCPV6_MESSAGE_TYPES: readonly string[] = [
  "unknown_0",
  "solicit",
  "advertise",
  "request",
  "confirm",
  "renew",
  "rebind",
  "reply",
  "release",
  "decline",
  "reconfigure",
  "information_request",
  "relay_forw",
  "relay_repl",
  "leasequery",
  "leasequery_reply",
  "leasequery_done",
  "leasequery_data",
  "reconfigure_request",
  "reconfigure_reply",
  "dhcpv4_query",
  "dhcpv4_response",
  "activeleasequery",
  "starttls",
  "bndupd",
  "bndreply",
  "poolreq",
  "poolresp",
  "updreq",
  "updreqall",
  "upddone",
  "connect",
  "connectreply",
  "disconnect",
  "state",
  "contact",
];

/** A decoded DHCPv6 message; relay messages carry the relayed message nested in `relay_message`. */
export interface Dhcpv6Record {
  msg_type: string;
  /** Client/server messages: the 24-bit transaction id, `0x` and 6 hex digits. */
  transaction_id?: string;
  /** Relay messages: hop count, link address and peer address. */
  hop_count?: number;
  link_address?: string;
  peer_address?: string;
  /** Option codes in order (at most `DHCP_MAX_OPTIONS`). */
  options: number[];
  /** Option 1 and option 2 DUIDs, hex. */
  client_duid?: string;
  server_duid?: string;
  /** Option 9 of a relay message, decoded (nesting capped at `DHCPV6_MAX_RELAY_DEPTH`). */
  relay_message?: Dhcpv6Record;
}

/** Deepest relay nesting decoded (RFC 8415 HOP_COUNT_LIMIT is 8 relays). */
export const DHCPV6_MAX_RELAY_DEPTH = 8;
/** Longest DUID shown, in bytes (RFC 8415 caps a DUID at 128). */
const MAX_DUID = 130;
const RELAY_HEADER_LEN = 34;

/**
 * Decodes one DHCPv6 message in `bytes[off, end)`. Returns null when it is empty or its type is 0. Never
 * throws; a bad option stops the walk with `dhcpv6_option_overrun`.
 */
export function decodeDhcpv6(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint?: AppHint,
): Dhcpv6Record | null {
  if (end - off < 1 || bytes[off] === 0) return null;
  return decodeV6Message(bytes, view, off, end, issues, 0);
}

function decodeV6Message(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  depth: number,
): Dhcpv6Record {
  const t = bytes[off];
  const rec: Dhcpv6Record = {
    msg_type: t < DHCPV6_MESSAGE_TYPES.length ? DHCPV6_MESSAGE_TYPES[t] : "unknown_" + t,
    options: [],
  };
  const len = end - off;
  let p: number;
  if (t === 12 || t === 13) {
    if (len < RELAY_HEADER_LEN) {
      issues.report(DHCP_ANOMALIES.v6Truncated, end);
      if (len >= 2) rec.hop_count = bytes[off + 1];
      return rec;
    }
    rec.hop_count = bytes[off + 1];
    rec.link_address = ipv6String(bytes, off + 2);
    rec.peer_address = ipv6String(bytes, off + 18);
    p = off + RELAY_HEADER_LEN;
  } else {
    if (len < 4) {
      issues.report(DHCP_ANOMALIES.v6Truncated, end);
      return rec;
    }
    rec.transaction_id = "0x" + toHex(bytes, off + 1, off + 4);
    p = off + 4;
  }
  while (p < end) {
    if (p + 4 > end || p + 4 + view.getUint16(p + 2) > end) {
      issues.report(DHCP_ANOMALIES.v6OptionOverrun, p);
      break;
    }
    const code = view.getUint16(p);
    const v = p + 4;
    const ve = v + view.getUint16(p + 2);
    if (rec.options.length < DHCP_MAX_OPTIONS) rec.options.push(code);
    if (code === 1) rec.client_duid = toHex(bytes, v, ve, MAX_DUID);
    else if (code === 2) rec.server_duid = toHex(bytes, v, ve, MAX_DUID);
    else if (code === 9 && (t === 12 || t === 13) && ve > v && depth < DHCPV6_MAX_RELAY_DEPTH) {
      rec.relay_message = decodeV6Message(bytes, view, v, ve, issues, depth + 1);
    }
    p = ve;
  }
  return rec;
}

/** DHCPv6 on UDP ports 546 (client) and 547 (server/relay). */
export const dhcpv6Protocol: AppProtocol<Dhcpv6Record> = {
  name: "dhcpv6",
  ports: { udp: [546, 547] },
  decode: decodeDhcpv6,
};
