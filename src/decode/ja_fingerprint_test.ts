import assert from "node:assert/strict";
import {
  type ClientHelloFields,
  isGrease,
  ja3sString,
  ja3String,
  ja4,
  ja4Alpn,
  ja4CipherHash,
  ja4ExtensionHash,
  ja4VersionCode,
  md5Hex,
} from "./ja_fingerprint.ts";

// The worked example of FoxIO's JA4 specification (technical_details/JA4.md, "Cipher hash",
// "Extension hash", "Example"): ciphers and extensions in their original order, GREASE values added
// here to check that they are ignored.
const SPEC_CIPHERS = [
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
const SPEC_EXTENSIONS = [
  0x001b,
  0x0000,
  0x0033,
  0x0010,
  0x4469,
  0x0017,
  0x002d,
  0x000d,
  0x0005,
  0x0023,
  0x0012,
  0x002b,
  0xff01,
  0x000b,
  0x000a,
  0x0015,
];
const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

const specHello: ClientHelloFields = {
  legacyVersion: 0x0303,
  cipherSuites: [0x0a0a, ...SPEC_CIPHERS],
  extensions: [0x1a1a, ...SPEC_EXTENSIONS, 0x2a2a],
  groups: [0x3a3a, 29, 23, 24],
  ecPointFormats: [0],
  sigAlgs: SPEC_SIGALGS,
  supportedVersions: [0x4a4a, 0x0304, 0x0303],
  alpn: ["h2", "http/1.1"],
  hasSni: true,
};

Deno.test("isGrease: the sixteen RFC 8701 values and nothing else", () => {
  let n = 0;
  for (let v = 0; v < 0x10000; v++) if (isGrease(v)) n++;
  assert.equal(n, 16);
  assert.ok(isGrease(0x0a0a) && isGrease(0xfafa) && isGrease(0x5a5a));
  assert.ok(!isGrease(0x0a1a) && !isGrease(0x1301) && !isGrease(0x0a0b));
});

Deno.test("ja4CipherHash: JA4.md example list hashes to 8daaf6152771", () => {
  assert.equal(ja4CipherHash(SPEC_CIPHERS), "8daaf6152771");
  assert.equal(ja4CipherHash([0x2a2a, ...SPEC_CIPHERS.toReversed()]), "8daaf6152771");
  assert.equal(ja4CipherHash([]), "000000000000");
  assert.equal(ja4CipherHash([0x0a0a]), "000000000000");
});

Deno.test("ja4ExtensionHash: JA4.md examples e5627efa2ab1 and (no signature algorithms) 6d807ffa2a79", () => {
  assert.equal(ja4ExtensionHash(SPEC_EXTENSIONS, SPEC_SIGALGS), "e5627efa2ab1");
  assert.equal(ja4ExtensionHash(SPEC_EXTENSIONS, []), "6d807ffa2a79");
  assert.equal(ja4ExtensionHash([0x0a0a, ...SPEC_EXTENSIONS], [0x1a1a, ...SPEC_SIGALGS]), "e5627efa2ab1");
  // Only SNI and ALPN: nothing left to hash.
  assert.equal(ja4ExtensionHash([0x0000, 0x0010], SPEC_SIGALGS), "000000000000");
});

Deno.test("ja4: JA4.md example fingerprint t13d1516h2_8daaf6152771_e5627efa2ab1", () => {
  assert.equal(ja4(specHello, "t"), "t13d1516h2_8daaf6152771_e5627efa2ab1");
  assert.equal(ja4(specHello, "q"), "q13d1516h2_8daaf6152771_e5627efa2ab1");
  // No SNI, no ALPN, no supported_versions: legacy version, "i", "00".
  const bare = { ...specHello, hasSni: false, alpn: [], supportedVersions: [] };
  assert.equal(ja4(bare, "t"), "t12i151600_8daaf6152771_e5627efa2ab1");
});

Deno.test("ja4Alpn: JA4.md ALPN rules", () => {
  assert.equal(ja4Alpn("h2"), "h2");
  assert.equal(ja4Alpn("http/1.1"), "h1");
  assert.equal(ja4Alpn("h"), "hh");
  assert.equal(ja4Alpn(undefined), "00");
  assert.equal(ja4Alpn(""), "00");
  // Non-alphanumeric first or last byte: first and last hex digit of the value.
  assert.equal(ja4Alpn("\xab"), "ab");
  assert.equal(ja4Alpn("\xab\xcd"), "ad");
  assert.equal(ja4Alpn("\x30\xab"), "3b");
  assert.equal(ja4Alpn("\x30\x31\xab\xcd"), "3d");
  assert.equal(ja4Alpn("\x30\xab\xcd\x31"), "01");
});

Deno.test("ja4VersionCode", () => {
  assert.deepEqual(
    [0x0304, 0x0303, 0x0302, 0x0301, 0x0300, 0x0002, 0xfeff, 0xfefd, 0xfefc, 0x7f17].map(ja4VersionCode),
    ["13", "12", "11", "10", "s3", "s2", "d1", "d2", "d3", "00"],
  );
});

Deno.test("ja3String: GREASE removed from ciphers, extensions and groups; empty fields kept", () => {
  assert.equal(
    ja3String(specHello),
    "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53," +
      "27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0",
  );
  // A ClientHello with one cipher and no extensions (zeek tls_ml-dsa-44-cert.pcap frame 4): tshark's
  // tls.handshake.ja3_full and tls.handshake.ja3.
  const minimal: ClientHelloFields = {
    legacyVersion: 0x0303,
    cipherSuites: [0x002f],
    extensions: [],
    groups: [],
    ecPointFormats: [],
    sigAlgs: [],
    supportedVersions: [],
    alpn: [],
    hasSni: false,
  };
  assert.equal(ja3String(minimal), "771,47,,,");
  assert.equal(md5Hex(ja3String(minimal)), "fde4273625b2ac63bd01d9c500dac91b");
});

Deno.test("ja3sString: tshark's tls.handshake.ja3s for a HelloRetryRequest (zeek tls_hrr.pcap frame 6)", () => {
  assert.equal(ja3sString(0x0303, 0x1302, [43, 51]), "771,4866,43-51");
  assert.equal(md5Hex("771,4866,43-51"), "15af977ce25de452b96affa2addb1036");
  assert.equal(ja3sString(0x0301, 0x0004, []), "769,4,");
});
