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
const ETH_HDR = "00005e005302 00005e005301"; // dst B, src A
/** IPv4 192.0.2.1 > 198.51.100.2, id 0x1234, DF, ttl 64, UDP, total length 32. */
const IP_UDP = "4500 0020 1234 4000 40 11 3c62 c0000201 c6336402";
/** UDP 40000 > 50000, length 12, 4 bytes of payload. */
const UDP = "9c40 c350 000c b007 01020304";
/** IPv4 192.0.2.1 > 198.51.100.2, id 2, DF, ttl 64, ICMP, total length 32. */
const IP_ICMP = "4500 0020 0002 4000 40 01 4ea4 c0000201 c6336402";
/** ICMP echo request, id 1, seq 2, 4 bytes of data. */
const ICMP_ECHO = "08 00 3336 0001 0002 61626364";

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
const ICMP_RECORD = { type: 8, code: 0, id: 1, seq: 2, data_len: 4 };

// 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype IPv4 (0x0800), length 46:
//   192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4
const ETH_IP_UDP = hex(`${ETH_HDR} 0800 ${IP_UDP} ${UDP}`);

Deno.test("ethernet: Ethernet II carrying IPv4/UDP", () => {
  assert.deepStrictEqual(decodeRecord(ETH_IP_UDP), {
    ...frameFields(46),
    eth: { src: A, dst: B, type: 0x0800 },
    ip: IP_UDP_RECORD,
    udp: { sport: 40000, dport: 50000, len: 12 },
  });
});

Deno.test("ethernet: 802.1Q tag", () => {
  // 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype 802.1Q (0x8100), length 50: vlan 100, p 5,
  //   ethertype IPv4: 192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12
  const rec = decodeRecord(`${ETH_HDR} 8100 a064 0800 ${IP_ICMP} ${ICMP_ECHO}`);
  assert.deepStrictEqual(rec, {
    ...frameFields(50),
    eth: { src: A, dst: B, type: 0x8100 },
    vlan: [100],
    ip: IP_ICMP_RECORD,
    icmp: ICMP_RECORD,
  });
});

Deno.test("ethernet: QinQ (802.1ad outer tag, 802.1Q inner tag)", () => {
  // 00:00:5e:00:53:01 > 00:00:5e:00:53:02, ethertype 802.1Q-QinQ (0x88a8), length 54: vlan 200, p 0,
  //   ethertype 802.1Q (0x8100), vlan 2001, p 0, ethertype IPv4 (0x0800),
  //   192.0.2.1.40000 > 198.51.100.2.50000: UDP, length 4
  const rec = decodeRecord(`${ETH_HDR} 88a8 00c8 8100 07d1 0800 ${IP_UDP} ${UDP}`);
  assert.deepStrictEqual(rec, {
    ...frameFields(54),
    eth: { src: A, dst: B, type: 0x88a8 },
    vlan: [200, 2001],
    ip: IP_UDP_RECORD,
    udp: { sport: 40000, dport: 50000, len: 12 },
  });
  // The pre-standard 0x9100 TPID, priority and DEI bits set (only the 12-bit VID is kept).
  const old = decodeRecord(`${ETH_HDR} 9100 f00a 8100 3fff 0800 ${IP_UDP} ${UDP}`);
  assert.deepStrictEqual(old.vlan, [10, 4095]);
  assert.deepStrictEqual(old.udp, { sport: 40000, dport: 50000, len: 12 });
});

Deno.test("ethernet: 802.3 length field with LLC/SNAP carrying IPv4", () => {
  // 00:00:5e:00:53:01 > 00:00:5e:00:53:02, 802.3, length 40: LLC, dsap SNAP (0xaa) Individual, ssap SNAP
  //   (0xaa) Command, ctrl 0x03: oui Ethernet (0x000000), ethertype IPv4 (0x0800), length 32:
  //   192.0.2.1 > 198.51.100.2: ICMP echo request, id 1, seq 2, length 12
  const rec = decodeRecord(`${ETH_HDR} 0028 aaaa03 000000 0800 ${IP_ICMP} ${ICMP_ECHO}`);
  assert.deepStrictEqual(rec, {
    ...frameFields(54),
    eth: { src: A, dst: B, type: 0x28 },
    ip: IP_ICMP_RECORD,
    icmp: ICMP_RECORD,
  });
});

Deno.test("ethernet: 802.3 with a non-SNAP LLC (STP) and unknown EtherTypes stop after Ethernet", () => {
  // 00:00:5e:00:53:01 > 01:80:c2:00:00:00, 802.3, length 38: LLC, dsap STP (0x42), ssap STP (0x42), ctrl 0x03
  const stp = decodeRecord(cat("0180c2000000 00005e005301 0026 424203", new Uint8Array(35)));
  assert.deepStrictEqual(stp, { ...frameFields(52), eth: { src: A, dst: "01:80:c2:00:00:00", type: 0x26 } });
  // 00:00:5e:00:53:01 > 01:80:c2:00:00:0e, ethertype LLDP (0x88cc), length 20
  const lldp = decodeRecord("0180c200000e 00005e005301 88cc 020704000000000000");
  assert.deepStrictEqual(lldp, {
    ...frameFields(23),
    eth: { src: A, dst: "01:80:c2:00:00:0e", type: 0x88cc },
  });
  // An 802.3 length larger than the frame: the LLC header is read from what was captured.
  const long = decodeRecord(`${ETH_HDR} 05dc aaaa03 000000 0800 ${IP_ICMP} ${ICMP_ECHO}`);
  assert.deepStrictEqual(long.icmp, ICMP_RECORD);
});

Deno.test("ethernet: trailing padding is not IP payload", () => {
  // A 60-byte minimum frame: IPv4 total length 32, then 14 bytes of padding.
  const rec = decodeRecord(cat(`${ETH_HDR} 0800 ${IP_ICMP} ${ICMP_ECHO}`, "ff".repeat(14)));
  assert.deepStrictEqual(rec.icmp, ICMP_RECORD); // data_len 4, not 18
  assert.equal(rec.caplen, 60);
  assert.equal(rec.malformed, undefined);
});

Deno.test("ethernet: truncated at each layer keeps the outer layers", () => {
  const eth = { src: A, dst: B, type: 0x0800 };
  // As a snaplen cuts them: 46 bytes on the wire, `cut` captured.
  for (let cut = 0; cut < ETH_IP_UDP.length; cut++) {
    const rec = decodeRecord(ETH_IP_UDP.subarray(0, cut), { len: 46 });
    const what = `cut at ${cut}`;
    if (cut < 14) {
      assert.deepStrictEqual(
        rec,
        { ...frameFields(cut, "EN10MB", 46), malformed: "eth_truncated at byte 0" },
        what,
      );
    } else if (cut < 34) {
      assert.deepStrictEqual(rec, {
        ...frameFields(cut, "EN10MB", 46),
        eth,
        malformed: "ip_truncated at byte 14",
      }, what);
    } else if (cut < 42) {
      assert.deepStrictEqual(rec, {
        ...frameFields(cut, "EN10MB", 46),
        eth,
        ip: IP_UDP_RECORD,
        malformed: "udp_truncated at byte 34",
      }, what);
    } else {
      // The UDP header is whole; the payload was cut by the snaplen, which is not an anomaly.
      assert.deepStrictEqual(rec, {
        ...frameFields(cut, "EN10MB", 46),
        eth,
        ip: IP_UDP_RECORD,
        udp: { sport: 40000, dport: 50000, len: 12 },
      }, what);
    }
  }
});

Deno.test("ethernet: truncated VLAN tag and too many tags", () => {
  const cut = decodeRecord(`${ETH_HDR} 8100 a0`);
  assert.deepStrictEqual(cut, {
    ...frameFields(15),
    eth: { src: A, dst: B, type: 0x8100 },
    malformed: "vlan_truncated at byte 14",
  });
  // Nine stacked tags (more than any real network uses): decoding stops at the ninth.
  const tags = "8100 0001 ".repeat(9);
  const deep = decodeRecord(`${ETH_HDR} ${tags} 0800 ${IP_UDP} ${UDP}`);
  assert.deepStrictEqual(deep.vlan, [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(deep.malformed, "vlan_too_many_tags at byte 46");
  assert.equal(deep.ip, undefined);
});

Deno.test("ethernet: seeded fuzz never throws", () => {
  fuzzFrames([
    ETH_IP_UDP,
    hex(`${ETH_HDR} 8100 a064 0800 ${IP_ICMP} ${ICMP_ECHO}`),
    hex(`${ETH_HDR} 88a8 00c8 8100 07d1 0800 ${IP_UDP} ${UDP}`),
    hex(`${ETH_HDR} 0028 aaaa03 000000 0800 ${IP_ICMP} ${ICMP_ECHO}`),
  ]);
});

Deno.test({
  name: "ethernet: MACs, EtherType and VLAN ids agree with tshark on QinQ and 802.1Q captures",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = [
      "tcpdump/802.1ad_QinQ.pcap",
      "zeek/q-in-q.pcap",
      "zeek/http-qinq-0.pcap",
      "zeek/icmp_dot1q.pcap",
      "tcpdump/rpvstp-trunk-native-vid5.pcap",
    ];
    const fields = [
      "eth.src",
      "eth.dst",
      "eth.type",
      "ieee8021ad.id",
      "vlan.id",
      "eth.len",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [src, dst, type, outer, inner, len] = theirs[i].map((f) => f.split(",")[0]);
        const eth = ours[i].eth as { src: string; dst: string; type: number };
        const what = `${name} #${i + 1}`;
        assert.equal(eth.src, src, what);
        assert.equal(eth.dst, dst, what);
        assert.equal(eth.type, Number(type || len), what); // an 802.3 length field is tshark's eth.len
        const vids = [outer, ...theirs[i][4].split(",")].filter((v) => v !== "").map(Number);
        assert.deepStrictEqual(ours[i].vlan ?? [], vids, what);
        assert.ok(inner === "" || vids.includes(Number(inner)));
        packets++;
      }
    }
    console.log(`ethernet: ${packets} packets agree with tshark`);
    assert.ok(packets >= 58, `only ${packets} packets compared`);
  },
});
