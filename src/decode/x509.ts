/**
 * A minimal DER reader for X.509 certificates (RFC 5280 section 4.1), enough to describe a certificate
 * seen in a TLS 1.2 Certificate message: subject, issuer, validity, subjectAltName and serial number.
 *
 * It walks the TBSCertificate in place (no copy) and never throws: any element whose length runs past
 * its parent, an indefinite length (not DER), or a missing mandatory field makes `parseCertificate`
 * return `null`. The signature is not checked; this describes what was sent, it does not validate it.
 *
 * @module
 */

import { ipv4String, ipv6String, latin1, toHex, utf8Text } from "./_bytes.ts";

/** What netwatch reports of one certificate. Absent fields are omitted. */
export interface CertificateRecord {
  /** RFC 4514 form, most specific RDN first: `CN=example.com,O=Org,C=US`. */
  subject?: string;
  issuer?: string;
  /** ISO 8601 UTC, e.g. `2024-01-31T12:00:00Z`. */
  not_before?: string;
  not_after?: string;
  /** subjectAltName dNSName and iPAddress entries, in order. */
  san?: string[];
  /** Serial number as lowercase hex without the DER sign-padding byte. */
  serial?: string;
}

/** Longest subject/issuer/SAN string kept; longer ones are cut and end in `...`. */
export const X509_MAX_STRING = 256;
/** Most subjectAltName entries kept per certificate (a CDN certificate can carry hundreds). */
export const X509_MAX_SAN = 32;
/** Most RDN attributes read from one Name, so a hostile Name cannot cost unbounded time. */
export const X509_MAX_RDN_ATTRS = 32;

/** One DER TLV, as absolute offsets into the buffer. `tag` is the whole identifier octet. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/**
 * Reads the TLV at `p` within `[p, limit)`, writing it to `out`, and returns its tag. Only single-byte
 * tags (all X.509 needs) and definite lengths of up to 4 bytes are accepted. Returns -1 when it does not
 * fit.
 */
function readTlv(b: Uint8Array, p: number, limit: number, out: Tlv): number {
  if (p + 2 > limit) return -1;
  const tag = b[p];
  if ((tag & 0x1f) === 0x1f) return -1;
  let len = b[p + 1];
  let q = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || q + n > limit) return -1;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[q + i];
    q += n;
  }
  if (q + len > limit) return -1;
  out.tag = tag;
  out.start = q;
  out.end = q + len;
  return tag;
}

const OID_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "STREET",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.15": "businessCategory",
  "2.5.4.17": "postalCode",
  "2.5.4.42": "GN",
  "2.5.4.43": "initials",
  "2.5.4.46": "dnQualifier",
  "2.5.4.97": "organizationIdentifier",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
  "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
  "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
  "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
};

/** Dotted form of the OID content `[start, end)`; arcs past 2^53 lose precision, which is harmless here. */
export function oidString(b: Uint8Array, start: number, end: number): string {
  if (start >= end) return "";
  let s = "";
  let v = 0;
  let first = true;
  for (let i = start; i < end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (b[i] & 0x80) continue;
    if (first) {
      const a = v < 40 ? 0 : v < 80 ? 1 : 2;
      s = a + "." + (v - 40 * a);
      first = false;
    } else s += "." + v;
    v = 0;
  }
  return s;
}

function clip(s: string): string {
  return s.length > X509_MAX_STRING ? s.slice(0, X509_MAX_STRING - 3) + "..." : s;
}

/** Text of a directory string of any of the ASN.1 string types certificates use. */
function stringValue(b: Uint8Array, tag: number, start: number, end: number): string | undefined {
  // Never decode more than the cap can show (4 bytes per char at most), so a huge value costs little.
  const stop = Math.min(end, start + 4 * X509_MAX_STRING + 4);
  switch (tag) {
    case 0x0c: // UTF8String
      return utf8Text(b, start, stop);
    case 0x12: // NumericString
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x1a: // VisibleString
    case 0x14: // TeletexString: in practice Latin-1
      return latin1(b, start, stop);
    case 0x1e: { // BMPString: UTF-16BE
      let s = "";
      for (let i = start; i + 1 < stop; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1]);
      return s;
    }
    case 0x1c: { // UniversalString: UTF-32BE
      let s = "";
      for (let i = start; i + 3 < stop; i += 4) {
        const cp = ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : "\ufffd";
      }
      return s;
    }
    default:
      return undefined;
  }
}

/** RFC 4514 section 2.4 escaping of an attribute value. */
function escapeDnValue(v: string): string {
  let s = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (
      c === "," || c === "+" || c === '"' || c === "\\" || c === "<" || c === ">" || c === ";" ||
      (i === 0 && (c === "#" || c === " ")) || (i === v.length - 1 && c === " ")
    ) {
      s += "\\" + c;
    } else if (c === "\0") s += "\\00";
    else s += c;
  }
  return s;
}

/**
 * RFC 4514 string of the Name (SEQUENCE OF RDN) whose content is `[start, end)`: RDNs in reverse order
 * joined by `,`, multi-valued RDNs joined by `+`, unknown attribute types as dotted OIDs and values that
 * are not strings as `#` and their DER hex. Returns undefined when the structure is broken.
 */
export function nameString(b: Uint8Array, start: number, end: number): string | undefined {
  const rdns: string[] = [];
  const set: Tlv = { tag: 0, start: 0, end: 0 };
  const atv: Tlv = { tag: 0, start: 0, end: 0 };
  const oid: Tlv = { tag: 0, start: 0, end: 0 };
  const val: Tlv = { tag: 0, start: 0, end: 0 };
  let attrs = 0;
  outer: for (let p = start; p < end;) {
    if (readTlv(b, p, end, set) !== 0x31) return undefined;
    let rdn = "";
    for (let q = set.start; q < set.end;) {
      if (readTlv(b, q, set.end, atv) !== 0x30) return undefined;
      if (readTlv(b, atv.start, atv.end, oid) !== 0x06) return undefined;
      const valStart = oid.end;
      if (readTlv(b, valStart, atv.end, val) < 0) return undefined;
      if (++attrs > X509_MAX_RDN_ATTRS) {
        if (rdn !== "") rdns.push(rdn);
        break outer;
      }
      const dotted = oidString(b, oid.start, oid.end);
      const text = stringValue(b, val.tag, val.start, val.end);
      const value = text !== undefined ? escapeDnValue(text) : "#" + toHex(b, valStart, val.end, 64);
      rdn += (rdn === "" ? "" : "+") + (OID_NAMES[dotted] ?? dotted) + "=" + value;
      q = atv.end;
    }
    rdns.push(rdn);
    p = set.end;
  }
  return clip(rdns.reverse().join(","));
}

function digits(b: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = b[p + i] - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * ISO 8601 form of a UTCTime (tag 0x17, `YYMMDDHHMMSSZ`, years 50-99 are 19xx per RFC 5280 section
 * 4.1.2.5.1) or GeneralizedTime (tag 0x18, `YYYYMMDDHHMMSSZ`, fraction dropped). Undefined when malformed.
 */
export function timeString(b: Uint8Array, tag: number, start: number, end: number): string | undefined {
  let p = start, year: number;
  if (tag === 0x17) {
    if (end - p < 11) return undefined;
    const yy = digits(b, p, 2);
    if (yy < 0) return undefined;
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p += 2;
  } else if (tag === 0x18) {
    if (end - p < 13) return undefined;
    year = digits(b, p, 4);
    if (year < 0) return undefined;
    p += 4;
  } else return undefined;
  const mo = digits(b, p, 2), d = digits(b, p + 2, 2), h = digits(b, p + 4, 2), mi = digits(b, p + 6, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59) return undefined;
  p += 8;
  let s = 0;
  if (p + 2 <= end && b[p] >= 0x30 && b[p] <= 0x39) {
    s = digits(b, p, 2);
    if (s < 0 || s > 60) return undefined;
  }
  const two = (n: number) => (n < 10 ? "0" : "") + n;
  return String(year).padStart(4, "0") + "-" + two(mo) + "-" + two(d) + "T" + two(h) + ":" + two(mi) + ":" +
    two(s) + "Z";
}

/** subjectAltName (2.5.29.17) extension value content `[start, end)`: its DNS names and IP addresses. */
function sanList(b: Uint8Array, start: number, end: number): string[] | undefined {
  const seq: Tlv = { tag: 0, start: 0, end: 0 };
  if (readTlv(b, start, end, seq) !== 0x30) return undefined;
  const out: string[] = [];
  const gn: Tlv = { tag: 0, start: 0, end: 0 };
  for (let p = seq.start; p < seq.end && out.length < X509_MAX_SAN;) {
    if (readTlv(b, p, seq.end, gn) < 0) return out;
    if (gn.tag === 0x82) out.push(clip(latin1(b, gn.start, Math.min(gn.end, gn.start + X509_MAX_STRING))));
    else if (gn.tag === 0x87) {
      const n = gn.end - gn.start;
      if (n === 4) out.push(ipv4String(b, gn.start));
      else if (n === 16) out.push(ipv6String(b, gn.start));
    }
    p = gn.end;
  }
  return out;
}

const OID_SAN = [0x55, 0x1d, 0x11];

/**
 * Parses the DER certificate at `[off, end)` (which must hold it completely). Returns what could be read
 * or `null` when the outer structure is not a certificate.
 */
export function parseCertificate(b: Uint8Array, off: number, end: number): CertificateRecord | null {
  const t: Tlv = { tag: 0, start: 0, end: 0 };
  if (readTlv(b, off, end, t) !== 0x30) return null;
  const tbs: Tlv = { tag: 0, start: 0, end: 0 };
  if (readTlv(b, t.start, t.end, tbs) !== 0x30) return null;
  const rec: CertificateRecord = {};
  let p = tbs.start;
  const lim = tbs.end;
  // [0] EXPLICIT version, optional.
  let tag = readTlv(b, p, lim, t);
  if (tag === 0xa0) {
    p = t.end;
    tag = readTlv(b, p, lim, t);
  }
  if (tag !== 0x02) return null; // serialNumber INTEGER
  let s = t.start;
  if (t.end - s > 1 && b[s] === 0) s++;
  rec.serial = toHex(b, s, t.end, 64);
  p = t.end;
  if (readTlv(b, p, lim, t) !== 0x30) return rec; // signature AlgorithmIdentifier
  p = t.end;
  if (readTlv(b, p, lim, t) !== 0x30) return rec; // issuer
  const issuer = nameString(b, t.start, t.end);
  if (issuer !== undefined) rec.issuer = issuer;
  p = t.end;
  if (readTlv(b, p, lim, t) !== 0x30) return rec; // validity
  const vEnd = t.end;
  const tm: Tlv = { tag: 0, start: 0, end: 0 };
  if (readTlv(b, t.start, vEnd, tm) >= 0) {
    const nb = timeString(b, tm.tag, tm.start, tm.end);
    if (nb !== undefined) rec.not_before = nb;
    if (readTlv(b, tm.end, vEnd, tm) >= 0) {
      const na = timeString(b, tm.tag, tm.start, tm.end);
      if (na !== undefined) rec.not_after = na;
    }
  }
  p = vEnd;
  if (readTlv(b, p, lim, t) !== 0x30) return rec; // subject
  const subject = nameString(b, t.start, t.end);
  if (subject !== undefined) rec.subject = subject;
  p = t.end;
  if (readTlv(b, p, lim, t) !== 0x30) return rec; // subjectPublicKeyInfo
  p = t.end;
  // issuerUniqueID [1], subjectUniqueID [2], then extensions [3].
  while (p < lim && (tag = readTlv(b, p, lim, t)) >= 0) {
    p = t.end;
    if (tag !== 0xa3) continue;
    const exts: Tlv = { tag: 0, start: 0, end: 0 };
    if (readTlv(b, t.start, t.end, exts) !== 0x30) break;
    const ext: Tlv = { tag: 0, start: 0, end: 0 };
    const f: Tlv = { tag: 0, start: 0, end: 0 };
    for (let q = exts.start; q < exts.end;) {
      if (readTlv(b, q, exts.end, ext) !== 0x30) break;
      q = ext.end;
      if (readTlv(b, ext.start, ext.end, f) !== 0x06) continue;
      const isSan = f.end - f.start === 3 && b[f.start] === OID_SAN[0] && b[f.start + 1] === OID_SAN[1] &&
        b[f.start + 2] === OID_SAN[2];
      if (!isSan) continue;
      // extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING.
      tag = readTlv(b, f.end, ext.end, f);
      if (tag === 0x01) tag = readTlv(b, f.end, ext.end, f);
      if (tag !== 0x04) continue;
      const san = sanList(b, f.start, f.end);
      if (san !== undefined) rec.san = san;
    }
    break;
  }
  return rec;
}
