import assert from "node:assert/strict";
import { IssueList } from "./app.ts";
import {
  decodeDhcp,
  decodeDhcpv6,
  DHCP_MESSAGE_TYPES,
  dhcpProtocol,
  type DhcpRecord,
  dhcpv6Protocol,
  type Dhcpv6Record,
} from "./dhcp.ts";
import { hex } from "./_test_frame.ts";

const hexBytes = (text: string): number[] => [...hex(text)];

const HINT = { transport: "udp", srcPort: 68, dstPort: 67 } as const;

/** Puts `data` at offset 3 of a buffer with junk around it, so reads outside `[off, end)` would show. */
function place(data: number[]): { bytes: Uint8Array; view: DataView; off: number; end: number } {
  const bytes = new Uint8Array(data.length + 16).fill(0x35);
  bytes.set(data, 3);
  return { bytes, view: new DataView(bytes.buffer), off: 3, end: 3 + data.length };
}

/**
 * A BOOTP message: `head` is op..giaddr (28 bytes, hex), `chaddr` the hardware address (hex, padded to 16),
 * then sname and file (zero unless given), the DHCP magic cookie unless `cookie` is false, and `options`.
 */
function bootp(
  head: string,
  chaddr: string,
  options: string,
  extra: { sname?: string; file?: string; cookie?: boolean } = {},
): number[] {
  const b = hexBytes(head);
  b.push(...hexBytes(chaddr.padEnd(32, "0")));
  const text = (s = "", n: number) => [...s].map((c) => c.charCodeAt(0)).concat(Array(n - s.length).fill(0));
  b.push(...(extra.sname?.startsWith("hex:") ? hexBytes(extra.sname.slice(4)) : text(extra.sname, 64)));
  b.push(...(extra.file?.startsWith("hex:") ? hexBytes(extra.file.slice(4)) : text(extra.file, 128)));
  if (extra.cookie !== false) b.push(0x63, 0x82, 0x53, 0x63);
  b.push(...hexBytes(options));
  return b;
}

function decode(data: number[], issues = new IssueList()): DhcpRecord | null {
  const { bytes, view, off, end } = place(data);
  return decodeDhcp(bytes, view, off, end, issues, HINT);
}

// Fixed parts from zeek/dhcp_dhcp.pcap: xid 0x000007c0, client 90:b1:1c:99:49:29.
const REQ_HEAD = "01010600" + "000007c0" + "0000" + "0000" + "00000000" + "00000000" + "00000000" +
  "00000000";
const MAC = "90b11c994929";

Deno.test("dhcp: protocol registration and sniffer", () => {
  assert.equal(dhcpProtocol.name, "dhcp");
  assert.deepEqual(dhcpProtocol.ports.udp, [67, 68]);
  const { bytes, off, end } = place(bootp(REQ_HEAD, MAC, "350101ff"));
  assert.equal(dhcpProtocol.sniff!(bytes, off, end, HINT), true);
  assert.equal(dhcpProtocol.sniff!(bytes, off, end - 5, HINT), false);
  assert.equal(dhcpProtocol.sniff!(bytes, off, end, { ...HINT, transport: "tcp" }), false);
});

Deno.test("dhcp: discover", () => {
  // DHCP-message-type discover, requested-ip 192.168.211.194, hostname "btest.is.cool", end.
  const issues = new IssueList();
  const rec = decode(
    bootp(REQ_HEAD, MAC, "350101" + "3204c0a8d3c2" + "0c0d62746573742e69732e636f6f6c" + "ff"),
    issues,
  );
  assert.deepEqual(rec, {
    op: "request",
    xid: "0x000007c0",
    hops: 0,
    secs: 0,
    broadcast: false,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: "90:b1:1c:99:49:29",
    msg_type: "discover",
    requested_ip: "192.168.211.194",
    hostname: "btest.is.cool",
    options: [53, 50, 12],
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("dhcp: offer with server options", () => {
  // Reply: yiaddr 128.2.6.97, siaddr 172.19.230.7. Options: type offer, server-id 128.2.6.152, lease 900 s,
  // mask 255.255.255.0, router 128.2.6.1, DNS 128.2.1.11 128.2.1.10, vendor-class "ArubaAP",
  // domain "cmu.edu", end.
  const head = "02010600" + "000007c0" + "0000" + "0000" + "00000000" + "80020661" + "ac13e607" + "00000000";
  const rec = decode(bootp(
    head,
    MAC,
    "350102" + "360480020698" + "330400000384" + "0104ffffff00" + "030480020601" + "0608" +
      "8002010b8002010a" +
      "3c0741727562614150" + "0f07636d752e656475" + "ff",
  ));
  assert.equal(rec?.op, "reply");
  assert.equal(rec?.msg_type, "offer");
  assert.equal(rec?.yiaddr, "128.2.6.97");
  assert.equal(rec?.siaddr, "172.19.230.7");
  assert.equal(rec?.server_id, "128.2.6.152");
  assert.equal(rec?.lease_time, 900);
  assert.equal(rec?.subnet_mask, "255.255.255.0");
  assert.deepEqual(rec?.router, ["128.2.6.1"]);
  assert.deepEqual(rec?.dns_servers, ["128.2.1.11", "128.2.1.10"]);
  assert.equal(rec?.vendor_class, "ArubaAP");
  assert.equal(rec?.domain_name, "cmu.edu");
});

Deno.test("dhcp: request, decline, release and inform", () => {
  // Request: type request, server-id 128.2.6.152, requested-ip 192.168.211.194, hostname.
  let rec = decode(bootp(REQ_HEAD, MAC, "350103" + "360480020698" + "3204c0a8d3c2" + "0c0362746fff"));
  assert.equal(rec?.msg_type, "request");
  assert.equal(rec?.server_id, "128.2.6.152");
  assert.equal(rec?.hostname, "bto");
  // Decline and release carry only the type here.
  assert.equal(decode(bootp(REQ_HEAD, MAC, "350104ff"))?.msg_type, "decline");
  assert.equal(decode(bootp(REQ_HEAD, MAC, "350107ff"))?.msg_type, "release");
  // Inform with ciaddr 10.0.0.5, parameter request list (1 3 6 15), client-id 01:90b11c994929.
  const head = "01010600" + "0000079c" + "0000" + "8000" + "0a000005" + "00000000" + "00000000" + "00000000";
  rec = decode(bootp(head, MAC, "350108" + "3704" + "0103060f" + "3d070190b11c994929" + "ff"));
  assert.equal(rec?.msg_type, "inform");
  assert.equal(rec?.ciaddr, "10.0.0.5");
  assert.equal(rec?.broadcast, true);
  assert.deepEqual(rec?.param_request_list, [1, 3, 6, 15]);
  assert.equal(rec?.client_id, "0190b11c994929");
  assert.deepEqual(rec?.options, [53, 55, 61]);
});

Deno.test("dhcp: ack and nak", () => {
  // mcpcap/dhcp.pcap frame 4: ack, server-id 192.168.1.1, lease 86400, mask /24, router 192.168.1.1.
  const head = "02010600" + "12345678" + "0000" + "0000" + "00000000" + "c0a80164" + "00000000" + "00000000";
  const rec = decode(bootp(
    head,
    "000c29123456",
    "350105" + "3604c0a80101" + "330400015180" + "0104ffffff00" + "0304c0a80101" + "ff",
  ));
  assert.equal(rec?.msg_type, "ack");
  assert.equal(rec?.xid, "0x12345678");
  assert.equal(rec?.yiaddr, "192.168.1.100");
  assert.equal(rec?.lease_time, 86400);
  assert.deepEqual(rec?.router, ["192.168.1.1"]);
  // zeek/dhcp_dhcp.pcap frame 4: nak with message "requested address not available", padding after end.
  const nakHead = "02010600" + "000007c0" + "0000" + "8000" + "00000000" + "00000000" + "80020698" +
    "00000000";
  const nak = decode(bootp(
    nakHead,
    MAC,
    "350106" + "360480020698" + "381f" + "7265717565737465642061646472657373206e6f7420617661696c61626c65" +
      "ff" + "00".repeat(17),
  ));
  assert.equal(nak?.msg_type, "nak");
  assert.equal(nak?.message, "requested address not available");
});

Deno.test("dhcp: option overload puts options in file and sname", () => {
  // Option 52 = 3: after the options field, `file` then `sname` hold options (RFC 2131 section 4.1).
  const rec = decode(bootp(REQ_HEAD, MAC, "350101" + "340103" + "ff", {
    file: "hex:" + "0c0466696c65ff".padEnd(256, "0"),
    sname: "hex:" + "0f0573726f6f74ff".padEnd(128, "0"),
  }));
  assert.equal(rec?.hostname, "file");
  assert.equal(rec?.domain_name, "sroot");
  assert.deepEqual(rec?.options, [53, 52, 12, 15]);
  assert.equal(rec?.file, undefined);
  assert.equal(rec?.sname, undefined);
});

Deno.test("dhcp: plain BOOTP without the magic cookie", () => {
  const rec = decode(
    bootp(REQ_HEAD, MAC, "00".repeat(64), { cookie: false, sname: "srv", file: "pxelinux.0" }),
  );
  assert.equal(rec?.op, "request");
  assert.equal(rec?.chaddr, "90:b1:1c:99:49:29");
  assert.equal(rec?.sname, "srv");
  assert.equal(rec?.file, "pxelinux.0");
  assert.equal(rec?.msg_type, undefined);
  assert.equal(rec?.options, undefined);
});

Deno.test("dhcp: option overrun and bad option length", () => {
  // Hostname claims 32 bytes but 3 remain: the walk stops at that option.
  let issues = new IssueList();
  let rec = decode(bootp(REQ_HEAD, MAC, "350101" + "0c20616263"), issues);
  assert.equal(rec?.msg_type, "discover");
  assert.equal(rec?.hostname, undefined);
  assert.deepEqual(issues.items, [{ code: "dhcp_option_overrun", offset: 3 + 243 }]);
  // A length byte missing at the very end.
  issues = new IssueList();
  decode(bootp(REQ_HEAD, MAC, "350101" + "0c"), issues);
  assert.deepEqual(issues.items, [{ code: "dhcp_option_overrun", offset: 3 + 243 }]);
  // A 2-byte message type is skipped and reported; the walk goes on.
  issues = new IssueList();
  rec = decode(bootp(REQ_HEAD, MAC, "35020101" + "0c0161" + "ff"), issues);
  assert.equal(rec?.msg_type, undefined);
  assert.equal(rec?.hostname, "a");
  assert.deepEqual(issues.items, [{ code: "dhcp_bad_option_length", offset: 3 + 240 }]);
});

Deno.test("dhcp: truncated fixed part, odd hardware and not DHCP", () => {
  const issues = new IssueList();
  const rec = decode(hexBytes(REQ_HEAD + "0a0b"), issues);
  assert.equal(rec?.xid, "0x000007c0");
  assert.equal(rec?.giaddr, "0.0.0.0");
  assert.equal(rec?.chaddr, undefined);
  assert.deepEqual(issues.items, [{ code: "dhcp_truncated", offset: 3 + 30 }]);
  // htype 0, hlen 4: the hardware address is shown as hex.
  assert.equal(decode(bootp("01000400" + REQ_HEAD.slice(8), "0a0b0c0d", "ff"))?.chaddr, "0a0b0c0d");
  assert.equal(decode(bootp("03" + REQ_HEAD.slice(2), MAC, "ff")), null); // op 3
  assert.equal(decode(hexBytes("0101")), null);
  assert.equal(decode([]), null);
});

// ---------------------------------------------------------------------------------------------------------
// DHCPv6

function decode6(hex: string, issues = new IssueList()): Dhcpv6Record | null {
  const { bytes, view, off, end } = place(hexBytes(hex));
  return decodeDhcpv6(bytes, view, off, end, issues, { transport: "udp", srcPort: 546, dstPort: 547 });
}

Deno.test("dhcpv6: solicit and advertise", () => {
  assert.equal(dhcpv6Protocol.name, "dhcpv6");
  assert.deepEqual(dhcpv6Protocol.ports.udp, [546, 547]);
  // tcpdump/dhcpv6-ia-na.pcap frame 1: solicit xid 90b45c (client-ID DUID-LL 00:01:02:03:04:05)
  // (option-request 23 24) (elapsed-time 0) (IA_NA IAID 33752069 T1 3600 T2 5400).
  const issues = new IssueList();
  const rec = decode6(
    "0190b45c" + "0001000a00030001000102030405" + "000600040017" + "0018" + "000800020000" +
      "0003000c0203040500000e1000001518",
    issues,
  );
  assert.deepEqual(rec, {
    msg_type: "solicit",
    transaction_id: "0x90b45c",
    options: [1, 6, 8, 3],
    client_duid: "00030001000102030405",
  });
  assert.deepEqual(issues.items, []);
  // Frame 2 (advertise), options IA_NA, client-ID, server-ID (DUID-LLT).
  const adv = decode6(
    "0290b45c000300280203040500000e1000001518000500182a0000010001020038e6b22ec440acdf0000119400001c20" +
      "0001000a000300010001020304050002000e000100011846488c001122334455",
  );
  assert.equal(adv?.msg_type, "advertise");
  assert.equal(adv?.server_duid, "000100011846488c001122334455");
  assert.deepEqual(adv?.options, [3, 1, 2]);
});

Deno.test("dhcpv6: relay-forward with nested message, overrun, not DHCPv6", () => {
  // relay-forw, hop 0, link 2001:db8::1, peer fe80::1, relay-message option holding a solicit.
  const inner = "01abcdef" + "0001000a00030001000102030405";
  const rec = decode6(
    "0c00" + "20010db8000000000000000000000001" + "fe800000000000000000000000000001" +
      "0009" + (inner.length / 2).toString(16).padStart(4, "0") + inner,
  );
  assert.deepEqual(rec, {
    msg_type: "relay_forw",
    hop_count: 0,
    link_address: "2001:db8::1",
    peer_address: "fe80::1",
    options: [9],
    relay_message: {
      msg_type: "solicit",
      transaction_id: "0xabcdef",
      options: [1],
      client_duid: "00030001000102030405",
    },
  });
  const issues = new IssueList();
  const bad = decode6("0190b45c" + "0001000a0003", issues);
  assert.deepEqual(bad?.options, []);
  assert.deepEqual(issues.items, [{ code: "dhcpv6_option_overrun", offset: 3 + 4 }]);
  assert.equal(decode6(""), null);
  assert.equal(decode6("00000000"), null);
});

Deno.test("dhcp: seeded fuzz never throws", () => {
  const seeds = [
    bootp(REQ_HEAD, MAC, "350101" + "3204c0a8d3c2" + "0c0d62746573742e69732e636f6f6c" + "340103" + "ff", {
      file: "hex:" + "0c0466696c65ff".padEnd(256, "0"),
    }),
    bootp(REQ_HEAD, MAC, "350105" + "0308c0a80101c0a80102" + "0608c0a80101c0a80102" + "5103000000" + "ff"),
    hexBytes(
      "0190b45c0001000a0003000100010203040500060004001700180008000200000003000c0203040500000e1000001518",
    ),
    hexBytes(
      "0c0020010db8000000000000000000000001fe800000000000000000000000000001000900120c00" + "00".repeat(14),
    ),
  ];
  let state = 0xd4c9;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < 4000; i++) {
    const { bytes, view, off, end } = place(seeds[i % seeds.length]);
    const flips = Math.floor(rand() * 8);
    for (let f = 0; f < flips; f++) {
      // Bias flips toward the option area, where the structure is.
      const at = end - off > 240 && rand() < 0.8 ? 236 + Math.floor(rand() * (end - off - 236)) : 0;
      bytes[off + (at || Math.floor(rand() * (end - off)))] ^= 1 << Math.floor(rand() * 8);
    }
    const stop = rand() < 0.5 ? off + Math.floor(rand() * (end - off + 1)) : end;
    decodeDhcp(bytes, view, off, stop, new IssueList());
    decodeDhcpv6(bytes, view, off, stop, new IssueList());
  }
});

// ---------------------------------------------------------------------------------------------------------
// Corpus comparison with tshark (skipped when the captures or tshark are missing).

const CORPUS = "/work/shared/pcaps/corpus";
const FILES = [
  "mcpcap/dhcp.pcap",
  "zeek/dhcp_dhcp.pcap",
  "zeek/dhcp_dhcp_inform.pcap",
  "zeek/dhcp_dhcp_discover_param_req_and_client_id.pcap",
  "tcpdump/dhcp-rfc4388.pcap",
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
  name: "dhcp: agrees with tshark on corpus captures" +
    (CAN_COMPARE
      ? ""
      : " (skipped: needs tshark, the corpus in /work/shared/pcaps, --allow-run and --allow-read)"),
  ignore: !CAN_COMPARE,
  fn: async () => {
    const fields = [
      "udp.payload",
      "dhcp.id",
      "dhcp.option.dhcp",
      "dhcp.ip.your",
      "dhcp.hw.mac_addr",
      "dhcp.option.type",
      "dhcp.option.hostname",
      "dhcp.option.request_list_item",
    ];
    const outputs = await Promise.all(FILES.map((file) => {
      const args = ["-r", `${CORPUS}/${file}`, "-Y", "dhcp", "-T", "fields", "-E", "aggregator=|"];
      for (const f of fields) args.push("-e", f);
      return new Deno.Command("tshark", { args, stdout: "piped", stderr: "null" }).output();
    }));
    let compared = 0;
    for (const [i, out] of outputs.entries()) {
      for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
        if (line === "") continue;
        const [payload, xid, type, yiaddr, mac, codes, hostname, prl] = line.split("\t");
        const where = `${FILES[i]}: xid ${xid}`;
        const rec = decode(hexBytes(payload));
        assert.ok(rec, where);
        assert.equal(rec.xid, xid, where);
        if (type !== "") {
          assert.equal(rec.msg_type, DHCP_MESSAGE_TYPES[Number(type)] ?? `unknown_${type}`, where);
        }
        assert.equal(rec.yiaddr, yiaddr, where);
        if (mac !== "") assert.equal(rec.chaddr, mac.split("|")[0], where);
        const want = codes.split("|").filter((c) => c !== "" && c !== "0" && c !== "255").map(Number);
        assert.deepEqual(rec.options ?? [], want, where);
        assert.equal(rec.hostname, hostname === "" ? undefined : hostname, where);
        assert.deepEqual(rec.param_request_list ?? [], prl === "" ? [] : prl.split("|").map(Number), where);
        compared++;
      }
    }
    assert.ok(compared > 40, `only ${compared} packets compared`);
  },
});
