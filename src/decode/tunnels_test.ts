import assert from "node:assert/strict";
import { MAX_TUNNEL_DEPTH } from "./context.ts";
import {
  cat,
  CORPUS_SKIP,
  corpusAndTshark,
  decodeRecord,
  frameFields,
  fuzzFrames,
  hex,
} from "./_test_frame.ts";

const A = "00:00:5e:00:53:01", B = "00:00:5e:00:53:02";
const ETH = "00005e005302 00005e005301 0800";
const ETH_RECORD = { src: A, dst: B, type: 0x0800 };
/** The outer IPv4 header's record (192.0.2.1 > 198.51.100.2, DF, ttl 64) without proto and id. */
const OUTER = { v: 4, src: "192.0.2.1", dst: "198.51.100.2", ttl: 64, df: true, mf: false, frag_offset: 0 };
/** IPv4 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 12 (id 17, DF, ttl 64). */
const INNER = "4500 0020 0011 4000 40 01 26ca 0a000001 0a000002 | 08 00 1561 0007 0001 74756e21";
const INNER_RECORD = {
  ip: {
    v: 4,
    src: "10.0.0.1",
    dst: "10.0.0.2",
    proto: 1,
    ttl: 64,
    id: 17,
    df: true,
    mf: false,
    frag_offset: 0,
  },
  icmp: { type: 8, code: 0, id: 7, seq: 1, data_len: 4 },
};
/** 00:00:5e:00:53:21 > 00:00:5e:00:53:22, ethertype IPv4, then INNER. */
const INNER_ETH = `00005e005322 00005e005321 0800 ${INNER}`;
const INNER_ETH_RECORD = {
  eth: { src: "00:00:5e:00:53:21", dst: "00:00:5e:00:53:22", type: 0x0800 },
  ...INNER_RECORD,
};

// 192.0.2.1 > 198.51.100.2: GREv0, Flags [key present, sequence# present], key=0x1234, seq 1,
//   proto IPv4 (0x0800), length 44: 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 12
const GRE_KEY = hex(
  `${ETH} 4500 0040 0021 4000 40 2f 4e37 c0000201 c6336402 | 3000 0800 00001234 00000001 | ${INNER}`,
);
// 192.0.2.1.49152 > 198.51.100.2.4789: VXLAN, flags [I] (0x08), vni 100
//   00:00:5e:00:53:21 > 00:00:5e:00:53:22, ethertype IPv4 (0x0800), length 58:
//   10.0.0.1.40000 > 10.0.0.2.22: Flags [S], seq 16777216, win 29200, options [mss 1460], length 0
const VXLAN_TCP = hex(
  `${ETH} 4500 005e 0032 0000 40 11 8e26 c0000201 c6336402 | c000 12b5 004a 7e49 | 08000000 00006400` +
    "| 00005e005322 00005e005321 0800 | 4500 002c 0031 4000 40 06 2699 0a000001 0a000002" +
    "| 9c40 0016 01000000 00000000 6002 7210 74bd 0000 020405b4",
);
// 192.0.2.1.50000 > 198.51.100.2.6081: Geneve, Flags [none], vni 0x123456, proto TEB (0x6558),
//   options [class In-band Network Telemetry (INT) (0x103) type 0x80(C) len 8]
//   00:00:5e:00:53:21 > 00:00:5e:00:53:22, ethertype IPv4: 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1
const GENEVE = hex(
  `${ETH} 4500 005a 0033 0000 40 11 8e29 c0000201 c6336402 | c350 17c1 0046 dfa5` +
    `| 02 00 6558 12345600 | 0103 80 01 deadbeef | ${INNER_ETH}`,
);
// 192.0.2.1.3544 > 198.51.100.2.40000: teredo, origin indication 192.0.2.1:40000,
//   2001:0:4136:e378:8000:63bf:3fff:fdd2 > 2001:db8:2::2: ICMP6, echo request, id 9, seq 2
const TEREDO = hex(
  `${ETH} 4500 0058 0034 0000 40 11 8e2a c0000201 c6336402 | 0dd8 9c40 0044 2d52 | 0000 63bf 3ffffdfe` +
    "| 6000 0000 000c 3a 40 200100004136e378800063bf3ffffdd2 20010db8000200000000000000000002" +
    "| 80 00 4711 0009 0002 36696e34",
);

Deno.test("tunnels: GRE with key and sequence carrying IPv4", () => {
  assert.deepStrictEqual(decodeRecord(GRE_KEY), {
    ...frameFields(78),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 47, id: 0x21 },
    tunnel: { type: "gre", proto: 0x0800, key: 0x1234 },
    inner: INNER_RECORD,
  });
});

Deno.test("tunnels: GRE with checksum carrying Ethernet (TEB)", () => {
  // 192.0.2.1 > 198.51.100.2: GREv0, Flags [checksum present], sum 0x8e74, off 0x0, proto TEB (0x6558),
  //   length 50: 00:00:5e:00:53:11 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has
  //   10.0.0.2 tell 10.0.0.1, length 28
  const rec = decodeRecord(
    `${ETH} 4500 0046 0022 4000 40 2f 4e30 c0000201 c6336402 | 8000 6558 8e74 0000` +
      "| ffffffffffff 00005e005311 0806 | 0001 0800 06 04 0001 00005e005311 0a000001 000000000000 0a000002",
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(84),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 47, id: 0x22 },
    tunnel: { type: "gre", proto: 0x6558 },
    inner: {
      eth: { src: "00:00:5e:00:53:11", dst: "ff:ff:ff:ff:ff:ff", type: 0x0806 },
      arp: { op: 1, sha: "00:00:5e:00:53:11", spa: "10.0.0.1", tha: "00:00:00:00:00:00", tpa: "10.0.0.2" },
    },
  });
});

Deno.test("tunnels: GRE with RFC 1701 source routing", () => {
  // 192.0.2.1 > 198.51.100.2: GREv0, Flags [checksum present, routing present], sum 0x0, off 0x0,
  //   (rtaf=ip *203.0.113.1 203.0.113.2), proto IPv4 (0x0800), length 56:
  //   10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 12
  const routed = `${ETH} 4500 004c 0025 4000 40 2f 4e27 c0000201 c6336402 | c000 0800 0000 0000` +
    "| 0800 00 08 cb007101 cb007102 | 0000 00 00";
  assert.deepStrictEqual(decodeRecord(`${routed} ${INNER}`), {
    ...frameFields(90),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 47, id: 0x25 },
    tunnel: { type: "gre", proto: 0x0800 },
    inner: INNER_RECORD,
  });
  // A route list without its terminating NULL entry.
  const open = decodeRecord(
    `${ETH} 4500 0024 0025 4000 40 2f 4e4f c0000201 c6336402 | c000 0800 0000 0000 0800 00 08`,
  );
  assert.deepStrictEqual(open.tunnel, { type: "gre", proto: 0x0800 });
  assert.equal(open.malformed, "gre_truncated at byte 34");
});

Deno.test("tunnels: PPTP's enhanced GRE (version 1) carrying PPP", () => {
  // 192.0.2.1 > 198.51.100.2: GREv1, Flags [key present, sequence# present, ack present], call 16384,
  //   seq 2, ack 1, proto PPP (0x880b), length 52: IP (0x0021), length 36:
  //   10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1, length 12
  const rec = decodeRecord(
    `${ETH} 4500 0048 0026 4000 40 2f 4e2a c0000201 c6336402 | 3081 880b 0024 4000 00000002 00000001` +
      `| ff03 0021 ${INNER}`,
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(86),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 47, id: 0x26 },
    tunnel: { type: "gre", proto: 0x880b, key: 0x00244000 }, // PPTP's key field: payload length, call id
    inner: INNER_RECORD,
  });
});

Deno.test("tunnels: ERSPAN types I, II and III", () => {
  // 192.0.2.1 > 198.51.100.2: GREv0, Flags [sequence# present], seq 5, proto ERSPAN (0x88be):
  //   ERSPAN II, version 1, vlan 10, session 100, index 0; then the mirrored Ethernet frame.
  const two = decodeRecord(
    `${ETH} 4500 0052 0027 4000 40 2f 4e1f c0000201 c6336402 | 1000 88be 00000005 | 100a 0064 00000000` +
      `| ${INNER_ETH}`,
  );
  assert.deepStrictEqual(two, {
    ...frameFields(96),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 47, id: 0x27 },
    tunnel: { type: "gre", proto: 0x88be },
    inner: INNER_ETH_RECORD,
  });
  // GREv0, Flags [none], proto ERSPAN (0x88be): without the sequence bit, the headerless type I.
  const one = decodeRecord(
    `${ETH} 4500 0046 0028 4000 40 2f 4e2a c0000201 c6336402 | 0000 88be | ${INNER_ETH}`,
  );
  assert.deepStrictEqual(one.inner, INNER_ETH_RECORD);
  // GREv0, Flags [none], proto ERSPAN III (0x22eb): version 2, vlan 20, session 7, timestamp 0x01020304,
  //   frame type 0 (Ethernet), granularity 3, O bit: an 8-byte platform sub-header (platform id 3) follows.
  const three = decodeRecord(
    `${ETH} 4500 005a 0029 4000 40 2f 4e15 c0000201 c6336402 | 0000 22eb | 2014 0007 01020304 0000 0007` +
      `| 0c000003 00000001 | ${INNER_ETH}`,
  );
  assert.deepStrictEqual(three, {
    ...frameFields(104),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 47, id: 0x29 },
    tunnel: { type: "gre", proto: 0x22eb },
    inner: INNER_ETH_RECORD,
  });
});

Deno.test("tunnels: ERSPAN III frame types other than Ethernet", () => {
  // Frame type 2: an IP packet, no Ethernet header.
  const ip = decodeRecord(
    `${ETH} 4500 0044 002a 4000 40 2f 4e2a c0000201 c6336402 | 0000 22eb | 2014 0007 01020304 0000 0806` +
      `| ${INNER}`,
  );
  assert.deepStrictEqual(ip.inner, INNER_RECORD);
  // Frame type 7 (reserved): the payload is not decoded at all (not as an Ethernet frame).
  const reserved = decodeRecord(
    `${ETH} 4500 0044 002a 4000 40 2f 4e2a c0000201 c6336402 | 0000 22eb | 2014 0007 01020304 0000 1c06` +
      `| ${INNER}`,
  );
  assert.deepStrictEqual(reserved.tunnel, { type: "gre", proto: 0x22eb });
  assert.equal(reserved.inner, undefined);
  assert.equal(reserved.malformed, undefined);
  // Cut inside the ERSPAN III header, and inside its sub-header.
  const cut = decodeRecord(
    `${ETH} 4500 0024 002a 4000 40 2f 4e4a c0000201 c6336402 | 0000 22eb | 2014 0007 01020304`,
  );
  assert.equal(cut.malformed, "erspan_truncated at byte 38");
  const sub = decodeRecord(
    `${ETH} 4500 0034 002a 4000 40 2f 4e3a c0000201 c6336402 | 0000 22eb | 2014 0007 01020304 0000 0007 0c000003`,
  );
  assert.equal(sub.malformed, "erspan_truncated at byte 38");
});

Deno.test("tunnels: IPv4-in-IPv4 and IPv6-in-IPv4", () => {
  // 192.0.2.1 > 198.51.100.2: (proto IPIP (4)) 10.0.0.1 > 10.0.0.2: ICMP echo request, id 7, seq 1
  const ipip = decodeRecord(`${ETH} 4500 0034 002b 4000 40 04 4e64 c0000201 c6336402 | ${INNER}`);
  assert.deepStrictEqual(ipip, {
    ...frameFields(66),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 4, id: 0x2b },
    tunnel: { type: "ipip" },
    inner: INNER_RECORD,
  });
  // 192.0.2.1 > 198.51.100.2: (proto IPv6 (41)) 2001:db8:1::1 > 2001:db8:2::2: ICMP6, echo request, id 9,
  //   seq 2
  const sixInFour = decodeRecord(
    `${ETH} 4500 0048 002c 4000 40 29 4e2a c0000201 c6336402` +
      "| 6000 0000 000c 3a 40 20010db8000100000000000000000001 20010db8000200000000000000000002" +
      "| 80 00 7f98 0009 0002 36696e34",
  );
  assert.deepStrictEqual(sixInFour.inner, {
    ip: {
      v: 6,
      src: "2001:db8:1::1",
      dst: "2001:db8:2::2",
      proto: 58,
      ttl: 64,
      df: false,
      mf: false,
      frag_offset: 0,
    },
    icmp6: { type: 128, code: 0, id: 9, seq: 2, data_len: 4 },
  });
});

Deno.test("tunnels: VXLAN carrying Ethernet/IPv4/TCP", () => {
  assert.deepStrictEqual(decodeRecord(VXLAN_TCP), {
    ...frameFields(108),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 17, id: 0x32, df: false },
    tunnel: { type: "vxlan", vni: 100 },
    udp: { sport: 49152, dport: 4789, len: 74 },
    inner: {
      eth: { src: "00:00:5e:00:53:21", dst: "00:00:5e:00:53:22", type: 0x0800 },
      ip: {
        v: 4,
        src: "10.0.0.1",
        dst: "10.0.0.2",
        proto: 6,
        ttl: 64,
        id: 0x31,
        df: true,
        mf: false,
        frag_offset: 0,
      },
      tcp: {
        sport: 40000,
        dport: 22,
        seq: 0x01000000,
        ack: 0,
        flags: 0x002,
        win: 29200,
        len: 0,
        options: { mss: 1460 },
      },
    },
  });
  // The inner TCP header cut short: the anomaly is the inner layer's, at its offset in the frame.
  // (Cut by the snaplen: the frame was whole on the wire.)
  const cut = decodeRecord(VXLAN_TCP.subarray(0, 90), { len: VXLAN_TCP.length });
  assert.deepStrictEqual((cut.inner as { ip: unknown }).ip, {
    v: 4,
    src: "10.0.0.1",
    dst: "10.0.0.2",
    proto: 6,
    ttl: 64,
    id: 0x31,
    df: true,
    mf: false,
    frag_offset: 0,
  });
  assert.equal(cut.malformed, "tcp_truncated at byte 84");
  assert.equal(
    decodeRecord(VXLAN_TCP.subarray(0, 49), { len: VXLAN_TCP.length }).malformed,
    "vxlan_truncated at byte 42",
  );
});

Deno.test("tunnels: Geneve with an option, carrying Ethernet", () => {
  assert.deepStrictEqual(decodeRecord(GENEVE), {
    ...frameFields(104),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 17, id: 0x33, df: false },
    tunnel: { type: "geneve", vni: 0x123456, proto: 0x6558 },
    udp: { sport: 50000, dport: 6081, len: 70 },
    inner: INNER_ETH_RECORD,
  });
  // The option length runs past the captured bytes.
  assert.equal(
    decodeRecord(GENEVE.subarray(0, 54), { len: GENEVE.length }).malformed,
    "geneve_truncated at byte 42",
  );
});

Deno.test("tunnels: Teredo with an origin indication", () => {
  assert.deepStrictEqual(decodeRecord(TEREDO), {
    ...frameFields(102),
    eth: ETH_RECORD,
    ip: { ...OUTER, proto: 17, id: 0x34, df: false },
    tunnel: { type: "teredo" },
    udp: { sport: 3544, dport: 40000, len: 68 },
    inner: {
      ip: {
        v: 6,
        src: "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        dst: "2001:db8:2::2",
        proto: 58,
        ttl: 64,
        df: false,
        mf: false,
        frag_offset: 0,
      },
      icmp6: { type: 128, code: 0, id: 9, seq: 2, data_len: 4 },
    },
  });
  // A datagram on the Teredo port that holds no IPv6 packet is left to the other decoders.
  const other = decodeRecord(
    `${ETH} 4500 0024 0034 0000 40 11 8e5e c0000201 c6336402 | 0dd8 9c40 0010 0000 0102030405060708`,
  );
  assert.equal(other.tunnel, undefined);
  assert.deepStrictEqual(other.udp, { sport: 3544, dport: 40000, len: 16 });
});

/** An IPv4 header (total length from the payload, checksum left 0) for building nested packets. */
function ipv4(proto: number, src: number, payload: Uint8Array): Uint8Array {
  const h = hex("4500 0000 0000 4000 40 00 0000 c0000200 c6336400");
  new DataView(h.buffer).setUint16(2, 20 + payload.length);
  h[9] = proto;
  h[15] = src;
  h[19] = src;
  return cat(h, payload);
}

Deno.test("tunnels: a GRE-in-GRE loop deeper than MAX_TUNNEL_DEPTH stops with an anomaly", () => {
  // Six GRE layers (192.0.2.n > 198.51.100.n: GREv0, proto IPv4) around 10.0.0.1 > 10.0.0.2 ICMP.
  let packet = hex(INNER);
  for (let n = 6; n >= 1; n--) packet = ipv4(47, n, cat("0000 0800", packet));
  const rec = decodeRecord(cat(ETH, packet));
  const hop = (n: number) => ({
    ip: { ...OUTER, src: `192.0.2.${n}`, dst: `198.51.100.${n}`, proto: 47, id: 0 },
    tunnel: { type: "gre", proto: 0x0800 },
  });
  assert.equal(MAX_TUNNEL_DEPTH, 4);
  // The packet record flattens nested tunnels: `inner` is the innermost layer reached, `via` the hops.
  assert.deepStrictEqual(rec, {
    ...frameFields(14 + 6 * 24 + 32),
    eth: ETH_RECORD,
    ...hop(1),
    inner: { ...hop(5), via: [hop(2), hop(3), hop(4)] },
    malformed: `tunnel_too_deep at byte ${14 + 5 * 24}`,
  });
});

Deno.test("tunnels: truncated GRE", () => {
  const gre = (h: string) => decodeRecord(`${ETH} 4500 0000 0021 4000 40 2f 0000 c0000201 c6336402 | ${h}`);
  assert.equal(gre("3000 08").malformed, "gre_truncated at byte 34");
  assert.equal(gre("3000 08").tunnel, undefined);
  // Key and sequence announced, only the key captured.
  const cut = gre("3000 0800 00001234");
  assert.deepStrictEqual(cut.tunnel, { type: "gre", proto: 0x0800, key: 0x1234 });
  assert.equal(cut.malformed, "gre_truncated at byte 34");
});

Deno.test("tunnels: seeded fuzz never throws", () => {
  let deep = hex(INNER);
  for (let n = 6; n >= 1; n--) deep = ipv4(47, n, cat("0000 0800", deep));
  fuzzFrames([GRE_KEY, VXLAN_TCP, GENEVE, TEREDO, cat(ETH, deep)], { iterations: 5000 });
});

Deno.test({
  name: "tunnels: tunnel fields and the inner addresses agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    const names = [
      "zeek/tunnels_vxlan.pcap",
      "tcpdump/vxlan.pcap",
      "zeek/tunnels_geneve.pcap",
      "tcpdump/geneve.pcap",
      "zeek/tunnels_gre-sample.pcap",
      "zeek/tunnels_gre-erspan3-dot1q.pcap",
      "tcpdump/erspan-type-i-1.pcap",
      "tcpdump/erspan-type-ii-1.pcap",
      "tcpdump/erspan-type-iii-ft-0.pcap",
      "tcpdump/erspan-type-iii-ft-7.pcap",
      "zeek/tunnels_teredo-udp-in-udp.pcap",
      "zeek/tunnels_4in6.pcap",
      "zeek/tunnels_ping6-in-ipv4.pcap",
      "zeek/tunnels_gre-pptp.pcap",
    ];
    const fields = [
      "vxlan.vni",
      "geneve.vni",
      "gre.proto",
      "gre.key",
      "ip.src",
      "ipv6.src",
      "frame.protocols",
    ];
    let packets = 0, inner = 0;
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [vxlan, geneve, greProto, greKey, ip4, ip6, protocols] = theirs[i];
        const what = `${name} #${i + 1}`;
        // The tunnels in order, outermost first: the packet's, each hop's under `inner.via`, the innermost's.
        const rec = ours[i].inner as { ip?: { src: string }; tunnel?: unknown; via?: { tunnel?: unknown }[] };
        const tunnels = [ours[i].tunnel, ...(rec?.via ?? []).map((h) => h.tunnel), rec?.tunnel]
          .filter((t) => t !== undefined) as Record<string, unknown>[];
        const tunnel = tunnels.find((t) => t.type === (vxlan ? "vxlan" : geneve ? "geneve" : "gre"));
        const num = (s: string) => s === "" ? undefined : Number(s.split(",")[0]);
        if (vxlan !== "") assert.deepStrictEqual(tunnel, { type: "vxlan", vni: num(vxlan) }, what);
        if (geneve !== "") assert.deepStrictEqual([tunnel?.type, tunnel?.vni], ["geneve", num(geneve)], what);
        if (greProto !== "") {
          assert.deepStrictEqual([tunnel?.type, tunnel?.proto], ["gre", num(greProto)], what);
          if (greKey !== "") assert.equal(tunnel?.key, num(greKey), what);
        }
        // The innermost IP source: the last occurrence in tshark's tree (ICMP quotes aside).
        if (rec?.ip !== undefined && !protocols.includes("icmp")) {
          const srcs = [...ip4.split(","), ...ip6.split(",")].filter((s) => s !== "");
          const order = protocols.split(":").filter((p) => p === "ip" || p === "ipv6");
          const v4 = ip4.split(",").filter((s) => s !== ""), v6 = ip6.split(",").filter((s) => s !== "");
          const last = order.at(-1) === "ip" ? v4.at(-1) : v6.at(-1);
          assert.equal(rec.ip.src, last, `${what} (${srcs.join(" ")})`);
          inner++;
        }
        packets++;
      }
    }
    console.log(`tunnels: ${packets} packets agree with tshark`);
    assert.ok(packets >= 100 && inner >= 50, `only ${packets} packets (${inner} with an inner IP) compared`);
  },
});
