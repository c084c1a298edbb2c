import assert from "node:assert/strict";
import { IssueList } from "./app.ts";
import { BGP_MAX_MESSAGES, bgpProtocol, type BgpRecord, decodeBgp } from "./bgp.ts";
import { hex } from "./_test_frame.ts";

const hexBytes = (text: string): number[] => [...hex(text)];

const HINT = { transport: "tcp", srcPort: 40000, dstPort: 179 } as const;
const MARKER = "ff".repeat(16);

/** A BGP message: marker, the length this function computes, `type`, then `body` (hex). */
function msg(type: number, body: string): string {
  const len = 19 + body.length / 2;
  return MARKER + len.toString(16).padStart(4, "0") + type.toString(16).padStart(2, "0") + body;
}

/** Puts `hex` at offset 11 of a buffer with junk around it, so reads outside `[off, end)` would show. */
function place(hex: string): { bytes: Uint8Array; view: DataView; off: number; end: number } {
  const data = hexBytes(hex);
  const bytes = new Uint8Array(data.length + 40).fill(0xff);
  bytes.fill(0x02, 0, 11);
  bytes.set(data, 11);
  return { bytes, view: new DataView(bytes.buffer), off: 11, end: 11 + data.length };
}

function decode(hex: string, issues = new IssueList()): BgpRecord | null {
  const { bytes, view, off, end } = place(hex);
  return decodeBgp(bytes, view, off, end, issues, HINT);
}

Deno.test("bgp: protocol registration and sniffer", () => {
  assert.equal(bgpProtocol.name, "bgp");
  assert.deepEqual(bgpProtocol.ports.tcp, [179]);
  const ka = place(msg(4, ""));
  assert.equal(bgpProtocol.sniff!(ka.bytes, ka.off, ka.end, HINT), true);
  assert.equal(bgpProtocol.sniff!(ka.bytes, ka.off, ka.end, { ...HINT, transport: "udp" }), false);
  const junk = place("ff".repeat(15) + "00001304");
  assert.equal(bgpProtocol.sniff!(junk.bytes, junk.off, junk.end, HINT), false);
});

Deno.test("bgp: open with capabilities and a 4-octet AS", () => {
  // tcpdump/bgp-4byte-asn.pcap frame 6: version 4, my AS 23456 (AS_TRANS), hold 180 s, id 0.0.1.1,
  // capabilities: multiprotocol IPv4 unicast, route refresh, graceful restart (c12c), 4-octet AS
  // 2764334674, ADD-PATH IPv4 unicast receive.
  const issues = new IssueList();
  const rec = decode(
    msg(
      1,
      "04" + "5ba0" + "00b4" + "00000101" + "1a" + "0218" + "010400010001" + "0200" + "4002c12c" +
        "4104a4c46652" + "450400010101",
    ),
    issues,
  );
  assert.deepEqual(rec, {
    messages: [{
      type: "open",
      len: 55,
      version: 4,
      my_as: 23456,
      hold_time: 180,
      bgp_id: "0.0.1.1",
      capabilities: [
        { code: 1, name: "multiprotocol", afi: 1, safi: 1 },
        { code: 2, name: "route_refresh" },
        { code: 64, name: "graceful_restart", value: "c12c" },
        { code: 65, name: "as4", as4: 2764334674 },
        { code: 69, name: "add_path", value: "00010101" },
      ],
      as4: 2764334674,
    }],
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("bgp: open with RFC 9072 extended optional parameters", () => {
  // Optional parameters length 255, type 255, then a 2-byte length; each parameter has a 2-byte length.
  const rec = decode(
    msg(1, "04" + "00c8" + "005a" + "0a000001" + "ff" + "ff" + "0009" + "02" + "0006" + "41040000fde9"),
  );
  assert.deepEqual(rec?.messages[0].capabilities, [{ code: 65, name: "as4", as4: 65001 }]);
});

Deno.test("bgp: update with 2-octet AS path and AS4_PATH", () => {
  // tcpdump/bgp-4byte-asn.pcap frame 13: origin incomplete, AS path 200 1 23456 23456 23456 (2-octet),
  // next hop 1.0.2.1, AS4 path 1 222222 333333 4294967290, five /32 routes.
  const rec = decode(
    msg(
      2,
      "0000" + "002f" + "40010102" + "40020c" + "0205" + "00c8" + "0001" + "5ba0" + "5ba0" + "5ba0" +
        "40030401000201" +
        "e01112" + "0204" + "00000001" + "0003640e" + "00051615" + "fffffffa" +
        "2004040404" + "2005050505" + "2001010101" + "2002020202" + "2003030303",
    ),
  );
  const m = rec!.messages[0];
  assert.equal(m.type, "update");
  assert.equal(m.origin, "incomplete");
  assert.deepEqual(m.as_path, [200, 1, 23456, 23456, 23456]);
  assert.deepEqual(m.as4_path, [1, 222222, 333333, 4294967290]);
  assert.equal(m.next_hop, "1.0.2.1");
  assert.deepEqual(m.path_attributes, [1, 2, 3, 17]);
  assert.deepEqual(m.nlri, ["4.4.4.4/32", "5.5.5.5/32", "1.1.1.1/32", "2.2.2.2/32", "3.3.3.3/32"]);
});

Deno.test("bgp: update with withdrawn routes, AS_SET, MED, local pref and communities", () => {
  // Withdrawn 10.0.0.0/8 and 192.168.1.0/24; origin IGP; AS path: sequence 65000, set {65001 65002}
  // (4-octet); next hop 192.0.2.1; MED 100; local pref 200; community 65000:1; NLRI 172.16.0.0/12.
  const rec = decode(
    msg(
      2,
      "0006" + "080a" + "18c0a801" + "0033" + "40010100" + "400210" + "02010000fde8" +
        "01020000fde90000fdea" +
        "400304c0000201" + "80040400000064" + "400504000000c8" + "c00804fde80001" + "0cac10",
    ),
  );
  const m = rec!.messages[0];
  assert.deepEqual(m.withdrawn, ["10.0.0.0/8", "192.168.1.0/24"]);
  assert.equal(m.origin, "igp");
  assert.deepEqual(m.as_path, [65000, [65001, 65002]]);
  assert.equal(m.next_hop, "192.0.2.1");
  assert.equal(m.med, 100);
  assert.equal(m.local_pref, 200);
  assert.deepEqual(m.communities, ["65000:1"]);
  assert.deepEqual(m.nlri, ["172.16.0.0/12"]);
});

Deno.test("bgp: update with MP_REACH_NLRI (IPv6, global and link-local next hop) and MP_UNREACH", () => {
  // Extended-length MP_REACH (flags 0x90): AFI 2 SAFI 1, next hop 2001:db8::1 + fe80::1, NLRI
  // 2001:db8:1::/48 and 2001:db8:2::/64. MP_UNREACH AFI 2 SAFI 1: 2001:db8:ff::/48.
  const reach = "0002" + "01" + "20" + "20010db8000000000000000000000001" +
    "fe800000000000000000000000000001" + "00" +
    "3020010db80001" + "4020010db800020000";
  const unreach = "0002" + "01" + "3020010db800ff";
  const attrs = "40010100" + "900e" + (reach.length / 2).toString(16).padStart(4, "0") + reach + "800f" +
    (unreach.length / 2).toString(16).padStart(2, "0") + unreach;
  const rec = decode(msg(2, "0000" + (attrs.length / 2).toString(16).padStart(4, "0") + attrs));
  const m = rec!.messages[0];
  assert.deepEqual(m.mp_reach, {
    afi: 2,
    safi: 1,
    next_hop: "2001:db8::1",
    next_hop_link_local: "fe80::1",
    nlri: ["2001:db8:1::/48", "2001:db8:2::/64"],
  });
  assert.deepEqual(m.mp_unreach, { afi: 2, safi: 1, withdrawn: ["2001:db8:ff::/48"] });
});

Deno.test("bgp: labelled unicast NLRI and ADD-PATH withdrawn routes", () => {
  // MP_REACH AFI 1 SAFI 4, next hop 1.1.1.2, NLRI: 80 bits = labels 16 and 17 (bottom of stack) + 30.1.1.1/32.
  const reach = "0001" + "04" + "04" + "01010102" + "00" + "50" + "000100" + "000111" + "1e010101";
  const issues = new IssueList();
  const rec = decode(msg(2, "0000" + "0017" + "800e14" + reach), issues);
  assert.deepEqual(rec!.messages[0].mp_reach?.nlri, ["30.1.1.1/32"]);
  assert.deepEqual(issues.items, []);
  // tcpdump/bgp-addpath.pcap: withdrawn routes with path ids 20 and 21.
  const ap = decode(msg(2, "0010" + "00000014" + "18080200" + "00000015" + "18080201" + "0000"));
  assert.deepEqual(ap!.messages[0].withdrawn, ["8.2.0.0/24", "8.2.1.0/24"]);
  assert.equal(ap!.messages[0].add_path, true);
});

Deno.test("bgp: notification, keepalive and route refresh in one segment", () => {
  const rec = decode(
    // Cease / administrative shutdown with RFC 9003 message "bye now".
    msg(3, "0602" + "07" + "627965206e6f77") +
      // KEEPALIVE.
      msg(4, "") +
      // tcpdump/bgp-cease-hard-reset.pcap: Cease / hard reset, data 0603.
      msg(3, "0609" + "0603") +
      // ROUTE-REFRESH AFI 1, subtype 1 (BoRR, RFC 7313), SAFI 1.
      msg(5, "0001" + "01" + "01"),
  );
  assert.deepEqual(rec, {
    messages: [
      {
        type: "notification",
        len: 29,
        error_code: 6,
        error_subcode: 2,
        error_name: "cease",
        subcode_name: "administrative_shutdown",
        shutdown_message: "bye now",
      },
      { type: "keepalive", len: 19 },
      {
        type: "notification",
        len: 23,
        error_code: 6,
        error_subcode: 9,
        error_name: "cease",
        subcode_name: "hard_reset",
        data: "0603",
      },
      { type: "route_refresh", len: 23, afi: 1, subtype: 1, safi: 1 },
    ],
  });
});

Deno.test("bgp: bad marker and bad length stop the walk", () => {
  let issues = new IssueList();
  let rec = decode(msg(4, "") + "fe" + msg(4, "").slice(2), issues);
  assert.equal(rec?.messages.length, 1);
  assert.deepEqual(issues.items, [{ code: "bgp_bad_marker", offset: 11 + 19 }]);
  // A KEEPALIVE must be exactly 19 bytes; an UPDATE at least 23.
  issues = new IssueList();
  rec = decode(msg(4, "00"), issues);
  assert.deepEqual(rec, { messages: [] });
  assert.deepEqual(issues.items, [{ code: "bgp_bad_length", offset: 11 + 16 }]);
  issues = new IssueList();
  decode(MARKER + "001302", issues);
  assert.deepEqual(issues.items, [{ code: "bgp_bad_length", offset: 11 + 16 }]);
});

Deno.test("bgp: continuation, truncation and message cap", () => {
  // A segment that starts inside a message is not claimed.
  assert.equal(decode("0003" + msg(4, "")), null);
  assert.equal(decode("ffff"), null);
  // A message that continues past the segment end is decoded as far as it goes, without an anomaly.
  const issues = new IssueList();
  const full = msg(2, "0000" + "0004" + "40010100" + "0cac10" + "080a");
  const rec = decode(full.slice(0, full.length - 4), issues);
  assert.deepEqual(rec?.messages[0], {
    type: "update",
    len: 32,
    truncated: true,
    path_attributes: [1],
    origin: "igp",
    nlri: ["172.16.0.0/12"],
  });
  assert.deepEqual(issues.items, []);
  // The next header cut short by the segment end.
  assert.deepEqual(decode(msg(4, "") + MARKER + "00"), {
    messages: [{ type: "keepalive", len: 19 }],
    partial_header: true,
  });
  // More messages than the cap: the rest are counted.
  const many = decode(msg(4, "").repeat(BGP_MAX_MESSAGES + 3));
  assert.equal(many?.messages.length, BGP_MAX_MESSAGES);
  assert.equal(many?.messages_omitted, 3);
});

Deno.test("bgp: seeded fuzz never throws", () => {
  const reach = "0002" + "01" + "20" + "20010db8000000000000000000000001" +
    "fe800000000000000000000000000001" + "00" +
    "3020010db80001";
  const seeds = [
    msg(
      1,
      "04" + "5ba0" + "00b4" + "00000101" + "1a" + "0218" + "010400010001" + "0200" + "4002c12c" +
        "4104a4c46652" + "450400010101",
    ),
    msg(
      2,
      "0006" + "080a" + "18c0a801" + "0020" + "40010100" + "400210" + "02010000fde8" +
        "01020000fde90000fdea" + "400304c0000201" + "0cac10",
    ) +
    msg(4, ""),
    msg(
      2,
      "0000" + "002d" + "900e0029" + reach + "800f04" + "00010180" + "c0200c" + "000000010000000200000003",
    ),
    msg(
      2,
      "0000" + "0014" + "800e11" + "0001" + "04" + "04" + "01010102" + "00" + "50" + "000100" + "000111" +
        "1e010101",
    ),
    msg(1, "04" + "00c8" + "005a" + "0a000001" + "ff" + "ff" + "0009" + "02" + "0006" + "41040000fde9") +
    msg(3, "0602" + "03616263"),
  ];
  let state = 0xb6b;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < 5000; i++) {
    const { bytes, view, off, end } = place(seeds[i % seeds.length]);
    const flips = Math.floor(rand() * 6);
    for (let f = 0; f < flips; f++) {
      // Leave the first marker alone most of the time so the structure behind it gets exercised.
      const at = off + 16 + Math.floor(rand() * (end - off - 16));
      bytes[at] ^= 1 << Math.floor(rand() * 8);
    }
    const stop = rand() < 0.5 ? off + Math.floor(rand() * (end - off + 1)) : end;
    decodeBgp(bytes, view, off, stop, new IssueList(), HINT);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Corpus comparison with tshark (skipped when the captures or tshark are missing).

const CORPUS = "/work/shared/pcaps/corpus";
const FILES = [
  "tcpdump/bgp-4byte-asn.pcap",
  "tcpdump/bgp-lu-multiple-labels.pcap",
  "tcpdump/bgp-rt-prefix.pcap",
  "tcpdump/bgp-large-community.pcap",
  "tcpdump/mpbgp-linklocal-nexthop.pcap",
  "tcpdump/bgp-role.pcapng",
  "tcpdump/bgp-enhanced-route-refresh-subtype.pcapng",
];

async function haveTshark(): Promise<boolean> {
  try {
    Deno.statSync(CORPUS);
    const out = await new Deno.Command("tshark", { args: ["-v"], stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

const CAN_COMPARE = await haveTshark();

Deno.test({
  name: "bgp: agrees with tshark on corpus captures" +
    (CAN_COMPARE
      ? ""
      : " (skipped: needs tshark, the corpus in /work/shared/pcaps, --allow-run and --allow-read)"),
  ignore: !CAN_COMPARE,
  fn: async () => {
    const fields = [
      "tcp.payload",
      "bgp.type",
      "bgp.length",
      "bgp.open.myas",
      "bgp.withdrawn_prefix",
      "bgp.nlri_prefix",
      "bgp.update.path_attribute.as_path_segment.as2",
      "bgp.update.path_attribute.as_path_segment.as4",
      "bgp.update.path_attribute.next_hop",
    ];
    const outputs = await Promise.all(FILES.map((file) => {
      // Segment by segment, as this decoder sees them.
      const args = [
        "-r",
        `${CORPUS}/${file}`,
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        "-Y",
        "bgp",
        "-T",
        "fields",
      ];
      for (const f of fields) args.push("-e", f);
      return new Deno.Command("tshark", { args, stdout: "piped", stderr: "null" }).output();
    }));
    const types = ["", "open", "update", "notification", "keepalive", "route_refresh"];
    let compared = 0;
    for (const [i, out] of outputs.entries()) {
      for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
        if (line === "") continue;
        const [payload, type, len, myas, withdrawn, nlri, as2, as4, nextHop] = line.split("\t");
        const where = `${FILES[i]}: ${payload.slice(32, 80)}`;
        const rec = decode(payload);
        assert.ok(rec, where);
        const ms = rec.messages;
        const list = (s: string) => (s === "" ? [] : s.split(","));
        assert.deepEqual(ms.map((m) => m.type), list(type).map((t) => types[Number(t)]), where);
        assert.deepEqual(ms.map((m) => m.len), list(len).map(Number), where);
        assert.deepEqual(ms.flatMap((m) => m.my_as ?? []), list(myas).map(Number), where);
        const addr = (p: string) => p.split("/")[0];
        assert.deepEqual(ms.flatMap((m) => (m.withdrawn ?? []).map(addr)), list(withdrawn), where);
        assert.deepEqual(ms.flatMap((m) => (m.nlri ?? []).map(addr)), list(nlri), where);
        const path = ms.flatMap((m) => [...(m.as_path ?? []), ...(m.as4_path ?? [])].flat());
        assert.deepEqual(path, [...list(as2), ...list(as4)].map(Number), where);
        assert.deepEqual(ms.flatMap((m) => m.next_hop ?? []), list(nextHop), where);
        compared++;
      }
    }
    assert.ok(compared > 40, `only ${compared} segments compared`);
  },
});
