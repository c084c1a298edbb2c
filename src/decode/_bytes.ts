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

/** UTF-8 text of `bytes[off, end)`, invalid sequences replaced (U+FFFD). */
export function utf8Text(bytes: Uint8Array, off: number, end: number): string {
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
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[off + 2 * i] << 8) | bytes[off + 2 * i + 1]);
  // IPv4-mapped (::ffff:a.b.c.d) keeps the dotted tail, as RFC 5952 section 5 recommends.
  if (
    words[0] === 0 && words[1] === 0 && words[2] === 0 && words[3] === 0 && words[4] === 0 &&
    words[5] === 0xffff
  ) {
    return "::ffff:" + ipv4String(bytes, off + 12);
  }
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number, b: number) => words.slice(a, b).map((w) => w.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return hex(0, bestStart) + "::" + hex(bestStart + bestLen, 8);
}
