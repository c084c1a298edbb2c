import assert from "node:assert/strict";
import { openCapture } from "../capture/open_capture.ts";
import { formatTs } from "../capture/timestamp.ts";
import type { Frame } from "../capture/source.ts";
import { exportFlow, exportQuery, exportRing } from "./export_pcapng.ts";
import { PacketRing } from "./packet_ring.ts";

const HTTP = new URL("../../fixtures/benign/http_download.pcap", import.meta.url).pathname;
const hasTshark = await new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

interface Facts {
  ts: string;
  len: number;
  caplen: number;
  linkType: number;
  iface: number;
  bytes: string;
  comment?: string;
}

function facts(f: Frame): Facts {
  const out: Facts = {
    ts: formatTs(f.tsSec, f.tsFrac, f.tsDigits),
    len: f.len,
    caplen: f.caplen,
    linkType: f.linkType,
    iface: f.iface,
    bytes: Array.from(f.bytes.subarray(f.start, f.start + f.caplen), (b) => b.toString(16).padStart(2, "0"))
      .join(""),
  };
  if (f.comment !== undefined) out.comment = f.comment;
  return out;
}

async function readBack(path: string): Promise<Facts[]> {
  const out: Facts[] = [];
  await (await openCapture(path)).run((f) => out.push(facts(f)));
  return out;
}

async function tsharkCount(path: string): Promise<number> {
  const out = await new Deno.Command("tshark", {
    args: ["-r", path, "-T", "fields", "-e", "frame.number"],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim().split("\n").length;
}

async function fixtureRing(): Promise<{ ring: PacketRing; original: Facts[] }> {
  const ring = new PacketRing();
  const original: Facts[] = [];
  await (await openCapture(HTTP)).run((f) => {
    ring.push(f);
    original.push(facts(f));
  });
  return { ring, original };
}

Deno.test("exportRing: the whole ring reads back identically, and opens in tshark", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { ring, original } = await fixtureRing();
    const r = await exportRing(ring, dir, { name: "all" });
    assert.equal(r.path, `${dir}/all.pcapng`);
    assert.equal(r.packets, original.length);
    assert.equal(r.bytes, (await Deno.stat(r.path)).size);
    assert.deepEqual(r.interfaces, [{ id: 0, iface: 0, link_type: 1 }]);
    assert.deepEqual(await readBack(r.path), original);
    if (hasTshark) assert.equal(await tsharkCount(r.path), original.length);
    // Never overwritten: the same name gets a number.
    const again = await exportRing(ring, dir, { name: "all.pcapng" });
    assert.equal(again.path, `${dir}/all-1.pcapng`);
    assert.equal((await exportRing(ring, dir, { name: "all" })).path, `${dir}/all-2.pcapng`);
    const dflt = await exportRing(ring, dir);
    assert.match(dflt.path, /netwatch-\d+\.pcapng$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportQuery and exportFlow: only the selected packets", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { ring, original } = await fixtureRing();
    const q = await exportQuery(ring, { protocol: "dns" }, dir, { name: "dns" }, () => {
      throw new Error("no BPF");
    });
    const dns = await readBack(q.path);
    assert.ok(dns.length > 0 && dns.length < original.length);
    for (const f of dns) assert.ok(original.some((o) => o.ts === f.ts && o.bytes === f.bytes));
    const fl = await exportFlow(ring, {
      proto: "tcp",
      src: "10.77.0.10",
      sport: 56128,
      dst: "10.77.0.20",
      dport: 80,
    }, dir);
    assert.equal(fl.packets, 69); // tshark -z conv,tcp: 69 frames
    if (hasTshark) assert.equal(await tsharkCount(fl.path), 69);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportRing: interfaces per (iface, link type), resolutions, comments, cut packets", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const ring = new PacketRing();
    const mk = (n: number, extra: Partial<Frame>): Frame => {
      const bytes = new Uint8Array(64).map((_, i) => (i * 7 + n) & 0xff);
      return {
        n,
        bytes,
        view: new DataView(bytes.buffer),
        start: 4,
        caplen: 40,
        len: 40,
        tsSec: 1700000000 + n,
        tsFrac: 123456,
        tsDigits: 6,
        linkType: 1,
        iface: 0,
        ...extra,
      };
    };
    ring.push(mk(1, { iface: 3, linkType: 101, tsDigits: 9, tsFrac: 123456789, comment: "first" }));
    ring.push(mk(2, { len: 1500 })); // cut by a snaplen
    ring.push(mk(3, { iface: 3, linkType: 101, tsDigits: 6 })); // coarser than its interface
    ring.push(mk(4, { iface: 3, linkType: 1 }));
    const r = await exportRing(ring, dir, { name: "mixed" });
    assert.deepEqual(r.interfaces, [
      { id: 0, iface: 3, link_type: 101 },
      { id: 1, iface: 0, link_type: 1 },
      { id: 2, iface: 3, link_type: 1 },
    ]);
    const back = await readBack(r.path);
    assert.deepEqual(back.map((f) => [f.iface, f.linkType, f.ts, f.len, f.caplen, f.comment]), [
      [0, 101, "1700000001.123456789", 40, 40, "first"],
      [1, 1, "1700000002.123456", 1500, 40, undefined],
      [0, 101, "1700000003.123456000", 40, 40, undefined],
      [2, 1, "1700000004.123456", 40, 40, undefined],
    ]);
    const want: string[] = [];
    for (const [, f] of ring.frames()) want.push(facts(f).bytes); // the frame is reused: read it at once
    assert.deepEqual(back.map((f) => f.bytes), want);
    if (hasTshark) assert.equal(await tsharkCount(r.path), 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exportRing: bad names and directories", async () => {
  const ring = new PacketRing();
  await assert.rejects(() => exportRing(ring, "/nonexistent/dir/x"), Deno.errors.NotFound);
  await assert.rejects(() => exportRing(ring, "/tmp", { name: "../evil" }), TypeError);
  const dir = await Deno.makeTempDir();
  try {
    const r = await exportRing(ring, dir, { name: "empty" });
    assert.equal(r.packets, 0);
    assert.deepEqual(await readBack(r.path), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
