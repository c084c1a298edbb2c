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
const IP_OUT = {
  v: 4,
  src: "192.0.2.1",
  dst: "198.51.100.2",
  proto: 6,
  ttl: 64,
  df: true,
  mf: false,
  frag_offset: 0,
};
const IP_IN = { ...IP_OUT, src: "198.51.100.2", dst: "192.0.2.1" };

// (tos 0x0, ttl 64, id 256, offset 0, flags [DF], proto TCP (6), length 60)
//   192.0.2.1.40000 > 198.51.100.2.5001: Flags [S], seq 1000, win 64240,
//   options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0
const SYN = hex(
  `${ETH} 4500 003c 0100 4000 40 06 4d85 c0000201 c6336402` +
    "| 9c40 1389 000003e8 00000000 a002 faf0 acc2 0000 | 020405b4 0402 080a 00000064 00000000 01 030307",
);
// (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 52)
//   198.51.100.2.5001 > 192.0.2.1.40000: Flags [S.E], seq 7000, ack 1001, win 65160,
//   options [mss 1400,nop,nop,sackOK,nop,wscale 8], length 0
const SYN_ACK = hex(
  `${ETH} 4500 0034 0000 4000 40 06 4e8d c6336402 c0000201` +
    "| 1389 9c40 00001b58 000003e9 8052 fe88 b531 0000 | 02040578 0101 0402 01 030308",
);
// (tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 72)
//   198.51.100.2.5001 > 192.0.2.1.40000: Flags [.], ack 1001, win 509,
//   options [nop,nop,sack 2 {1001:2001}{3001:4001},nop,nop,TS val 101 ecr 3200], length 0
const SACK = hex(
  `${ETH} 4500 0048 0001 4000 40 06 4e78 c6336402 c0000201` +
    "| 1389 9c40 00001b59 000003e9 d010 01fd 2f5d 0000" +
    "| 0101 0512 000003e9 000007d1 00000bb9 00000fa1 | 0101 080a 00000065 00000c80",
);
// (tos 0x0, ttl 64, id 256, offset 0, flags [DF], proto TCP (6), length 50)
//   192.0.2.1.40000 > 198.51.100.2.5001: Flags [P.], seq 1001:1011, ack 7001, win 502, length 10
const DATA = hex(
  `${ETH} 4500 0032 0100 4000 40 06 4d8f c0000201 c6336402` +
    "| 9c40 1389 000003e9 00001b59 5018 01f6 ed7f 0000 | 30313233343536373839",
);

Deno.test("tcp: SYN with the usual options", () => {
  assert.deepStrictEqual(decodeRecord(SYN), {
    ...frameFields(74),
    eth: ETH_RECORD,
    ip: { ...IP_OUT, id: 256 },
    tcp: {
      sport: 40000,
      dport: 5001,
      seq: 1000,
      ack: 0,
      flags: 0x002,
      win: 64240,
      len: 0,
      options: { mss: 1460, sack_perm: true, ts: [100, 0], wscale: 7 },
    },
  });
});

Deno.test("tcp: SYN-ACK with ECN echo", () => {
  assert.deepStrictEqual(decodeRecord(SYN_ACK), {
    ...frameFields(66),
    eth: ETH_RECORD,
    ip: { ...IP_IN, id: 0 },
    tcp: {
      sport: 5001,
      dport: 40000,
      seq: 7000,
      ack: 1001,
      flags: 0x052,
      win: 65160,
      len: 0,
      options: { mss: 1400, sack_perm: true, wscale: 8 },
    },
  });
});

Deno.test("tcp: ACK with SACK blocks and timestamps", () => {
  assert.deepStrictEqual(decodeRecord(SACK), {
    ...frameFields(86),
    eth: ETH_RECORD,
    ip: { ...IP_IN, id: 1 },
    tcp: {
      sport: 5001,
      dport: 40000,
      seq: 7001,
      ack: 1001,
      flags: 0x010,
      win: 509,
      len: 0,
      options: { sack: [1001, 2001, 3001, 4001], ts: [101, 3200] },
    },
  });
});

Deno.test("tcp: data segment, and payload cut by the snaplen", () => {
  const tcp = { sport: 40000, dport: 5001, seq: 1001, ack: 7001, flags: 0x018, win: 502, len: 10 };
  assert.deepStrictEqual(decodeRecord(DATA), {
    ...frameFields(64),
    eth: ETH_RECORD,
    ip: { ...IP_OUT, id: 256 },
    tcp,
  });
  // Only 4 payload bytes captured: len is still what the IP header says the segment carried.
  assert.deepStrictEqual(decodeRecord(DATA.subarray(0, 58), { len: 64 }), {
    ...frameFields(58, "EN10MB", 64),
    eth: ETH_RECORD,
    ip: { ...IP_OUT, id: 256 },
    tcp,
  });
});

Deno.test("tcp: all twelve flag bits", () => {
  // 192.0.2.1.40000 > 198.51.100.2.5001: Flags [SEW], seq 1000, win 64240, length 0 (plus AE and the three
  // reserved bits: tshark's tcp.flags 0xfff)
  const rec = decodeRecord(
    `${ETH} 4500 0028 0100 4000 40 06 4d99 c0000201 c6336402 | 9c40 1389 000003e8 00000000 5fff faf0 1449 0000`,
  );
  assert.equal((rec.tcp as { flags: number }).flags, 0xfff);
  const syn = decodeRecord(
    `${ETH} 4500 0028 0100 4000 40 06 4d99 c0000201 c6336402 | 9c40 1389 000003e8 00000000 50c2 faf0 1449 0000`,
  );
  assert.equal((syn.tcp as { flags: number }).flags, 0x0c2);
});

Deno.test("tcp: malformed options keep what came before", () => {
  // mss 1460, then an option claiming 1 byte of length.
  const short = decodeRecord(cat(SYN.subarray(0, 54), "020405b4 0401 0000 00000000 00000000 00000000"));
  assert.deepStrictEqual((short.tcp as { options: unknown }).options, { mss: 1460 });
  assert.equal(short.malformed, "tcp_bad_option at byte 58");
  // Timestamps (10 bytes) starting 6 bytes before the end of the header.
  const over = decodeRecord(cat(SYN.subarray(0, 54), "020405b4 01010101 01010101 0101 080a 00000064"));
  assert.deepStrictEqual((over.tcp as { options: unknown }).options, { mss: 1460 });
  assert.equal(over.malformed, "tcp_bad_option at byte 68");
  // Unknown kinds are skipped; after end-of-options, nothing is read.
  const rest = decodeRecord(cat(SYN.subarray(0, 54), "1e04 0000 020405b4 00 030307 0402 ffffffff 0000"));
  assert.deepStrictEqual((rest.tcp as { options: unknown }).options, { mss: 1460 });
  assert.equal(rest.malformed, undefined);
});

Deno.test("tcp: header length below 20 bytes", () => {
  // Data offset 4 (16 bytes).
  const rec = decodeRecord(cat(DATA.subarray(0, 46), "40", DATA.subarray(47)));
  assert.deepStrictEqual(rec, {
    ...frameFields(64),
    eth: ETH_RECORD,
    ip: { ...IP_OUT, id: 256 },
    tcp: { sport: 40000, dport: 5001, seq: 1001, ack: 7001, flags: 0x018, win: 502, len: 14 },
    malformed: "tcp_bad_header_length at byte 46",
  });
});

Deno.test("tcp: truncated header and options", () => {
  for (const cut of [34, 40, 53]) {
    assert.deepStrictEqual(decodeRecord(SYN.subarray(0, cut)), {
      ...frameFields(cut),
      eth: ETH_RECORD,
      ip: { ...IP_OUT, id: 256 },
      malformed: "tcp_truncated at byte 34",
    }, `cut at ${cut}`);
  }
  // The fixed header is whole, the options are not: the header fields are known, the options are not read.
  for (const cut of [54, 60, 73]) {
    assert.deepStrictEqual(decodeRecord(SYN.subarray(0, cut)), {
      ...frameFields(cut),
      eth: ETH_RECORD,
      ip: { ...IP_OUT, id: 256 },
      tcp: { sport: 40000, dport: 5001, seq: 1000, ack: 0, flags: 0x002, win: 64240, len: 0 },
      malformed: "tcp_truncated at byte 34",
    }, `cut at ${cut}`);
  }
});

Deno.test("tcp: over IPv6", () => {
  // 2001:db8::1.40000 > 2001:db8::2.80: Flags [S], seq 1, win 65535, options [mss 1440], length 0
  const rec = decodeRecord(
    "00005e005302 00005e005301 86dd | 6000 0000 0018 06 40 20010db8000000000000000000000001 " +
      "20010db8000000000000000000000002 | 9c40 0050 00000001 00000000 6002 ffff 0000 0000 020405a0",
  );
  assert.deepStrictEqual(rec.tcp, {
    sport: 40000,
    dport: 80,
    seq: 1,
    ack: 0,
    flags: 2,
    win: 65535,
    len: 0,
    options: { mss: 1440 },
  });
});

Deno.test("tcp: seeded fuzz never throws", () => {
  fuzzFrames([SYN, SYN_ACK, SACK, DATA]);
});

Deno.test({
  name: "tcp: ports, numbers, flags, window, length and options agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0, withOptions = 0;
    const names = [
      "tcpdump/tcp-handshake-nano.pcap",
      "zeek/tcp_window-scale-range.pcap",
      "tcpdump/mptcp-v1.pcap",
      "zeek/tcp_option-27.pcap",
      "tcpdump/accecn_handshake.pcap",
      "zeek/http_206_example_b.pcap",
    ];
    const fields = [
      "tcp.srcport",
      "tcp.dstport",
      "tcp.seq_raw",
      "tcp.ack_raw",
      "tcp.flags",
      "tcp.window_size_value",
      "tcp.len",
      "tcp.options.mss_val",
      "tcp.options.wscale.shift",
      "tcp.options.sack_perm",
      "tcp.options.timestamp.tsval",
      "tcp.options.timestamp.tsecr",
      "tcp.options.sack_le",
      "tcp.options.sack_re",
      "icmp.type",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const t = theirs[i];
        if (t[0] === "" || t[14] !== "") continue; // no TCP, or TCP quoted by ICMP
        const tcp = ours[i].tcp as Record<string, unknown>;
        const o = (tcp.options ?? {}) as Record<string, unknown>;
        const what = `${name} #${i + 1}`;
        const sack: number[] = [];
        const le = t[12].split(",").filter((x) => x !== ""), re = t[13].split(",");
        for (let j = 0; j < le.length; j++) sack.push(Number(le[j]), Number(re[j]));
        assert.deepStrictEqual(
          [tcp.sport, tcp.dport, tcp.seq, tcp.ack, tcp.flags, tcp.win, tcp.len],
          t.slice(0, 7).map(Number),
          what,
        );
        assert.deepStrictEqual(
          JSON.parse(JSON.stringify(o)),
          JSON.parse(JSON.stringify({
            mss: t[7] ? Number(t[7]) : undefined,
            wscale: t[8] ? Number(t[8]) : undefined,
            sack_perm: t[9] ? true : undefined,
            ts: t[10] ? [Number(t[10]), Number(t[11])] : undefined,
            sack: sack.length > 0 ? sack : undefined,
          })),
          what,
        );
        if (tcp.options !== undefined) withOptions++;
        packets++;
      }
    }
    console.log(`tcp: ${packets} packets agree with tshark`);
    assert.ok(packets >= 50 && withOptions >= 20, `only ${packets} packets (${withOptions} with options)`);
  },
});
