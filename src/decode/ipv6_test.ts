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

const A = "00:00:5e:00:53:01", B = "00:00:5e:00:53:02";
const ETH = "00005e005302 00005e005301 86dd";
const ETH_RECORD = { src: A, dst: B, type: 0x86dd };
const ADDRS = "20010db8000000000000000000000001 20010db8000000000000000000000002";
const IP = { v: 6, src: "2001:db8::1", dst: "2001:db8::2", ttl: 64, df: false, mf: false, frag_offset: 0 };

// ethertype IPv6 (0x86dd), length 78: (hlim 64, next-header Options (0) payload length: 24)
//   2001:db8::1 > 2001:db8::2: HBH (padn) frag (0x12345678:1480|8)
const HBH_FRAG_LATER = hex(
  `${ETH} 6000 0000 0018 00 40 ${ADDRS} | 2c 00 010400000000 | 11 00 05c8 12345678 | 0011223344556677`,
);
// ethertype IPv6 (0x86dd), length 86: (hlim 64, next-header Options (0) payload length: 32)
//   2001:db8::1 > 2001:db8::2: HBH (padn) frag (0x12345679:0|16) 33000 > 44000: UDP, length 16
const HBH_FRAG_FIRST = hex(
  `${ETH} 6000 0000 0020 00 40 ${ADDRS} | 2c 00 010400000000 | 11 00 0001 12345679 | 80e8 abe0 0018 0000 0001020304050607`,
);
// ethertype IPv6 (0x86dd), length 102: (hlim 64, next-header Routing (43) payload length: 48)
//   2001:db8::1 > 2001:db8::2: RT6 (len=2, type=2, segleft=1, rsv=0x0, [0]2001:db8::99)
//   40000 > 80: Flags [S], seq 1, win 65535, options [mss 1440], length 0
const ROUTING_TCP = hex(
  `${ETH} 6000 0000 0030 2b 40 ${ADDRS} | 06 02 02 01 00000000 20010db8000000000000000000000099` +
    "| 9c40 0050 00000001 00000000 6002 ffff 9f9d 0000 020405a0",
);
// ethertype IPv6 (0x86dd), length 106: (hlim 64, next-header unknown (60) payload length: 52)
//   2001:db8::1 > 2001:db8::2: DSTOPT (padn) AH(length=4(24-bytes),spi=0x00000100,seq=0x1,icv=0x0...):
//   40000 > 80: Flags [S], seq 1, win 65535, length 0
const DSTOPTS_AH_TCP = hex(
  `${ETH} 6000 0000 0034 3c 40 ${ADDRS} | 33 00 010400000000 | 06 04 0000 00000100 00000001 000000000000000000000000` +
    "| 9c40 0050 00000001 00000000 5002 ffff b7dc 0000",
);
const SYN = { sport: 40000, dport: 80, seq: 1, ack: 0, flags: 2, win: 65535, len: 0 };

Deno.test("ipv6: hop-by-hop and a non-first fragment: no transport header", () => {
  assert.deepStrictEqual(decodeRecord(HBH_FRAG_LATER), {
    ...frameFields(78),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, id: 0x12345678, frag_offset: 1480, ext: [0, 44] },
  });
});

Deno.test("ipv6: a first fragment waits for the others", () => {
  assert.deepStrictEqual(decodeRecord(HBH_FRAG_FIRST), {
    ...frameFields(86),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, id: 0x12345679, mf: true, ext: [0, 44] },
  });
});

Deno.test("ipv6: an atomic fragment (offset 0, no more fragments) is decoded at once", () => {
  // ethertype IPv6 (0x86dd), length 74: (hlim 64, next-header Fragment (44) payload length: 20)
  //   2001:db8::1 > 2001:db8::2: frag (0x0000abcd:0|12) 33000 > 44000: UDP, length 4
  const rec = decodeRecord(
    `${ETH} 6000 0000 0014 2c 40 ${ADDRS} | 11 00 0000 0000abcd | 80e8 abe0 000c 6180 0a0b0c0d`,
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(74),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, ext: [44], reassembled_len: 12 },
    udp: { sport: 33000, dport: 44000, len: 12 },
  });
});

Deno.test("ipv6: routing header, destination options and AH are walked to the transport", () => {
  assert.deepStrictEqual(decodeRecord(ROUTING_TCP), {
    ...frameFields(102),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 6, ext: [43] },
    tcp: { ...SYN, options: { mss: 1440 } },
  });
  assert.deepStrictEqual(decodeRecord(DSTOPTS_AH_TCP), {
    ...frameFields(106),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 6, ext: [60, 51] },
    tcp: SYN,
  });
});

Deno.test("ipv6: ESP and no-next-header stop the walk", () => {
  // ethertype IPv6 (0x86dd), length 70: (hlim 64, next-header ESP (50) payload length: 16)
  //   2001:db8::1 > 2001:db8::2: ESP(spi=0x00000100,seq=0x1), length 16
  const esp = decodeRecord(`${ETH} 6000 0000 0010 32 40 ${ADDRS} | 00000100 00000001 0000000000000000`);
  assert.deepStrictEqual(esp, { ...frameFields(70), eth: ETH_RECORD, ip: { ...IP, proto: 50 } });
  // ethertype IPv6 (0x86dd), length 62: (hlim 64, next-header unknown (59) payload length: 0)
  //   2001:db8::1 > 2001:db8::2: no next header
  const none = decodeRecord(`${ETH} 6000 0000 0000 3b 40 ${ADDRS}`);
  assert.deepStrictEqual(none, { ...frameFields(54), eth: ETH_RECORD, ip: { ...IP, proto: 59 } });
});

Deno.test("ipv6: truncated header and extension headers", () => {
  for (const cut of [14, 30, 53]) {
    assert.deepStrictEqual(decodeRecord(ROUTING_TCP.subarray(0, cut)), {
      ...frameFields(cut),
      eth: ETH_RECORD,
      malformed: "ipv6_truncated at byte 14",
    }, `cut at ${cut}`);
  }
  // The routing header (24 bytes) cut: the chain stops there, the header fields are known.
  const rh = decodeRecord(ROUTING_TCP.subarray(0, 70));
  assert.deepStrictEqual(rh.ip, { ...IP, proto: 6, ext: [43] });
  assert.equal(rh.malformed, "ipv6_ext_truncated at byte 54");
  // The fragment header cut after 4 of its 8 bytes.
  const frag = decodeRecord(HBH_FRAG_LATER.subarray(0, 66));
  assert.deepStrictEqual(frag.ip, { ...IP, proto: 44, ext: [0, 44] });
  assert.equal(frag.malformed, "ipv6_ext_truncated at byte 62");
  // A hop-by-hop length (16 bytes) beyond the 8-byte payload length.
  const long = decodeRecord(`${ETH} 6000 0000 0008 00 40 ${ADDRS} | 3b 01 010400000000`);
  assert.equal(long.malformed, "ipv6_ext_truncated at byte 54");
  // The transport header cut: the IPv6 layer is whole.
  const tcp = decodeRecord(ROUTING_TCP.subarray(0, 90));
  assert.deepStrictEqual(tcp.ip, { ...IP, proto: 6, ext: [43] });
  assert.equal(tcp.malformed, "tcp_truncated at byte 78");
});

Deno.test("ipv6: bad version and too many extension headers", () => {
  // Version 4 in a frame whose EtherType says IPv6.
  const bad = decodeRecord(cat(ROUTING_TCP.subarray(0, 14), "40", ROUTING_TCP.subarray(15)));
  assert.deepStrictEqual(bad, {
    ...frameFields(102),
    eth: ETH_RECORD,
    malformed: "ip_bad_version at byte 14",
  });
  // 20 destination options headers: more than any real stack sends, so the walk stops and says so.
  const opts = "3c 00 010400000000 ".repeat(19) + "11 00 010400000000";
  const deep = decodeRecord(`${ETH} 6000 0000 00ac 3c 40 ${ADDRS} | ${opts} | 80e8 abe0 000c 0000 0a0b0c0d`);
  assert.equal(deep.udp, undefined);
  assert.equal(deep.malformed, "ipv6_too_many_ext_headers at byte 182");
  assert.equal((deep.ip as { ext: number[] }).ext.length, 16);
});

Deno.test("ipv6: seeded fuzz never throws", () => {
  fuzzFrames([HBH_FRAG_LATER, HBH_FRAG_FIRST, ROUTING_TCP, DSTOPTS_AH_TCP]);
});

const EXT_NUMBERS: Record<string, number> = {
  "ipv6.hopopts": 0,
  "ipv6.routing": 43,
  "ipv6.fraghdr": 44,
  "ipv6.dstopts": 60,
  "ah": 51,
};

Deno.test({
  name: "ipv6: addresses, hop limit, extension headers and fragment fields agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = [
      "tcpdump/ipv6-routing-header.pcap",
      "tcpdump/OSPFv3_with_AH.pcap",
      "zeek/ip6_esp.pcap",
      "zeek/chksums_ip6-route0-tcp-good-chksum.pcap",
      "zeek/chksums_ip6-hoa-udp-good-chksum.pcap",
      "zeek/ipv6-fragmented-dns.pcap",
      "zeek/ipv6-mobility-dst-opts.pcap",
      "tcpdump/ipv6_no_next_header.pcap",
    ];
    const fields = [
      "frame.protocols",
      "ipv6.src",
      "ipv6.dst",
      "ipv6.hlim",
      "ipv6.fraghdr.offset",
      "ipv6.fraghdr.more",
      "ipv6.fraghdr.ident",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [protocols, src, dst, hlim, offset, more, ident] = theirs[i].map((f) => f.split(",")[0]);
        const ip = ours[i].ip as Record<string, unknown> | undefined;
        const what = `${name} #${i + 1}`;
        if (src === "") continue; // not IPv6 (or not decodable by tshark)
        // The extension headers are the protocols after the first "ipv6", up to the first other one.
        const layers = protocols.split(":");
        const ext: number[] = [];
        for (let j = layers.indexOf("ipv6") + 1; EXT_NUMBERS[layers[j]] !== undefined; j++) {
          ext.push(EXT_NUMBERS[layers[j]]);
        }
        assert.deepStrictEqual(
          [ip?.src, ip?.dst, ip?.ttl, ip?.ext ?? []],
          [src, dst, Number(hlim), ext],
          what,
        );
        if (offset !== "") {
          assert.deepStrictEqual(
            [ip?.frag_offset, ip?.mf, ip?.id],
            [Number(offset) * 8, more === "1", ip?.id === undefined ? undefined : Number(ident)],
            what,
          );
        }
        packets++;
      }
    }
    console.log(`ipv6: ${packets} packets agree with tshark`);
    assert.ok(packets >= 20, `only ${packets} packets compared`);
  },
});
