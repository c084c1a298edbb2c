import assert from "node:assert/strict";
import { CaptureFormatError } from "./capture_error.ts";
import { PcapngWriter } from "./pcapng_writer.ts";
import { payload, readAll } from "./_test_util.ts";

Deno.test("pcapng: two interfaces with different link types, resolutions and a custom block", async () => {
  const w = new PcapngWriter({ comment: "made by a test" });
  const eth = w.interface({ linkType: 1, name: "eth0", filter: "tcp", comment: "first" });
  const raw = w.interface({ linkType: 101, name: "tun0", tsresol: 9 });
  w.packet(eth, payload(60, 1), 1700000000_123456n, 60, "hello");
  // A custom block (type 0x00000BAD with a private enterprise number) must be skipped by its length.
  w.rawBlock(0x00000bad, Uint8Array.of(0, 0, 0x7e, 0x7e, 1, 2, 3));
  w.packet(raw, payload(40, 2), 1700000001_000000001n, 1500);
  const { frames, error, format } = await readAll(w.drain());
  assert.equal(error, undefined);
  assert.equal(format, "pcapng");
  assert.deepEqual(frames, [
    {
      n: 1,
      ts: "1700000000.123456",
      len: 60,
      caplen: 60,
      linkType: 1,
      iface: 0,
      firstByte: 1,
      comment: "hello",
    },
    { n: 2, ts: "1700000001.000000001", len: 1500, caplen: 40, linkType: 101, iface: 1, firstByte: 2 },
  ]);
});

Deno.test("pcapng: big-endian sections, several sections, interface numbers carry on", async () => {
  const w = new PcapngWriter({ bigEndian: true });
  w.interface({ linkType: 1 });
  w.packet(0, payload(20, 1), 5_000001n);
  w.section({ bigEndian: false });
  w.interface({ linkType: 113, tsresol: 3 });
  w.interface({ linkType: 1 });
  w.packet(1, payload(20, 2), 6_000002n);
  w.packet(0, payload(20, 3), 7_250n);
  const { frames, error } = await readAll(w.drain());
  assert.equal(error, undefined);
  assert.deepEqual(frames.map((f) => [f.ts, f.linkType, f.iface, f.firstByte]), [
    ["5.000001", 1, 0, 1],
    ["6.000002", 1, 2, 2], // the second section's interface 1 is the file's third interface
    ["7.250", 113, 1, 3],
  ]);
});

Deno.test("pcapng: simple and obsolete packet blocks, if_tsoffset, binary resolution", async () => {
  const w = new PcapngWriter();
  w.interface({ linkType: 1, snaplen: 32, tsoffset: 100 });
  w.simplePacket(payload(48, 9).subarray(0, 32), 48); // captured bytes limited by the snaplen
  w.obsoletePacket(0, payload(20, 4), 1_000002n);
  w.section();
  w.interface({ linkType: 1, tsresol: 0x80 | 10 }); // 2^-10 s units
  w.packet(0, payload(20, 5), 3n * 1024n + 512n);
  const { frames, error } = await readAll(w.drain());
  assert.equal(error, undefined);
  assert.deepEqual(frames.map((f) => [f.ts, f.len, f.caplen, f.firstByte]), [
    ["0.000000", 48, 32, 9],
    ["101.000002", 20, 20, 4],
    ["3.500000000", 20, 20, 5],
  ]);
});

Deno.test("pcapng: nanosecond epochs beyond 2^53 keep every digit", async () => {
  const w = new PcapngWriter();
  w.interface({ linkType: 1, tsresol: 9 });
  const units = 1763750000_999999999n; // ~1.76e18 > 2^53
  w.packet(0, payload(10, 0), units);
  const { frames } = await readAll(w.drain());
  assert.equal(frames[0].ts, "1763750000.999999999");
});

Deno.test("pcapng: a block cut short keeps the packets before it", async () => {
  const w = new PcapngWriter();
  w.interface({ linkType: 1 });
  w.packet(0, payload(60, 1), 1n);
  w.packet(0, payload(60, 2), 2n);
  const whole = w.drain();
  const { frames, error } = await readAll(whole.subarray(0, whole.length - 20));
  assert.equal(frames.length, 1);
  assert.ok(error instanceof CaptureFormatError);
  assert.match(error.message, /cut short inside a block of type 0x6/);
  assert.match(error.message, /byte offset \d+/);
});

Deno.test("pcapng: a packet on an undeclared interface and a bad block length are errors with offsets", async () => {
  const w = new PcapngWriter();
  w.interface({ linkType: 1 });
  w.packet(3, payload(10, 1), 1n);
  const r1 = await readAll(w.drain());
  assert.equal(r1.frames.length, 0);
  assert.match(String(r1.error?.message), /interface 3 but the section declares 1/);

  const w2 = new PcapngWriter();
  w2.interface({ linkType: 1 });
  const good = w2.drain();
  const bad = new Uint8Array([...good, 6, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]); // length 7: not a multiple of 4
  const r2 = await readAll(bad);
  assert.ok(r2.error instanceof CaptureFormatError);
  assert.equal((r2.error as CaptureFormatError).offset, good.length);
  assert.match(r2.error.message, /invalid length 7/);
});

Deno.test("pcapng: a 2^31 captured length in a corrupt block is refused", async () => {
  const w = new PcapngWriter();
  w.interface({ linkType: 1 });
  w.packet(0, payload(16, 1), 1n);
  const bytes = w.drain();
  // The EPB's captured-length field sits 20 bytes into the block, after the SHB (28) and IDB (20).
  new DataView(bytes.buffer).setUint32(28 + 20 + 20, 2 ** 31, true);
  const { frames, error } = await readAll(bytes);
  assert.equal(frames.length, 0);
  assert.match(String(error?.message), /captured length 2147483648 runs past the block/);
});

Deno.test("pcapng: small buffers and short reads give the same frames", async () => {
  const w = new PcapngWriter();
  w.interface({ linkType: 1 });
  w.interface({ linkType: 101, tsresol: 9 });
  for (let i = 0; i < 40; i++) w.packet(i % 2, payload(3 + i * 41, i), BigInt(1e9 + i));
  const bytes = w.drain();
  const big = await readAll(bytes);
  const small = await readAll(bytes, { chunkBytes: 32, maxRead: 5 });
  assert.equal(big.frames.length, 40);
  assert.deepEqual(small.frames, big.frames);
});
