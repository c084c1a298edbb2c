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

const SLL = 113, SLL2 = 276;
/** IPv4 192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4. */
const IP_UDP = "4500 0020 1234 4000 40 11 3c62 c0000201 c6336402 | 9c40 c350 000c b007 01020304";
/** IPv4 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12. */
const IP_ICMP = "4500 0020 0002 4000 40 01 4ea4 c0000201 c6336402 | 08 00 3336 0001 0002 61626364";
/** IPv6 2001:db8::1.33000 > 2001:db8::2.44000: UDP, length 4 (flowlabel 0x12345, hlim 255). */
const IP6_UDP = "6001 2345 000c 11 ff 20010db8000000000000000000000001 20010db8000000000000000000000002" +
  "| 80e8 abe0 000c 6180 0a0b0c0d";

const IP_UDP_RECORD = {
  v: 4,
  src: "192.0.2.1",
  dst: "198.51.100.2",
  proto: 17,
  ttl: 64,
  id: 0x1234,
  df: true,
  mf: false,
  frag_offset: 0,
};
const IP_ICMP_RECORD = { ...IP_UDP_RECORD, proto: 1, id: 2 };

Deno.test("linux_sll: SLL carrying IPv4/UDP, sent by us", () => {
  // Out 00:00:5e:00:53:01 ethertype IPv4 (0x0800), length 48:
  //   192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4
  const rec = decodeRecord(`0004 0001 0006 00005e005301 0000 0800 ${IP_UDP}`, { linkType: SLL });
  assert.deepStrictEqual(rec, {
    ...frameFields(48, "LINUX_SLL"),
    sll: { pkttype: 4, hatype: 1, addr: "00:00:5e:00:53:01", protocol: 0x0800 },
    ip: IP_UDP_RECORD,
    udp: { sport: 40000, dport: 50000, len: 12 },
  });
});

Deno.test("linux_sll: SLL2 carrying IPv6/UDP", () => {
  // ifb1 In ifindex 3 00:00:5e:00:53:02 ethertype IPv6 (0x86dd), length 72: (flowlabel 0x12345, hlim 255,
  //   next-header UDP (17) payload length: 12) 2001:db8::1.33000 > 2001:db8::2.44000: UDP, length 4
  const rec = decodeRecord(`86dd 0000 00000003 0001 00 06 00005e005302 0000 ${IP6_UDP}`, { linkType: SLL2 });
  assert.deepStrictEqual(rec, {
    ...frameFields(72, "LINUX_SLL2"),
    sll: { pkttype: 0, hatype: 1, addr: "00:00:5e:00:53:02", protocol: 0x86dd },
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
  });
});

Deno.test("linux_sll: 802.2 LLC/SNAP payload (protocol 0x0004)", () => {
  // P 00:00:5e:00:53:01 802.2, length 56: LLC, dsap SNAP (0xaa), ssap SNAP (0xaa), ctrl 0x03: oui Ethernet
  //   (0x000000), ethertype IPv4 (0x0800): 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2
  const rec = decodeRecord(`0003 0001 0006 00005e005301 0000 0004 aaaa03 000000 0800 ${IP_ICMP}`, {
    linkType: SLL,
  });
  assert.deepStrictEqual(rec, {
    ...frameFields(56, "LINUX_SLL"),
    sll: { pkttype: 3, hatype: 1, addr: "00:00:5e:00:53:01", protocol: 4 },
    ip: IP_ICMP_RECORD,
    icmp: { type: 8, code: 0, id: 1, seq: 2, data_len: 4 },
  });
});

Deno.test("linux_sll: GRE device (ARPHRD_IPGRE): the protocol is the GRE protocol type", () => {
  // In ethertype IPv4 (0x0800), length 48: 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2
  const rec = decodeRecord(`0000 030a 0000 0000000000000000 0800 ${IP_ICMP}`, { linkType: SLL });
  assert.deepStrictEqual(rec, {
    ...frameFields(48, "LINUX_SLL"),
    sll: { pkttype: 0, hatype: 778, protocol: 0x0800 }, // no 6-byte address: addr omitted
    ip: IP_ICMP_RECORD,
    icmp: { type: 8, code: 0, id: 1, seq: 2, data_len: 4 },
  });
});

Deno.test("linux_sll: netlink and Novell raw 802.3 payloads are not decoded", () => {
  // In ethertype Unknown (0x0000), length 33: an rtnetlink message on a netlink monitor device.
  const netlink = decodeRecord("0000 0338 0000 0000000000000000 0000 1400000010000100000000000000000000", {
    linkType: SLL,
  });
  assert.deepStrictEqual(netlink, {
    ...frameFields(33, "LINUX_SLL"),
    sll: { pkttype: 0, hatype: 824, protocol: 0 },
  });
  // Protocol 0x0001 (ETH_P_802_3): Novell raw IPX, whose first bytes are not an LLC header.
  const ipx = decodeRecord(`0000 0001 0006 00005e005301 0000 0001 ffff 001e 0000 ${IP_ICMP}`, {
    linkType: SLL,
  });
  assert.deepStrictEqual(Object.keys(ipx), ["n", "ts", "len", "caplen", "link", "iface", "sll"]);
});

Deno.test("linux_sll: truncated headers", () => {
  const sll = decodeRecord("0004 0001 0006 00005e005301 0000 08", { linkType: SLL });
  assert.deepStrictEqual(sll, { ...frameFields(15, "LINUX_SLL"), malformed: "sll_truncated at byte 0" });
  const sll2 = decodeRecord("86dd 0000 00000003 0001 00 06 00005e005302 00", { linkType: SLL2 });
  assert.deepStrictEqual(sll2, { ...frameFields(19, "LINUX_SLL2"), malformed: "sll2_truncated at byte 0" });
  // A whole SLL2 header with a cut IPv6 header: the sll record stays, the anomaly names the IPv6 layer.
  const ip6 = decodeRecord(
    cat("86dd 0000 00000003 0001 00 06 00005e005302 0000", hex(IP6_UDP).subarray(0, 20)),
    {
      linkType: SLL2,
    },
  );
  assert.equal((ip6.sll as { protocol: number }).protocol, 0x86dd);
  assert.equal(ip6.malformed, "ipv6_truncated at byte 20");
});

Deno.test("linux_sll: seeded fuzz never throws", () => {
  fuzzFrames([
    hex(`0004 0001 0006 00005e005301 0000 0800 ${IP_UDP}`),
    hex(`0003 0001 0006 00005e005301 0000 0004 aaaa03 000000 0800 ${IP_ICMP}`),
    hex(`0000 030a 0000 0000000000000000 0800 ${IP_ICMP}`),
  ], { linkType: SLL });
  fuzzFrames([hex(`86dd 0000 00000003 0001 00 06 00005e005302 0000 ${IP6_UDP}`)], { linkType: SLL2 });
});

Deno.test({
  name: "linux_sll: packet type, hardware type, address and protocol agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = ["zeek/linux_dlt_sll2.pcap", "zeek/linuxsll-arp.pcap", "tcpdump/babel.pcap"];
    const fields = [
      "sll.pkttype",
      "sll.hatype",
      "sll.src.eth",
      "sll.etype",
      "sll.ltype",
      "sll.gretype",
      "ip.src",
      "ipv6.src",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [pkttype, hatype, addr, etype, ltype, gretype, ip4, ip6] = theirs[i];
        const sll = ours[i].sll as Record<string, unknown>;
        const what = `${name} #${i + 1}`;
        assert.equal(sll.pkttype, Number(pkttype), what);
        assert.equal(sll.hatype, Number(hatype), what);
        assert.equal(sll.addr, addr || undefined, what);
        assert.equal(sll.protocol, Number(etype || ltype || gretype), what);
        const ip = ours[i].ip as { src: string } | undefined;
        assert.equal(ip?.src, (ip4 || ip6).split(",")[0] || undefined, what);
        packets++;
      }
    }
    console.log(`linux_sll: ${packets} packets agree with tshark`);
    assert.ok(packets >= 40, `only ${packets} packets compared`);
  },
});
