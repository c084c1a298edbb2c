/**
 * SSH identification strings and cleartext binary packet headers (RFC 4253 sections 4.2 and 6).
 *
 * A segment that starts with `SSH-` gives the banner, split into protocol version, software version and
 * comments. Any other segment on port 22 gives `{message_code, packet_len}` only when it starts with a
 * plausible *unencrypted* binary packet (the key exchange before NEWKEYS: KEXINIT = 20, KEXDH_INIT = 30,
 * ...), else `null`: after NEWKEYS the header is encrypted and reading it would only produce noise. The
 * plausibility test (`sshPacketAt`) is strict on purpose, so that encrypted traffic, the bulk of port 22,
 * is almost never mistaken for a packet:
 * - `packet_length` in 12..`SSH_MAX_PACKET` and `packet_length + 4` a multiple of 8 (RFC 4253 section 6:
 *   the whole packet is a multiple of the cipher block size, at least 8, and the "none" cipher of the
 *   first key exchange has block size 8). This also rejects AES-GCM and encrypt-then-MAC packets, whose
 *   length is sent in clear but excludes itself from the block multiple;
 * - `padding_length` at least 4 and leaving room for a 1-byte payload;
 * - the message code one that is sent in clear: 1-4 (DISCONNECT, IGNORE, UNIMPLEMENTED, DEBUG), 20-21
 *   (KEXINIT, NEWKEYS) or 30-49 (key-exchange specific).
 * Wireshark keeps per-connection state instead, so it also labels some packets this test refuses (such as
 * a KEXINIT whose length breaks the multiple-of-8 rule), and labels pre-banner text as packets. SSH-1
 * packets (after an `SSH-1.5` banner) have another layout and are not decoded.
 *
 * @module
 */

import type { AppHint, AppProtocol, IssueSink } from "./app.ts";
import { utf8Text } from "./_bytes.ts";

/** An SSH identification string and/or the header of the cleartext packet at the segment start. */
export interface SshRecord {
  /** The identification line without CR LF, e.g. `SSH-2.0-OpenSSH_9.6p1 Ubuntu-3`. */
  banner?: string;
  /** `2.0`, `1.99` (a server that also speaks SSH-1) or `1.5`. */
  proto_version?: string;
  /** Software version, e.g. `OpenSSH_9.6p1`. */
  software?: string;
  /** Text after the first space, e.g. `Ubuntu-3`. */
  comments?: string;
  /** Message code of the cleartext packet (at the segment start, or right after the banner). */
  message_code?: number;
  /** Its `packet_length` field (which excludes itself and the MAC). */
  packet_len?: number;
}

/**
 * Largest `packet_length` taken as plausible. RFC 4253 section 6.1 only requires 35000, but real key
 * exchange packets can be longer (post-quantum KEX, many algorithms); OpenSSH accepts up to 256 KiB.
 */
export const SSH_MAX_PACKET = 256 * 1024;
/** RFC 4253 section 4.2: the identification string is at most 255 bytes including CR LF. */
export const SSH_MAX_BANNER = 255;

/** Message codes sent before keys are in use, so a clear header can carry them. */
const CLEAR_CODE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const c of [1, 2, 3, 4, 20, 21]) t[c] = 1;
  for (let c = 30; c <= 49; c++) t[c] = 1;
  return t;
})();

/** Cheap content test: `SSH-` and a version digit at the start of a TCP payload. Allocates nothing. */
export function sniffSsh(bytes: Uint8Array, off: number, end: number, hint: AppHint): boolean {
  return hint.transport === "tcp" && end - off >= 5 && bytes[off] === 0x53 && bytes[off + 1] === 0x53 &&
    bytes[off + 2] === 0x48 && bytes[off + 3] === 0x2d && bytes[off + 4] >= 0x30 && bytes[off + 4] <= 0x39;
}

/**
 * The `packet_length` of a plausible cleartext binary packet at `p` (see the module comment), or -1. Only
 * the 6-byte header needs to be in `[p, end)`; the packet may continue in later segments.
 */
export function sshPacketAt(view: DataView, p: number, end: number): number {
  if (end - p < 6) return -1;
  const len = view.getUint32(p);
  if (len < 12 || len > SSH_MAX_PACKET || (len + 4) % 8 !== 0) return -1;
  const pad = view.getUint8(p + 4);
  if (pad < 4 || pad > len - 2) return -1;
  return CLEAR_CODE[view.getUint8(p + 5)] === 1 ? len : -1;
}

/**
 * Decodes the identification string, or the cleartext packet header, at the start of `bytes[off, end)`.
 * Issues: `ssh_truncated_banner` (no line end in the segment), `ssh_long_banner` (over 255 bytes),
 * `ssh_bad_banner` (no `-` after the protocol version).
 */
export function decodeSsh(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  _hint: AppHint,
): SshRecord | null {
  const banner = end - off >= 4 && bytes[off] === 0x53 && bytes[off + 1] === 0x53 &&
    bytes[off + 2] === 0x48 &&
    bytes[off + 3] === 0x2d;
  if (!banner) {
    const len = sshPacketAt(view, off, end);
    return len < 0 ? null : { message_code: bytes[off + 5], packet_len: len };
  }
  // The line ends at LF (CR LF per the RFC; some servers send a bare LF, which implementations accept).
  const lim = Math.min(end, off + SSH_MAX_BANNER);
  let lf = off;
  while (lf < lim && bytes[lf] !== 0x0a) lf++;
  let lineE = lf;
  if (lf >= lim) {
    issues.report(lim < end ? "ssh_long_banner" : "ssh_truncated_banner", lim);
  } else if (lf > off && bytes[lf - 1] === 0x0d) {
    lineE = lf - 1;
  }
  const rec: SshRecord = { banner: utf8Text(bytes, off, lineE) };
  // SSH-protoversion-softwareversion SP comments
  let dash = off + 4;
  while (dash < lineE && bytes[dash] !== 0x2d) dash++;
  if (dash >= lineE) {
    issues.report("ssh_bad_banner", off);
    if (lineE > off + 4) rec.proto_version = utf8Text(bytes, off + 4, lineE);
  } else {
    rec.proto_version = utf8Text(bytes, off + 4, dash);
    let sp = dash + 1;
    while (sp < lineE && bytes[sp] !== 0x20) sp++;
    rec.software = utf8Text(bytes, dash + 1, sp);
    if (sp + 1 < lineE) rec.comments = utf8Text(bytes, sp + 1, lineE);
  }
  // Some implementations send their KEXINIT in the same segment as the banner.
  if (lf < lim) {
    const len = sshPacketAt(view, lf + 1, end);
    if (len >= 0) {
      rec.message_code = bytes[lf + 6];
      rec.packet_len = len;
    }
  }
  return rec;
}

/** SSH for the decoder registry: TCP port 22 plus a banner sniffer for any port. */
export const sshProtocol: AppProtocol<SshRecord> = {
  name: "ssh",
  ports: { tcp: [22] },
  sniff: sniffSsh,
  decode: decodeSsh,
};
