import assert from "node:assert/strict";
import { type AppHint, IssueList } from "./app.ts";
import { decodeDns, dnsProtocol, type DnsRecord, type DnsResourceRecord, MAX_HEX_BYTES } from "./dns.ts";
import { dnsClassName, dnsTypeName } from "./dns_types.ts";
import { hasProgram, sharedPcaps } from "../../test/_run.ts";
import { pool, tsharkFields } from "../../test/_tshark.ts";

/** Bytes of a hex vector; `//` starts a comment to the end of the line, whitespace is ignored. */
function hex(s: string): Uint8Array {
  const digits = s.split("\n").map((l) => l.split("//")[0]).join("").replace(/\s+/g, "");
  assert.equal(digits.length % 2, 0, "odd hex vector");
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

const UDP: AppHint = { transport: "udp", srcPort: 53, dstPort: 40000 };
const TCP: AppHint = { transport: "tcp", srcPort: 40000, dstPort: 53 };
const MDNS: AppHint = { transport: "udp", srcPort: 5353, dstPort: 5353 };

/**
 * Decodes `msg` placed at a non-zero offset of a larger buffer with junk on both sides, as the packet
 * decoder does, so that a read outside `[off, end)` shows.
 */
function decode(
  msg: Uint8Array,
  hint: AppHint = UDP,
  junk = 0xc0,
): { rec: DnsRecord | null; issues: IssueList } {
  const off = 7;
  const buf = new Uint8Array(off + msg.length + 9).fill(junk);
  buf.set(msg, off);
  const issues = new IssueList();
  const rec = decodeDns(buf, new DataView(buf.buffer), off, off + msg.length, issues, hint);
  for (const i of issues.items) {
    assert.ok(i.offset >= off && i.offset <= off + msg.length, `offset ${i.offset}`);
  }
  // Offsets are reported relative to the buffer; make them relative to the message for the assertions.
  for (const i of issues.items) i.offset -= off;
  return { rec, issues };
}

function codes(issues: IssueList): string[] {
  return issues.items.map((i) => i.code);
}

// ---------------------------------------------------------------------------------------------------------
// Header and question

// 10.0.0.1.40000 > 10.0.0.2.53: 4660+ A? example.com. (29)
const QUERY_A = hex(`
  1234 0100 0001 0000 0000 0000        // id 0x1234, RD; qd=1 an=0 ns=0 ar=0
  07 6578616d706c65 03 636f6d 00       // example.com (offset 12)
  0001 0001                            // A IN
`);

Deno.test("dns: standard query header and question", () => {
  const { rec, issues } = decode(QUERY_A);
  assert.deepEqual(rec, {
    id: 0x1234,
    qr: 0,
    opcode: 0,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    qd: [{ name: "example.com", type: "A", class: "IN" }],
    an: [],
    ns: 0,
    ar: 0,
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("dns: header flags, opcode and rcode bits", () => {
  // 43981 NXDomain*- 0/0/0 (opcode 2 = STATUS, every flag set)
  const { rec } = decode(hex(`abcd 97b3 0000 0000 0002 0003  // QR opcode=2 AA TC RD RA Z=0 AD CD rcode=3`));
  assert.ok(rec);
  assert.deepEqual(
    [rec.qr, rec.opcode, rec.aa, rec.tc, rec.rd, rec.ra, rec.ad, rec.cd, rec.rcode, rec.ns, rec.ar],
    [1, 2, true, true, true, true, true, true, 3, 2, 3],
  );
  // The counts promise records the message does not hold.
  assert.equal(rec.truncated, true);
});

Deno.test("dns: root, ANY and unknown types and classes as mnemonics", () => {
  const { rec } = decode(hex(`
    0001 0000 0003 0000 0000 0000
    00 00ff 00ff                     // <Root> ANY ANY
    00 fc01 0003                     // <Root> TYPE64513 CH
    00 00fc 0009                     // <Root> AXFR CLASS9
  `));
  assert.deepEqual(rec?.qd, [
    { name: "<Root>", type: "ANY", class: "ANY" },
    { name: "<Root>", type: "TYPE64513", class: "CH" },
    { name: "<Root>", type: "AXFR", class: "CLASS9" },
  ]);
  assert.equal(dnsTypeName(65), "HTTPS");
  assert.equal(dnsTypeName(123), "TYPE123");
  assert.equal(dnsClassName(4), "HS");
});

// ---------------------------------------------------------------------------------------------------------
// RDATA per type

/** A response to `example.com A IN` (name at offset 12) with one answer of `type` and `rdata`. */
function answer(type: number, rdata: string, cls = "0001"): { rr: DnsResourceRecord; issues: IssueList } {
  const rd = hex(rdata);
  const msg = hex(`
    abcd 8180 0001 0001 0000 0000
    07 6578616d706c65 03 636f6d 00 0001 0001   // example.com A IN
    c00c ${type.toString(16).padStart(4, "0")} ${cls} 00000e10 ${rd.length.toString(16).padStart(4, "0")}
  `);
  const full = new Uint8Array(msg.length + rd.length);
  full.set(msg);
  full.set(rd, msg.length);
  const { rec, issues } = decode(full);
  assert.ok(rec && rec.an.length === 1, "one answer");
  assert.equal(rec.an[0].name, "example.com");
  assert.equal(rec.an[0].ttl, 3600);
  return { rr: rec.an[0], issues };
}

Deno.test("dns: A and AAAA", () => {
  assert.deepEqual(answer(1, "5db8d822").rr, {
    name: "example.com",
    type: "A",
    class: "IN",
    ttl: 3600,
    data: "93.184.216.34",
  });
  assert.equal(answer(28, "20010db8 00000000 00000000 00000001").rr.data, "2001:db8::1");
  assert.equal(answer(28, "00000000 00000000 0000ffff c0000201").rr.data, "::ffff:192.0.2.1");
});

Deno.test("dns: A with the wrong RDLENGTH is hex and dns_bad_rdata", () => {
  const { rr, issues } = answer(1, "5db8d8");
  assert.equal(rr.data, "5db8d8");
  assert.deepEqual(codes(issues), ["dns_bad_rdata"]);
});

Deno.test("dns: empty RDATA (UPDATE delete, RFC 2136 2.5.2) is an empty string without anomaly", () => {
  const { rr, issues } = answer(1, "", "00ff");
  assert.equal(rr.data, "");
  assert.equal(rr.class, "ANY");
  assert.deepEqual(issues.items, []);
});

Deno.test("dns: CNAME, NS, PTR and DNAME names, compressed", () => {
  assert.equal(answer(5, "03 777777 c00c").rr.data, "www.example.com"); // www -> example.com
  assert.equal(answer(2, "03 6e7331 c00c").rr.data, "ns1.example.com");
  assert.equal(answer(12, "04 686f7374 c00c").rr.data, "host.example.com");
  assert.equal(answer(39, "c00c").rr.data, "example.com");
  assert.equal(answer(5, "00").rr.data, "<Root>");
});

Deno.test("dns: a name running past RDLENGTH makes the RDATA hex and dns_bad_rdata", () => {
  const { rr, issues } = answer(5, "03 777777"); // no terminating label inside the 4 bytes
  assert.equal(rr.data, "03777777");
  assert.deepEqual(codes(issues), ["dns_bad_rdata"]);
});

Deno.test("dns: MX as {preference, exchange}", () => {
  assert.deepEqual(answer(15, "000a 04 6d61696c c00c").rr.data, {
    preference: 10,
    exchange: "mail.example.com",
  });
});

Deno.test("dns: TXT character-strings, with tshark escapes for bytes that are not printable", () => {
  assert.deepEqual(answer(16, "05 68656c6c6f 00 03 763d31").rr.data, ["hello", "", "v=1"]);
  assert.deepEqual(answer(16, "03 4109ff").rr.data, ["A\\t\ufffd"]);
  // A string running past RDATA keeps the strings before it.
  const { rr, issues } = answer(16, "02 6869 05 6869");
  assert.deepEqual(rr.data, ["hi"]);
  assert.deepEqual(codes(issues), ["dns_bad_rdata"]);
});

Deno.test("dns: SOA", () => {
  const { rr } = answer(
    6,
    `03 6e7331 c00c                        // ns1.example.com
     0a 686f73746d6173746572 c00c          // hostmaster.example.com
     78563412 00000e10 00000384 00093a80 0000012c`,
  );
  assert.deepEqual(rr.data, {
    mname: "ns1.example.com",
    rname: "hostmaster.example.com",
    serial: 0x78563412,
    refresh: 3600,
    retry: 900,
    expire: 604800,
    minimum: 300,
  });
});

Deno.test("dns: SRV, URI, HINFO, CAA, NAPTR", () => {
  assert.deepEqual(answer(33, "000a 0005 1f90 03 737276 c00c").rr.data, {
    priority: 10,
    weight: 5,
    port: 8080,
    target: "srv.example.com",
  });
  assert.deepEqual(answer(256, "000a 0001 68747470733a2f2f6578616d706c652e636f6d2f").rr.data, {
    priority: 10,
    weight: 1,
    target: "https://example.com/",
  });
  assert.deepEqual(answer(13, "03 504443 05 4c696e7578").rr.data, { cpu: "PDC", os: "Linux" });
  assert.deepEqual(answer(257, "80 05 6973737565 6c657473656e63727970742e6f7267").rr.data, {
    flags: 128,
    tag: "issue",
    value: "letsencrypt.org",
  });
  assert.deepEqual(
    answer(35, "0064 000a 01 53 07 5349502b443255 00 04 5f736970 04 5f756470 c00c").rr.data,
    {
      order: 100,
      preference: 10,
      flags: "S",
      services: "SIP+D2U",
      regexp: "",
      replacement: "_sip._udp.example.com",
    },
  );
});

Deno.test("dns: HTTPS with every SvcParam, SVCB with an uncompressed target", () => {
  const { rr, issues } = answer(
    65,
    `0001 00                                   // priority 1, target <Root>
     0000 0002 0001                            // mandatory=alpn
     0001 0006 02 6832 02 6833                 // alpn=h2,h3
     0002 0000                                 // no-default-alpn
     0003 0002 01bb                            // port=443
     0004 0008 c0000201 c0000202               // ipv4hint=192.0.2.1,192.0.2.2
     0005 0003 aabbcc                          // ech
     0006 0010 20010db8000000000000000000000001 // ipv6hint=2001:db8::1
     0007 0010 2f646e732d71756572797b3f646e737d // dohpath=/dns-query{?dns}
     fde8 0002 0102                            // key65000`,
  );
  assert.deepEqual(issues.items, []);
  assert.deepEqual(rr.data, {
    priority: 1,
    target: "<Root>",
    params: {
      mandatory: ["alpn"],
      alpn: ["h2", "h3"],
      "no-default-alpn": true,
      port: 443,
      ipv4hint: ["192.0.2.1", "192.0.2.2"],
      ech: "aabbcc",
      ipv6hint: ["2001:db8::1"],
      dohpath: "/dns-query{?dns}",
      key65000: "0102",
    },
  });
  assert.deepEqual(answer(64, "0001 03 737663 07 6578616d706c65 03 636f6d 00 0003 0002 0035").rr.data, {
    priority: 1,
    target: "svc.example.com",
    params: { port: 53 },
  });
});

Deno.test("dns: a malformed SvcParam keeps the params before it", () => {
  const { rr, issues } = answer(65, "0001 00 0003 0002 01bb 0001 0004 05 6832");
  assert.deepEqual(rr.data, { priority: 1, target: "<Root>", params: { port: 443 } });
  assert.deepEqual(codes(issues), ["dns_bad_svcb"]);
});

Deno.test("dns: NSEC next name and type bitmap", () => {
  // window 0, 6 bytes: A(1) MX(15) RRSIG(46) NSEC(47)
  assert.deepEqual(answer(47, "04 686f7374 c00c 00 06 40 01 00 00 00 03").rr.data, {
    next_domain: "host.example.com",
    types: ["A", "MX", "RRSIG", "NSEC"],
  });
});

Deno.test("dns: NULL, DS, DNSKEY, RRSIG and unknown types as hex", () => {
  assert.equal(answer(10, "deadbeef").rr.data, "deadbeef");
  assert.equal(answer(43, "3039 08 02 00112233").rr.data, "3039080200112233");
  assert.equal(answer(48, "0101 03 08 0102030405").rr.data, "010103080102030405");
  assert.equal(
    answer(46, "0001 08 02 00000e10 5f000000 5e000000 3039 00 abcd").rr.data,
    "00010802" +
      "00000e105f0000005e000000303900abcd",
  );
  const { rr } = answer(0xff00, "0102");
  assert.equal(rr.type, "TYPE65280");
  assert.equal(rr.data, "0102");
});

Deno.test("dns: hex is capped at MAX_HEX_BYTES with truncated: true", () => {
  const { rr } = answer(10, "ab".repeat(600));
  assert.equal(rr.data, "ab".repeat(MAX_HEX_BYTES));
  assert.equal(rr.truncated, true);
});

Deno.test("dns: authority and additional sections, ns/ar stay counts", () => {
  const { rec, issues } = decode(hex(`
    abcd 8580 0001 0000 0001 0001
    07 6578616d706c65 03 636f6d 00 0002 0001         // example.com NS IN
    c00c 0002 0001 00015180 0006 03 6e7331 c00c      // authority: example.com NS ns1.example.com
    c029 0001 0001 00015180 0004 c0000235            // additional: ns1.example.com A 192.0.2.53
  `));
  assert.deepEqual(issues.items, []);
  assert.ok(rec);
  assert.equal(rec.ns, 1);
  assert.equal(rec.ar, 1);
  assert.deepEqual(rec.authorities, [{
    name: "example.com",
    type: "NS",
    class: "IN",
    ttl: 86400,
    data: "ns1.example.com",
  }]);
  assert.deepEqual(rec.additionals, [{
    name: "ns1.example.com",
    type: "A",
    class: "IN",
    ttl: 86400,
    data: "192.0.2.53",
  }]);
});

// ---------------------------------------------------------------------------------------------------------
// EDNS

Deno.test("dns: OPT becomes edns, with client subnet and cookie", () => {
  const { rec, issues } = decode(hex(`
    1234 0120 0001 0000 0000 0001                  // RD AD, ar=1
    07 6578616d706c65 03 636f6d 00 0001 0001
    00 0029 1000 01 00 8000 0017                   // OPT udp 4096, ext-rcode 1, version 0, DO; rdlen 23
    0008 0007 0001 18 00 c00002                    // ECS family 1 source 24 scope 0 192.0.2
    000a 0008 0102030405060708                     // COOKIE
  `));
  assert.deepEqual(issues.items, []);
  assert.equal(rec?.ar, 1);
  assert.equal(rec?.additionals, undefined);
  assert.deepEqual(rec?.edns, {
    udp_size: 4096,
    ext_rcode: 1,
    version: 0,
    do: true,
    options: [
      { code: 8, name: "ECS", data: "00011800c00002" },
      { code: 10, name: "COOKIE", data: "0102030405060708" },
    ],
    client_subnet: "192.0.2.0/24",
  });
});

Deno.test("dns: IPv6 client subnet, bad client subnet, option overrun", () => {
  const opt = (rdata: string) => {
    const rd = hex(rdata);
    const head = hex(`1234 0100 0000 0000 0000 0001 00 0029 04d0 00000000`);
    const msg = new Uint8Array(head.length + 2 + rd.length);
    msg.set(head);
    msg[head.length] = rd.length >> 8;
    msg[head.length + 1] = rd.length & 0xff;
    msg.set(rd, head.length + 2);
    return decode(msg);
  };
  assert.equal(
    opt("0008 000b 0002 38 00 20010db8abcdef").rec?.edns?.client_subnet,
    "2001:db8:abcd:ef00::/56",
  );
  assert.equal(opt("0008 0004 0001 00 00").rec?.edns?.client_subnet, "0.0.0.0/0");
  // Source /24 with four address bytes: RFC 7871 6 says exactly ceil(24/8).
  const bad = opt("0008 0008 0001 18 00 c0000201");
  assert.equal(bad.rec?.edns?.client_subnet, undefined);
  assert.equal(bad.rec?.edns?.options.length, 1);
  assert.deepEqual(codes(bad.issues), ["dns_bad_ecs"]);
  const over = opt("000a 0010 0102030405060708");
  assert.deepEqual(over.rec?.edns?.options, []);
  assert.deepEqual(codes(over.issues), ["dns_bad_opt"]);
});

Deno.test("dns: a second OPT is dns_bad_opt and kept as an ordinary record", () => {
  const { rec, issues } = decode(hex(`
    1234 0100 0000 0000 0000 0002
    00 0029 1000 00000000 0000       // OPT udp 4096
    00 0029 0200 00000000 0000       // OPT again
  `));
  assert.equal(rec?.edns?.udp_size, 4096);
  assert.deepEqual(rec?.additionals, [{ name: "<Root>", type: "OPT", class: "CLASS512", ttl: 0, data: "" }]);
  assert.deepEqual(issues.items, [{ code: "dns_bad_opt", offset: 23 }]);
});

// ---------------------------------------------------------------------------------------------------------
// mDNS

// 5353 > 5353: 0 [1q] PTR (QU)? _ipp._tcp.local. / 0*- [0q] 1/0/0 (Cache flush) A 192.168.1.2
const MDNS_QUERY = hex(`
  0000 0000 0001 0000 0000 0000
  04 5f697070 04 5f746370 05 6c6f63616c 00   // _ipp._tcp.local
  000c 8001                                  // PTR, QU bit + IN
`);
const MDNS_RESPONSE = hex(`
  0000 8400 0000 0001 0000 0000
  04 686f7374 05 6c6f63616c 00               // host.local
  0001 8001 00000078 0004 c0a80102           // A, cache-flush + IN, ttl 120, 192.168.1.2
`);

Deno.test("dns: mDNS unicast-response and cache-flush bits are stripped from the class", () => {
  assert.deepEqual(decode(MDNS_QUERY, MDNS).rec?.qd, [
    { name: "_ipp._tcp.local", type: "PTR", class: "IN", unicast_response: true },
  ]);
  assert.deepEqual(decode(MDNS_RESPONSE, MDNS).rec?.an, [
    { name: "host.local", type: "A", class: "IN", ttl: 120, data: "192.168.1.2", cache_flush: true },
  ]);
  // On port 53 the top bit is part of the class.
  assert.deepEqual(decode(MDNS_QUERY).rec?.qd, [{
    name: "_ipp._tcp.local",
    type: "PTR",
    class: "CLASS32769",
  }]);
});

// ---------------------------------------------------------------------------------------------------------
// TCP

function withLength(msg: Uint8Array, len = msg.length): Uint8Array {
  const out = new Uint8Array(msg.length + 2);
  out[0] = len >> 8;
  out[1] = len & 0xff;
  out.set(msg, 2);
  return out;
}

Deno.test("dns: TCP length prefix; only the first message of a segment", () => {
  const one = decode(withLength(QUERY_A), TCP);
  assert.equal(one.rec?.qd[0].name, "example.com");
  assert.deepEqual(one.issues.items, []);
  const second = hex(`5678 0100 0001 0000 0000 0000 01 61 00 0001 0001`);
  const two = new Uint8Array(QUERY_A.length + second.length + 4);
  two.set(withLength(QUERY_A));
  two.set(withLength(second), QUERY_A.length + 2);
  const rec = decode(two, TCP).rec;
  assert.equal(rec?.id, 0x1234);
  assert.equal(rec?.truncated, undefined);
});

Deno.test("dns: TCP message longer than the segment is truncated without anomaly; continuations are null", () => {
  const first = decode(withLength(QUERY_A, 600).subarray(0, 2 + 20), TCP);
  assert.equal(first.rec?.id, 0x1234);
  assert.equal(first.rec?.truncated, true);
  assert.deepEqual(first.issues.items, []);
  // The middle of a zone transfer: the first two bytes are not a length and what follows is no header.
  const middle = hex(`3039 6e73 3103 6578 616d 706c 6503 636f 6d00 0001 0001 0000 0e10 0004 c000 0201`);
  assert.equal(decode(middle, TCP).rec, null);
  assert.equal(decode(hex(`0005 1234 0100 00`), TCP).rec, null); // length below a header
  assert.equal(decode(hex(`00`), TCP).rec, null);
});

// ---------------------------------------------------------------------------------------------------------
// Names: compression and its faults

Deno.test("dns: backward pointer chains", () => {
  const { rec, issues } = decode(hex(`
    0001 0000 0003 0000 0000 0000
    01 61 00 0001 0001           // a           (offset 12)
    01 62 c00c 0001 0001         // b -> a      (offset 19)
    01 63 c013 0001 0001         // c -> b.a    (offset 27)
  `));
  assert.deepEqual(rec?.qd.map((q) => q.name), ["a", "b.a", "c.b.a"]);
  assert.deepEqual(issues.items, []);
});

Deno.test("dns: a pointer to itself is dns_name_loop and stops the message", () => {
  const { rec, issues } = decode(hex(`
    0001 8000 0001 0001 0000 0000
    c00c 0001 0001                              // pointer to offset 12: itself
    c00c 0001 0001 00000e10 0004 01020304       // never decoded
  `));
  assert.deepEqual(rec?.qd, [{ name: "<Name contains a pointer that loops>", type: "A", class: "IN" }]);
  assert.deepEqual(rec?.an, []);
  assert.deepEqual(issues.items, [{ code: "dns_name_loop", offset: 12 }]);
});

Deno.test("dns: a pointer back into its own run of labels is a loop", () => {
  const { rec, issues } = decode(hex(`0001 0000 0001 0000 0000 0000 01 61 c00c 0001 0001`));
  assert.equal(rec?.qd[0].name, "<Name contains a pointer that loops>");
  assert.deepEqual(issues.items, [{ code: "dns_name_loop", offset: 14 }]);
});

Deno.test("dns: forward pointers and pointers past the end are dns_bad_pointer", () => {
  // c010 points at offset 16, the QCLASS: a valid root label, but not a prior occurrence (RFC 1035 4.1.4).
  const fwd = decode(hex(`0001 0000 0001 0000 0000 0000 c010 0001 0001`));
  assert.equal(fwd.rec?.qd[0].name, "<Name contains a bad pointer>");
  assert.deepEqual(fwd.issues.items, [{ code: "dns_bad_pointer", offset: 12 }]);
  const far = decode(hex(`0001 0000 0001 0000 0000 0000 ffff 0001 0001`));
  assert.deepEqual(codes(far.issues), ["dns_bad_pointer"]);
});

Deno.test("dns: label types 0x40 and 0x80 are dns_bad_label and stop the message", () => {
  // As tshark does, an 0x40 label ends the name after its first byte and TYPE and CLASS follow it.
  const ext = decode(hex(`0001 0000 0002 0000 0000 0000 41 0001 0001 00 0001 0001`));
  assert.deepEqual(ext.rec?.qd, [{ name: "<Unknown extended label>", type: "A", class: "IN" }]);
  assert.deepEqual(ext.issues.items, [{ code: "dns_bad_label", offset: 12 }]);
  // An 0x80 label leaves the name's extent unknown: nothing is kept.
  const bad = decode(hex(`0001 0000 0001 0000 0000 0000 80 0001 0001`));
  assert.deepEqual(bad.rec?.qd, []);
  assert.deepEqual(bad.issues.items, [{ code: "dns_bad_label", offset: 12 }]);
});

Deno.test("dns: names longer than 255 octets are <Name too long>", () => {
  const label = (n: number, c: string) => n.toString(16).padStart(2, "0") + c.repeat(n);
  const q = (labels: string) => hex(`0001 0000 0001 0000 0000 0000 ${labels} 00 0001 0001`);
  // 63+63+63+61 bytes and 3 dots: 253 characters, 255 octets on the wire: the longest legal name.
  const longest = decode(q(label(63, "61") + label(63, "62") + label(63, "63") + label(61, "64")));
  assert.equal(longest.rec?.qd[0].name.length, 253);
  assert.deepEqual(longest.issues.items, []);
  const over = decode(q(label(63, "61") + label(63, "62") + label(63, "63") + label(62, "64")));
  assert.equal(over.rec?.qd[0].name, "<Name too long>");
  assert.deepEqual(over.issues.items, [{ code: "dns_name_too_long", offset: 204 }]);
});

Deno.test("dns: labels with dots and binary bytes are spelled as tshark spells them", () => {
  const name = (labels: string) =>
    decode(hex(`0001 0000 0001 0000 0000 0000 ${labels} 00 0001 0001`)).rec?.qd[0].name;
  assert.equal(name("03 612e62 03 636f6d"), "a.b.com"); // a dot inside a label is not escaped by tshark
  assert.equal(name("04 5c20223b"), '\\ ";'); // backslash, space, quote are printable
  assert.equal(name("04 00017fff 03 636f6d"), "\\000\\001\\177\ufffd.com");
  assert.equal(name("03 090a0d"), "\\t\\n\\r");
  assert.equal(name("05 636166c3a9"), "caf\u00e9"); // valid UTF-8 is kept
  assert.equal(name("02 c280 03 e2808b"), "\\u0080.\\u200B"); // C1 control, zero-width space
  assert.equal(name("02 c080 04 f09f9880"), "\\u0000.\u{1f600}"); // tshark accepts overlong forms
  assert.equal(name("03 eda080 01 c3 01 a9"), "\ufffd.\ufffd.\ufffd"); // surrogate, split sequence
});

// ---------------------------------------------------------------------------------------------------------
// Truncation and junk

Deno.test("dns: an RR cut in its RDATA keeps the bytes present, flagged truncated", () => {
  const msg = hex(`
    abcd 8180 0001 0001 0000 0000
    07 6578616d706c65 03 636f6d 00 0001 0001
    c00c 0010 0001 00000e10 000a 05 68656c6c   // TXT, rdlength 10 but 5 bytes left
  `);
  const { rec, issues } = decode(msg);
  assert.equal(rec?.truncated, true);
  assert.deepEqual(rec?.an, [{
    name: "example.com",
    type: "TXT",
    class: "IN",
    ttl: 3600,
    data: "0568656c6c",
    truncated: true,
  }]);
  assert.deepEqual(issues.items, [{ code: "dns_truncated", offset: msg.length }]);
});

Deno.test("dns: an RR cut in its fixed part is dropped; junk after the end is never read", () => {
  const msg = hex(`
    abcd 8180 0001 0001 0000 0000
    07 6578616d706c65 03 636f6d 00 0001 0001
    c00c 0001 0001 0000                         // cut inside the TTL
  `);
  for (const junk of [0x00, 0x04, 0xff]) {
    const { rec, issues } = decode(msg, UDP, junk);
    assert.deepEqual(rec?.an, []);
    assert.equal(rec?.truncated, true);
    assert.deepEqual(issues.items, [{ code: "dns_truncated", offset: 31 }]); // where the fixed part starts
  }
  // A name cut in the middle.
  const name = decode(hex(`0001 0000 0001 0000 0000 0000 03 6162`));
  assert.deepEqual(name.rec?.qd, []);
  assert.deepEqual(name.issues.items, [{ code: "dns_truncated", offset: 12 }]);
});

Deno.test("dns: payloads shorter than a header are null; other junk decodes without throwing", () => {
  assert.equal(decode(hex(`0102 0304 0506 0708 090a 0b`)).rec, null);
  const junk = decode(
    hex(`4745 5420 2f20 4854 5450 2f31 2e31 0d0a 486f 7374 3a20 6578 616d 706c 650d 0a0d 0a`),
  );
  assert.equal(junk.rec?.id, 0x4745); // "GET / HTTP/1.1" read as DNS, as tshark does
  assert.ok(junk.issues.items.length > 0);
});

Deno.test("dns: dnsProtocol registration", () => {
  assert.equal(dnsProtocol.name, "dns");
  assert.deepEqual(dnsProtocol.ports, { udp: [53, 5353, 5355], tcp: [53, 5353] });
  assert.equal(dnsProtocol.decode, decodeDns);
});

// ---------------------------------------------------------------------------------------------------------
// Fuzz

/** mulberry32: a small seeded PRNG so that a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("dns: fuzz (truncations, bit flips, pointer bytes) never throws and never reads outside [off, end)", () => {
  const rand = rng(0x5eed);
  const seeds = [QUERY_A, MDNS_QUERY, MDNS_RESPONSE, withLength(QUERY_A)];
  const big = hex(`
    abcd 8180 0001 0003 0001 0002
    07 6578616d706c65 03 636f6d 00 0041 0001
    c00c 0041 0001 00000e10 0017 0001 00 0001 0006 02 6832 02 6833 0004 0004 c0000201
    c00c 0006 0001 00000e10 0024 03 6e7331 c00c 0a 686f73746d6173746572 c00c 78563412 00000e10 00000384 00093a80
    c00c 002f 0001 00000e10 000a 04 686f7374 c00c 00 02 4001
    c00c 0010 0001 00000e10 0006 05 68656c6c6f
    c04c 0001 0001 00000e10 0004 c0000235
    00 0029 1000 00 00 8000 000b 0008 0007 0001 18 00 c00002
  `);
  seeds.push(big, withLength(big));
  const hints: AppHint[] = [UDP, TCP, MDNS];
  for (let iter = 0; iter < 4000; iter++) {
    const base = seeds[Math.floor(rand() * seeds.length)];
    let msg = base.slice();
    const mutations = 1 + Math.floor(rand() * 4);
    for (let m = 0; m < mutations; m++) {
      const kind = rand();
      const at = Math.floor(rand() * msg.length);
      if (kind < 0.3) msg = msg.slice(0, at);
      else if (kind < 0.7) msg[at] ^= 1 << Math.floor(rand() * 8);
      else if (kind < 0.85) msg[at] = 0xc0 | Math.floor(rand() * 4);
      else msg[at] = Math.floor(rand() * 256);
    }
    const hint = hints[Math.floor(rand() * hints.length)];
    const results: string[] = [];
    for (const junk of [0x00, 0xc0, 0xff]) {
      let out: { rec: DnsRecord | null; issues: IssueList };
      try {
        out = decode(msg, hint, junk);
      } catch (e) {
        throw new Error(
          `iteration ${iter}: ${Array.from(msg, (b) => b.toString(16).padStart(2, "0")).join("")}`,
          {
            cause: e,
          },
        );
      }
      results.push(JSON.stringify(out));
    }
    assert.equal(results[1], results[0], `iteration ${iter}: result depends on bytes outside [off, end)`);
    assert.equal(results[2], results[0], `iteration ${iter}: result depends on bytes outside [off, end)`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Agreement with tshark

const pcaps = sharedPcaps();
const corpusIgnore = pcaps === undefined || !hasProgram("tshark");

/**
 * A few captures covering plain DNS, EDNS client subnet, mDNS, TCP (one message split over segments),
 * DNSSEC, HTTPS, UPDATE and broken names. tshark runs are cached by test/_tshark.ts, so only a first run
 * pays for them.
 */
const CORPUS_FILES = [
  "mcpcap/dns.pcap",
  "zeek/dns-edns-ecs.pcap",
  "zeek/dns_mdns.pcap",
  "tcpdump/dns_tcp.pcap",
  "zeek/dns_tkey.pcap",
  "tcpdump/dnssec.pcap",
  "zeek/dns-https.pcap",
  "zeek/dns_dynamic-update.pcap",
  "zeek/dns_dns-invalid-names.pcap",
  "tcpdump/edns-opts.pcap",
  "tcpdump/dns_fwdptr.pcap",
];

/** Messages where netwatch and tshark legitimately differ, with the reason. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  "tcpdump/dns_fwdptr.pcap#1":
    "a forward compression pointer: tshark follows it, netwatch reports dns_bad_pointer",
};

const FIELDS = [
  "frame.number",
  "dns.id",
  "dns.flags.response",
  "dns.flags.opcode",
  "dns.flags.rcode",
  "dns.qry.name",
  "dns.qry.type",
  "dns.count.answers",
  "dns.count.prerequisites",
  "udp.payload",
  "tcp.payload",
  "tcp.reassembled.data",
  "udp.srcport",
  "udp.dstport",
  "tcp.srcport",
  "tcp.dstport",
];

Deno.test({
  name: "dns: id, flags, first question and answer count agree with tshark on corpus captures",
  ignore: corpusIgnore,
  async fn() {
    const failures: string[] = [];
    let compared = 0;
    const skipped: string[] = [];
    // tshark takes about a second per file on a first, uncached run: keep the test bounded.
    const deadline = Date.now() + 8000;
    await pool(CORPUS_FILES, 4, async (file) => {
      if (Date.now() > deadline) {
        skipped.push(file);
        return;
      }
      const path = `${pcaps}/corpus/${file}`;
      try {
        Deno.statSync(path);
      } catch {
        return;
      }
      for (const row of await tsharkFields(path, FIELDS, ["-Y", "dns or mdns or llmnr"])) {
        const [
          frame,
          id,
          qr,
          opcode,
          rcode,
          qname,
          qtype,
          anCount,
          prereq,
          udpHex,
          tcpHex,
          reasm,
          us,
          ud,
          ts,
          td,
        ] = row;
        const tcp = udpHex === "";
        const payload = hex(tcp ? (reasm || tcpHex) : udpHex);
        const hint: AppHint = tcp
          ? { transport: "tcp", srcPort: Number(ts), dstPort: Number(td) }
          : { transport: "udp", srcPort: Number(us), dstPort: Number(ud) };
        const rec = decodeDns(
          payload,
          new DataView(payload.buffer),
          0,
          payload.length,
          new IssueList(),
          hint,
        );
        compared++;
        const want = [
          parseInt(id, 16),
          Number(qr),
          Number(opcode),
          Number(rcode),
          qname || undefined,
          qtype ? dnsTypeName(Number(qtype)) : undefined,
          Number(opcode) === 5 ? Number(prereq) : Number(anCount),
        ];
        const got = rec &&
          [rec.id, rec.qr, rec.opcode, rec.rcode, rec.qd[0]?.name, rec.qd[0]?.type, rec.an.length];
        if (JSON.stringify(got) !== JSON.stringify(want) && !KNOWN_DIFFERENCES[`${file}#${frame}`]) {
          failures.push(`${file}#${frame}: tshark ${JSON.stringify(want)} netwatch ${JSON.stringify(got)}`);
        }
      }
    });
    assert.deepEqual(failures, []);
    console.log(`dns: ${compared} DNS messages compared with tshark`);
    if (skipped.length) console.log(`dns: out of time, not compared: ${skipped.join(" ")}`);
  },
});
