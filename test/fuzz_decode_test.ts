/**
 * Seeded, bounded fuzzing of the whole decode path: at least a million packets, built from real corpus
 * packets (or from built-in vectors when `../shared/pcaps` is absent), cut at every byte of their headers,
 * with bits flipped, bytes overwritten, length fields set to 0 / 0xffff / other extremes, fed under every
 * registered link type, plus purely random packets. Each goes through `PacketDecoder.decode`, then
 * `packetRecord` and `JSON.stringify`, as `packets --jsonl` would print it.
 *
 * Asserted: no exception escapes; no decoder throws (a `decoder_exception*` anomaly); every record has `n`
 * and `ts`; and the heap, measured once the decoder's bounded state (the fragment reassembly table) has
 * filled, does not grow by more than `HEAP_GROWTH_LIMIT` by the end.
 *
 * `NETWATCH_FUZZ_PACKETS` and `NETWATCH_FUZZ_SEED` change the count and the seed, for longer runs;
 * `NETWATCH_FUZZ_BUILTIN=1` uses the built-in vectors even when the corpus is there.
 */
import assert from "node:assert/strict";
import v8 from "node:v8";
import vm from "node:vm";
import { openCapture } from "../src/capture/open_capture.ts";
import type { Frame } from "../src/capture/source.ts";
import type { LayerSet } from "../src/decode/layers.ts";
import { DEFAULT_REASSEMBLY } from "../src/decode/ip_reassembly.ts";
import { PacketDecoder } from "../src/decode/packet_decoder.ts";
import { packetRecord } from "../src/decode/packet_record.ts";
import { hex, prng } from "../src/decode/_test_frame.ts";
import { sharedPcaps } from "./_run.ts";

/** Packets decoded in all (truncation sweep + mutations + random packets). */
const PACKETS = envNumber("NETWATCH_FUZZ_PACKETS", 1_000_000);
const SEED = envNumber("NETWATCH_FUZZ_SEED", 0x6e657477);
/** Packets decoded before the heap is first measured, so the reassembly table has reached its bound. */
const WARM_UP = 150_000;
/**
 * Allowed heap growth between the measurement after the warm-up and the end, both taken after a full
 * garbage collection. Generous (the bounded state is a few MB), yet a leak of 20 bytes per packet exceeds
 * it. Without a callable collector the measurements include garbage, so the limit is 4 times larger.
 */
const HEAP_GROWTH_LIMIT = 16 * 1024 * 1024;
/** Datagrams the fuzzed decoder's reassembly table holds at most (the default is 1024: up to 64 MB). */
const REASSEMBLY_DATAGRAMS = 64;
/** Packets taken from each corpus capture, and the largest taken (bigger ones only add payload). */
const PER_FILE = 48, MAX_SEED_BYTES = 2048;
/** How far into a seed the truncation sweep cuts at every byte (all the headers, including tunnels). */
const SWEEP_BYTES = 192;

/** Captures covering every link type, network and transport layer, tunnel and application decoder. */
const CORPUS_FILES = [
  "tcpdump/802.1ad_QinQ.pcap",
  "zeek/q-in-q.pcap",
  "tcpdump/vxlan.pcap",
  "zeek/tunnels_vxlan-triple-v2.pcap",
  "tcpdump/geneve.pcap",
  "zeek/tunnels_geneve-many-options.pcap",
  "zeek/tunnels_gre-sample.pcap",
  "zeek/tunnels_gre-pptp.pcap",
  "zeek/tunnels_gre-erspan3-dot1q.pcap",
  "tcpdump/erspan-type-ii-1.pcap",
  "tcpdump/erspan-type-iii-pb-1.pcap",
  "zeek/tunnels_teredo-udp-in-udp.pcap",
  "zeek/tunnels_4in6.pcap",
  "zeek/tunnels_ping6-in-ipv4.pcap",
  "zeek/tunnels_gtp_gtp8_teredo.pcap",
  "zeek/tunnels_gre-over-udp-4754.pcap",
  "tcpdump/mpls-over-udp.pcap",
  "zeek/mixed-vlan-mpls.pcap",
  "zeek/pppoe-over-qinq.pcap",
  "tcpdump/icmpv6.pcap",
  "zeek/icmp_icmp-destunreach-udp.pcap",
  "zeek/icmp_icmp6-nd-options.pcap",
  "zeek/icmp_icmp6-destunreach-ip6ext-udp.pcap",
  "tcpdump/ipv6-routing-header.pcap",
  "zeek/ipv4_fragmented-1.pcap",
  "zeek/ipv6-fragmented-dns.pcap",
  "tcpdump/IGMP_V2.pcap",
  "tcpdump/tcp-handshake-nano.pcap",
  "tcpdump/mptcp-v1.pcap",
  "tcpdump/dns_udp.pcap",
  "tcpdump/dns_tcp.pcap",
  "zeek/dns-edns-ecs.pcap",
  "zeek/http_get.pcap",
  "zeek/tls_CVE-2015-3194.pcap",
  "zeek/quic_chromium-115.0.5790.110-api-cirrus-com.pcap",
  "tcpdump/quic_handshake.pcap",
  "zeek/sip_wireshark.pcap",
  "zeek/ssh_ssh.pcap",
  "mcpcap/dhcp.pcap",
  "tcpdump/dhcpv6-ia-na.pcap",
  "tcpdump/ntp.pcap",
  "tcpdump/bgp-4byte-asn.pcap",
  "tcpdump/LINKTYPE_RAW_ipv6.pcap",
  "tcpdump/LINKTYPE_IPV4.pcap",
  "tcpdump/babel.pcap",
  "zeek/linux_dlt_sll2.pcap",
  "zeek/linuxsll-arp.pcap",
  "zeek/radiotap.pcap",
  "zeek/wlanmon.pcap",
  "tcpdump/ieee802.11_htc.pcap",
  "zeek/arp-who-has-radiotap.pcap",
];

/** Hand-built vectors used when the corpus is absent (they are the decoders' own test vectors). */
const BUILT_IN: [number, string][] = [
  // Ethernet, IPv4, UDP 40000 > 50000
  [
    1,
    "00005e005302 00005e005301 0800 4500 0020 1234 4000 40 11 3c62 c0000201 c6336402 9c40 c350 000c b007 01020304",
  ],
  // QinQ, IPv4, ICMP echo
  [
    1,
    "00005e005302 00005e005301 88a8 00c8 8100 07d1 0800 4500 0020 0002 4000 40 01 4ea4 c0000201 c6336402 08 00 3336 0001 0002 61626364",
  ],
  // IPv4 with options, TCP SYN with options
  [
    1,
    "00005e005302 00005e005301 0800 4600 0040 0100 4000 40 06 0000 c0000201 c6336402 94040000 9c40 1389 000003e8 00000000 a002 faf0 acc2 0000 020405b4 0402 080a 00000064 00000000 01 030307",
  ],
  // IPv6, hop-by-hop, fragment header (offset 0, more), UDP
  [
    1,
    "00005e005302 00005e005301 86dd 6000 0000 0020 00 40 20010db8000000000000000000000001 20010db8000000000000000000000002 2c 00 010400000000 11 00 0001 12345679 80e8 abe0 0018 0000 0001020304050607",
  ],
  // ICMP port unreachable quoting UDP
  [
    1,
    "00005e005302 00005e005301 0800 4500 0038 0300 0000 ff 01 cc8d c6336402 c0000201 03 03 e959 00000000 4500 0028 4321 4000 40 11 0b6d c0000201 c6336402 9c40 0035 0014 7719",
  ],
  // ICMPv6 neighbour solicitation with a source link-layer address
  [
    1,
    "00005e005302 00005e005301 86dd 6000 0000 0020 3a ff fe8000000000000002005efffe005301 ff0200000000000000000001ff005302 87 00 1495 00000000 fe8000000000000002005efffe005302 01 01 00005e005301",
  ],
  // VXLAN carrying Ethernet, IPv4, TCP
  [
    1,
    "00005e005302 00005e005301 0800 4500 005e 0032 0000 40 11 8e26 c0000201 c6336402 c000 12b5 004a 7e49 08000000 00006400 00005e005322 00005e005321 0800 4500 002c 0031 4000 40 06 2699 0a000001 0a000002 9c40 0016 01000000 00000000 6002 7210 74bd 0000 020405b4",
  ],
  // GRE with key and sequence, IPv4, ICMP
  [
    1,
    "00005e005302 00005e005301 0800 4500 0040 0021 4000 40 2f 4e37 c0000201 c6336402 3000 0800 00001234 00000001 4500 0020 0011 4000 40 01 26ca 0a000001 0a000002 08 00 1561 0007 0001 74756e21",
  ],
  // DNS query for example.com
  [
    1,
    "00005e005302 00005e005301 0800 4500 0039 0008 4000 40 11 4e75 c0000201 c6336402 cf08 0035 0025 628d 1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001",
  ],
  // radiotap (FCS), QoS data, LLC/SNAP, IPv4, TCP
  [
    127,
    "00 00 1f00 2f000080 00000000 00000000 0807060504030201 10 0c 8509 a000 c4 88 01 2c00 00005e0053aa 00005e005301 00005e005302 1000 0000 aaaa03 000000 0800 4500 002c 0007 4000 40 06 4e8e c0000201 c6336402 9c40 1f90 000003e8 000007d0 5018 01f6 2150 0000 64617461 deadbeef",
  ],
  // SLL2, IPv6, UDP
  [
    276,
    "86dd 0000 00000003 0001 00 06 00005e005302 0000 6001 2345 000c 11 ff 20010db8000000000000000000000001 20010db8000000000000000000000002 80e8 abe0 000c 6180 0a0b0c0d",
  ],
  // NULL, IPv4, ICMP
  [0, "02000000 4500 0020 0002 4000 40 01 4ea4 c0000201 c6336402 08 00 3336 0001 0002 61626364"],
];

/** Link types that may have a decoder; those the registry has are used, and one it has not. */
const LINK_TYPES = [0, 1, 12, 14, 101, 105, 108, 113, 127, 228, 229, 276];
const EXTREMES = [0x0000, 0x0001, 0x0007, 0x0008, 0x0014, 0x0028, 0x7fff, 0x8000, 0xfffe, 0xffff];

interface Seed {
  linkType: number;
  bytes: Uint8Array;
  /** Offsets of length and type fields found by decoding the seed: targets for extreme values. */
  fields: number[];
}

function envNumber(name: string, fallback: number): number {
  try {
    const v = Deno.env.get(name);
    return v === undefined ? fallback : Number(v);
  } catch {
    return fallback; // no --allow-env
  }
}

/** Offsets of the fields that say how long or what the next layer is, in `ls` and what it carries. */
function lengthFields(ls: LayerSet, out: number[]): void {
  if (ls.eth !== undefined) out.push(ls.eth.off + 12);
  if (ls.arp !== undefined) out.push(ls.arp.off + 4);
  const ip = ls.ip;
  if (ip !== undefined && ip.reassembledLen === undefined) {
    const start = ip.addrOff - (ip.v === 4 ? 12 : 8);
    if (ip.v === 4) out.push(start, start + 2, start + 6, start + 8);
    else out.push(start + 4, start + 6, start + 40);
    if (ls.tcp !== undefined) {
      const t = ls.tcp.payloadOff - ls.tcp.hlen;
      out.push(t + 12, t + 20, t + 24, t + 28);
    }
    if (ls.udp !== undefined) out.push(ls.udp.payloadOff - 4, ls.udp.payloadOff, ls.udp.payloadOff + 2);
    const icmp = ls.icmp ?? ls.icmp6;
    if (icmp !== undefined) {
      out.push(icmp.dataOff - 8, icmp.dataOff, icmp.dataOff + 2);
      if (icmp.quoted !== undefined) lengthFields(icmp.quoted, out);
    }
  }
  if (ls.inner !== undefined) lengthFields(ls.inner, out);
}

async function loadSeeds(): Promise<{ seeds: Seed[]; source: string }> {
  const raw: { linkType: number; bytes: Uint8Array }[] = [];
  const pcaps = envNumber("NETWATCH_FUZZ_BUILTIN", 0) ? undefined : sharedPcaps();
  let files = 0;
  if (pcaps !== undefined) {
    for (const name of CORPUS_FILES) {
      let source;
      try {
        source = await openCapture(`${pcaps}/corpus/${name}`);
      } catch {
        continue; // a capture this corpus lacks
      }
      let taken = 0;
      await source.run((f) => {
        if (f.caplen > MAX_SEED_BYTES) return;
        raw.push({ linkType: f.linkType, bytes: f.bytes.slice(f.start, f.start + f.caplen) });
        if (++taken >= PER_FILE) source.close();
      });
      files++;
    }
  }
  const source = raw.length > 0 ? `${raw.length} packets from ${files} corpus captures` : "built-in vectors";
  if (raw.length === 0) { for (const [linkType, h] of BUILT_IN) raw.push({ linkType, bytes: hex(h) }); }
  // Decode each seed once (with its own decoder: no reassembly across seeds) to find its length fields.
  const seeds = raw.map(({ linkType, bytes }) => {
    const decoded = new PacketDecoder().decode(frameOf(bytes, linkType));
    const fields: number[] = [];
    lengthFields(decoded.layers, fields);
    return { linkType, bytes, fields: fields.filter((o) => o >= 0 && o + 1 < bytes.length) };
  });
  return { seeds, source };
}

function frameOf(bytes: Uint8Array, linkType: number): Frame {
  return {
    n: 1,
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    start: 0,
    caplen: bytes.length,
    len: bytes.length,
    tsSec: 1,
    tsFrac: 0,
    tsDigits: 6,
    linkType,
    iface: 0,
  };
}

/**
 * V8's garbage collector, made callable without command-line flags (as in Node: set the flag, then take
 * `gc` from a fresh context), or undefined where that is not possible.
 */
const collectGarbage: (() => void) | undefined = (() => {
  try {
    v8.setFlagsFromString("--expose_gc");
    const gc = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc : undefined;
  } catch {
    return undefined;
  }
})();

/** Heap in use after a collection (or, without a callable collector, after a pause that lets it run). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    collectGarbage?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Deno.memoryUsage().heapUsed;
}

Deno.test({
  name: `fuzz: ${PACKETS} mutated and random packets through decode, packetRecord and JSON.stringify`,
  async fn() {
    const { seeds, source } = await loadSeeds();
    const rand = prng(SEED);
    const int = (n: number) => Math.floor(rand() * n);
    // Reassembly is exercised (fragments are common among mutated packets) but with a small table, so that
    // what it legitimately holds (up to 64 KB per datagram) cannot hide a leak from the heap check.
    const decoder = new PacketDecoder(undefined, {
      ...DEFAULT_REASSEMBLY,
      maxDatagrams: REASSEMBLY_DATAGRAMS,
    });
    const linkTypes = LINK_TYPES.filter((l) => decoder.registry.hasLinkType(l));
    linkTypes.push(9999); // a link type nobody decodes

    // One buffer for every packet: the packet is copied to a random offset, mutated in place, and framed by
    // views ending exactly at its last byte, so that a DataView read past the captured bytes throws (and a
    // typed-array read gives undefined, which the record check below catches).
    const work = new Uint8Array(8 + MAX_SEED_BYTES + 256);
    const frame: Frame = frameOf(work, 1);
    const exceptions: Record<string, number> = {};
    const firstException: Record<string, string> = {};
    const escaped: string[] = [];
    const badRecords: string[] = [];
    let anomalies = 0, n = 0, heapAfterWarmUp = 0, jsonBytes = 0;
    const heapAtStart = await settledHeap();

    const run = (linkType: number, start: number, caplen: number, len: number) => {
      n++;
      const bytes = work.subarray(0, start + caplen);
      frame.n = n;
      frame.bytes = bytes;
      frame.view = new DataView(work.buffer, 0, start + caplen);
      frame.start = start;
      frame.caplen = caplen;
      frame.len = len;
      frame.linkType = linkType;
      frame.tsSec = 1_700_000_000 + Math.floor(n / 1000); // packet time moves on: reassembly expires
      frame.tsFrac = n % 1_000_000;
      try {
        const decoded = decoder.decode(frame);
        if (decoded.anomalies !== undefined) {
          anomalies++;
          for (const a of decoded.anomalies) {
            if (!a.startsWith("decoder_exception")) continue;
            exceptions[a] = (exceptions[a] ?? 0) + 1;
            firstException[a] ??= `link ${linkType}: ${toHex(work, start, start + caplen)}`;
          }
        }
        const rec = packetRecord(decoded);
        const json = JSON.stringify(rec);
        jsonBytes += json.length;
        if (typeof rec.n !== "number" || typeof rec.ts !== "string") badRecords.push(json);
        // A read past a typed array's end gives `undefined` (NaN in arithmetic) instead of throwing: look for
        // it in the layers this suite owns (application records may legitimately carry such text).
        if (json.includes("null") || json.includes("undefined") || json.includes("NaN")) {
          const bad = badValue(rec, "");
          if (bad !== undefined) {
            badRecords.push(`${bad} in link ${linkType}: ${toHex(work, start, start + caplen)}`);
          }
        }
      } catch (e) {
        if (escaped.length < 5) {
          escaped.push(`${(e as Error).stack}\n  link ${linkType}: ${toHex(work, start, start + caplen)}`);
        }
      }
    };

    const t0 = performance.now();
    // 1. Every seed cut at every byte of its first SWEEP_BYTES: truncation at every layer, as a snaplen
    //    cuts (the wire length stays the seed's).
    for (const seed of seeds) {
      const limit = Math.min(seed.bytes.length, SWEEP_BYTES);
      for (let cut = 0; cut < limit && n < PACKETS; cut++) {
        work.set(seed.bytes.subarray(0, cut), 0);
        run(seed.linkType, 0, cut, seed.bytes.length);
      }
    }
    const swept = n;

    // 2. Mutations of random seeds, and random packets, until PACKETS.
    while (n < PACKETS) {
      if (n >= WARM_UP && heapAfterWarmUp === 0) heapAfterWarmUp = await settledHeap();
      const start = int(8);
      const r = rand();
      if (r < 0.04) {
        // A random packet under a random link type.
        const caplen = int(160);
        for (let i = 0; i < caplen; i++) work[start + i] = int(256);
        run(linkTypes[int(linkTypes.length)], start, caplen, caplen);
        continue;
      }
      const seed = seeds[int(seeds.length)];
      let caplen = seed.bytes.length;
      work.set(seed.bytes, start);
      const p = work.subarray(start, start + caplen);
      const ops = 1 + int(3);
      for (let o = 0; o < ops && caplen > 0; o++) {
        const op = rand();
        if (op < 0.35) {
          // Bit flips, mostly in the headers.
          const flips = 1 + int(4);
          for (let f = 0; f < flips; f++) p[int(Math.min(caplen, rand() < 0.8 ? 96 : caplen))] ^= 1 << int(8);
        } else if (op < 0.6 && seed.fields.length > 0) {
          // A length or type field set to an extreme (or its old value plus or minus one).
          const at = seed.fields[int(seed.fields.length)];
          if (at + 1 < caplen) {
            const old = (p[at] << 8) | p[at + 1];
            const v = rand() < 0.8
              ? EXTREMES[int(EXTREMES.length)]
              : (old + (rand() < 0.5 ? 1 : 0xffff)) & 0xffff;
            p[at] = v >> 8;
            p[at + 1] = v & 0xff;
          }
        } else if (op < 0.75) {
          // Any 16-bit word in the headers set to an extreme (little-endian fields too: radiotap).
          const at = int(Math.max(1, Math.min(caplen, 128) - 1));
          const v = EXTREMES[int(EXTREMES.length)];
          p[at] = v >> 8;
          if (at + 1 < caplen) p[at + 1] = v & 0xff;
        } else if (op < 0.85) {
          // Bytes overwritten with 0x00, 0xff or anything.
          const count = 1 + int(4);
          for (let c = 0; c < count; c++) p[int(caplen)] = rand() < 0.3 ? 0 : rand() < 0.5 ? 0xff : int(256);
        } else {
          // Truncated anywhere.
          caplen = int(caplen + 1);
        }
      }
      // Mostly the seed's own link type; sometimes another, to feed each decoder the others' packets.
      const linkType = rand() < 0.92 ? seed.linkType : linkTypes[int(linkTypes.length)];
      run(linkType, start, caplen, rand() < 0.8 ? seed.bytes.length : caplen);
    }
    const seconds = (performance.now() - t0) / 1000;
    const heapAtEnd = await settledHeap();
    if (heapAfterWarmUp === 0) heapAfterWarmUp = heapAtEnd;

    const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
    console.log(`fuzz seeds: ${seeds.length} (${source}); seed ${SEED}`);
    console.log(
      `fuzz: ${n} packets (${swept} truncation sweep) in ${seconds.toFixed(1)} s = ${
        Math.round(n / seconds)
      } packets/s; ${anomalies} with anomalies; ${mb(jsonBytes)} MB of JSON`,
    );
    console.log(
      `fuzz heap: ${mb(heapAtStart)} MB at start, ${mb(heapAfterWarmUp)} MB after ${WARM_UP} packets, ` +
        `${mb(heapAtEnd)} MB at the end; reassembly ${JSON.stringify(decoder.reassembler.stats)}, ` +
        `${decoder.reassembler.size} pending`,
    );
    console.log(`fuzz decoder_exception counts: ${JSON.stringify(exceptions)}`);
    for (const [code, packet] of Object.entries(firstException)) console.log(`  first ${code}: ${packet}`);

    assert.deepStrictEqual(
      escaped,
      [],
      "exceptions escaped PacketDecoder.decode / packetRecord / JSON.stringify",
    );
    assert.deepStrictEqual(
      badRecords.slice(0, 5),
      [],
      "records without n or ts, or with values read past the end",
    );
    assert.deepStrictEqual(exceptions, {}, "decoders threw (decoder_exception anomalies)");
    assert.ok(n >= 1_000_000 || PACKETS < 1_000_000, `only ${n} packets`);
    assert.ok(
      heapAtEnd - heapAfterWarmUp < HEAP_GROWTH_LIMIT * (collectGarbage === undefined ? 4 : 1),
      `the heap grew by ${mb(heapAtEnd - heapAfterWarmUp)} MB after the warm-up`,
    );
  },
});

/** Record keys holding link, network and transport layers (application records are not checked). */
const LAYER_KEYS = new Set([
  "eth",
  "vlan",
  "arp",
  "ip",
  "tunnel",
  "tcp",
  "udp",
  "icmp",
  "icmp6",
  "sll",
  "wlan",
  "inner",
  "via",
  "quoted",
]);

/** The path of a null, NaN or "undefined" value in the layers of `rec`, if there is one. */
function badValue(rec: unknown, path: string): string | undefined {
  if (rec === null || (typeof rec === "number" && Number.isNaN(rec))) return `${path} = ${rec}`;
  if (typeof rec === "string") return /undefined|NaN/.test(rec) ? `${path} = "${rec}"` : undefined;
  if (typeof rec !== "object") return undefined;
  for (const [k, v] of Object.entries(rec)) {
    if (path === "" || path.endsWith("inner") || path.endsWith("quoted") || /\.via\.\d+$/.test(path)) {
      if (!LAYER_KEYS.has(k)) continue; // skip frame fields and application records
    }
    const bad = badValue(v, `${path}.${k}`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function toHex(bytes: Uint8Array, off: number, end: number): string {
  let s = "";
  for (let i = off; i < end; i++) s += bytes[i].toString(16).padStart(2, "0");
  return s;
}
