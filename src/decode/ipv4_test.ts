import assert from "node:assert/strict";
import { PacketDecoder } from "./packet_decoder.ts";
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
const IP = { v: 4, src: "192.0.2.1", dst: "198.51.100.2", ttl: 64, df: false, mf: false, frag_offset: 0 };

// 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype IPv4 (0x0800), length 50: (tos 0x0, ttl 1, id 3,
//   offset 0, flags [none], proto UDP (17), length 36, options (RA))
//   192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4
const WITH_OPTIONS = hex(
  `${ETH} 4600 0024 0003 0000 01 11 388b c0000201 c6336402 94040000 | 9c40 c350 000c b007 01020304`,
);

// (tos 0x0, ttl 64, id 16963, offset 0, flags [+], proto UDP (17), length 36)
//   192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 16
const FIRST_FRAGMENT = hex(
  `${ETH} 4500 0024 4243 2000 40 11 2c4f c0000201 c6336402 | 9c40 c350 0018 7bb5 0001020304050607`,
);
// (tos 0x0, ttl 64, id 16963, offset 16, flags [none], proto UDP (17), length 28)
//   192.0.2.1 > 198.51.100.2: ip-proto-17
const LAST_FRAGMENT = hex(`${ETH} 4500 001c 4243 0002 40 11 4c55 c0000201 c6336402 | 08090a0b0c0d0e0f`);

Deno.test("ipv4: header with options (router alert)", () => {
  assert.deepStrictEqual(decodeRecord(WITH_OPTIONS), {
    ...frameFields(50),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, ttl: 1, id: 3, options_len: 4 },
    udp: { sport: 40000, dport: 50000, len: 12 },
  });
});

Deno.test("ipv4: a non-first fragment has no transport header", () => {
  // (tos 0x0, ttl 64, id 16962, offset 1480, flags [none], proto UDP (17), length 28)
  //   192.0.2.1 > 198.51.100.2: ip-proto-17
  const rec = decodeRecord(`${ETH} 4500 001c 4242 00b9 40 11 4b9f c0000201 c6336402 | 0011223344556677`);
  assert.deepStrictEqual(rec, {
    ...frameFields(42),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, id: 0x4242, frag_offset: 1480 },
  });
});

Deno.test("ipv4: fragments are decoded once reassembled", () => {
  // Alone, the first fragment waits for the rest: its UDP header is not decoded yet.
  assert.deepStrictEqual(decodeRecord(FIRST_FRAGMENT), {
    ...frameFields(50),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, id: 0x4243, mf: true },
  });
  // With both (one decoder keeps the state), the last fragment carries the whole datagram's UDP.
  const decoder = new PacketDecoder();
  decodeRecord(FIRST_FRAGMENT, {}, decoder);
  assert.deepStrictEqual(decodeRecord(LAST_FRAGMENT, {}, decoder), {
    ...frameFields(42),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, id: 0x4243, frag_offset: 16, reassembled_len: 24 },
    udp: { sport: 40000, dport: 50000, len: 24 },
  });
});

Deno.test("ipv4: bad IHL, bad version", () => {
  // IHL 4 (16 bytes): below the minimum header.
  const ihl = decodeRecord(cat(WITH_OPTIONS.subarray(0, 14), "44", WITH_OPTIONS.subarray(15)));
  assert.deepStrictEqual(ihl, {
    ...frameFields(50),
    eth: ETH_RECORD,
    malformed: "ip_bad_header_length at byte 14",
  });
  // Version 6 in a frame whose EtherType says IPv4.
  const version = decodeRecord(cat(WITH_OPTIONS.subarray(0, 14), "66", WITH_OPTIONS.subarray(15)));
  assert.deepStrictEqual(version, {
    ...frameFields(50),
    eth: ETH_RECORD,
    malformed: "ip_bad_version at byte 14",
  });
});

Deno.test("ipv4: total length 0 (TCP segmentation offload): the payload runs to the end of the frame", () => {
  // (tos 0x0, ttl 64, id 9, offset 0, flags [DF], proto TCP (6), length 0 [bad-len 0])
  //   192.0.2.1.40000 > 198.51.100.2.443: Flags [P.], seq 1:7, ack 1, win 1024, length 6
  const rec = decodeRecord(
    `${ETH} 4500 0000 0009 4000 40 06 4eb8 c0000201 c6336402 | 9c40 01bb 00000001 00000001 5018 0400 b828 0000 787878787878`,
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(60),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 6, id: 9, df: true },
    tcp: { sport: 40000, dport: 443, seq: 1, ack: 1, flags: 0x18, win: 1024, len: 6 },
  });
});

Deno.test("ipv4: total length shorter than the header", () => {
  // Total length 19 with a 24-byte header: the header is decoded, nothing after it.
  const rec = decodeRecord(cat(WITH_OPTIONS.subarray(0, 16), "0013", WITH_OPTIONS.subarray(18)));
  assert.deepStrictEqual(rec, {
    ...frameFields(50),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 17, ttl: 1, id: 3, options_len: 4 },
    malformed: "ip_bad_total_length at byte 16",
  });
});

Deno.test("ipv4: truncated header and options", () => {
  for (const cut of [14, 15, 33]) {
    assert.deepStrictEqual(decodeRecord(WITH_OPTIONS.subarray(0, cut)), {
      ...frameFields(cut),
      eth: ETH_RECORD,
      malformed: "ip_truncated at byte 14",
    }, `cut at ${cut}`);
  }
  // The fixed header is whole but the options are cut: the header fields are known.
  for (const cut of [34, 37]) {
    assert.deepStrictEqual(decodeRecord(WITH_OPTIONS.subarray(0, cut)), {
      ...frameFields(cut),
      eth: ETH_RECORD,
      ip: { ...IP, proto: 17, ttl: 1, id: 3, options_len: 4 },
      malformed: "ip_truncated at byte 14",
    }, `cut at ${cut}`);
  }
  // IHL 15 (60 bytes) in a 20-byte capture.
  const long = decodeRecord(cat(WITH_OPTIONS.subarray(0, 14), "4f", WITH_OPTIONS.subarray(15, 34)));
  assert.deepStrictEqual(long.ip, { ...IP, proto: 17, ttl: 1, id: 3, options_len: 40 });
  assert.equal(long.malformed, "ip_truncated at byte 14");
});

Deno.test("ipv4: a capture cut by the snaplen keeps the lengths the headers claim", () => {
  // (tos 0x0, ttl 64, id 10, offset 0, flags [DF], proto TCP (6), length 1040)
  //   192.0.2.1.40001 > 198.51.100.2.5001: Flags [.], seq 100:1100, ack 200, win 512, length 1000
  // captured: the first 64 of 1054 bytes.
  const packet = cat(
    `${ETH} 4500 0410 000a 4000 40 06 4aa7 c0000201 c6336402 | 9c41 1389 00000064 000000c8 5010 0200 0cbf 0000`,
    new Uint8Array(10),
  );
  assert.deepStrictEqual(decodeRecord(packet, { len: 1054 }), {
    ...frameFields(64, "EN10MB", 1054),
    eth: ETH_RECORD,
    ip: { ...IP, proto: 6, id: 10, df: true },
    tcp: { sport: 40001, dport: 5001, seq: 100, ack: 200, flags: 0x10, win: 512, len: 1000 },
  });
});

Deno.test("ipv4: seeded fuzz never throws", () => {
  fuzzFrames([WITH_OPTIONS, FIRST_FRAGMENT, LAST_FRAGMENT]);
});

Deno.test({
  name: "ipv4: flags, fragment offset, header length and TTL agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = [
      "zeek/ipv4_fragmented-1.pcap",
      "zeek/ipv4_fragmented-3.pcap",
      "zeek/ipv4_fragmented-4.pcap",
      "tcpdump/IGMP_V2.pcap",
      "tcpdump/ip_ts_opts_asan.pcap",
      "tcpdump/ipv4_tcp_http_xml.pcap",
      "tcpdump/ipv4_invalid_hdr_length.pcap",
      "zeek/ipv4_fragmented-2.pcap",
      "zeek/http_get.pcap",
      "zeek/icmp_icmp-timeexceeded.pcap",
    ];
    const fields = [
      "ip.src",
      "ip.dst",
      "ip.proto",
      "ip.ttl",
      "ip.id",
      "ip.flags.df",
      "ip.flags.mf",
      "ip.frag_offset",
      "ip.hdr_len",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const t = theirs[i].map((f) => f.split(",")[0]);
        const ip = ours[i].ip as Record<string, unknown> | undefined;
        const what = `${name} #${i + 1}`;
        if (t[0] === "") {
          assert.ok(ip === undefined || ours[i].malformed !== undefined, what);
          continue;
        }
        assert.deepStrictEqual(
          [
            ip?.src,
            ip?.dst,
            ip?.proto,
            ip?.ttl,
            ip?.id,
            ip?.df,
            ip?.mf,
            ip?.frag_offset,
            ip?.options_len ?? 0,
          ],
          [
            t[0],
            t[1],
            Number(t[2]),
            Number(t[3]),
            Number(t[4]),
            t[5] === "1",
            t[6] === "1",
            Number(t[7]) * 8, // tshark counts 8-byte units
            Number(t[8]) - 20,
          ],
          what,
        );
        packets++;
      }
    }
    console.log(`ipv4: ${packets} packets agree with tshark`);
    assert.ok(packets >= 30, `only ${packets} packets compared`);
  },
});
