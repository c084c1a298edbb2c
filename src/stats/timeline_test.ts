import assert from "node:assert/strict";
import type { DecodedPacket } from "../decode/packet_decoder.ts";
import { Timeline } from "./timeline.ts";

function packet(sec: number, usec: number, len = 100): DecodedPacket {
  return { n: 0, tsSec: sec, tsFrac: usec, tsDigits: 6, len, caplen: len, linkType: 1, iface: 0, layers: {} };
}

Deno.test("Timeline: picks a round interval so that there are at most 60 buckets", () => {
  const t = new Timeline();
  // One packet a second for 120 s: 1 s would need 120 buckets, 2 s needs 60.
  for (let i = 0; i < 120; i++) t.add(packet(1_700_000_000 + i, 500_000));
  const j = t.toJSON();
  assert.equal(j.interval_s, 2);
  assert.equal(j.buckets.length, 60);
  assert.ok(j.buckets.every((b) => b.packets === 2 && b.bytes === 200));
  assert.equal(j.start, 1_700_000_000.5);
  assert.equal(j.buckets[59].start_s, 118);
});

Deno.test("Timeline: merging as it goes gives what binning with the final interval gives", () => {
  const t = new Timeline(10);
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const times: number[] = [];
  for (let i = 0; i < 500; i++) times.push(Math.floor(rand() * 3_000_000)); // microseconds over 3 s
  times.sort((a, b) => a - b);
  for (const us of times) t.add(packet(100 + Math.floor(us / 1e6), us % 1e6));
  const j = t.toJSON();
  assert.ok(j.buckets.length <= 10);
  const width = j.interval_s * 1e6;
  const expected = new Array(j.buckets.length).fill(0);
  for (const us of times) expected[Math.floor((us - times[0]) / width)]++;
  assert.deepEqual(j.buckets.map((b) => b.packets), expected);
});

Deno.test("Timeline: an out-of-order packet counts in the first bucket; empty timeline", () => {
  const t = new Timeline();
  t.add(packet(10, 0));
  t.add(packet(9, 0));
  t.add(packet(10, 1000));
  assert.deepEqual(t.toJSON().buckets.map((b) => b.packets), [2, 1]);
  assert.deepEqual(new Timeline().toJSON(), { interval_s: 0.001, start: null, buckets: [] });
});
