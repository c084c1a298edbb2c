import assert from "node:assert/strict";
import type { Frame } from "../capture/source.ts";
import { PACKET_OVERHEAD_BYTES, PacketRing } from "./packet_ring.ts";

/** A frame of `size` bytes, each byte `n & 0xff`, inside a buffer with junk around it. */
function frame(n: number, size: number, extra: Partial<Frame> = {}): Frame {
  const bytes = new Uint8Array(size + 10).fill(0xee);
  bytes.fill(n & 0xff, 5, 5 + size);
  return {
    n,
    bytes,
    view: new DataView(bytes.buffer),
    start: 5,
    caplen: size,
    len: size,
    tsSec: 1700000000 + n,
    tsFrac: n,
    tsDigits: 6,
    linkType: 1,
    iface: 0,
    ...extra,
  };
}

Deno.test("PacketRing: stores copies and gives frames back", () => {
  const ring = new PacketRing({ maxBytes: 1 << 20, slabBytes: 4096 });
  const f = frame(1, 60, { comment: "hello", len: 1500, iface: 2, linkType: 101, tsDigits: 9 });
  assert.equal(ring.push(f), 1);
  f.bytes.fill(0); // the source reuses its buffer
  assert.equal(ring.push(frame(2, 70)), 2);
  const g = ring.frameAt(1)!;
  assert.deepEqual([...g.bytes.subarray(g.start, g.start + g.caplen)], new Array(60).fill(1));
  assert.equal(g.view.buffer, g.bytes.buffer);
  assert.deepEqual(
    [g.n, g.len, g.caplen, g.iface, g.linkType, g.tsSec, g.tsFrac, g.tsDigits, g.comment],
    [1, 1500, 60, 2, 101, 1700000001, 1, 9, "hello"],
  );
  const h = ring.frameAt(2, g)!;
  assert.equal(h, g);
  assert.equal(h.comment, undefined);
  assert.equal(h.caplen, 70);
  assert.equal(ring.frameAt(3), undefined);
  assert.deepEqual([...ring.frames()].map(([s]) => s), [1, 2]);
  assert.equal(ring.seqOfN(2), 2);
  assert.equal(ring.seqOfN(9), undefined);
});

Deno.test("PacketRing: evicts the oldest by bytes and counts them", () => {
  const per = 100 + PACKET_OVERHEAD_BYTES;
  const ring = new PacketRing({ maxBytes: per * 10, slabBytes: 500 }); // slabs of exactly 5 packets
  for (let n = 1; n <= 25; n++) ring.push(frame(n, 100));
  const s = ring.stats();
  assert.equal(s.packets, 10);
  assert.equal(s.bytes, 1000);
  assert.equal(s.charged_bytes, per * 10);
  assert.equal(s.evicted_packets, 15);
  assert.equal(s.evicted_bytes, 1500);
  assert.equal(s.first_seq, 16);
  assert.equal(s.next_seq, 26);
  // Memory: the bound plus at most two slabs.
  assert.ok(s.slab_bytes <= per * 10 + 2 * 500, `slab bytes ${s.slab_bytes}`);
  for (const [seq, f] of ring.frames()) {
    assert.equal(f.n, seq);
    assert.ok(f.bytes.subarray(f.start, f.start + f.caplen).every((b) => b === seq));
  }
  assert.equal(ring.frameAt(15), undefined);
});

Deno.test("PacketRing: many sizes over many slabs keep every byte right", () => {
  const ring = new PacketRing({ maxBytes: 50_000, slabBytes: 3000 });
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const sizes = new Map<number, number>();
  for (let n = 1; n <= 2000; n++) {
    const size = Math.floor(rand() * 4000); // some larger than a slab
    sizes.set(ring.push(frame(n, size)), size);
    assert.ok(ring.stats().charged_bytes <= 50_000);
  }
  assert.equal(ring.evictedPackets + ring.size, 2000);
  for (const [seq, f] of ring.frames()) {
    assert.equal(f.caplen, sizes.get(seq));
    assert.ok(f.bytes.subarray(f.start, f.start + f.caplen).every((b) => b === (seq & 0xff)));
  }
  assert.ok(ring.stats().slab_bytes <= 50_000 + 2 * 3000, `slab bytes ${ring.stats().slab_bytes}`);
});

Deno.test("PacketRing: a packet larger than the bound is cut to fit", () => {
  const ring = new PacketRing({ maxBytes: 1000 });
  ring.push(frame(1, 5000));
  const f = ring.frameAt(1)!;
  assert.equal(f.caplen, 1000 - PACKET_OVERHEAD_BYTES);
  assert.equal(f.len, 5000);
  assert.equal(ring.size, 1);
});

Deno.test("PacketRing: sequence numbers survive clear and repeated frame numbers", () => {
  const ring = new PacketRing({ maxBytes: 10_000 });
  ring.push(frame(1, 10));
  ring.push(frame(2, 10));
  ring.clear();
  assert.equal(ring.size, 0);
  assert.equal(ring.evictedPackets, 2);
  assert.equal(ring.push(frame(1, 10)), 3); // a new source numbers from 1 again
  assert.equal(ring.seqOfN(1), 3);
  ring.push(frame(1, 10));
  assert.equal(ring.seqOfN(1), 4);
  assert.equal(ring.firstSeq, 3);
  assert.equal(ring.nextSeq, 5);
});

Deno.test("PacketRing: columns grow past their first capacity", () => {
  const ring = new PacketRing({ maxBytes: 1 << 24 });
  for (let n = 1; n <= 5000; n++) ring.push(frame(n, 3));
  assert.equal(ring.size, 5000);
  assert.equal(ring.frameAt(4321)!.n, 4321);
  assert.equal(ring.seqOfN(4999), 4999);
});

Deno.test("PacketRing: bad options are RangeErrors", () => {
  assert.throws(() => new PacketRing({ maxBytes: 0 }), RangeError);
  assert.throws(() => new PacketRing({ slabBytes: 1.5 }), RangeError);
});
