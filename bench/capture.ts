/**
 * Live capture benchmark: replays a generated capture of at least 1 million packets with `tcpreplay
 * --topspeed` from one network namespace over a veth pair into another, and captures it there with
 * netwatch and then with `tcpdump -w /dev/null` (at its default buffer, at netwatch's, and in immediate mode), in the same
 * run. netwatch runs three ways: in-process (`openLiveCapture` + `runSource`, full decoding) with the
 * default TPACKET_V3 blocks, with immediate mode (8 and 64 MiB buffers), each with a 10 ms
 * `setInterval` probe recording how late each tick fires; and through its MCP server (`serve` over
 * stdio, `capture_start` on the peer veth) with `list_captures` called back to back, then every 10 ms,
 * during the replay, each round trip timed. Prints packets received and dropped (pcap_stats, as
 * `capture_stop` reports them; tcpdump's own report), packets decoded, the replay rates and the
 * latencies.
 *
 * Needs Linux, root, tcpreplay, tcpdump and libpcap. The namespaces are created and deleted here.
 * Usage: `deno task bench:capture [PACKETS]` (default 1 000 000; `NETWATCH_BENCH_PCAP` names a file).
 *
 * @module
 */

import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { openLiveCapture } from "../ffi/live_capture.ts";
import { runSource } from "../src/engine.ts";
import { available, benchCapture } from "./_measure.ts";

const decoder = new TextDecoder();
const PROBE_MS = 10;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

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
async function child(iface: string, immediate: boolean, bufferMb: number): Promise<void> {
  const cap = openLiveCapture(iface, { immediate, bufferSize: bufferMb * 1024 * 1024 });
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

/** pcap_stats as capture_stop reports them. */
interface PcapStats {
  received: number;
  dropped: number;
  if_dropped: number;
}

/**
 * netwatch as an MCP client sees it: `serve` started in namespace `ns`, `capture_start` on `iface`, the
 * replay, and `list_captures` called back to back while it runs, each round trip timed; then, once the
 * decoded count stops growing, `capture_stop` for libpcap's final counters.
 */
async function mcpRun(
  ns: string,
  iface: string,
  replay: () => Promise<ReturnType<typeof parseTcpreplay>>,
  pauseMs: number,
): Promise<{
  replay: ReturnType<typeof parseTcpreplay>;
  stats: PcapStats;
  decoded: number;
  busy: number[];
  idle: number[];
}> {
  const client = new Client({ name: "netwatch-bench", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: "ip",
    args: ["netns", "exec", ns, Deno.execPath(), "run", "-A", MAIN, "serve"],
    cwd: new URL("..", import.meta.url).pathname,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Uint8Array) => stderr += decoder.decode(d));
  await client.connect(transport);
  try {
    const call = async (name: string, args: Record<string, unknown> = {}) => {
      const r = await client.callTool({ name, arguments: args }) as {
        isError?: boolean;
        content: { text?: string }[];
        structuredContent?: Record<string, unknown>;
      };
      if (r.isError) throw new Error(`${name} failed: ${r.content[0]?.text}\n${stderr}`);
      return r.structuredContent!;
    };
    const timed = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await call("list_captures");
        times.push(performance.now() - t0);
      }
      return times;
    };
    await timed(5); // warm-up: the first calls compile the schemas
    const idle = await timed(100);
    const { capture_id } = await call("capture_start", { interface: iface }) as { capture_id: string };
    await sleep(300);
    let replaying = true;
    const replayed = replay().finally(() => replaying = false);
    const busy: number[] = [];
    while (replaying) {
      const t0 = performance.now();
      await call("list_captures");
      busy.push(performance.now() - t0);
      if (pauseMs > 0) await sleep(pauseMs);
    }
    const r = await replayed;
    // Drained when the count holds still for half a second (at most 15 s).
    const decodedNow = async () => {
      const l = await call("list_captures") as { captures: { capture_id: string; decoded: number }[] };
      return l.captures.find((c) => c.capture_id === capture_id)!.decoded;
    };
    for (let prev = -1, i = 0; i < 30; i++) {
      const now = await decodedNow();
      if (now === prev) break;
      prev = now;
      await sleep(500);
    }
    const stopped = await call("capture_stop", { capture_id }) as { pcap_stats: PcapStats; decoded: number };
    return { replay: r, stats: stopped.pcap_stats, decoded: stopped.decoded, busy, idle };
  } finally {
    await client.close();
  }
}

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

    // netwatch, in-process capture with full decoding, in a child inside the capture namespace: with the
    // default (TPACKET_V3 blocks) and with immediate mode (TPACKET_V2 slots).
    const inProcess = async (immediate: boolean, bufferMb: number) => {
      const nw = spawn([
        "ip",
        "netns",
        "exec",
        nsB,
        Deno.execPath(),
        "run",
        "-A",
        self,
        "--child",
        ifB,
        immediate ? "immediate" : "blocks",
        String(bufferMb),
      ]);
      children.push(nw.proc);
      await nw.waitFor("ready", 30_000);
      await sleep(500); // idle ticks for the probe's baseline
      const replayed = await replay();
      await sleep(1500); // let the last batches drain
      nw.proc.kill("SIGINT");
      const nwText = await nw.output();
      const result = JSON.parse(nwText.trim().split("\n").pop()!) as ChildResult;
      if (result.apps === 0) throw new Error("no application layer decoded: not a full-decoding run");
      return { immediate, bufferMb, replay: replayed, result };
    };
    const inProcessRuns = [
      await inProcess(false, 8),
      await inProcess(true, 8),
      await inProcess(true, 64),
    ];

    // netwatch through its MCP server: `serve` in the capture namespace, driven over stdio.
    // Calls back to back, then one every 10 ms (an eager client, then a polling one).
    const viaMcp = [
      { pauseMs: 0, ...await mcpRun(nsB, ifB, replay, 0) },
      { pauseMs: 10, ...await mcpRun(nsB, ifB, replay, 10) },
    ];

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
      ], ["tcpdump --immediate-mode -w /dev/null", ["--immediate-mode"]]] as const
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

    console.log(
      `capture benchmark: ${file}, replayed with tcpreplay --topspeed over a veth pair (${ifA} -> ${ifB})`,
    );
    for (const { immediate, bufferMb, replay: r, result } of inProcessRuns) {
      const seconds = (result.last_ms - result.first_ms) / 1000;
      console.log(
        `netwatch (openLiveCapture + runSource, full decode, ${bufferMb} MiB buffer, immediate ${immediate}): ` +
          `replay sent ${fmt(r.sent)} in ${r.seconds.toFixed(2)} s (${fmt(r.pps)} pps); received ` +
          `${fmt(result.received)}, dropped by kernel ${fmt(result.dropped)}, by interface ` +
          `${fmt(result.if_dropped)}; decoded ${fmt(result.decoded)} (${
            (100 * result.decoded / r.sent).toFixed(1)
          }% of sent) at ${fmt(result.decoded / seconds)} packets/s (first to last packet, ${
            seconds.toFixed(2)
          } s); main-thread probe lateness p50 ${percentile(result.busy, 50).toFixed(2)} ms, p99 ${
            percentile(result.busy, 99).toFixed(2)
          } ms, max ${Math.max(...result.busy).toFixed(2)} ms over ${result.busy.length} ticks (idle p99 ${
            percentile(result.idle, 99).toFixed(2)
          } ms)`,
      );
    }
    for (const m of viaMcp) {
      console.log(
        `netwatch through MCP (serve over stdio, capture_start on ${ifB}, defaults; list_captures ${
          m.pauseMs === 0 ? "back to back" : `every ${m.pauseMs} ms`
        }): replay sent ${fmt(m.replay.sent)} in ${m.replay.seconds.toFixed(2)} s (${
          fmt(m.replay.pps)
        } pps); pcap_stats received ${fmt(m.stats.received)}, dropped ${fmt(m.stats.dropped)}, if_dropped ${
          fmt(m.stats.if_dropped)
        }; decoded ${fmt(m.decoded)} (${
          (100 * m.decoded / m.replay.sent).toFixed(1)
        }% of sent); list_captures round trip during the replay: p50 ${
          percentile(m.busy, 50).toFixed(2)
        } ms, p99 ${percentile(m.busy, 99).toFixed(2)} ms, max ${
          Math.max(...m.busy).toFixed(2)
        } ms over ${m.busy.length} calls; idle before it: p50 ${percentile(m.idle, 50).toFixed(2)} ms, p99 ${
          percentile(m.idle, 99).toFixed(2)
        } ms over ${m.idle.length} calls`,
      );
    }
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
  if (Deno.args[0] === "--child") {
    await child(Deno.args[1], Deno.args[2] === "immediate", Number(Deno.args[3]));
  } else {
    await main();
  }
}
