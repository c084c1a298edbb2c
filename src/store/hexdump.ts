/**
 * A bounded hex/ASCII dump of packet bytes, in the layout of `tshark -x` and `hexdump -C`: an offset,
 * 16 bytes in hex with a gap after the eighth, and the printable ASCII of the same bytes.
 *
 * @module
 */

/** Bytes dumped by default: enough for the headers of any packet and the start of its payload. */
export const DEFAULT_HEXDUMP_MAX_BYTES = 4096;

/** Options of {@linkcode hexdump}. */
export interface HexdumpOptions {
  /** At most this many bytes are dumped (default {@linkcode DEFAULT_HEXDUMP_MAX_BYTES}). */
  maxBytes?: number;
}

/** A dump and what it left out. */
export interface Hexdump {
  /** The dump, one line per 16 bytes, each line ending in `\n`; a last line says what was left out. */
  text: string;
  /** Bytes shown. */
  shown: number;
  /** Bytes in the range asked for. */
  total: number;
  /** Bytes left out (`total - shown`), present only when some were. */
  omitted?: number;
}

const HEX = "0123456789abcdef";

/**
 * Dumps `bytes[start, end)`, offsets counted from `start`. At most `maxBytes` bytes are shown; when the
 * range is longer, the dump ends with a line `... N more bytes not shown` and `omitted` is set.
 *
 * @example
 * ```ts
 * hexdump(new TextEncoder().encode("GET / HTTP/1.1\r\n")).text;
 * // "0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..\n"
 * ```
 */
export function hexdump(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
  options: HexdumpOptions = {},
): Hexdump {
  const maxBytes = options.maxBytes ?? DEFAULT_HEXDUMP_MAX_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  }
  if (
    !(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= bytes.length)
  ) {
    throw new RangeError(`range [${start}, ${end}) is outside the ${bytes.length}-byte buffer`);
  }
  const total = end - start;
  const shown = Math.min(total, maxBytes);
  // Offsets of 4 hex digits, as tshark prints them, unless the dump is longer than 64 KiB.
  const width = shown > 0x10000 ? (shown - 1).toString(16).length : 4;
  const lines: string[] = [];
  for (let line = 0; line < shown; line += 16) {
    let hex = "", ascii = "";
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += " ";
      if (line + i < shown) {
        const b = bytes[start + line + i];
        hex += HEX[b >> 4] + HEX[b & 15] + " ";
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      } else {
        hex += "   ";
      }
    }
    lines.push(`${line.toString(16).padStart(width, "0")}  ${hex} ${ascii}\n`);
  }
  const out: Hexdump = { text: lines.join(""), shown, total };
  if (shown < total) {
    out.omitted = total - shown;
    out.text += `... ${total - shown} more bytes not shown (${shown} of ${total})\n`;
  }
  return out;
}
