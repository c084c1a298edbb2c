import assert from "node:assert/strict";
import { packetSummary } from "./packet_summary.ts";
import { cat, hex, makeFrame } from "./_test_frame.ts";
import { PacketDecoder } from "./packet_decoder.ts";

// 10.0.0.1.40000 > 10.0.0.2.53: DNS query A "a\x1b[31m.example" (a label with an ESC byte)
const ETH = "00005e005302 00005e005301 0800";
const DNS_QUERY = "1234 0100 0001 0000 0000 0000 08 611b5b33316d2e78 07 6578616d706c65 00 0001 0001";
const UDP_LEN = 8 + hex(DNS_QUERY).length;
const IP = `4500 ${(20 + UDP_LEN).toString(16).padStart(4, "0")} 0001 0000 4011 0000 0a000001 0a000002`;
const UDP = `9c40 0035 ${UDP_LEN.toString(16).padStart(4, "0")} 0000`;

Deno.test("packetSummary: one line with the DNS question, control bytes escaped", () => {
  const frame = makeFrame(cat(hex(ETH), hex(IP), hex(UDP), hex(DNS_QUERY)));
  const line = packetSummary(new PacketDecoder().decode(frame));
  assert.match(line, /^1 \d+\.\d+ 10\.0\.0\.1\.40000 > 10\.0\.0\.2\.53: UDP len \d+ DNS query A /);
  assert.ok(!line.includes("\x1b"), line);
  assert.match(line, /a\\(033|x1b)\[31m/); // escaped, by the DNS decoder (as tshark shows names) or by the summary
  assert.equal(line.split("\n").length, 1);
});

Deno.test("packetSummary: an HTTP request line with an escape sequence cannot drive the terminal", () => {
  // 10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], GET /\x1b[2J HTTP/1.1
  const http = new TextEncoder().encode("GET /\x1b[2J HTTP/1.1\r\nHost: a\r\n\r\n");
  const total = 20 + 20 + http.length;
  const ip = `4500 ${total.toString(16).padStart(4, "0")} 0001 4000 4006 0000 0a000001 0a000002`;
  const tcp = "9c40 0050 00000001 00000001 5018 ffff 0000 0000";
  const line = packetSummary(new PacketDecoder().decode(makeFrame(cat(hex(ETH), hex(ip), hex(tcp), http))));
  assert.match(line, /HTTP GET \/\\x1b\[2J/);
  assert.ok(!line.includes("\x1b"), line);
});
