/**
 * SIP message heads (RFC 3261 section 7): the request or status line and the header fields that identify a
 * dialog and its route. A UDP datagram holds one whole message; over TCP the decoder sees single segments
 * and decodes the message at the start of one (a segment that does not start with a SIP start line gives
 * `null`). Fields agree with Wireshark's `sip` dissector (`sip.Method`, `sip.r-uri`, `sip.Status-Code`,
 * `sip.Call-ID`, `sip.From`, `sip.To`, `sip.CSeq`, `sip.Via`, ...).
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { latin1, utf8Text } from "./_bytes.ts";
import {
  ascii,
  bytesEqualNoCase,
  contentEnd,
  decimal,
  fieldText,
  HeadScan,
  indexOfLf,
  scanFields,
  SP,
  startsWith,
  TCHAR,
} from "./_text_head.ts";

/** A SIP message head. Absent fields are omitted; header values are kept as sent (first occurrence). */
export interface SipRecord {
  /** Request method (requests only), e.g. `INVITE`. */
  method?: string;
  /** Request-URI (requests only). */
  uri?: string;
  /** Status code (responses only). */
  status?: number;
  /** Reason phrase (responses only). */
  reason?: string;
  /** `SIP/2.0`. */
  version?: string;
  /** `Call-ID` (compact `i`). */
  call_id?: string;
  /** `From` (compact `f`). */
  from?: string;
  /** `To` (compact `t`). */
  to?: string;
  /** `CSeq`, e.g. `1 INVITE`. */
  cseq?: string;
  /** Every `Via` value (compact `v`) in order, a field holding several comma-separated values split. */
  via?: string[];
  /** `User-Agent`. */
  user_agent?: string;
  /** `Contact` (compact `m`). */
  contact?: string;
  /** `Content-Type` (compact `c`). */
  content_type?: string;
  /** `Content-Length` (compact `l`), when a valid decimal number. */
  content_length?: number;
}

/** Bytes of a header value kept (Via and Contact values of a few hundred bytes are normal). */
export const SIP_MAX_VALUE = 1024;
/** Bytes of the Request-URI kept. */
export const SIP_MAX_URI = 1024;
/** `Via` values kept; a longer path is cut (and reported as `sip_via_truncated`). */
export const SIP_MAX_VIA = 16;

const MAX_METHOD_LEN = 16;
const SIP_2_0_SP = ascii("SIP/2.0 ");
const SIP_SLASH = ascii("SIP/");
const SCHEME_SIP = ascii("sip:");
const SCHEME_SIPS = ascii("sips:");
const SCHEME_TEL = ascii("tel:");

// Header names, long form and RFC 3261 section 7.3.3 compact form.
const H_CALL_ID = ascii("call-id");
const H_FROM = ascii("from");
const H_TO = ascii("to");
const H_CSEQ = ascii("cseq");
const H_VIA = ascii("via");
const H_USER_AGENT = ascii("user-agent");
const H_CONTACT = ascii("contact");
const H_CONTENT_TYPE = ascii("content-type");
const H_CONTENT_LENGTH = ascii("content-length");

/** A method: upper-case letters only (every method in the IANA SIP registry is). */
function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}

/** Whether a URI scheme SIP requests use (`sip:`, `sips:`, `tel:`) starts at `s`. */
function sipScheme(bytes: Uint8Array, s: number, end: number): boolean {
  return startsWith(bytes, s, end, SCHEME_SIP) || startsWith(bytes, s, end, SCHEME_SIPS) ||
    startsWith(bytes, s, end, SCHEME_TEL);
}

/**
 * Cheap content test: `SIP/2.0 ` at the start (a status line), or an upper-case method, SP and a `sip:`,
 * `sips:` or `tel:` URI (a request line). Reads at most 23 bytes and allocates nothing.
 */
export function sniffSip(bytes: Uint8Array, off: number, end: number, _hint: AppHint): boolean {
  if (end - off < 8) return false;
  const b0 = bytes[off];
  if (!isUpper(b0)) return false;
  if (b0 === 0x53 /* S */ && startsWith(bytes, off, end, SIP_2_0_SP)) return true;
  const lim = Math.min(end, off + MAX_METHOD_LEN + 1);
  let i = off + 1;
  while (i < lim && isUpper(bytes[i])) i++;
  return i < lim && bytes[i] === SP && sipScheme(bytes, i + 1, end);
}

function spaceOrEnd(bytes: Uint8Array, s: number, e: number): number {
  while (s < e && bytes[s] !== SP) s++;
  return s;
}

/**
 * Decodes the SIP message head at the start of `bytes[off, end)`, or returns `null` when it does not start
 * with a SIP request or status line. Issues: `sip_truncated_head` (no empty line before the end),
 * `sip_bad_header`, `sip_bad_status`, `sip_bad_content_length`, `sip_body_truncated` (a UDP message shorter
 * than its Content-Length, which RFC 3261 section 18.3 says to discard), `sip_via_truncated`.
 */
export function decodeSip(
  bytes: Uint8Array,
  _view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  hint: AppHint,
): SipRecord | null {
  if (end - off < 8) return null;
  // Classify from the first bytes, before scanning for the line end or allocating.
  const status = startsWith(bytes, off, end, SIP_SLASH);
  let mE = off;
  if (!status) {
    const lim = Math.min(end, off + MAX_METHOD_LEN + 1);
    while (mE < lim && TCHAR[bytes[mE]] === 1) mE++;
    if (mE === off || mE >= lim || bytes[mE] !== SP || !sipScheme(bytes, mE + 1, end)) return null;
  }
  const lf = indexOfLf(bytes, off, end);
  const lineE = lf < 0 ? end : contentEnd(bytes, off, lf);
  const rec: SipRecord = {};
  if (status) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    const vE = spaceOrEnd(bytes, off, lineE);
    rec.version = latin1(bytes, off, Math.min(vE, off + 32));
    const cS = vE + 1;
    const cE = spaceOrEnd(bytes, cS, lineE);
    const code = cE - cS === 3 ? decimal(bytes, cS, cE) : -1;
    if (code >= 0) rec.status = code;
    else issues.report("sip_bad_status", Math.min(cS, end));
    if (cE + 1 < lineE) rec.reason = utf8Text(bytes, cE + 1, Math.min(lineE, cE + 1 + 256));
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version
    rec.method = latin1(bytes, off, mE);
    const uS = mE + 1;
    const uE = spaceOrEnd(bytes, uS, lineE);
    rec.uri = utf8Text(bytes, uS, Math.min(uE, uS + SIP_MAX_URI));
    if (uE + 1 < lineE) rec.version = latin1(bytes, uE + 1, Math.min(lineE, uE + 33));
  }
  if (lf < 0) {
    issues.report("sip_truncated_head", end);
    return rec;
  }

  let contentLength = -1;
  let viaCut = false;
  const via = (vS: number, vE: number) => {
    if (!addVia(bytes, vS, vE, rec) && !viaCut) {
      viaCut = true;
      issues.report("sip_via_truncated", vS);
    }
  };
  const visit = (nS: number, nE: number, vS: number, vE: number) => {
    const n = nE - nS;
    switch (n) {
      case 1:
        switch (bytes[nS] | 0x20) {
          case 0x69: // i
            if (rec.call_id === undefined) rec.call_id = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
            return;
          case 0x66: // f
            if (rec.from === undefined) rec.from = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
            return;
          case 0x74: // t
            if (rec.to === undefined) rec.to = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
            return;
          case 0x76: // v
            via(vS, vE);
            return;
          case 0x6d: // m
            if (rec.contact === undefined) rec.contact = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
            return;
          case 0x63: // c
            if (rec.content_type === undefined) rec.content_type = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
            return;
          case 0x6c: // l
            contentLength = lengthField(bytes, vS, vE, contentLength, rec, issues);
            return;
        }
        return;
      case 2:
        if (rec.to === undefined && bytesEqualNoCase(bytes, nS, nE, H_TO)) {
          rec.to = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        }
        return;
      case 3:
        if (bytesEqualNoCase(bytes, nS, nE, H_VIA)) via(vS, vE);
        return;
      case 4:
        if (rec.from === undefined && bytesEqualNoCase(bytes, nS, nE, H_FROM)) {
          rec.from = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        } else if (rec.cseq === undefined && bytesEqualNoCase(bytes, nS, nE, H_CSEQ)) {
          rec.cseq = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        }
        return;
      case 7:
        if (rec.call_id === undefined && bytesEqualNoCase(bytes, nS, nE, H_CALL_ID)) {
          rec.call_id = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        } else if (rec.contact === undefined && bytesEqualNoCase(bytes, nS, nE, H_CONTACT)) {
          rec.contact = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        }
        return;
      case 10:
        if (rec.user_agent === undefined && bytesEqualNoCase(bytes, nS, nE, H_USER_AGENT)) {
          rec.user_agent = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        }
        return;
      case 12:
        if (rec.content_type === undefined && bytesEqualNoCase(bytes, nS, nE, H_CONTENT_TYPE)) {
          rec.content_type = fieldText(bytes, vS, vE, SIP_MAX_VALUE);
        }
        return;
      case 14:
        if (bytesEqualNoCase(bytes, nS, nE, H_CONTENT_LENGTH)) {
          contentLength = lengthField(bytes, vS, vE, contentLength, rec, issues);
        }
        return;
    }
  };
  const scan = scanFields(bytes, lf + 1, end, SIP_SCAN, visit, new HeadScan());
  if (scan.end === "bad_line") issues.report("sip_bad_header", scan.stopOff);
  else if (scan.end === "truncated") issues.report("sip_truncated_head", end);
  else if (hint.transport === "udp" && contentLength > end - scan.bodyOff) {
    issues.report("sip_body_truncated", end);
  }
  return rec;
}

// RFC 3261 HCOLON allows whitespace before the colon.
const SIP_SCAN = { wsBeforeColon: true } as const;

/** Records the first Content-Length; returns the value to remember. */
function lengthField(
  bytes: Uint8Array,
  vS: number,
  vE: number,
  seen: number,
  rec: SipRecord,
  issues: IssueSink,
): number {
  if (seen >= 0) return seen;
  const v = decimal(bytes, vS, vE);
  if (v < 0) {
    issues.report("sip_bad_content_length", vS);
    return seen;
  }
  rec.content_length = v;
  return v;
}

/**
 * Appends the comma-separated values of one Via field (commas inside quoted strings do not split).
 * Returns false when values were dropped because `SIP_MAX_VIA` was reached.
 */
function addVia(bytes: Uint8Array, vS: number, vE: number, rec: SipRecord): boolean {
  let s = vS;
  let quoted = false;
  for (let i = vS; i < vE; i++) {
    const b = bytes[i];
    if (b === 0x22 /* " */) quoted = !quoted;
    else if (b === 0x5c /* \ */ && quoted) i++;
    else if (b === 0x2c /* , */ && !quoted) {
      if (!pushVia(bytes, s, i, rec)) return false;
      s = i + 1;
    }
  }
  return pushVia(bytes, s, vE, rec);
}

function isLws(b: number): boolean {
  return b === SP || b === 0x09 || b === 0x0d || b === 0x0a;
}

/** Adds one trimmed Via value unless the list is full; false when it is. */
function pushVia(bytes: Uint8Array, a: number, z: number, rec: SipRecord): boolean {
  while (a < z && isLws(bytes[a])) a++;
  while (z > a && isLws(bytes[z - 1])) z--;
  if (z === a) return true;
  const via = rec.via ?? (rec.via = []);
  if (via.length >= SIP_MAX_VIA) return false;
  via.push(fieldText(bytes, a, z, SIP_MAX_VALUE));
  return true;
}

/** SIP for the decoder registry (UDP and TCP 5060; 5061 is SIP over TLS and left to TLS). */
export const sipProtocol: AppProtocol<SipRecord> = {
  name: "sip",
  ports: { udp: [5060], tcp: [5060] },
  sniff: sniffSip,
  decode: decodeSip,
};
