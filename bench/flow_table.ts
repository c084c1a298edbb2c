/**
 * Flow table micro-benchmark: flow updates per second over a decoded capture (the generated mixed
 * capture of 200 000 packets by default, which is creation-heavy: most of its packets open a new flow).
 * Every packet is decoded once beforehand (each frame copied to its own buffer so the decoded layers stay
 * valid), so the figures are the flow code's alone. Also compares two ways of keying a packet: the
 * `FlowKey` words with a symmetric numeric hash and collision chains (what `FlowTable` uses), and a
 * canonical string key in a `Map<string, ...>`.
 * Usage: `deno run -A bench/flow_table.ts [CAPTURE] [RUNS]` (default: generated, 5 runs).
 *
 * @module
 */

import { openCapture } from "../src/capture/open_capture.ts";
import type { Frame } from "../src/capture/source.ts";
import { type DecodedPacket, PacketDecoder } from "../src/decode/packet_decoder.ts";
import { FlowKey } from "../src/flow/flow_key.ts";
import { FlowTable } from "../src/flow/flow_table.ts";
import { benchCapture, median } from "./_measure.ts";

const path = Deno.args[0] ?? await benchCapture(200_000);
const runs = Number(Deno.args[1] ?? 5);

/** Every frame of the capture, copied into memory (one buffer each) so that runs read no file. */
async function loadFrames(file: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  await (await openCapture(file)).run((f) => {
    const bytes = f.bytes.slice(f.start, f.start + f.caplen);
    frames.push({ ...f, bytes, view: new DataView(bytes.buffer), start: 0 });
  });
  return frames;
}

const frames = await loadFrames(path);
const n = frames.length;
const decoder = new PacketDecoder();

/**
 * Median seconds of `runs` passes of decode + `fn` over every frame (after a warm-up pass). Decoding
 * in the loop keeps each packet's layers hot in the cache, as in the real pipeline.
 */
function measure(setup: () => (p: DecodedPacket) => void): number {
  const pass = () => {
    const fn = setup();
    for (const f of frames) fn(decoder.decode(f));
  };
  pass();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    pass();
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/** Prints the cost of `fn` beyond decoding. */
function report(name: string, total: number, decodeOnly: number): void {
  const own = Math.max(total - decodeOnly, 1e-9);
  console.log(
    `${name.padEnd(44)} ${(total * 1000).toFixed(1).padStart(7)} ms with decode, ` +
      `${(own * 1000).toFixed(1).padStart(6)} ms own: ${
        Math.round(n / own).toLocaleString("en-US").padStart(11)
      } updates/s (${(own / n * 1e9).toFixed(0)} ns each)`,
  );
}

let sink = 0;
// Decoding alone, measured first and last (the lower is taken): the first run also pays for warming up.
const decodeFirst = measure(() => (p) => void (sink ^= p.len));
const decodeOnly = Math.min(decodeFirst, measure(() => (p) => void (sink ^= p.len)));
console.log(
  `decode only                                  ${(decodeOnly * 1000).toFixed(1).padStart(7)} ms ` +
    `(${Math.round(n / decodeOnly).toLocaleString("en-US")} packets/s)`,
);

report(
  "FlowKey.fromLayers only",
  measure(() => {
    const key = new FlowKey();
    return (p) => void (key.fromLayers(p.layers) && (sink ^= key.hash));
  }),
  decodeOnly,
);

interface Entry {
  key: FlowKey;
  next: Entry | undefined;
  packets: number;
}

report(
  "key: numeric hash + chains (Map<number>)",
  measure(() => {
    const key = new FlowKey();
    const map = new Map<number, Entry>();
    return (p) => {
      if (!key.fromLayers(p.layers)) return;
      let e = map.get(key.hash);
      for (; e !== undefined; e = e.next) if (key.sameDirection(e.key) || key.reverseOf(e.key)) break;
      if (e === undefined) {
        e = { key: key.clone(), next: map.get(key.hash), packets: 0 };
        map.set(key.hash, e);
      }
      e.packets++;
    };
  }),
  decodeOnly,
);

report(
  "key: canonical string (Map<string>)",
  measure(() => {
    const key = new FlowKey();
    const map = new Map<string, { packets: number }>();
    return (p) => {
      if (!key.fromLayers(p.layers)) return;
      const a = `${key.s0},${key.s1},${key.s2},${key.s3},${key.sport}`;
      const b = `${key.d0},${key.d1},${key.d2},${key.d3},${key.dport}`;
      const k = a < b
        ? `${key.proto}|${key.vlan}|${key.ident}|${a}|${b}`
        : `${key.proto}|${key.vlan}|${key.ident}|${b}|${a}`;
      let e = map.get(k);
      if (e === undefined) map.set(k, e = { packets: 0 });
      e.packets++;
    };
  }),
  decodeOnly,
);

let table = new FlowTable();
report(
  "FlowTable.update, fresh table each pass",
  measure(() => {
    table = new FlowTable();
    return (p) => void table.update(p);
  }),
  decodeOnly,
);
const created = table.stats().created;

// The lookup-hit path: every pass after the warm-up finds all its flows already in the table.
const NEVER = Infinity;
const warm = new FlowTable({
  timeouts: {
    tcpEstablished: NEVER,
    tcpHalfOpen: NEVER,
    tcpClosed: NEVER,
    udp: NEVER,
    icmp: NEVER,
    other: NEVER,
  },
});
report("FlowTable.update, warm table (flows exist)", measure(() => (p) => void warm.update(p)), decodeOnly);

console.log(
  `flow benchmark: ${path}, ${n.toLocaleString("en-US")} packets, ${
    created.toLocaleString("en-US")
  } flows, ` +
    `${runs} runs (${sink & 1})`,
);
