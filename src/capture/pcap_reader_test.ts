import assert from "node:assert/strict";
import { CaptureFormatError } from "./capture_error.ts";
import { PcapWriter } from "./pcap_writer.ts";
import { payload, readAll } from "./_test_util.ts";

for (const bigEndian of [false, true]) {
  for (const nanos of [false, true]) {
    Deno.test(`pcap ${bigEndian ? "big" : "little"}-endian ${nanos ? "nanosecond" : "microsecond"} file`, async () => {
      const w = new PcapWriter({ bigEndian, nanos, linkType: 101, snaplen: 100 });
      w.packet(payload(60, 0x45), 1700000000, nanos ? 123456789 : 123456);
      w.packet(payload(100, 0x60), 1700000001, 5, 1514); // cut by the snaplen: caplen < len
      const { frames, error, format } = await readAll(w.drain());
      assert.equal(error, undefined);
      assert.equal(format, "pcap");
      assert.deepEqual(frames, [
        {
          n: 1,
          ts: nanos ? "1700000000.123456789" : "1700000000.123456",
          len: 60,
          caplen: 60,
          linkType: 101,
          iface: 0,
          firstByte: 0x45,
        },
        {
          n: 2,
          ts: nanos ? "1700000001.000000005" : "1700000001.000005",
          len: 1514,
          caplen: 100,
          linkType: 101,
          iface: 0,
          firstByte: 0x60,
        },
      ]);
    });
  }
}

Deno.test("pcap: the Kuznetzov modified format's longer record header", async () => {
  // a1b2cd34 magic: each record header has 8 more bytes (ifindex, protocol, pkt_type, pad).
  const hdr = new DataView(new ArrayBuffer(24));
  hdr.setUint32(0, 0xa1b2cd34, true);
  hdr.setUint16(4, 2, true);
  hdr.setUint16(6, 4, true);
  hdr.setUint32(16, 65535, true);
  hdr.setUint32(20, 1, true);
  const rec = new DataView(new ArrayBuffer(24 + 14));
  rec.setUint32(0, 1000, true);
  rec.setUint32(4, 7, true);
  rec.setUint32(8, 14, true);
  rec.setUint32(12, 14, true);
  rec.setUint8(24, 0xaa);
  const file = new Uint8Array([...new Uint8Array(hdr.buffer), ...new Uint8Array(rec.buffer)]);
  const { frames, error } = await readAll(file);
  assert.equal(error, undefined);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].ts, "1000.000007");
  assert.equal(frames[0].firstByte, 0xaa);
});

Deno.test("pcap: an unnormalised microsecond field carries into the seconds", async () => {
  const w = new PcapWriter();
  w.packet(payload(20, 1), 10, 2_500_000);
  const { frames } = await readAll(w.drain());
  assert.equal(frames[0].ts, "12.500000");
});

Deno.test("pcap: a file cut mid-packet keeps every packet before it and names the offset", async () => {
  const w = new PcapWriter();
  w.packet(payload(40, 1), 1, 0);
  w.packet(payload(40, 2), 2, 0);
  const whole = w.drain();
  const cut = whole.subarray(0, whole.length - 10);
  const { frames, error } = await readAll(cut);
  assert.equal(frames.length, 1);
  assert.ok(error instanceof CaptureFormatError);
  // The second record starts after the 24-byte file header and the first 16 + 40 byte record.
  assert.equal((error as CaptureFormatError).offset, 24 + 56);
  assert.match(error.message, /cut short inside packet 2/);
  assert.match(error.message, /byte offset 80/);
});

Deno.test("pcap: a file cut inside the file header is refused", async () => {
  const w = new PcapWriter();
  const { frames, error } = await readAll(w.drain().subarray(0, 10));
  assert.equal(frames.length, 0);
  assert.match(String(error?.message), /file header is cut short/);
});

Deno.test("pcap: a corrupt 2^31 captured length stops with the offset, earlier packets kept", async () => {
  const w = new PcapWriter();
  w.packet(payload(30, 1), 1, 0);
  const bytes = new Uint8Array([...w.drain(), ...new Uint8Array(16 + 8)]);
  new DataView(bytes.buffer).setUint32(24 + 46 + 8, 2 ** 31, true);
  const { frames, error } = await readAll(bytes);
  assert.equal(frames.length, 1);
  assert.ok(error instanceof CaptureFormatError);
  assert.equal((error as CaptureFormatError).offset, 24 + 46);
  assert.match(error.message, /2147483648 captured bytes/);
});

Deno.test("pcap: tiny reads and a tiny buffer give the same frames as one big read", async () => {
  const w = new PcapWriter({ nanos: true });
  for (let i = 0; i < 50; i++) w.packet(payload(1 + i * 37, i), 1000 + i, i * 1000);
  const bytes = w.drain();
  const big = await readAll(bytes);
  const small = await readAll(bytes, { chunkBytes: 64, maxRead: 7 });
  assert.equal(big.frames.length, 50);
  assert.deepEqual(small.frames, big.frames);
  assert.equal(small.error, undefined);
});
