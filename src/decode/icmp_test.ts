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
const ETH4 = "00005e005302 00005e005301 0800", ETH6 = "00005e005302 00005e005301 86dd";
const ETH4_RECORD = { src: A, dst: B, type: 0x0800 }, ETH6_RECORD = { src: A, dst: B, type: 0x86dd };
const IP4 = {
  v: 4,
  src: "192.0.2.1",
  dst: "198.51.100.2",
  proto: 1,
  ttl: 64,
  df: true,
  mf: false,
  frag_offset: 0,
};
const IP6 = {
  v: 6,
  src: "2001:db8::1",
  dst: "2001:db8::2",
  proto: 58,
  ttl: 64,
  df: false,
  mf: false,
  frag_offset: 0,
};
const LINK_LOCAL_A = "fe80::200:5eff:fe00:5301", LINK_LOCAL_B = "fe80::200:5eff:fe00:5302";

// (tos 0x0, ttl 64, id 256, offset 0, flags [DF], proto ICMP (1), length 36)
//   192.0.2.1 > 198.51.100.2: ICMP echo request, id 7238, seq 1, length 16
const ECHO = hex(
  `${ETH4} 4500 0024 0100 4000 40 01 4da2 c0000201 c6336402 | 08 00 cfa8 1c46 0001 0001020304050607`,
);
// (tos 0x0, ttl 255, id 768, offset 0, flags [none], proto ICMP (1), length 56)
//   198.51.100.2 > 192.0.2.1: ICMP 198.51.100.2 udp port 53 unreachable, length 36
//   (tos 0x0, ttl 64, id 17185, offset 0, flags [DF], proto UDP (17), length 40)
//   192.0.2.1.40000 > 198.51.100.2.53: [|domain]
const PORT_UNREACHABLE = hex(
  `${ETH4} 4500 0038 0300 0000 ff 01 cc8d c6336402 c0000201 | 03 03 e959 00000000` +
    "| 4500 0028 4321 4000 40 11 0b6d c0000201 c6336402 | 9c40 0035 0014 7719",
);
// (hlim 255, next-header ICMPv6 (58) payload length: 32) fe80::200:5eff:fe00:5301 > ff02::1:ff00:5302:
//   ICMP6, neighbor solicitation, length 32, who has fe80::200:5eff:fe00:5302
//   source link-address option (1), length 8 (1): 00:00:5e:00:53:01
const NEIGHBOR_SOLICIT = hex(
  `${ETH6} 6000 0000 0020 3a ff fe8000000000000002005efffe005301 ff0200000000000000000001ff005302` +
    "| 87 00 1495 00000000 fe8000000000000002005efffe005302 | 01 01 00005e005301",
);
// (hlim 64, next-header ICMPv6 (58) payload length: 61) 2001:db8::2 > 2001:db8::1: ICMP6, destination
//   unreachable, unreachable port, 2001:db8::2 udp port 33434 (quoting 2001:db8::1.40000 > 2001:db8::2.33434:
//   UDP, length 5, hlim 1)
const PORT_UNREACHABLE6 = hex(
  `${ETH6} 6000 0000 003d 3a 40 20010db8000000000000000000000002 20010db8000000000000000000000001` +
    "| 01 04 321f 00000000 | 6000 0000 000d 11 01 20010db8000000000000000000000001 " +
    "20010db8000000000000000000000002 | 9c40 829a 000d 41b2 68656c6c6f",
);

Deno.test("icmp: echo request and reply", () => {
  assert.deepStrictEqual(decodeRecord(ECHO), {
    ...frameFields(50),
    eth: ETH4_RECORD,
    ip: { ...IP4, id: 256 },
    icmp: { type: 8, code: 0, id: 7238, seq: 1, data_len: 8 },
  });
  // 198.51.100.2 > 192.0.2.1: ICMP echo reply, id 7238, seq 1, length 16
  const reply = decodeRecord(
    `${ETH4} 4500 0024 0200 4000 40 01 4ca2 c6336402 c0000201 | 00 00 d7a8 1c46 0001 0001020304050607`,
  );
  assert.deepStrictEqual(reply.icmp, { type: 0, code: 0, id: 7238, seq: 1, data_len: 8 });
});

Deno.test("icmp: truncated message", () => {
  // Cut after the identifier: the identifier is known, the sequence is not (and is not read past the end).
  assert.deepStrictEqual(decodeRecord(ECHO.subarray(0, 40)), {
    ...frameFields(40),
    eth: ETH4_RECORD,
    ip: { ...IP4, id: 256 },
    icmp: { type: 8, code: 0, id: 7238 },
    malformed: "icmp_truncated at byte 34",
  });
  assert.deepStrictEqual(decodeRecord(ECHO.subarray(0, 38)), {
    ...frameFields(38),
    eth: ETH4_RECORD,
    ip: { ...IP4, id: 256 },
    icmp: { type: 8, code: 0 },
    malformed: "icmp_truncated at byte 34",
  });
  assert.deepStrictEqual(decodeRecord(ECHO.subarray(0, 37)), {
    ...frameFields(37),
    eth: ETH4_RECORD,
    ip: { ...IP4, id: 256 },
    malformed: "icmp_truncated at byte 34",
  });
});

Deno.test("icmp: port unreachable quoting a UDP datagram", () => {
  assert.deepStrictEqual(decodeRecord(PORT_UNREACHABLE), {
    ...frameFields(70),
    eth: ETH4_RECORD,
    ip: { ...IP4, src: "198.51.100.2", dst: "192.0.2.1", ttl: 255, id: 768, df: false },
    icmp: {
      type: 3,
      code: 3,
      data_len: 28,
      quoted: {
        ip: { ...IP4, proto: 17, id: 0x4321 },
        udp: { sport: 40000, dport: 53, len: 20 },
      },
    },
  });
});

Deno.test("icmp: time exceeded quoting 8 bytes of TCP: the cut quote is not an anomaly", () => {
  // 203.0.113.1 > 192.0.2.1: ICMP time exceeded in-transit, length 36
  //   (tos 0x0, ttl 1, id 85, offset 0, flags [DF], proto TCP (6), length 40)
  //   192.0.2.1.40000 > 198.51.100.2.80: [|tcp]
  const rec = decodeRecord(
    `${ETH4} 4500 0038 0400 0000 fe 01 bac1 cb007101 c0000201 | 0b 00 5487 00000000` +
      "| 4500 0028 0055 4000 01 06 8d44 c0000201 c6336402 | 9c40 0050 000003e8",
  );
  assert.deepStrictEqual(rec.icmp, {
    type: 11,
    code: 0,
    data_len: 28,
    quoted: { ip: { ...IP4, proto: 6, ttl: 1, id: 0x55 } },
  });
  assert.equal(rec.malformed, undefined);
});

Deno.test("icmp: an error quoting an error is decoded two levels deep, no deeper", () => {
  const inner = PORT_UNREACHABLE.subarray(14);
  // 192.0.2.9 > 198.51.100.2: ICMP 192.0.2.9 unreachable (host), quoting the port unreachable above.
  const twice = cat(
    `${ETH4} 4500 0054 0500 0000 40 01 0000 c0000209 c6336402 | 03 01 0000 00000000`,
    inner,
  );
  const rec = decodeRecord(twice);
  const quoted = (rec.icmp as { quoted: { icmp: { quoted: unknown } } }).quoted;
  assert.deepStrictEqual(quoted.icmp.quoted, {
    ip: { ...IP4, proto: 17, id: 0x4321 },
    udp: { sport: 40000, dport: 53, len: 20 },
  });
  const thrice = cat(
    `${ETH4} 4500 0070 0600 0000 40 01 0000 c000020a c6336402 | 03 01 0000 00000000`,
    twice.subarray(14),
  );
  const deep = decodeRecord(thrice);
  const q = (deep.icmp as { quoted: { icmp: { quoted: { icmp: Record<string, unknown> } } } }).quoted;
  assert.deepStrictEqual(q.icmp.quoted.icmp, { type: 3, code: 3, data_len: 28 });
});

Deno.test("icmp6: echo request", () => {
  // (hlim 64, next-header ICMPv6 (58) payload length: 12) 2001:db8::1 > 2001:db8::2: ICMP6, echo request,
  //   id 4660, seq 7
  const rec = decodeRecord(
    `${ETH6} 6000 0000 000c 3a 40 20010db8000000000000000000000001 20010db8000000000000000000000002` +
      "| 80 00 3338 1234 0007 70696e67",
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(66),
    eth: ETH6_RECORD,
    ip: IP6,
    icmp6: { type: 128, code: 0, id: 0x1234, seq: 7, data_len: 4 },
  });
});

Deno.test("icmp6: neighbour solicitation with a source link-layer address option", () => {
  assert.deepStrictEqual(decodeRecord(NEIGHBOR_SOLICIT), {
    ...frameFields(86),
    eth: ETH6_RECORD,
    ip: { ...IP6, src: LINK_LOCAL_A, dst: "ff02::1:ff00:5302", ttl: 255 },
    icmp6: { type: 135, code: 0, target: LINK_LOCAL_B, lladdr: A, data_len: 24 },
  });
});

Deno.test("icmp6: neighbour advertisement, router advertisement, redirect", () => {
  // fe80::200:5eff:fe00:5302 > fe80::200:5eff:fe00:5301: ICMP6, neighbor advertisement, length 32,
  //   tgt is fe80::200:5eff:fe00:5302, Flags [solicited, override]
  //   destination link-address option (2), length 8 (1): 00:00:5e:00:53:02
  const na = decodeRecord(
    `${ETH6} 6000 0000 0020 3a ff fe8000000000000002005efffe005302 fe8000000000000002005efffe005301` +
      "| 88 00 5317 60000000 fe8000000000000002005efffe005302 | 02 01 00005e005302",
  );
  assert.deepStrictEqual(na.icmp6, { type: 136, code: 0, target: LINK_LOCAL_B, lladdr: B, data_len: 24 });
  // fe80::1 > ff02::1: ICMP6, router advertisement, length 64, hop limit 64, router lifetime 1800s
  //   source link-address option (1), length 8 (1): 00:00:5e:00:53:aa
  //   mtu option (5), length 8 (1): 1500
  //   prefix info option (3), length 32 (4): 2001:db8::/64, Flags [onlink, auto], valid time 2592000s, ...
  const ra = decodeRecord(
    `${ETH6} 6000 0000 0040 3a ff fe800000000000000000000000000001 ff020000000000000000000000000001` +
      "| 86 00 3e40 40 00 0708 00000000 00000000 | 01 01 00005e0053aa | 05 01 0000 000005dc" +
      "| 03 04 40 c0 00278d00 00093a80 00000000 20010db8000000000000000000000000",
  );
  assert.deepStrictEqual(ra.icmp6, { type: 134, code: 0, lladdr: "00:00:5e:00:53:aa", data_len: 56 });
  assert.equal(ra.malformed, undefined);
  // fe80::1 > fe80::200:5eff:fe00:5301: ICMP6, redirect, length 48, 2001:db8::99 to fe80::2
  //   destination link-address option (2), length 8 (1): 00:00:5e:00:53:03
  const redirect = decodeRecord(
    `${ETH6} 6000 0000 0030 3a ff fe800000000000000000000000000001 fe8000000000000002005efffe005301` +
      "| 89 00 e7b6 00000000 fe800000000000000000000000000002 20010db8000000000000000000000099" +
      "| 02 01 00005e005303",
  );
  assert.deepStrictEqual(redirect.icmp6, {
    type: 137,
    code: 0,
    target: "fe80::2",
    lladdr: "00:00:5e:00:53:03",
    data_len: 40,
  });
});

Deno.test("icmp6: destination unreachable quoting IPv6/UDP", () => {
  assert.deepStrictEqual(decodeRecord(PORT_UNREACHABLE6), {
    ...frameFields(115),
    eth: ETH6_RECORD,
    ip: { ...IP6, src: "2001:db8::2", dst: "2001:db8::1" },
    icmp6: {
      type: 1,
      code: 4,
      data_len: 53,
      quoted: {
        ip: { ...IP6, proto: 17, ttl: 1 },
        udp: { sport: 40000, dport: 33434, len: 13 },
      },
    },
  });
});

Deno.test("icmp6: malformed neighbour discovery", () => {
  // An option of length 0 (it would never end).
  const zero = decodeRecord(cat(NEIGHBOR_SOLICIT.subarray(0, 78), "01 00 00005e005301"));
  assert.deepStrictEqual((zero.icmp6 as { target: string }).target, LINK_LOCAL_B);
  assert.equal(zero.malformed, "icmp6_bad_option at byte 78");
  // An option longer than the message.
  const long = decodeRecord(cat(NEIGHBOR_SOLICIT.subarray(0, 78), "01 02 00005e005301"));
  assert.equal(long.malformed, "icmp6_bad_option at byte 78");
  // A solicitation cut before the end of its target address.
  const cut = decodeRecord(NEIGHBOR_SOLICIT.subarray(0, 70));
  assert.deepStrictEqual(cut.icmp6, { type: 135, code: 0, data_len: 8 });
  assert.equal(cut.malformed, "icmp6_truncated at byte 54");
});

Deno.test("icmp: seeded fuzz never throws", () => {
  fuzzFrames([ECHO, PORT_UNREACHABLE, NEIGHBOR_SOLICIT, PORT_UNREACHABLE6]);
});

Deno.test({
  name: "icmp: types, codes, echo ids, ND fields and quoted packets agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0, quotes = 0;
    const names = [
      "zeek/icmp_icmp-destunreach-udp.pcap",
      "zeek/icmp_icmp-timeexceeded.pcap",
      "zeek/icmp_5-pings.pcap",
      "zeek/icmp_icmp6-ping.pcap",
      "zeek/icmp_icmp6-neighbor-solicit.pcap",
      "zeek/icmp_icmp6-neighbor-advert.pcap",
      "zeek/icmp_icmp6-redirect.pcap",
      "zeek/icmp_icmp6-router-advert.pcap",
      "zeek/icmp_icmp6-nd-options.pcap",
      "zeek/icmp_icmp6-toobig.pcap",
      "zeek/icmp_icmp6-timeexceeded.pcap",
      "zeek/icmp_icmp6-paramprob.pcap",
      "zeek/icmp_icmp-destunreach-ip.pcap",
      "zeek/icmp_icmp6-destunreach-ip6ext-udp.pcap",
      "tcpdump/icmpv6.pcap",
    ];
    const fields = [
      "icmp.type",
      "icmp.code",
      "icmp.ident",
      "icmp.seq",
      "icmpv6.type",
      "icmpv6.code",
      "icmpv6.echo.identifier",
      "icmpv6.echo.sequence_number",
      "icmpv6.nd.ns.target_address",
      "icmpv6.nd.na.target_address",
      "icmpv6.opt.linkaddr",
      "ip.src",
      "ipv6.src",
      "udp.srcport",
      "icmpv6.nd.rd.target_address",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const t = theirs[i].map((f) => f.split(","));
        const what = `${name} #${i + 1}`;
        const v4 = t[0][0] !== "";
        const icmp = (v4 ? ours[i].icmp : ours[i].icmp6) as Record<string, unknown>;
        if (!v4 && t[4][0] === "") continue;
        const num = (s: string) => s === "" ? undefined : Number(s);
        assert.deepStrictEqual(
          [icmp.type, icmp.code, icmp.id, icmp.seq],
          v4 ? [num(t[0][0]), num(t[1][0]), num(t[2][0]), num(t[3][0])] : t.slice(4, 8).map((f) => num(f[0])),
          what,
        );
        if (!v4) {
          assert.equal(icmp.target, t[8][0] || t[9][0] || t[14][0] || undefined, what);
          // tshark lists every link-layer option; the record keeps the last.
          const ll = t[10].filter((a) => a !== "").map((a) => a.replace(/:/g, "").match(/../g)!.join(":"));
          assert.equal(icmp.lladdr, ll.at(-1), what);
        }
        const quoted = icmp.quoted as Record<string, { src?: string; sport?: number }> | undefined;
        const quotedSrc = (v4 ? t[11] : t[12])[1];
        assert.equal(quoted?.ip?.src, quotedSrc, what);
        if (quoted !== undefined) {
          assert.equal(quoted.udp?.sport, num(t[13][0] ?? ""), what);
          quotes++;
        }
        packets++;
      }
    }
    console.log(`icmp: ${packets} packets agree with tshark`);
    assert.ok(packets >= 40 && quotes >= 5, `only ${packets} packets (${quotes} quoting) compared`);
  },
});
