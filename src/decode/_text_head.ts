/**
 * Scanning of the text head shared by HTTP/1.x and SIP (RFC 9112 section 2, RFC 3261 section 7): a start
 * line, header fields, and the empty line that ends them. Nothing here allocates until a caller asks for a
 * string: lines and fields are reported as absolute offsets into the packet bytes.
 *
 * Line ends are LF with an optional CR before it, as both RFCs let a recipient accept a bare LF.
 *
 * @module
 */

import { utf8Text } from "./_bytes.ts";

/** ASCII codes used by the scanners. */
export const CR = 0x0d;
export const LF = 0x0a;
export const SP = 0x20;
export const HT = 0x09;
export const COLON = 0x3a;

/**
 * `TCHAR[b]` is 1 when `b` may appear in an RFC 9110 token (`tchar`): the characters of methods and header
 * field names.
 */
export const TCHAR: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let b = 0x30; b <= 0x39; b++) t[b] = 1;
  for (let b = 0x41; b <= 0x5a; b++) t[b] = 1;
  for (let b = 0x61; b <= 0x7a; b++) t[b] = 1;
  for (const c of "!#$%&'*+-.^_`|~") t[c.charCodeAt(0)] = 1;
  return t;
})();

/** Index of the first LF in `[from, end)`, or -1. */
export function indexOfLf(bytes: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end; i++) if (bytes[i] === LF) return i;
  return -1;
}

/** End of a line's content: `lf` minus a CR just before it (never before `start`). */
export function contentEnd(bytes: Uint8Array, start: number, lf: number): number {
  return lf > start && bytes[lf - 1] === CR ? lf - 1 : lf;
}

/** Whether `bytes[s, e)` equals `word` (ASCII, exact case). `word` is a precomputed byte array. */
export function bytesEqual(bytes: Uint8Array, s: number, e: number, word: Uint8Array): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[s + i] !== word[i]) return false;
  return true;
}

/** Whether `bytes[s, e)` equals `lower` ignoring ASCII case. `lower` holds lowercase letters only. */
export function bytesEqualNoCase(bytes: Uint8Array, s: number, e: number, lower: Uint8Array): boolean {
  if (e - s !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let b = bytes[s + i];
    if (b >= 0x41 && b <= 0x5a) b |= 0x20;
    if (b !== lower[i]) return false;
  }
  return true;
}

/** Whether `bytes[s, s + word.length)` starts with `word` and lies before `end`. */
export function startsWith(bytes: Uint8Array, s: number, end: number, word: Uint8Array): boolean {
  if (end - s < word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[s + i] !== word[i]) return false;
  return true;
}

/** The bytes of an ASCII string, for the comparison helpers above. */
export function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/**
 * Decimal value of `bytes[s, e)` when it is ASCII digits with at most 15 after any leading zeros, else -1
 * (so never an unsafe integer).
 */
export function decimal(bytes: Uint8Array, s: number, e: number): number {
  if (e <= s) return -1;
  while (e - s > 1 && bytes[s] === 0x30) s++;
  if (e - s > 15) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = bytes[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Text of `bytes[s, e)` as UTF-8 (invalid sequences become U+FFFD), cut to at most `max` bytes. A field
 * value folded over several lines (obs-fold: CRLF then SP/HT) is joined with one space, as RFC 9112 section
 * 5.2 tells a recipient to do.
 */
export function fieldText(bytes: Uint8Array, s: number, e: number, max: number): string {
  const stop = e - s > max ? s + max : e;
  let lf = -1;
  for (let i = s; i < stop; i++) {
    if (bytes[i] === LF) {
      lf = i;
      break;
    }
  }
  if (lf < 0) return utf8Text(bytes, s, stop);
  // Rare path: rebuild the value line by line.
  let out = "";
  let from = s;
  while (from < stop) {
    const nl = indexOfLf(bytes, from, stop);
    if (nl < 0) {
      out += utf8Text(bytes, from, stop);
      break;
    }
    out += utf8Text(bytes, from, contentEnd(bytes, from, nl)) + " ";
    from = nl + 1;
    while (from < stop && (bytes[from] === SP || bytes[from] === HT)) from++;
  }
  return out;
}

/** How a header scan ended. */
export type HeadEnd =
  /** The empty line was found: `bodyOff` is the first byte after it. */
  | "complete"
  /** The bytes ran out before the empty line (the head continues in a later segment). */
  | "truncated"
  /** A line that is neither a field nor a fold stopped the scan at `stopOff`. */
  | "bad_line";

/**
 * Called for each header field with absolute offsets: the name `[nameS, nameE)` and the value
 * `[valS, valE)`, leading and trailing whitespace trimmed. A folded value spans lines (see `fieldText`).
 */
export type FieldVisitor = (nameS: number, nameE: number, valS: number, valE: number) => void;

/** Options of `scanFields`. */
export interface ScanOptions {
  /** Allow SP/HT between the field name and the colon (SIP's HCOLON allows it; RFC 9112 forbids it). */
  readonly wsBeforeColon: boolean;
}

/** Where `scanFields` stopped. Reused by the caller; the scanner only writes it. */
export class HeadScan {
  end: HeadEnd = "complete";
  /** First body byte (after the empty line) when `end` is `"complete"`, else -1. */
  bodyOff = -1;
  /** Offset of the offending line when `end` is `"bad_line"`, or of the cut-off line when `"truncated"`. */
  stopOff = -1;
  /** Number of fields reported. */
  fields = 0;
}

/**
 * Scans header fields from `pos` (the first byte after the start line) to the empty line or `end`.
 * A field line is `token ":" value`; a line starting with SP/HT continues the previous value. A final line
 * that is cut off by `end` is still reported when its name and colon are complete, since its value is as
 * much as this segment can tell. Never reads outside `[pos, end)`.
 */
export function scanFields(
  bytes: Uint8Array,
  pos: number,
  end: number,
  opts: ScanOptions,
  visit: FieldVisitor,
  out: HeadScan,
): HeadScan {
  out.end = "truncated";
  out.bodyOff = -1;
  out.stopOff = -1;
  out.fields = 0;
  // The field being gathered (its value may continue on folded lines); -1 when none.
  let nameS = -1, nameE = -1, valS = -1, valE = -1;
  while (pos < end) {
    const lf = indexOfLf(bytes, pos, end);
    const lineEnd = lf < 0 ? end : contentEnd(bytes, pos, lf);
    const next = lf < 0 ? end : lf + 1;
    if (lineEnd === pos && lf >= 0) {
      if (nameS >= 0) {
        visit(nameS, nameE, valS, valE);
        out.fields++;
      }
      out.end = "complete";
      out.bodyOff = next;
      return out;
    }
    const first = bytes[pos];
    if ((first === SP || first === HT) && nameS >= 0) {
      // obs-fold: the value goes on; trailing whitespace of this line is trimmed below.
      let e = lineEnd;
      while (e > pos && (bytes[e - 1] === SP || bytes[e - 1] === HT)) e--;
      if (e > pos) {
        if (valS === valE) {
          let s = pos;
          while (s < e && (bytes[s] === SP || bytes[s] === HT)) s++;
          valS = s;
        }
        valE = e;
      }
      if (lf < 0) out.stopOff = pos;
      pos = next;
      continue;
    }
    // A new field line: flush the previous one.
    if (nameS >= 0) {
      visit(nameS, nameE, valS, valE);
      out.fields++;
      nameS = -1;
    }
    let i = pos;
    while (i < lineEnd && TCHAR[bytes[i]] === 1) i++;
    const tokE = i;
    if (opts.wsBeforeColon) { while (i < lineEnd && (bytes[i] === SP || bytes[i] === HT)) i++; }
    if (i >= lineEnd || bytes[i] !== COLON || tokE === pos) {
      if (lf < 0) {
        // Cut off before its colon: the rest of the field is in the next segment.
        out.stopOff = pos;
        return out;
      }
      out.end = "bad_line";
      out.stopOff = pos;
      return out;
    }
    let s = i + 1;
    while (s < lineEnd && (bytes[s] === SP || bytes[s] === HT)) s++;
    let e = lineEnd;
    while (e > s && (bytes[e - 1] === SP || bytes[e - 1] === HT)) e--;
    nameS = pos;
    nameE = tokE;
    valS = s;
    valE = e;
    if (lf < 0) out.stopOff = pos;
    pos = next;
  }
  if (nameS >= 0) {
    visit(nameS, nameE, valS, valE);
    out.fields++;
  }
  return out;
}
