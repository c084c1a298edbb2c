import assert from "node:assert/strict";
import { openCapture } from "../capture/open_capture.ts";
import type { Frame } from "../capture/source.ts";
import { PacketRing } from "./packet_ring.ts";
import { getPacket, type PacketFilter, parseIpv6, queryCapture, queryPackets } from "./packet_query.ts";
import { hex as hexBytes } from "../decode/_test_frame.ts";

const hex = (text: string): number[] => [...hexBytes(text)];

// ---------------------------------------------------------------------------------------------------------
// Hand-built packets

const ETH_IP = hex("020000000002 020000000001 0800"); // dst, src, IPv4
const ascii = (s: string) => [...new TextEncoder().encode(s)];

function ipv4(src: string, dst: string, proto: number, body: number[]): number[] {
  const a = src.split(".").map(Number), b = dst.split(".").map(Number);
  const len = 20 + body.length;
  // 45 00 len | id 0001, DF | ttl 64, proto, checksum 0 | src | dst
  return [0x45, 0, len >> 8, len & 0xff, 0, 1, 0x40, 0, 64, proto, 0, 0, ...a, ...b, ...body];
}

function tcp(sport: number, dport: number, flags: number, seq: number, payload: number[] = []): number[] {
  // sport dport | seq | ack 0 | hlen 5, flags | win 65535 | checksum 0 | urg 0
  // deno-fmt-ignore
  return [
    sport >> 8, sport & 0xff, dport >> 8, dport & 0xff,
    seq >>> 24, (seq >> 16) & 0xff, (seq >> 8) & 0xff, seq & 0xff,
    0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0,
    ...payload,
  ];
}

function udp(sport: number, dport: number, payload: number[]): number[] {
  const len = 8 + payload.length;
  return [sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff, 0, 0, ...payload];
}

/** DNS query for `name`, type A: id 1234, RD. */
function dnsQuery(name: string): number[] {
  const labels = name.split(".").flatMap((l) => [l.length, ...ascii(l)]);
  return [...hex("1234 0100 0001 0000 0000 0000"), ...labels, 0, 0, 1, 0, 1];
}

// ICMP echo request: type 8, code 0, checksum 0, id 7, seq 1, "ping"
const ICMP_ECHO = [8, 0, 0, 0, 0, 7, 0, 1, ...ascii("ping")];
// ARP who-has 10.0.0.9 tell 10.0.0.1
const ARP = hex(
  "ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 0a000001 000000000000 0a000009",
);

const PACKETS: number[][] = [
  /* 1 */ [...ETH_IP, ...ipv4("10.0.0.1", "10.0.0.2", 6, tcp(40000, 80, 0x02, 1000))], // SYN
  /* 2 */ [...ETH_IP, ...ipv4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, 0x12, 5000))], // SYN-ACK
  /* 3 */ [
    ...ETH_IP,
    ...ipv4(
      "10.0.0.1",
      "10.0.0.2",
      6,
      tcp(40000, 80, 0x18, 1001, ascii("GET /Secret HTTP/1.1\r\nHost: x\r\n\r\n")),
    ),
  ],
  /* 4 */ [...ETH_IP, ...ipv4("10.0.0.1", "192.168.5.5", 17, udp(5353, 53, dnsQuery("www.Example.com")))],
  /* 5 */ [...ETH_IP, ...ipv4("10.0.0.1", "192.168.5.5", 17, udp(5354, 53, dnsQuery("notexample.com")))],
  /* 6 */ [...ETH_IP, ...ipv4("10.0.0.3", "10.0.0.1", 1, ICMP_ECHO)],
  /* 7 */ ARP,
  /* 8 */ [...ETH_IP, ...ipv4("10.0.0.2", "10.0.0.1", 6, tcp(80, 40000, 0x04, 5001))], // RST
];

function frameOf(n: number, bytes: number[], tsSec = 1700000000, tsFrac = n * 1000): Frame {
  const b = new Uint8Array([0xaa, 0xaa, 0xaa, ...bytes, 0xbb]);
  return {
    n,
    bytes: b,
    view: new DataView(b.buffer),
    start: 3,
    caplen: bytes.length,
    len: bytes.length,
    tsSec,
    tsFrac,
    tsDigits: 6,
    linkType: 1,
    iface: 0,
  };
}

function handRing(): PacketRing {
  const ring = new PacketRing({ maxBytes: 1 << 20 });
  PACKETS.forEach((p, i) => ring.push(frameOf(i + 1, p)));
  return ring;
}

function ns(ring: PacketRing, filter: PacketFilter): number[] {
  const r = queryPackets(ring, filter, { limit: 1000 }, noBpf);
  assert.equal(r.total, r.packets.length);
  return r.packets.map((p) => p.n as number);
}

/** A BPF compiler for tests that must not need libpcap. */
const noBpf = () => {
  throw new Error("no BPF in this test");
};

let libpcap = true;
try {
  const { compileFilter } = await import("../../ffi/filter.ts");
  compileFilter("tcp").close();
} catch {
  libpcap = false;
}
const hasTcpdump = await new Deno.Command("tcpdump", { args: ["--version"], stdout: "null", stderr: "null" })
  .output().then((o) => o.success, () => false);

// ---------------------------------------------------------------------------------------------------------

Deno.test("queryPackets: protocol", () => {
  const ring = handRing();
  assert.deepEqual(ns(ring, {}), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(ns(ring, { protocol: "tcp" }), [1, 2, 3, 8]);
  assert.deepEqual(ns(ring, { protocol: "udp" }), [4, 5]);
  assert.deepEqual(ns(ring, { protocol: "dns" }), [4, 5]);
  assert.deepEqual(ns(ring, { protocol: "http" }), [3]);
  assert.deepEqual(ns(ring, { protocol: "ICMP" }), [6]);
  assert.deepEqual(ns(ring, { protocol: "arp" }), [7]);
  assert.deepEqual(ns(ring, { protocol: ["arp", "icmp"] }), [6, 7]);
  assert.deepEqual(ns(ring, { protocol: "ip" }), [1, 2, 3, 4, 5, 6, 8]);
  assert.deepEqual(ns(ring, { protocol: "ipv6" }), []);
  assert.deepEqual(ns(ring, { protocol: "tls" }), []);
});

Deno.test("queryPackets: host, prefix, direction and ports", () => {
  const ring = handRing();
  assert.deepEqual(ns(ring, { host: "10.0.0.2" }), [1, 2, 3, 8]);
  assert.deepEqual(ns(ring, { host: "10.0.0.9" }), [7]); // the ARP target
  assert.deepEqual(ns(ring, { host: "192.168.0.0/16" }), [4, 5]);
  assert.deepEqual(ns(ring, { src_host: "10.0.0.2" }), [2, 8]);
  assert.deepEqual(ns(ring, { dst_host: "10.0.0.2" }), [1, 3]);
  assert.deepEqual(ns(ring, { src_host: "10.0.0.1", dst_host: "10.0.0.0/24" }), [1, 3, 7]); // 7: ARP
  assert.deepEqual(ns(ring, { host: "::1" }), []);
  assert.deepEqual(ns(ring, { port: 80 }), [1, 2, 3, 8]);
  assert.deepEqual(ns(ring, { port: 5354 }), [5]);
  assert.deepEqual(ns(ring, { src_port: 80 }), [2, 8]);
  assert.deepEqual(ns(ring, { dst_port: 53, src_port: 5353 }), [4]);
});

Deno.test("queryPackets: time range, inclusive, exact at any precision", () => {
  const ring = handRing(); // packet n at 1700000000.00n000
  assert.deepEqual(ns(ring, { from_ts: "1700000000.003", to_ts: "1700000000.005000000" }), [3, 4, 5]);
  assert.deepEqual(ns(ring, { from_ts: 1700000000.007 }), [7, 8]);
  assert.deepEqual(ns(ring, { to_ts: "1700000000.0019999" }), [1]);
  assert.deepEqual(ns(ring, { from_ts: "1700000001" }), []);
  assert.throws(() => queryPackets(ring, { from_ts: "yesterday" }), TypeError);
});

Deno.test("queryPackets: TCP flags by name, negation and mask", () => {
  const ring = handRing();
  assert.deepEqual(ns(ring, { tcp_flags: "syn" }), [1, 2]);
  assert.deepEqual(ns(ring, { tcp_flags: "syn,!ack" }), [1]);
  assert.deepEqual(ns(ring, { tcp_flags: "SYN+ACK" }), [2]);
  assert.deepEqual(ns(ring, { tcp_flags: "rst" }), [8]);
  assert.deepEqual(ns(ring, { tcp_flags: 0x18 }), [3]);
  assert.deepEqual(ns(ring, { tcp_flags: "0x12" }), [2]);
  assert.throws(() => queryPackets(ring, { tcp_flags: "sin" }), /Unknown TCP flag "sin"/);
});

Deno.test("queryPackets: DNS name suffix on label boundaries, any case", () => {
  const ring = handRing();
  assert.deepEqual(ns(ring, { dns_name: "example.com" }), [4]);
  assert.deepEqual(ns(ring, { dns_name: "EXAMPLE.com." }), [4]);
  assert.deepEqual(ns(ring, { dns_name: "com" }), [4, 5]);
  assert.deepEqual(ns(ring, { dns_name: "ample.com" }), []);
});

Deno.test("queryPackets: payload text, ASCII case-insensitive", () => {
  const ring = handRing();
  assert.deepEqual(ns(ring, { contains: "secret" }), [3]);
  assert.deepEqual(ns(ring, { contains: "HOST: X" }), [3]);
  assert.deepEqual(ns(ring, { contains: "PING" }), [6]);
  assert.deepEqual(ns(ring, { contains: "GET", port: 53 }), []);
});

Deno.test("queryPackets: bad filters are clear errors", () => {
  const ring = handRing();
  assert.throws(() => queryPackets(ring, { hots: "1.2.3.4" } as PacketFilter), /Unknown filter field "hots"/);
  assert.throws(() => queryPackets(ring, { protocol: "htpp" }), /Unknown protocol "htpp"/);
  assert.throws(() => queryPackets(ring, { host: "10.0.0.256" }), TypeError);
  assert.throws(() => queryPackets(ring, { host: "10.0.0.0/33" }), TypeError);
  assert.throws(() => queryPackets(ring, { port: 70000 }), RangeError);
  assert.throws(() => queryPackets(ring, {}, { limit: -1 }), RangeError);
});

Deno.test({
  name: "queryPackets: a bad BPF expression is libpcap's error",
  ignore: !libpcap,
  fn() {
    assert.throws(
      () => queryPackets(handRing(), { bpf: "tcp port" }),
      /Invalid filter "tcp port": .*syntax error/,
    );
    assert.throws(() => queryPackets(new PacketRing(), { bpf: "nonsense here" }), /Invalid filter/);
  },
});

Deno.test({
  name: "queryPackets: BPF with other filters",
  ignore: !libpcap,
  fn() {
    const ring = handRing();
    const r = queryPackets(ring, { bpf: "tcp[tcpflags] & tcp-syn != 0", src_host: "10.0.0.1" });
    assert.deepEqual(r.packets.map((p) => p.n), [1]);
    assert.deepEqual(queryPackets(ring, { bpf: "arp or icmp" }).packets.map((p) => p.n), [6, 7]);
  },
});

Deno.test("parseIpv6: RFC 4291 text forms", () => {
  assert.deepEqual([...parseIpv6("::1")!], [...new Array(15).fill(0), 1]);
  assert.deepEqual([...parseIpv6("2001:db8::ff00:42:8329")!].slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  assert.deepEqual([...parseIpv6("::ffff:10.0.0.1")!].slice(10), [0xff, 0xff, 10, 0, 0, 1]);
  assert.equal(parseIpv6("1::2::3"), undefined);
  assert.equal(parseIpv6("1:2:3:4:5:6:7"), undefined);
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), undefined);
});

Deno.test("queryPackets: pages with a cursor that survives eviction and new packets", () => {
  // Room for about 20 packets of 100 bytes.
  const ring = new PacketRing({ maxBytes: 20 * 148, slabBytes: 500 });
  const push = (n: number) => {
    const pkt = [
      ...ETH_IP,
      ...ipv4("10.0.0.1", "10.0.0.2", 17, udp(1000 + (n % 2), 9, new Array(50).fill(n & 0xff))),
    ];
    ring.push(frameOf(n, pkt.concat(new Array(100 - pkt.length).fill(0))));
  };
  for (let n = 1; n <= 20; n++) push(n);
  const filter: PacketFilter = { src_port: 1001 }; // odd n
  const p1 = queryPackets(ring, filter, { limit: 3 }, noBpf);
  assert.deepEqual(p1.packets.map((p) => p.n), [1, 3, 5]);
  assert.equal(p1.total, 10);
  assert.equal(p1.remaining, 7);
  const p2 = queryPackets(ring, filter, { limit: 3, cursor: p1.cursor }, noBpf);
  assert.deepEqual(p2.packets.map((p) => p.n), [7, 9, 11]);
  assert.equal(p2.skipped_evicted, undefined);
  // 10 more packets arrive: 1..10 are evicted, including n = 6..10 not yet read.
  for (let n = 21; n <= 30; n++) push(n);
  assert.equal(ring.firstSeq, 11);
  const p3 = queryPackets(ring, filter, { limit: 3, cursor: p1.cursor }, noBpf);
  assert.deepEqual(p3.packets.map((p) => p.n), [11, 13, 15]);
  assert.equal(p3.skipped_evicted, 5); // seqs 6..10, after the cursor, went before they were read
  const p4 = queryPackets(ring, filter, { limit: 3, cursor: p2.cursor }, noBpf);
  assert.deepEqual(p4.packets.map((p) => p.n), [13, 15, 17]);
  assert.equal(p4.skipped_evicted, undefined);
  // Read to the end; the last cursor then waits for new packets.
  let page = p4, seen = [...p4.packets.map((p) => p.n)];
  while (page.remaining > 0) {
    page = queryPackets(ring, filter, { limit: 3, cursor: page.cursor }, noBpf);
    seen = seen.concat(page.packets.map((p) => p.n));
  }
  assert.deepEqual(seen, [13, 15, 17, 19, 21, 23, 25, 27, 29]);
  const idle = queryPackets(ring, filter, { cursor: page.cursor }, noBpf);
  assert.deepEqual(idle.packets, []);
  push(31);
  push(32);
  assert.deepEqual(queryPackets(ring, filter, { cursor: page.cursor }, noBpf).packets.map((p) => p.n), [31]);
  // A cursor is bound to its filter and its ring.
  assert.throws(() => queryPackets(ring, { src_port: 1000 }, { cursor: page.cursor }), /different filter/);
  assert.throws(() => queryPackets(handRing(), filter, { cursor: page.cursor }), /another packet store/);
  assert.throws(() => queryPackets(ring, filter, { cursor: "garbage!" }), /Invalid cursor/);
});

Deno.test("getPacket: the record and a bounded hex dump", () => {
  const ring = handRing();
  const d = getPacket(ring, 3)!;
  assert.equal(d.packet.n, 3);
  assert.equal((d.packet.http as { method?: string }).method, "GET");
  assert.ok(d.hex.startsWith("0000  02 00 00 00 00 02 02 00  00 00 00 01 08 00 45 00  "));
  assert.equal(d.hex_shown, PACKETS[2].length);
  assert.equal(d.hex_omitted, undefined);
  const small = getPacket(ring, 3, { maxDumpBytes: 32 })!;
  assert.equal(small.hex_omitted, PACKETS[2].length - 32);
  assert.match(small.hex, /more bytes not shown/);
  assert.equal(getPacket(ring, 99), undefined);
});

// ---------------------------------------------------------------------------------------------------------
// Fixtures

const FIXTURES = ["fixtures/demo.pcap", "fixtures/benign/http_download.pcap"].map((p) =>
  new URL(`../../${p}`, import.meta.url).pathname
);

async function ringOf(path: string): Promise<PacketRing> {
  const ring = new PacketRing();
  const src = await openCapture(path);
  await src.run((f) => ring.push(f));
  return ring;
}

async function tcpdumpCount(path: string, expr: string): Promise<number> {
  const out = await new Deno.Command("tcpdump", {
    args: ["-r", path, "-nn", expr],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  assert.ok(out.success, `tcpdump -r ${path} ${expr}`);
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "").length;
}

Deno.test({
  name: "queryPackets: BPF counts equal tcpdump's on fixtures",
  ignore: !libpcap || !hasTcpdump,
  async fn() {
    const exprs = [
      "tcp",
      "udp port 53",
      "tcp[tcpflags] & tcp-syn != 0",
      "host 10.77.0.20 and greater 1000",
      "icmp",
    ];
    for (const path of FIXTURES) {
      const ring = await ringOf(path);
      for (const expr of exprs) {
        const r = queryPackets(ring, { bpf: expr }, { limit: 0 });
        assert.equal(r.total, await tcpdumpCount(path, expr), `${path}: ${expr}`);
      }
    }
  },
});

Deno.test("queryCapture: the same matches as the ring, paged by frame number", async () => {
  const path = FIXTURES[1];
  const ring = await ringOf(path);
  const filter: PacketFilter = { protocol: "http" };
  const all = queryPackets(ring, filter, { limit: 1000 }, noBpf);
  assert.ok(all.total > 0);
  let page = await queryCapture(path, filter, { limit: 2 }, noBpf);
  assert.equal(page.total, all.total);
  const seen = page.packets;
  while (page.remaining > 0) {
    page = await queryCapture(path, filter, { limit: 2, cursor: page.cursor }, noBpf);
    seen.push(...page.packets);
  }
  assert.deepEqual(seen, all.packets);
  await assert.rejects(
    () => queryCapture(FIXTURES[0], filter, { cursor: page.cursor }, noBpf),
    /another file/,
  );
  await assert.rejects(() => queryCapture(path, filter, { cursor: all.cursor }, noBpf), /file query/);
  // Filters agree with the records they return.
  const dns = queryPackets(ring, { dns_name: "example.com" }, { limit: 1000 }, noBpf);
  for (const p of dns.packets) assert.ok(JSON.stringify(p.dns).includes("example.com"));
});

Deno.test("queryPackets: seeded truncations and bit flips never throw", () => {
  let seed = 99;
  const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n);
  const ring = new PacketRing({ maxBytes: 1 << 20 });
  for (let n = 1; n <= 3000; n++) {
    const p = [...PACKETS[rand(PACKETS.length)]];
    for (let k = rand(4); k > 0; k--) p[rand(p.length)] ^= 1 << rand(8);
    ring.push(frameOf(n, p.slice(0, rand(p.length + 1))));
  }
  const filter: PacketFilter = {
    protocol: ["tcp", "dns", "arp", "icmp"],
    host: "10.0.0.0/8",
    tcp_flags: "!fin",
    from_ts: 0,
  };
  const all = queryPackets(ring, {}, { limit: 10000 }, noBpf);
  assert.equal(all.total, 3000);
  for (const f of [filter, { dns_name: "com" }, { contains: "e" }, { port: 80, src_host: "10.0.0.1" }]) {
    const r = queryPackets(ring, f, { limit: 10 }, noBpf);
    assert.ok(r.total <= 3000);
  }
});
