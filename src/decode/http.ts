/**
 * HTTP/1.x message heads (RFC 9112): the request or status line and the header fields of one TCP segment.
 *
 * The decoder sees single segments, not a reassembled stream, and keeps no state between them. What it
 * returns agrees with Wireshark's `http` dissector run with `tcp.desegment_tcp_streams:FALSE`:
 * - a segment whose first line is a request line (a method from `HTTP_METHODS`, case-sensitive) or a
 *   status line (`HTTP/`, or Shoutcast's `ICY`) gives a full record;
 * - a segment that starts with header fields (the rest of a head that began in an earlier segment) gives a
 *   record with `continuation: true` and no start-line fields;
 * - anything else (body data, or bytes that do not parse) gives `null`.
 * Only the first message of a segment is decoded; pipelined ones after it count towards `body_len`.
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { latin1, utf8Text } from "./_bytes.ts";
import {
  ascii,
  bytesEqual,
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

/** An HTTP message head as decoded from one segment. Absent fields are omitted. */
export interface HttpRecord {
  /** Request method (requests only). */
  method?: string;
  /** Request target as sent, cut to `HTTP_MAX_URI` bytes (requests only). */
  uri?: string;
  /** Set when `uri` was cut. */
  uri_truncated?: true;
  /** `HTTP/1.1` etc.: the third token of a request line, the first of a status line. */
  version?: string;
  /** Status code (responses only). */
  status?: number;
  /** Reason phrase (responses only). */
  reason?: string;
  /** Value of the first `Host` field. */
  host?: string;
  /** Value of the first `User-Agent` field. */
  user_agent?: string;
  /** Value of the first `Content-Type` field. */
  content_type?: string;
  /** Value of the first `Content-Length` field, when it is a valid decimal number. */
  content_length?: number;
  /** Every header field in order, `[name, value]`, up to `HTTP_MAX_HEADERS`. */
  headers: [string, string][];
  /** Set when fields were dropped (over `HTTP_MAX_HEADERS`) or a value was cut to `HTTP_MAX_VALUE`. */
  headers_truncated?: true;
  /** Bytes after the empty line that ends the head, in this segment (absent when the head is cut off). */
  body_len?: number;
  /** Set when the segment carries only the tail of a head that started in an earlier segment. */
  continuation?: true;
}

/**
 * Request methods recognised at the start of a segment: RFC 9110, WebDAV (RFC 4918, RFC 3253), GENA
 * (UPnP eventing), SSDP's M-SEARCH, MS-RPCH and the QUERY method (draft-ietf-httpbis-safe-method-w-body). Wireshark 4.0
 * knows all of these but QUERY. Exact case: a lower-case `get` is not a method (RFC 9110 section 9.1).
 */
export const HTTP_METHODS: readonly string[] = [
  "GET",
  "PUT",
  "COPY",
  "HEAD",
  "LOCK",
  "MOVE",
  "POLL",
  "POST",
  "BCOPY",
  "BMOVE",
  "LABEL",
  "MERGE",
  "MKCOL",
  "PATCH",
  "QUERY",
  "TRACE",
  "DELETE",
  "NOTIFY",
  "REPORT",
  "SEARCH",
  "UNLOCK",
  "UPDATE",
  "BDELETE",
  "CHECKIN",
  "CONNECT",
  "OPTIONS",
  "CCM_POST",
  "CHECKOUT",
  "PROPFIND",
  "BPROPFIND",
  "PROPPATCH",
  "SUBSCRIBE",
  "BPROPPATCH",
  "MKACTIVITY",
  "UNCHECKOUT",
  "MKWORKSPACE",
  "M-SEARCH", // SSDP (UPnP discovery), HTTP over UDP
  "RPC_CONNECT",
  "RPC_IN_DATA",
  "UNSUBSCRIBE",
  "RPC_OUT_DATA",
  "VERSION-CONTROL",
  "BASELINE-CONTROL",
];

/** Header fields kept in `headers`; more are scanned (for `host` etc.) but not kept. */
export const HTTP_MAX_HEADERS = 64;
/** Bytes of a header value kept; a longer one is cut and `headers_truncated` set. */
export const HTTP_MAX_VALUE = 1024;
/** Bytes of a header name kept. Names are tokens; real ones are short. */
export const HTTP_MAX_NAME = 256;
/** Bytes of the request target kept. Servers commonly refuse more than 8 KiB; most stay far below. */
export const HTTP_MAX_URI = 4096;
/** Bytes of the reason phrase and of the version kept. */
export const HTTP_MAX_SHORT = 256;

const MAX_METHOD_LEN = 16;

/** `METHODS_BY_LEN[n]`: the methods of length n, as bytes, so a lookup compares only same-length words. */
const METHODS_BY_LEN: Uint8Array[][] = (() => {
  const t: Uint8Array[][] = Array.from({ length: MAX_METHOD_LEN + 1 }, () => []);
  for (const m of HTTP_METHODS) t[m.length].push(ascii(m));
  return t;
})();

/** `METHOD_CHAR[b]` is 1 for the bytes a listed method is made of (A-Z, `_`, `-`). */
const METHOD_CHAR: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const m of HTTP_METHODS) for (let i = 0; i < m.length; i++) t[m.charCodeAt(i)] = 1;
  return t;
})();

const HTTP_SLASH = ascii("HTTP/");
const HTTP_1_DOT = ascii("HTTP/1.");
const ICY_SP = ascii("ICY ");
// Request targets of other protocols that share HTTP's method names (SIP, RTSP): not ours.
const SIP_COLON = ascii("sip:");
const SIPS_COLON = ascii("sips:");
const RTSP_COLON = ascii("rtsp:");

const H_HOST = ascii("host");
const H_USER_AGENT = ascii("user-agent");
const H_CONTENT_TYPE = ascii("content-type");
const H_CONTENT_LENGTH = ascii("content-length");

/** Whether `bytes[s, e)` is one of `HTTP_METHODS`. */
function isMethod(bytes: Uint8Array, s: number, e: number): boolean {
  const n = e - s;
  if (n <= 0 || n > MAX_METHOD_LEN) return false;
  const bucket = METHODS_BY_LEN[n];
  for (let k = 0; k < bucket.length; k++) if (bytesEqual(bytes, s, e, bucket[k])) return true;
  return false;
}

/** How far `sniffHttp` looks for the colon of an absolute-form or authority-form target. */
const SNIFF_TARGET_SCAN = 300;

/**
 * Whether the request target at `s` has one of RFC 9112 section 3.2's forms: origin-form (`/...`),
 * asterisk-form (`*`), or absolute-form / authority-form (`http://h/`, `host:port`), which need a colon
 * (looked for in the first `SNIFF_TARGET_SCAN` bytes). This keeps commands of line protocols that share a
 * method name (IRC `CONNECT server`, NNTP `HEAD <id>`) from passing for HTTP on other ports. The schemes
 * of SIP and RTSP, which share HTTP's methods, are refused.
 */
function plausibleTarget(bytes: Uint8Array, s: number, end: number): boolean {
  if (s >= end) return false;
  const b = bytes[s];
  if (b === 0x2f /* / */ || b === 0x2a /* * */) return true;
  const lower = b | 0x20;
  if (!((lower >= 0x61 && lower <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x5b /* [ */)) return false;
  if (
    startsWith(bytes, s, end, SIP_COLON) || startsWith(bytes, s, end, SIPS_COLON) ||
    startsWith(bytes, s, end, RTSP_COLON)
  ) return false;
  const lim = Math.min(end, s + SNIFF_TARGET_SCAN);
  for (let i = s + 1; i < lim; i++) {
    const c = bytes[i];
    if (c === 0x3a) return true;
    if (c === SP || c === 0x0d || c === 0x0a) return false;
  }
  return false;
}

/**
 * Cheap content test run on every TCP payload: `HTTP/1.` at the start, or a listed method, SP and a
 * plausible request target (see `plausibleTarget`). Allocates nothing; most payloads fail on the first
 * byte, and only targets that do not start with `/` make it look further than 25 bytes.
 */
export function sniffHttp(bytes: Uint8Array, off: number, end: number, hint: AppHint): boolean {
  if (hint.transport !== "tcp" || end - off < 4) return false;
  const b0 = bytes[off];
  if (b0 === 0x48 /* H */ && startsWith(bytes, off, end, HTTP_1_DOT)) return true;
  if (METHOD_CHAR[b0] !== 1) return false;
  const lim = Math.min(end, off + MAX_METHOD_LEN + 1);
  let i = off + 1;
  while (i < lim && METHOD_CHAR[bytes[i]] === 1) i++;
  if (i >= lim || bytes[i] !== SP) return false;
  return isMethod(bytes, off, i) && plausibleTarget(bytes, i + 1, end);
}

const STATUS_LINE = 1;
const REQUEST_LINE = 2;
const FIELD_LINE = 3;

/** Whether the method token ending at `i < end` is followed by SP, LF or CR LF. */
function methodEnd(bytes: Uint8Array, i: number, end: number): boolean {
  const b = bytes[i];
  return b === SP || b === 0x0a || (b === 0x0d && (i + 1 === end || bytes[i + 1] === 0x0a));
}

/** Index of the first SP in `[s, e)`, or `e`. */
function spaceOrEnd(bytes: Uint8Array, s: number, e: number): number {
  while (s < e && bytes[s] !== SP) s++;
  return s;
}

function skipSpaces(bytes: Uint8Array, s: number, e: number): number {
  while (s < e && bytes[s] === SP) s++;
  return s;
}

/** Text of a capped, ASCII-ish piece of the start line. */
function shortText(bytes: Uint8Array, s: number, e: number): string {
  return utf8Text(bytes, s, Math.min(e, s + HTTP_MAX_SHORT));
}

/**
 * Decodes the HTTP message head at the start of `bytes[off, end)`. See the module comment for which
 * segments give a record. Issues: `http_truncated_head` (the segment ends inside the head),
 * `http_bad_header` (a line that is not a field), `http_bad_status` (a status line without a 3-digit code),
 * `http_bad_content_length`, `http_conflicting_content_length`.
 */
export function decodeHttp(
  bytes: Uint8Array,
  _view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint: AppHint,
): HttpRecord | null {
  if (off >= end) return null;
  // Classify from the first bytes before anything is scanned or allocated: most segments on port 80 are
  // body data and must cost only a few comparisons.
  let kind: number;
  let mE = off;
  if (startsWith(bytes, off, end, HTTP_SLASH) || startsWith(bytes, off, end, ICY_SP)) {
    kind = STATUS_LINE;
  } else {
    const lim = Math.min(end, off + MAX_METHOD_LEN + 1);
    while (mE < lim && METHOD_CHAR[bytes[mE]] === 1) mE++;
    // Like Wireshark, a method alone on its line counts too (`OPTIONS\n`).
    if (isMethod(bytes, off, mE) && (mE === end || methodEnd(bytes, mE, end))) kind = REQUEST_LINE;
    else if (startsWithField(bytes, off, end)) kind = FIELD_LINE;
    else return null;
  }
  if (kind === FIELD_LINE) return continuation(bytes, off, end, issues);

  const lf = indexOfLf(bytes, off, end);
  const lineE = lf < 0 ? end : contentEnd(bytes, off, lf);
  const rec: HttpRecord = { headers: [] };
  let versionless = false;
  if (kind === STATUS_LINE) {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]
    const vE = spaceOrEnd(bytes, off, lineE);
    rec.version = shortText(bytes, off, vE);
    const cS = skipSpaces(bytes, vE, lineE);
    const cE = spaceOrEnd(bytes, cS, lineE);
    const code = cE - cS === 3 ? decimal(bytes, cS, cE) : -1;
    if (code >= 0) rec.status = code;
    else if (lf >= 0) issues.report("http_bad_status", cS);
    const rS = skipSpaces(bytes, cE, lineE);
    if (rS < lineE) rec.reason = shortText(bytes, rS, lineE);
  } else {
    // request-line = method SP request-target SP HTTP-version. As in Wireshark, the target is one SP-free
    // token (a space inside it ends it) and what follows is the version.
    rec.method = latin1(bytes, off, mE);
    const uS = skipSpaces(bytes, mE, lineE);
    const uE = spaceOrEnd(bytes, uS, lineE);
    if (uE > uS) {
      if (uE - uS > HTTP_MAX_URI) {
        rec.uri = utf8Text(bytes, uS, uS + HTTP_MAX_URI);
        rec.uri_truncated = true;
      } else {
        rec.uri = utf8Text(bytes, uS, uE);
      }
    }
    const vS = skipSpaces(bytes, uE, lineE);
    if (vS < lineE) rec.version = shortText(bytes, vS, lineE);
    else versionless = true;
  }

  if (lf < 0) {
    issues.report("http_truncated_head", end);
    return rec;
  }
  const scan = scanHead(bytes, lf + 1, end, rec, issues);
  if (scan.end === "complete") {
    rec.body_len = end - scan.bodyOff;
  } else if (scan.end === "truncated") {
    // An HTTP/0.9 simple request (no version) has no head to finish: `GET /\r\n` is all of it.
    if (!(versionless && lf + 1 === end)) issues.report("http_truncated_head", end);
  }
  return rec;
}

/** Whether the line `[s, e)` begins like a header field: a token, then a colon. */
function startsWithField(bytes: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e && TCHAR[bytes[i]] === 1) i++;
  return i > s && i < e && bytes[i] === 0x3a;
}

/**
 * The tail of a head begun in an earlier segment: kept only when every line up to the empty line (or the
 * end) is a field, so that body text with a colon in its first line is not taken for headers.
 */
function continuation(bytes: Uint8Array, off: number, end: number, issues: IssueSink): HttpRecord | null {
  scanFields(bytes, off, end, LAX_OFF, ignoreField, PROBE);
  if (PROBE.end === "bad_line") return null;
  const rec: HttpRecord = { headers: [], continuation: true };
  const scan = scanHead(bytes, off, end, rec, issues);
  if (scan.end === "complete") rec.body_len = end - scan.bodyOff;
  return rec;
}

// Reused by `continuation`'s first pass: decoders run one at a time, and the probe keeps no result.
const PROBE = new HeadScan();
const LAX_OFF = { wsBeforeColon: false } as const;
const ignoreField = () => {};

/** Scans the fields from `pos` into `rec`, reporting field-level issues. */
function scanHead(bytes: Uint8Array, pos: number, end: number, rec: HttpRecord, issues: IssueSink): HeadScan {
  let contentLength = -1;
  const headers = rec.headers;
  const visit = (nS: number, nE: number, vS: number, vE: number) => {
    const n = nE - nS;
    // Known fields are looked for in every field, kept or not, so `host` cannot hide behind 64 others.
    if (n === 4 && bytesEqualNoCase(bytes, nS, nE, H_HOST)) {
      if (rec.host === undefined) rec.host = fieldText(bytes, vS, vE, HTTP_MAX_VALUE);
    } else if (n === 10 && bytesEqualNoCase(bytes, nS, nE, H_USER_AGENT)) {
      if (rec.user_agent === undefined) rec.user_agent = fieldText(bytes, vS, vE, HTTP_MAX_VALUE);
    } else if (n === 12 && bytesEqualNoCase(bytes, nS, nE, H_CONTENT_TYPE)) {
      if (rec.content_type === undefined) rec.content_type = fieldText(bytes, vS, vE, HTTP_MAX_VALUE);
    } else if (n === 14 && bytesEqualNoCase(bytes, nS, nE, H_CONTENT_LENGTH)) {
      // A second, different Content-Length is the classic request-smuggling setup (RFC 9112 section 6.3).
      const v = decimal(bytes, vS, vE);
      if (v < 0) issues.report("http_bad_content_length", vS);
      else if (contentLength < 0) {
        contentLength = v;
        rec.content_length = v;
      } else if (v !== contentLength) issues.report("http_conflicting_content_length", vS);
    }
    if (headers.length >= HTTP_MAX_HEADERS) {
      rec.headers_truncated = true;
      return;
    }
    if (vE - vS > HTTP_MAX_VALUE || n > HTTP_MAX_NAME) rec.headers_truncated = true;
    headers.push([
      latin1(bytes, nS, Math.min(nE, nS + HTTP_MAX_NAME)),
      fieldText(bytes, vS, vE, HTTP_MAX_VALUE),
    ]);
  };
  const scan = scanFields(bytes, pos, end, LAX_OFF, visit, new HeadScan());
  if (scan.end === "bad_line") issues.report("http_bad_header", scan.stopOff);
  return scan;
}

/** HTTP/1.x for the decoder registry: well-known ports plus a request/status-line sniffer for any port. */
export const httpProtocol: AppProtocol<HttpRecord> = {
  name: "http",
  ports: { tcp: [80, 8080, 8000, 8008, 8888, 3128, 7080] },
  sniff: sniffHttp,
  decode: decodeHttp,
};
