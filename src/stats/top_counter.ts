/**
 * Bounded counting of values that grow with the input (host names, user agents, fingerprints...): the
 * building block of every top list in `netwatch analyze`.
 *
 * @module
 */

/** Entries in each top list unless a caller asks for more. */
export const DEFAULT_TOP = 10;

/**
 * Distinct values tracked per table by default. Trade-off: a table holds at most this many strings (a few
 * hundred KiB), so a flood of random names (a DGA, a DNS tunnel) cannot grow memory; values first seen
 * after the table filled are not tracked, only counted in `dropped`, so a heavy hitter that appears late
 * in such a flood can be missed.
 */
export const DEFAULT_MAX_VALUES = 5_000;

/** One row of a top list. */
export interface TopItem {
  value: string;
  count: number;
}

/**
 * A bounded top list. `left_out` counts the distinct tracked values not listed; `dropped` counts the
 * occurrences of values never tracked because their table was full (their number of distinct values is
 * unknown).
 */
export interface TopList<T = TopItem> {
  items: T[];
  left_out: number;
  dropped: number;
}

/** Counts occurrences of string values, tracking at most `cap` distinct ones (first come, first kept). */
export class TopCounter {
  private readonly counts = new Map<string, number>();
  /** Occurrences of values not tracked because the table was full. */
  dropped = 0;
  /** Every occurrence added, tracked or not. */
  total = 0;

  constructor(readonly cap: number = DEFAULT_MAX_VALUES) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be a positive integer, got ${cap}`);
  }

  /** Adds `n` occurrences of `value`. */
  add(value: string, n = 1): void {
    this.total += n;
    const c = this.counts.get(value);
    if (c !== undefined) this.counts.set(value, c + n);
    else if (this.counts.size < this.cap) this.counts.set(value, n);
    else this.dropped += n;
  }

  /** Distinct values tracked. */
  get size(): number {
    return this.counts.size;
  }

  /** The count of `value` (0 when not tracked). */
  get(value: string): number {
    return this.counts.get(value) ?? 0;
  }

  /** The `n` most frequent values, ties in value order so the output is deterministic. */
  top(n: number = DEFAULT_TOP): TopList {
    return topOf(this.counts, n, this.dropped);
  }
}

/** The `n` largest entries of `counts` as a `TopList`. */
export function topOf(counts: Map<string, number>, n: number, dropped = 0): TopList {
  const items = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n).map(([value, count]) => ({ value, count }));
  return { items, left_out: counts.size - items.length, dropped };
}

/** The `n` largest of `rows` by `key` (ties keep input order) as a `TopList`. */
export function topBy<T>(rows: Iterable<T>, n: number, key: (row: T) => number, dropped = 0): TopList<T> {
  const all = [...rows];
  const items = all.map((row, i) => ({ row, i, k: key(row) })).sort((a, b) => b.k - a.k || a.i - b.i)
    .slice(0, n).map((e) => e.row);
  return { items, left_out: all.length - items.length, dropped };
}

/** Rounds `x` to `digits` decimals. */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
