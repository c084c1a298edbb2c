import assert from "node:assert/strict";
import { type AppHint, IssueList } from "./app.ts";
import {
  decodeHttp,
  HTTP_MAX_HEADERS,
  HTTP_MAX_VALUE,
  httpProtocol,
  type HttpRecord,
  sniffHttp,
} from "./http.ts";
import { hex } from "./_test_frame.ts";

const TCP80: AppHint = { transport: "tcp", srcPort: 51234, dstPort: 80 };
const enc = new TextEncoder();

/** `payload` placed at a non-zero offset with junk on both sides, as a decoder sees it inside a chunk. */
function place(
  payload: Uint8Array | string,
  pre = 13,
  post = 17,
): { bytes: Uint8Array; off: number; end: number } {
  const p = typeof payload === "string" ? enc.encode(payload) : payload;
  const bytes = new Uint8Array(pre + p.length + post);
  bytes.fill(0x41, 0, pre); // "AAAA..." before: must not be read
  bytes.set(p, pre);
  // After `end`: more header-like text that would change the result if it were read.
  bytes.fill(0x3a, pre + p.length);
  return { bytes, off: pre, end: pre + p.length };
}

function decode(payload: Uint8Array | string, hint = TCP80): { rec: HttpRecord | null; issues: IssueList } {
  const { bytes, off, end } = place(payload);
  const issues = new IssueList();
  const rec = decodeHttp(bytes, new DataView(bytes.buffer), off, end, issues, hint);
  return { rec, issues };
}

function sniff(payload: string, hint = TCP80): boolean {
  const { bytes, off, end } = place(payload);
  return sniffHttp(bytes, off, end, hint);
}

// zeek/http_get.pcap frame 4, 141.142.228.5.59856 > 192.150.187.43.80, 136 bytes of TCP payload:
//   GET /download/CHANGES.bro-aux.txt HTTP/1.1\r\n
//   User-Agent: Wget/1.14 (darwin12.2.0)\r\n
//   Accept: */*\r\n
//   Host: bro.org\r\n
//   Connection: Keep-Alive\r\n
//   \r\n
const WGET_GET = hex(`
  474554202f646f776e6c6f61642f4348414e4745532e62726f2d6175782e74787420485454502f312e310d0a
  557365722d4167656e743a20576765742f312e3134202864617277696e31322e322e30290d0a
  4163636570743a202a2f2a0d0a486f73743a2062726f2e6f72670d0a
  436f6e6e656374696f6e3a204b6565702d416c6976650d0a0d0a`);

Deno.test("http: request head from a real capture", () => {
  const { rec, issues } = decode(WGET_GET);
  assert.deepEqual(rec, {
    method: "GET",
    uri: "/download/CHANGES.bro-aux.txt",
    version: "HTTP/1.1",
    host: "bro.org",
    user_agent: "Wget/1.14 (darwin12.2.0)",
    headers: [
      ["User-Agent", "Wget/1.14 (darwin12.2.0)"],
      ["Accept", "*/*"],
      ["Host", "bro.org"],
      ["Connection", "Keep-Alive"],
    ],
    body_len: 0,
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("http: response head with a body in the same segment", () => {
  // 80 > 51234: HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\ncontent-length: 5\r\n\r\nnope!
  const { rec, issues } = decode(
    "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\ncontent-length: 5\r\n\r\nnope!",
  );
  assert.deepEqual(rec, {
    version: "HTTP/1.1",
    status: 404,
    reason: "Not Found",
    content_type: "text/html",
    content_length: 5,
    headers: [["Content-Type", "text/html"], ["content-length", "5"]],
    body_len: 5,
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("http: bare LF line ends, trimmed values, folded value", () => {
  // Some clients end lines with LF only; obs-fold continues a value on the next line.
  const { rec } = decode("POST /x HTTP/1.0\nHost:   a.example  \nX-Long: one\n  two\n\n");
  assert.equal(rec?.host, "a.example");
  assert.deepEqual(rec?.headers, [["Host", "a.example"], ["X-Long", "one two"]]);
  assert.equal(rec?.body_len, 0);
});

Deno.test("http: start lines that Wireshark also accepts", () => {
  // HTTP/0.9 simple request: no version, no head to finish, so no truncation issue.
  let r = decode("GET /zeek.html\n");
  assert.deepEqual(r.rec, { method: "GET", uri: "/zeek.html", headers: [] });
  assert.deepEqual(r.issues.items, []);
  // Method alone on its line.
  r = decode("OPTIONS\nHost: www.google.com\n\n");
  assert.equal(r.rec?.method, "OPTIONS");
  assert.equal(r.rec?.uri, undefined);
  assert.equal(r.rec?.host, "www.google.com");
  // The target is one token: what follows the next space is the version (Wireshark agrees).
  r = decode("GET HTTP/1.1\r\nHost: bro.org\r\n\r\n");
  assert.equal(r.rec?.uri, "HTTP/1.1");
  assert.equal(r.rec?.version, undefined);
  // Shoutcast.
  r = decode("ICY 200 OK\r\nicy-name: radio\r\n\r\n");
  assert.equal(r.rec?.status, 200);
  assert.equal(r.rec?.version, "ICY");
});

Deno.test("http: not a start line", () => {
  // Body data, lower-case method, unknown method, method glued to the target.
  for (
    const s of ["<html>\n", "get / HTTP/1.1\r\n\r\n", "FOO / HTTP/1.1\r\n\r\n", "OPTIONSHTTP/1.1\n\n", ""]
  ) {
    assert.equal(decode(s).rec, null, JSON.stringify(s));
  }
  // A lower-case status line is not one either (Wireshark's test is case-sensitive too).
  assert.equal(decode("http/1.1 200 OK\r\n\r\n").rec, null);
});

Deno.test("http: the tail of a head begun in an earlier segment", () => {
  // zeek/http-11-request-then-cruft.pcap frame 6: the request line came in frame 4.
  const { rec, issues } = decode("Host: zeek.org\n\n");
  assert.deepEqual(rec, {
    headers: [["Host", "zeek.org"]],
    host: "zeek.org",
    continuation: true,
    body_len: 0,
  });
  assert.deepEqual(issues.items, []);
  // Body text whose first line has a colon but whose next line is not a field: body, not head.
  assert.equal(decode("note: this is text\nand more text\n").rec, null);
});

Deno.test("http: head cut off by the end of the segment", () => {
  // GET /a HTTP/1.1\r\nHost: ex|  (the segment ends inside the Host value)
  let r = decode("GET /a HTTP/1.1\r\nHost: ex");
  assert.equal(r.rec?.method, "GET");
  assert.equal(r.rec?.host, "ex");
  assert.equal(r.rec?.body_len, undefined);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_truncated_head"]);
  // Cut before the colon: that field is not reported.
  r = decode("GET /a HTTP/1.1\r\nHost: ex.org\r\nUser-Ag");
  assert.deepEqual(r.rec?.headers, [["Host", "ex.org"]]);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_truncated_head"]);
  // Cut inside the request line.
  r = decode("GET /very/long/pa");
  assert.equal(r.rec?.uri, "/very/long/pa");
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_truncated_head"]);
  // Offsets are absolute: the issue points at `end`.
  const { bytes, off, end } = place("HTTP/1.1 200 OK\r\n");
  const issues = new IssueList();
  decodeHttp(bytes, new DataView(bytes.buffer), off, end, issues, TCP80);
  assert.deepEqual(issues.items, [{ code: "http_truncated_head", offset: end }]);
});

Deno.test("http: bad lines and lengths are reported, decoding goes on", () => {
  let r = decode("CONNECT a:25 / HTTP/1.0\r\nMozilla 4.0 (compatible)\r\nHost: x\r\n\r\n");
  assert.equal(r.rec?.method, "CONNECT");
  assert.equal(r.rec?.host, undefined); // nothing after a bad line is trusted
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_bad_header"]);
  r = decode("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n");
  assert.equal(r.rec?.content_length, undefined);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_bad_content_length"]);
  r = decode("POST / HTTP/1.1\r\nContent-Length: 0000000000000000000050\r\nContent-Length: 7\r\n\r\n");
  assert.equal(r.rec?.content_length, 50);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_conflicting_content_length"]);
  r = decode("HTTP/1.1 2x0 Odd\r\n\r\n");
  assert.equal(r.rec?.status, undefined);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["http_bad_status"]);
});

Deno.test("http: header count and value length are capped", () => {
  let s = "GET / HTTP/1.1\r\n";
  for (let i = 0; i < HTTP_MAX_HEADERS + 6; i++) s += `X-${i}: v\r\n`;
  s += "Host: late.example\r\nX-Big: " + "z".repeat(5000) + "\r\n\r\n";
  const { rec } = decode(s);
  assert.equal(rec?.headers.length, HTTP_MAX_HEADERS);
  assert.equal(rec?.headers_truncated, true);
  assert.equal(rec?.host, "late.example"); // still found past the cap
  const cut = decode("GET / HTTP/1.1\r\nCookie: " + "c".repeat(3000) + "\r\n\r\n").rec;
  assert.equal(cut?.headers[0][1].length, HTTP_MAX_VALUE);
  assert.equal(cut?.headers_truncated, true);
  const long = decode("GET /" + "u".repeat(10000) + " HTTP/1.1\r\n\r\n").rec;
  assert.equal(long?.uri_truncated, true);
  assert.equal(long?.version, "HTTP/1.1");
});

Deno.test("http: sniffer", () => {
  assert.ok(sniff("GET / HTTP/1.1\r\n"));
  assert.ok(sniff("PROPFIND /dav HTTP/1.1\r\n"));
  assert.ok(sniff("HTTP/1.0 200 OK\r\n"));
  assert.ok(sniff("BASELINE-CONTROL /x HTTP/1.1\r\n"));
  assert.ok(!sniff("HTTP/2 200\r\n"));
  assert.ok(!sniff("GETS / HTTP/1.1\r\n"));
  assert.ok(!sniff("get / HTTP/1.1\r\n"));
  assert.ok(!sniff("GET\r\n"));
  assert.ok(!sniff("\x16\x03\x01\x02\x00"));
  // SIP and RTSP share method names; their request targets give them away.
  assert.ok(!sniff("OPTIONS sip:bob@example.com SIP/2.0\r\n"));
  assert.ok(!sniff("NOTIFY sips:bob@example.com SIP/2.0\r\n"));
  assert.ok(!sniff("OPTIONS rtsp://cam/stream RTSP/1.0\r\n"));
  // Request-target forms (RFC 9112 section 3.2) keep other line protocols out.
  assert.ok(sniff("CONNECT example.com:443 HTTP/1.1\r\n"));
  assert.ok(sniff("GET http://example.com/ HTTP/1.1\r\n"));
  assert.ok(sniff("OPTIONS * HTTP/1.1\r\n"));
  assert.ok(!sniff("CONNECT ircd2.local\r\n")); // IRC (zeek/irc-more-commands.pcap)
  assert.ok(!sniff("HEAD <123@news.example>\r\n")); // NNTP
  assert.ok(!sniff("TRACE :server\r\n"));
  assert.ok(!sniff("GET / HTTP/1.1\r\n", { transport: "udp", srcPort: 1, dstPort: 80 }));
  // Never reads past `end`: "GE" then junk "T " after end must not match.
  const b = enc.encode("xxGET / HTTP/1.1");
  assert.ok(!sniffHttp(b, 2, 4, TCP80));
  assert.equal(httpProtocol.name, "http");
  assert.deepEqual(httpProtocol.ports.tcp, [80, 8080, 8000, 8008, 8888, 3128, 7080]);
});

/** xorshift32: a small deterministic PRNG so a failing fuzz case can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

Deno.test("http: seeded fuzz never throws", () => {
  const seeds = [
    WGET_GET,
    enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX: a\r\n b\r\n\r\nabc"),
    enc.encode("Host: zeek.org\nX-A: 1\n\n"),
    enc.encode("GET /zeek.html\n"),
  ];
  const next = rng(0x5eed);
  for (let iter = 0; iter < 4000; iter++) {
    const base = seeds[iter % seeds.length];
    const p = base.slice(0, next() % (base.length + 1));
    const flips = next() % 6;
    for (let k = 0; k < flips && p.length > 0; k++) {
      const i = next() % p.length;
      p[i] = next() % 4 === 0 ? [0x0a, 0x0d, 0x3a, 0x20][next() % 4] : p[i] ^ (1 << (next() % 8));
    }
    const pre = next() % 5;
    const bytes = new Uint8Array(pre + p.length + 3);
    bytes.set(p, pre);
    const view = new DataView(bytes.buffer);
    const hint = TCP80;
    httpProtocol.sniff!(bytes, pre, pre + p.length, hint);
    const rec = decodeHttp(bytes, view, pre, pre + p.length, new IssueList(), hint);
    if (rec) JSON.stringify(rec);
  }
});

// --- Agreement with tshark over a few corpus captures (skipped when either is missing). ---

const CORPUS = "/work/shared/pcaps/corpus/zeek";
const CAPTURES = [
  "http_get.pcap",
  "http_methods.pcap",
  "http_http-11-request-then-cruft.pcap",
  "http_no-uri.pcap",
  "http_http_09.pcap",
  "http_pipelined-requests.pcap",
];

function toolPath(name: string): string | null {
  try {
    for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
      try {
        if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
      } catch { /* not here */ }
    }
  } catch { /* no env permission */ }
  return null;
}

function corpusReady(): boolean {
  try {
    return Deno.statSync(CORPUS).isDirectory && toolPath("tshark") !== null;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "http: agrees with tshark on method, uri, host and status (corpus; skipped without tshark or the corpus)",
  ignore: !corpusReady(),
  fn() {
    let compared = 0;
    for (const file of CAPTURES) {
      const out = new Deno.Command(toolPath("tshark")!, {
        args: [
          "-r",
          `${CORPUS}/${file}`,
          "-o",
          "tcp.desegment_tcp_streams:FALSE",
          "-o",
          "tcp.analyze_sequence_numbers:FALSE",
          "-Y",
          "tcp.len>0",
          "-T",
          "json",
          "-e",
          "tcp.srcport",
          "-e",
          "tcp.dstport",
          "-e",
          "http.request.method",
          "-e",
          "http.request.uri",
          "-e",
          "http.host",
          "-e",
          "http.response.code",
          "-e",
          "tcp.payload",
        ],
        stdout: "piped",
        stderr: "null",
      }).outputSync();
      const frames = JSON.parse(new TextDecoder().decode(out.stdout)) as {
        _source: { layers: Record<string, string[]> };
      }[];
      for (const f of frames) {
        const l = f._source.layers;
        if (!l["tcp.payload"]) continue;
        const hint: AppHint = {
          transport: "tcp",
          srcPort: +l["tcp.srcport"][0],
          dstPort: +l["tcp.dstport"][0],
        };
        const { rec } = decode(hex(l["tcp.payload"][0]), hint);
        const ours = {
          method: rec?.method,
          uri: rec?.method !== undefined ? rec.uri ?? "" : undefined,
          host: rec?.host,
          status: rec?.status?.toString(),
        };
        const theirs = {
          method: l["http.request.method"]?.[0],
          uri: l["http.request.uri"]?.[0],
          host: l["http.host"]?.[0],
          status: l["http.response.code"]?.[0],
        };
        assert.deepEqual(ours, theirs, `${file}: ${l["tcp.payload"][0].slice(0, 80)}`);
        compared++;
      }
    }
    assert.ok(compared > 100, `only ${compared} segments compared`);
  },
});
