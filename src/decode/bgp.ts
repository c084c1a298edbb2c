/**
 * BGP-4 decoder (RFC 4271), with capabilities (RFC 5492), 4-octet AS numbers (RFC 6793), multiprotocol
 * reachability (RFC 4760), ADD-PATH NLRI (RFC 7911), extended optional parameters (RFC 9072), route refresh
 * (RFC 2918, 7313) and shutdown communication (RFC 9003).
 *
 * One TCP segment may hold several BGP messages, and a message may continue into the next segment. The
 * decoder is stateless: a segment that does not start with a marker (a continuation) is not claimed, and a
 * message cut short by the segment end is decoded as far as it goes and flagged `truncated` without an
 * anomaly, since that is ordinary TCP segmentation.
 *
 * Two things BGP only settles per session are guessed per message: whether AS_PATH carries 2- or 4-octet AS
 * numbers (the one that parses exactly wins; 4 when both do, unless an AS4_PATH or a 6-byte AGGREGATOR says
 * the speaker is 2-octet), and whether NLRI carry ADD-PATH path ids (used only when the plain reading fails
 * and the path-id reading is clean).
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { ipv4String, ipv6String, toHex, utf8Text } from "./_bytes.ts";

/** Anomaly codes this decoder reports (stable API, never renamed). */
export const BGP_ANOMALIES = {
  /** A message header whose 16-byte marker is not all ones; decoding stops there. */
  badMarker: "bgp_bad_marker",
  /** A message length under 19, under its type's minimum, or not 19 for a KEEPALIVE; decoding stops. */
  badLength: "bgp_bad_length",
  /** UPDATE withdrawn-routes or path-attribute length running past the message. */
  updateOverrun: "bgp_update_overrun",
  /** A path attribute whose header or value runs past the path attributes. */
  attrOverrun: "bgp_attr_overrun",
  /** A prefix longer than its family allows, or running past its field. */
  badPrefix: "bgp_bad_prefix",
  /** OPEN optional parameters or capabilities running past their field. */
  openOverrun: "bgp_open_overrun",
} as const;

/** Most messages decoded from one segment; the rest are only counted in `messages_omitted`. */
export const BGP_MAX_MESSAGES = 32;
/** Most prefixes listed per list (withdrawn, nlri, mp_reach.nlri, mp_unreach.withdrawn). */
export const BGP_MAX_PREFIXES = 64;
/** Most AS numbers listed in an AS path, communities per list, and capabilities per OPEN. */
export const BGP_MAX_ITEMS = 64;
/** Most bytes shown as hex for opaque values (unknown capabilities, notification data, odd next hops). */
export const BGP_MAX_HEX = 32;

const MARKER_LEN = 16;
const HEADER_LEN = 19;
const OFF_LENGTH = 16;
const OFF_TYPE = 18;
/** Minimum message length by type code (RFC 4271 section 4, RFC 2918 section 3). */
const MIN_LEN = [HEADER_LEN, 29, 23, 21, 19, 23];

/** Message type names by type code; index 0 is unused. */
export const BGP_MESSAGE_TYPES: readonly string[] = [
  "unknown_0",
  "open",
  "update",
  "notification",
  "keepalive",
  "route_refresh",
];

/** One capability from an OPEN message. */
export interface BgpCapability {
  code: number;
  name: string;
  /** Multiprotocol (1): address family and subsequent address family. */
  afi?: number;
  safi?: number;
  /** 4-octet AS number capability (65): the speaker's real AS number. */
  as4?: number;
  /** Other capabilities with a value: hex, at most `BGP_MAX_HEX` bytes. */
  value?: string;
}

/**
 * MP_REACH_NLRI (RFC 4760 section 3). `nlri` is decoded for IPv4/IPv6 unicast, multicast, labelled unicast
 * and VPN (prefix only: labels and route distinguisher are not shown).
 */
export interface BgpMpReach {
  afi: number;
  safi: number;
  next_hop?: string;
  next_hop_link_local?: string;
  nlri?: string[];
  nlri_omitted?: number;
  /** Length in bytes of an NLRI field this decoder does not parse (labelled, VPN, EVPN, flowspec...). */
  nlri_bytes?: number;
}

/** MP_UNREACH_NLRI (RFC 4760 section 4). */
export interface BgpMpUnreach {
  afi: number;
  safi: number;
  withdrawn?: string[];
  withdrawn_omitted?: number;
  withdrawn_bytes?: number;
}

/** An AS path: AS_SEQUENCE members flattened in order, each AS_SET as a nested array. */
export type BgpAsPath = (number | number[])[];

/** One decoded BGP message; which fields are present depends on `type`. */
export interface BgpMessage {
  type: string;
  /** Length from the header, header included. */
  len: number;
  /** The message continues past the end of this segment; what is beyond is not decoded. */
  truncated?: boolean;
  // OPEN
  version?: number;
  my_as?: number;
  hold_time?: number;
  bgp_id?: string;
  capabilities?: BgpCapability[];
  /** The real AS number from the 4-octet AS capability (`my_as` is then usually 23456, AS_TRANS). */
  as4?: number;
  // UPDATE
  withdrawn?: string[];
  withdrawn_omitted?: number;
  /** Codes of the path attributes present, in order. */
  path_attributes?: number[];
  origin?: string;
  as_path?: BgpAsPath;
  as4_path?: BgpAsPath;
  next_hop?: string;
  med?: number;
  local_pref?: number;
  atomic_aggregate?: boolean;
  aggregator_as?: number;
  aggregator_id?: string;
  communities?: string[];
  large_communities?: string[];
  mp_reach?: BgpMpReach;
  mp_unreach?: BgpMpUnreach;
  nlri?: string[];
  nlri_omitted?: number;
  /** NLRI were read with RFC 7911 path identifiers (not shown). */
  add_path?: boolean;
  // NOTIFICATION
  error_code?: number;
  error_subcode?: number;
  error_name?: string;
  subcode_name?: string;
  /** RFC 9003 shutdown communication of a Cease notification. */
  shutdown_message?: string;
  /** Other notification data, hex, at most `BGP_MAX_HEX` bytes. */
  data?: string;
  // ROUTE-REFRESH
  afi?: number;
  safi?: number;
  /** RFC 7313: 0 request, 1 begin of route refresh, 2 end of route refresh. */
  subtype?: number;
}

/** The BGP messages of one TCP segment. */
export interface BgpRecord {
  messages: BgpMessage[];
  /** Whole or partial messages after the first `BGP_MAX_MESSAGES`, counted but not decoded. */
  messages_omitted?: number;
  /** The segment ends inside the header of a further message (its marker, as far as visible, is valid). */
  partial_header?: boolean;
}

const CAPABILITY_NAMES: Record<number, string> = {
  1: "multiprotocol",
  2: "route_refresh",
  3: "orf",
  4: "multiple_routes",
  5: "extended_next_hop",
  6: "extended_message",
  7: "bgpsec",
  8: "multiple_labels",
  9: "role",
  64: "graceful_restart",
  65: "as4",
  66: "dynamic_capability_old",
  67: "dynamic_capability",
  68: "multisession",
  69: "add_path",
  70: "enhanced_route_refresh",
  71: "long_lived_graceful_restart",
  72: "routing_policy_distribution",
  73: "fqdn",
  74: "bfd",
  75: "software_version",
  128: "route_refresh_cisco",
  130: "orf_cisco",
  131: "multisession_cisco",
};

/** NOTIFICATION error codes (RFC 4271 section 4.5, RFC 7313, RFC 9687). Index 0 is unused. */
export const BGP_ERROR_NAMES: readonly string[] = [
  "unknown_0",
  "message_header_error",
  "open_message_error",
  "update_message_error",
  "hold_timer_expired",
  "fsm_error",
  "cease",
  "route_refresh_message_error",
  "send_hold_timer_expired",
];

/** Subcode names per error code (RFC 4271 section 6, RFC 4486, RFC 6608, RFC 8203, RFC 9234). */
const SUBCODE_NAMES: Record<number, readonly string[]> = {
  1: ["unspecific", "connection_not_synchronized", "bad_message_length", "bad_message_type"],
  2: [
    "unspecific",
    "unsupported_version_number",
    "bad_peer_as",
    "bad_bgp_identifier",
    "unsupported_optional_parameter",
    "authentication_failure",
    "unacceptable_hold_time",
    "unsupported_capability",
    "deprecated_8",
    "deprecated_9",
    "deprecated_10",
    "role_mismatch",
  ],
  3: [
    "unspecific",
    "malformed_attribute_list",
    "unrecognized_well_known_attribute",
    "missing_well_known_attribute",
    "attribute_flags_error",
    "attribute_length_error",
    "invalid_origin_attribute",
    "as_routing_loop",
    "invalid_next_hop_attribute",
    "optional_attribute_error",
    "invalid_network_field",
    "malformed_as_path",
  ],
  5: [
    "unspecific",
    "unexpected_message_in_opensent",
    "unexpected_message_in_openconfirm",
    "unexpected_message_in_established",
  ],
  6: [
    "unspecific",
    "maximum_prefixes_reached",
    "administrative_shutdown",
    "peer_deconfigured",
    "administrative_reset",
    "connection_rejected",
    "other_configuration_change",
    "connection_collision_resolution",
    "out_of_resources",
    "hard_reset",
    "bfd_down",
  ],
  7: ["reserved", "invalid_message_length"],
};

const ORIGIN_NAMES = ["igp", "egp", "incomplete"];

/** Scratch for widening a prefix's significant bytes to a full address; one decode at a time uses it. */
const scratch = new Uint8Array(16);

function hasMarker(bytes: Uint8Array, p: number): boolean {
  for (let i = 0; i < MARKER_LEN; i++) if (bytes[p + i] !== 0xff) return false;
  return true;
}

function enumName(names: readonly string[], v: number): string {
  return v > 0 && v < names.length ? names[v] : "unknown_" + v;
}

/**
 * Decodes the BGP messages in one TCP payload `bytes[off, end)`. Returns null unless the payload starts with
 * a full marker (a continuation segment is not claimed). Never throws: a later message with a bad marker or
 * length is reported (`bgp_bad_marker`, `bgp_bad_length`) and stops the walk.
 */
export function decodeBgp(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint?: AppHint,
): BgpRecord | null {
  if (end - off < MARKER_LEN || !hasMarker(bytes, off)) return null;
  const rec: BgpRecord = { messages: [] };
  let p = off;
  while (p < end) {
    if (end - p < HEADER_LEN) {
      // The next header is split across segments: only its visible part can be checked.
      for (let i = p; i < end && i < p + MARKER_LEN; i++) {
        if (bytes[i] !== 0xff) {
          issues.report(BGP_ANOMALIES.badMarker, p);
          return rec;
        }
      }
      rec.partial_header = true;
      return rec;
    }
    if (!hasMarker(bytes, p)) {
      issues.report(BGP_ANOMALIES.badMarker, p);
      return rec;
    }
    const mlen = view.getUint16(p + OFF_LENGTH);
    const type = bytes[p + OFF_TYPE];
    const min = type < MIN_LEN.length ? MIN_LEN[type] : HEADER_LEN;
    if (mlen < min || (type === 4 && mlen !== HEADER_LEN)) {
      issues.report(BGP_ANOMALIES.badLength, p + OFF_LENGTH);
      return rec;
    }
    if (rec.messages.length >= BGP_MAX_MESSAGES) {
      rec.messages_omitted = (rec.messages_omitted ?? 0) + 1;
    } else {
      rec.messages.push(decodeMessage(bytes, view, p, mlen, type, end, issues));
    }
    p += mlen;
  }
  return rec;
}

/** One message at `p` of length `mlen` (already checked against its type's minimum); `end` clips it. */
function decodeMessage(
  bytes: Uint8Array,
  view: DataView,
  p: number,
  mlen: number,
  type: number,
  end: number,
  issues: IssueSink,
): BgpMessage {
  const msg: BgpMessage = { type: enumName(BGP_MESSAGE_TYPES, type), len: mlen };
  const mend = p + mlen;
  if (mend > end) msg.truncated = true;
  const cut = mend > end ? end : mend;
  switch (type) {
    case 1:
      decodeOpen(bytes, view, p, mend, cut, msg, issues);
      break;
    case 2:
      decodeUpdate(bytes, view, p, mend, cut, msg, issues);
      break;
    case 3:
      decodeNotification(bytes, p, mend, cut, msg);
      break;
    case 5:
      if (cut - p >= 23) {
        msg.afi = view.getUint16(p + 19);
        msg.subtype = bytes[p + 21];
        msg.safi = bytes[p + 22];
      }
      break;
  }
  return msg;
}

/** OPEN (RFC 4271 section 4.2) with RFC 9072 extended optional parameters. */
function decodeOpen(
  bytes: Uint8Array,
  view: DataView,
  p: number,
  mend: number,
  cut: number,
  msg: BgpMessage,
  issues: IssueSink,
) {
  if (cut - p < 29) return;
  msg.version = bytes[p + 19];
  msg.my_as = view.getUint16(p + 20);
  msg.hold_time = view.getUint16(p + 22);
  msg.bgp_id = ipv4String(bytes, p + 24);
  let q = p + 29;
  let optEnd = q + bytes[p + 28];
  let extended = false;
  // RFC 9072 section 2: a length of 255 followed by a type of 255 announces 2-byte lengths.
  if (bytes[p + 28] === 255 && cut - q >= 3 && bytes[q] === 255) {
    extended = true;
    optEnd = q + 3 + view.getUint16(q + 1);
    q += 3;
  }
  if (optEnd > mend) {
    issues.report(BGP_ANOMALIES.openOverrun, p + 28);
    optEnd = mend;
  }
  const stop = optEnd > cut ? cut : optEnd;
  const hdr = extended ? 3 : 2;
  while (q + hdr <= stop) {
    const ptype = bytes[q];
    const plen = extended ? view.getUint16(q + 1) : bytes[q + 1];
    const v = q + hdr;
    if (v + plen > optEnd) {
      issues.report(BGP_ANOMALIES.openOverrun, q);
      return;
    }
    // Parameter 2 holds capabilities (RFC 5492); parameter 1 (authentication) is deprecated.
    if (ptype === 2) {
      decodeCapabilities(bytes, view, v, v + plen > cut ? cut : v + plen, v + plen, msg, issues);
    }
    q = v + plen;
  }
}

function decodeCapabilities(
  bytes: Uint8Array,
  view: DataView,
  q: number,
  stop: number,
  e: number,
  msg: BgpMessage,
  issues: IssueSink,
) {
  while (q + 2 <= stop) {
    const code = bytes[q];
    const clen = bytes[q + 1];
    const v = q + 2;
    if (v + clen > e) {
      issues.report(BGP_ANOMALIES.openOverrun, q);
      return;
    }
    if (v + clen > stop) return; // cut by the segment end
    const caps = msg.capabilities ??= [];
    if (caps.length < BGP_MAX_ITEMS) {
      const cap: BgpCapability = { code, name: CAPABILITY_NAMES[code] ?? "unknown_" + code };
      if (code === 1 && clen === 4) {
        cap.afi = view.getUint16(v);
        cap.safi = bytes[v + 3];
      } else if (code === 65 && clen === 4) {
        cap.as4 = view.getUint32(v);
        msg.as4 = cap.as4;
      } else if (clen > 0) cap.value = toHex(bytes, v, v + clen, BGP_MAX_HEX);
      caps.push(cap);
    }
    q = v + clen;
  }
}

/** UPDATE (RFC 4271 section 4.3). */
function decodeUpdate(
  bytes: Uint8Array,
  view: DataView,
  p: number,
  mend: number,
  cut: number,
  msg: BgpMessage,
  issues: IssueSink,
) {
  if (cut - p < 21) return;
  const wStart = p + 21;
  const wEnd = wStart + view.getUint16(p + 19);
  if (wEnd + 2 > mend) {
    issues.report(BGP_ANOMALIES.updateOverrun, p + 19);
    return;
  }
  if (wEnd > wStart) {
    const r = prefixes(bytes, 1, NlriKind.Plain, wStart, wEnd, cut, issues);
    msg.withdrawn = r.list;
    if (r.omitted > 0) msg.withdrawn_omitted = r.omitted;
    if (r.addPath) msg.add_path = true;
  }
  if (wEnd + 2 > cut) return;
  const aStart = wEnd + 2;
  const aEnd = aStart + view.getUint16(wEnd);
  if (aEnd > mend) {
    issues.report(BGP_ANOMALIES.updateOverrun, wEnd);
    return;
  }
  decodeAttributes(bytes, view, aStart, aEnd, cut, msg, issues);
  if (mend > aEnd && cut > aEnd) {
    const r = prefixes(bytes, 1, NlriKind.Plain, aEnd, mend, cut, issues);
    msg.nlri = r.list;
    if (r.omitted > 0) msg.nlri_omitted = r.omitted;
    if (r.addPath) msg.add_path = true;
  }
}

interface PrefixList {
  list: string[];
  omitted: number;
  addPath: boolean;
}

/**
 * Whether `[p, e)` reads exactly as a list of prefixes of at most `maxBits`, each optionally led by a 4-byte
 * path id, with the bits past each prefix length clear (as senders set them).
 */
function prefixesFit(bytes: Uint8Array, p: number, e: number, maxBits: number, addPath: boolean): boolean {
  while (p < e) {
    if (addPath) p += 4;
    if (p >= e) return false;
    const bits = bytes[p];
    if (bits > maxBits) return false;
    const n = (bits + 7) >> 3;
    p += 1 + n;
    if (p > e) return false;
    if ((bits & 7) !== 0 && (bytes[p - 1] & (0xff >> (bits & 7))) !== 0) return false;
  }
  return true;
}

/** How the NLRI of an AFI/SAFI are laid out. */
const enum NlriKind {
  /** Plain prefixes: unicast or multicast (SAFI 1, 2). */
  Plain,
  /** A label stack before the prefix (SAFI 4, RFC 8277). */
  Labelled,
  /** A label stack and an 8-byte route distinguisher before the prefix (SAFI 128, RFC 4364). */
  Vpn,
}

/** The NLRI layout of `afi`/`safi`, or -1 for families this decoder does not parse (EVPN, flowspec...). */
function nlriKind(afi: number, safi: number): NlriKind | -1 {
  if (afi !== 1 && afi !== 2) return -1;
  if (safi === 1 || safi === 2) return NlriKind.Plain;
  if (safi === 4) return NlriKind.Labelled;
  if (safi === 128) return NlriKind.Vpn;
  return -1;
}

/** Most labels read from one label stack before giving up on finding its bottom. */
const MAX_LABELS = 8;

/**
 * The prefixes in `[p, e)` for `afi` 1 (IPv4) or 2 (IPv6) laid out as `kind`, read no further than `cut`.
 * Labels and route distinguishers are skipped: only the prefix is listed. A structural fault inside the
 * message reports `bgp_bad_prefix`; running into `cut` (segment end) stops silently.
 */
function prefixes(
  bytes: Uint8Array,
  afi: number,
  kind: NlriKind,
  p: number,
  e: number,
  cut: number,
  issues: IssueSink,
): PrefixList {
  const maxBits = afi === 2 ? 128 : 32;
  const addrLen = afi === 2 ? 16 : 4;
  const stop = e > cut ? cut : e;
  // ADD-PATH only when the plain reading fails and the path-id reading is clean (decided on whole fields).
  const addPath = kind === NlriKind.Plain && e <= cut && !prefixesFit(bytes, p, e, maxBits, false) &&
    prefixesFit(bytes, p, e, maxBits, true);
  const out: PrefixList = { list: [], omitted: 0, addPath };
  while (p < stop) {
    const at = p;
    if (addPath) p += 4;
    if (p >= stop) break;
    let bits = bytes[p++];
    if (kind !== NlriKind.Plain) {
      // Labels until the bottom-of-stack bit, or the 0x800000 / 0 "compatibility" value of a withdrawal.
      for (let n = 0;; n++) {
        if (bits < 24 || p + 3 > e || n === MAX_LABELS) {
          issues.report(BGP_ANOMALIES.badPrefix, at);
          return out;
        }
        if (p + 3 > stop) return out;
        const b0 = bytes[p], b1 = bytes[p + 1], b2 = bytes[p + 2];
        p += 3;
        bits -= 24;
        if ((b2 & 1) !== 0 || (b1 === 0 && b2 === 0 && (b0 === 0x80 || b0 === 0))) break;
      }
      if (kind === NlriKind.Vpn) {
        if (bits < 64 || p + 8 > e) {
          issues.report(BGP_ANOMALIES.badPrefix, at);
          return out;
        }
        p += 8;
        bits -= 64;
      }
    }
    const n = (bits + 7) >> 3;
    if (bits > maxBits || p + n > e) {
      issues.report(BGP_ANOMALIES.badPrefix, at);
      break;
    }
    if (p + n > stop) break;
    if (out.list.length < BGP_MAX_PREFIXES) {
      scratch.fill(0, 0, addrLen);
      for (let i = 0; i < n; i++) scratch[i] = bytes[p + i];
      out.list.push((afi === 2 ? ipv6String(scratch, 0) : ipv4String(scratch, 0)) + "/" + bits);
    } else out.omitted++;
    p += n;
  }
  return out;
}

/** Whether an AS_PATH value `[p, e)` parses exactly into segments with `asLen`-byte AS numbers. */
function asPathFits(bytes: Uint8Array, p: number, e: number, asLen: number): boolean {
  while (p < e) {
    if (p + 2 > e) return false;
    const t = bytes[p];
    if (t < 1 || t > 4) return false;
    p += 2 + bytes[p + 1] * asLen;
  }
  return p === e;
}

function asPath(bytes: Uint8Array, view: DataView, p: number, e: number, asLen: number): BgpAsPath {
  const path: BgpAsPath = [];
  let count = 0;
  while (p + 2 <= e && count < BGP_MAX_ITEMS) {
    const t = bytes[p];
    const n = bytes[p + 1];
    p += 2;
    // AS_SET (1) and AS_CONFED_SET (4) are unordered: kept together as one nested list.
    const set: number[] | null = t === 1 || t === 4 ? [] : null;
    for (let i = 0; i < n && p + asLen <= e && count < BGP_MAX_ITEMS; i++, p += asLen, count++) {
      const as = asLen === 4 ? view.getUint32(p) : view.getUint16(p);
      if (set) set.push(as);
      else path.push(as);
    }
    if (set) path.push(set);
  }
  return path;
}

/** Path attributes `[p, e)` (RFC 4271 section 4.3, RFC 4760, RFC 6793, RFC 8092); `cut` is the segment end. */
function decodeAttributes(
  bytes: Uint8Array,
  view: DataView,
  p: number,
  e: number,
  cut: number,
  msg: BgpMessage,
  issues: IssueSink,
) {
  const stop = e > cut ? cut : e;
  // First pass (no allocation): hints on the AS number size, which the AS_PATH value alone can leave open.
  let asPathAt = -1, asPathEnd = -1, twoOctetHint = false;
  for (let q = p; q + 3 <= stop;) {
    const ext = (bytes[q] & 0x10) !== 0;
    if (ext && q + 4 > stop) break;
    const alen = ext ? view.getUint16(q + 2) : bytes[q + 2];
    const v = q + (ext ? 4 : 3);
    if (v + alen > stop) break;
    const t = bytes[q + 1];
    if (t === 2) {
      asPathAt = v;
      asPathEnd = v + alen;
    } else if (t === 17 || (t === 7 && alen === 6)) twoOctetHint = true;
    q = v + alen;
  }
  let asLen = 4;
  if (asPathAt >= 0) {
    const fits4 = asPathFits(bytes, asPathAt, asPathEnd, 4);
    const fits2 = asPathFits(bytes, asPathAt, asPathEnd, 2);
    if (fits2 && (!fits4 || twoOctetHint)) asLen = 2;
  }
  const codes: number[] = [];
  while (p < stop) {
    if (p + 3 > e || ((bytes[p] & 0x10) !== 0 && p + 4 > e)) {
      issues.report(BGP_ANOMALIES.attrOverrun, p);
      return;
    }
    const ext = (bytes[p] & 0x10) !== 0;
    const hdr = ext ? 4 : 3;
    if (p + hdr > stop) return;
    const t = bytes[p + 1];
    const alen = ext ? view.getUint16(p + 2) : bytes[p + 2];
    const v = p + hdr;
    const ve = v + alen;
    if (ve > e) {
      issues.report(BGP_ANOMALIES.attrOverrun, p);
      return;
    }
    if (ve > stop) return; // cut by the segment end
    if (codes.length === 0) msg.path_attributes = codes;
    if (codes.length < BGP_MAX_ITEMS) codes.push(t);
    switch (t) {
      case 1:
        if (alen === 1) msg.origin = bytes[v] < 3 ? ORIGIN_NAMES[bytes[v]] : "unknown_" + bytes[v];
        break;
      case 2:
        msg.as_path = asPath(bytes, view, v, ve, asLen);
        break;
      case 3:
        if (alen === 4) msg.next_hop = ipv4String(bytes, v);
        break;
      case 4:
        if (alen === 4) msg.med = view.getUint32(v);
        break;
      case 5:
        if (alen === 4) msg.local_pref = view.getUint32(v);
        break;
      case 6:
        msg.atomic_aggregate = true;
        break;
      case 7:
        if (alen === 6) {
          msg.aggregator_as = view.getUint16(v);
          msg.aggregator_id = ipv4String(bytes, v + 2);
        } else if (alen === 8) {
          msg.aggregator_as = view.getUint32(v);
          msg.aggregator_id = ipv4String(bytes, v + 4);
        }
        break;
      case 8: {
        const list: string[] = [];
        for (let q = v; q + 4 <= ve && list.length < BGP_MAX_ITEMS; q += 4) {
          list.push(view.getUint16(q) + ":" + view.getUint16(q + 2));
        }
        msg.communities = list;
        break;
      }
      // A repeated MP_REACH / MP_UNREACH (malformed, RFC 7606 section 3 g) does not replace the first.
      case 14:
        if (!msg.mp_reach) msg.mp_reach = mpReach(bytes, view, v, ve, issues);
        break;
      case 15:
        if (!msg.mp_unreach) msg.mp_unreach = mpUnreach(bytes, view, v, ve, issues);
        break;
      case 17:
        msg.as4_path = asPath(bytes, view, v, ve, 4);
        break;
      case 32: {
        const list: string[] = [];
        for (let q = v; q + 12 <= ve && list.length < BGP_MAX_ITEMS; q += 12) {
          list.push(view.getUint32(q) + ":" + view.getUint32(q + 4) + ":" + view.getUint32(q + 8));
        }
        msg.large_communities = list;
        break;
      }
    }
    p = ve;
  }
}

function mpReach(
  bytes: Uint8Array,
  view: DataView,
  v: number,
  ve: number,
  issues: IssueSink,
): BgpMpReach | undefined {
  if (ve - v < 5) return undefined;
  const r: BgpMpReach = { afi: view.getUint16(v), safi: bytes[v + 2] };
  const nhLen = bytes[v + 3];
  const nh = v + 4;
  if (nh + nhLen + 1 > ve) {
    issues.report(BGP_ANOMALIES.attrOverrun, v + 3);
    return r;
  }
  switch (nhLen) {
    case 4:
      r.next_hop = ipv4String(bytes, nh);
      break;
    case 12: // route distinguisher (8) + IPv4, RFC 4364
      r.next_hop = ipv4String(bytes, nh + 8);
      break;
    case 16:
      r.next_hop = ipv6String(bytes, nh);
      break;
    case 24: // route distinguisher + IPv6, RFC 4659
      r.next_hop = ipv6String(bytes, nh + 8);
      break;
    case 32: // global + link-local, RFC 2545 section 3
      r.next_hop = ipv6String(bytes, nh);
      r.next_hop_link_local = ipv6String(bytes, nh + 16);
      break;
    case 48:
      r.next_hop = ipv6String(bytes, nh + 8);
      r.next_hop_link_local = ipv6String(bytes, nh + 32);
      break;
    default:
      if (nhLen > 0) r.next_hop = toHex(bytes, nh, nh + nhLen, BGP_MAX_HEX);
  }
  // One reserved byte (formerly the SNPA count) sits between the next hop and the NLRI.
  const n = nh + nhLen + 1;
  if (ve > n) {
    const kind = nlriKind(r.afi, r.safi);
    if (kind >= 0) {
      const list = prefixes(bytes, r.afi, kind as NlriKind, n, ve, ve, issues);
      r.nlri = list.list;
      if (list.omitted > 0) r.nlri_omitted = list.omitted;
    } else r.nlri_bytes = ve - n;
  }
  return r;
}

function mpUnreach(
  bytes: Uint8Array,
  view: DataView,
  v: number,
  ve: number,
  issues: IssueSink,
): BgpMpUnreach | undefined {
  if (ve - v < 3) return undefined;
  const r: BgpMpUnreach = { afi: view.getUint16(v), safi: bytes[v + 2] };
  const n = v + 3;
  if (ve > n) {
    const kind = nlriKind(r.afi, r.safi);
    if (kind >= 0) {
      const list = prefixes(bytes, r.afi, kind as NlriKind, n, ve, ve, issues);
      r.withdrawn = list.list;
      if (list.omitted > 0) r.withdrawn_omitted = list.omitted;
    } else r.withdrawn_bytes = ve - n;
  }
  return r;
}

/** NOTIFICATION (RFC 4271 section 4.5), with the RFC 9003 shutdown communication of a Cease. */
function decodeNotification(bytes: Uint8Array, p: number, mend: number, cut: number, msg: BgpMessage) {
  if (cut - p < 21) return;
  const code = bytes[p + 19];
  const sub = bytes[p + 20];
  msg.error_code = code;
  msg.error_subcode = sub;
  msg.error_name = enumName(BGP_ERROR_NAMES, code);
  const subs = SUBCODE_NAMES[code];
  if (subs) msg.subcode_name = sub < subs.length ? subs[sub] : "unknown_" + sub;
  const d = p + 21;
  if (mend <= d) return;
  // Administrative shutdown (2) and reset (4) may carry a length-prefixed UTF-8 message.
  let q = d;
  if (code === 6 && (sub === 2 || sub === 4) && cut > d && d + 1 + bytes[d] <= cut) {
    msg.shutdown_message = utf8Text(bytes, d + 1, d + 1 + bytes[d]);
    q = d + 1 + bytes[d];
  }
  if (cut > q) msg.data = toHex(bytes, q, cut, BGP_MAX_HEX);
}

/** BGP on TCP port 179; the sniffer recognises a message header (marker, sane length, known type). */
export const bgpProtocol: AppProtocol<BgpRecord> = {
  name: "bgp",
  ports: { tcp: [179] },
  sniff: (bytes: Uint8Array, off: number, end: number, hint: AppHint) => {
    if (hint.transport !== "tcp" || end - off < HEADER_LEN || !hasMarker(bytes, off)) return false;
    const mlen = (bytes[off + OFF_LENGTH] << 8) | bytes[off + OFF_LENGTH + 1];
    const type = bytes[off + OFF_TYPE];
    return type >= 1 && type <= 5 && mlen >= MIN_LEN[type];
  },
  decode: decodeBgp,
};
