/** Small byte helpers shared by the decoders. None of them copies the packet. @module */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of `bytes[off, end)`, e.g. for raw record data. `max` caps the bytes shown. */
export function toHex(bytes: Uint8Array, off: number, end: number, max = Infinity): string {
  let s = "";
  const stop = Math.min(end, off + max);
  for (let i = off; i < stop; i++) s += HEX[bytes[i]];
  return s;
}

/** Hex of one byte, two digits. */
export function hexByte(b: number): string {
  return HEX[b & 0xff];
}

/** Latin-1 text of `bytes[off, end)`: every byte maps to one code point, so it cannot fail. */
export function latin1(bytes: Uint8Array, off: number, end: number): string {
  let s = "";
  for (let i = off; i < end; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** Below this length a plain loop beats the call into `TextDecoder` for ASCII text. */
const SHORT_TEXT = 64;

/** UTF-8 text of `bytes[off, end)`, invalid sequences replaced (U+FFFD). */
export function utf8Text(bytes: Uint8Array, off: number, end: number): string {
  if (end - off <= SHORT_TEXT) {
    // Header values, names and banners are short and nearly always ASCII: skip the decoder when they are.
    let s = "";
    for (let i = off; i < end; i++) {
      const b = bytes[i];
      if (b >= 0x80) return utf8.decode(bytes.subarray(off, end));
      s += String.fromCharCode(b);
    }
    return s;
  }
  return utf8.decode(bytes.subarray(off, end));
}

/** Index of the first `\r\n` at or after `off` and before `end`, or -1. */
export function indexOfCrlf(bytes: Uint8Array, off: number, end: number): number {
  for (let i = off; i + 1 < end; i++) if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  return -1;
}

/** Colon-separated lowercase MAC address of the 6 bytes at `off`. */
export function macString(bytes: Uint8Array, off: number): string {
  return HEX[bytes[off]] + ":" + HEX[bytes[off + 1]] + ":" + HEX[bytes[off + 2]] + ":" + HEX[bytes[off + 3]] +
    ":" + HEX[bytes[off + 4]] + ":" + HEX[bytes[off + 5]];
}

/** Dotted-quad IPv4 address of the 4 bytes at `off`. */
export function ipv4String(bytes: Uint8Array, off: number): string {
  return bytes[off] + "." + bytes[off + 1] + "." + bytes[off + 2] + "." + bytes[off + 3];
}

/** IPv6 address of the 16 bytes at `off` in RFC 5952 form (lowercase, longest zero run compressed). */
export function ipv6String(bytes: Uint8Array, off: number): string {
  // Find the longest run of zero words (at least two) without building an array of words.
  let bestStart = -1, bestLen = 0, runStart = -1;
  for (let i = 0; i <= 8; i++) {
    const zero = i < 8 && bytes[off + 2 * i] === 0 && bytes[off + 2 * i + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart > bestLen && i - runStart >= 2) {
        bestStart = runStart;
        bestLen = i - runStart;
      }
      runStart = -1;
    }
  }
  // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted tail, as RFC 5952 section 5 recommends.
  if (bestStart === 0 && bestLen === 5 && bytes[off + 10] === 0xff && bytes[off + 11] === 0xff) {
    return "::ffff:" + ipv4String(bytes, off + 12);
  }
  let s = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? "::" : ":";
      i += bestLen - 1;
      continue;
    }
    s += ((bytes[off + 2 * i] << 8) | bytes[off + 2 * i + 1]).toString(16);
    if (i < 7) s += ":";
  }
  return s;
}
