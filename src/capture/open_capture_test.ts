import assert from "node:assert/strict";
import { CaptureFormatError } from "./capture_error.ts";
import { openCapture } from "./open_capture.ts";
import { PcapWriter } from "./pcap_writer.ts";
import { PcapngWriter } from "./pcapng_writer.ts";
import { payload, readAll } from "./_test_util.ts";

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("gzip-compressed pcap and pcapng read the same as uncompressed", async () => {
  const pcap = new PcapWriter();
  const ng = new PcapngWriter();
  ng.interface({ linkType: 1 });
  for (let i = 0; i < 100; i++) {
    pcap.packet(payload(100 + i, i), 1000 + i, i);
    ng.packet(0, payload(100 + i, i), BigInt(1000 + i) * 1_000000n + BigInt(i));
  }
  for (const bytes of [pcap.drain(), ng.drain()]) {
    const plain = await readAll(bytes);
    const packed = await readAll(await gzip(bytes), { chunkBytes: 256 });
    assert.equal(plain.frames.length, 100);
    assert.deepEqual(packed.frames, plain.frames);
    assert.equal(packed.error, undefined);
  }
});

Deno.test("corrupt gzip data ends with a clear error after the packets before it", async () => {
  const w = new PcapWriter();
  for (let i = 0; i < 2000; i++) w.packet(payload(200, i), i, 0);
  const packed = await gzip(w.drain());
  const cut = packed.subarray(0, Math.floor(packed.length / 2));
  const { frames, error } = await readAll(cut, { chunkBytes: 4096 });
  assert.ok(frames.length > 0 && frames.length < 2000, `read ${frames.length} frames`);
  assert.ok(error instanceof CaptureFormatError);
  assert.match(error.message, /at byte offset \d+/);
});

Deno.test("a file that is not a capture is refused by its magic", async () => {
  await assert.rejects(
    () => readAll(new TextEncoder().encode("<html><body>not a capture</body></html>")),
    (e: unknown) =>
      e instanceof CaptureFormatError && /not a pcap or pcapng capture file/.test(e.message) &&
      /text "<html><body>not"/.test(e.message),
  );
});

Deno.test("a zero-length file is refused as empty", async () => {
  await assert.rejects(
    () => readAll(new Uint8Array(0)),
    (e: unknown) => e instanceof CaptureFormatError && /the file is empty/.test(e.message),
  );
});

Deno.test("openCapture reads a file from disk and reports a missing one as NotFound", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = new PcapWriter();
    w.packet(payload(42, 7), 1, 2);
    await Deno.writeFile(`${dir}/a.pcap`, w.drain());
    const source = await openCapture(`${dir}/a.pcap`);
    let n = 0;
    await source.run(() => n++);
    assert.equal(n, 1);
    await assert.rejects(() => openCapture(`${dir}/missing.pcap`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
