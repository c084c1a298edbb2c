import assert from "node:assert/strict";
import { openCapture } from "./open_capture.ts";
import { PcapngSpool } from "./pcapng_spool.ts";
import { PcapngWriter } from "./pcapng_writer.ts";
import type { Frame } from "./source.ts";

interface Sent {
  bytes: Uint8Array;
  len: number;
  tsSec: number;
  tsFrac: number;
}

/** Frames of awkward sizes (padding 0..3, empty, larger than the spool's buffer) with nanosecond stamps. */
function sampleFrames(): Sent[] {
  const sizes = [0, 1, 2, 3, 4, 5, 42, 60, 1514, 9000, 70_000];
  return sizes.map((size, i) => ({
    bytes: Uint8Array.from({ length: size }, (_, j) => (i * 31 + j * 7) & 0xff),
    // One snapped packet: more on the wire than captured.
    len: i === 8 ? size + 100 : size,
    // 2^32 - 1 seconds and 999 999 999 ns: the largest stamp, where float arithmetic would round.
    tsSec: i === 10 ? 4294967295 : 1_700_000_000 + i,
    tsFrac: i === 10 ? 999_999_999 : i * 111_111_111,
  }));
}

async function readBack(path: string): Promise<{ frames: Sent[]; iface: unknown; digits: number[] }> {
  const cap = await openCapture(path);
  const frames: Sent[] = [];
  const digits: number[] = [];
  await cap.run((f: Frame) => {
    frames.push({
      bytes: f.bytes.slice(f.start, f.start + f.caplen),
      len: f.len,
      tsSec: f.tsSec,
      tsFrac: f.tsFrac,
    });
    digits.push(f.tsDigits);
  });
  return { frames, iface: cap.interfaces[0], digits };
}

const IFACE = { linkType: 1, snaplen: 262144, name: "veth-test0", filter: "udp port 5555", tsresol: 9 };

Deno.test("spool: frames written read back identically with netwatch's reader", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/spool.pcapng`;
    const sent = sampleFrames();
    const spool = await PcapngSpool.create(path, { iface: IFACE, bufferBytes: 8192 });
    // Each frame sits at a non-zero offset of a larger buffer, with junk after it.
    for (const s of sent) {
      const buf = new Uint8Array(s.bytes.length + 20).fill(0xee);
      buf.set(s.bytes, 7);
      spool.writePacket(buf, 7, s.bytes.length, s.len, s.tsSec, s.tsFrac, 9);
    }
    assert.equal(spool.packets, sent.length);
    spool.close({ received: 12, dropped: 1, ifDropped: 0 });
    spool.close(); // idempotent
    assert.equal(spool.bytes, (await Deno.stat(path)).size);

    const back = await readBack(path);
    assert.deepEqual(back.frames, sent);
    assert.deepEqual(back.digits, sent.map(() => 9));
    const { linkType, snaplen, name, filter, tsDigits } = back.iface as Record<string, unknown>;
    assert.deepEqual({ linkType, snaplen, name, filter, tsDigits }, {
      linkType: 1,
      snaplen: 262144,
      name: "veth-test0",
      filter: "udp port 5555",
      tsDigits: 9,
    });
    assert.throws(() => spool.writePacket(new Uint8Array(4), 0, 4, 4, 0, 0), TypeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool: without statistics the file is byte-identical to PcapngWriter's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/spool.pcapng`;
    const sent = sampleFrames();
    const spool = await PcapngSpool.create(path, { iface: IFACE });
    const ref = new PcapngWriter({ application: "netwatch" });
    ref.interface(IFACE);
    for (const s of sent) {
      spool.writePacket(s.bytes, 0, s.bytes.length, s.len, s.tsSec, s.tsFrac);
      ref.packet(0, s.bytes, BigInt(s.tsSec) * 1_000_000_000n + BigInt(s.tsFrac), s.len);
    }
    spool.close();
    assert.deepEqual(await Deno.readFile(path), ref.drain());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool: microsecond resolution converts other precisions; bad ranges throw", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/us.pcapng`;
    const spool = await PcapngSpool.create(path, { iface: { linkType: 101, tsresol: 6 } });
    const b = Uint8Array.of(0x45, 0, 0, 20);
    spool.writePacket(b, 0, 4, 4, 1_700_000_000, 123_456_789, 9); // ns -> us truncates
    spool.writePacket(b, 0, 4, 4, 1_700_000_001, 5, 3); // ms -> us
    spool.writePacket(b, 0, 4, 4, 1_700_000_002, 42); // the spool's own precision
    assert.throws(() => spool.writePacket(b, 2, 3, 3, 0, 0), RangeError);
    assert.throws(() => spool.writePacket(b, -1, 1, 1, 0, 0), RangeError);
    spool.close();
    const back = await readBack(path);
    assert.deepEqual(back.frames.map((f) => [f.tsSec, f.tsFrac]), [
      [1_700_000_000, 123_456],
      [1_700_000_001, 5000],
      [1_700_000_002, 42],
    ]);
    assert.deepEqual(back.digits, [6, 6, 6]);
    await assert.rejects(
      PcapngSpool.create(`${dir}/missing/x.pcapng`, { iface: IFACE }),
      Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool: an open spool is flushed within its interval, so a crash loses at most that", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/live.pcapng`;
    const spool = await PcapngSpool.create(path, { iface: IFACE, flushMs: 100 });
    // The headers are on disk at once: the file is a valid, empty capture.
    assert.deepEqual((await readBack(path)).frames, []);
    const sent = sampleFrames().slice(0, 5);
    for (const s of sent) spool.writePacket(s.bytes, 0, s.bytes.length, s.len, s.tsSec, s.tsFrac);
    const t0 = performance.now();
    let seen = 0;
    while (seen < sent.length && performance.now() - t0 < 2000) {
      await new Promise((r) => setTimeout(r, 10));
      seen = (await readBack(path)).frames.length;
    }
    const waited = performance.now() - t0;
    assert.equal(seen, sent.length);
    assert.ok(waited < 1000, `flushed after ${waited.toFixed(0)} ms`);
    // Still open, and unread by anyone but the reader above: nothing was closed behind our back.
    spool.writePacket(sent[0].bytes, 0, sent[0].bytes.length, sent[0].len, 1_700_000_100, 0);
    spool.close();
    assert.equal((await readBack(path)).frames.length, sent.length + 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function hasTshark(): boolean {
  try {
    return new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "spool: tshark reads the spool, statistics block included, with the same lengths and stamps",
  ignore: !hasTshark(),
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/spool.pcapng`;
      const sent = sampleFrames().filter((s) => s.bytes.length <= 9000); // tshark caps at 262144 anyway
      const spool = await PcapngSpool.create(path, { iface: IFACE });
      for (const s of sent) spool.writePacket(s.bytes, 0, s.bytes.length, s.len, s.tsSec, s.tsFrac);
      spool.close({ received: sent.length, dropped: 0, ifDropped: 0 });
      const out = await new Deno.Command("tshark", {
        args: [
          "-n",
          "-r",
          path,
          "-T",
          "fields",
          "-E",
          "separator=\t",
          "-e",
          "frame.len",
          "-e",
          "frame.cap_len",
          "-e",
          "frame.time_epoch",
          "-e",
          "frame.interface_name",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      // tshark warns when run as root; anything else on stderr would be a complaint about the file.
      const stderr = new TextDecoder().decode(out.stderr).split("\n")
        .filter((l) => l !== "" && !l.startsWith("Running as user")).join("\n");
      assert.ok(out.success, stderr);
      assert.equal(stderr, "");
      const rows = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => l.split("\t"));
      assert.deepEqual(
        rows,
        sent.map((s) => [
          String(s.len),
          String(s.bytes.length),
          `${s.tsSec}.${String(s.tsFrac).padStart(9, "0")}`,
          "veth-test0",
        ]),
      );
      console.log(`tshark read ${rows.length} packets of the spool identically`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
