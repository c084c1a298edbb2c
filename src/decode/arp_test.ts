import assert from "node:assert/strict";
import { CORPUS_SKIP, corpusAndTshark, decodeRecord, frameFields, fuzzFrames, hex } from "./_test_frame.ts";

const A = "00:00:5e:00:53:01", B = "00:00:5e:00:53:02", BROADCAST = "ff:ff:ff:ff:ff:ff";

// 00:00:5e:00:53:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 60: Ethernet (len 6), IPv4 (len 4),
//   Request who-has 192.0.2.2 tell 192.0.2.1, length 46
const REQUEST = hex(
  "ffffffffffff 00005e005301 0806 | 0001 0800 06 04 0001 00005e005301 c0000201 000000000000 c0000202" +
    "| 000000000000000000000000000000000000",
);
// 00:00:5e:00:53:02 > 00:00:5e:00:53:01, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4),
//   Reply 192.0.2.2 is-at 00:00:5e:00:53:02, length 28
const REPLY = hex(
  "00005e005301 00005e005302 0806 | 0001 0800 06 04 0002 00005e005302 c0000202 00005e005301 c0000201",
);

Deno.test("arp: request, with Ethernet padding", () => {
  assert.deepStrictEqual(decodeRecord(REQUEST), {
    ...frameFields(60),
    eth: { src: A, dst: BROADCAST, type: 0x0806 },
    arp: { op: 1, sha: A, spa: "192.0.2.1", tha: "00:00:00:00:00:00", tpa: "192.0.2.2" },
  });
});

Deno.test("arp: reply", () => {
  assert.deepStrictEqual(decodeRecord(REPLY), {
    ...frameFields(42),
    eth: { src: B, dst: A, type: 0x0806 },
    arp: { op: 2, sha: B, spa: "192.0.2.2", tha: A, tpa: "192.0.2.1" },
  });
});

Deno.test("arp: RARP has the ARP format", () => {
  // 00:00:5e:00:53:01 > ff:ff:ff:ff:ff:ff, ethertype Reverse ARP (0x8035), length 42: Ethernet (len 6),
  //   IPv4 (len 4), Reverse Request who-is 00:00:5e:00:53:01 tell 00:00:5e:00:53:01, length 28
  const rec = decodeRecord(
    "ffffffffffff 00005e005301 8035 | 0001 0800 06 04 0003 00005e005301 00000000 00005e005301 00000000",
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(42),
    eth: { src: A, dst: BROADCAST, type: 0x8035 },
    arp: { op: 3, sha: A, spa: "0.0.0.0", tha: A, tpa: "0.0.0.0" },
  });
});

Deno.test("arp: other hardware address lengths keep the protocol addresses in place", () => {
  // 00:00:5e:00:53:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 46: TokenRing (len 8),
  //   IPv4 (len 4), Request who-has 192.0.2.2 tell 192.0.2.1, length 32
  const rec = decodeRecord(
    "ffffffffffff 00005e005301 0806 | 0006 0800 08 04 0001 00005e0053010000 c0000201 0000000000000000 c0000202",
  );
  assert.deepStrictEqual(rec.arp, { op: 1, spa: "192.0.2.1", tpa: "192.0.2.2" });
  assert.equal(rec.malformed, undefined);
});

Deno.test("arp: truncated packets", () => {
  const eth = { src: A, dst: BROADCAST, type: 0x0806 };
  // Cut inside the fixed header: no ARP layer.
  assert.deepStrictEqual(decodeRecord(REQUEST.subarray(0, 21)), {
    ...frameFields(21),
    eth,
    malformed: "arp_truncated at byte 14",
  });
  // Cut inside the addresses: only the operation is known.
  for (const cut of [22, 30, 41]) {
    assert.deepStrictEqual(decodeRecord(REQUEST.subarray(0, cut)), {
      ...frameFields(cut),
      eth,
      arp: { op: 1 },
      malformed: "arp_truncated at byte 14",
    }, `cut at ${cut}`);
  }
  // Exactly the 28 bytes of an Ethernet/IPv4 ARP packet, no padding: whole.
  assert.equal(decodeRecord(REQUEST.subarray(0, 42)).malformed, undefined);
});

Deno.test("arp: seeded fuzz never throws", () => {
  fuzzFrames([REQUEST, REPLY]);
});

Deno.test({
  name: "arp: operation and addresses agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0;
    const names = ["zeek/communityid_arp.pcap", "zeek/linuxsll-arp.pcap", "zeek/arp-who-has-wlanmon.pcap"];
    names.push("tcpdump/arp-too-long-tha.pcap", "zeek/linux_dlt_sll2.pcap");
    const fields = [
      "arp.opcode",
      "arp.src.hw_mac",
      "arp.src.proto_ipv4",
      "arp.dst.hw_mac",
      "arp.dst.proto_ipv4",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [op, sha, spa, tha, tpa] = theirs[i];
        if (op === "") {
          assert.equal(ours[i].arp, undefined);
          continue;
        }
        const what = `${name} #${i + 1}`;
        // tshark names a hardware address that is not 6 bytes arp.src.hw, not arp.src.hw_mac: absent here.
        const expected = JSON.parse(JSON.stringify({
          op: Number(op),
          sha: sha || undefined,
          spa: spa || undefined,
          tha: tha || undefined,
          tpa: tpa || undefined,
        }));
        assert.deepStrictEqual(ours[i].arp, expected, what);
        packets++;
      }
    }
    console.log(`arp: ${packets} packets agree with tshark`);
    assert.ok(packets >= 10, `only ${packets} packets compared`);
  },
});
