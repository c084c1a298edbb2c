import assert from "node:assert/strict";
import { type AppHint, IssueList } from "./app.ts";
import { decodeSip, SIP_MAX_VIA, sipProtocol, type SipRecord, sniffSip } from "./sip.ts";
import { hex } from "./_test_frame.ts";

const UDP: AppHint = { transport: "udp", srcPort: 5060, dstPort: 5060 };
const TCP: AppHint = { transport: "tcp", srcPort: 40000, dstPort: 5060 };
const enc = new TextEncoder();

/** `text` placed at a non-zero offset with header-like junk after `end`. */
function place(text: string | Uint8Array): { bytes: Uint8Array; off: number; end: number } {
  const p = typeof text === "string" ? enc.encode(text) : text;
  const junk = enc.encode("\r\nCall-ID: junk\r\n\r\n");
  const bytes = new Uint8Array(9 + p.length + junk.length);
  bytes.fill(0x53, 0, 9);
  bytes.set(p, 9);
  bytes.set(junk, 9 + p.length);
  return { bytes, off: 9, end: 9 + p.length };
}

function decode(text: string | Uint8Array, hint = UDP): { rec: SipRecord | null; issues: IssueList } {
  const { bytes, off, end } = place(text);
  const issues = new IssueList();
  return { rec: decodeSip(bytes, new DataView(bytes.buffer), off, end, issues, hint), issues };
}

function sniff(text: string, hint = UDP): boolean {
  const { bytes, off, end } = place(text);
  return sniffSip(bytes, off, end, hint);
}

// zeek/sip_wireshark.pcap frame 1, UDP 5060 > 5060 (REGISTER, header order as sent):
const REGISTER = "REGISTER sip:sip.cybercity.dk SIP/2.0\r\n" +
  "Via: SIP/2.0/UDP 192.168.1.2;branch=z9hG4bKnp151248737-46ea715e192.168.1.2;rport\r\n" +
  "From: <sip:voi18063@sip.cybercity.dk>;tag=903df0a\r\n" +
  "To: <sip:voi18063@sip.cybercity.dk>\r\n" +
  "Call-ID: 578222729-4665d775@578222732-4665d772\r\n" +
  "Contact:  <sip:voi18063@192.168.1.2:5060;line=9c7d2dbd8822013c>;expires=1200;q=0.500\r\n" +
  "CSeq: 68 REGISTER\r\n" +
  "Expires: 60\r\n" +
  "Date: Thu, 24 Aug 2006 08:42:56 GMT\r\n" +
  "Max-Forwards: 70\r\n" +
  "User-Agent: Nero SIPPS IP Phone Version 2.0.51.16\r\n" +
  "Allow: INVITE, ACK, CANCEL, BYE, REFER, OPTIONS, NOTIFY, INFO\r\n" +
  "Content-Length: 0\r\n\r\n";

Deno.test("sip: request from a real capture", () => {
  const { rec, issues } = decode(REGISTER);
  assert.deepEqual(rec, {
    method: "REGISTER",
    uri: "sip:sip.cybercity.dk",
    version: "SIP/2.0",
    via: ["SIP/2.0/UDP 192.168.1.2;branch=z9hG4bKnp151248737-46ea715e192.168.1.2;rport"],
    from: "<sip:voi18063@sip.cybercity.dk>;tag=903df0a",
    to: "<sip:voi18063@sip.cybercity.dk>",
    call_id: "578222729-4665d775@578222732-4665d772",
    contact: "<sip:voi18063@192.168.1.2:5060;line=9c7d2dbd8822013c>;expires=1200;q=0.500",
    cseq: "68 REGISTER",
    user_agent: "Nero SIPPS IP Phone Version 2.0.51.16",
    content_length: 0,
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("sip: compact header forms and multi-value Via (RFC 3261 section 7.3.3)", () => {
  const msg = "INVITE sip:bob@biloxi.com SIP/2.0\r\n" +
    "v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds , SIP/2.0/TCP p2.example;branch=z9hG4bK2\r\n" +
    'Via : SIP/2.0/UDP p3.example;branch=z9hG4bK3;x="a,b"\r\n' +
    "f: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n" +
    "t: Bob <sip:bob@biloxi.com>\r\n" +
    "i: a84b4c76e66710@pc33.atlanta.com\r\n" +
    "CSeq: 314159 INVITE\r\n" +
    "m: <sip:alice@pc33.atlanta.com>\r\n" +
    "c: application/sdp\r\n" +
    "l: 4\r\n\r\nv=0\n";
  const { rec, issues } = decode(msg);
  assert.deepEqual(rec, {
    method: "INVITE",
    uri: "sip:bob@biloxi.com",
    version: "SIP/2.0",
    via: [
      "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds",
      "SIP/2.0/TCP p2.example;branch=z9hG4bK2",
      'SIP/2.0/UDP p3.example;branch=z9hG4bK3;x="a,b"',
    ],
    from: "Alice <sip:alice@atlanta.com>;tag=1928301774",
    to: "Bob <sip:bob@biloxi.com>",
    call_id: "a84b4c76e66710@pc33.atlanta.com",
    cseq: "314159 INVITE",
    contact: "<sip:alice@pc33.atlanta.com>",
    content_type: "application/sdp",
    content_length: 4,
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("sip: response", () => {
  const { rec } = decode(
    "SIP/2.0 401 Unauthorized\r\nCall-ID: 1@h\r\nCSeq: 68 REGISTER\r\nVia: SIP/2.0/UDP 192.168.1.2\r\nl: 0\r\n\r\n",
  );
  assert.deepEqual(rec, {
    version: "SIP/2.0",
    status: 401,
    reason: "Unauthorized",
    call_id: "1@h",
    cseq: "68 REGISTER",
    via: ["SIP/2.0/UDP 192.168.1.2"],
    content_length: 0,
  });
});

Deno.test("sip: anomalies", () => {
  // zeek/sip_invalid-content-length.pcap: Wireshark shows 0; we omit it and say why.
  let r = decode("INVITE sip:bob@10.0.0.2 SIP/2.0\r\nContent-Length: bad\r\n\r\n");
  assert.equal(r.rec?.content_length, undefined);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_bad_content_length"]);
  // A UDP datagram shorter than its Content-Length.
  r = decode("SIP/2.0 200 OK\r\nl: 100\r\n\r\nv=0\r\n");
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_body_truncated"]);
  // Over TCP the body may simply continue in the next segment.
  r = decode("SIP/2.0 200 OK\r\nl: 100\r\n\r\nv=0\r\n", TCP);
  assert.deepEqual(r.issues.items, []);
  // Head cut off, and a start line cut off.
  r = decode("SIP/2.0 180 Ringing\r\nCall-ID: x@y\r\n", TCP);
  assert.equal(r.rec?.call_id, "x@y");
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_truncated_head"]);
  r = decode("INVITE sip:bob@exa", TCP);
  assert.equal(r.rec?.uri, "sip:bob@exa");
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_truncated_head"]);
  r = decode("SIP/2.0 2000 OK\r\n\r\n");
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_bad_status"]);
  r = decode("BYE sip:a@b SIP/2.0\r\nthis is not a header\r\nCall-ID: later\r\n\r\n");
  assert.equal(r.rec?.call_id, undefined);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_bad_header"]);
  let many = "OPTIONS sip:a@b SIP/2.0\r\n";
  for (let i = 0; i < SIP_MAX_VIA + 3; i++) many += `Via: SIP/2.0/UDP h${i}\r\n`;
  r = decode(many + "\r\n");
  assert.equal(r.rec?.via?.length, SIP_MAX_VIA);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["sip_via_truncated"]);
});

Deno.test("sip: not SIP", () => {
  for (
    const s of [
      "\r\n\r\n",
      "\x00\x00\x00\x00",
      "GET / HTTP/1.1\r\n\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
      "INVITE bob SIP/2.0\r\n",
    ]
  ) {
    assert.equal(decode(s).rec, null, JSON.stringify(s));
  }
});

Deno.test("sip: sniffer", () => {
  assert.ok(sniff("SIP/2.0 200 OK\r\n"));
  assert.ok(sniff("INVITE sip:bob@biloxi.com SIP/2.0\r\n"));
  assert.ok(sniff("MESSAGE sips:bob@biloxi.com SIP/2.0\r\n", TCP));
  assert.ok(sniff("INVITE tel:+15551234 SIP/2.0\r\n"));
  assert.ok(!sniff("OPTIONS * HTTP/1.1\r\n"));
  assert.ok(!sniff("SIP/2.0"));
  assert.ok(!sniff("invite sip:bob@biloxi.com SIP/2.0\r\n"));
  assert.ok(!sniff("REGISTERREGISTERREGISTER sip:x\r\n"));
  assert.equal(sipProtocol.name, "sip");
  assert.deepEqual(sipProtocol.ports, { udp: [5060], tcp: [5060] });
});

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

Deno.test("sip: seeded fuzz never throws", () => {
  const seeds = [
    enc.encode(REGISTER),
    enc.encode('SIP/2.0 200 OK\r\nv: a , b;x="q\\"," ,c\r\n l\r\ni: z\r\nl: 3\r\n\r\nabc'),
  ];
  const next = rng(0xc0ffee);
  for (let iter = 0; iter < 4000; iter++) {
    const base = seeds[iter % seeds.length];
    const p = base.slice(0, next() % (base.length + 1));
    for (let k = next() % 6; k > 0 && p.length > 0; k--) {
      const i = next() % p.length;
      p[i] = next() % 3 === 0 ? [0x0a, 0x0d, 0x3a, 0x2c, 0x22, 0x5c][next() % 6] : p[i] ^ (1 << (next() % 8));
    }
    const bytes = new Uint8Array(p.length + 6);
    bytes.set(p, 3);
    const hint = iter & 1 ? UDP : TCP;
    sipProtocol.sniff!(bytes, 3, 3 + p.length, hint);
    const rec = decodeSip(bytes, new DataView(bytes.buffer), 3, 3 + p.length, new IssueList(), hint);
    if (rec) JSON.stringify(rec);
  }
});

// --- Agreement with tshark over the SIP corpus capture (skipped when either is missing). ---

const CAPTURE = "/work/shared/pcaps/corpus/zeek/sip_wireshark.pcap";

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
    return Deno.statSync(CAPTURE).isFile && toolPath("tshark") !== null;
  } catch {
    return false;
  }
}

Deno.test({
  name: "sip: agrees with tshark field for field (corpus; skipped without tshark or the corpus)",
  ignore: !corpusReady(),
  fn() {
    const fields = [
      "sip.Method",
      "sip.r-uri",
      "sip.Status-Code",
      "sip.Call-ID",
      "sip.From",
      "sip.To",
      "sip.CSeq",
    ];
    const out = new Deno.Command(toolPath("tshark")!, {
      args: [
        "-r",
        CAPTURE,
        "-Y",
        "sip",
        "-T",
        "json",
        ...fields.flatMap((f) => ["-e", f]),
        "-e",
        "sip.Via",
        "-e",
        "udp.payload",
      ],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    const frames = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      _source: { layers: Record<string, string[]> };
    }[];
    for (const f of frames) {
      const l = f._source.layers;
      const { rec } = decode(hex(l["udp.payload"][0]));
      const ours = [
        rec?.method,
        rec?.uri,
        rec?.status?.toString(),
        rec?.call_id,
        rec?.from,
        rec?.to,
        rec?.cseq,
      ];
      assert.deepEqual(ours, fields.map((k) => l[k]?.[0]));
      assert.deepEqual(rec?.via, l["sip.Via"]);
    }
    assert.ok(frames.length > 50);
  },
});
