import assert from "node:assert/strict";
import { type AppHint, IssueList } from "./app.ts";
import { decodeSsh, sniffSsh, SSH_MAX_BANNER, sshProtocol, type SshRecord } from "./ssh.ts";
import { hex } from "./_test_frame.ts";

const TCP22: AppHint = { transport: "tcp", srcPort: 62146, dstPort: 22 };
const enc = new TextEncoder();

/** `payload` at a non-zero offset, followed by bytes that would look like a packet if they were read. */
function place(payload: Uint8Array | string): { bytes: Uint8Array; off: number; end: number } {
  const p = typeof payload === "string" ? enc.encode(payload) : payload;
  const after = hex("0000000c0a15 00000000000000000000");
  const bytes = new Uint8Array(5 + p.length + after.length);
  bytes.fill(0x53, 0, 5);
  bytes.set(p, 5);
  bytes.set(after, 5 + p.length);
  return { bytes, off: 5, end: 5 + p.length };
}

function decode(payload: Uint8Array | string, hint = TCP22): { rec: SshRecord | null; issues: IssueList } {
  const { bytes, off, end } = place(payload);
  const issues = new IssueList();
  return { rec: decodeSsh(bytes, new DataView(bytes.buffer), off, end, issues, hint), issues };
}

Deno.test("ssh: identification strings (RFC 4253 section 4.2)", () => {
  // tcpdump/ssh.pcap frame 4: "SSH-2.0-OpenSSH_7.8\r\n"
  let r = decode("SSH-2.0-OpenSSH_7.8\r\n");
  assert.deepEqual(r.rec, { banner: "SSH-2.0-OpenSSH_7.8", proto_version: "2.0", software: "OpenSSH_7.8" });
  assert.deepEqual(r.issues.items, []);
  // tcpdump/ssh.pcap frame 6: bare LF and a comment.
  r = decode("SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3\n");
  assert.deepEqual(r.rec, {
    banner: "SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3",
    proto_version: "2.0",
    software: "OpenSSH_7.4p1",
    comments: "Debian-10+deb9u3",
  });
  // A server that also speaks SSH-1; a software version with dashes of its own.
  r = decode("SSH-1.99-Cisco-1.25\n");
  assert.deepEqual(r.rec, { banner: "SSH-1.99-Cisco-1.25", proto_version: "1.99", software: "Cisco-1.25" });
});

Deno.test("ssh: banner and KEXINIT in one segment", () => {
  // zeek/ssh_reverse-ssh.pcap frame 6 (start):
  //   SSH-2.0-dropbear_2018.76\r\n
  //   000001f4 packet_length 500, 07 padding_length, 14 SSH_MSG_KEXINIT, cookie...
  const { rec } = decode(hex(`5353482d322e302d64726f70626561725f323031382e37360d0a
    000001f407142f933ff879caa531`));
  assert.deepEqual(rec, {
    banner: "SSH-2.0-dropbear_2018.76",
    proto_version: "2.0",
    software: "dropbear_2018.76",
    message_code: 20,
    packet_len: 500,
  });
});

Deno.test("ssh: cleartext binary packet headers (RFC 4253 section 6)", () => {
  // tcpdump/ssh.pcap frame 8: 0000056c packet_length 1388, 04 padding, 14 KEXINIT, cookie ab01f5e1...
  let r = decode(hex("0000056c0414ab01f5e12a4b20b630b0d383ba6dff71"));
  assert.deepEqual(r.rec, { message_code: 20, packet_len: 1388 });
  // NEWKEYS: 0000000c packet_length 12, 0a padding 10, 15 NEWKEYS, 10 padding bytes.
  r = decode(hex("0000000c0a15 00000000000000000000"));
  assert.deepEqual(r.rec, { message_code: 21, packet_len: 12 });
  // Only the 6-byte header is needed.
  assert.deepEqual(decode(hex("0000011c0a1e")).rec, { message_code: 30, packet_len: 284 });
});

Deno.test("ssh: what is not taken for a packet", () => {
  const cases: [string, Uint8Array | string][] = [
    // AES-GCM / EtM: length in clear but a multiple of 16 (not of 8 with itself), then ciphertext.
    ["aead length", hex("00000020 04 14 8a9b")],
    // zeek/ssh_ssh.pcap frame 170: an SSH-1 packet (length 276, then 4 padding bytes, type 3).
    ["ssh-1 packet", hex("0000011400000000030303119b4e685d")],
    // zeek/ssh_server-pre-banner-data.pcap frame 6: text a server sent before its banner.
    ["pre-banner text", " _____________\n< Hi stranger >\n"],
    ["padding too short", hex("0000000c0315000000")],
    ["encrypted message code", hex("0000000c0a5e00000000")],
    ["too long", hex("7fff fffc 04 14")],
    ["header cut", hex("0000056c04")],
    ["empty", ""],
  ];
  for (const [why, p] of cases) assert.equal(decode(p).rec, null, why);
});

Deno.test("ssh: banner anomalies", () => {
  let r = decode("SSH-2.0-OpenSS");
  assert.equal(r.rec?.software, "OpenSS");
  assert.deepEqual(r.issues.items.map((i) => i.code), ["ssh_truncated_banner"]);
  r = decode("SSH-2.0-" + "x".repeat(400) + "\r\n");
  assert.equal(r.rec?.banner?.length, SSH_MAX_BANNER);
  assert.deepEqual(r.issues.items.map((i) => i.code), ["ssh_long_banner"]);
  r = decode("SSH-garbage\r\n");
  assert.deepEqual(r.rec, { banner: "SSH-garbage", proto_version: "garbage" });
  assert.deepEqual(r.issues.items.map((i) => i.code), ["ssh_bad_banner"]);
  const { bytes, off, end } = place("SSH-2.0-x");
  const issues = new IssueList();
  decodeSsh(bytes, new DataView(bytes.buffer), off, end, issues, TCP22);
  assert.deepEqual(issues.items, [{ code: "ssh_truncated_banner", offset: end }]);
});

Deno.test("ssh: sniffer", () => {
  const s = (t: string, hint = TCP22) => {
    const { bytes, off, end } = place(t);
    return sniffSsh(bytes, off, end, hint);
  };
  assert.ok(s("SSH-2.0-OpenSSH_9.7\r\n"));
  assert.ok(s("SSH-1.5-x\n"));
  assert.ok(!s("SSH-"));
  assert.ok(!s("SSH-x"));
  assert.ok(!s("ssh-2.0-x\r\n"));
  assert.ok(!s("SSH-2.0-x\r\n", { transport: "udp", srcPort: 22, dstPort: 22 }));
  assert.equal(sshProtocol.name, "ssh");
  assert.deepEqual(sshProtocol.ports, { tcp: [22] });
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

Deno.test("ssh: seeded fuzz never throws", () => {
  const seeds = [
    hex("5353482d322e302d64726f70626561725f323031382e37360d0a000001f407142f933ff879caa531"),
    hex("0000000c0a15 00000000000000000000"),
    enc.encode("SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3\n"),
  ];
  const next = rng(0x55aa);
  for (let iter = 0; iter < 4000; iter++) {
    const base = seeds[iter % seeds.length];
    const p = base.slice(0, next() % (base.length + 1));
    for (let k = next() % 5; k > 0 && p.length > 0; k--) p[next() % p.length] ^= 1 << (next() % 8);
    const bytes = new Uint8Array(p.length + 4);
    bytes.set(p, 2);
    sshProtocol.sniff!(bytes, 2, 2 + p.length, TCP22);
    const rec = decodeSsh(bytes, new DataView(bytes.buffer), 2, 2 + p.length, new IssueList(), TCP22);
    if (rec) JSON.stringify(rec);
  }
});

// --- Agreement with tshark (skipped when the corpus or tshark is missing). ---

const CAPTURES = [
  "/work/shared/pcaps/corpus/tcpdump/ssh.pcap",
  "/work/shared/pcaps/corpus/zeek/ssh_ssh_kex_curve25519.pcap",
  "/work/shared/pcaps/corpus/zeek/ssh_reverse-ssh.pcap",
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
    return CAPTURES.every((c) => Deno.statSync(c).isFile) && toolPath("tshark") !== null;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "ssh: agrees with tshark on banners and cleartext packet headers (corpus; skipped without tshark or the corpus)",
  ignore: !corpusReady(),
  fn() {
    let banners = 0, packets = 0;
    for (const file of CAPTURES) {
      const out = new Deno.Command(toolPath("tshark")!, {
        args: [
          "-r",
          file,
          "-o",
          "tcp.desegment_tcp_streams:FALSE",
          "-Y",
          "tcp.len>0",
          "-T",
          "json",
          "-e",
          "ssh.protocol",
          "-e",
          "ssh.message_code",
          "-e",
          "ssh.packet_length",
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
        const { rec } = decode(hex(l["tcp.payload"][0]));
        assert.equal(rec?.banner, l["ssh.protocol"]?.[0]);
        if (rec?.banner !== undefined) banners++;
        // Every header we read, tshark read the same way (it also reads ones we refuse: see ssh.ts).
        if (rec?.message_code !== undefined) {
          assert.equal(String(rec.message_code), l["ssh.message_code"]?.[0]);
          assert.equal(String(rec.packet_len), l["ssh.packet_length"]?.[0]);
          packets++;
        }
      }
    }
    assert.ok(banners >= 6 && packets >= 10, `${banners} banners, ${packets} packets`);
  },
});
