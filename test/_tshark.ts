/**
 * Runs tshark for agreement tests, several files at once, caching its output by file content so repeated
 * runs are fast (`NETWATCH_TEST_CACHE`, default `~/.cache/netwatch-test`).
 *
 * @module
 */

import { createHash } from "node:crypto";

const cacheRoot = Deno.env.get("NETWATCH_TEST_CACHE") ??
  `${Deno.env.get("HOME") ?? "/tmp"}/.cache/netwatch-test`;

/** Rows of `tshark -T fields` for `fields` over `path` (tab-separated values per frame). */
export async function tsharkFields(
  path: string,
  fields: string[],
  extra: string[] = [],
): Promise<string[][]> {
  const data = await Deno.readFile(path);
  const key = createHash("sha1").update(data).update(JSON.stringify([fields, extra])).digest("hex");
  const cacheFile = `${cacheRoot}/tshark/${key}.tsv`;
  let text: string;
  try {
    text = await Deno.readTextFile(cacheFile);
  } catch {
    const args = ["-n", "-r", path, ...extra, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"];
    for (const f of fields) args.push("-e", f);
    const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "null", stdin: "null" })
      .output();
    text = new TextDecoder().decode(out.stdout);
    await Deno.mkdir(`${cacheRoot}/tshark`, { recursive: true });
    await Deno.writeTextFile(cacheFile, text);
  }
  return text.split("\n").filter((l) => l.length > 0).map((l) => l.split("\t"));
}

/** Runs `fn` over `items` with at most `limit` running at once. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Every regular file below `dir`, sorted. */
export function filesBelow(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else if (e.isFile) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A decimal timestamp without trailing fraction zeros, so `1.500000` equals tshark's `1.500000000`. */
export function normalTs(ts: string): string {
  if (!ts.includes(".")) return ts;
  const t = ts.replace(/0+$/, "");
  return t.endsWith(".") ? t.slice(0, -1) : t;
}
