import assert from "node:assert/strict";
import { checkFilter, CompiledFilter, compileFilter } from "./filter.ts";
import { loadLibpcap } from "./load.ts";
import { PcapError } from "./pcap_error.ts";

function libpcapMissing(): string | false {
  try {
    loadLibpcap();
    return false;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
const missing = libpcapMissing();
if (missing) console.log(`skipping libpcap filter tests: ${missing}`);
const ignore = missing !== false;

// tcpdump -i lo -d 'tcp port 80' (libpcap 1.10.3, EN10MB, snaplen 262144)
const TCP_PORT_80 = [
  "(000) ldh      [12]",
  "(001) jeq      #0x86dd          jt 2\tjf 8",
  "(002) ldb      [20]",
  "(003) jeq      #0x6             jt 4\tjf 19",
  "(004) ldh      [54]",
  "(005) jeq      #0x50            jt 18\tjf 6",
  "(006) ldh      [56]",
  "(007) jeq      #0x50            jt 18\tjf 19",
  "(008) jeq      #0x800           jt 9\tjf 19",
  "(009) ldb      [23]",
  "(010) jeq      #0x6             jt 11\tjf 19",
  "(011) ldh      [20]",
  "(012) jset     #0x1fff          jt 19\tjf 13",
  "(013) ldxb     4*([14]&0xf)",
  "(014) ldh      [x + 14]",
  "(015) jeq      #0x50            jt 18\tjf 16",
  "(016) ldh      [x + 16]",
  "(017) jeq      #0x50            jt 18\tjf 19",
  "(018) ret      #262144",
  "(019) ret      #0",
];

// 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 54:
//   10.0.0.1.12345 > 10.0.0.2.80: Flags [S], seq 1, win 65535, length 0
const TCP_SYN = [
  0x02,
  0x00,
  0x00,
  0x00,
  0x00,
  0x02,
  0x02,
  0x00,
  0x00,
  0x00,
  0x00,
  0x01,
  0x08,
  0x00, // Ethernet
  0x45,
  0x00,
  0x00,
  0x28,
  0x00,
  0x01,
  0x40,
  0x00,
  0x40,
  0x06,
  0x00,
  0x00, // IPv4: len 40, DF, ttl 64, TCP
  0x0a,
  0x00,
  0x00,
  0x01,
  0x0a,
  0x00,
  0x00,
  0x02, // 10.0.0.1 > 10.0.0.2
  0x30,
  0x39,
  0x00,
  0x50,
  0x00,
  0x00,
  0x00,
  0x01,
  0x00,
  0x00,
  0x00,
  0x00, // 12345 > 80, seq 1, ack 0
  0x50,
  0x02,
  0xff,
  0xff,
  0x00,
  0x00,
  0x00,
  0x00, // offset 5, SYN, win 65535
];

// 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 46:
//   10.0.0.1.40000 > 10.0.0.53.53: UDP, length 4
const UDP_DNS = [
  0x02,
  0x00,
  0x00,
  0x00,
  0x00,
  0x02,
  0x02,
  0x00,
  0x00,
  0x00,
  0x00,
  0x01,
  0x08,
  0x00,
  0x45,
  0x00,
  0x00,
  0x20,
  0x00,
  0x02,
  0x00,
  0x00,
  0x40,
  0x11,
  0x00,
  0x00, // IPv4: len 32, UDP
  0x0a,
  0x00,
  0x00,
  0x01,
  0x0a,
  0x00,
  0x00,
  0x35, // 10.0.0.1 > 10.0.0.53
  0x9c,
  0x40,
  0x00,
  0x35,
  0x00,
  0x0c,
  0x00,
  0x00, // 40000 > 53, len 12
  0xde,
  0xad,
  0xbe,
  0xef,
];

/** Both frames in one buffer at non-zero offsets, with junk between and after. */
function packed(): { bytes: Uint8Array; syn: number; udp: number } {
  const bytes = new Uint8Array(7 + TCP_SYN.length + 5 + UDP_DNS.length + 9).fill(0xee);
  bytes.set(TCP_SYN, 7);
  const udp = 7 + TCP_SYN.length + 5;
  bytes.set(UDP_DNS, udp);
  return { bytes, syn: 7, udp };
}

Deno.test({
  name: "checkFilter: a good expression disassembles like tcpdump -d",
  ignore,
  fn() {
    const result = checkFilter("tcp port 80");
    assert.deepEqual(result, { valid: true, instructions: TCP_PORT_80 });
  },
});

Deno.test({
  name: "checkFilter: agrees with the installed tcpdump -d (when root and tcpdump are available)",
  ignore: ignore || Deno.uid() !== 0,
  async fn() {
    const expr = "udp and (port 53 or port 5353) and not host 10.1.2.3";
    let stdout: string;
    try {
      const out = await new Deno.Command("tcpdump", { args: ["-i", "lo", "-d", expr], stderr: "null" })
        .output();
      if (!out.success) return console.log("tcpdump -d failed; comparison skipped");
      stdout = new TextDecoder().decode(out.stdout);
    } catch {
      return console.log("tcpdump not installed; comparison skipped");
    }
    const result = checkFilter(expr);
    assert.ok(result.valid);
    assert.deepEqual(result.instructions, stdout.trimEnd().split("\n"));
  },
});

Deno.test({
  name: "checkFilter: bad expressions return libpcap's own message",
  ignore,
  fn() {
    assert.deepEqual(checkFilter("tcp port"), {
      valid: false,
      error: "can't parse filter expression: syntax error",
    });
    assert.deepEqual(checkFilter("host 999.1.1.1"), {
      valid: false,
      error: "invalid IPv4 address '999.1.1.1'",
    });
    const r = checkFilter("ether host 01:02:03:04:05:06", { linkType: 101 }); // RAW IP has no MAC
    assert.equal(r.valid, false);
    assert.match((r as { error: string }).error, /ether/i);
  },
});

Deno.test({
  name: "checkFilter: link type, snaplen and optimizer options",
  ignore,
  fn() {
    const raw = checkFilter("ip", { linkType: 101, snaplen: 65535 }); // LINKTYPE_RAW -> DLT_RAW
    assert.deepEqual(raw, {
      valid: true,
      instructions: [
        "(000) ldb      [0]",
        "(001) and      #0xf0",
        "(002) jeq      #0x40            jt 3\tjf 4",
        "(003) ret      #65535",
        "(004) ret      #0",
      ],
    });
    const plain = checkFilter("tcp port 80", { optimize: false });
    assert.ok(plain.valid && plain.instructions.length > TCP_PORT_80.length);
    assert.deepEqual(checkFilter(""), { valid: true, instructions: ["(000) ret      #262144"] });
    assert.throws(() => checkFilter("ip", { snaplen: 0 }), RangeError);
    assert.throws(() => checkFilter("ip\0tcp"), TypeError);
  },
});

Deno.test({
  name: "CompiledFilter: matches hand-built Ethernet/IPv4/TCP and UDP frames at non-zero offsets",
  ignore,
  fn() {
    const { bytes, syn, udp } = packed();
    const cases: [string, boolean, boolean][] = [
      // expression, SYN matches, UDP matches
      ["tcp dst port 80", true, false],
      ["udp port 53", false, true],
      ["host 10.0.0.1", true, true],
      ["dst host 10.0.0.2", true, false],
      ["tcp[tcpflags] & tcp-syn != 0", true, false],
      ["tcp[tcpflags] & tcp-ack != 0", false, false],
      ["udp[8:4] = 0xdeadbeef", false, true],
      ["ether src 02:00:00:00:00:01", true, true],
      ["len >= 50", true, false],
      ["ip6", false, false],
      ["", true, true],
    ];
    for (const [expr, synWant, udpWant] of cases) {
      using f = compileFilter(expr);
      assert.equal(f.matches(bytes, syn, TCP_SYN.length, TCP_SYN.length), synWant, `${expr} on SYN`);
      assert.equal(f.matches(bytes, udp, UDP_DNS.length, UDP_DNS.length), udpWant, `${expr} on UDP`);
    }
  },
});

Deno.test({
  name: "CompiledFilter: caplen bounds the bytes read; len is the wire length",
  ignore,
  fn() {
    const { bytes, syn } = packed();
    using port = compileFilter("tcp dst port 80");
    // Cut before the TCP ports: BPF reads past caplen fail, so the packet does not match.
    assert.equal(port.matches(bytes, syn, 34, TCP_SYN.length), false);
    assert.equal(port.matches(bytes, syn, 38, TCP_SYN.length), true);
    using big = compileFilter("greater 1000");
    assert.equal(big.matches(bytes, syn, TCP_SYN.length, 1500), true);
    assert.equal(big.matches(bytes, syn, TCP_SYN.length, TCP_SYN.length), false);
    // Another buffer (and a small, GC-movable one): the cached address must follow it.
    const alone = Uint8Array.from(TCP_SYN);
    assert.equal(port.matches(alone, 0, alone.length, alone.length), true);
    assert.equal(port.matches(bytes, syn, TCP_SYN.length, TCP_SYN.length), true);
    assert.throws(() => port.matches(bytes, bytes.length - 10, 20, 20), RangeError);
    assert.throws(() => port.matches(bytes, -1, 20, 20), RangeError);
  },
});

Deno.test({
  name: "CompiledFilter: raw IP link type, close, and bad expressions",
  ignore,
  fn() {
    const ip = Uint8Array.from(TCP_SYN.slice(14));
    const f = compileFilter("tcp port 80", 101);
    assert.ok(f instanceof CompiledFilter);
    assert.equal(f.linkType, 101);
    assert.ok(f.instructionCount > 0);
    assert.equal(f.matches(ip, 0, ip.length, ip.length), true);
    f.close();
    f.close();
    assert.throws(() => f.matches(ip, 0, ip.length, ip.length), TypeError);
    assert.throws(() => compileFilter("tcp port"), (err: unknown) => {
      assert.ok(err instanceof PcapError);
      assert.equal(err.code, "bad_filter");
      assert.equal(err.pcapText, "can't parse filter expression: syntax error");
      return true;
    });
  },
});

Deno.test({
  name: "CompiledFilter: matches costs no allocation and little time",
  ignore,
  fn() {
    const { bytes, syn } = packed();
    using f = compileFilter("tcp dst port 80 and host 10.0.0.2");
    const n = 200_000;
    let hits = 0;
    for (let i = 0; i < 1000; i++) hits += f.matches(bytes, syn, TCP_SYN.length, TCP_SYN.length) ? 1 : 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) hits += f.matches(bytes, syn, TCP_SYN.length, TCP_SYN.length) ? 1 : 0;
    const ns = (performance.now() - t0) * 1e6 / n;
    console.log(`CompiledFilter.matches: ${ns.toFixed(0)} ns per call`);
    assert.equal(hits, n + 1000);
    assert.ok(ns < 5000, `${ns} ns per call`);
  },
});
