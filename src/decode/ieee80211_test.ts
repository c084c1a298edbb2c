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

const WLAN = 105, RADIOTAP = 127;
const AP = "00:00:5e:00:53:aa", STA = "00:00:5e:00:53:01", GW = "00:00:5e:00:53:02";

/**
 * Radiotap v0, length 31, present 0x8000002f + an extension word (TSFT, Flags, Rate, Channel, dBm antenna
 * signal), 4 bytes of padding so TSFT is 8-byte aligned, TSFT, Flags 0x10 (FCS at end), 6.0 Mb/s,
 * 2437 MHz 11b, -60 dBm.
 */
const RADIOTAP_FCS = "00 00 1f00 2f000080 00000000 | 00000000 | 0807060504030201 | 10 | 0c | 8509 a000 | c4";
/** QoS data, ToDS, BSSID 00:00:5e:00:53:aa, SA 00:00:5e:00:53:01, DA 00:00:5e:00:53:02, 44us, QoS 0. */
const QOS_DATA = "88 01 2c00 00005e0053aa 00005e005301 00005e005302 1000 0000";
const LLC_SNAP_IPV4 = "aaaa03 000000 0800";
/** IPv4 192.0.2.1 > 198.51.100.2, id 7, DF, TCP, total length 44. */
const IP_TCP = "4500 002c 0007 4000 40 06 4e8e c0000201 c6336402";
/** The same with total length 0, as TCP segmentation offload leaves it: the payload runs to the end. */
const IP_TCP_TSO = "4500 0000 0007 4000 40 06 4eba c0000201 c6336402";
/** TCP 40000 > 8080 [P.], seq 1000:1004, ack 2000, win 502, "data". */
const TCP = "9c40 1f90 000003e8 000007d0 5018 01f6 2150 0000 64617461";
const FCS = "deadbeef";

const DATA_WLAN = { type: 2, subtype: 8, flags: 1, ra: AP, ta: STA, addr3: GW };
const IP_RECORD = {
  v: 4,
  src: "192.0.2.1",
  dst: "198.51.100.2",
  proto: 6,
  ttl: 64,
  id: 7,
  df: true,
  mf: false,
  frag_offset: 0,
};
const TCP_RECORD = { sport: 40000, dport: 8080, seq: 1000, ack: 2000, flags: 0x18, win: 502, len: 4 };

Deno.test("ieee80211: radiotap with the FCS flag, QoS data, LLC/SNAP, IPv4/TCP", () => {
  // 72623859790382856us tsft 6.0 Mb/s 2437 MHz 11b -60dBm signal 44us CF +QoS BSSID:00:00:5e:00:53:aa
  //   SA:00:00:5e:00:53:01 DA:00:00:5e:00:53:02 LLC, dsap SNAP (0xaa), ssap SNAP (0xaa), ctrl 0x03:
  //   oui Ethernet (0x000000), ethertype IPv4 (0x0800), length 44:
  //   192.0.2.1.40000 > 198.51.100.2.8080: Flags [P.], seq 1000:1004, ack 2000, win 502, length 4
  const rec = decodeRecord(`${RADIOTAP_FCS} ${QOS_DATA} ${LLC_SNAP_IPV4} ${IP_TCP} ${TCP} ${FCS}`, {
    linkType: RADIOTAP,
  });
  assert.deepStrictEqual(rec, {
    ...frameFields(31 + 26 + 8 + 44 + 4, "IEEE802_11_RADIO"),
    wlan: DATA_WLAN,
    ip: IP_RECORD,
    tcp: TCP_RECORD,
  });
});

Deno.test("ieee80211: the FCS is not payload", () => {
  // With an IPv4 total length of 0 the payload runs to the end of the 802.11 frame: 4 bytes, not 8.
  const withFcs = decodeRecord(`${RADIOTAP_FCS} ${QOS_DATA} ${LLC_SNAP_IPV4} ${IP_TCP_TSO} ${TCP} ${FCS}`, {
    linkType: RADIOTAP,
  });
  assert.deepStrictEqual(withFcs.tcp, TCP_RECORD);
  // The same frame without the FCS flag (flags 0x00) and without an FCS.
  const noFlag = RADIOTAP_FCS.replace("| 10 |", "| 00 |");
  const without = decodeRecord(`${noFlag} ${QOS_DATA} ${LLC_SNAP_IPV4} ${IP_TCP_TSO} ${TCP}`, {
    linkType: RADIOTAP,
  });
  assert.deepStrictEqual(without.tcp, TCP_RECORD);
});

Deno.test("ieee80211: the FCS flag on a frame the snaplen cut", () => {
  // ... LLC/SNAP, ethertype ARP (0x0806): Request who-has 192.0.2.2 tell 192.0.2.1, length 28, then the FCS.
  const arp = "aaaa03 000000 0806 | 0001 0800 06 04 0001 00005e005301 c0000201 000000000000 c0000202";
  const frame = hex(`${RADIOTAP_FCS} ${QOS_DATA} ${arp} ${FCS}`);
  const expected = { op: 1, sha: STA, spa: "192.0.2.1", tha: "00:00:00:00:00:00", tpa: "192.0.2.2" };
  // Captured without the FCS: nothing may be cut from the end of the ARP packet.
  const noFcs = decodeRecord(frame.subarray(0, frame.length - 4), { linkType: RADIOTAP, len: frame.length });
  assert.deepStrictEqual(noFcs.arp, expected);
  assert.equal(noFcs.malformed, undefined);
  // Captured with half the FCS: only those two bytes are cut.
  const half = decodeRecord(frame.subarray(0, frame.length - 2), { linkType: RADIOTAP, len: frame.length });
  assert.deepStrictEqual(half.arp, expected);
  // Cut inside the ARP packet: the ARP packet is cut, not the FCS that was never captured.
  const cut = decodeRecord(frame.subarray(0, frame.length - 8), { linkType: RADIOTAP, len: frame.length });
  assert.deepStrictEqual(cut.arp, { op: 1 });
  assert.equal(cut.malformed, "arp_truncated at byte 65");
});

Deno.test("ieee80211: radiotap Data Pad flag: the header is padded to 4 bytes", () => {
  // Radiotap v0, length 9, Flags 0x20 (data pad); the 26-byte QoS data header is followed by 2 pad bytes.
  // 44us CF +QoS BSSID:00:00:5e:00:53:aa SA:00:00:5e:00:53:01 DA:00:00:5e:00:53:02 LLC, dsap SNAP ...
  //   192.0.2.1.40000 > 198.51.100.2.8080: Flags [P.], seq 1000:1004, ack 2000, win 502, length 4
  const rec = decodeRecord(`00 00 0900 02000000 20 | ${QOS_DATA} 0000 ${LLC_SNAP_IPV4} ${IP_TCP} ${TCP}`, {
    linkType: RADIOTAP,
  });
  assert.deepStrictEqual(rec, {
    ...frameFields(9 + 28 + 8 + 44, "IEEE802_11_RADIO"),
    wlan: DATA_WLAN,
    ip: IP_RECORD,
    tcp: TCP_RECORD,
  });
});

Deno.test("ieee80211: four-address QoS data with an HT control field", () => {
  // Strictly Ordered 44us CF +QoS RA:00:00:5e:00:53:02 TA:00:00:5e:00:53:01 DA:00:00:5e:00:53:aa
  //   SA:00:00:5e:00:53:03, HT control 0: a 36-byte header, then LLC/SNAP, IPv4/TCP.
  const rec = decodeRecord(
    `88 83 2c00 00005e005302 00005e005301 00005e0053aa 1000 00005e005303 0000 00000000 ` +
      `${LLC_SNAP_IPV4} ${IP_TCP} ${TCP}`,
    { linkType: WLAN },
  );
  assert.deepStrictEqual(rec, {
    ...frameFields(36 + 8 + 44, "IEEE802_11"),
    wlan: { type: 2, subtype: 8, flags: 0x83, ra: GW, ta: STA, addr3: AP },
    ip: IP_RECORD,
    tcp: TCP_RECORD,
  });
});

Deno.test("ieee80211: management, control, protected and null frames", () => {
  // 0us BSSID:00:00:5e:00:53:aa DA:ff:ff:ff:ff:ff:ff SA:00:00:5e:00:53:aa Beacon (test) ESS
  const beacon = decodeRecord(
    "80 00 0000 ffffffffffff 00005e0053aa 00005e0053aa 2000 | 0807060504030201 6400 0104 | 00 04 74657374",
    { linkType: WLAN },
  );
  assert.deepStrictEqual(beacon, {
    ...frameFields(42, "IEEE802_11"),
    wlan: { type: 0, subtype: 8, flags: 0, ra: "ff:ff:ff:ff:ff:ff", ta: AP, addr3: AP },
  });
  // 0us RA:00:00:5e:00:53:01 Acknowledgment (a 10-byte control frame: only the receiver address)
  const ack = decodeRecord("d4 00 0000 00005e005301", { linkType: WLAN });
  assert.deepStrictEqual(ack, {
    ...frameFields(10, "IEEE802_11"),
    wlan: { type: 1, subtype: 13, flags: 0, ra: STA },
  });
  // Protected 44us BSSID:00:00:5e:00:53:aa SA:00:00:5e:00:53:01 DA:00:00:5e:00:53:02 Data IV: 1 KeyID 0
  const wep = decodeRecord(
    "08 41 2c00 00005e0053aa 00005e005301 00005e005302 3000 | 01000020 00000000 aabbccddeeff0011",
    { linkType: WLAN },
  );
  assert.deepStrictEqual(wep, {
    ...frameFields(40, "IEEE802_11"),
    wlan: { type: 2, subtype: 0, flags: 0x41, ra: AP, ta: STA, addr3: GW, protected: true },
  });
  // 44us CF +QoS BSSID:00:00:5e:00:53:aa SA:00:00:5e:00:53:01 DA:00:00:5e:00:53:aa QoS Null function
  const qosNull = decodeRecord("c8 01 2c00 00005e0053aa 00005e005301 00005e0053aa 4000 0000", {
    linkType: WLAN,
  });
  assert.deepStrictEqual(qosNull, {
    ...frameFields(26, "IEEE802_11"),
    wlan: { type: 2, subtype: 12, flags: 1, ra: AP, ta: STA, addr3: AP },
  });
});

Deno.test("ieee80211: truncated and invalid headers", () => {
  const r = { linkType: RADIOTAP };
  assert.deepStrictEqual(decodeRecord("00 00 0900 020000", r), {
    ...frameFields(7, "IEEE802_11_RADIO"),
    malformed: "radiotap_truncated at byte 0",
  });
  // A radiotap length beyond the captured bytes, a length below 8, and version 1.
  for (const bad of ["00 00 4000 02000000 00", "00 00 0700 02000000 00", "01 00 0900 02000000 00"]) {
    assert.deepStrictEqual(decodeRecord(bad, r), {
      ...frameFields(9, "IEEE802_11_RADIO"),
      malformed: "radiotap_bad_length at byte 0",
    }, bad);
  }
  // 802.11 cut inside the frame control/duration/address 1, and a data frame cut before address 3.
  assert.deepStrictEqual(decodeRecord("00 00 0900 02000000 00 | 88 01 2c00 00005e00", r), {
    ...frameFields(17, "IEEE802_11_RADIO"),
    malformed: "wlan_truncated at byte 9",
  });
  const cut = decodeRecord("88 01 2c00 00005e0053aa 00005e005301 00005e00", { linkType: WLAN });
  assert.deepStrictEqual(cut, {
    ...frameFields(20, "IEEE802_11"),
    wlan: { type: 2, subtype: 8, flags: 1, ra: AP },
    malformed: "wlan_truncated at byte 0",
  });
  // With the FCS flag, a frame too short to hold an FCS is decoded as it is.
  const short = decodeRecord(`${RADIOTAP_FCS} d400`, r);
  assert.equal(short.malformed, "wlan_truncated at byte 31");
  // The IPv4 header cut inside the LLC payload.
  const ip = decodeRecord(`${QOS_DATA} ${LLC_SNAP_IPV4} 4500 002c`, { linkType: WLAN });
  assert.deepStrictEqual(ip.wlan, DATA_WLAN);
  assert.equal(ip.malformed, "ip_truncated at byte 34");
});

Deno.test("ieee80211: seeded fuzz never throws", () => {
  fuzzFrames([
    hex(`${RADIOTAP_FCS} ${QOS_DATA} ${LLC_SNAP_IPV4} ${IP_TCP} ${TCP} ${FCS}`),
    hex(`00 00 0900 02000000 20 | ${QOS_DATA} 0000 ${LLC_SNAP_IPV4} ${IP_TCP} ${TCP}`),
  ], { linkType: RADIOTAP });
  fuzzFrames([
    cat(
      "88 83 2c00 00005e005302 00005e005301 00005e0053aa 1000 00005e005303 0000 00000000",
      `${LLC_SNAP_IPV4} ${IP_TCP} ${TCP}`,
    ),
    hex(
      "80 00 0000 ffffffffffff 00005e0053aa 00005e0053aa 2000 | 0807060504030201 6400 0104 | 00 04 74657374",
    ),
  ], { linkType: WLAN });
});

Deno.test({
  name: "ieee80211: frame type, subtype and addresses agree with tshark",
  ignore: CORPUS_SKIP !== undefined,
  async fn() {
    let packets = 0, withIp = 0;
    const names = ["zeek/radiotap.pcap", "zeek/wlanmon.pcap", "zeek/arp-who-has-wlanmon.pcap"];
    names.push(
      "tcpdump/ieee802.11_htc.pcap",
      "tcpdump/ieee802.11_rx-stbc.pcap",
      "tcpdump/ieee802.11_meshid.pcap",
    );
    for (const n of [0, 1, 7, 15, 23, 45]) {
      names.push(`tcpdump/reason_code-${n}.pcap`, `tcpdump/status_code-${n}.pcap`);
    }
    const fields = [
      "wlan.fc.type",
      "wlan.fc.subtype",
      "wlan.ra",
      "wlan.ta",
      "wlan.fc.protected",
      "ip.src",
      "ipv6.src",
    ];
    for (const { name, ours, theirs } of await corpusAndTshark(names, fields)) {
      assert.equal(ours.length, theirs.length, name);
      for (let i = 0; i < ours.length; i++) {
        const [type, subtype, ra, ta, prot, ip4, ip6] = theirs[i].map((f) => f.split(",")[0]);
        const wlan = ours[i].wlan as Record<string, unknown>;
        const what = `${name} #${i + 1}`;
        assert.equal(wlan.type, Number(type), what);
        assert.equal(wlan.subtype, Number(subtype), what);
        assert.equal(wlan.ra, ra, what);
        if (ta !== "") assert.equal(wlan.ta, ta, what);
        assert.equal(wlan.protected ?? false, prot === "1" || prot === "True", what);
        const ip = ours[i].ip as { src: string } | undefined;
        assert.equal(ip?.src, ip4 || ip6 || undefined, what);
        if (ip !== undefined) withIp++;
        packets++;
      }
    }
    console.log(`ieee80211: ${packets} packets agree with tshark`);
    assert.ok(packets >= 10 && withIp >= 5, `only ${packets} packets (${withIp} with IP) compared`);
  },
});
