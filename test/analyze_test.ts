/**
 * `netwatch analyze`'s figures against independent counts:
 * - tshark's own statistics on fixtures and public captures: `-z io,phs` (protocol hierarchy),
 *   `-z conv,ip`/`conv,ipv6` (IP conversations), `-z dns,tree` (DNS messages, query types, rcodes) and
 *   `-z http,tree` (request methods, responses, status codes), parsed from tshark's text output (one
 *   tshark run per file, cached by file content like `_tshark.ts`);
 * - a hand-built capture whose counts are known by construction, written with `PcapWriter` and run
 *   through the CLI, so the JSON shape and the readable report are checked end to end.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { openCapture } from "../src/capture/open_capture.ts";
import { PcapWriter } from "../src/capture/pcap_writer.ts";
import { runSource } from "../src/engine.ts";
import { clientHello, dnsQuery, frameBytes, type PacketSpec } from "../src/flow/_test_packets.ts";
import type { ProtocolNodeRecord } from "../src/stats/protocol_hierarchy.ts";
import { Analysis } from "../src/stats/analysis.ts";
import { hasProgram, runCli, sharedPcaps } from "./_run.ts";
import { pool } from "./_tshark.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const pcaps = sharedPcaps();
const noTshark = !hasProgram("tshark");
if (noTshark) console.log("analyze tshark tests skipped: tshark is missing");

const cacheRoot = Deno.env.get("NETWATCH_TEST_CACHE") ??
  `${Deno.env.get("HOME") ?? "/tmp"}/.cache/netwatch-test`;

/** tshark's statistics text for `path`, cached by file content. */
async function tsharkStats(path: string): Promise<string> {
  const args = [
    "-n",
    "-r",
    path,
    "-q",
    "-z",
    "io,phs",
    "-z",
    "conv,ip",
    "-z",
    "conv,ipv6",
    "-z",
    "dns,tree,dns.flags.response==0",
    "-z",
    "dns,tree,dns.flags.response==1",
    "-z",
    "http,tree",
  ];
  const key = createHash("sha1").update(await Deno.readFile(path)).update(JSON.stringify(args.slice(3)))
    .digest("hex");
  const file = `${cacheRoot}/tshark-stats/${key}.txt`;
  try {
    return await Deno.readTextFile(file);
  } catch {
    const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "null", stdin: "null" })
      .output();
    const text = new TextDecoder().decode(out.stdout);
    await Deno.mkdir(`${cacheRoot}/tshark-stats`, { recursive: true });
    await Deno.writeTextFile(file, text);
    return text;
  }
}

/** `-z io,phs` as a map from path (`eth/ip/udp`) to frames and bytes. */
function parsePhs(text: string): Map<string, { frames: number; bytes: number }> {
  const out = new Map<string, { frames: number; bytes: number }>();
  const start = text.indexOf("Protocol Hierarchy Statistics");
  if (start < 0) return out;
  const stack: string[] = [];
  for (const line of text.slice(start).split("\n")) {
    const m = /^( *)(\S+)\s+frames:(\d+) bytes:(\d+)/.exec(line);
    if (m === null) continue;
    const depth = m[1].length / 2;
    stack.length = depth;
    stack.push(m[2]);
    out.set(stack.join("/"), { frames: Number(m[3]), bytes: Number(m[4]) });
  }
  return out;
}

/** tshark's layer names -> netwatch's, for the layers both name. */
const PHS_NAMES: Record<string, string> = {
  eth: "eth",
  vlan: "vlan",
  ip: "ipv4",
  ipv6: "ipv6",
  arp: "arp",
  tcp: "tcp",
  udp: "udp",
  icmp: "icmp",
  icmpv6: "icmp6",
  dns: "dns",
  mdns: "dns",
  llmnr: "dns",
  http: "http",
  tls: "tls",
  vxlan: "vxlan",
};

/**
 * Layers counted on different segments, so left out of the hierarchy comparison: tshark counts an HTTP
 * message or TLS record on the segment that completes its reassembly, netwatch on each segment where a
 * message head or record starts. HTTP is compared by message counts instead (`http.request`,
 * `http.response`).
 */
const SEGMENTED = new Set(["http", "tls"]);

/** netwatch's hierarchy flattened like `parsePhs`, with netwatch's names. */
function flattenPhs(tree: Record<string, ProtocolNodeRecord>, prefix = "", out = new Map()) {
  for (const [name, node] of Object.entries(tree)) {
    const path = prefix ? `${prefix}/${name}` : name;
    out.set(path, { frames: node.packets, bytes: node.bytes });
    if (node.children) flattenPhs(node.children, path, out);
  }
  return out as Map<string, { frames: number; bytes: number }>;
}

interface Conv {
  a: string;
  b: string;
  frames: [number, number];
  bytes: [number, number];
  total: number;
  totalBytes: number;
}

const UNITS: Record<string, number> = { bytes: 1, kB: 1e3, MB: 1e6, GB: 1e9 };

/** Conversation rows of `-z conv,ip` and `conv,ipv6`. Bytes carry tshark's unit (exact only below 10 kB). */
function parseConv(text: string): Conv[] {
  const out: Conv[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+)\s+<->\s+(\S+)\s+(\d+) (\d+) (\w+)\s+(\d+) (\d+) (\w+)\s+(\d+) (\d+) (\w+)/.exec(line);
    if (m === null) continue;
    const size = (n: string, unit: string) => Number(n) * UNITS[unit];
    out.push({
      a: m[1],
      b: m[2],
      frames: [Number(m[3]), Number(m[6])],
      bytes: [size(m[4], m[5]), size(m[7], m[8])],
      total: Number(m[9]),
      totalBytes: size(m[10], m[11]),
    });
  }
  return out;
}

/** One `-z dns,tree` section: total packets and the children of `rcode` and `Query Type`. */
interface DnsTree {
  total: number;
  responses: boolean;
  rcodes: Map<string, number>;
  qtypes: Map<string, number>;
}

/** tshark's rcode wording -> RFC mnemonics. */
const TSHARK_RCODES: Record<string, string> = {
  "No error": "NOERROR",
  "Format error": "FORMERR",
  "Server failure": "SERVFAIL",
  "No such name": "NXDOMAIN",
  "Not implemented": "NOTIMP",
  "Refused": "REFUSED",
};

function parseDnsTrees(text: string): DnsTree[] {
  const out: DnsTree[] = [];
  for (const section of text.split(/\nDNS:\n/).slice(1)) {
    const tree: DnsTree = { total: 0, responses: false, rcodes: new Map(), qtypes: new Map() };
    let parent = "";
    for (const line of section.split("\n")) {
      const m = /^( *)(\S.*?)\s{2,}(\d+)\s/.exec(line);
      if (m === null) {
        if (line.startsWith("-----") && tree.total > 0) break;
        continue;
      }
      const depth = m[1].length, name = m[2], n = Number(m[3]);
      if (depth === 0 && name === "Total Packets") tree.total = n;
      else if (depth === 1) parent = name;
      else if (depth === 2 && parent === "rcode") tree.rcodes.set(TSHARK_RCODES[name] ?? name, n);
      else if (depth === 2 && parent === "Query Type") {
        const type = name.split(" ")[0];
        tree.qtypes.set(type === "*" ? "ANY" : type, n); // tshark shows QTYPE 255 as "*"
      } else if (depth === 2 && parent === "Query/Response" && name === "Response") tree.responses = true;
    }
    out.push(tree);
  }
  return out;
}

/** `-z http,tree`: request methods, responses and their status codes (zero rows left out). */
function parseHttpTree(
  text: string,
): { methods: Map<string, number>; responses: number; statuses: Map<string, number> } {
  const out = { methods: new Map<string, number>(), responses: 0, statuses: new Map<string, number>() };
  const start = text.indexOf("HTTP/Packet Counter:");
  if (start < 0) return out;
  let parent = "";
  for (const line of text.slice(start).split("\n").slice(4)) {
    if (line.startsWith("-----")) break;
    const m = /^( *)(\S.*?)\s{2,}(\d+)/.exec(line);
    if (m === null) continue;
    const depth = m[1].length, name = m[2], n = Number(m[3]);
    if (depth === 1) parent = name;
    if (depth === 1 && name === "HTTP Response Packets") out.responses = n;
    else if (depth === 2 && parent === "HTTP Request Packets" && n > 0) out.methods.set(name, n);
    else if (depth === 3 && parent === "HTTP Response Packets" && n > 0) {
      out.statuses.set(name.split(" ")[0], n);
    }
  }
  return out;
}

/** Runs the analysis over a file with lists long enough to hold everything. */
async function analyse(path: string): Promise<{ a: Analysis; json: Record<string, unknown> }> {
  const a = new Analysis({ top: 100_000 });
  const source = await openCapture(path);
  const r = await runSource(source, (p) => a.add(p));
  assert.equal(r.error, undefined, `${path}: ${r.error}`);
  return { a, json: a.toJSON() };
}

const toMap = (list: { items: { value: string; count: number }[] }) =>
  new Map(list.items.map((i) => [i.value, i.count]));

/** The project's fixtures checked against tshark (see `SEGMENTED` for the layers left out). */
const AGREEMENT_FILES: string[] = [
  "fixtures/demo.pcap",
  "fixtures/benign/dns_browsing.pcap",
  "fixtures/benign/http_download.pcap",
  "fixtures/benign/tls_download.pcap",
  "fixtures/benign/ping.pcap",
  "fixtures/benign/video_udp.pcap",
  "fixtures/attacks/dga.pcap",
  "fixtures/attacks/dns_tunnel.pcap",
  "fixtures/attacks/scan_syn_v6.pcap",
  "fixtures/attacks/synflood.pcap",
];

/**
 * Public captures checked the same way, chosen to cover DNS over UDP and TCP, mDNS, EDNS, VLAN, QinQ,
 * VXLAN, pcapng and HTTP. Captures where the two disagree because a decoder reads damaged or segmented
 * messages differently (malformed DNS records, HTTP messages split over segments) are not listed: that
 * is the decoders' agreement, tested in `corpus_tshark_test.ts`.
 */
const CORPUS_FILES: string[] = [
  "corpus/mcpcap/dns.pcap",
  "corpus/zeek/conn-size.pcap",
  "corpus/zeek/dns53.pcap",
  "corpus/zeek/dns-edns-tcp-keepalive.pcap",
  "corpus/zeek/dns_long-connection.pcap",
  "corpus/zeek/dns_mdns.pcap",
  "corpus/zeek/dns_dns-corrupt.pcap",
  "corpus/zeek/dns_dns_extended_rcode.pcap",
  "corpus/zeek/dnssec_nsec3.pcap",
  "corpus/zeek/http-vlan-0.pcap",
  "corpus/zeek/http-qinq-0.pcap",
  "corpus/zeek/http_get_nosyn.pcap",
  "corpus/zeek/http_methods.pcap",
  "corpus/zeek/http_bro.org-filtered.pcap",
  "corpus/zeek/http_cooper-grill-dvwa.pcapng",
  "corpus/tcpdump/gso-ipv4-vxlan-ipv6.pcap",
  "corpus/tcpdump/bigtcp-ipv6-vxlan-ipv4.pcap",
];

/**
 * Response codes netwatch reads differently on purpose: tshark's dns,tree counts the header's 4-bit
 * RCODE, netwatch the full RCODE with EDNS's upper bits (RFC 6891 section 6.1.3).
 */
const RCODE_DIFFERENCES: Record<string, [string, string]> = {
  "dns_dns_extended_rcode.pcap": ["NOERROR", "BADVERS"],
};

let prefetched: Promise<unknown> | undefined;

/** Runs tshark over every listed file at once on first use (its outputs are cached): one at a time is slow. */
function prefetch(): Promise<unknown> {
  const paths = [
    ...AGREEMENT_FILES.map((f) => ROOT + f),
    ...(pcaps ? CORPUS_FILES.map((f) => `${pcaps}/${f}`) : []),
  ];
  return prefetched ??= pool(paths, 4, tsharkStats);
}

async function checkAgainstTshark(path: string): Promise<void> {
  await prefetch();
  const text = await tsharkStats(path);
  const { a, json } = await analyse(path);

  // Protocol hierarchy: every tshark node whose path is made of layers both name has the same frames
  // and bytes in netwatch's tree, and the other way round.
  const theirs = new Map<string, { frames: number; bytes: number }>();
  for (const [path, v] of parsePhs(text)) {
    const names = path.split("/");
    if (names.every((n) => PHS_NAMES[n] !== undefined)) {
      theirs.set(names.map((n) => PHS_NAMES[n]).join("/"), v);
    }
  }
  assert.ok(theirs.size > 0, `${path}: no io,phs output`);
  const ours = flattenPhs(json.protocols as Record<string, ProtocolNodeRecord>);
  const known = new Set(Object.values(PHS_NAMES));
  const compared = (p: string) => !p.split("/").some((n) => SEGMENTED.has(n));
  for (const [p, v] of theirs) if (compared(p)) assert.deepEqual(ours.get(p), v, `${path}: io,phs ${p}`);
  for (const [p, v] of ours) {
    if (compared(p) && p.split("/").every((n) => known.has(n))) {
      assert.deepEqual(v, theirs.get(p), `${path}: ours ${p}`);
    }
  }

  // IP conversations: frames exactly (per direction as a pair, since tshark's column order is its own),
  // bytes to tshark's printed unit.
  const convs = parseConv(text);
  const pairs = new Map([...a.hosts.conversations()].map((c) => [[c.a, c.b].sort().join(" "), c]));
  assert.equal(pairs.size, convs.length, `${path}: conversation count`);
  for (const c of convs) {
    const p = pairs.get([c.a, c.b].sort().join(" "));
    assert.ok(p, `${path}: conversation ${c.a} <-> ${c.b} missing`);
    assert.equal(p.packets, c.total, `${path}: ${c.a} <-> ${c.b} frames`);
    assert.deepEqual(
      [p.packets_a_to_b, p.packets_b_to_a].sort(),
      [...c.frames].sort(),
      `${path}: directions`,
    );
    const unit = c.totalBytes >= 10_000 ? 10 ** (Math.floor(Math.log10(c.totalBytes) / 3) * 3) : 1;
    assert.ok(Math.abs(p.bytes - c.totalBytes) < unit, `${path}: ${c.a} <-> ${c.b} bytes ${p.bytes}`);
  }

  // HTTP: the methods of the requests, and the responses with their status codes.
  const http = json.http as
    & Record<string, unknown>
    & Record<string, { items: { value: string; count: number }[] }>;
  const h = parseHttpTree(text);
  assert.deepEqual(toMap(http.methods), h.methods, `${path}: HTTP methods`);
  assert.equal(http.responses, h.responses, `${path}: HTTP responses`);
  assert.deepEqual(toMap(http.status_codes), h.statuses, `${path}: HTTP status codes`);

  // DNS: query and response counts, query types of the queries, rcodes of the responses.
  const dns = json.dns as
    & Record<string, unknown>
    & Record<string, { items: { value: string; count: number }[] }>;
  const trees = parseDnsTrees(text);
  const q = trees.find((t) => !t.responses && t.total > 0), r = trees.find((t) => t.responses);
  assert.equal(dns.queries, q?.total ?? 0, `${path}: DNS queries`);
  assert.equal(dns.responses, r?.total ?? 0, `${path}: DNS responses`);
  if (q) assert.deepEqual(toMap(dns.query_types), q.qtypes, `${path}: query types`);
  if (r) {
    const diff = RCODE_DIFFERENCES[path.slice(path.lastIndexOf("/") + 1)];
    if (diff !== undefined) {
      r.rcodes.set(diff[1], (r.rcodes.get(diff[1]) ?? 0) + 1);
      if (r.rcodes.get(diff[0]) === 1) r.rcodes.delete(diff[0]);
      else r.rcodes.set(diff[0], r.rcodes.get(diff[0])! - 1);
    }
    assert.deepEqual(toMap(dns.response_codes), r.rcodes, `${path}: rcodes`);
  }
}

for (const f of AGREEMENT_FILES) {
  Deno.test({
    name: `analyze agrees with tshark io,phs, conv,ip and dns,tree: ${f}`,
    ignore: noTshark,
    fn: () => checkAgainstTshark(ROOT + f),
  });
}

for (const f of CORPUS_FILES) {
  Deno.test({
    name: `analyze agrees with tshark io,phs, conv,ip and dns,tree: ${f}`,
    ignore: noTshark || pcaps === undefined,
    fn: () => checkAgainstTshark(`${pcaps}/${f}`),
  });
}

/** A DNS response to `dnsQuery(name, id)`: QR set, RA set, the given RCODE, no answers. */
function dnsResponse(name: string, id: number, rcode: number): Uint8Array {
  const m = dnsQuery(name, id);
  m[2] |= 0x80;
  m[3] = 0x80 | rcode;
  return m;
}

Deno.test("analyze --json: a hand-built capture gives the counts it was built with", async () => {
  const C = "10.0.0.1", TLS = "10.0.0.2", WEB = "10.0.0.3", PING = "10.0.0.4", DNS = "10.0.0.53";
  const get = "GET / HTTP/1.1\r\nHost: Example.COM\r\nUser-Agent: test/1\r\n\r\n";
  const reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  const hello = clientHello("example.org");
  const specs: PacketSpec[] = [
    // Two lookups: one NXDOMAIN, one NOERROR (t in seconds after the first packet).
    { src: C, dst: DNS, proto: "udp", sport: 5000, dport: 53, payload: dnsQuery("www.example.com", 1), t: 0 },
    {
      src: DNS,
      dst: C,
      proto: "udp",
      sport: 53,
      dport: 5000,
      payload: dnsResponse("www.example.com", 1, 3),
      t: 0.01,
    },
    { src: C, dst: DNS, proto: "udp", sport: 5001, dport: 53, payload: dnsQuery("a.bbc.co.uk", 2), t: 0.5 },
    {
      src: DNS,
      dst: C,
      proto: "udp",
      sport: 53,
      dport: 5001,
      payload: dnsResponse("a.bbc.co.uk", 2, 0),
      t: 0.51,
    },
    // TLS: handshake, ClientHello, both FINs.
    { src: C, dst: TLS, sport: 40000, dport: 443, flags: "S", seq: 100, t: 1 },
    { src: TLS, dst: C, sport: 443, dport: 40000, flags: "SA", seq: 900, ack: 101, t: 1.01 },
    { src: C, dst: TLS, sport: 40000, dport: 443, flags: "A", seq: 101, ack: 901, t: 1.02 },
    { src: C, dst: TLS, sport: 40000, dport: 443, flags: "PA", seq: 101, ack: 901, payload: hello, t: 1.03 },
    { src: C, dst: TLS, sport: 40000, dport: 443, flags: "FA", seq: 101 + hello.length, ack: 901, t: 1.04 },
    { src: TLS, dst: C, sport: 443, dport: 40000, flags: "FA", seq: 901, ack: 102 + hello.length, t: 1.05 },
    // A closed port (RST answer) and an unanswered SYN.
    { src: C, dst: TLS, sport: 40001, dport: 81, flags: "S", seq: 5, t: 2 },
    { src: TLS, dst: C, sport: 81, dport: 40001, flags: "RA", seq: 0, ack: 6, t: 2.01 },
    { src: C, dst: TLS, sport: 40002, dport: 82, flags: "S", seq: 5, t: 2.5 },
    // HTTP: handshake, GET, 404, then the client resets.
    { src: C, dst: WEB, sport: 40003, dport: 80, flags: "S", seq: 0, t: 3 },
    { src: WEB, dst: C, sport: 80, dport: 40003, flags: "SA", seq: 0, ack: 1, t: 3.01 },
    { src: C, dst: WEB, sport: 40003, dport: 80, flags: "A", seq: 1, ack: 1, t: 3.02 },
    { src: C, dst: WEB, sport: 40003, dport: 80, flags: "PA", seq: 1, ack: 1, payload: get, t: 3.03 },
    {
      src: WEB,
      dst: C,
      sport: 80,
      dport: 40003,
      flags: "PA",
      seq: 1,
      ack: 1 + get.length,
      payload: reply,
      t: 3.04,
    },
    { src: C, dst: WEB, sport: 40003, dport: 80, flags: "R", seq: 1 + get.length, t: 3.05 },
    // A plain TCP exchange with one retransmitted segment.
    { src: C, dst: WEB, sport: 40004, dport: 9000, flags: "S", seq: 0, t: 4 },
    { src: WEB, dst: C, sport: 9000, dport: 40004, flags: "SA", seq: 0, ack: 1, t: 4.01 },
    { src: C, dst: WEB, sport: 40004, dport: 9000, flags: "A", seq: 1, ack: 1, t: 4.02 },
    { src: C, dst: WEB, sport: 40004, dport: 9000, flags: "PA", seq: 1, ack: 1, payload: "hello", t: 4.03 },
    { src: C, dst: WEB, sport: 40004, dport: 9000, flags: "PA", seq: 1, ack: 1, payload: "hello", t: 4.5 },
    // A ping.
    { src: C, dst: PING, proto: "icmp", icmpType: 8, icmpId: 7, payload: 56, t: 5 },
    { src: PING, dst: C, proto: "icmp", icmpType: 0, icmpId: 7, payload: 56, t: 5.01 },
  ];
  const w = new PcapWriter();
  let bytes = 0;
  const sizes = new Map<string, number>();
  for (const s of specs) {
    const f = frameBytes(s);
    bytes += f.length;
    const pair = [s.src, s.dst].sort().join(" ");
    sizes.set(pair, (sizes.get(pair) ?? 0) + f.length);
    const t = 1_700_000_000 + (s.t ?? 0);
    w.packet(f, Math.floor(t), Math.round((s.t! % 1) * 1e6));
  }
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/built.pcap`, w.drain());
    const run = await runCli(["analyze", `${dir}/built.pcap`, "--json"]);
    assert.equal(run.code, 0, run.stderr);
    const j = JSON.parse(run.stdout);
    assert.deepEqual(Object.keys(j), [
      "file",
      "summary",
      "protocols",
      "flows",
      "hosts",
      "dns",
      "http",
      "tls",
      "tcp",
      "timeline",
      "alerts",
    ]);
    const n = specs.length;
    assert.equal(j.summary.packets, n);
    assert.equal(j.summary.bytes, bytes);
    assert.equal(j.summary.captured_bytes, bytes);
    assert.equal(j.summary.duration_s, 5.01);
    assert.deepEqual(j.summary.link_types, { EN10MB: n });

    const ip = j.protocols.eth.children.ipv4;
    assert.equal(j.protocols.eth.packets, n);
    assert.equal(ip.packets, n);
    assert.equal(ip.children.udp.packets, 4);
    assert.equal(ip.children.udp.children.dns.packets, 4);
    assert.equal(ip.children.tcp.packets, 20);
    assert.equal(ip.children.tcp.children.tls.packets, 1);
    assert.equal(ip.children.tcp.children.http.packets, 2);
    assert.equal(ip.children.icmp.packets, 2);

    assert.equal(j.flows.count, 8);
    const apps = Object.fromEntries(
      Object.entries(j.flows.by_app).map(([k, v]) => [k, (v as AppCounts).flows]),
    );
    assert.deepEqual(apps, { dns: 2, tls: 1, http: 1, tcp: 3, icmp: 1 });
    assert.deepEqual(j.flows.table, {
      active: 8,
      created: 8,
      expired: 0,
      evicted: 0,
      reused: 0,
      flushed: 0,
      unkeyed_packets: 0,
    });
    const flowBytes = j.flows.top_by_bytes.items.map((f: FlowJson) => f.orig.bytes + f.resp.bytes);
    assert.deepEqual(flowBytes, [...flowBytes].sort((a, b) => b - a));
    assert.equal(j.flows.top_by_bytes.items[0].app, "http");
    assert.equal(j.flows.top_by_bytes.left_out, 0);

    assert.deepEqual(j.tcp, {
      connections: 5,
      handshakes_completed: 3,
      handshakes_failed: 2,
      unanswered: 1,
      rejected: 1,
      incomplete: 0,
      midstream: 0,
      reset_connections: 2,
      rst_segments: 2,
      segments: 20,
      retransmissions: 1,
      out_of_order: 0,
      retransmission_rate: 0.05,
    });

    assert.equal(j.hosts.count, 5);
    assert.equal(j.hosts.top_by_packets_out.items[0].addr, C);
    assert.equal(j.hosts.top_by_packets_out.items[0].packets_out, specs.filter((s) => s.src === C).length);
    const pairs = new Map<string, number>(
      j.hosts.conversations.items.map((
        c: { a: string; b: string; bytes: number },
      ) => [[c.a, c.b].sort().join(" "), c.bytes]),
    );
    assert.deepEqual(pairs, sizes);
    const client = j.hosts.details.items.find((h: { addr: string }) => h.addr === C);
    assert.deepEqual(
      client.ports_contacted.items.map((i: { value: string }) => i.value).sort(),
      ["443", "53", "80", "81", "82", "9000"],
    );

    assert.equal(j.dns.queries, 2);
    assert.equal(j.dns.responses, 2);
    assert.equal(j.dns.nxdomain, 1);
    assert.equal(j.dns.nxdomain_rate, 0.5);
    assert.deepEqual(j.dns.base_domains.items, [
      { value: "bbc.co.uk", count: 1 },
      { value: "example.com", count: 1 },
    ]);
    assert.deepEqual(j.dns.response_codes.items, [{ value: "NOERROR", count: 1 }, {
      value: "NXDOMAIN",
      count: 1,
    }]);
    assert.deepEqual(j.dns.resolvers.items, [{ value: DNS, count: 2 }]);

    assert.equal(j.http.requests, 1);
    assert.equal(j.http.responses, 1);
    assert.deepEqual(j.http.hosts.items, [{ value: "example.com", count: 1 }]);
    assert.deepEqual(j.http.status_codes.items, [{ value: "404", count: 1 }]);
    assert.deepEqual(j.http.user_agents.items, [{ value: "test/1", count: 1 }]);

    assert.equal(j.tls.client_hellos, 1);
    assert.deepEqual(j.tls.sni.items, [{ value: "example.org", count: 1 }]);

    assert.equal(j.timeline.interval_s, 0.1);
    assert.equal(j.timeline.buckets.length, 51);
    assert.equal(j.timeline.buckets.reduce((s: number, b: { packets: number }) => s + b.packets, 0), n);
    assert.deepEqual(j.alerts, []);

    const text = await runCli(["analyze", `${dir}/built.pcap`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /DNS: 2 queries, 2 responses \(NXDOMAIN 50\.0%\)/);
    assert.match(text.stdout, /handshakes\s+3 completed, 2 failed/);
    assert.match(text.stdout, /HTTP: 1 requests, 1 responses/);
    assert.ok(text.stdout.split("\n").length < 120, "the readable report stays short");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

interface AppCounts {
  flows: number;
}

interface FlowJson {
  orig: { bytes: number };
  resp: { bytes: number };
}
