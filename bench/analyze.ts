/**
 * Analysis benchmark: `netwatch analyze FILE --json` of a generated 1-million-packet mixed capture beside
 * `tshark -q -z conv,ip -z io,phs` and a scapy script counting DNS names (scapy is the engine of the
 * Python peer) on the same file in the same run, plus netwatch's peak memory on 1 million and 5 million
 * packets. Targets: at least 20x faster than tshark, 200x faster than scapy, and peak memory that does not
 * grow with the packet count beyond the flow table.
 * Usage: `deno task bench:analyze [RUNS]` (default 3 netwatch runs; tshark and scapy run once each, they
 * are slow; `SKIP_5M=1` leaves out the 5-million-packet memory run).
 *
 * @module
 */

import { available, benchCapture, median, row } from "./_measure.ts";

const runs = Number(Deno.args[0] ?? 3);
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Wall seconds and peak resident memory (KiB) of a command, from GNU time. */
async function measure(cmd: string, args: string[]): Promise<{ secs: number; maxRssKiB: number }> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %M", cmd, ...args],
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim().split("\n");
  if (!out.success) throw new Error(`${cmd} failed: ${err.slice(-3).join(" ")}`);
  const [secs, rss] = err[err.length - 1].split(" ").map(Number);
  return { secs, maxRssKiB: rss };
}

const netwatch = (file: string) => measure(Deno.execPath(), ["run", "-A", MAIN, "analyze", file, "--json"]);

const SCAPY = `
import sys
from collections import Counter
from scapy.all import PcapReader, DNSQR
names = Counter()
with PcapReader(sys.argv[1]) as r:
    for p in r:
        if p.haslayer(DNSQR):
            names[p[DNSQR].qname] += 1
print(len(names), sum(names.values()))
`;

const path = await benchCapture(1_000_000);
const packets = 1_000_000;
await netwatch(path); // warm the page cache and Deno's module cache
const ours: number[] = [];
let rss1m = 0;
for (let i = 0; i < runs; i++) {
  const m = await netwatch(path);
  ours.push(m.secs);
  rss1m = Math.max(rss1m, m.maxRssKiB);
}
console.log(`analyze benchmark: ${path}, ${packets.toLocaleString("en-US")} packets`);
let tshark: number | undefined, scapy: number | undefined;
if (await available("tshark")) {
  tshark = (await measure("tshark", ["-n", "-q", "-r", path, "-z", "conv,ip", "-z", "io,phs"])).secs;
  row("tshark -q -z conv,ip -z io,phs", [tshark], packets);
}
const python = "/usr/bin/python3";
const hasScapy =
  (await new Deno.Command(python, { args: ["-c", "import scapy"], stderr: "null" }).output()).success;
if (hasScapy) {
  scapy = (await measure(python, ["-c", SCAPY, path])).secs;
  row("scapy: count DNS names", [scapy], packets);
} else {
  console.log("scapy not installed (apt-get install python3-scapy): no scapy figure");
}
row("netwatch analyze --json", ours, packets);
const m = median(ours);
if (tshark) console.log(`netwatch is ${(tshark / m).toFixed(1)}x faster than tshark (target 20x)`);
if (scapy) console.log(`netwatch is ${(scapy / m).toFixed(1)}x faster than scapy (target 200x)`);
console.log(`peak memory, 1M packets: ${(rss1m / 1024).toFixed(0)} MiB`);
if (!Deno.env.get("SKIP_5M")) {
  const big = await benchCapture(5_000_000);
  const m5 = await netwatch(big);
  console.log(`peak memory, 5M packets: ${(m5.maxRssKiB / 1024).toFixed(0)} MiB (${m5.secs.toFixed(1)} s)`);
}
