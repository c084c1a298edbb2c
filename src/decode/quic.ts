/**
 * QUIC long headers (RFC 9000 section 17.2, RFC 8999 invariants, RFC 9369 for version 2) and the
 * client's Initial ClientHello (RFC 9001 section 5).
 *
 * Every field of a long header up to the Length is in clear. A client Initial is protected with keys
 * anyone can derive from its Destination Connection ID (HKDF with the version's initial salt), so the
 * decoder removes header protection (AES-ECB over a 16-byte sample), opens the payload (AES-128-GCM),
 * gathers the CRYPTO frames of the datagram's Initial packets from offset 0 and parses the ClientHello
 * for SNI, ALPN and JA4 (`q...`). A ClientHello continued in another datagram yields what the first part
 * holds (usually the SNI) and no JA4. An Initial whose tag does not verify with the client keys is a
 * server Initial (or damaged) and is described by its header only.
 *
 * Short-header packets carry no length for their connection ID, so without connection state only
 * `{header: "short"}` can be said of them.
 *
 * @module
 */

import { createCipheriv, createDecipheriv, createHmac } from "node:crypto";
import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { toHex } from "./_bytes.ts";
import { ja4 } from "./ja_fingerprint.ts";
import { helloInto as tlsHelloInto, parseHello, type TlsRecord } from "./tls.ts";

/** The JSON record of a QUIC datagram: its first packet's header, and the ClientHello of a client Initial. */
export interface QuicRecord {
  header: "long" | "short";
  packet_type?: "initial" | "0rtt" | "handshake" | "retry" | "version_negotiation";
  /** Version as 8 hex digits, e.g. `0x00000001`. */
  version?: string;
  /** Connection IDs as hex (`""` when zero-length). */
  dcid?: string;
  scid?: string;
  /** Token length of an Initial (or of a Retry's retry token). */
  token_len?: number;
  /** The Length field: bytes of packet number and payload. */
  length?: number;
  sni?: string;
  alpn?: string[];
  /** JA4 of a ClientHello complete in this datagram. */
  ja4?: string;
  /** The client Initial's ClientHello described as a TLS record (`packets` shows it as the packet's `tls`). */
  tls?: TlsRecord;
}

/** RFC 9000 section 17.2: connection IDs of version 1 are at most 20 bytes. */
export const QUIC_MAX_CID = 20;
/** Most CRYPTO stream bytes gathered from one datagram (a ClientHello is rarely over 2 KiB). */
export const QUIC_MAX_CRYPTO = 16384;

export const QUIC_V1 = 0x00000001;
export const QUIC_V2 = 0x6b3343cf;

interface VersionParams {
  salt: Uint8Array;
  /** Label prefix: `quic` for v1 and drafts, `quicv2` for v2 (RFC 9369 section 3.3.2). */
  labels: string;
  /** Long packet type codes 0-3 to names: v2 permutes them (RFC 9369 section 3.2). */
  types: readonly QuicRecord["packet_type"][];
}

function hexBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return b;
}

const V1_TYPES = ["initial", "0rtt", "handshake", "retry"] as const;
const V2_TYPES = ["retry", "initial", "0rtt", "handshake"] as const;
const PARAMS_V1: VersionParams = {
  salt: hexBytes("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), // RFC 9001 section 5.2
  labels: "quic",
  types: V1_TYPES,
};
const PARAMS_V2: VersionParams = {
  salt: hexBytes("0dede3def700a6db819381be6e269dcbf9bd2ed9"), // RFC 9369 section 3.3.1
  labels: "quicv2",
  types: V2_TYPES,
};
const PARAMS_D29: VersionParams = {
  salt: hexBytes("afbfec289993d24c9e9786f19c6111e04390a899"), // draft-ietf-quic-tls-29..32
  labels: "quic",
  types: V1_TYPES,
};
const PARAMS_D23: VersionParams = {
  salt: hexBytes("c3eef712c72ebb5a11a7d2432bb46365bef9f502"), // draft-ietf-quic-tls-23..28
  labels: "quic",
  types: V1_TYPES,
};

/** Parameters of the versions whose Initials can be opened, or undefined. */
function versionParams(v: number): VersionParams | undefined {
  if (v === QUIC_V1) return PARAMS_V1;
  if (v === QUIC_V2) return PARAMS_V2;
  if (v >= 0xff00001d && v <= 0xff000022) return PARAMS_D29;
  if (v >= 0xff000017 && v <= 0xff00001c) return PARAMS_D23;
  return undefined;
}

/** Versions the sniffer accepts: v1, v2, IETF drafts, and 0 (Version Negotiation). */
function knownVersion(v: number): boolean {
  return v === 0 || v === QUIC_V1 || v === QUIC_V2 || (v >= 0xff00000f && v <= 0xff000022);
}

/** Reads the variable-length integer (RFC 9000 section 16) at `p`; writes its size to `size[0]`, 0 if cut. */
function varint(b: Uint8Array, p: number, end: number, size: number[]): number {
  if (p >= end) {
    size[0] = 0;
    return 0;
  }
  const n = 1 << (b[p] >> 6);
  if (p + n > end) {
    size[0] = 0;
    return 0;
  }
  let v = b[p] & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + b[p + i];
  size[0] = n;
  return v;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

/**
 * Content sniffer: a long header (form and fixed bits set) with a known version, or Version Negotiation
 * (version 0), and connection ID lengths that fit. Allocates nothing.
 */
export function sniffQuic(bytes: Uint8Array, off: number, end: number, hint: AppHint): boolean {
  if (hint.transport !== "udp" || end - off < 7) return false;
  const b0 = bytes[off];
  const v = u32(bytes, off + 1);
  if ((b0 & 0x80) === 0 || !knownVersion(v)) return false;
  if (v !== 0 && (b0 & 0x40) === 0) return false;
  const dcil = bytes[off + 5];
  if (dcil > QUIC_MAX_CID || off + 6 + dcil >= end) return false;
  return bytes[off + 6 + dcil] <= QUIC_MAX_CID;
}

// ---- RFC 9001 section 5: Initial keys ----

function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, SHA-256, output at most 32 bytes. */
export function hkdfExpandLabel(secret: Uint8Array, label: string, length: number): Uint8Array {
  const full = "tls13 " + label;
  const info = new Uint8Array(4 + full.length + 1);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  for (let i = 0; i < full.length; i++) info[3 + i] = full.charCodeAt(i);
  info[3 + full.length] = 0; // empty context
  info[info.length - 1] = 1; // HKDF-Expand counter T(1)
  // A plain copy: node:crypto returns a Buffer, whose slice() would share memory.
  return new Uint8Array(hmac(secret, info).subarray(0, length));
}

/** The client's Initial packet protection keys. */
export interface InitialKeys {
  key: Uint8Array;
  iv: Uint8Array;
  hp: Uint8Array;
}

/**
 * Derived keys kept per (version, DCID), so retransmitted and repeated Initials of a connection skip the
 * five HMACs (about 60 us through node:crypto). Oldest entries are dropped past this many.
 */
export const QUIC_KEY_CACHE = 256;
const keyCache = new Map<string, InitialKeys>();

/** Derives the client Initial keys for a version's parameters and the client's first DCID. */
export function clientInitialKeys(version: number, dcid: Uint8Array): InitialKeys | undefined {
  const params = versionParams(version);
  if (params === undefined) return undefined;
  const id = version + ":" + toHex(dcid, 0, dcid.length);
  const hit = keyCache.get(id);
  if (hit !== undefined) return hit;
  const initial = hmac(params.salt, dcid); // HKDF-Extract(salt, IKM = DCID)
  const client = hkdfExpandLabel(initial, "client in", 32);
  const keys = {
    key: hkdfExpandLabel(client, params.labels + " key", 16),
    iv: hkdfExpandLabel(client, params.labels + " iv", 12),
    hp: hkdfExpandLabel(client, params.labels + " hp", 16),
  };
  if (keyCache.size >= QUIC_KEY_CACHE) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, keys);
  return keys;
}

/**
 * Removes header protection from and opens the Initial packet `[start, pktEnd)` whose packet number
 * starts at `pnOff`. Returns the plaintext payload, or null when the packet is too short or the AEAD tag
 * does not verify (wrong keys: a server Initial, or damage).
 */
export function openInitial(
  b: Uint8Array,
  start: number,
  pnOff: number,
  pktEnd: number,
  keys: InitialKeys,
): Uint8Array | null {
  if (pnOff + 4 + 16 > pktEnd) return null;
  const ecb = createCipheriv("aes-128-ecb", keys.hp, null);
  ecb.setAutoPadding(false);
  const mask: Uint8Array = ecb.update(b.subarray(pnOff + 4, pnOff + 20));
  const first = b[start] ^ (mask[0] & 0x0f);
  const pnLen = (first & 3) + 1;
  const hdrLen = pnOff + pnLen - start;
  if (pnOff + pnLen + 16 > pktEnd) return null;
  // Copies (not slice(): on a Buffer it shares memory, and these are written to).
  const header = new Uint8Array(b.subarray(start, start + hdrLen));
  header[0] = first;
  const nonce = new Uint8Array(keys.iv);
  for (let i = 0; i < pnLen; i++) {
    header[hdrLen - pnLen + i] ^= mask[1 + i];
    nonce[12 - pnLen + i] ^= header[hdrLen - pnLen + i];
  }
  try {
    const gcm = createDecipheriv("aes-128-gcm", keys.key, nonce);
    gcm.setAAD(header);
    gcm.setAuthTag(b.subarray(pktEnd - 16, pktEnd));
    const out: Uint8Array = gcm.update(b.subarray(pnOff + pnLen, pktEnd - 16));
    gcm.final();
    return out;
  } catch {
    return null; // tag mismatch: node:crypto reports it only by throwing
  }
}

/** One CRYPTO frame's data: stream offset and where its bytes are. */
interface CryptoPiece {
  offset: number;
  data: Uint8Array;
}

/**
 * Collects the CRYPTO frames of a decrypted Initial payload (RFC 9000 section 19: only PADDING, PING,
 * ACK, CRYPTO and CONNECTION_CLOSE may appear). Returns false, after reporting `quic_bad_frame`, when a
 * frame is malformed or not allowed in an Initial.
 */
function cryptoFrames(p: Uint8Array, pieces: CryptoPiece[], issues: IssueSink, at: number): boolean {
  const sz = [0];
  let q = 0;
  const bad = () => {
    issues.report("quic_bad_frame", at);
    return false;
  };
  const skipVarints = (n: number) => {
    for (let i = 0; i < n; i++) {
      varint(p, q, p.length, sz);
      if (sz[0] === 0) return false;
      q += sz[0];
    }
    return true;
  };
  while (q < p.length) {
    const t = p[q++];
    if (t === 0x00 || t === 0x01) continue; // PADDING, PING
    if (t === 0x02 || t === 0x03) { // ACK
      if (!skipVarints(2)) return bad();
      const ranges = varint(p, q, p.length, sz);
      if (sz[0] === 0 || ranges > p.length) return bad();
      q += sz[0];
      if (!skipVarints(1 + 2 * ranges + (t === 0x03 ? 3 : 0))) return bad();
    } else if (t === 0x06) { // CRYPTO
      const offset = varint(p, q, p.length, sz);
      if (sz[0] === 0) return bad();
      q += sz[0];
      const len = varint(p, q, p.length, sz);
      if (sz[0] === 0 || q + sz[0] + len > p.length) return bad();
      q += sz[0];
      pieces.push({ offset, data: p.subarray(q, q + len) });
      q += len;
    } else if (t === 0x1c || t === 0x1d) { // CONNECTION_CLOSE
      if (!skipVarints(t === 0x1c ? 2 : 1)) return bad();
      const len = varint(p, q, p.length, sz);
      if (sz[0] === 0 || q + sz[0] + len > p.length) return bad();
      q += sz[0] + len;
    } else return bad();
  }
  return true;
}

/** The CRYPTO stream from offset 0 as far as the pieces are contiguous, or null when offset 0 is missing. */
function assemble(pieces: CryptoPiece[]): Uint8Array | null {
  let top = 0;
  for (const c of pieces) top = Math.max(top, c.offset + c.data.length);
  top = Math.min(top, QUIC_MAX_CRYPTO);
  const buf = new Uint8Array(top);
  pieces.sort((x, y) => x.offset - y.offset);
  let have = 0;
  for (const c of pieces) {
    if (c.offset > have) break;
    const from = have - c.offset;
    const n = Math.min(c.data.length - from, top - have);
    if (n > 0) {
      buf.set(c.data.subarray(from, from + n), have);
      have += n;
    }
  }
  return have === 0 ? null : buf.subarray(0, have);
}

/** Parses the ClientHello at the start of the CRYPTO stream into `rec`. */
function helloInto(rec: QuicRecord, stream: Uint8Array, issues: IssueSink, at: number): void {
  if (stream.length < 4 || stream[0] !== 1) return;
  const declEnd = 4 + ((stream[1] << 16) | (stream[2] << 8) | stream[3]);
  const h = parseHello(stream, 4, declEnd, stream.length, 1, issues, at);
  if (h === null) return;
  if (h.sni !== undefined) rec.sni = h.sni;
  if (h.alpn.length > 0) rec.alpn = h.alpn;
  if (h.complete) rec.ja4 = ja4(h, "q");
  // The ClientHello is a TLS handshake message like any other: describe it as one, with its JA3, so that
  // TLS statistics and fingerprints cover QUIC clients too (tshark shows it under `tls` as well).
  const tls: TlsRecord = { handshake: "client_hello", content_types: ["handshake"] };
  tlsHelloInto(tls, h, "q");
  rec.tls = tls;
}

/**
 * Decodes the first packet of a QUIC datagram `[off, end)` and, for a client Initial, its ClientHello.
 * Returns null when the bytes cannot be QUIC (fixed bit clear on a short header). Issues:
 * `quic_bad_header` (connection ID over 20 bytes, fields past the datagram), `quic_truncated` (Length
 * past the datagram end), `quic_bad_frame` (an authenticated Initial with a malformed frame).
 */
export function decodeQuic(
  bytes: Uint8Array,
  _view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint: AppHint,
): QuicRecord | null {
  if (end - off < 1) return null;
  const b0 = bytes[off];
  if ((b0 & 0x80) === 0) return (b0 & 0x40) !== 0 ? { header: "short" } : null;
  if (end - off < 7) {
    issues.report("quic_bad_header", off);
    return { header: "long" };
  }
  const version = u32(bytes, off + 1);
  const rec: QuicRecord = { header: "long", version: "0x" + version.toString(16).padStart(8, "0") };
  let p = off + 5;
  const dcil = bytes[p];
  // Version-independent (RFC 8999) lengths go to 255; only versions we know cap them at 20.
  if ((dcil > QUIC_MAX_CID && version !== 0 && knownVersion(version)) || p + 1 + dcil >= end) {
    issues.report("quic_bad_header", p);
    return rec;
  }
  const dcidStart = p + 1;
  rec.dcid = toHex(bytes, dcidStart, dcidStart + dcil);
  p = dcidStart + dcil;
  const scil = bytes[p];
  if ((scil > QUIC_MAX_CID && version !== 0 && knownVersion(version)) || p + 1 + scil > end) {
    issues.report("quic_bad_header", p);
    return rec;
  }
  rec.scid = toHex(bytes, p + 1, p + 1 + scil);
  p += 1 + scil;
  if (version === 0) {
    rec.packet_type = "version_negotiation";
    return rec;
  }
  const params = versionParams(version);
  if (params === undefined) return rec; // an unknown version's packet types mean nothing to us
  const type = params.types[(b0 >> 4) & 3];
  rec.packet_type = type;
  const sz = [0];
  if (type === "retry") {
    if (end - p >= 16) rec.token_len = end - p - 16;
    else issues.report("quic_bad_header", p);
    return rec;
  }
  let tokenLen = 0;
  if (type === "initial") {
    tokenLen = varint(bytes, p, end, sz);
    if (sz[0] === 0 || p + sz[0] + tokenLen > end) {
      issues.report("quic_bad_header", p);
      return rec;
    }
    rec.token_len = tokenLen;
    p += sz[0] + tokenLen;
  }
  const length = varint(bytes, p, end, sz);
  if (sz[0] === 0) {
    issues.report("quic_bad_header", p);
    return rec;
  }
  rec.length = length;
  p += sz[0];
  if (p + length > end) {
    issues.report("quic_truncated", p);
    return rec;
  }
  if (type !== "initial") return rec;
  // The client Initial: open it and every further Initial coalesced in the datagram.
  const keys = clientInitialKeys(version, bytes.subarray(dcidStart, dcidStart + dcil));
  if (keys === undefined) return rec;
  const pieces: CryptoPiece[] = [];
  let start = off, pnOff = p, pktEnd = p + length;
  for (;;) {
    const plain = openInitial(bytes, start, pnOff, pktEnd, keys);
    if (plain === null || !cryptoFrames(plain, pieces, issues, start)) break;
    const next = nextInitial(bytes, pktEnd, end, version, params, sz);
    if (next < 0) break;
    start = pktEnd;
    pnOff = next;
    pktEnd = next + sz[0];
  }
  const stream = pieces.length > 0 ? assemble(pieces) : null;
  if (stream !== null) helloInto(rec, stream, issues, off);
  return rec;
}

/**
 * If a further Initial of the same version starts at `p` (coalesced, RFC 9000 section 12.2), returns the
 * offset of its packet number and writes its Length to `sz[0]`; else -1.
 */
function nextInitial(
  b: Uint8Array,
  p: number,
  end: number,
  version: number,
  params: VersionParams,
  sz: number[],
): number {
  if (end - p < 7 || (b[p] & 0xc0) !== 0xc0 || u32(b, p + 1) !== version) return -1;
  if (params.types[(b[p] >> 4) & 3] !== "initial") return -1;
  let q = p + 5;
  q += 1 + b[q];
  if (q >= end) return -1;
  q += 1 + b[q];
  const token = varint(b, q, end, sz);
  if (sz[0] === 0) return -1;
  q += sz[0] + token;
  const length = varint(b, q, end, sz);
  if (sz[0] === 0 || q + sz[0] + length > end) return -1;
  const pn = q + sz[0];
  sz[0] = length;
  return pn;
}

/** QUIC over UDP: found by its long header on any port, and by the usual HTTP/3 ports. */
export const quicProtocol: AppProtocol<QuicRecord> = {
  name: "quic",
  ports: { udp: [443, 4433, 8443] },
  sniff: sniffQuic,
  decode: decodeQuic,
};
