/**
 * NTP decoder (RFC 5905 packet header, RFC 7822 extension fields, RFC 1305 appendix B control messages and
 * the ntpd "private" mode 7 header).
 *
 * Timestamps are rendered as ISO 8601 UTC strings with nanoseconds, e.g. `2017-06-19T14:12:09.516015118Z`,
 * the same instant tshark prints for `ntp.xmt`. An all-zero timestamp means "not set" and is omitted. Like
 * tshark, a seconds field below 2^31 (before 1968 in era 0) is read as era 1 (2036 to 2104), RFC 4330 section 3.
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { ipv4String, latin1, toHex } from "./_bytes.ts";

/** Anomaly codes this decoder reports (stable API, never renamed). */
export const NTP_ANOMALIES = {
  /** The payload ends before the fixed header of its mode (48 bytes, or 12/8 for modes 6/7). */
  truncated: "ntp_truncated",
  /** An RFC 7822 extension field with a length under 16, not a multiple of 4, or past the end. */
  badExtension: "ntp_bad_extension",
} as const;

/** Mode names by the 3-bit mode field (RFC 5905 figure 10). */
export const NTP_MODES = [
  "reserved",
  "symmetric_active",
  "symmetric_passive",
  "client",
  "server",
  "broadcast",
  "control",
  "private",
] as const;

/** One NTP mode name. */
export type NtpMode = typeof NTP_MODES[number];

/** One RFC 7822 extension field: its type and total length in bytes. */
export interface NtpExtension {
  type: number;
  len: number;
}

/**
 * A decoded NTP message. Modes 0 to 5 carry the time fields, mode 6 the control header, mode 7 the private
 * header; fields the payload does not reach are omitted.
 */
export interface NtpRecord {
  version: number;
  mode: NtpMode;
  /** Leap indicator 0..3 (absent in mode 7, which reuses those bits). */
  leap?: number;
  stratum?: number;
  /** Poll interval, log2 seconds (signed). */
  poll?: number;
  /** Clock precision, log2 seconds (signed). */
  precision?: number;
  /** Root delay in seconds (NTP short format, unsigned 16.16 fixed point). */
  root_delay?: number;
  /** Root dispersion in seconds (NTP short format). */
  root_dispersion?: number;
  /**
   * Reference id: ASCII (kiss code or clock source) for stratum 0 and 1, or hex if not printable; dotted
   * quad otherwise. Omitted when zero.
   */
  ref_id?: string;
  ref_ts?: string;
  orig_ts?: string;
  recv_ts?: string;
  xmit_ts?: string;
  /** RFC 7822 extension fields (at most `NTP_MAX_EXTENSIONS`). */
  extensions?: NtpExtension[];
  /** Symmetric-key MAC: key id and digest (hex). A 4-byte MAC is a crypto-NAK (key id only). */
  key_id?: number;
  mac?: string;
  // Mode 6 (control) and mode 7 (private) header fields.
  response?: boolean;
  error?: boolean;
  more?: boolean;
  opcode?: number;
  sequence?: number;
  status?: number;
  association_id?: number;
  offset?: number;
  count?: number;
  auth?: boolean;
  implementation?: number;
  request_code?: number;
  err?: number;
  nitems?: number;
  item_size?: number;
}

/** Most extension fields listed in one record. */
export const NTP_MAX_EXTENSIONS = 8;

const HEADER_LEN = 48;
const CONTROL_HEADER_LEN = 12;
const PRIVATE_HEADER_LEN = 8;
// Field offsets in the RFC 5905 header.
const OFF_STRATUM = 1;
const OFF_POLL = 2;
const OFF_PRECISION = 3;
const OFF_ROOT_DELAY = 4;
const OFF_ROOT_DISPERSION = 8;
const OFF_REF_ID = 12;
const OFF_REF_TS = 16;
const OFF_ORIG_TS = 24;
const OFF_RECV_TS = 32;
const OFF_XMIT_TS = 40;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2208988800;
const TWO_32 = 4294967296;
/** Key id plus the longest digest (SHA-1). */
const MAX_MAC_LEN = 24;
/** Most digest bytes shown (a well-formed one has 16 or 20; odd trailers are shown whole up to this). */
const MAX_DIGEST_LEN = 64;

/**
 * The NTP timestamp at `p` (seconds since 1900 and a 32-bit binary fraction) as an ISO string with
 * nanoseconds, or undefined when it is zero ("not set").
 */
export function ntpTimestamp(view: DataView, p: number): string | undefined {
  const secs = view.getUint32(p);
  const frac = view.getUint32(p + 4);
  if (secs === 0 && frac === 0) return undefined;
  // Modulo 2^32 maps seconds below the 1970 offset into era 1, as tshark does.
  let unix = secs - NTP_UNIX_OFFSET;
  if (unix < 0) unix += TWO_32;
  // floor(frac * 1e9 / 2^32) computed exactly: 1e9 = 2^9 * 1953125, and frac * 1953125 < 2^53.
  const nanos = Math.floor((frac * 1953125) / 8388608);
  const iso = new Date(unix * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return iso.slice(0, 19) + "." + String(nanos).padStart(9, "0") + "Z";
}

/** The reference id at `p`: printable ASCII for stratum 0/1 (trailing NULs dropped), dotted quad otherwise. */
function refId(bytes: Uint8Array, p: number, stratum: number): string {
  if (stratum >= 2) return ipv4String(bytes, p);
  let n = 4;
  while (n > 0 && bytes[p + n - 1] === 0) n--;
  for (let i = 0; i < n; i++) {
    const c = bytes[p + i];
    // A non-printable kiss code is shown as hex rather than as control characters.
    if (c < 0x20 || c > 0x7e) return toHex(bytes, p, p + 4);
  }
  return latin1(bytes, p, p + n);
}

/**
 * Decodes one NTP message in `bytes[off, end)`. Returns null when the version is not 1 to 4 (not NTP).
 * Never throws; a payload too short for its mode's header is reported as `ntp_truncated` and decoded as far
 * as it goes.
 */
export function decodeNtp(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint?: AppHint,
): NtpRecord | null {
  const len = end - off;
  if (len < 1) return null;
  const b0 = bytes[off];
  const version = (b0 >> 3) & 0x07;
  if (version < 1 || version > 4) return null;
  const modeNum = b0 & 0x07;
  const rec: NtpRecord = { version, mode: NTP_MODES[modeNum] };
  if (modeNum === 6) {
    decodeControl(bytes, view, off, len, rec, issues);
    return rec;
  }
  if (modeNum === 7) {
    decodePrivate(bytes, view, off, len, rec, issues);
    return rec;
  }
  rec.leap = b0 >> 6;
  if (len < HEADER_LEN) issues.report(NTP_ANOMALIES.truncated, end);
  // Fields are taken while they fit, so a short packet still yields its leading fields.
  if (len > OFF_STRATUM) rec.stratum = bytes[off + OFF_STRATUM];
  if (len > OFF_POLL) rec.poll = view.getInt8(off + OFF_POLL);
  if (len > OFF_PRECISION) rec.precision = view.getInt8(off + OFF_PRECISION);
  if (len >= OFF_ROOT_DELAY + 4) rec.root_delay = view.getUint32(off + OFF_ROOT_DELAY) / 65536;
  if (len >= OFF_ROOT_DISPERSION + 4) {
    rec.root_dispersion = view.getUint32(off + OFF_ROOT_DISPERSION) / 65536;
  }
  if (len >= OFF_REF_ID + 4 && view.getUint32(off + OFF_REF_ID) !== 0) {
    rec.ref_id = refId(bytes, off + OFF_REF_ID, rec.stratum ?? 0);
  }
  if (len >= OFF_REF_TS + 8) setTs(rec, "ref_ts", view, off + OFF_REF_TS);
  if (len >= OFF_ORIG_TS + 8) setTs(rec, "orig_ts", view, off + OFF_ORIG_TS);
  if (len >= OFF_RECV_TS + 8) setTs(rec, "recv_ts", view, off + OFF_RECV_TS);
  if (len >= OFF_XMIT_TS + 8) setTs(rec, "xmit_ts", view, off + OFF_XMIT_TS);
  if (len > HEADER_LEN) decodeTrailer(bytes, view, off + HEADER_LEN, end, rec, issues);
  return rec;
}

function setTs(
  rec: NtpRecord,
  key: "ref_ts" | "orig_ts" | "recv_ts" | "xmit_ts",
  view: DataView,
  p: number,
) {
  const ts = ntpTimestamp(view, p);
  if (ts !== undefined) rec[key] = ts;
}

/**
 * Extension fields and MAC after the 48-byte header. RFC 7822 section 7.5: without a MAC the last extension
 * field is at least 28 bytes, so in NTPv4 more than 24 bytes left means an extension field follows (earlier
 * versions have no extension fields). What is left then is a key id and a digest (16-byte MD5 or 20-byte
 * SHA-1; a lone key id is a crypto-NAK).
 */
function decodeTrailer(
  bytes: Uint8Array,
  view: DataView,
  p: number,
  end: number,
  rec: NtpRecord,
  issues: IssueSink,
) {
  while (rec.version === 4 && end - p > MAX_MAC_LEN) {
    const type = view.getUint16(p);
    const flen = view.getUint16(p + 2);
    if (flen < 16 || (flen & 3) !== 0 || flen > end - p) {
      issues.report(NTP_ANOMALIES.badExtension, p);
      return;
    }
    const list = rec.extensions ??= [];
    if (list.length < NTP_MAX_EXTENSIONS) list.push({ type, len: flen });
    p += flen;
  }
  if (end - p >= 4) {
    rec.key_id = view.getUint32(p);
    if (end - p > 4) rec.mac = toHex(bytes, p + 4, end, MAX_DIGEST_LEN);
  }
}

/** Mode 6 header (RFC 1305 appendix B / RFC 9327): flags, opcode, sequence, status, association, offset, count. */
function decodeControl(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  len: number,
  rec: NtpRecord,
  issues: IssueSink,
) {
  rec.leap = bytes[off] >> 6;
  if (len < CONTROL_HEADER_LEN) issues.report(NTP_ANOMALIES.truncated, off + len);
  if (len < 2) return;
  const b1 = bytes[off + 1];
  rec.response = (b1 & 0x80) !== 0;
  rec.error = (b1 & 0x40) !== 0;
  rec.more = (b1 & 0x20) !== 0;
  rec.opcode = b1 & 0x1f;
  if (len >= 4) rec.sequence = view.getUint16(off + 2);
  if (len >= 6) rec.status = view.getUint16(off + 4);
  if (len >= 8) rec.association_id = view.getUint16(off + 6);
  if (len >= 10) rec.offset = view.getUint16(off + 8);
  if (len >= 12) rec.count = view.getUint16(off + 10);
}

/** Mode 7 header (ntpd's private request/response, e.g. the `monlist` amplification request code 42). */
function decodePrivate(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  len: number,
  rec: NtpRecord,
  issues: IssueSink,
) {
  const b0 = bytes[off];
  rec.response = (b0 & 0x80) !== 0;
  rec.more = (b0 & 0x40) !== 0;
  if (len < PRIVATE_HEADER_LEN) issues.report(NTP_ANOMALIES.truncated, off + len);
  if (len < 2) return;
  rec.auth = (bytes[off + 1] & 0x80) !== 0;
  rec.sequence = bytes[off + 1] & 0x7f;
  if (len >= 3) rec.implementation = bytes[off + 2];
  if (len >= 4) rec.request_code = bytes[off + 3];
  if (len >= 6) {
    const w = view.getUint16(off + 4);
    rec.err = w >> 12;
    rec.nitems = w & 0x0fff;
  }
  if (len >= 8) rec.item_size = view.getUint16(off + 6) & 0x0fff;
}

/** NTP on UDP port 123. No sniffer: the header has no magic to recognise it by. */
export const ntpProtocol: AppProtocol<NtpRecord> = {
  name: "ntp",
  ports: { udp: [123] },
  decode: decodeNtp,
};
