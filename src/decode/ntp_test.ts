import assert from "node:assert/strict";
import { IssueList } from "./app.ts";
import { decodeNtp, ntpProtocol, type NtpRecord } from "./ntp.ts";

/** Puts `hex` at offset 5 of a buffer with junk around it, so reads outside `[off, end)` would show. */
function place(hex: string): { bytes: Uint8Array; view: DataView; off: number; end: number } {
  const n = hex.length / 2;
  const bytes = new Uint8Array(n + 16).fill(0xa5);
  for (let i = 0; i < n; i++) bytes[5 + i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { bytes, view: new DataView(bytes.buffer), off: 5, end: 5 + n };
}

function decode(hex: string, issues = new IssueList()): NtpRecord | null {
  const { bytes, view, off, end } = place(hex);
  return decodeNtp(bytes, view, off, end, issues, { transport: "udp", srcPort: 123, dstPort: 123 });
}

Deno.test("ntp: protocol registration", () => {
  assert.equal(ntpProtocol.name, "ntp");
  assert.deepEqual(ntpProtocol.ports.udp, [123]);
});

Deno.test("ntp: client request (mode 3)", () => {
  // NTPv4, client, leap 3 (unsynchronised), stratum 0, poll 3, precision -6, root delay/dispersion 1.0 s,
  // no reference id, transmit 2017-06-19T14:22:54.488488492Z (tcpdump/ntp.pcap frame 5).
  const issues = new IssueList();
  const rec = decode(
    "e30003fa" + "00010000" + "00010000" + "00000000" +
      "0000000000000000" + "0000000000000000" + "0000000000000000" + "dcf25cbe7d0d94f5",
    issues,
  );
  assert.deepEqual(rec, {
    version: 4,
    mode: "client",
    leap: 3,
    stratum: 0,
    poll: 3,
    precision: -6,
    root_delay: 1,
    root_dispersion: 1,
    xmit_ts: "2017-06-19T14:22:54.488488492Z",
  });
  assert.deepEqual(issues.items, []);
});

Deno.test("ntp: server reply (mode 4) with SHA-1 MAC", () => {
  // NTPv4 server, stratum 2, ref id 10.5.27.10, four timestamps, then key id 8 and a 20-byte digest
  // (tcpdump/ntp.pcap frame 4; times as tshark prints them).
  const rec = decode(
    "240200e9" + "000027cf" + "00000067" + "0a051b0a" +
      "dcf25be5b86d5655" + "ae9d0aa81b8971a7" + "dcf25be67e92d240" + "dcf25be67e9a9fc9" +
      "00000008" + "629990a7fc22cc8467dd88b7af2d220dbe3287d6",
  );
  assert.deepEqual(rec, {
    version: 4,
    mode: "server",
    leap: 0,
    stratum: 2,
    poll: 0,
    precision: -23,
    root_delay: 10191 / 65536,
    root_dispersion: 103 / 65536,
    ref_id: "10.5.27.10",
    ref_ts: "2017-06-19T14:19:17.720418353Z",
    orig_ts: "1992-10-31T13:37:44.107565978Z",
    recv_ts: "2017-06-19T14:19:18.494427815Z",
    xmit_ts: "2017-06-19T14:19:18.494546877Z",
    key_id: 8,
    mac: "629990a7fc22cc8467dd88b7af2d220dbe3287d6",
  });
});

Deno.test("ntp: kiss-o'-death reply with ASCII ref id and crypto-NAK", () => {
  // Stratum 0, ref id "STEP", then a 4-byte MAC holding key id 0 only (tcpdump/ntp.pcap frame 2).
  const rec = decode(
    "e40003e9" + "00000000" + "0000005a" + "53544550" +
      "0000000000000000" + "a4b39cd101fb24bf" + "dcf25a3984199119" + "dcf25a39841d6dc5" + "00000000",
  );
  assert.equal(rec?.stratum, 0);
  assert.equal(rec?.ref_id, "STEP");
  assert.equal(rec?.ref_ts, undefined);
  assert.equal(rec?.orig_ts, "1987-07-25T21:08:33.007738396Z");
  assert.equal(rec?.key_id, 0);
  assert.equal(rec?.mac, undefined);
});

Deno.test("ntp: control message (mode 6)", () => {
  // NTPv2 control response: R=1 E=0 M=0 opcode 2 (readvar), sequence 68, status 0x0618, assoc 0,
  // offset 0, count 394 (tcpdump/ntp-control.pcap frame 2, data cut off here).
  const rec = decode("16820044" + "06180000" + "0000018a" + "7665727369");
  assert.deepEqual(rec, {
    version: 2,
    mode: "control",
    leap: 0,
    response: true,
    error: false,
    more: false,
    opcode: 2,
    sequence: 68,
    status: 0x0618,
    association_id: 0,
    offset: 0,
    count: 394,
  });
});

Deno.test("ntp: private message (mode 7) monlist request and a response", () => {
  // R=0 M=0 VN=2 mode 7, seq 0, implementation 3 (XNTPD), request code 42 (MON_GETLIST_1).
  assert.deepEqual(decode("1700032a" + "00000000"), {
    version: 2,
    mode: "private",
    response: false,
    more: false,
    auth: false,
    sequence: 0,
    implementation: 3,
    request_code: 42,
    err: 0,
    nitems: 0,
    item_size: 0,
  });
  // Response to request 28: one item of 36 bytes (tcpdump/ntp-mode7.pcap frame 2, data cut off).
  const rec = decode("9700031c" + "00010024" + "0050606a");
  assert.equal(rec?.response, true);
  assert.equal(rec?.request_code, 28);
  assert.equal(rec?.nitems, 1);
  assert.equal(rec?.item_size, 36);
});

Deno.test("ntp: extension field and bad extension", () => {
  const header = "230006ec" + "00000000" + "00000000" + "00000000" + "00".repeat(24) + "d9f4d83f4eb8f2b0";
  // One 28-byte RFC 7822 extension field of type 0x0104 (NTS unique identifier), no MAC.
  const rec = decode(header + "0104001c" + "ab".repeat(24));
  assert.deepEqual(rec?.extensions, [{ type: 0x0104, len: 28 }]);
  assert.equal(rec?.key_id, undefined);
  // A length of 10 is below the 16-byte minimum.
  const issues = new IssueList();
  decode(header + "0104000a" + "ab".repeat(24), issues);
  assert.deepEqual(issues.items, [{ code: "ntp_bad_extension", offset: 5 + 48 }]);
});

Deno.test("ntp: truncated header keeps the fields that arrived", () => {
  const issues = new IssueList();
  const rec = decode("240200e9000027cf000000670a051b0a", issues);
  assert.equal(rec?.stratum, 2);
  assert.equal(rec?.ref_id, "10.5.27.10");
  assert.equal(rec?.xmit_ts, undefined);
  assert.deepEqual(issues.items, [{ code: "ntp_truncated", offset: 5 + 16 }]);
});

Deno.test("ntp: not NTP", () => {
  assert.equal(decode(""), null);
  assert.equal(decode("03" + "00".repeat(47)), null); // version 0
  assert.equal(decode("3b" + "00".repeat(47)), null); // version 7
});

Deno.test("ntp: era 1 timestamps (seconds below 2^31) fall after 2036", () => {
  const rec = decode("23000000" + "00".repeat(36) + "0000000180000000");
  assert.equal(rec?.xmit_ts, "2036-02-07T06:28:17.500000000Z");
});

Deno.test("ntp: seeded fuzz never throws", () => {
  const seeds = [
    "240200e9000027cf000000670a051b0adcf25be5b86d5655ae9d0aa81b8971a7dcf25be67e92d240dcf25be67e9a9fc900000008629990a7fc22cc8467dd88b7af2d220dbe3287d6",
    "16820044061800000000018a76657273696f6e",
    "9700031c000100240050606a0000000a",
    "230006ec" + "00".repeat(44) + "0104001c" + "ab".repeat(24) + "0404001000000000",
  ];
  let state = 0x5eed1234;
  const rand = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < 4000; i++) {
    const { bytes, view, off, end } = place(seeds[i % seeds.length]);
    const flips = Math.floor(rand() * 6);
    for (let f = 0; f < flips; f++) {
      bytes[off + Math.floor(rand() * (end - off))] ^= 1 << Math.floor(rand() * 8);
    }
    const cut = off + Math.floor(rand() * (end - off + 1));
    decodeNtp(bytes, view, off, rand() < 0.5 ? cut : end, new IssueList());
  }
});

// ---------------------------------------------------------------------------------------------------------
// Corpus comparison with tshark (skipped when the captures or tshark are missing).

const CORPUS = "/work/shared/pcaps/corpus";
const FILES = ["tcpdump/ntp.pcap", "tcpdump/ntp-control.pcap", "tcpdump/ntp-mode7.pcap", "zeek/ntp_ntp.pcap"];

async function haveTshark(): Promise<boolean> {
  try {
    Deno.statSync(CORPUS);
    const out = await new Deno.Command("tshark", { args: ["-v"], stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

const CAN_COMPARE = await haveTshark();

/** tshark's absolute time ("Jun 19, 2017 14:12:09.516015118 UTC") as our ISO form. */
function tsharkTime(s: string): string | undefined {
  if (s === "" || s === "NULL") return undefined;
  const months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const [mon, day, year, clock] = s.replace(",", "").split(/ +/);
  const m = String(months.indexOf(mon) / 3 + 1).padStart(2, "0");
  return `${year}-${m}-${day.padStart(2, "0")}T${clock}Z`;
}

Deno.test({
  name: "ntp: agrees with tshark on corpus captures" +
    (CAN_COMPARE
      ? ""
      : " (skipped: needs tshark, the corpus in /work/shared/pcaps, --allow-run and --allow-read)"),
  ignore: !CAN_COMPARE,
  fn: async () => {
    const modes = ["reserved", "symmetric_active", "symmetric_passive", "client", "server", "broadcast"];
    let compared = 0;
    const fields = ["udp.payload", "ntp.flags.vn", "ntp.flags.mode", "ntp.stratum", "ntp.xmt", "ntp.refid"];
    // One tshark per file, run side by side: its start-up dominates the time.
    const outputs = await Promise.all(FILES.map((file) => {
      const args = ["-r", `${CORPUS}/${file}`, "-Y", "ntp", "-T", "fields", "-E", "occurrence=f"];
      for (const f of fields) args.push("-e", f);
      return new Deno.Command("tshark", { args, stdout: "piped", stderr: "null" }).output();
    }));
    for (const [i, out] of outputs.entries()) {
      const file = FILES[i];
      for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
        if (line === "") continue;
        const [payload, vn, mode, stratum, xmt, refid] = line.split("\t");
        const rec = decode(payload);
        const where = `${file}: ${line.slice(0, 40)}`;
        assert.ok(rec, where);
        assert.equal(rec.version, Number(vn), where);
        const m = Number(mode);
        if (m <= 5) {
          assert.equal(rec.mode, modes[m], where);
          assert.equal(rec.stratum, Number(stratum), where);
          assert.equal(rec.xmit_ts, tsharkTime(xmt), where);
          if (rec.stratum !== undefined && rec.stratum >= 2 && refid !== "00000000") {
            assert.equal(rec.ref_id, refid.match(/../g)!.map((h) => parseInt(h, 16)).join("."), where);
          }
        }
        compared++;
      }
    }
    assert.ok(compared > 50, `only ${compared} packets compared`);
  },
});
