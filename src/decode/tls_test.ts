import assert from "node:assert/strict";
import type { IssueList } from "./app.ts";
import { concat, decodeEmbedded, fromHex } from "./_test_app.ts";
import { decodeTls, sniffTls, TLS_MAX_CERTIFICATES, tlsProtocol, type TlsRecord } from "./tls.ts";

const TCP = { transport: "tcp", srcPort: 51000, dstPort: 443 } as const;

/**
 * Decodes `payload` placed at a non-zero offset with junk after it (a decoder must stay inside
 * `[off, end)`), returning the record and the issues.
 */
function decode(payload: Uint8Array): { rec: TlsRecord | null; issues: IssueList } {
  return decodeEmbedded(decodeTls, payload, TCP, 13, 0x16);
}

function u16(v: number): number[] {
  return [v >> 8, v & 0xff];
}

function u24(v: number): number[] {
  return [v >> 16, (v >> 8) & 0xff, v & 0xff];
}

/** A TLS record: content type, version 0x0303, length, body. */
function record(type: number, body: Uint8Array, version = 0x0303): Uint8Array {
  return concat(new Uint8Array([type, ...u16(version), ...u16(body.length)]), body);
}

/** A handshake message: type, 24-bit length, body. */
function handshake(type: number, body: Uint8Array): Uint8Array {
  return concat(new Uint8Array([type, ...u24(body.length)]), body);
}

function ext(type: number, data: number[]): number[] {
  return [...u16(type), ...u16(data.length), ...data];
}

/**
 * A ClientHello with the values of FoxIO's JA4.md worked example: its 15 ciphers and 16 extensions in
 * their original order, its signature algorithms, ALPN h2 + http/1.1, SNI, TLS 1.3 in supported_versions,
 * and GREASE in ciphers, extensions and versions (which every fingerprint must ignore).
 */
function specClientHello(): Uint8Array {
  const ciphers = [
    0x0a0a,
    0x1301,
    0x1302,
    0x1303,
    0xc02b,
    0xc02f,
    0xc02c,
    0xc030,
    0xcca9,
    0xcca8,
    0xc013,
    0xc014,
    0x009c,
    0x009d,
    0x002f,
    0x0035,
  ];
  const sni = [...new TextEncoder().encode("example.org")];
  const sigalgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
  const exts = [
    ...ext(0x0000, [...u16(sni.length + 3), 0, ...u16(sni.length), ...sni]), // server_name first
    ...ext(0x1a1a, []), // GREASE
    ...ext(0x001b, [2, 0, 2]), // compress_certificate
    ...ext(0x0033, [...u16(6), ...u16(0x001d), ...u16(2), 0xaa, 0xbb]), // key_share x25519
    ...ext(0x0010, [...u16(12), 2, 0x68, 0x32, 8, ...new TextEncoder().encode("http/1.1")]), // ALPN
    ...ext(0x4469, [...u16(3), 2, 0x68, 0x32]), // application_settings
    ...ext(0x0017, []), // extended_master_secret
    ...ext(0x002d, [1, 1]), // psk_key_exchange_modes
    ...ext(0x000d, [...u16(sigalgs.length * 2), ...sigalgs.flatMap(u16)]), // signature_algorithms
    ...ext(0x0005, [1, 0, 0, 0, 0]), // status_request
    ...ext(0x0023, []), // session_ticket
    ...ext(0x0012, []), // signed_certificate_timestamp
    ...ext(0x002b, [6, ...u16(0x2a2a), ...u16(0x0304), ...u16(0x0303)]), // supported_versions
    ...ext(0xff01, [0]), // renegotiation_info
    ...ext(0x000b, [1, 0]), // ec_point_formats
    ...ext(0x000a, [...u16(8), ...u16(0x3a3a), ...u16(29), ...u16(23), ...u16(24)]), // supported_groups
    ...ext(0x0015, [0, 0, 0]), // padding
  ];
  const body = [
    ...u16(0x0303),
    ...new Array(32).fill(0x11), // random
    0, // session id
    ...u16(ciphers.length * 2),
    ...ciphers.flatMap(u16),
    1,
    0, // compression: null
    ...u16(exts.length),
    ...exts,
  ];
  return handshake(1, new Uint8Array(body));
}

// Chrome's ClientHello with Encrypted Client Hello, zeek corpus tls_tls13-ech.pcap frame 7 (TLSv1.3,
// 517 bytes: record 16 0301 0200, handshake 01 0001fc, GREASE 2a2a first cipher, SNI cloudflare-ech.com).
const CHROME_ECH_HELLO = `
1603010200010001fc0303d820986a1fb4dc3a70fac91f1359ff5e320c6a5e07397ab36f8c513be4585f5d207c77f968ecbeda040598f47a
f5265fb5f0f5ef3279f08b43d03c31a57ce0c63000202a2a130113021303c02bc02fc02cc030cca9cca8c013c014009c009d002f00350100
0193dada0000ff010001000010000e000c02683208687474702f312e31000d00120010040308040401050308050501080606010033002b00
291a1a000100001d0020231cb3a7bde0d15d97dfdfc4d315b112899e9480d1dc7a0e739c4058bbe7276d002d0002010144690005000302683200
230000002b0007068a8a03040303000a000a00081a1a001d00170018fe0d00ba0000010001d10020cce5c83299bb8dffdb74bafd0a1d524b82
973e224c12999beed169ee7a9ad67d00900b7b2dc3b17adb2eabc1f7fabb61bdd5db777336a9da3679c5373ff69f0087b9453bd3ec42b6d1
7b1b7d024cd7c4b627d1b0cd3ae9fbe5422f132187789d6c7f89f29201ff0e64853d3988adb723fff552447ebd087a55422abe568a8dfe4596
a5820f134ec9f192620e4b36776431e14e35a6c9ddbe912359b1bde0d74a062e634eb5ced3063bed83f0b562f26278030017000000050005
010000000000120000000b00020100000000170015000012636c6f7564666c6172652d6563682e636f6d001b00030200029a9a000100001500
0700000000000000`;

// The test certificate of x509_test.ts (self-signed, CN=example.com, O=Org\, Inc., C=US, serial c0ffee01).
const TEST_CERT = fromHex(`
308201df30820185a003020102020500c0ffee01300a06082a8648ce3d04030230373114301206035504030c0b6578616d70
6c652e636f6d31123010060355040a0c094f72672c20496e632e310b30090603550406130255533020170d32343031333131
32303030305a180f32303530303130313030303030305a30373114301206035504030c0b6578616d706c652e636f6d311230
10060355040a0c094f72672c20496e632e310b30090603550406130255533059301306072a8648ce3d020106082a8648ce3d
03010703420004681f931cf48cfd2c6da235ad8df38933f4774b9c72b6e8280722b8ddcad2dc9542528495ef0beded87a0f6
78da046964355a4df91ebca6872023aa40f0c2f34ea37c307a304e0603551d1104473045820b6578616d706c652e636f6d82
0f7777772e6578616d706c652e636f6d8704c0000201871020010db8000000000000000000000001810d61406578616d706c
652e636f6d30090603551d1304023000301d0603551d0e041604141e566ee8b2d0878878cb5a02136fbaab9cc6740c300a06
082a8648ce3d0403020348003045022100ba52c910a6beb1b6b6057d81732e26182c3a7762c53a61f7fc854f538714e58302
203471561998aa1bc4ac70947ccad542c6a8498d1baee12f6f79f6a20ed062df01`);

/** A TLS 1.2 ServerHello: version 0303, random, empty session id, cipher c02f, null compression, renegotiation_info. */
function serverHello12(): Uint8Array {
  return handshake(
    2,
    new Uint8Array([
      ...u16(0x0303),
      ...new Array(32).fill(0x22),
      0,
      ...u16(0xc02f),
      0,
      ...u16(5),
      ...ext(0xff01, [0]),
    ]),
  );
}

/** Certificate message (RFC 5246 section 7.4.2) carrying `certs`. */
function certificateMessage(certs: Uint8Array[]): Uint8Array {
  const list = concat(...certs.map((c) => concat(new Uint8Array(u24(c.length)), c)));
  return handshake(11, concat(new Uint8Array(u24(list.length)), list));
}

Deno.test("ClientHello: Chrome with ECH and GREASE (tls_tls13-ech.pcap frame 7) matches tshark's JA3", () => {
  const { rec, issues } = decode(fromHex(CHROME_ECH_HELLO));
  assert.deepEqual(issues.items, []);
  assert.ok(rec);
  assert.equal(rec.handshake, "client_hello");
  assert.equal(rec.record_version, "TLS 1.0");
  assert.equal(rec.version, "TLS 1.3");
  assert.equal(rec.sni, "cloudflare-ech.com");
  assert.deepEqual(rec.alpn, ["h2", "http/1.1"]);
  // tshark 4.0 tls.handshake.ja3_full / tls.handshake.ja3 of this frame.
  assert.equal(
    rec.ja3_full,
    "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
      "65281-16-13-51-45-17513-35-43-10-65037-23-5-18-11-0-27-21,29-23-24,0",
  );
  assert.equal(rec.ja3, "2fcbf8655473005933c5869b2b5d8044");
  // Chrome's cipher list hashes to JA4.md's example value 8daaf6152771.
  assert.equal(rec.ja4, "t13d1517h2_8daaf6152771_b1ff8ab2d16f");
  assert.equal(rec.cipher_suites![0], 0x2a2a); // GREASE kept in the raw list
  assert.equal(rec.cipher_suites!.length, 16);
  assert.deepEqual(rec.supported_versions, ["0x8a8a", "TLS 1.3", "TLS 1.2"]);
  assert.deepEqual(rec.groups, [0x1a1a, 29, 23, 24]);
  assert.deepEqual(rec.key_share_groups, [0x1a1a, 29]);
  assert.deepEqual(rec.sig_algs, [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]);
  assert.equal(rec.extensions!.length, 19); // 17 + 2 GREASE
  assert.deepEqual(rec.content_types, ["handshake"]);
});

Deno.test("ClientHello: JA4.md example values give t13d1516h2_8daaf6152771_e5627efa2ab1", () => {
  const { rec, issues } = decode(record(22, specClientHello(), 0x0301));
  assert.deepEqual(issues.items, []);
  assert.equal(rec?.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  assert.equal(rec?.sni, "example.org");
  assert.equal(
    rec?.ja3_full,
    "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
      "0-27-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0",
  );
});

Deno.test("ClientHello cut by the segment end: SNI found, no fingerprints, no issue", () => {
  const full = record(22, specClientHello());
  const { rec, issues } = decode(full.subarray(0, 120));
  assert.deepEqual(issues.items, []);
  assert.equal(rec?.handshake, "client_hello");
  assert.equal(rec?.sni, "example.org");
  assert.equal(rec?.ja3, undefined);
  assert.equal(rec?.ja4, undefined);
});

Deno.test("ClientHello split over two records of one segment is joined", () => {
  const msg = specClientHello();
  const joined = decode(record(22, msg)).rec;
  const split = decode(concat(record(22, msg.subarray(0, 200)), record(22, msg.subarray(200)))).rec;
  assert.equal(split?.ja4, joined?.ja4);
  assert.equal(split?.ja3, joined?.ja3);
  assert.ok(split?.ja3);
});

Deno.test("HelloRetryRequest + CCS (tls_hrr.pcap frame 6) matches tshark's JA3S", () => {
  // 16 0303 0058 | 02 000054 | 0303 | random cf21ad74...(HRR) | sid 20 ... | 1302 | 00 | ext 000c:
  // supported_versions 0304, key_share group 0017 | 14 0303 0001 01
  const { rec, issues } = decode(fromHex(`
    1603030058020000540303cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c201a6bb8368add0e28015b
    d6cced648236f49e2407f19653ac1fdd1ffa48bfaecd130200000c002b00020304003300020017140303000101`));
  assert.deepEqual(issues.items, []);
  assert.equal(rec?.handshake, "server_hello");
  assert.equal(rec?.version, "TLS 1.3");
  assert.equal(rec?.cipher, 0x1302);
  assert.equal(rec?.ja3s_full, "771,4866,43-51");
  assert.equal(rec?.ja3s, "15af977ce25de452b96affa2addb1036");
  assert.deepEqual(rec?.key_share_groups, [23]);
  assert.deepEqual(rec?.content_types, ["handshake", "change_cipher_spec"]);
});

Deno.test("ServerHello of TLS 1.3 draft 16 (no session id, no compression) matches tshark's JA3S", () => {
  // tls_tls13draft16-ff52.a01.pcap frame 6, first record: 02 000093 | 7f10 | random | 1303 | ext 006d
  const { rec } = decode(fromHex(`
    1603010097020000937f108e013ef70bc663d9dc306362b2f7914bf28dfe4bdc7be5bf9820f6965e34cfd11303006d000d000000280065
    00180061047b6fc2dee05cacee615b2803abc86f0204128502c388627fc1e9f940373356c55fabeb31513a6c96ceb6dead60e55375503f
    64e429f07b48ee0ed5680417c9515537c23246e925cdb1d62db3671a9bef64d8335a2d06c9e57d1cb448ef9c4e02`));
  assert.equal(rec?.version, "TLS 1.3 (draft 16)");
  assert.equal(rec?.ja3s_full, "32528,4867,13-40");
});

Deno.test("TLS 1.2 ServerHello, Certificate, ServerHelloDone in one segment", () => {
  const payload = concat(
    record(22, serverHello12()),
    record(22, certificateMessage([TEST_CERT, TEST_CERT])),
    record(22, handshake(14, new Uint8Array(0))),
  );
  const { rec, issues } = decode(payload);
  assert.deepEqual(issues.items, []);
  assert.equal(rec?.handshake, "server_hello");
  assert.equal(rec?.version, "TLS 1.2");
  assert.equal(rec?.ja3s_full, "771,49199,65281");
  assert.equal(rec?.certificates?.length, 2);
  assert.deepEqual(rec?.certificates?.[0], {
    serial: "c0ffee01",
    issuer: "C=US,O=Org\\, Inc.,CN=example.com",
    not_before: "2024-01-31T12:00:00Z",
    not_after: "2050-01-01T00:00:00Z",
    subject: "C=US,O=Org\\, Inc.,CN=example.com",
    san: ["example.com", "www.example.com", "192.0.2.1", "2001:db8::1"],
  });
});

Deno.test("Certificate: only complete certificates, at most TLS_MAX_CERTIFICATES", () => {
  const three = decode(record(22, certificateMessage([TEST_CERT, TEST_CERT, TEST_CERT]))).rec;
  assert.equal(three?.certificates?.length, 3);
  // Cut inside the second certificate (the rest is in the next segment): the first is kept.
  const cut = record(22, certificateMessage([TEST_CERT, TEST_CERT])).subarray(0, 5 + 4 + 3 + 3 + 483 + 100);
  const { rec, issues } = decode(cut);
  assert.equal(rec?.certificates?.length, 1);
  assert.deepEqual(issues.items, []);
  const many =
    decode(record(22, certificateMessage(new Array(TLS_MAX_CERTIFICATES + 3).fill(TEST_CERT)))).rec;
  assert.equal(many?.certificates?.length, TLS_MAX_CERTIFICATES);
  // A certificate entry that is not DER.
  const junk = decode(record(22, certificateMessage([new Uint8Array([1, 2, 3])])));
  assert.deepEqual(junk.issues.items.map((i) => i.code), ["tls_bad_certificate"]);
});

Deno.test("Alert record (tls-1.2-handshake-failure.pcap frame 6): fatal handshake_failure", () => {
  const { rec } = decode(fromHex("15030300020228"));
  assert.deepEqual(rec, {
    record_version: "TLS 1.2",
    content_types: ["alert"],
    alert: { level: "fatal", description: "handshake_failure" },
  });
  // An encrypted alert is longer than 2 bytes: only its content type shows.
  const enc = decode(record(21, new Uint8Array(26).fill(0x5a))).rec;
  assert.deepEqual(enc, { record_version: "TLS 1.2", content_types: ["alert"] });
});

Deno.test("Application data: record headers only, the last record may run past the segment", () => {
  const data = concat(record(23, new Uint8Array(100).fill(1)), record(23, new Uint8Array(2000).fill(2)));
  const { rec, issues } = decode(data.subarray(0, 1400));
  assert.deepEqual(rec, { record_version: "TLS 1.2", content_types: ["application_data"] });
  assert.deepEqual(issues.items, []);
  // A segment starting inside a record is not decodable on its own.
  assert.equal(decode(data.subarray(300, 1400)).rec, null);
  // A bad header after the first record stops the walk with tls_bad_record.
  const bad = decode(concat(record(23, new Uint8Array(10)), fromHex("4745542f20"))).issues.items;
  assert.deepEqual(bad.map((i) => i.code), ["tls_bad_record"]);
  assert.equal(bad[0].offset, 13 + 15);
});

Deno.test("Encrypted Finished after ChangeCipherSpec is not read as a handshake (tls_telesec.pcap frame 14)", () => {
  // 14 0303 0001 01 | 16 0303 0028 | 0000000000000000 (GCM explicit nonce) a232c9cf...
  const { rec, issues } = decode(fromHex(`
    14030300010116030300280000000000000000a232c9cfe054de07bf5f0029c522fd52774ee4539f0abba42a5708cbbd0afd5e`));
  assert.deepEqual(rec, { record_version: "TLS 1.2", content_types: ["change_cipher_spec", "handshake"] });
  assert.deepEqual(issues.items, []);
  // Without the CCS in the segment (tls_heartbleed-encrypted.pcap frame 13): the zero nonce reads as
  // empty hello_request messages, but the bytes after them do not chain.
  const alone = decode(fromHex(`
    160303002800000000000000009b5b609e69c2e759f4c4418f89948d3e63ccce58e869f771a059c300205dbe57`)).rec;
  assert.equal(alone?.handshake, undefined);
});

Deno.test("SSL 2.0 ClientHello (tls_ssl-v2.pcap frame 4)", () => {
  // 802e: 2-byte header, length 46 | 01 CLIENT-HELLO | 0002 SSL 2.0 | specs 0015 | sid 0000 | challenge 0010
  const payload = fromHex(`
    802e0100020015000000100700c00500800300800100800600400400800200801c30e2b12f4c04525476f280c07abee5`);
  assert.ok(sniffTls(payload, 0, payload.length, TCP));
  const { rec } = decode(payload);
  assert.deepEqual(rec, {
    handshake: "client_hello",
    version: "SSL 2.0",
    record_version: "SSL 2.0",
    cipher_suites: [0x0700c0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080],
    content_types: ["handshake"],
  });
});

Deno.test("sniffTls: record headers on TCP only", () => {
  const hello = fromHex(CHROME_ECH_HELLO);
  assert.ok(sniffTls(hello, 0, hello.length, TCP));
  assert.ok(!sniffTls(hello, 0, hello.length, { transport: "udp", srcPort: 1, dstPort: 443 }));
  assert.ok(!sniffTls(hello, 0, 4, TCP));
  for (const junk of ["474554202f20", "1603050010", "1803030010", "1603030000", "16030348ff"]) {
    const b = fromHex(junk);
    assert.ok(!sniffTls(b, 0, b.length, TCP), junk);
  }
  assert.equal(tlsProtocol.name, "tls");
  assert.deepEqual(tlsProtocol.ports.tcp, [443, 465, 636, 853, 993, 995, 5061, 8443, 9443]);
});

Deno.test("decodeTls never throws: seeded truncations and bit flips", () => {
  const seeds = [
    fromHex(CHROME_ECH_HELLO),
    record(22, specClientHello()),
    concat(record(22, serverHello12()), record(22, certificateMessage([TEST_CERT]))),
    concat(record(22, specClientHello().subarray(0, 150)), record(22, specClientHello().subarray(150))),
    fromHex("15030300020228"),
  ];
  let seed = 12345;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < 4000; i++) {
    const src = seeds[i % seeds.length];
    const b = src.slice(0, Math.floor(rnd() * (src.length + 1)));
    const flips = Math.floor(rnd() * 6);
    for (let k = 0; k < flips && b.length > 0; k++) {
      b[Math.floor(rnd() * b.length)] ^= 1 << Math.floor(rnd() * 8);
    }
    const r = decode(b).rec;
    if (r !== null) JSON.stringify(r);
  }
});

// ---- Corpus comparison with tshark (bounded; skipped without tshark or the corpus) ----

const CORPUS = "/work/shared/pcaps/corpus/zeek";
const CORPUS_FILES = [
  "tls_tls13-ech.pcap",
  "tls_chrome-34-google.pcap",
  "tls_hrr.pcap",
  "tls_ssl.v3.pcap",
  "tls_tls13draft16-ff52.a01.pcap",
  "tls_google-cert-repeat.pcap",
  "tls_tls13draft23-chrome67.0.3368.0-canary.pcap",
  "tls_ecdhe.pcap",
];

function haveTsharkAndCorpus(): boolean {
  try {
    Deno.statSync(CORPUS);
    const path = Deno.env.get("PATH") ?? "";
    return path.split(":").some((d) => {
      try {
        return Deno.statSync(d + "/tshark").isFile;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

Deno.test({
  name: "corpus: SNI, JA3 and JA3S agree with tshark 4.0 (tcp.desegment_tcp_streams:FALSE)",
  ignore: !haveTsharkAndCorpus(),
  async fn() {
    const runs = CORPUS_FILES.map(async (file) => {
      const out = await new Deno.Command("tshark", {
        args: [
          ...["-r", `${CORPUS}/${file}`, "-o", "tcp.desegment_tcp_streams:FALSE", "-Y", "tls && tcp", "-T"],
          ...[
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "frame.number",
            "-e",
            "tls.handshake.extensions_server_name",
          ],
          ...["-e", "tls.handshake.ja3", "-e", "tls.handshake.ja3s", "-e", "tcp.payload"],
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      return { file, text: new TextDecoder().decode(out.stdout) };
    });
    let agree = 0;
    const differ: string[] = [];
    for (const { file, text } of await Promise.all(runs)) {
      for (const line of text.split("\n")) {
        const [frame, sni, ja3, ja3s, payload] = line.split("\t");
        if (!payload) continue;
        const { rec } = decode(fromHex(payload));
        for (const [k, t, u] of [["sni", sni, rec?.sni], ["ja3", ja3, rec?.ja3], ["ja3s", ja3s, rec?.ja3s]]) {
          // tshark skips records that run past the segment; we read the hellos inside them too.
          if (!t) continue;
          if (t === u) agree++;
          else differ.push(`${file}#${frame} ${k}: tshark=${t} ours=${u}`);
        }
      }
    }
    assert.deepEqual(differ, []);
    assert.ok(agree >= 40, `only ${agree} values compared`);
  },
});
