/**
 * TLS hello fingerprints: JA3 / JA3S (Salesforce, as Wireshark computes `tls.handshake.ja3` and
 * `tls.handshake.ja3s`) and JA4 (FoxIO, `technical_details/JA4.md`).
 *
 * The inputs are the wire values of a parsed hello, GREASE included: each fingerprint drops GREASE
 * (RFC 8701 values `0x?a?a` with equal bytes) itself, so the record can still show what was sent.
 * Hashing costs a few microseconds, so callers compute these only for complete hello messages.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The ClientHello fields the fingerprints are made of, in wire order, GREASE values included. */
export interface ClientHelloFields {
  /** `legacy_version` of the hello body (not the record layer version), e.g. 0x0303. */
  readonly legacyVersion: number;
  readonly cipherSuites: readonly number[];
  /** Extension types in the order they appear. */
  readonly extensions: readonly number[];
  /** `supported_groups` (formerly elliptic_curves, extension 10). */
  readonly groups: readonly number[];
  /** `ec_point_formats` (extension 11). */
  readonly ecPointFormats: readonly number[];
  /** `signature_algorithms` (extension 13). */
  readonly sigAlgs: readonly number[];
  /** `supported_versions` (extension 43). */
  readonly supportedVersions: readonly number[];
  /** ALPN protocol names as Latin-1 strings (one char per byte), so JA4 can test the raw bytes. */
  readonly alpn: readonly string[];
  /** Whether a `server_name` extension is present (JA4 looks at presence, not content). */
  readonly hasSni: boolean;
}

/** JA4 section a's first character: TLS over TCP, QUIC, or DTLS. */
export type Ja4Transport = "t" | "q" | "d";

/** True for the RFC 8701 GREASE values 0x0a0a, 0x1a1a, ... 0xfafa. */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);
}

/**
 * Fingerprints repeat: every connection of one client program hashes the same strings. Remembering the
 * last few thousand hashes turns a ~2 µs crypto call per hello into a map lookup.
 */
const HASH_CACHE_SIZE = 4096;
const md5Cache = new Map<string, string>();
const sha256Cache = new Map<string, string>();

function memo(cache: Map<string, string>, key: string, compute: () => string): string {
  let v = cache.get(key);
  if (v === undefined) {
    v = compute();
    if (cache.size >= HASH_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, v);
  }
  return v;
}

/** Lowercase hex MD5 of a Latin-1/ASCII string. */
export function md5Hex(s: string): string {
  return memo(md5Cache, s, () => createHash("md5").update(s, "latin1").digest("hex"));
}

function sha256Hex12(s: string): string {
  return memo(sha256Cache, s, () => createHash("sha256").update(s, "latin1").digest("hex").slice(0, 12));
}

/** Decimal values joined by `-`, GREASE left out (the JA3 list form). */
function ja3List(values: readonly number[], dropGrease: boolean): string {
  let s = "";
  for (const v of values) {
    if (dropGrease && isGrease(v)) continue;
    s += s === "" ? String(v) : "-" + v;
  }
  return s;
}

/**
 * The JA3 string `version,ciphers,extensions,groups,point_formats` of a ClientHello: decimal values,
 * lists joined by `-`, GREASE removed from ciphers, extensions and groups, empty fields kept empty
 * (`769,47-53,,,`). Equal to tshark's `tls.handshake.ja3_full`.
 */
export function ja3String(h: ClientHelloFields): string {
  return h.legacyVersion + "," + ja3List(h.cipherSuites, true) + "," + ja3List(h.extensions, true) + "," +
    ja3List(h.groups, true) + "," + ja3List(h.ecPointFormats, false);
}

/**
 * The JA3S string `version,cipher,extensions` of a ServerHello (`legacy_version`, not the
 * supported_versions choice). Equal to tshark's `tls.handshake.ja3s_full`.
 */
export function ja3sString(legacyVersion: number, cipher: number, extensions: readonly number[]): string {
  return legacyVersion + "," + cipher + "," + ja3List(extensions, true);
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0");
}

/** JA4 two-character version code of a version number (`13`, `12`, ..., `00` when unknown). */
export function ja4VersionCode(v: number): string {
  switch (v) {
    case 0x0304:
      return "13";
    case 0x0303:
      return "12";
    case 0x0302:
      return "11";
    case 0x0301:
      return "10";
    case 0x0300:
      return "s3";
    case 0x0002:
      return "s2";
    case 0xfeff:
      return "d1";
    case 0xfefd:
      return "d2";
    case 0xfefc:
      return "d3";
    default:
      return "00";
  }
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/**
 * JA4's two ALPN characters: first and last character of the first ALPN value, `00` when there is none
 * or it is empty, and the first and last hex digit of the value when either end byte is not
 * alphanumeric (JA4.md "ALPN Extension Value"). `first` holds one char per byte (Latin-1).
 */
export function ja4Alpn(first: string | undefined): string {
  if (first === undefined || first.length === 0) return "00";
  const a = first.charCodeAt(0), z = first.charCodeAt(first.length - 1);
  if (isAlnum(a) && isAlnum(z)) return String.fromCharCode(a, z);
  const hexA = (a & 0xff).toString(16).padStart(2, "0"), hexZ = (z & 0xff).toString(16).padStart(2, "0");
  return hexA[0] + hexZ[1];
}

/** JA4 section b: truncated SHA-256 of the sorted non-GREASE cipher list, `000000000000` when empty. */
export function ja4CipherHash(ciphers: readonly number[]): string {
  const list = ciphers.filter((c) => !isGrease(c)).sort((x, y) => x - y);
  return list.length === 0 ? "000000000000" : sha256Hex12(list.map(hex4).join(","));
}

/**
 * JA4 section c: truncated SHA-256 of the sorted extensions without GREASE, SNI (0x0000) and ALPN
 * (0x0010), then `_` and the signature algorithms in wire order (GREASE removed); no `_` when there are
 * no signature algorithms, `000000000000` when there are no extensions left.
 */
export function ja4ExtensionHash(extensions: readonly number[], sigAlgs: readonly number[]): string {
  const exts = extensions.filter((e) => !isGrease(e) && e !== 0x0000 && e !== 0x0010).sort((x, y) => x - y);
  if (exts.length === 0) return "000000000000";
  const algs = sigAlgs.filter((a) => !isGrease(a));
  let s = exts.map(hex4).join(",");
  if (algs.length > 0) s += "_" + algs.map(hex4).join(",");
  return sha256Hex12(s);
}

function count2(n: number): string {
  return n > 99 ? "99" : n < 10 ? "0" + n : String(n);
}

/**
 * The JA4 fingerprint of a ClientHello, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`. The version is the
 * highest non-GREASE supported_versions entry, else `legacy_version`; counts leave GREASE out and keep
 * SNI and ALPN.
 */
export function ja4(h: ClientHelloFields, transport: Ja4Transport): string {
  let version = -1;
  for (const v of h.supportedVersions) if (!isGrease(v) && v > version) version = v;
  if (version < 0) version = h.legacyVersion;
  let nCiphers = 0, nExts = 0;
  for (const c of h.cipherSuites) if (!isGrease(c)) nCiphers++;
  for (const e of h.extensions) if (!isGrease(e)) nExts++;
  return transport + ja4VersionCode(version) + (h.hasSni ? "d" : "i") + count2(nCiphers) + count2(nExts) +
    ja4Alpn(h.alpn[0]) + "_" + ja4CipherHash(h.cipherSuites) + "_" +
    ja4ExtensionHash(h.extensions, h.sigAlgs);
}
