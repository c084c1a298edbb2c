import assert from "node:assert/strict";
import { hexdump } from "./hexdump.ts";

Deno.test("hexdump: 16 bytes a line with offsets and printable ASCII", () => {
  const bytes = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n");
  const d = hexdump(bytes);
  assert.equal(
    d.text,
    "0000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..\n" +
      "0010  48 6f 73 74 3a 20 61 0d  0a                       Host: a..\n",
  );
  assert.equal(d.shown, 25);
  assert.equal(d.total, 25);
  assert.equal(d.omitted, undefined);
});

Deno.test("hexdump: a range inside a larger buffer, offsets from its start", () => {
  const buf = new Uint8Array(64).fill(0xa5);
  buf.set([0x00, 0x7f, 0x41], 10);
  const d = hexdump(buf, 10, 13);
  assert.equal(d.text, "0000  00 7f 41                                          ..A\n");
});

Deno.test("hexdump: capped, with a note of what was left out", () => {
  const d = hexdump(new Uint8Array(100), 0, 100, { maxBytes: 40 });
  assert.equal(d.shown, 40);
  assert.equal(d.omitted, 60);
  const lines = d.text.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  assert.ok(lines[2].startsWith("0020  00 00 00 00 00 00 00 00  "));
  assert.equal(lines[3], "... 60 more bytes not shown (40 of 100)");
});

Deno.test("hexdump: bad ranges are RangeErrors", () => {
  assert.throws(() => hexdump(new Uint8Array(4), 2, 8), RangeError);
  assert.throws(() => hexdump(new Uint8Array(4), 0, 4, { maxBytes: -1 }), RangeError);
  assert.equal(hexdump(new Uint8Array(0)).text, "");
});
