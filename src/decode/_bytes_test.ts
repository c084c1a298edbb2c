import assert from "node:assert/strict";
import { ipv4String, ipv6String, macString, toHex } from "./_bytes.ts";

Deno.test("ipv6String writes RFC 5952 text", () => {
  const cases: [number[], string][] = [
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "::"],
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8::1"],
    // a single zero word is not compressed (RFC 5952 4.2.2)
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], "2001:db8:0:1:1:1:1:1"],
    // the longest run wins; on a tie the first (4.2.3)
    [[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1], "2001:db8::1:0:0:1"],
    [[0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], "2001:0:0:1::"],
    [
      [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55],
      "fe80::211:22ff:fe33:4455",
    ],
    [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1], "::ffff:10.0.0.1"],
    [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "100::"],
  ];
  for (const [bytes, text] of cases) {
    // at a non-zero offset, with junk around
    const buf = Uint8Array.from([0xee, 0xee, ...bytes, 0xee]);
    assert.equal(ipv6String(buf, 2), text);
  }
});

Deno.test("ipv4String, macString and toHex", () => {
  const b = Uint8Array.from([9, 192, 168, 1, 254, 0x00, 0x1b, 0x2c, 0xaa, 0xbb, 0xff]);
  assert.equal(ipv4String(b, 1), "192.168.1.254");
  assert.equal(macString(b, 5), "00:1b:2c:aa:bb:ff");
  assert.equal(toHex(b, 5, 11), "001b2caabbff");
  assert.equal(toHex(b, 5, 11, 2), "001b");
});

Deno.test("utf8Text decodes ASCII and UTF-8, short and long, replacing invalid bytes", async () => {
  const { utf8Text } = await import("./_bytes.ts");
  const enc = new TextEncoder();
  for (const text of ["Host", "caf\u00e9 \u2603", "x".repeat(200), "\u00fc".repeat(100)]) {
    const b = Uint8Array.from([0xff, ...enc.encode(text), 0xff]);
    assert.equal(utf8Text(b, 1, b.length - 1), text);
  }
  assert.equal(utf8Text(Uint8Array.from([0x61, 0xff, 0x62]), 0, 3), "a\ufffdb");
});
