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
const ETH = "00005e005302 00005e005301 0800";
const ETH_RECORD = { src: A, dst: B, type: 0x0800 };
const IP = {
  v: 4,
  src: "192.0.2.1",
  dst: "198.51.100.2",
  proto: 17,
  ttl: 64,
  df: true,
  mf: false,
  frag_offset: 0,
};

// (tos 0x0, ttl 64, id 4660, offset 0, flags [DF], proto UDP (17), length 32)
//   192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4
const DATAGRAM = hex(
  `${ETH} 4500 0020 1234 4000 40 11 3c62 c0000201 c6336402 | 9c40 c350 000c b007 01020304`,
);

Deno.test("udp: a datagram", () => {
  assert.deepStrictEqual(decodeRecord(DATAGRAM), {
    ...frameFields(46),
    eth: ETH_RECORD,
    ip: { ...IP, id: 0x1234 },
    udp: { sport: 40000, dport: 50000, len: 12 },
  });
});

Deno.test("udp: a length below the header size", () => {
  // 192.0.2.1.40000 > 198.51.100.2.50000: truncated-udplength 4
  const rec = decodeRecord(
    `${ETH} 4500 0020 0005 4000 40 11 4e91 c0000201 c6336402 | 9c40 c350 0004 b007 01020304`,
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(46),
    eth: ETH_RECORD,
    ip: { ...IP, id: 5 },
    udp: { sport: 40000, dport: 50000, len: 4 },
    malformed: "udp_bad_length at byte 38",
  });
  // Zero is a jumbogram's length, which IPv4 does not have.
  const zero = decodeRecord(
    `${ETH} 4500 0020 0005 4000 40 11 4e91 c0000201 c6336402 | 9c40 c350 0000 b007 01020304`,
  );
  assert.equal(zero.malformed, "udp_bad_length at byte 38");
});

Deno.test("udp: a length beyond the IP payload", () => {
  // 192.0.2.1.40000 > 198.51.100.2.50000: UDP, bad length 248 > 4
  const rec = decodeRecord(
    `${ETH} 4500 0020 0006 4000 40 11 4e90 c0000201 c6336402 | 9c40 c350 0100 b007 01020304`,
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(46),
    eth: ETH_RECORD,
    ip: { ...IP, id: 6 },
    udp: { sport: 40000, dport: 50000, len: 256 },
    malformed: "udp_bad_length at byte 38",
  });
  // The same length in a capture cut by the snaplen (the IP header claims 256 bytes of payload) is fine.
  const cut = decodeRecord(
    `${ETH} 4500 0114 0006 4000 40 11 4d9c c0000201 c6336402 | 9c40 c350 0100 b007 01020304`,
    {
      len: 290,
    },
  );
  assert.deepStrictEqual(cut.udp, { sport: 40000, dport: 50000, len: 256 });
  assert.equal(cut.malformed, undefined);
});

Deno.test("udp: a length shorter than the IP payload", () => {
  // 192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4 (then 4 bytes the IP payload holds after it)
  const rec = decodeRecord(
    `${ETH} 4500 0024 0007 4000 40 11 4e8b c0000201 c6336402 | 9c40 c350 000c b007 01020304 | eeeeeeee`,
  );
  assert.deepStrictEqual(rec.udp, { sport: 40000, dport: 50000, len: 12 });
  assert.equal(rec.malformed, undefined);
});

Deno.test("udp: truncated header", () => {
  for (const cut of [34, 41]) {
    assert.deepStrictEqual(decodeRecord(DATAGRAM.subarray(0, cut)), {
      ...frameFields(cut),
      eth: ETH_RECORD,
      ip: { ...IP, id: 0x1234 },
      malformed: "udp_truncated at byte 34",
    }, `cut at ${cut}`);
  }
});

Deno.test("udp: over IPv6, and in an IPv6 jumbogram (length 0)", () => {
  // 2001:db8::1.33000 > 2001:db8::2.44000: UDP, length 4
  const rec = decodeRecord(
    "00005e005302 00005e005301 86dd | 6001 2345 000c 11 ff 20010db8000000000000000000000001 " +
      "20010db8000000000000000000000002 | 80e8 abe0 000c 6180 0a0b0c0d",
  );
  assert.deepStrictEqual(rec.udp, { sport: 33000, dport: 44000, len: 12 });
  assert.equal(rec.malformed, undefined);
  // (next-header Options (0) payload length: 0) HBH (jumbo: 70016) 33000 > 44000: UDP, length 70000
  const jumbo = decodeRecord(cat(
    "00005e005302 00005e005301 86dd | 6000 0000 0000 00 40 20010db8000000000000000000000001 " +
      "20010db8000000000000000000000002 | 11 00 c204 00011180 | 80e8 abe0 0000 0000",
    new Uint8Array(70000),
  ));
  assert.deepStrictEqual(jumbo.udp, { sport: 33000, dport: 44000, len: 0 });
  assert.deepStrictEqual((jumbo.ip as { ext: number[] }).ext, [0]);
  assert.equal(jumbo.malformed, undefined);
});

Deno.test("udp: the payload goes to the application decoders", () => {
  // 192.0.2.1.53000 > 198.51.100.2.53: 4660+ A? example.com. (29)
  const rec = decodeRecord(
    `${ETH} 4500 0039 0008 4000 40 11 4e75 c0000201 c6336402 | cf08 0035 0025 628d` +
      "| 1234 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001",
  );
  assert.deepStrictEqual(rec.udp, { sport: 53000, dport: 53, len: 37 });
  assert.ok(rec.dns !== undefined, "the DNS decoder saw the payload");
});

Deno.test("udp: seeded fuzz never throws", () => {
  fuzzFrames([
    DATAGRAM,
    hex(`${ETH} 4500 0039 0008 4000 40 11 4e75 c0000201 c6336402 | cf08 0035 0025 628d`),
  ]);
});

Deno.test({
  name: "udp: ports and length agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = ["mcpcap/dns.pcap", "zeek/udp-packet.pcap", "tcpdump/udp-length-heapoverflow.pcap"];
    names.push("zeek/dns-edns-ecs.pcap", "tcpdump/syslog_udp.pcap");
    const fields = [
      "udp.srcport",
      "udp.dstport",
      "udp.length",
      "icmp.type",
      "ip.flags.mf",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [sport, dport, len, icmp, mf] = theirs[i];
        // No UDP, a header tshark shows in part (netwatch wants all 8 bytes), quoted by ICMP, or a fragment.
        if (len === "" || icmp !== "" || mf === "1") {
          if (len === "" && sport !== "") assert.equal(ours[i].malformed, "udp_truncated at byte 34");
          continue;
        }
        const what = `${name} #${i + 1}`;
        assert.deepStrictEqual(
          ours[i].udp,
          { sport: Number(sport), dport: Number(dport), len: Number(len) },
          what,
        );
        packets++;
      }
    }
    console.log(`udp: ${packets} packets agree with tshark`);
    assert.ok(packets >= 40, `only ${packets} packets compared`);
  },
});
