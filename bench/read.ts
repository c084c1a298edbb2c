/**
 * Reader benchmark: packets per second of netwatch's capture reader alone (no decoding) beside
 * `tcpdump -r FILE -w /dev/null` on the same file, in the same run. Target: within 3x of tcpdump's time.
 * Usage: `deno task bench:read [RUNS]` (default 5 runs each, interleaved so machine noise hits both).
 *
 * @module
 */

import { openCapture } from "../src/capture/open_capture.ts";
import { available, benchCapture, median, row, time, timeCommand } from "./_measure.ts";

const runs = Number(Deno.args[0] ?? 5);
const path = await benchCapture();

async function readOnce(): Promise<number> {
  const source = await openCapture(path);
  let n = 0, bytes = 0;
  await source.run((f) => {
    n++;
    bytes += f.caplen;
  });
  if (bytes === 0) throw new Error("nothing read");
  return n;
}

const packets = await readOnce(); // also warms the page cache and the JIT
const hasTcpdump = await available("tcpdump");
const ours: number[] = [], theirs: number[] = [];
for (let i = 0; i < runs; i++) {
  ours.push(await time(readOnce));
  if (hasTcpdump) theirs.push(await timeCommand("tcpdump", ["-r", path, "-w", "/dev/null"]));
}
console.log(`reader benchmark: ${path}, ${packets.toLocaleString("en-US")} packets, ${runs} runs each`);
if (hasTcpdump) row("tcpdump -r FILE -w /dev/null", theirs, packets);
row("netwatch reader", ours, packets, hasTcpdump ? median(theirs) : undefined);
if (!hasTcpdump) console.log("tcpdump not installed: no reference figure");
