/**
 * DNS message decoder (RFC 1035 section 4), also used for mDNS (RFC 6762) and LLMNR (RFC 4795), which
 * share the wire format.
 *
 * The record is what `netwatch packets --jsonl` prints under `dns`. Names are spelled the way tshark's
 * `dns.qry.name` spells them, so that the two can be compared: no trailing dot, the root as `<Root>`,
 * label bytes joined with `.` as they are (a dot inside a label is not escaped, as tshark does not), and
 * bytes that are not printable shown with tshark's escapes (`\t`, `\000`, `\u0080`, U+FFFD for bytes that are
 * not UTF-8). A name that cannot be spelled becomes tshark's placeholder (`<Name contains a pointer that
 * loops>`, `<Name too long>`, `<Unknown extended label>`) or, for a pointer that goes forward or past the
 * message, `<Name contains a bad pointer>` (tshark follows forward pointers; RFC 1035 4.1.4 does not).
 *
 * On port 5353 (mDNS) the top bit of QCLASS and CLASS is taken out of the class and shown as
 * `unicast_response` / `cache_flush`. LLMNR's C (conflict) flag sits where DNS has AA and is shown as `aa`.
 *
 * Malformed input never throws: the decoder reports `dns_*` anomalies to the `IssueSink` and returns what it
 * decoded before the fault. A name fault (loop, bad pointer, bad label, too long) keeps the record holding
 * the name when its fixed fields could be read, then stops the message there: the section boundaries after
 * it are no longer trusted. Running out of bytes sets `truncated: true` on the message (and on the record
 * that was cut, if any).
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { ipv4String, ipv6String, toHex } from "./_bytes.ts";
import {
  dnsClassName,
  DnsType,
  dnsTypeName,
  EDNS_CLIENT_SUBNET,
  ednsOptionName,
  svcParamName,
} from "./dns_types.ts";

// ---------------------------------------------------------------------------------------------------------
// Record shape

/** One entry of the question section (RFC 1035 4.1.2). */
export interface DnsQuestion {
  name: string;
  type: string;
  class: string;
  /** mDNS only: the top bit of QCLASS, "QU" question (RFC 6762 section 5.4). */
  unicast_response?: boolean;
}

/** MX RDATA (RFC 1035 3.3.9). Chosen over a "10 mail.example.com" string so that consumers need not parse. */
export interface DnsMxData {
  preference: number;
  exchange: string;
}

/** SOA RDATA (RFC 1035 3.3.13). */
export interface DnsSoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** SRV RDATA (RFC 2782). */
export interface DnsSrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

/** CAA RDATA (RFC 8659 section 4.1). */
export interface DnsCaaData {
  flags: number;
  tag: string;
  value: string;
}

/**
 * SVCB/HTTPS RDATA (RFC 9460 section 2.2). `params` keys are the presentation names (`alpn`, `port`,
 * `ipv4hint`, ..., `key<n>` for unknown keys); values are lists for list-valued keys, `true` for
 * `no-default-alpn`, a number for `port`, a string for `dohpath`, hex for `ech` and unknown keys.
 */
export interface DnsSvcbData {
  priority: number;
  target: string;
  params: Record<string, string | number | boolean | string[]>;
}

/** HINFO RDATA (RFC 1035 3.3.2). */
export interface DnsHinfoData {
  cpu: string;
  os: string;
}

/** NAPTR RDATA (RFC 3403 section 4.1). */
export interface DnsNaptrData {
  order: number;
  preference: number;
  flags: string;
  services: string;
  regexp: string;
  replacement: string;
}

/** URI RDATA (RFC 7553 section 4.5). */
export interface DnsUriData {
  priority: number;
  weight: number;
  target: string;
}

/** NSEC RDATA (RFC 4034 section 4.1): the next owner name and the types present at this one. */
export interface DnsNsecData {
  next_domain: string;
  types: string[];
}

/**
 * Decoded RDATA. A/AAAA: the address; CNAME/NS/PTR/DNAME (and the obsolete MB/MD/MF/MG/MR): the name;
 * TXT/SPF: the character-strings; the object types above; anything else (NULL, DS, DNSKEY, RRSIG, unknown
 * types, or RDATA that does not fit its type): lowercase hex of the RDATA, at most `MAX_HEX_BYTES` bytes.
 */
export type DnsData =
  | string
  | string[]
  | DnsMxData
  | DnsSoaData
  | DnsSrvData
  | DnsCaaData
  | DnsSvcbData
  | DnsHinfoData
  | DnsNaptrData
  | DnsUriData
  | DnsNsecData;

/** One resource record of the answer, authority or additional section (RFC 1035 4.1.3). */
export interface DnsResourceRecord {
  name: string;
  type: string;
  class: string;
  ttl: number;
  data: DnsData;
  /** mDNS only: the top bit of CLASS, "cache flush" (RFC 6762 section 10.2). */
  cache_flush?: boolean;
  /** The RDATA was cut by the end of the message, or its hex was capped at `MAX_HEX_BYTES`. */
  truncated?: true;
}

/** One EDNS(0) option (RFC 6891 section 6.1.2), its data as hex capped at `MAX_HEX_BYTES`. */
export interface DnsEdnsOption {
  code: number;
  name: string;
  data: string;
}

/** The OPT pseudo-RR of the additional section (RFC 6891 section 6.1.3). */
export interface DnsEdns {
  udp_size: number;
  /** Upper 8 bits of the 12-bit RCODE; the full RCODE is `ext_rcode << 4 | rcode`. */
  ext_rcode: number;
  version: number;
  do: boolean;
  options: DnsEdnsOption[];
  /** Client subnet option (RFC 7871) as `address/source-prefix`, e.g. `1.2.3.0/24`. */
  client_subnet?: string;
}

/**
 * A decoded DNS message. `qd` and `an` hold the records; `ns` and `ar` are the header's counts of the
 * authority and additional sections (RFC 1035 4.1.1), whose decoded records are in `authorities` and
 * `additionals` (the OPT record excluded: it is `edns`). `opcode` and `rcode` are the header's numbers.
 */
export interface DnsRecord {
  id: number;
  qr: 0 | 1;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
  qd: DnsQuestion[];
  an: DnsResourceRecord[];
  ns: number;
  ar: number;
  authorities?: DnsResourceRecord[];
  additionals?: DnsResourceRecord[];
  edns?: DnsEdns;
  /** The message ends before its header counts say: cut by the capture, or a TCP message that continues. */
  truncated?: true;
}

// ---------------------------------------------------------------------------------------------------------
// Limits and anomalies

/** Anomaly codes this decoder reports (stable API, never renamed). */
export const DNS_ANOMALIES = {
  /** The message ends before its header counts say (not reported for a TCP message that continues). */
  truncated: "dns_truncated",
  /** A compression pointer back into the labels it ends, or onto itself, or too many pointers. */
  nameLoop: "dns_name_loop",
  /** A compression pointer forward or past the message: not a prior occurrence (RFC 1035 4.1.4). */
  badPointer: "dns_bad_pointer",
  /** A name longer than 255 octets once expanded (RFC 1035 2.3.4). */
  nameTooLong: "dns_name_too_long",
  /** A label of type 0x40 or 0x80, whose length cannot be known. */
  badLabel: "dns_bad_label",
  /** RDATA that does not fit its type (wrong length, a name or string running past RDLENGTH). */
  badRdata: "dns_bad_rdata",
  /** An SVCB/HTTPS parameter running past RDATA or with a value that does not fit its key. */
  badSvcb: "dns_bad_svcb",
  /** An EDNS option running past the OPT RDATA, or a second OPT record (RFC 6891 6.1.1). */
  badOpt: "dns_bad_opt",
  /** A client subnet option with an unknown family or an address length not ceil(prefix/8) (RFC 7871 6). */
  badEcs: "dns_bad_ecs",
} as const;

/** RDATA and option data shown as hex are capped at this many bytes (then `truncated: true`). */
export const MAX_HEX_BYTES = 512;

/** A name may not exceed 255 octets on the wire (RFC 1035 2.3.4), counted after decompression. */
export const MAX_NAME_OCTETS = 255;

/**
 * Compression pointers followed per name. Pointers must point strictly backwards, which already rules out
 * loops; the cap bounds the work on a chain of pointers to pointers, which no encoder produces (a
 * 255-octet name has at most 127 labels, each needing at most one pointer).
 */
export const MAX_POINTER_JUMPS = 128;

const HEADER_LEN = 12;
const MDNS_PORT = 5353;

// Placeholders for names that cannot be spelled; the first two are tshark's words.
const NAME_LOOP = "<Name contains a pointer that loops>";
const NAME_TOO_LONG = "<Name too long>";
const NAME_BAD_POINTER = "<Name contains a bad pointer>";
const NAME_BAD_LABEL = "<Unknown extended label>";
const ROOT = "<Root>";

// ---------------------------------------------------------------------------------------------------------
// Text

const REPLACEMENT = "\ufffd";
const C_ESCAPES: Record<number, string> = {
  7: "\\a",
  8: "\\b",
  9: "\\t",
  10: "\\n",
  11: "\\v",
  12: "\\f",
  13: "\\r",
};
// Code points tshark (glib's g_unichar_isprint) escapes: control, format, unassigned, surrogate.
const NOT_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cn}\p{Cs}]$/u;

function hex4(n: number, digits: number): string {
  return n.toString(16).toUpperCase().padStart(digits, "0");
}

/**
 * tshark's spelling of `bytes[a, b)` for a name or text that is not plain printable ASCII: printable ASCII
 * as is; other single-byte characters as C escapes or three-digit octal; UTF-8 sequences decoded (tshark
 * accepts overlong forms and 5- and 6-byte sequences) and kept when printable, else `\uXXXX`/`\UXXXXXXXX`;
 * a sequence that is cut short, a surrogate or a value past U+10FFFF becomes one U+FFFD, as does any byte
 * that cannot start a sequence. Rare path: only names with such bytes come here.
 */
function escapeText(bytes: Uint8Array, a: number, b: number): string {
  let s = "";
  let i = a;
  while (i < b) {
    const c = bytes[i];
    if (c < 0x80) {
      if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
      else s += C_ESCAPES[c] ?? "\\" + c.toString(8).padStart(3, "0");
      i++;
      continue;
    }
    if (c < 0xc0 || c >= 0xfe) {
      s += REPLACEMENT;
      i++;
      continue;
    }
    const need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : c < 0xf8 ? 3 : c < 0xfc ? 4 : 5;
    let cp = c & (0x3f >> need);
    let j = i + 1;
    let k = 0;
    for (; k < need && j < b && (bytes[j] & 0xc0) === 0x80; k++, j++) cp = cp * 64 + (bytes[j] & 0x3f);
    i = j;
    if (k < need || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
      s += REPLACEMENT;
    } else if (cp >= 0x20 && cp < 0x7f) {
      s += String.fromCharCode(cp);
    } else if (cp >= 0x80 && !NOT_PRINTABLE.test(String.fromCodePoint(cp))) {
      s += String.fromCodePoint(cp);
    } else {
      s += cp > 0xffff ? "\\U" + hex4(cp, 8) : "\\u" + hex4(cp, 4);
    }
  }
  return s;
}

/** Text of a character-string `bytes[a, b)`: latin-1 fast path when it is printable ASCII, else tshark's escapes. */
function text(bytes: Uint8Array, a: number, b: number): string {
  let s = "";
  for (let i = a; i < b; i++) {
    const c = bytes[i];
    if (c < 0x20 || c > 0x7e) return escapeText(bytes, a, b);
    s += String.fromCharCode(c);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// Names

// The name being read is copied here (labels joined by '.') and turned into a string once at the end.
// 255 octets on the wire make at most 253 characters, so 256 bytes always suffice.
const nameBuf = new Uint8Array(256);
const nameViews: Uint8Array[] = Array.from({ length: 257 }, (_, n) => nameBuf.subarray(0, n));

// Out-parameters of readName(): kept at module level so that a name costs no result object. The decoder
// is synchronous and not re-entrant, so they cannot be clobbered between the call and the read.
/** Absolute offset just after the name where it was read (after its first pointer, if any); -1 when the
 * name's extent is unknown (cut short, or a label type whose length cannot be known). */
let nameNext = 0;
/** Anomaly code of the name, "" when it was read whole. */
let nameFault = "";
/** Absolute offset of the byte at fault. */
let nameFaultAt = 0;

/**
 * Reads the (possibly compressed) name at `pos`, pointers relative to `msg`, reading no byte at or past
 * `end`. Returns its spelling and sets `nameNext`/`nameFault`.
 *
 * Loop protection (RFC 1035 4.1.4 says a pointer refers to a *prior* occurrence): each pointer must
 * point before the start of the run of labels it ends, so targets strictly decrease and no loop is
 * possible; jumps are capped as well, and the expanded length is limited to 255 octets.
 */
function readName(bytes: Uint8Array, msg: number, end: number, pos: number): string {
  let p = pos;
  let runStart = pos; // first byte of the current run of labels; a pointer must point before it
  let next = -1;
  let n = 0; // characters in nameBuf
  let octets = 1; // wire length of the expanded name, counting the final root label
  let jumps = 0;
  let plain = true;
  let tooLong = false;
  nameFault = "";
  for (;;) {
    if (p >= end) return nameFail(DNS_ANOMALIES.truncated, p, "");
    const len = bytes[p];
    if (len === 0) {
      p++;
      break;
    }
    if (len >= 0xc0) {
      if (p + 1 >= end) return nameFail(DNS_ANOMALIES.truncated, p, "");
      const target = msg + (((len & 0x3f) << 8) | bytes[p + 1]);
      if (next < 0) next = p + 2;
      if (target >= runStart) {
        nameNext = next;
        // Back into the run this pointer ends (or onto itself) is a loop; forward or past the end is not
        // a "prior occurrence" at all.
        return target <= p
          ? nameFail(DNS_ANOMALIES.nameLoop, p, NAME_LOOP)
          : nameFail(DNS_ANOMALIES.badPointer, p, NAME_BAD_POINTER);
      }
      if (++jumps > MAX_POINTER_JUMPS) {
        nameNext = next;
        return nameFail(DNS_ANOMALIES.nameLoop, p, NAME_LOOP);
      }
      // Most owner names are a lone pointer to the question, and most others end in a pointer to a name
      // already read: reuse its string instead of spelling it again.
      const k = cachedAt(target);
      if (k >= 0) {
        nameNext = next;
        const total = octets + cacheOctets[k] - 1;
        if (tooLong || total > MAX_NAME_OCTETS) {
          if (!tooLong) nameFaultAt = p;
          nameFault = DNS_ANOMALIES.nameTooLong;
          return NAME_TOO_LONG;
        }
        const suffix = cacheName[k];
        const name = n === 0 ? suffix : suffix === ROOT ? spell(n, plain) : spell(n, plain) + "." + suffix;
        remember(pos, name, total);
        return name;
      }
      p = runStart = target;
      continue;
    }
    // 0x40 (extended label types, RFC 6891 4.2) and 0x80 are not in use: the label's length is unknown.
    // tshark ends the name after an 0x40 length byte (and reads TYPE and CLASS after it) but gives up on
    // 0x80; doing the same keeps the two in step on such packets.
    if (len >= 0x40) {
      nameNext = len < 0x80 ? (next < 0 ? p + 1 : next) : -1;
      return nameFail(DNS_ANOMALIES.badLabel, p, NAME_BAD_LABEL);
    }
    const stop = p + 1 + len;
    if (stop > end) return nameFail(DNS_ANOMALIES.truncated, p, "");
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS && !tooLong) {
      tooLong = true;
      nameFaultAt = p;
    }
    if (!tooLong) {
      if (n > 0) nameBuf[n++] = 0x2e;
      for (let i = p + 1; i < stop; i++) {
        const c = bytes[i];
        if (c < 0x20 || c > 0x7e) plain = false;
        nameBuf[n++] = c;
      }
    }
    p = stop;
  }
  nameNext = next < 0 ? p : next;
  if (tooLong) {
    nameFault = DNS_ANOMALIES.nameTooLong;
    return NAME_TOO_LONG;
  }
  const name = n === 0 ? ROOT : spell(n, plain);
  remember(pos, name, octets);
  return name;
}

/** The string of `nameBuf[0, n)`; `plain` when every byte is printable ASCII. */
function spell(n: number, plain: boolean): string {
  return plain
    ? String.fromCharCode.apply(null, nameViews[n] as unknown as number[])
    : escapeText(nameBuf, 0, n);
}

// Names read whole in the current message, by absolute offset: a name at a given offset always spells the
// same, however it is reached. Reset by decodeDns for each message; small because a lookup is a linear scan.
const CACHE_SIZE = 16;
const cacheAt = new Int32Array(CACHE_SIZE);
const cacheOctets = new Uint16Array(CACHE_SIZE);
const cacheName: string[] = new Array(CACHE_SIZE).fill("");
let cacheLen = 0;

function cachedAt(offset: number): number {
  for (let k = 0; k < cacheLen; k++) if (cacheAt[k] === offset) return k;
  return -1;
}

function remember(offset: number, name: string, octets: number): void {
  if (cacheLen === CACHE_SIZE) return;
  cacheAt[cacheLen] = offset;
  cacheOctets[cacheLen] = octets;
  cacheName[cacheLen++] = name;
}

function nameFail(code: string, at: number, spelling: string): string {
  if (code === DNS_ANOMALIES.truncated) nameNext = -1;
  nameFault = code;
  nameFaultAt = at;
  return spelling;
}

// ---------------------------------------------------------------------------------------------------------
// The message

// Why decoding of the current message stopped early; module state for the same reason as `nameNext`.
let cut = false; // ran out of bytes
let cutAt = 0;
let halted = false; // a structural fault: nothing after it is trusted

function fault(issues: IssueSink, code: string, at: number): void {
  // Truncation is reported once, by decodeDns, because a TCP message that continues in the next segment
  // is not an anomaly. Structural faults are reported here.
  if (code !== DNS_ANOMALIES.truncated) {
    halted = true;
    issues.report(code, at);
  } else if (!cut) {
    cut = true;
    cutAt = at;
  }
}

// Out-parameter of readRecord(): offset after the record.
let rrNext = 0;

/**
 * Reads the resource record at `pos`. Returns null when not even its fixed part could be read (then `cut`
 * or `halted` is set). A record whose owner name or RDATA has a fault is returned, and `halted` is set.
 */
function readRecord(
  bytes: Uint8Array,
  view: DataView,
  msg: number,
  end: number,
  pos: number,
  issues: IssueSink,
  mdns: boolean,
): DnsResourceRecord | null {
  const name = readName(bytes, msg, end, pos);
  const ownerFault = nameFault;
  const ownerFaultAt = nameFaultAt;
  if (nameNext < 0) {
    fault(issues, ownerFault, ownerFaultAt);
    return null;
  }
  const fixed = nameNext;
  if (fixed + 10 > end) {
    if (ownerFault !== "") fault(issues, ownerFault, ownerFaultAt);
    fault(issues, DNS_ANOMALIES.truncated, fixed);
    return null;
  }
  const type = view.getUint16(fixed);
  let cls = view.getUint16(fixed + 2);
  const ttl = view.getUint32(fixed + 4);
  const rdLen = view.getUint16(fixed + 8);
  const rd = fixed + 10;
  let rdEnd = rd + rdLen;
  let cacheFlush = false;
  if (mdns) {
    cacheFlush = cls >= 0x8000;
    cls &= 0x7fff;
  }
  const rr: DnsResourceRecord = {
    name,
    type: dnsTypeName(type),
    class: dnsClassName(cls),
    ttl,
    data: "",
  };
  if (mdns) rr.cache_flush = cacheFlush;
  if (ownerFault !== "") fault(issues, ownerFault, ownerFaultAt);
  let rdCut = false;
  if (rdEnd > end) {
    rdCut = true;
    rdEnd = end;
  }
  rrNext = rdEnd;
  if (rdCut) {
    rr.data = toHex(bytes, rd, rdEnd, MAX_HEX_BYTES);
    rr.truncated = true;
    fault(issues, DNS_ANOMALIES.truncated, end);
    return rr;
  }
  rr.data = readRdata(bytes, view, msg, rd, rdEnd, type, issues, rr);
  return rr;
}

/** Hex of `[a, b)`, capped, flagging `rr` when capped. */
function hexData(bytes: Uint8Array, a: number, b: number, rr: { truncated?: true }): string {
  if (b - a > MAX_HEX_BYTES) rr.truncated = true;
  return toHex(bytes, a, b, MAX_HEX_BYTES);
}

function badRdata(issues: IssueSink, bytes: Uint8Array, a: number, b: number, rr: DnsResourceRecord): string {
  issues.report(DNS_ANOMALIES.badRdata, a);
  return hexData(bytes, a, b, rr);
}

/** False after rdataName() met a fault (reported, and the caller should stop reading the RDATA). */
let rdNameOk = true;
/** Set by rdataName() when a name runs past RDLENGTH: the whole RDATA is then shown as hex. */
let rdBad = false;

/**
 * A name inside RDATA `[rd, rdEnd)`. Pointers may go anywhere before it in the message, but the name as
 * written must end inside the RDATA.
 */
function rdataName(
  bytes: Uint8Array,
  msg: number,
  pos: number,
  rdEnd: number,
  issues: IssueSink,
): string {
  const s = readName(bytes, msg, rdEnd, pos);
  rdNameOk = true;
  if (nameFault !== "") {
    rdNameOk = false;
    // A name running off the RDATA is bad RDATA, not a cut message: RDLENGTH said where it ends.
    if (nameFault === DNS_ANOMALIES.truncated) {
      issues.report(DNS_ANOMALIES.badRdata, nameFaultAt);
      rdBad = true;
    } else fault(issues, nameFault, nameFaultAt);
  }
  return s;
}

function readRdata(
  bytes: Uint8Array,
  view: DataView,
  msg: number,
  rd: number,
  rdEnd: number,
  type: number,
  issues: IssueSink,
  rr: DnsResourceRecord,
): DnsData {
  rdBad = false;
  const data = typedRdata(bytes, view, msg, rd, rdEnd, type, issues, rr);
  return rdBad ? hexData(bytes, rd, rdEnd, rr) : data;
}

function typedRdata(
  bytes: Uint8Array,
  view: DataView,
  msg: number,
  rd: number,
  rdEnd: number,
  type: number,
  issues: IssueSink,
  rr: DnsResourceRecord,
): DnsData {
  const len = rdEnd - rd;
  // Empty RDATA is how UPDATE deletes an RRset (RFC 2136 2.5.2) and how some responders answer "no data";
  // it is not worth an anomaly for any type.
  if (len === 0) return "";
  switch (type) {
    case DnsType.A:
      return len === 4 ? ipv4String(bytes, rd) : badRdata(issues, bytes, rd, rdEnd, rr);
    case DnsType.AAAA:
      return len === 16 ? ipv6String(bytes, rd) : badRdata(issues, bytes, rd, rdEnd, rr);
    case DnsType.NS:
    case DnsType.MD:
    case DnsType.MF:
    case DnsType.CNAME:
    case DnsType.MB:
    case DnsType.MG:
    case DnsType.MR:
    case DnsType.PTR:
    case DnsType.DNAME:
      return rdataName(bytes, msg, rd, rdEnd, issues);
    case DnsType.MX: {
      if (len < 3) return badRdata(issues, bytes, rd, rdEnd, rr);
      return { preference: view.getUint16(rd), exchange: rdataName(bytes, msg, rd + 2, rdEnd, issues) };
    }
    case DnsType.SOA: {
      const mname = rdataName(bytes, msg, rd, rdEnd, issues);
      if (!rdNameOk) return mname;
      const rname = rdataName(bytes, msg, nameNext, rdEnd, issues);
      if (!rdNameOk) return rname;
      const p = nameNext;
      if (p + 20 > rdEnd) return badRdata(issues, bytes, rd, rdEnd, rr);
      return {
        mname,
        rname,
        serial: view.getUint32(p),
        refresh: view.getUint32(p + 4),
        retry: view.getUint32(p + 8),
        expire: view.getUint32(p + 12),
        minimum: view.getUint32(p + 16),
      };
    }
    case DnsType.TXT:
    case DnsType.SPF: {
      const strings: string[] = [];
      let p = rd;
      while (p < rdEnd) {
        const stop = p + 1 + bytes[p];
        if (stop > rdEnd) {
          issues.report(DNS_ANOMALIES.badRdata, p);
          break;
        }
        strings.push(text(bytes, p + 1, stop));
        p = stop;
      }
      return strings;
    }
    case DnsType.HINFO: {
      const cpuEnd = rd + 1 + bytes[rd];
      if (cpuEnd >= rdEnd || cpuEnd + 1 + bytes[cpuEnd] > rdEnd) {
        return badRdata(issues, bytes, rd, rdEnd, rr);
      }
      return { cpu: text(bytes, rd + 1, cpuEnd), os: text(bytes, cpuEnd + 1, cpuEnd + 1 + bytes[cpuEnd]) };
    }
    case DnsType.SRV: {
      if (len < 7) return badRdata(issues, bytes, rd, rdEnd, rr);
      return {
        priority: view.getUint16(rd),
        weight: view.getUint16(rd + 2),
        port: view.getUint16(rd + 4),
        target: rdataName(bytes, msg, rd + 6, rdEnd, issues),
      };
    }
    case DnsType.NAPTR:
      return naptr(bytes, view, msg, rd, rdEnd, issues, rr);
    case DnsType.URI: {
      if (len < 4) return badRdata(issues, bytes, rd, rdEnd, rr);
      return {
        priority: view.getUint16(rd),
        weight: view.getUint16(rd + 2),
        target: text(bytes, rd + 4, rdEnd),
      };
    }
    case DnsType.CAA: {
      if (len < 2 || rd + 2 + bytes[rd + 1] > rdEnd) return badRdata(issues, bytes, rd, rdEnd, rr);
      const tagEnd = rd + 2 + bytes[rd + 1];
      return { flags: bytes[rd], tag: text(bytes, rd + 2, tagEnd), value: text(bytes, tagEnd, rdEnd) };
    }
    case DnsType.SVCB:
    case DnsType.HTTPS:
      return svcb(bytes, view, msg, rd, rdEnd, issues, rr);
    case DnsType.NSEC: {
      const next = rdataName(bytes, msg, rd, rdEnd, issues);
      if (!rdNameOk) return next;
      return { next_domain: next, types: typeBitmaps(bytes, nameNext, rdEnd, issues) };
    }
    default:
      return hexData(bytes, rd, rdEnd, rr);
  }
}

function naptr(
  bytes: Uint8Array,
  view: DataView,
  msg: number,
  rd: number,
  rdEnd: number,
  issues: IssueSink,
  rr: DnsResourceRecord,
): DnsData {
  let p = rd + 4;
  const strings: string[] = [];
  for (let i = 0; i < 3; i++) {
    if (p >= rdEnd || p + 1 + bytes[p] > rdEnd) return badRdata(issues, bytes, rd, rdEnd, rr);
    strings.push(text(bytes, p + 1, p + 1 + bytes[p]));
    p += 1 + bytes[p];
  }
  return {
    order: view.getUint16(rd),
    preference: view.getUint16(rd + 2),
    flags: strings[0],
    services: strings[1],
    regexp: strings[2],
    replacement: rdataName(bytes, msg, p, rdEnd, issues),
  };
}

/** The type bitmaps of NSEC (RFC 4034 4.1.2): window number, bitmap length 1..32, bitmap. */
function typeBitmaps(bytes: Uint8Array, p: number, stop: number, issues: IssueSink): string[] {
  const types: string[] = [];
  while (p < stop) {
    if (p + 2 > stop) {
      issues.report(DNS_ANOMALIES.badRdata, p);
      break;
    }
    const window = bytes[p];
    const len = bytes[p + 1];
    if (len === 0 || len > 32 || p + 2 + len > stop) {
      issues.report(DNS_ANOMALIES.badRdata, p);
      break;
    }
    for (let i = 0; i < len; i++) {
      const b = bytes[p + 2 + i];
      if (b === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (b & (0x80 >> bit)) types.push(dnsTypeName(window * 256 + i * 8 + bit));
      }
    }
    p += 2 + len;
  }
  return types;
}

/** SVCB/HTTPS RDATA (RFC 9460 2.2): priority, uncompressed target name, then key/length/value params. */
function svcb(
  bytes: Uint8Array,
  view: DataView,
  msg: number,
  rd: number,
  rdEnd: number,
  issues: IssueSink,
  rr: DnsResourceRecord,
): DnsData {
  if (rdEnd - rd < 3) return badRdata(issues, bytes, rd, rdEnd, rr);
  const priority = view.getUint16(rd);
  const target = rdataName(bytes, msg, rd + 2, rdEnd, issues);
  const params: DnsSvcbData["params"] = {};
  const data: DnsSvcbData = { priority, target, params };
  if (!rdNameOk) return data;
  let p = nameNext;
  while (p < rdEnd) {
    if (p + 4 > rdEnd) {
      issues.report(DNS_ANOMALIES.badSvcb, p);
      break;
    }
    const key = view.getUint16(p);
    const vStart = p + 4;
    const vEnd = vStart + view.getUint16(p + 2);
    if (vEnd > rdEnd) {
      issues.report(DNS_ANOMALIES.badSvcb, p);
      break;
    }
    const value = svcParam(bytes, view, key, vStart, vEnd);
    if (value === undefined) {
      issues.report(DNS_ANOMALIES.badSvcb, p);
      break;
    }
    params[svcParamName(key)] = value;
    p = vEnd;
  }
  return data;
}

/** One SvcParamValue (RFC 9460 sections 7 and 8, RFC 9461); undefined when its length does not fit its key. */
function svcParam(
  bytes: Uint8Array,
  view: DataView,
  key: number,
  a: number,
  b: number,
): string | number | boolean | string[] | undefined {
  const len = b - a;
  switch (key) {
    case 0: { // mandatory: list of keys
      if (len === 0 || len % 2 !== 0) return undefined;
      const keys: string[] = [];
      for (let p = a; p < b; p += 2) keys.push(svcParamName(view.getUint16(p)));
      return keys;
    }
    case 1: { // alpn: list of length-prefixed protocol ids
      if (len === 0) return undefined;
      const ids: string[] = [];
      for (let p = a; p < b;) {
        const stop = p + 1 + bytes[p];
        if (bytes[p] === 0 || stop > b) return undefined;
        ids.push(text(bytes, p + 1, stop));
        p = stop;
      }
      return ids;
    }
    case 2: // no-default-alpn
      return len === 0 ? true : undefined;
    case 3: // port
      return len === 2 ? view.getUint16(a) : undefined;
    case 4: { // ipv4hint
      if (len === 0 || len % 4 !== 0) return undefined;
      const addrs: string[] = [];
      for (let p = a; p < b; p += 4) addrs.push(ipv4String(bytes, p));
      return addrs;
    }
    case 6: { // ipv6hint
      if (len === 0 || len % 16 !== 0) return undefined;
      const addrs: string[] = [];
      for (let p = a; p < b; p += 16) addrs.push(ipv6String(bytes, p));
      return addrs;
    }
    case 7: // dohpath (RFC 9461)
      return text(bytes, a, b);
    default: // ech and unknown keys
      return toHex(bytes, a, b, MAX_HEX_BYTES);
  }
}

const ecsAddr = new Uint8Array(16);

/** Builds `edns` from the OPT record whose fixed part is at `fixed` (RFC 6891 6.1.2). */
function readOpt(
  bytes: Uint8Array,
  view: DataView,
  fixed: number,
  rdEnd: number,
  issues: IssueSink,
): DnsEdns {
  const ttl = view.getUint32(fixed + 4);
  const edns: DnsEdns = {
    udp_size: view.getUint16(fixed + 2),
    ext_rcode: ttl >>> 24,
    version: (ttl >>> 16) & 0xff,
    do: (ttl & 0x8000) !== 0,
    options: [],
  };
  let p = fixed + 10;
  while (p < rdEnd) {
    if (p + 4 > rdEnd) {
      issues.report(DNS_ANOMALIES.badOpt, p);
      break;
    }
    const code = view.getUint16(p);
    const a = p + 4;
    const b = a + view.getUint16(p + 2);
    if (b > rdEnd) {
      issues.report(DNS_ANOMALIES.badOpt, p);
      break;
    }
    edns.options.push({ code, name: ednsOptionName(code), data: toHex(bytes, a, b, MAX_HEX_BYTES) });
    if (code === EDNS_CLIENT_SUBNET && edns.client_subnet === undefined) {
      const subnet = clientSubnet(bytes, view, a, b);
      if (subnet === undefined) issues.report(DNS_ANOMALIES.badEcs, p);
      else edns.client_subnet = subnet;
    }
    p = b;
  }
  return edns;
}

/**
 * The client subnet option (RFC 7871 section 6): FAMILY, SOURCE PREFIX-LENGTH, SCOPE PREFIX-LENGTH, then
 * exactly ceil(SOURCE/8) octets of address. Undefined when any of that does not hold.
 */
function clientSubnet(bytes: Uint8Array, view: DataView, a: number, b: number): string | undefined {
  if (b - a < 4) return undefined;
  const family = view.getUint16(a);
  const source = bytes[a + 2];
  const size = family === 1 ? 4 : family === 2 ? 16 : 0;
  const addrLen = b - a - 4;
  if (size === 0 || source > size * 8 || addrLen !== (source + 7) >> 3) return undefined;
  ecsAddr.fill(0);
  for (let i = 0; i < addrLen; i++) ecsAddr[i] = bytes[a + 4 + i];
  return (size === 4 ? ipv4String(ecsAddr, 0) : ipv6String(ecsAddr, 0)) + "/" + source;
}

/**
 * True when the 12 bytes at `p` look like the start of a DNS message: a known opcode, the Z bit clear, and
 * at most one question. Used only to tell a TCP segment that starts a long message from one that
 * continues a message (whose first two bytes are then not a length at all).
 */
function plausibleHeader(bytes: Uint8Array, p: number): boolean {
  const opcode = (bytes[p + 2] >> 3) & 0xf;
  return opcode <= 6 && opcode !== 3 && (bytes[p + 3] & 0x40) === 0 && bytes[p + 4] === 0 &&
    bytes[p + 5] <= 1;
}

/**
 * Decodes the DNS message in `bytes[off, end)` (RFC 1035 4.1). Over TCP the message follows a 2-byte
 * length (RFC 1035 4.2.2) and only the first message of the segment is decoded.
 *
 * Returns null when the payload cannot hold a header (fewer than 12 bytes) or, over TCP, when the segment
 * does not start a message (length below 12, or longer than the segment with an implausible header).
 * Anything else on a DNS port is decoded as DNS, as tshark does, with anomalies reported to `issues`.
 * Never throws and never reads outside `[off, end)`.
 *
 * @example
 * ```ts
 * const rec = decodeDns(bytes, view, off, end, issues, { transport: "udp", srcPort: 40000, dstPort: 53 });
 * if (rec) console.log(rec.qd[0]?.name, rec.an.length);
 * ```
 */
export function decodeDns(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  hint: AppHint,
): DnsRecord | null {
  let msg = off;
  let msgEnd = end;
  let continues = false; // a TCP message longer than this segment: running out of bytes is expected
  if (hint.transport === "tcp") {
    if (end - off < 2 + HEADER_LEN) return null;
    const len = (bytes[off] << 8) | bytes[off + 1];
    msg = off + 2;
    if (len < HEADER_LEN) return null;
    if (msg + len <= end) msgEnd = msg + len;
    else if (plausibleHeader(bytes, msg)) continues = true;
    else return null;
  }
  if (msgEnd - msg < HEADER_LEN) return null;

  cacheLen = 0;
  cut = false;
  cutAt = 0;
  halted = false;
  const mdns = hint.srcPort === MDNS_PORT || hint.dstPort === MDNS_PORT;
  const flags = view.getUint16(msg + 2);
  const qdCount = view.getUint16(msg + 4);
  const anCount = view.getUint16(msg + 6);
  const nsCount = view.getUint16(msg + 8);
  const arCount = view.getUint16(msg + 10);
  const rec: DnsRecord = {
    id: view.getUint16(msg),
    qr: (flags >>> 15) as 0 | 1,
    opcode: (flags >>> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: flags & 0xf,
    qd: [],
    an: [],
    ns: nsCount,
    ar: arCount,
  };

  let p = msg + HEADER_LEN;
  // Each question takes at least 5 bytes and each record 11, so a count larger than the bytes left
  // ends in `cut` after at most (bytes / 5) iterations: the loops are bounded by the payload, not the counts.
  for (let i = 0; i < qdCount; i++) {
    const name = readName(bytes, msg, msgEnd, p);
    const nf = nameFault;
    const nfAt = nameFaultAt;
    if (nameNext < 0) {
      fault(issues, nf, nfAt);
      break;
    }
    const q = nameNext;
    if (q + 4 > msgEnd) {
      if (nf !== "") fault(issues, nf, nfAt);
      fault(issues, DNS_ANOMALIES.truncated, q);
      break;
    }
    let cls = view.getUint16(q + 2);
    const question: DnsQuestion = { name, type: dnsTypeName(view.getUint16(q)), class: "" };
    if (mdns) {
      question.unicast_response = cls >= 0x8000;
      cls &= 0x7fff;
    }
    question.class = dnsClassName(cls);
    rec.qd.push(question);
    p = q + 4;
    if (nf !== "") {
      fault(issues, nf, nfAt);
      break;
    }
  }

  for (let i = 0; i < anCount && !cut && !halted; i++) {
    const rr = readRecord(bytes, view, msg, msgEnd, p, issues, mdns);
    if (rr === null) break;
    rec.an.push(rr);
    p = rrNext;
  }

  for (let i = 0; i < nsCount && !cut && !halted; i++) {
    const rr = readRecord(bytes, view, msg, msgEnd, p, issues, mdns);
    if (rr === null) break;
    (rec.authorities ??= []).push(rr);
    p = rrNext;
  }

  for (let i = 0; i < arCount && !cut && !halted; i++) {
    const start = p;
    // OPT is recognised before the generic path: its CLASS and TTL fields mean something else.
    if (
      p < msgEnd && bytes[p] === 0 && p + 11 <= msgEnd && ((bytes[p + 1] << 8) | bytes[p + 2]) === DnsType.OPT
    ) {
      const rdEnd = p + 11 + view.getUint16(p + 9);
      if (rec.edns === undefined && rdEnd <= msgEnd) {
        rec.edns = readOpt(bytes, view, p + 1, rdEnd, issues);
        p = rdEnd;
        continue;
      }
      if (rec.edns !== undefined) issues.report(DNS_ANOMALIES.badOpt, start);
    }
    const rr = readRecord(bytes, view, msg, msgEnd, p, issues, mdns);
    if (rr === null) break;
    (rec.additionals ??= []).push(rr);
    p = rrNext;
  }

  if (cut) {
    rec.truncated = true;
    if (!continues) issues.report(DNS_ANOMALIES.truncated, cutAt);
  }
  return rec;
}

/** The DNS application protocol: DNS on 53, mDNS on 5353 and LLMNR on 5355 (UDP), DNS and mDNS over TCP. */
export const dnsProtocol: AppProtocol<DnsRecord> = {
  name: "dns",
  ports: { udp: [53, 5353, 5355], tcp: [53, 5353] },
  decode: decodeDns,
};
