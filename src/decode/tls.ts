/**
 * TLS record layer and cleartext handshake (RFC 8446 sections 4-5, RFC 5246 section 7), one TCP segment
 * at a time.
 *
 * netwatch does not reassemble TCP streams (tshark is compared with `tcp.desegment_tcp_streams:FALSE`),
 * so the decoder reads the records that start in the segment: a record that runs past the segment end is
 * normal and not an anomaly, and a segment that starts in the middle of a record gives `null` (nothing
 * marks where the next record begins). A handshake message split over several records of the same
 * segment is joined; one split over segments is decoded as far as it goes, without fingerprints.
 *
 * The bulk of TLS traffic is application data: for it the decoder reads the 5-byte record headers,
 * notes the content types and returns. Hellos are parsed fully and fingerprinted (JA3/JA3S as tshark
 * computes them, JA4 per FoxIO), TLS 1.2 Certificate messages give subject, issuer, validity and SANs.
 *
 * Encrypted handshake records (the TLS 1.2 Finished after ChangeCipherSpec) are told from cleartext ones
 * without connection state (Wireshark keeps some): a record is parsed only when its messages chain, each
 * header of a known type and plausible length, the last ending at the record end (or, before any
 * ChangeCipherSpec of the segment, running on into the next record). Otherwise the record is encrypted or
 * continues a message begun in an earlier segment, and is skipped without an issue. The second
 * ClientHello that TLS 1.3 middlebox-compatibility mode sends right after a ChangeCipherSpec still chains.
 *
 * SSL 2.0-format ClientHellos (old clients offering SSL 3.0/TLS in a v2 envelope) are recognised too.
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { utf8Text } from "./_bytes.ts";
import {
  type ClientHelloFields,
  ja3sString,
  ja3String,
  ja4,
  type Ja4Transport,
  md5Hex,
} from "./ja_fingerprint.ts";
import { type CertificateRecord, parseCertificate } from "./x509.ts";

/** The JSON record of the TLS records in one segment. Absent fields are omitted. */
export interface TlsRecord {
  /** First cleartext handshake message type in the segment, e.g. `client_hello`. */
  handshake?: string;
  /** Hello version: a ClientHello's highest supported_versions entry (else legacy_version), a ServerHello's choice. */
  version?: string;
  /** Version in the first record header, e.g. `TLS 1.0`. */
  record_version?: string;
  /** server_name (first host_name) of a ClientHello. */
  sni?: string;
  /** ALPN protocols offered (ClientHello) or chosen (ServerHello). */
  alpn?: string[];
  /** JA3 MD5 (tshark `tls.handshake.ja3`) and its string (`tls.handshake.ja3_full`), complete ClientHello only. */
  ja3?: string;
  ja3_full?: string;
  /** JA3S MD5 and string, complete ServerHello only. */
  ja3s?: string;
  ja3s_full?: string;
  /** JA4 fingerprint of a complete ClientHello. */
  ja4?: string;
  /** Cipher suites offered, wire order, GREASE kept. */
  cipher_suites?: number[];
  /** Cipher suite chosen by the server. */
  cipher?: number;
  /** Extension types in wire order, GREASE kept. */
  extensions?: number[];
  supported_versions?: string[];
  groups?: number[];
  key_share_groups?: number[];
  sig_algs?: number[];
  /** Certificates of a TLS 1.2-or-earlier Certificate message that are complete in the segment. */
  certificates?: CertificateRecord[];
  /** A cleartext alert (an encrypted one is longer than 2 bytes and only shows in content_types). */
  alert?: { level: string; description: string };
  /** Content types of the records, each once, in order of appearance. */
  content_types: string[];
}

/** Largest record length accepted: 2^14 plus the 2048 bytes of expansion RFC 5246 section 6.2.3 allows. */
export const TLS_MAX_RECORD = 16384 + 2048;
/** Most certificates described per segment. */
export const TLS_MAX_CERTIFICATES = 8;
/** Longest list (ciphers, extensions, ...) copied into the record; fingerprints still use every value. */
export const TLS_MAX_LIST = 128;
/** Most ALPN names kept. */
export const TLS_MAX_ALPN = 16;
/** Longest server name kept (RFC 1035 names are at most 253 characters). */
export const TLS_MAX_NAME = 255;
/**
 * Largest handshake message length taken as plausible when deciding whether a handshake record is
 * cleartext. Real messages are far smaller (certificate chains reach tens of KiB); a random 24-bit length
 * from encrypted bytes passes with probability 1/64.
 */
export const TLS_MAX_HANDSHAKE = 1 << 18;
/** Bytes of a handshake message copied when it is split over records of one segment. */
const MAX_JOIN = 1 << 17;

const CONTENT_TYPE: Record<number, string> = {
  20: "change_cipher_spec",
  21: "alert",
  22: "handshake",
  23: "application_data",
  24: "heartbeat",
};

/** RFC 8446 section 4 / IANA TLS HandshakeType names. */
export const HANDSHAKE_TYPE: Record<number, string> = {
  0: "hello_request",
  1: "client_hello",
  2: "server_hello",
  3: "hello_verify_request",
  4: "new_session_ticket",
  5: "end_of_early_data",
  6: "hello_retry_request",
  8: "encrypted_extensions",
  11: "certificate",
  12: "server_key_exchange",
  13: "certificate_request",
  14: "server_hello_done",
  15: "certificate_verify",
  16: "client_key_exchange",
  20: "finished",
  21: "certificate_url",
  22: "certificate_status",
  23: "supplemental_data",
  24: "key_update",
  25: "compressed_certificate",
  67: "next_protocol",
};

const ALERT_LEVEL: Record<number, string> = { 1: "warning", 2: "fatal" };

/** RFC 8446 section 6 alert descriptions plus the TLS 1.2-era ones. */
const ALERT_DESCRIPTION: Record<number, string> = {
  0: "close_notify",
  10: "unexpected_message",
  20: "bad_record_mac",
  21: "decryption_failed",
  22: "record_overflow",
  30: "decompression_failure",
  40: "handshake_failure",
  41: "no_certificate",
  42: "bad_certificate",
  43: "unsupported_certificate",
  44: "certificate_revoked",
  45: "certificate_expired",
  46: "certificate_unknown",
  47: "illegal_parameter",
  48: "unknown_ca",
  49: "access_denied",
  50: "decode_error",
  51: "decrypt_error",
  60: "export_restriction",
  70: "protocol_version",
  71: "insufficient_security",
  80: "internal_error",
  86: "inappropriate_fallback",
  90: "user_canceled",
  100: "no_renegotiation",
  109: "missing_extension",
  110: "unsupported_extension",
  111: "certificate_unobtainable",
  112: "unrecognized_name",
  113: "bad_certificate_status_response",
  114: "bad_certificate_hash_value",
  115: "unknown_psk_identity",
  116: "certificate_required",
  120: "no_application_protocol",
};

/** Name of a protocol version: `TLS 1.2`, `SSL 3.0`, `TLS 1.3 (draft 23)`, or `0x7e02` when unknown. */
export function tlsVersionName(v: number): string {
  switch (v) {
    case 0x0002:
      return "SSL 2.0";
    case 0x0300:
      return "SSL 3.0";
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
    case 0xfeff:
      return "DTLS 1.0";
    case 0xfefd:
      return "DTLS 1.2";
    case 0xfefc:
      return "DTLS 1.3";
  }
  if ((v >> 8) === 0x7f) return "TLS 1.3 (draft " + (v & 0xff) + ")";
  return "0x" + v.toString(16).padStart(4, "0");
}

/** Orders versions for "highest": drafts of 1.3 rank between 1.2 and 1.3; GREASE and unknown values not at all. */
function versionRank(v: number): number {
  if (v >= 0x0300 && v <= 0x0304) return v;
  if ((v >> 8) === 0x7f || (v >> 8) === 0x7e) return 0x0303 + 0.5;
  return -1;
}

/** A parsed ClientHello or ServerHello: wire values, GREASE kept. */
export class HelloInfo implements ClientHelloFields {
  /** 1 ClientHello, 2 ServerHello. */
  readonly msgType: number;
  legacyVersion = 0;
  cipherSuites: number[] = [];
  /** The ServerHello's chosen suite, -1 when not read. */
  cipher = -1;
  extensions: number[] = [];
  groups: number[] = [];
  ecPointFormats: number[] = [];
  sigAlgs: number[] = [];
  supportedVersions: number[] = [];
  keyShareGroups: number[] = [];
  alpn: string[] = [];
  sni: string | undefined = undefined;
  hasSni = false;
  /** Every declared byte was present and well formed: only then are fingerprints computed. */
  complete = false;

  constructor(msgType: number) {
    this.msgType = msgType;
  }

  /** The version the hello speaks for (see `TlsRecord.version`). */
  get version(): number {
    let best = -1, bestRank = -1;
    for (const v of this.supportedVersions) {
      const r = versionRank(v);
      if (r > bestRank) {
        best = v;
        bestRank = r;
      }
    }
    return best >= 0 ? best : this.legacyVersion;
  }
}

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u24(b: Uint8Array, p: number): number {
  return (b[p] << 16) | (b[p + 1] << 8) | b[p + 2];
}

/** Appends the big-endian u16 values of `[p, e)` to `out`. */
function pushU16s(b: Uint8Array, p: number, e: number, out: number[]): void {
  for (; p + 1 < e; p += 2) out.push((b[p] << 8) | b[p + 1]);
}

/** Decodes one hello extension whose data `[p, e)` is complete. Returns false when its inside is malformed. */
function helloExtension(b: Uint8Array, type: number, p: number, e: number, h: HelloInfo): boolean {
  const client = h.msgType === 1;
  switch (type) {
    case 0: { // server_name (RFC 6066 section 3); a server acknowledges with empty data
      h.hasSni = true;
      if (p === e) return !client;
      if (e - p < 2 || p + 2 + u16(b, p) !== e) return false;
      for (let q = p + 2; q < e;) {
        if (q + 3 > e) return false;
        const n = u16(b, q + 1);
        if (q + 3 + n > e) return false;
        if (b[q] === 0 && h.sni === undefined) h.sni = utf8Text(b, q + 3, q + 3 + Math.min(n, TLS_MAX_NAME));
        q += 3 + n;
      }
      return true;
    }
    case 10: // supported_groups
    case 13: { // signature_algorithms
      if (e - p < 2 || p + 2 + u16(b, p) !== e || (e - p) % 2 !== 0) return false;
      pushU16s(b, p + 2, e, type === 10 ? h.groups : h.sigAlgs);
      return true;
    }
    case 11: { // ec_point_formats
      if (e - p < 1 || p + 1 + b[p] !== e) return false;
      for (let q = p + 1; q < e; q++) h.ecPointFormats.push(b[q]);
      return true;
    }
    case 16: { // application_layer_protocol_negotiation (RFC 7301)
      if (e - p < 2 || p + 2 + u16(b, p) !== e) return false;
      for (let q = p + 2; q < e;) {
        const n = b[q];
        if (q + 1 + n > e) return false;
        if (h.alpn.length < TLS_MAX_ALPN) {
          let s = "";
          for (let i = q + 1; i < q + 1 + n; i++) s += String.fromCharCode(b[i]);
          h.alpn.push(s);
        }
        q += 1 + n;
      }
      return true;
    }
    case 43: { // supported_versions (RFC 8446 section 4.2.1)
      if (!client) {
        if (e - p !== 2) return false;
        h.supportedVersions.push(u16(b, p));
        return true;
      }
      if (e - p < 1 || p + 1 + b[p] !== e || b[p] % 2 !== 0) return false;
      pushU16s(b, p + 1, e, h.supportedVersions);
      return true;
    }
    case 51: { // key_share (RFC 8446 section 4.2.8); a HelloRetryRequest carries only the group
      if (!client) {
        if (e - p < 2) return false;
        h.keyShareGroups.push(u16(b, p));
        return e - p === 2 || (e - p >= 4 && p + 4 + u16(b, p + 2) === e);
      }
      if (e - p < 2 || p + 2 + u16(b, p) !== e) return false;
      for (let q = p + 2; q < e;) {
        if (q + 4 > e) return false;
        const n = u16(b, q + 2);
        if (q + 4 + n > e) return false;
        h.keyShareGroups.push(u16(b, q));
        q += 4 + n;
      }
      return true;
    }
    default:
      return true;
  }
}

/**
 * Parses a ClientHello (`msgType` 1) or ServerHello (2) body that is declared to span `[off, declEnd)`, of
 * which `[off, availEnd)` is present. A body cut short by `availEnd` is read as far as it goes (so the SNI
 * of a hello split over segments is still found) and left `complete = false`; a structural error inside
 * the present bytes reports `tls_bad_hello` (or `tls_bad_extension` for the extensions block) at `at` and
 * stops, while an extension whose own data is malformed is reported and skipped. Returns null when not
 * even the version is present. Used for TLS records and QUIC CRYPTO frames alike.
 */
export function parseHello(
  b: Uint8Array,
  off: number,
  declEnd: number,
  availEnd: number,
  msgType: number,
  issues: IssueSink,
  at: number,
): HelloInfo | null {
  const lim = Math.min(declEnd, availEnd);
  if (off + 2 > lim) return null;
  const h = new HelloInfo(msgType);
  const cut = lim < declEnd;
  h.legacyVersion = u16(b, off);
  let p = off + 34; // version, random
  if (p + 1 > lim) {
    if (!cut) issues.report("tls_bad_hello", at);
    return h;
  }
  if (msgType === 2 && (h.legacyVersion >> 8) === 0x7f && (h.legacyVersion & 0xff) < 22) {
    // TLS 1.3 drafts before 22 dropped session_id and compression from the ServerHello.
    if (p + 2 > lim) {
      if (!cut) issues.report("tls_bad_hello", at);
      return h;
    }
    h.cipher = u16(b, p);
    return helloExtensions(b, p + 2, declEnd, lim, h, issues, at);
  }
  const sid = b[p];
  if (sid > 32) {
    issues.report("tls_bad_hello", at);
    return h;
  }
  p += 1 + sid;
  if (msgType === 1) {
    if (p + 2 > lim) {
      if (!cut) issues.report("tls_bad_hello", at);
      return h;
    }
    const n = u16(b, p);
    p += 2;
    if (n % 2 !== 0 || p + n > declEnd) {
      issues.report("tls_bad_hello", at);
      return h;
    }
    pushU16s(b, p, Math.min(p + n, lim), h.cipherSuites);
    p += n;
    if (p + 1 > lim) {
      if (!cut) issues.report("tls_bad_hello", at);
      return h;
    }
    p += 1 + b[p]; // compression methods
  } else {
    if (p + 3 > lim) {
      if (!cut) issues.report("tls_bad_hello", at);
      return h;
    }
    h.cipher = u16(b, p);
    p += 3; // cipher suite, compression method
  }
  return helloExtensions(b, p, declEnd, lim, h, issues, at);
}

/** The optional extensions block of a hello at `p`, then `h` marked complete when nothing was cut. */
function helloExtensions(
  b: Uint8Array,
  p: number,
  declEnd: number,
  lim: number,
  h: HelloInfo,
  issues: IssueSink,
  at: number,
): HelloInfo {
  const cut = lim < declEnd;
  if (p === declEnd) {
    h.complete = true;
    return h;
  }
  if (p + 2 > lim) {
    if (!cut || p > declEnd) issues.report("tls_bad_hello", at);
    return h;
  }
  const extEnd = p + 2 + u16(b, p);
  if (extEnd > declEnd) {
    issues.report("tls_bad_hello", at);
    return h;
  }
  p += 2;
  const stop = Math.min(extEnd, lim);
  while (p + 4 <= stop) {
    const type = u16(b, p);
    const e = p + 4 + u16(b, p + 2);
    h.extensions.push(type);
    if (e > extEnd) {
      issues.report("tls_bad_extension", at);
      return h;
    }
    if (e > lim) return h; // cut by the segment end
    // An extension whose inside is broken is reported and skipped: the block itself is intact, so the
    // fingerprints (made of types, as Wireshark's are) still hold. Empty data is tolerated silently.
    if (e > p + 4 && !helloExtension(b, type, p + 4, e, h)) issues.report("tls_bad_extension", at);
    else if (type === 0) h.hasSni = true;
    p = e;
  }
  if (p !== extEnd) {
    if (!cut) issues.report("tls_bad_extension", at);
    return h;
  }
  // Bytes after the extensions block are not allowed, but tolerated as Wireshark does.
  h.complete = !cut;
  return h;
}

/** Fingerprint and describe a parsed hello into a TLS record (also used for QUIC's embedded ClientHello). */
export function helloInto(rec: TlsRecord, h: HelloInfo, transport: Ja4Transport): void {
  const clip = (a: number[]) => (a.length > TLS_MAX_LIST ? a.slice(0, TLS_MAX_LIST) : a);
  rec.version = tlsVersionName(h.version);
  if (h.sni !== undefined) rec.sni = h.sni;
  if (h.alpn.length > 0) rec.alpn = h.alpn;
  if (h.msgType === 1) {
    if (h.complete) {
      rec.ja3_full = ja3String(h);
      rec.ja3 = md5Hex(rec.ja3_full);
      rec.ja4 = ja4(h, transport);
    }
    rec.cipher_suites = clip(h.cipherSuites);
  } else {
    if (h.complete) {
      rec.ja3s_full = ja3sString(h.legacyVersion, h.cipher, h.extensions);
      rec.ja3s = md5Hex(rec.ja3s_full);
    }
    if (h.cipher >= 0) rec.cipher = h.cipher;
  }
  if (h.extensions.length > 0) rec.extensions = clip(h.extensions);
  if (h.supportedVersions.length > 0) rec.supported_versions = clip(h.supportedVersions).map(tlsVersionName);
  if (h.groups.length > 0) rec.groups = clip(h.groups);
  if (h.keyShareGroups.length > 0) rec.key_share_groups = clip(h.keyShareGroups);
  if (h.sigAlgs.length > 0) rec.sig_algs = clip(h.sigAlgs);
}

/** Certificate message (RFC 5246 section 7.4.2) body `[off, declEnd)`, present up to `availEnd`. */
function certificatesInto(
  rec: TlsRecord,
  b: Uint8Array,
  off: number,
  declEnd: number,
  availEnd: number,
  issues: IssueSink,
  at: number,
): void {
  const lim = Math.min(declEnd, availEnd);
  if (off + 3 > lim) return;
  const listEnd = off + 3 + u24(b, off);
  if (listEnd > declEnd) {
    issues.report("tls_bad_certificate", at);
    return;
  }
  const certs = rec.certificates ?? [];
  for (let p = off + 3; p + 3 <= lim && p < listEnd && certs.length < TLS_MAX_CERTIFICATES;) {
    const e = p + 3 + u24(b, p);
    if (e > listEnd) {
      issues.report("tls_bad_certificate", at);
      break;
    }
    if (e > lim) break; // continues in a later segment
    const c = parseCertificate(b, p + 3, e);
    if (c === null) issues.report("tls_bad_certificate", at);
    else certs.push(c);
    p = e;
  }
  if (certs.length > 0) rec.certificates = certs;
}

/** Handles one handshake message whose body spans `[p, declEnd)`, present up to `availEnd`. */
function handshakeMessage(
  rec: TlsRecord,
  b: Uint8Array,
  type: number,
  p: number,
  declEnd: number,
  availEnd: number,
  issues: IssueSink,
  at: number,
): void {
  rec.handshake ??= HANDSHAKE_TYPE[type];
  if (type === 1 || type === 2) {
    // Only the first hello of the segment describes it (a client never sends two in one flight).
    if (rec.version !== undefined) return;
    const h = parseHello(b, p, declEnd, availEnd, type, issues, at);
    if (h !== null) helloInto(rec, h, "t");
  } else if (type === 11) {
    certificatesInto(rec, b, p, declEnd, availEnd, issues, at);
  }
}

/** Handshake types whose body is always empty. */
const EMPTY_BODY = new Set([0, 5, 14]);
/**
 * Records shorter than this do not carry the start of a message that continues in the next record: an
 * encrypted Finished (32 to 80 bytes) whose random first bytes look like a header is then not mistaken
 * for one. Real fragmentation uses records of hundreds of bytes or more.
 */
const MIN_FRAGMENTING_RECORD = 128;

/**
 * Whether the 4-byte handshake header at `q`, in a record declared to end at `recEnd` and `recLen` long,
 * can be cleartext: a known type, an empty body where the type requires one, a plausible length. After a
 * ChangeCipherSpec (`strict`), the message must also end within the record.
 */
function plausibleHandshake(
  b: Uint8Array,
  q: number,
  recEnd: number,
  recLen: number,
  strict: boolean,
): boolean {
  const t = b[q];
  const len = u24(b, q + 1);
  if (HANDSHAKE_TYPE[t] === undefined || len > TLS_MAX_HANDSHAKE) return false;
  if (EMPTY_BODY.has(t) && len !== 0) return false;
  if (q + 4 + len > recEnd) return !strict && recLen >= MIN_FRAGMENTING_RECORD;
  return true;
}

/** True when `[p, p + 5)` is a plausible record header (type 20-24, SSL 3.0 to TLS 1.3, sane length). */
function recordHeaderAt(b: Uint8Array, p: number, maxType: number): boolean {
  const t = b[p];
  return t >= 20 && t <= maxType && b[p + 1] === 3 && b[p + 2] <= 4 &&
    ((b[p + 3] << 8) | b[p + 4]) <= TLS_MAX_RECORD;
}

/**
 * True when `[off, end)` starts with an SSL 2.0 CLIENT-HELLO (draft-hickman-netscape-ssl-00 and RFC 5246
 * appendix E.2): a 2-byte record header with the high bit set, message type 1, version SSL 2.0 to TLS 1.2,
 * and cipher-spec, session-id and challenge lengths that add up to the record length.
 */
function ssl2HelloAt(b: Uint8Array, off: number, end: number): boolean {
  if (end - off < 11 || (b[off] & 0x80) === 0 || b[off + 2] !== 1) return false;
  const v = u16(b, off + 3);
  if (v !== 0x0002 && (v < 0x0300 || v > 0x0303)) return false;
  const len = ((b[off] & 0x7f) << 8) | b[off + 1];
  const specs = u16(b, off + 5), sid = u16(b, off + 7), challenge = u16(b, off + 9);
  return specs > 0 && specs % 3 === 0 && (sid === 0 || sid === 16) && challenge >= 16 && challenge <= 32 &&
    9 + specs + sid + challenge === len;
}

/** The SSL 2.0-format ClientHello that old clients send for compatibility: version and cipher specs. */
function decodeSsl2Hello(b: Uint8Array, off: number, end: number): TlsRecord {
  const specsEnd = Math.min(off + 11 + u16(b, off + 5), end);
  const specs: number[] = [];
  for (let p = off + 11; p + 3 <= specsEnd && specs.length < TLS_MAX_LIST; p += 3) {
    specs.push((b[p] << 16) | (b[p + 1] << 8) | b[p + 2]);
  }
  return {
    handshake: "client_hello",
    version: tlsVersionName(u16(b, off + 3)),
    record_version: "SSL 2.0",
    cipher_suites: specs,
    content_types: ["handshake"],
  };
}

/**
 * Whether the handshake messages from `q` on in a record (declared to end at `recEnd`, present up to `e`)
 * chain as cleartext: each header plausible, each message starting where the previous one ends, the last
 * one ending at the record end (or running past it, for a message continued in the next record or cut by
 * the segment end). An encrypted record rarely passes: GCM's explicit nonce often starts with zero bytes,
 * which read as empty hello_request messages, but the bytes after them do not chain.
 */
function cleartextChain(
  b: Uint8Array,
  q: number,
  e: number,
  recEnd: number,
  recLen: number,
  strict: boolean,
) {
  while (q + 4 <= e) {
    if (!plausibleHandshake(b, q, recEnd, recLen, strict)) return false;
    q += 4 + u24(b, q + 1);
  }
  return q >= e ? true : e < recEnd; // a partial header is acceptable only where the segment cuts it
}

/**
 * Content sniffer: a TCP payload starting with a TLS record header (content type 20-23, version 3.0-3.4,
 * length 1..2^14+2048), or with an SSL 2.0 ClientHello. Allocates nothing.
 */
export function sniffTls(bytes: Uint8Array, off: number, end: number, hint: AppHint): boolean {
  if (hint.transport !== "tcp" || end - off < 5) return false;
  if (recordHeaderAt(bytes, off, 23)) return (bytes[off + 3] | bytes[off + 4]) !== 0;
  return ssl2HelloAt(bytes, off, end);
}

/**
 * Decodes the TLS records of one TCP segment `[off, end)` (or an SSL 2.0 ClientHello). Returns null when
 * the segment does not start with a record header (the middle of a record, or not TLS). Issues:
 * `tls_bad_record` (a later record header is invalid; nothing after it is read), `tls_bad_hello` (a hello
 * whose lengths contradict each other), `tls_bad_extension` (an extension block or extension that does
 * not parse; the others are kept), `tls_bad_certificate` (a certificate entry that is not DER X.509).
 * A handshake record whose messages do not chain is taken as encrypted and skipped without an issue.
 */
export function decodeTls(
  bytes: Uint8Array,
  _view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint: AppHint,
): TlsRecord | null {
  if (end - off < 5) return null;
  if (!recordHeaderAt(bytes, off, 24)) {
    return ssl2HelloAt(bytes, off, end) ? decodeSsl2Hello(bytes, off, end) : null;
  }
  const rec: TlsRecord = { record_version: tlsVersionName(u16(bytes, off + 1)), content_types: [] };
  let lastType = -1;
  let ccs = false;
  // A handshake message split over records of this segment is joined here.
  let join: Uint8Array | null = null;
  let joinLen = 0, joinType = 0, joinAt = 0;
  let p = off;
  while (p + 5 <= end) {
    if (p !== off && !recordHeaderAt(bytes, p, 24)) {
      issues.report("tls_bad_record", p);
      break;
    }
    const type = bytes[p];
    const len = u16(bytes, p + 3);
    if (type !== lastType) {
      lastType = type;
      const name = CONTENT_TYPE[type];
      if (!rec.content_types.includes(name)) rec.content_types.push(name);
    }
    const body = p + 5;
    const declEnd = body + len;
    const e = Math.min(declEnd, end);
    if (type === 22) {
      let q = body;
      if (join !== null) {
        // Continue the message begun in an earlier record.
        const n = Math.min(e - q, join.length - joinLen);
        join.set(bytes.subarray(q, q + n), joinLen);
        joinLen += n;
        q += n;
        if (joinLen === join.length || e < declEnd) {
          handshakeMessage(rec, join, joinType, 4, 4 + u24(join, 1), joinLen, issues, joinAt);
          join = null;
        }
      }
      if (join === null && !cleartextChain(bytes, q, e, declEnd, len, ccs)) q = e;
      while (join === null && q + 4 <= e) {
        const mType = bytes[q];
        const mEnd = q + 4 + u24(bytes, q + 1);
        if (mEnd > e && e === declEnd && e < end) {
          // Split over records of this segment: gather it.
          join = new Uint8Array(Math.min(mEnd - q, MAX_JOIN));
          joinLen = Math.min(e - q, join.length);
          join.set(bytes.subarray(q, q + joinLen));
          joinType = mType;
          joinAt = p;
          break;
        }
        handshakeMessage(rec, bytes, mType, q + 4, mEnd, e, issues, p);
        q = mEnd;
      }
    } else if (type === 21 && len === 2 && e === declEnd && !ccs) {
      rec.alert = {
        level: ALERT_LEVEL[bytes[body]] ?? String(bytes[body]),
        description: ALERT_DESCRIPTION[bytes[body + 1]] ?? String(bytes[body + 1]),
      };
    } else if (type === 20) ccs = true;
    p = declEnd;
  }
  if (join !== null) handshakeMessage(rec, join, joinType, 4, 4 + u24(join, 1), joinLen, issues, joinAt);
  return rec;
}

/** TLS over TCP: found by its record header on any port, and by the usual TLS ports. */
export const tlsProtocol: AppProtocol<TlsRecord> = {
  name: "tls",
  ports: { tcp: [443, 465, 636, 853, 993, 995, 5061, 8443, 9443] },
  sniff: sniffTls,
  decode: decodeTls,
};
