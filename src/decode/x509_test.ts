import assert from "node:assert/strict";
import {
  nameString,
  oidString,
  parseCertificate,
  timeString,
  X509_MAX_SAN,
  X509_MAX_STRING,
} from "./x509.ts";
import { concat, fromHex } from "./_test_app.ts";

/** DER TLV with a definite length (short or long form). */
function tlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const len = n < 128 ? [n] : n < 256 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concat(new Uint8Array([tag, ...len]), content);
}

/** Places `inner` at offset 9 of a buffer with junk on both sides, so offsets are absolute. */
function embed(inner: Uint8Array): { bytes: Uint8Array; off: number; end: number } {
  const bytes = new Uint8Array(inner.length + 20).fill(0x30);
  bytes.set(inner, 9);
  return { bytes, off: 9, end: 9 + inner.length };
}

// A self-signed ECDSA P-256 certificate made for this test with OpenSSL 3.0 (`openssl ca -selfsign
// -startdate 20240131120000Z -enddate 20500101000000Z`). `openssl asn1parse` of the TBSCertificate:
//   [0] version v3; INTEGER 00 c0 ff ee 01 (serial, with its sign-padding byte)
//   issuer = subject = SEQUENCE { SET{CN UTF8String "example.com"}, SET{O UTF8String "Org, Inc."},
//                                 SET{C PrintableString "US"} }
//   validity: UTCTime 240131120000Z, GeneralizedTime 20500101000000Z
//   extensions: subjectAltName DNS:example.com, DNS:www.example.com, IP:192.0.2.1, IP:2001:db8::1,
//               email:a@example.com; basicConstraints; subjectKeyIdentifier
const TEST_CERT_HEX = `
308201df30820185a003020102020500c0ffee01300a06082a8648ce3d04030230373114301206035504030c0b6578616d70
6c652e636f6d31123010060355040a0c094f72672c20496e632e310b30090603550406130255533020170d32343031333131
32303030305a180f32303530303130313030303030305a30373114301206035504030c0b6578616d706c652e636f6d311230
10060355040a0c094f72672c20496e632e310b30090603550406130255533059301306072a8648ce3d020106082a8648ce3d
03010703420004681f931cf48cfd2c6da235ad8df38933f4774b9c72b6e8280722b8ddcad2dc9542528495ef0beded87a0f6
78da046964355a4df91ebca6872023aa40f0c2f34ea37c307a304e0603551d1104473045820b6578616d706c652e636f6d82
0f7777772e6578616d706c652e636f6d8704c0000201871020010db8000000000000000000000001810d61406578616d706c
652e636f6d30090603551d1304023000301d0603551d0e041604141e566ee8b2d0878878cb5a02136fbaab9cc6740c300a06
082a8648ce3d0403020348003045022100ba52c910a6beb1b6b6057d81732e26182c3a7762c53a61f7fc854f538714e58302
203471561998aa1bc4ac70947ccad542c6a8498d1baee12f6f79f6a20ed062df01`;

Deno.test("parseCertificate: subject, issuer, validity, SANs and serial of an OpenSSL certificate", () => {
  const { bytes, off, end } = embed(fromHex(TEST_CERT_HEX));
  const c = parseCertificate(bytes, off, end);
  // RFC 4514: last RDN first, "," inside a value escaped (OpenSSL -nameopt RFC2253 prints the same).
  assert.deepEqual(c, {
    serial: "c0ffee01",
    issuer: "C=US,O=Org\\, Inc.,CN=example.com",
    not_before: "2024-01-31T12:00:00Z",
    not_after: "2050-01-01T00:00:00Z",
    subject: "C=US,O=Org\\, Inc.,CN=example.com",
    san: ["example.com", "www.example.com", "192.0.2.1", "2001:db8::1"],
  });
});

Deno.test("parseCertificate: truncated or damaged input never throws", () => {
  const der = fromHex(TEST_CERT_HEX);
  for (let n = 0; n < der.length; n++) {
    const { bytes, off } = embed(der.subarray(0, n));
    // The outer SEQUENCE no longer fits: not a certificate.
    assert.equal(parseCertificate(bytes, off, off + n), null);
  }
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 3000; i++) {
    const b = der.slice();
    for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] ^= 1 << (rnd() * 8);
    const c = parseCertificate(b, 0, b.length);
    if (c !== null) assert.equal(typeof c, "object");
  }
});

Deno.test("nameString: multi-valued RDN, unknown OID, escaping, caps", () => {
  // SET { SEQUENCE { OID 2.5.4.3, UTF8String " #a+b " }, SEQUENCE { OID 1.2.3.4, INTEGER 5 } },
  // SET { SEQUENCE { OID 2.5.4.10, PrintableString "#O" } }
  const name = fromHex(
    "3119 300d 0603550403 0c06 2023612b6220 3008 06032a0304 020105 310b 3009 060355040a 1302 234f",
  );
  // RFC 4514 section 2.4: leading space or '#', trailing space and '+' escaped; last RDN first.
  assert.equal(nameString(name, 0, name.length), "O=\\#O,CN=\\ #a\\+b\\ +1.2.3.4=#020105");
  // A value longer than the cap is cut.
  const value = new Uint8Array(394).fill(0x61);
  const attr = tlv(0x30, concat(fromHex("0603550403"), tlv(0x0c, value)));
  const long = tlv(0x31, attr);
  const s = nameString(long, 0, long.length)!;
  assert.equal(s.length, X509_MAX_STRING);
  assert.ok(s.startsWith("CN=aaa") && s.endsWith("..."));
  // Broken structure: not a SET.
  assert.equal(nameString(fromHex("3000"), 0, 2), undefined);
});

Deno.test("timeString: UTCTime pivot and GeneralizedTime, malformed rejected", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const t = (tag: number, s: string) => timeString(enc(s), tag, 0, s.length);
  assert.equal(t(0x17, "491231235959Z"), "2049-12-31T23:59:59Z");
  assert.equal(t(0x17, "500101000000Z"), "1950-01-01T00:00:00Z");
  assert.equal(t(0x18, "20500101000000.123Z"), "2050-01-01T00:00:00Z");
  assert.equal(t(0x17, "2413011200Z"), undefined);
  assert.equal(t(0x17, "24x301120000Z"), undefined);
  assert.equal(t(0x04, "240101000000Z"), undefined);
});

Deno.test("oidString", () => {
  assert.equal(oidString(fromHex("2a864886f70d010901"), 0, 9), "1.2.840.113549.1.9.1");
  assert.equal(oidString(fromHex("551d11"), 0, 3), "2.5.29.17");
  assert.equal(oidString(fromHex("8837"), 0, 2), "2.999");
});

Deno.test("parseCertificate: SAN list is capped at X509_MAX_SAN", () => {
  // Rebuild the test certificate's TBS with a subjectAltName of 40 dNSNames.
  const der = fromHex(TEST_CERT_HEX);
  const names: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) names.push(tlv(0x82, new TextEncoder().encode("h" + i + ".example")));
  const san = tlv(0x30, concat(fromHex("0603551d11"), tlv(0x04, tlv(0x30, concat(...names)))));
  // TBS fields up to subjectPublicKeyInfo are bytes [8, 4 + 4 + 180 + 91) of the certificate.
  const head = der.subarray(8, 180 + 91);
  const tbs = tlv(0x30, concat(head, tlv(0xa3, tlv(0x30, san))));
  const cert = tlv(0x30, concat(tbs, fromHex("300a06082a8648ce3d040302"), fromHex("030100")));
  const c = parseCertificate(cert, 0, cert.length)!;
  assert.equal(c.subject, "C=US,O=Org\\, Inc.,CN=example.com");
  assert.equal(c.san!.length, X509_MAX_SAN);
  assert.equal(c.san![X509_MAX_SAN - 1], "h31.example");
});
