import assert from "node:assert/strict";
import { PcapWriter } from "../src/capture/pcap_writer.ts";
import { runCli } from "./_run.ts";

/** A small capture with three Ethernet/IPv4/UDP packets. */
function sampleCapture(): Uint8Array {
  const w = new PcapWriter();
  for (let i = 0; i < 3; i++) {
    const f = new Uint8Array(42 + 4);
    f.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0);
    f.set([0x45, 0, 0, 32, 0, i, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
    f.set([0x30, 0x39, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4], 34);
    w.packet(f, 1700000000 + i, 250000);
  }
  return w.drain();
}

Deno.test("cli: --help and --version print to stdout and exit 0", async () => {
  const help = await runCli(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /netwatch analyze FILE/);
  const version = await runCli(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^netwatch \d+\.\d+\.\d+\n$/);
});

Deno.test("cli: an unknown option or command is one line on stderr and exit 2", async () => {
  for (const args of [["--frobnicate"], ["packets", "x.pcap", "--json"], ["dance"], ["packets"]]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `args ${args.join(" ")}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\bat .*:\d+:\d+/); // no stack trace
  }
});

Deno.test("cli: a missing file, a directory and a non-capture each give one clear line and exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello, I am not a capture\n");
    const cases: [string, RegExp][] = [
      [`${dir}/missing.pcap`, /no such file/],
      [dir, /directory/],
      [`${dir}/notes.txt`, /not a pcap or pcapng capture file/],
    ];
    for (const [path, message] of cases) {
      for (const command of ["packets", "analyze"]) {
        const r = await runCli([command, path]);
        assert.equal(r.code, 1, `${command} ${path}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: packets --jsonl prints one record per packet; --offset and --limit page", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/s.pcap`, sampleCapture());
    const all = await runCli(["packets", `${dir}/s.pcap`, "--jsonl"]);
    assert.equal(all.code, 0, all.stderr);
    const recs = all.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(recs.map((r) => [r.n, r.ts, r.len, r.caplen, r.link, r.iface]), [
      [1, "1700000000.250000", 46, 46, "EN10MB", 0],
      [2, "1700000001.250000", 46, 46, "EN10MB", 0],
      [3, "1700000002.250000", 46, 46, "EN10MB", 0],
    ]);
    const page = await runCli(["packets", `${dir}/s.pcap`, "--jsonl", "--offset", "1", "--limit", "1"]);
    assert.deepEqual(page.stdout.trim().split("\n").map((l) => JSON.parse(l).n), [2]);
    const bad = await runCli(["packets", `${dir}/s.pcap`, "--limit", "1.5"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit needs a whole number/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a truncated capture prints what was read, then the error, exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = sampleCapture();
    await Deno.writeFile(`${dir}/t.pcap`, bytes.subarray(0, bytes.length - 5));
    const r = await runCli(["packets", `${dir}/t.pcap`, "--jsonl"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.trim().split("\n").length, 2);
    assert.match(r.stderr, /cut short inside packet 3 .*byte offset 148/);
    const a = await runCli(["analyze", `${dir}/t.pcap`, "--json"]);
    assert.equal(a.code, 1);
    const report = JSON.parse(a.stdout);
    assert.equal(report.summary.packets, 2);
    assert.match(report.read_error, /cut short/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: analyze prints a readable report and --json the same figures", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/s.pcap`, sampleCapture());
    const text = await runCli(["analyze", `${dir}/s.pcap`]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /packets\s+3\n/);
    assert.match(text.stdout, /duration\s+2 s/);
    const json = JSON.parse((await runCli(["analyze", `${dir}/s.pcap`, "--json"])).stdout);
    assert.equal(json.summary.packets, 3);
    assert.equal(json.summary.bytes, 138);
    assert.equal(json.summary.first_ts, "1700000000.250000");
    assert.equal(json.summary.last_ts, "1700000002.250000");
    // `protocols` is the protocol hierarchy (like `tshark -z io,phs`): eth > ipv4 > udp.
    assert.equal(json.protocols.eth.children.ipv4.children.udp.packets, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: analyze --max-flows bounds the flow table and counts what it evicted", async () => {
  const fixture = new URL("../fixtures/demo.pcap", import.meta.url).pathname;
  const bounded = JSON.parse((await runCli(["analyze", fixture, "--json", "--max-flows", "5"])).stdout);
  const free = JSON.parse((await runCli(["analyze", fixture, "--json"])).stdout);
  assert.equal(bounded.flows.table.active, 5);
  assert.equal(bounded.flows.table.evicted, free.flows.table.created - 5);
  assert.equal(bounded.summary.packets, free.summary.packets);
  const bad = await runCli(["analyze", fixture, "--max-flows", "many"]);
  assert.equal(bad.code, 2);
});
