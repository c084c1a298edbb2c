import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import type { IssueList } from "./app.ts";
import { concat, decodeEmbedded, fromHex } from "./_test_app.ts";
import { toHex } from "./_bytes.ts";
import {
  clientInitialKeys,
  decodeQuic,
  hkdfExpandLabel,
  quicProtocol,
  type QuicRecord,
  sniffQuic,
} from "./quic.ts";

const UDP = { transport: "udp", srcPort: 50000, dstPort: 443 } as const;

/** Decodes `dgram` placed at a non-zero offset with junk after it. */
function decode(dgram: Uint8Array): { rec: QuicRecord | null; issues: IssueList } {
  return decodeEmbedded(decodeQuic, dgram, UDP, 11, 0xc3);
}

// RFC 9001 Appendix A.2: the client Initial, 1200 bytes, DCID 8394c8f03e515708, packet number 2,
// carrying a ClientHello for example.com with ALPN "alpn" and ciphers 1301, 1302.
const RFC9001_A2 = `
c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c0bab7df5976d
27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c8eb7539ec4d4905fed1bee1f
c8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5457a
fd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c2084dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5
a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6
a8e5eba0fc3dd60bc8e30c5c4287e53805db059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e8
46d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba66117
22395c906556be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7
fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00f064c99e3dd9
7911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699d
bfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279
c4b2e0feb85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198e3fc433f9f254101
0ae17c1bf202580f6047472fb36857fe843b19f5984009ddc324044e847a4f4a0ab34f719595de37252d6235365e9b84392b06108534
9d73203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705
769d1de354270123cb11450efc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19
896d2bf59a071b851e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2
162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499dbd49adabc867
6eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e8f2e6ff5800175f113253d8f
a9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f0940054da
48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab760d58a606654f9f4400e8b38591356fbf6425aca26dc852
44259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf5
79be0a39013137aac6d404f518cfd46840647e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44
860018ab0856972e194cd934`;

// RFC 9001 Appendix A.3: the server Initial (ServerHello), SCID f067a5502a4262b5, Length 0x75.
const RFC9001_A3 = `
cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a5816b6394100f37a1c69797554780bb38cc5a99f5ede
4cf73c3ec2493a1839b3dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84022f8ef4cdd93795d77d06ed
bb7aaf2f58891850abbdca3d20398c276456cbc42158407dd074ee`;

// RFC 9001 Appendix A.4: Retry, token "token", integrity tag 04a265ba...
const RFC9001_A4 = "ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba";

// The CRYPTO payload of A.2 (RFC 9001 appendix A.2, "060040f1" then this 241-byte ClientHello).
const A2_CLIENT_HELLO = fromHex(`
010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c00000413011302010000c000000010000e
00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c706e00050005010000000000330026
0024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b0003020304000d0010000e04030503
06030203080408050806002d00020101001c00024001003900320408ffffffffffffffff05048000ffff07048000ffff080110010480
0075300901100f088394c8f03e51570806048000ffff`);

/** A CRYPTO frame (RFC 9000 section 19.6) with 2-byte varints. */
function crypto(offset: number, data: Uint8Array): Uint8Array {
  return concat(
    new Uint8Array([6, 0x40 | (offset >> 8), offset & 0xff, 0x40 | (data.length >> 8), data.length & 0xff]),
    data,
  );
}

/**
 * Builds a protected client Initial (RFC 9001 section 5) the way a client does: a 2-byte packet number,
 * AES-128-GCM over the payload with the header as AAD, then header protection from a 16-byte sample.
 */
function protectInitial(version: number, dcid: Uint8Array, pn: number, payload: Uint8Array): Uint8Array {
  const keys = clientInitialKeys(version, dcid)!;
  const typeBits = version === 0x6b3343cf ? 1 : 0;
  const len = 2 + payload.length + 16;
  const header = new Uint8Array([
    0xc0 | (typeBits << 4) | 1,
    version >>> 24,
    (version >> 16) & 0xff,
    (version >> 8) & 0xff,
    version & 0xff,
    dcid.length,
    ...dcid,
    0,
    0,
    0x40 | (len >> 8),
    len & 0xff,
    pn >> 8,
    pn & 0xff,
  ]);
  const nonce = new Uint8Array(keys.iv);
  nonce[10] ^= pn >> 8;
  nonce[11] ^= pn & 0xff;
  const gcm = createCipheriv("aes-128-gcm", keys.key, nonce);
  gcm.setAAD(header);
  const body = concat(gcm.update(payload), gcm.final(), gcm.getAuthTag());
  const packet = concat(header, body);
  const pnOff = header.length - 2;
  const ecb = createCipheriv("aes-128-ecb", keys.hp, null);
  ecb.setAutoPadding(false);
  const mask: Uint8Array = ecb.update(packet.subarray(pnOff + 4, pnOff + 20));
  packet[0] ^= mask[0] & 0x0f;
  packet[pnOff] ^= mask[1];
  packet[pnOff + 1] ^= mask[2];
  return packet;
}

Deno.test("RFC 9001 A.1: client Initial keys from DCID 8394c8f03e515708", () => {
  const k = clientInitialKeys(1, fromHex("8394c8f03e515708"))!;
  assert.equal(toHex(k.key, 0, 16), "1f369613dd76d5467730efcbe3b1a22d");
  assert.equal(toHex(k.iv, 0, 12), "fa044b2f42a3fd3b46fb255c");
  assert.equal(toHex(k.hp, 0, 16), "9f50449e04a0e810283a1e9933adedd2");
  const initial = fromHex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44");
  assert.equal(
    toHex(hkdfExpandLabel(initial, "client in", 32), 0, 32),
    "c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea",
  );
});

Deno.test("RFC 9001 A.2: the client Initial is opened and its ClientHello read", () => {
  const { rec: full, issues } = decode(fromHex(RFC9001_A2));
  assert.deepEqual(issues.items, []);
  // The ClientHello is also described as a TLS record, with the same SNI, ALPN and JA4.
  const { tls, ...rec } = full as { tls?: Record<string, unknown> };
  assert.equal(tls?.handshake, "client_hello");
  assert.equal(tls?.sni, "example.com");
  assert.deepEqual(tls?.alpn, ["alpn"]);
  assert.equal(tls?.ja4, "q13d0211an_62ed6f6ca7ad_4d634acda6c0");
  assert.equal(tls?.ja3_full, "771,4865-4866,0-65281-10-16-5-51-43-13-45-28-57,29-23-24,");
  assert.deepEqual(rec, {
    header: "long",
    version: "0x00000001",
    dcid: "8394c8f03e515708",
    scid: "",
    packet_type: "initial",
    token_len: 0,
    length: 1182,
    sni: "example.com",
    alpn: ["alpn"],
    // q, TLS 1.3, SNI, 2 ciphers, 11 extensions, ALPN "alpn" -> "an"; 62ed6f6ca7ad is the hash of
    // "1301,1302" (the value Envoy's tls_inspector tests publish for that list).
    ja4: "q13d0211an_62ed6f6ca7ad_4d634acda6c0",
  });
});

Deno.test("RFC 9001 A.3 / A.4: server Initial (header only) and Retry", () => {
  assert.deepEqual(decode(fromHex(RFC9001_A3)).rec, {
    header: "long",
    version: "0x00000001",
    dcid: "",
    scid: "f067a5502a4262b5",
    packet_type: "initial",
    token_len: 0,
    length: 117,
  });
  assert.deepEqual(decode(fromHex(RFC9001_A4)).rec, {
    header: "long",
    version: "0x00000001",
    dcid: "",
    scid: "f067a5502a4262b5",
    packet_type: "retry",
    token_len: 5,
  });
});

Deno.test("CRYPTO frames out of order over two coalesced Initials are reassembled", () => {
  const dcid = fromHex("0011223344556677");
  const h = A2_CLIENT_HELLO;
  const p1 = protectInitial(
    1,
    dcid,
    0,
    concat(crypto(150, h.subarray(150)), new Uint8Array(3), crypto(0, h.subarray(0, 60))),
  );
  const p2 = protectInitial(
    1,
    dcid,
    1,
    concat(new Uint8Array([1]), crypto(60, h.subarray(60, 150)), new Uint8Array(900)),
  );
  const { rec, issues } = decode(concat(p1, p2));
  assert.deepEqual(issues.items, []);
  assert.equal(rec?.sni, "example.com");
  assert.equal(rec?.ja4, "q13d0211an_62ed6f6ca7ad_4d634acda6c0");
  assert.equal(rec?.dcid, "0011223344556677");
  // Only the first part in this datagram: SNI (early in this hello) but no JA4.
  const part =
    decode(protectInitial(1, dcid, 0, concat(crypto(0, h.subarray(0, 80)), new Uint8Array(1000)))).rec;
  assert.equal(part?.sni, "example.com");
  assert.equal(part?.ja4, undefined);
});

Deno.test("QUIC v2 (RFC 9369): Initial type bits 01, quicv2 labels", () => {
  const dcid = fromHex("a1b2c3d4");
  const { rec } = decode(
    protectInitial(0x6b3343cf, dcid, 0, concat(crypto(0, A2_CLIENT_HELLO), new Uint8Array(900))),
  );
  assert.equal(rec?.version, "0x6b3343cf");
  assert.equal(rec?.packet_type, "initial");
  assert.equal(rec?.sni, "example.com");
  // v2 long types: 0 retry, 2 0-RTT, 3 handshake.
  const hs = fromHex("f06b3343cf04a1b2c3d40005" + "4010" + "00".repeat(16));
  assert.equal(decode(hs).rec?.packet_type, "handshake");
});

Deno.test("Version Negotiation, short header, unknown version, malformed headers", () => {
  const vn = fromHex("80 00000000 04 01020304 02 0a0b 00000001 6b3343cf 1a2a3a4a");
  assert.ok(sniffQuic(vn, 0, vn.length, UDP));
  assert.deepEqual(decode(vn).rec, {
    header: "long",
    version: "0x00000000",
    dcid: "01020304",
    scid: "0a0b",
    packet_type: "version_negotiation",
  });
  assert.deepEqual(decode(fromHex("4401020304050607")).rec, { header: "short" });
  assert.equal(decode(fromHex("0401020304")).rec, null);
  // An unknown version: the invariant header only.
  assert.deepEqual(decode(fromHex("c0 faceb00c 01 aa 01 bb 00")).rec, {
    header: "long",
    version: "0xfaceb00c",
    dcid: "aa",
    scid: "bb",
  });
  // DCID longer than 20 bytes in version 1.
  const long = decode(fromHex("c0 00000001 15" + "00".repeat(30)));
  assert.deepEqual(long.issues.items.map((i) => i.code), ["quic_bad_header"]);
  // Length past the datagram end.
  const cut = decode(fromHex("e0 00000001 00 00 4100 00"));
  assert.equal(cut.rec?.packet_type, "handshake");
  assert.equal(cut.rec?.length, 256);
  assert.deepEqual(cut.issues.items.map((i) => i.code), ["quic_truncated"]);
});

Deno.test("sniffQuic: long headers with known versions over UDP only", () => {
  const a2 = fromHex(RFC9001_A2);
  assert.ok(sniffQuic(a2, 0, a2.length, UDP));
  assert.ok(!sniffQuic(a2, 0, a2.length, { transport: "tcp", srcPort: 1, dstPort: 443 }));
  assert.ok(!sniffQuic(fromHex("c0faceb00c0100"), 0, 7, UDP));
  assert.ok(!sniffQuic(fromHex("4401020304050607"), 0, 8, UDP));
  assert.ok(!sniffQuic(fromHex("1603010200010001"), 0, 8, UDP));
  assert.equal(quicProtocol.name, "quic");
  assert.deepEqual(quicProtocol.ports.udp, [443, 4433, 8443]);
});

Deno.test("decodeQuic never throws: seeded truncations, bit flips and random protected frames", () => {
  const seeds = [fromHex(RFC9001_A2), fromHex(RFC9001_A3), fromHex(RFC9001_A4)];
  let seed = 99;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < 2500; i++) {
    const src = seeds[i % seeds.length];
    const b = src.slice(0, Math.floor(rnd() * (src.length + 1)));
    for (let k = 0; k < Math.floor(rnd() * 4) && b.length > 0; k++) {
      b[Math.floor(rnd() * b.length)] ^= 1 << (rnd() * 8);
    }
    const r = decode(b).rec;
    if (r !== null) JSON.stringify(r);
  }
  // Authenticated garbage: random frames and damaged ClientHellos behind a valid AEAD tag.
  const dcid = fromHex("0102030405060708");
  for (let i = 0; i < 300; i++) {
    let payload: Uint8Array;
    if (i % 2 === 0) {
      payload = new Uint8Array(20 + Math.floor(rnd() * 300)).map(() => Math.floor(rnd() * 256));
      payload[0] = [0, 1, 2, 3, 6, 0x1c, 0x1d][i % 7];
    } else {
      const h = A2_CLIENT_HELLO.slice();
      for (let k = 0; k < 3; k++) h[Math.floor(rnd() * h.length)] ^= 1 << (rnd() * 8);
      payload = concat(crypto(0, h.subarray(0, Math.floor(rnd() * h.length))), new Uint8Array(20));
    }
    const r = decode(protectInitial(1, dcid, i, payload)).rec;
    assert.equal(r?.packet_type, "initial");
  }
});

// ---- Corpus comparison with tshark (bounded; skipped without tshark or the corpus) ----

const CORPUS = "/work/shared/pcaps/corpus";
const CORPUS_FILES = [
  "zeek/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap",
  "zeek/quic_chromium-115.0.5790.110-api-cirrus-com.pcap",
  "zeek/quic_quicv2-http3-443.pcap",
  "zeek/quic_quicv2-echo-443.pcap",
  "zeek/quic_curl-8.1.2-dev-http3-www-google-de.pcap",
  "tcpdump/quic_handshake.pcap",
  "tcpdump/quic_retry.pcap",
  "tcpdump/quic_vn.pcap",
];

function haveTsharkAndCorpus(): boolean {
  try {
    Deno.statSync(CORPUS);
    return (Deno.env.get("PATH") ?? "").split(":").some((d) => {
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
  name: "corpus: version, connection IDs and SNI agree with tshark 4.0",
  ignore: !haveTsharkAndCorpus(),
  async fn() {
    const runs = CORPUS_FILES.map(async (file) => {
      const out = await new Deno.Command("tshark", {
        args: [
          ...[
            "-r",
            `${CORPUS}/${file}`,
            "-Y",
            "quic",
            "-T",
            "fields",
            "-E",
            "occurrence=f",
            "-e",
            "frame.number",
          ],
          ...["-e", "quic.header_form", "-e", "quic.version", "-e", "quic.dcid", "-e", "quic.scid"],
          ...["-e", "tls.handshake.extensions_server_name", "-e", "udp.payload"],
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      return { file, text: new TextDecoder().decode(out.stdout) };
    });
    let agree = 0, snis = 0;
    const differ: string[] = [];
    for (const { file, text } of await Promise.all(runs)) {
      for (const line of text.split("\n")) {
        const [frame, form, version, dcid, scid, sni, payload] = line.split("\t");
        if (!payload) continue;
        const { rec } = decode(fromHex(payload));
        const checks: [string, string | undefined, string | undefined][] = [
          ["header", form === "1" ? "long" : "short", rec?.header],
        ];
        if (form === "1") {
          checks.push(["version", version, rec?.version], ["dcid", dcid, rec?.dcid], [
            "scid",
            scid,
            rec?.scid,
          ]);
        }
        // tshark reassembles a ClientHello over datagrams and shows the SNI once per connection: compare
        // where both have one.
        if (sni && rec?.sni) {
          checks.push(["sni", sni, rec.sni]);
          snis++;
        }
        for (const [k, t, u] of checks) {
          if (t === u) agree++;
          else differ.push(`${file}#${frame} ${k}: tshark=${t} ours=${u}`);
        }
      }
    }
    assert.deepEqual(differ, []);
    assert.ok(snis >= 6, `only ${snis} SNIs compared`);
    assert.ok(agree >= 500, `only ${agree} values compared`);
  },
});
