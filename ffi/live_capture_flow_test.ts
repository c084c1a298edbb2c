/**
 * Flow control of a live capture: a consumer far slower than the traffic must neither stall the main
 * thread's event loop nor lose track of packets. Needs root (capture, network namespaces) and libpcap,
 * and skips with a printed reason otherwise. Traffic only crosses a veth pair into a namespace created
 * and deleted here.
 */
import assert from "node:assert/strict";
import { loadLibpcap } from "./load.ts";
import { openLiveCapture } from "./live_capture.ts";
import type { Frame } from "../src/capture/source.ts";
import { canUseNetns, NetnsPair, python3 } from "../test/_netns.ts";

function skipReason(): string | false {
  if (Deno.build.os !== "linux") return "live tests run on Linux only";
  try {
    loadLibpcap();
  } catch (err) {
    return `libpcap missing: ${(err as Error).message}`;
  }
  const netns = canUseNetns();
  if (netns) return netns;
  // Deno's node:dgram waits for each send: too slow a burst to outrun the consumer.
  if (python3() === undefined) return "no python3 to send the burst";
  return false;
}
const skip = skipReason();
if (skip) console.log(`skipping live capture flow-control test: ${skip}`);

/** Resolves when `cond()` holds, or after `ms`. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function percentile(xs: number[], p: number): number {
  const s = xs.toSorted((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Spends `ms` of CPU: a consumer that decodes ~100 times slower than netwatch does. */
function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}

Deno.test({
  name: "live: a consumer slower than a burst keeps timers on time; every packet is delivered or dropped",
  ignore: skip !== false,
  async fn() {
    const pair = new NetnsPair();
    const port = 40000 + (Deno.pid % 20000);
    const sent = 4000;
    try {
      await pair.create();

      // A small kernel buffer (a few hundred of these packets) and small batches, so that the burst
      // overflows both the window ((4 + 1) * 128 packets in JS) and the kernel buffer within a second
      // of delivery: the drops must then show in pcap_stats.
      const cap = openLiveCapture(pair.ifA, {
        filter: `udp and src host ${pair.ipB} and dst port ${port}`,
        snaplen: 128,
        bufferSize: 64 * 1024,
        batchPackets: 128,
      });
      let delivered = 0;
      let duplicates = 0;
      const seen = new Uint8Array(sent);
      let firstAt = 0;
      let lastAt = 0;
      const done = cap.run((f: Frame) => {
        // The payload is the datagram's index as 6 ASCII digits, after 42 bytes of headers.
        let index = 0;
        for (let i = f.start + 42; i < f.start + 48; i++) index = index * 10 + f.bytes[i] - 0x30;
        if (seen[index]++ !== 0) duplicates++;
        delivered++;
        busyWait(1);
        lastAt = performance.now();
        if (firstAt === 0) firstAt = lastAt;
      });

      // The probe: how late a 10 ms timer fires while frames are being consumed.
      const ticks: [at: number, late: number][] = [];
      let prev = performance.now();
      const probe = setInterval(() => {
        const now = performance.now();
        ticks.push([now, Math.max(0, now - prev - 10)]);
        prev = now;
      }, 10);
      try {
        await new Promise((r) => setTimeout(r, 200)); // the worker starts and blocks in the kernel
        await pair.sendUdp(port, sent, { digits: 6 });
        // Drained once every packet counted by the kernel is delivered or dropped (stats refresh at
        // least once a second).
        await until(() => {
          const s = cap.stats();
          return s.received >= sent && delivered + s.dropped >= s.received;
        }, 8000);
      } finally {
        clearInterval(probe);
      }
      const t0 = performance.now();
      cap.close();
      await done;
      const stopMs = performance.now() - t0;
      await cap.closed;

      const final = cap.stats();
      const busy = ticks.filter(([at]) => at >= firstAt && at <= lastAt + 10).map(([, late]) => late);
      const p99 = percentile(busy, 99);
      const max = Math.max(...busy);
      const deliveringMs = lastAt - firstAt;
      console.log(
        `sent ${sent}; delivered ${delivered} in ${deliveringMs.toFixed(0)} ms at ~1 ms each; ` +
          `stats ${JSON.stringify(final)}; 10 ms timer while delivering: ${busy.length} ticks, lateness ` +
          `p50 ${percentile(busy, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms; ` +
          `stop ${stopMs.toFixed(1)} ms`,
      );
      assert.equal(duplicates, 0);
      assert.equal(final.received, sent, `the kernel saw ${final.received} of ${sent}`);
      assert.equal(delivered + final.dropped, sent, `delivered ${delivered} + dropped ${final.dropped}`);
      // Otherwise the scenario did not test what it says: the burst must outrun the consumer and the
      // kernel buffer, so that the overflow is counted there.
      assert.ok(final.dropped > 0, "nothing dropped: the burst did not outrun the consumer");
      // With nothing bounding the messages, the timer did not fire at all until every queued packet was
      // consumed (seconds); now it runs between slices of a few ms.
      assert.ok(busy.length >= deliveringMs / 50, `only ${busy.length} ticks in ${deliveringMs} ms`);
      assert.ok(p99 < 250, `10 ms timer p99 lateness ${p99} ms`);
      assert.ok(stopMs < 500, `stop took ${stopMs} ms`);
    } finally {
      await pair.destroy();
    }
  },
});
