import assert from "node:assert/strict";
import {
  cat,
  CORPUS_SKIP,
  corpusAndTshark,
  decodeRecord,
  frameFields,
  fuzzFrames,
  hex,
} from "./_test_frame.ts";

const NULL = 0, LOOP = 108, RAW = 101, IPV4 = 228, IPV6 = 229;
/** IPv4 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12. */
const IP_ICMP = "4500 0020 0002 4000 40 01 4ea4 c0000201 c6336402 | 08 00 3336 0001 0002 61626364";
/** IPv6 2001:db8::1.33000 > 2001:db8::2.44000: UDP, length 4 (flowlabel 0x12345, hlim 255). */
const IP6_UDP = "6001 2345 000c 11 ff 20010db8000000000000000000000001 20010db8000000000000000000000002" +
  "| 80e8 abe0 000c 6180 0a0b0c0d";

const IP_ICMP_FIELDS = {
  ip: {
    v: 4,
    src: "192.0.2.1",
    dst: "198.51.100.2",
    proto: 1,
    ttl: 64,
    id: 2,
    df: true,
    mf: false,
    frag_offset: 0,
  },
  icmp: { type: 8, code: 0, id: 1, seq: 2, data_len: 4 },
};
const IP6_UDP_FIELDS = {
  ip: {
    v: 6,
    src: "2001:db8::1",
    dst: "2001:db8::2",
    proto: 17,
    ttl: 255,
    df: false,
    mf: false,
    frag_offset: 0,
  },
  udp: { sport: 33000, dport: 44000, len: 12 },
};

Deno.test("loopback: NULL with AF_INET in little-endian order", () => {
  // AF IPv4 (2), length 36: 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12
  const rec = decodeRecord(`02000000 ${IP_ICMP}`, { linkType: NULL });
  assert.deepStrictEqual(rec, { ...frameFields(36, "NULL"), ...IP_ICMP_FIELDS });
});

Deno.test("loopback: NULL with every AF_INET6 value, in either byte order", () => {
  // AF IPv6 (30), length 56: (flowlabel 0x12345, hlim 255, next-header UDP (17) payload length: 12)
  //   2001:db8::1.33000 > 2001:db8::2.44000: UDP, length 4
  for (const family of [10, 23, 24, 28, 30]) {
    for (const littleEndian of [true, false]) {
      const af = new Uint8Array(4);
      new DataView(af.buffer).setUint32(0, family, littleEndian);
      const rec = decodeRecord(cat(af, IP6_UDP), { linkType: NULL });
      assert.deepStrictEqual(rec, { ...frameFields(56, "NULL"), ...IP6_UDP_FIELDS }, `AF ${family}`);
    }
  }
});

Deno.test("loopback: NULL with another family carries nothing decoded", () => {
  // AF ISO (7), length 9: OSI NLPID Unknown (0x01): length: 5
  assert.deepStrictEqual(decodeRecord("07000000 0102030405", { linkType: NULL }), frameFields(9, "NULL"));
  // Family 0 (both byte orders read the same).
  assert.deepStrictEqual(decodeRecord(`00000000 ${IP_ICMP}`, { linkType: NULL }), frameFields(36, "NULL"));
});

Deno.test("loopback: LOOP is always big-endian", () => {
  // AF IPv4 (2), length 36: 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12
  const rec = decodeRecord(`00000002 ${IP_ICMP}`, { linkType: LOOP });
  assert.deepStrictEqual(rec, { ...frameFields(36, "LOOP"), ...IP_ICMP_FIELDS });
  const v6 = decodeRecord(`00000018 ${IP6_UDP}`, { linkType: LOOP });
  assert.deepStrictEqual(v6, { ...frameFields(56, "LOOP"), ...IP6_UDP_FIELDS });
  // 0x02000000 is not AF_INET in LOOP's byte order.
  assert.deepStrictEqual(decodeRecord(`02000000 ${IP_ICMP}`, { linkType: LOOP }), frameFields(36, "LOOP"));
});

Deno.test("loopback: truncated family", () => {
  assert.deepStrictEqual(decodeRecord("020000", { linkType: NULL }), {
    ...frameFields(3, "NULL"),
    malformed: "null_truncated at byte 0",
  });
  assert.deepStrictEqual(decodeRecord("", { linkType: LOOP }), {
    ...frameFields(0, "LOOP"),
    malformed: "null_truncated at byte 0",
  });
  // The family is whole, the IPv4 header is not.
  assert.deepStrictEqual(decodeRecord("02000000 4500 0020 0002", { linkType: NULL }), {
    ...frameFields(10, "NULL"),
    malformed: "ip_truncated at byte 4",
  });
});

Deno.test("loopback: raw IP link types pick IPv4 or IPv6 by the version nibble", () => {
  // ip: 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12
  for (const [linkType, name] of [[RAW, "RAW"], [IPV4, "IPV4"], [12, "LINKTYPE_12"], [14, "LINKTYPE_14"]]) {
    const rec = decodeRecord(IP_ICMP, { linkType: linkType as number });
    assert.deepStrictEqual(rec, { ...frameFields(32, name as string), ...IP_ICMP_FIELDS });
  }
  // ip6: 2001:db8::1.33000 > 2001:db8::2.44000: UDP, length 4
  for (const [linkType, name] of [[RAW, "RAW"], [IPV6, "IPV6"]]) {
    const rec = decodeRecord(IP6_UDP, { linkType: linkType as number });
    assert.deepStrictEqual(rec, { ...frameFields(52, name as string), ...IP6_UDP_FIELDS });
  }
});

Deno.test("loopback: raw IP with a bad version or no bytes", () => {
  const bad = decodeRecord(`55 ${IP_ICMP.slice(2)}`, { linkType: RAW });
  assert.deepStrictEqual(bad, { ...frameFields(32, "RAW"), malformed: "ip_bad_version at byte 0" });
  assert.deepStrictEqual(decodeRecord("", { linkType: IPV6 }), {
    ...frameFields(0, "IPV6"),
    malformed: "ip_truncated at byte 0",
  });
  // An IPv6 header cut at 39 bytes.
  assert.deepStrictEqual(decodeRecord(hex(IP6_UDP).subarray(0, 39), { linkType: RAW }), {
    ...frameFields(39, "RAW"),
    malformed: "ipv6_truncated at byte 0",
  });
});

Deno.test("loopback: seeded fuzz never throws", () => {
  fuzzFrames([hex(`02000000 ${IP_ICMP}`), hex(`1e000000 ${IP6_UDP}`)], { linkType: NULL });
  fuzzFrames([hex(`00000002 ${IP_ICMP}`)], { linkType: LOOP, iterations: 1000 });
  fuzzFrames([hex(IP_ICMP), hex(IP6_UDP)], { linkType: RAW });
});

Deno.test({
  name: "loopback: addresses and protocols of NULL and raw IP captures agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = [
      "tcpdump/quic_handshake.pcap",
      "tcpdump/dns-badcookie.pcap",
      "tcpdump/LINKTYPE_RAW_ipv4.pcap",
      "tcpdump/LINKTYPE_RAW_ipv6.pcap",
      "tcpdump/LINKTYPE_IPV4.pcap",
      "tcpdump/LINKTYPE_IPV6.pcap",
    ];
    const fields = ["null.family", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst"];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [, src4, dst4, src6, dst6] = theirs[i].map((f) => f.split(",")[0]);
        const ip = ours[i].ip as { src: string; dst: string } | undefined;
        const what = `${name} #${i + 1}`;
        assert.equal(ip?.src, src4 || src6 || undefined, what);
        assert.equal(ip?.dst, dst4 || dst6 || undefined, what);
        packets++;
      }
    }
    console.log(`loopback: ${packets} packets agree with tshark`);
    assert.ok(packets >= 20, `only ${packets} packets compared`);
  },
});
