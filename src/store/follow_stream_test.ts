import assert from "node:assert/strict";
import { openCapture } from "../capture/open_capture.ts";
import type { Frame } from "../capture/source.ts";
import { escapeText, flowSeqs, type FollowChunk, followStream } from "./follow_stream.ts";
import { PacketRing } from "./packet_ring.ts";
import { hex } from "../decode/_test_frame.ts";

// ---------------------------------------------------------------------------------------------------------
// Hand-built packets: Ethernet, IPv4 10.0.0.1 <-> 10.0.0.2, TCP 40000 <-> 80 (or UDP).

const A = [10, 0, 0, 1], B = [10, 0, 0, 2];
const enc = (s: string) => [...new TextEncoder().encode(s)];

function ip(src: number[], dst: number[], proto: number, body: number[]): number[] {
  const len = 20 + body.length;
  return [0x45, 0, len >> 8, len & 0xff, 0, 1, 0x40, 0, 64, proto, 0, 0, ...src, ...dst, ...body];
}

function be32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** A TCP segment from the client (`c`) or the server (`s`). Flags: S, A, F, R, P letters. */
function seg(
  from: "c" | "s",
  flags: string,
  seq: number,
  ack: number,
  payload: string | number[] = "",
): number[] {
  const f = [..."FSRPA"].reduce((m, ch, i) => flags.includes(ch) ? m | (i === 4 ? 0x10 : 1 << i) : m, 0);
  const [sp, dp] = from === "c" ? [40000, 80] : [80, 40000];
  const data = typeof payload === "string" ? enc(payload) : payload;
  const tcp = [
    sp >> 8,
    sp & 0xff,
    dp >> 8,
    dp & 0xff,
    ...be32(seq),
    ...be32(ack),
    0x50,
    f,
    0xff,
    0xff,
    0,
    0,
    0,
    0,
    ...data,
  ];
  const eth = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0];
  return [...eth, ...(from === "c" ? ip(A, B, 6, tcp) : ip(B, A, 6, tcp))];
}

function datagram(from: "c" | "s", payload: string): number[] {
  const data = enc(payload), len = 8 + data.length;
  const [sp, dp] = from === "c" ? [5000, 53] : [53, 5000];
  const u = [sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, len >> 8, len & 0xff, 0, 0, ...data];
  return [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, ...(from === "c" ? ip(A, B, 17, u) : ip(B, A, 17, u))];
}

function ringOf(packets: number[][], cut?: Map<number, number>): PacketRing {
  const ring = new PacketRing({ maxBytes: 1 << 20 });
  packets.forEach((p, i) => {
    const bytes = new Uint8Array(p);
    const caplen = cut?.get(i + 1) ?? bytes.length;
    const f: Frame = {
      n: i + 1,
      bytes,
      view: new DataView(bytes.buffer),
      start: 0,
      caplen,
      len: bytes.length,
      tsSec: 1700000000,
      tsFrac: i,
      tsDigits: 6,
      linkType: 1,
      iface: 0,
    };
    ring.push(f);
  });
  return ring;
}

/** Chunks as compact strings: `>text` (orig), `<text` (resp), `>[gap 3]`. */
function show(chunks: FollowChunk[]): string[] {
  return chunks.map((c) => (c.dir === "orig" ? ">" : "<") + ("gap" in c ? `[gap ${c.gap}]` : c.text));
}

const HANDSHAKE = [seg("c", "S", 999, 0), seg("s", "SA", 4999, 1000), seg("c", "A", 1000, 5000)];

// ---------------------------------------------------------------------------------------------------------

Deno.test("followStream: both directions in capture order, consecutive data merged", () => {
  const ring = ringOf([
    ...HANDSHAKE,
    seg("c", "PA", 1000, 5000, "GET / HTTP/1.1\r\n"),
    seg("c", "PA", 1016, 5000, "\r\n"),
    seg("s", "PA", 5000, 1018, "HTTP/1.1 200 OK\r\n\r\n"),
    seg("s", "PA", 5019, 1018, "body"),
    seg("c", "FA", 1018, 5023),
    seg("s", "FA", 5023, 1019),
  ]);
  const r = followStream(ring, { packet: 5 });
  assert.deepEqual(show(r.chunks), [">GET / HTTP/1.1\r\n\r\n", "<HTTP/1.1 200 OK\r\n\r\nbody"]);
  assert.deepEqual(r.chunks.map((c) => c.n_first), [4, 6]);
  assert.equal(r.orig, "10.0.0.1:40000");
  assert.equal(r.resp, "10.0.0.2:80");
  assert.equal(r.proto, "tcp");
  assert.equal(r.packets, 9);
  assert.deepEqual(r.bytes, { orig: 18, resp: 23 });
  assert.equal(r.shown_bytes, 41);
  assert.equal(r.omitted_bytes, undefined);
  // The same flow by its 5-tuple, given either way round.
  const back = followStream(ring, {
    proto: "tcp",
    src: "10.0.0.2",
    sport: 80,
    dst: "10.0.0.1",
    dport: 40000,
  });
  assert.deepEqual(back.chunks, r.chunks);
  assert.deepEqual(flowSeqs(ring, { packet: 1 }), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("followStream: retransmissions dropped, overlaps trimmed, out-of-order segments ordered", () => {
  const ring = ringOf([
    ...HANDSHAKE,
    seg("c", "PA", 1000, 5000, "abcd"),
    seg("c", "PA", 1008, 5000, "ijkl"), // ahead: waits
    seg("c", "PA", 1000, 5000, "abcd"), // retransmission
    seg("c", "PA", 1002, 5000, "cdefgh"), // overlaps 2, fills the hole
    seg("c", "PA", 1012, 5000, "mn"),
  ]);
  const r = followStream(ring, { packet: 1 });
  assert.deepEqual(show(r.chunks), [">abcdefghijklmn"]);
  assert.equal(r.retransmitted_bytes, 6);
  assert.equal(r.gap_bytes, undefined);
});

Deno.test("followStream: a hole the receiver acknowledged is a gap; a hole at the end too", () => {
  const ring = ringOf([
    ...HANDSHAKE,
    seg("c", "PA", 1000, 5000, "abcd"),
    // 1004..1007 never captured
    seg("c", "PA", 1008, 5000, "ijkl"),
    seg("s", "A", 5000, 1012), // the server has it all: the capture lost "efgh"
    seg("s", "PA", 5000, 1012, "ok"),
    seg("s", "PA", 5005, 1012, "late"), // 3 bytes never captured, never acknowledged
  ]);
  const r = followStream(ring, { packet: 1 });
  assert.deepEqual(show(r.chunks), [">abcd", ">[gap 4]", ">ijkl", "<ok", "<[gap 3]", "<late"]);
  assert.equal(r.gap_bytes, 7);
});

Deno.test("followStream: no handshake, sequence numbers wrapping past 2^32", () => {
  const top = 0xfffffffe;
  const ring = ringOf([
    seg("c", "PA", top, 1, "xy"),
    seg("c", "PA", 4, 1, "56"), // ahead of 0 (after the wrap)
    seg("c", "PA", 0, 1, "1234"),
  ]);
  assert.deepEqual(show(followStream(ring, { packet: 2 }).chunks), [">xy123456"]);
});

Deno.test("followStream: a segment cut by the snaplen is its captured bytes and a gap", () => {
  const ring = ringOf([
    ...HANDSHAKE,
    seg("c", "PA", 1000, 5000, "0123456789"),
    seg("c", "PA", 1010, 5000, "ab"),
  ], new Map([[4, 54 + 4]]));
  const r = followStream(ring, { packet: 4 });
  assert.deepEqual(show(r.chunks), [">0123", ">[gap 6]", ">ab"]);
});

Deno.test("followStream: bounded output says what was cut", () => {
  const ring = ringOf([
    ...HANDSHAKE,
    seg("c", "PA", 1000, 5000, "0123456789"),
    seg("s", "PA", 5000, 1010, "abcdefghij"),
    seg("c", "PA", 1010, 5010, "KLMNO"),
  ]);
  const r = followStream(ring, { packet: 4 }, { maxBytes: 12 });
  assert.deepEqual(show(r.chunks), [">0123456789", "<ab"]);
  assert.equal(r.shown_bytes, 12);
  assert.equal(r.omitted_bytes, 13);
  assert.deepEqual(r.bytes, { orig: 15, resp: 10 });
});

Deno.test("followStream: UDP datagrams one chunk each; base64 output", () => {
  const ring = ringOf([datagram("c", "q1"), datagram("c", "q2"), datagram("s", "a\x00")]);
  const r = followStream(ring, { proto: "udp", src: "10.0.0.1", sport: 5000, dst: "10.0.0.2", dport: 53 });
  assert.deepEqual(show(r.chunks), [">q1", ">q2", "<a\\x00"]);
  const b = followStream(ring, { packet: 3 }, { encoding: "base64" });
  assert.equal(b.orig, "10.0.0.1:5000");
  assert.deepEqual(b.chunks.map((c) => "bytes_base64" in c ? c.bytes_base64 : ""), ["cTE=", "cTI=", "YQA="]);
});

Deno.test("followStream: bad selectors", () => {
  const ring = ringOf([datagram("c", "q1")]);
  assert.throws(() => followStream(ring, { packet: 9 }), /Packet 9 is not in the packet store/);
  assert.throws(
    () => followStream(ring, { proto: "tcp", src: "x", sport: 1, dst: "10.0.0.1", dport: 2 }),
    TypeError,
  );
  assert.throws(() => followStream(ring, { packet: 1 }, { maxBytes: -1 }), RangeError);
  const empty = followStream(ring, { proto: "tcp", src: "10.0.0.1", sport: 1, dst: "10.0.0.2", dport: 2 });
  assert.equal(empty.packets, 0);
  assert.deepEqual(empty.chunks, []);
});

Deno.test("escapeText: printable kept, the rest escaped", () => {
  assert.equal(
    escapeText(new Uint8Array([0x41, 0x0d, 0x0a, 0x09, 0x5c, 0x00, 0xff])),
    "A\r\n\t\\\\\\x00\\xff",
  );
});

// ---------------------------------------------------------------------------------------------------------
// Against tshark

const HTTP = new URL("../../fixtures/benign/http_download.pcap", import.meta.url).pathname;
const hasTshark = await new Deno.Command("tshark", { args: ["--version"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

function join(parts: Uint8Array[]): string {
  return parts.map((p) => Array.from(p, (b) => b.toString(16).padStart(2, "0")).join("")).join("");
}

Deno.test({
  name: "followStream: every TCP stream of an HTTP download equals tshark -z follow,tcp,raw",
  ignore: !hasTshark,
  async fn() {
    const ring = new PacketRing();
    await (await openCapture(HTTP)).run((f) => ring.push(f));
    for (let stream = 0; stream < 3; stream++) {
      const out = await new Deno.Command("tshark", {
        args: ["-r", HTTP, "-q", "-z", `follow,tcp,raw,${stream}`],
        stdout: "piped",
        stderr: "null",
      }).output();
      const lines = new TextDecoder().decode(out.stdout).split("\n");
      const node0 = lines.find((l) => l.startsWith("Node 0: "))!.slice(8);
      const node1 = lines.find((l) => l.startsWith("Node 1: "))!.slice(8);
      const data = lines.filter((l) => /^\t?[0-9a-f]+$/.test(l));
      const orig = data.filter((l) => !l.startsWith("\t")).join("");
      const resp = data.filter((l) => l.startsWith("\t")).map((l) => l.slice(1)).join("");
      const [src, sport] = node0.split(":"), [dst, dport] = node1.split(":");
      const r = followStream(
        ring,
        { proto: "tcp", src, sport: Number(sport), dst, dport: Number(dport) },
        { maxBytes: 1 << 24, encoding: "base64" },
      );
      assert.equal(r.orig, node0);
      const mine = { orig: [] as Uint8Array[], resp: [] as Uint8Array[] };
      for (const c of r.chunks) {
        assert.ok(!("gap" in c), `stream ${stream}: unexpected gap`);
        if ("bytes_base64" in c) {
          mine[c.dir].push(Uint8Array.from(atob(c.bytes_base64!), (ch) => ch.charCodeAt(0)));
        }
      }
      assert.ok(orig.length > 0 && resp.length > 0);
      assert.equal(join(mine.orig), orig, `stream ${stream} orig`);
      assert.equal(join(mine.resp), resp, `stream ${stream} resp`);
      assert.equal(r.bytes.resp, hex(resp).length);
    }
  },
});

Deno.test("followStream: seeded shuffles and retransmissions of a stream always reassemble it", () => {
  let seed = 12345;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const text = "The quick brown fox jumps over the lazy dog. ".repeat(8);
  for (let iter = 0; iter < 200; iter++) {
    const isn = (0xffffff00 + rand(512)) >>> 0; // some runs wrap past 2^32
    const segs: number[][] = [];
    for (let off = 0; off < text.length;) {
      const len = 1 + rand(40);
      segs.push(seg("c", "PA", (isn + 1 + off) >>> 0, 5000, text.slice(off, off + len)));
      off += len;
    }
    // Local reordering (within a window) and duplicates, as a network does.
    for (let i = 0; i < segs.length; i++) {
      const j = Math.min(segs.length - 1, i + rand(4));
      [segs[i], segs[j]] = [segs[j], segs[i]];
    }
    for (let k = rand(5); k > 0; k--) segs.splice(rand(segs.length), 0, segs[rand(segs.length)]);
    const ring = ringOf([seg("c", "S", isn, 0), seg("s", "SA", 4999, (isn + 1) >>> 0), ...segs]);
    const r = followStream(ring, { packet: 1 });
    assert.deepEqual(show(r.chunks), [">" + text], `iteration ${iter}`);
    const cut = followStream(ring, { packet: 1 }, { maxBytes: 50 });
    assert.equal(cut.shown_bytes, 50);
    assert.equal(cut.omitted_bytes, text.length - 50);
  }
});
