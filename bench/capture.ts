/**
 * Live capture benchmark: replays a generated capture of at least 1 million packets with `tcpreplay
 * --topspeed` from one network namespace over a veth pair into another, and captures it there with
 * netwatch (in-process `openLiveCapture` + `runSource`, full decoding) and then with `tcpdump -w
 * /dev/null` (at its default buffer and at netwatch's), in the same run. Prints packets received and
 * dropped (pcap_stats; tcpdump's own report) and the rates, and the main thread's responsiveness during
 * netwatch's capture: a 10 ms `setInterval` probe recording how late each tick fires (a stand-in for MCP
 * request latency until the MCP server exists).
 *
 * Needs Linux, root, tcpreplay, tcpdump and libpcap. The namespaces are created and deleted here.
 * Usage: `deno task bench:capture [PACKETS]` (default 1 000 000; `NETWATCH_BENCH_PCAP` names a file).
 *
 * @module
 */

import { openLiveCapture } from "../ffi/live_capture.ts";
import { runSource } from "../src/engine.ts";
import { available, benchCapture } from "./_measure.ts";

const decoder = new TextDecoder();
const PROBE_MS = 10;

/** What the capturing child reports. */
interface ChildResult {
  received: number;
  dropped: number;
  if_dropped: number;
  decoded: number;
  apps: number;
  /** performance.now() of the first and last packet delivered. */
  first_ms: number;
  last_ms: number;
  /** Tick lateness (ms) during the traffic, and while idle before it. */
  busy: number[];
  idle: number[];
}

/**
 * The capturing side, run inside the capture namespace (`--child IFACE`): captures with full decoding
 * until SIGINT, with the probe running, then prints one JSON result line.
 */
async function child(iface: string): Promise<void> {
  const cap = openLiveCapture(iface);
  let decoded = 0, apps = 0, first = 0, last = 0;
  const ticks: [at: number, late: number][] = [];
  let prev = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    ticks.push([now, Math.max(0, now - prev - PROBE_MS)]);
    prev = now;
  }, PROBE_MS);
  Deno.addSignalListener("SIGINT", () => cap.close());
  const done = runSource(cap, (p) => {
    decoded++;
    if (p.layers.app !== undefined) apps++;
    last = performance.now();
    if (first === 0) first = last;
  });
  console.log("ready");
  const result = await done;
  clearInterval(probe);
  await cap.closed;
  if (result.error) throw result.error;
  const stats = cap.stats();
  const out: ChildResult = {
    ...stats,
    decoded,
    apps,
    first_ms: first,
    last_ms: last,
    busy: ticks.filter(([at]) => first > 0 && at >= first && at <= last + PROBE_MS).map(([, l]) => l),
    idle: ticks.filter(([at]) => first === 0 || at < first).map(([, l]) => l),
  };
  console.log(JSON.stringify(out));
  Deno.exit(0);
}

async function run(cmd: string, args: string[], check = true): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  if (check && !out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${text}`);
  return text;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A spawned process whose stdout and stderr are collected, with a wait for a marker on either. */
function spawn(argv: string[]) {
  const proc = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  let text = "";
  const waiters: { marker: string; resolve: () => void }[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      for (const w of waiters.filter((w) => text.includes(w.marker))) w.resolve();
    }
  };
  const streams = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  return {
    proc,
    output: async () => {
      await proc.status;
      await streams;
      return text;
    },
    waitFor: (marker: string, ms: number) =>
      new Promise<void>((resolve, reject) => {
        if (text.includes(marker)) return resolve();
        const timer = setTimeout(() => reject(new Error(`no "${marker}" after ${ms} ms: ${text}`)), ms);
        waiters.push({ marker, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}

/** tcpreplay's own figures: packets sent, seconds, packets per second. */
function parseTcpreplay(text: string): { sent: number; seconds: number; pps: number } {
  const actual = /Actual: (\d+) packets \(\d+ bytes\) sent in ([\d.]+) seconds/.exec(text);
  const rated = /Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps/.exec(text);
  if (!actual) throw new Error(`cannot read tcpreplay's output: ${text}`);
  return { sent: Number(actual[1]), seconds: Number(actual[2]), pps: rated ? Number(rated[1]) : NaN };
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main(): Promise<void> {
  const missing: string[] = [];
  if (Deno.build.os !== "linux") missing.push("Linux");
  if (Deno.uid() !== 0) missing.push("root");
  for (const tool of ["tcpreplay", "tcpdump", "ip"]) if (!(await available(tool))) missing.push(tool);
  if (missing.length > 0) {
    console.log(`capture benchmark skipped: needs ${missing.join(", ")}`);
    return;
  }
  const packets = Number(Deno.args[0] ?? 1_000_000);
  const file = await benchCapture(packets);
  const id = Deno.pid % 100000;
  const nsA = `nwbench${id}a`, nsB = `nwbench${id}b`, ifA = `nwb${id}a`, ifB = `nwb${id}b`;
  const self = new URL(import.meta.url).pathname;
  const children: Deno.ChildProcess[] = [];
  try {
    await run("ip", ["netns", "add", nsA]);
    await run("ip", ["netns", "add", nsB]);
    await run("ip", ["link", "add", ifA, "type", "veth", "peer", "name", ifB]);
    await run("ip", ["link", "set", ifA, "netns", nsA]);
    await run("ip", ["link", "set", ifB, "netns", nsB]);
    for (const [ns, dev] of [[nsA, ifA], [nsB, ifB]]) {
      // No IPv6: its router solicitations would add packets that are not the replay's.
      await run(
        "ip",
        ["netns", "exec", ns, "sysctl", "-q", "-w", `net.ipv6.conf.${dev}.disable_ipv6=1`],
        false,
      );
      await run("ip", ["-n", ns, "link", "set", dev, "up"]);
    }
    const replay = async () =>
      parseTcpreplay(await run("ip", ["netns", "exec", nsA, "tcpreplay", "--topspeed", "-i", ifA, file]));

    // netwatch, in-process capture with full decoding, in a child inside the capture namespace.
    const nw = spawn(["ip", "netns", "exec", nsB, Deno.execPath(), "run", "-A", self, "--child", ifB]);
    children.push(nw.proc);
    await nw.waitFor("ready", 30_000);
    await sleep(500); // idle ticks for the probe's baseline
    const nwReplay = await replay();
    await sleep(1500); // let the last batches drain
    nw.proc.kill("SIGINT");
    const nwText = await nw.output();
    const result = JSON.parse(nwText.trim().split("\n").pop()!) as ChildResult;
    if (result.apps === 0) throw new Error("no application layer decoded: not a full-decoding run");

    // tcpdump, same replay, at its default buffer and at netwatch's 8 MiB.
    const dumps: {
      label: string;
      replay: ReturnType<typeof parseTcpreplay>;
      captured: number;
      received: number;
      dropped: number;
    }[] = [];
    for (
      const [label, extra] of [["tcpdump -w /dev/null (default buffer)", []], [
        "tcpdump -B 8192 -w /dev/null",
        ["-B", "8192"],
      ]] as const
    ) {
      const td = spawn(["ip", "netns", "exec", nsB, "tcpdump", "-n", "-i", ifB, ...extra, "-w", "/dev/null"]);
      children.push(td.proc);
      await td.waitFor("listening on", 30_000);
      await sleep(300);
      const r = await replay();
      await sleep(1500);
      td.proc.kill("SIGINT");
      const text = await td.output();
      const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
      dumps.push({
        label,
        replay: r,
        captured: num(/(\d+) packets? captured/),
        received: num(/(\d+) packets? received by filter/),
        dropped: num(/(\d+) packets? dropped by kernel/),
      });
    }

    const nwSeconds = (result.last_ms - result.first_ms) / 1000;
    console.log(
      `capture benchmark: ${file}, replayed with tcpreplay --topspeed over a veth pair (${ifA} -> ${ifB})`,
    );
    console.log(
      `netwatch (openLiveCapture + runSource, full decode, 8 MiB buffer): replay sent ${
        fmt(nwReplay.sent)
      } in ` +
        `${nwReplay.seconds.toFixed(2)} s (${fmt(nwReplay.pps)} pps); received ${fmt(result.received)}, ` +
        `dropped by kernel ${fmt(result.dropped)}, by interface ${fmt(result.if_dropped)}; decoded ` +
        `${fmt(result.decoded)} (${(100 * result.decoded / nwReplay.sent).toFixed(1)}% of sent) at ` +
        `${fmt(result.decoded / nwSeconds)} packets/s (first to last packet, ${nwSeconds.toFixed(2)} s)`,
    );
    for (const d of dumps) {
      console.log(
        `${d.label}: replay sent ${fmt(d.replay.sent)} in ${d.replay.seconds.toFixed(2)} s (${
          fmt(d.replay.pps)
        } pps); ` +
          `received by filter ${fmt(d.received)}, dropped by kernel ${fmt(d.dropped)}; captured ${
            fmt(d.captured)
          } ` +
          `(${(100 * d.captured / d.replay.sent).toFixed(1)}% of sent) at ${
            fmt(d.captured / d.replay.seconds)
          } packets/s ` +
          `(over the replay's duration)`,
      );
    }
    console.log(
      `main-thread responsiveness during netwatch's capture (10 ms setInterval probe, lateness per tick; ` +
        `a stand-in for MCP request latency until the MCP server exists): p50 ${
          percentile(result.busy, 50).toFixed(2)
        } ms, ` +
        `p99 ${percentile(result.busy, 99).toFixed(2)} ms, max ${
          Math.max(...result.busy).toFixed(2)
        } ms over ` +
        `${result.busy.length} ticks; idle before the replay: p50 ${
          percentile(result.idle, 50).toFixed(2)
        } ms, ` +
        `p99 ${percentile(result.idle, 99).toFixed(2)} ms over ${result.idle.length} ticks`,
    );
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch { /* already exited */ }
    }
    await run("ip", ["netns", "del", nsA], false);
    await run("ip", ["netns", "del", nsB], false);
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") await child(Deno.args[1]);
  else await main();
}
