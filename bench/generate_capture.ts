/**
 * Generates a deterministic mixed capture for the benchmarks: DNS queries and answers, HTTP requests and
 * responses, TLS ClientHellos and application data, bulk TCP, plain UDP and ICMP, between a few hundred
 * hosts. Usage: `deno run -A bench/generate_capture.ts OUT.pcap [PACKETS]` (default 1 000 000).
 *
 * @module
 */

import { PcapWriter } from "../src/capture/pcap_writer.ts";

/** A small deterministic PRNG (mulberry32) so every run writes the same file. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = new TextEncoder();

function ipv4Checksum(b: Uint8Array, off: number): void {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[off + i] << 8) | b[off + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[off + 10] = c >> 8;
  b[off + 11] = c & 0xff;
}

/** Ethernet + IPv4 + (TCP|UDP|ICMP) frame around `payload`. */
export function frame(
  proto: 6 | 17 | 1,
  src: number,
  dst: number,
  sport: number,
  dport: number,
  payload: Uint8Array,
  tcp: { seq?: number; ack?: number; flags?: number } = {},
): Uint8Array {
  const l4 = proto === 6 ? 20 : 8;
  const f = new Uint8Array(14 + 20 + l4 + payload.length);
  const v = new DataView(f.buffer);
  f.set([0x02, 0, 0, 0, (dst >> 8) & 0xff, dst & 0xff, 0x02, 0, 0, 0, (src >> 8) & 0xff, src & 0xff], 0);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 20 + l4 + payload.length);
  v.setUint16(18, (src * 31 + dst) & 0xffff);
  v.setUint16(20, 0x4000);
  f[22] = 64;
  f[23] = proto;
  v.setUint32(26, src);
  v.setUint32(30, dst);
  ipv4Checksum(f, 14);
  const t = 34;
  if (proto === 6) {
    v.setUint16(t, sport);
    v.setUint16(t + 2, dport);
    v.setUint32(t + 4, tcp.seq ?? 1);
    v.setUint32(t + 8, tcp.ack ?? 0);
    f[t + 12] = 0x50;
    f[t + 13] = tcp.flags ?? 0x18;
    v.setUint16(t + 14, 65535);
  } else if (proto === 17) {
    v.setUint16(t, sport);
    v.setUint16(t + 2, dport);
    v.setUint16(t + 4, 8 + payload.length);
  } else {
    f[t] = 8;
    v.setUint16(t + 4, sport);
    v.setUint16(t + 6, dport);
  }
  f.set(payload, t + l4);
  return f;
}

function dnsQuery(id: number, name: string, answer?: number): Uint8Array {
  const labels = name.split(".");
  const q: number[] = [
    id >> 8,
    id & 0xff,
    answer === undefined ? 0x01 : 0x81,
    answer === undefined ? 0x00 : 0x80,
  ];
  q.push(0, 1, 0, answer === undefined ? 0 : 1, 0, 0, 0, 0);
  for (const l of labels) q.push(l.length, ...enc.encode(l));
  q.push(0, 0, 1, 0, 1);
  if (answer !== undefined) {
    q.push(
      0xc0,
      12,
      0,
      1,
      0,
      1,
      0,
      0,
      0x0e,
      0x10,
      0,
      4,
      answer >>> 24,
      (answer >> 16) & 0xff,
      (answer >> 8) & 0xff,
      answer & 0xff,
    );
  }
  return Uint8Array.from(q);
}

function clientHello(sni: string): Uint8Array {
  const name = enc.encode(sni);
  const ext: number[] = [];
  const sniExt = [0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length, ...name];
  ext.push(...sniExt);
  ext.push(0, 10, 0, 6, 0, 4, 0, 0x1d, 0, 0x17); // supported_groups
  ext.push(0, 16, 0, 5, 0, 3, 2, 0x68, 0x32); // ALPN h2
  ext.push(0, 43, 0, 3, 2, 3, 4); // supported_versions TLS 1.3
  const suites = [0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x30];
  const body = [
    3,
    3,
    ...new Array(32).fill(7),
    0,
    0,
    suites.length,
    ...suites,
    1,
    0,
    ext.length >> 8,
    ext.length & 0xff,
    ...ext,
  ];
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  return Uint8Array.from([22, 3, 1, hs.length >> 8, hs.length & 0xff, ...hs]);
}

const WORDS = ["mail", "www", "api", "cdn", "static", "login", "news", "shop", "video", "docs"];
const DOMAINS = ["example.com", "example.org", "example.net", "test.invalid", "corp.local"];

/** Writes `count` packets to `path`. */
export async function generateCapture(path: string, count: number, seed = 42): Promise<void> {
  const rnd = prng(seed);
  const w = new PcapWriter({ nanos: false });
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const host = () => (10 << 24) | (1 << 16) | Math.floor(rnd() * 400);
  const server = () => (198 << 24) | (51 << 16) | (100 << 8) | Math.floor(rnd() * 50);
  const bulk = new Uint8Array(1400).map((_, i) => (i * 7) & 0xff);
  const appData = new Uint8Array(600).map((_, i) => (i * 13) & 0xff);
  appData.set([23, 3, 3, 0x02, 0x53]);
  let sec = 1_700_000_000, usec = 0;
  for (let i = 0; i < count; i++) {
    usec += 50 + Math.floor(rnd() * 100);
    if (usec >= 1_000_000) {
      sec++;
      usec -= 1_000_000;
    }
    const r = rnd();
    const c = host(), s = server(), port = 1024 + Math.floor(rnd() * 60000);
    let f: Uint8Array;
    if (r < 0.15) {
      const name = `${WORDS[Math.floor(rnd() * WORDS.length)]}.${
        DOMAINS[Math.floor(rnd() * DOMAINS.length)]
      }`;
      const id = Math.floor(rnd() * 65536);
      f = rnd() < 0.5
        ? frame(17, c, 0x0a010001, port, 53, dnsQuery(id, name))
        : frame(17, 0x0a010001, c, 53, port, dnsQuery(id, name, s));
    } else if (r < 0.25) {
      const req = `GET /${WORDS[Math.floor(rnd() * 10)]}/${i} HTTP/1.1\r\nHost: ${
        DOMAINS[i % 5]
      }\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n`;
      const resp = `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 512\r\n\r\n`;
      f = rnd() < 0.5
        ? frame(6, c, s, port, 80, enc.encode(req))
        : frame(6, s, c, 80, port, enc.encode(resp));
    } else if (r < 0.30) {
      f = frame(6, c, s, port, 443, clientHello(`${WORDS[i % 10]}.${DOMAINS[i % 5]}`));
    } else if (r < 0.50) {
      f = frame(6, s, c, 443, port, appData, { seq: i * 600 });
    } else if (r < 0.85) {
      f = frame(6, s, c, 8080 + (i % 3), port, bulk, { seq: i * 1400, flags: 0x10 });
    } else if (r < 0.97) {
      f = frame(17, c, s, port, 5004, bulk.subarray(0, 200));
    } else {
      f = frame(1, c, s, i & 0xffff, i & 0xffff, bulk.subarray(0, 56));
    }
    w.packet(f, sec, usec);
    if (w.length > 8 << 20) await file.write(w.drain());
  }
  await file.write(w.drain());
  file.close();
}

if (import.meta.main) {
  const [out, n] = Deno.args;
  if (!out) {
    console.error("usage: generate_capture.ts OUT.pcap [PACKETS]");
    Deno.exit(2);
  }
  await generateCapture(out, n ? Number(n) : 1_000_000);
}
