/**
 * Packet timestamps at the file's own precision. A timestamp is whole seconds plus an integer fraction of
 * `10^-digits` seconds, so nanosecond captures keep every digit (a float64 of epoch nanoseconds would not).
 *
 * @module
 */

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** `10^digits` for 0..9. */
export function pow10(digits: number): number {
  return POW10[digits];
}

/** Epoch seconds as a decimal string with exactly `digits` fraction digits, e.g. `1700000000.000123`. */
export function formatTs(sec: number, frac: number, digits: number): string {
  if (digits === 0) return String(sec);
  return sec + "." + String(frac).padStart(digits, "0");
}

/** The timestamp as a float of epoch seconds, for arithmetic where microsecond rounding is harmless. */
export function tsToNumber(sec: number, frac: number, digits: number): number {
  return sec + frac / POW10[digits];
}

/**
 * Splits a 64-bit count of `10^-digits` second units, given as its high and low 32-bit words, into
 * whole seconds and a fraction without losing precision (the count exceeds 2^53 for nanoseconds).
 * Long division in 16-bit steps keeps every intermediate below 2^53. Requires `digits <= 9`.
 * Writes the result into `out[0]` (seconds) and `out[1]` (fraction).
 */
export function splitUnits(high: number, low: number, digits: number, out: number[]): void {
  const d = POW10[digits];
  const hq = Math.floor(high / d);
  let rem = high - hq * d;
  rem = rem * 65536 + (low >>> 16);
  const q1 = Math.floor(rem / d);
  rem = rem - q1 * d;
  rem = rem * 65536 + (low & 0xffff);
  const q2 = Math.floor(rem / d);
  rem = rem - q2 * d;
  out[0] = hq * 4294967296 + q1 * 65536 + q2;
  out[1] = rem;
}
