/**
 * The capture commands as a user runs them: `netwatch capture` as a subprocess on one end of a veth pair
 * between two network namespaces created (and deleted) here, with real traffic sent from the other end;
 * `netwatch filter` and `netwatch interfaces`, which need no privileges. Capture tests need root and
 * libpcap and skip with a printed reason otherwise. Traffic never leaves the namespaces, or loopback.
 */
import assert from "node:assert/strict";
import { loadLibpcap } from "../ffi/load.ts";
import { openCapture } from "../src/capture/open_capture.ts";
import { packetRecord } from "../src/decode/packet_record.ts";
import { runSource } from "../src/engine.ts";
import { hasProgram, runCli } from "./_run.ts";
import { canUseNetns, NetnsPair, run, which } from "./_netns.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

function libpcapMissing(): string | false {
  try {
    loadLibpcap();
    return false;
  } catch (err) {
    return `libpcap missing: ${(err as Error).message}`;
  }
}

function captureSkipReason(): string | false {
  if (Deno.build.os !== "linux") return "capture CLI tests run on Linux only (network namespaces)";
  const missing = libpcapMissing();
  if (missing) return missing;
  return canUseNetns();
}
const noLibpcap = libpcapMissing();
const skip = captureSkipReason();
if (skip) console.log(`skipping capture CLI tests: ${skip}`);
if (noLibpcap) console.log(`skipping filter/interfaces CLI tests: ${noLibpcap}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `netwatch` subprocess whose stderr is watched for the line saying capture has started. */
class Netwatch {
  readonly child: Deno.ChildProcess;
  readonly started = performance.now();
  /** When the "capturing on" line arrived. */
  readyAt = 0;
  exitedAt = 0;
  stderr = "";
  readonly #ready = Promise.withResolvers<void>();
  readonly #stdout: Promise<string>;
  readonly #stderrDone: Promise<void>;

  constructor(
    args: string[],
    options: { ns?: string; prefix?: string[]; env?: Record<string, string> } = {},
  ) {
    const deno = [Deno.execPath(), "run", "-A", MAIN, ...args];
    const argv = [
      ...(options.prefix ?? []),
      ...(options.ns ? ["ip", "netns", "exec", options.ns] : []),
      ...deno,
    ];
    const child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: options.env,
      clearEnv: options.env !== undefined,
    }).spawn();
    this.child = child;
    this.#stdout = new Response(child.stdout).text();
    this.#stderrDone = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.stderr += chunk;
        if (this.readyAt === 0 && this.stderr.includes("netwatch: capturing on")) {
          this.readyAt = performance.now();
          this.#ready.resolve();
        }
      }
      this.#ready.reject(new Error(`netwatch never started capturing: ${this.stderr}`));
    })();
    this.#ready.promise.catch(() => {}); // observed by ready(); an exit without it is not unhandled
  }

  /** Resolves once capture has started; rejects if the process ends first or after `ms`. */
  async ready(ms = 20_000): Promise<void> {
    const timer = setTimeout(
      () => this.#ready.reject(new Error(`not capturing after ${ms} ms: ${this.stderr}`)),
      ms,
    );
    try {
      await this.#ready.promise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for the exit (killing the process after `ms`) and returns what it printed. */
  async result(ms = 20_000): Promise<{ code: number; stdout: string; stderr: string; killed: boolean }> {
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.child.kill("SIGKILL");
    }, ms);
    const status = await this.child.status;
    this.exitedAt = performance.now();
    clearTimeout(timer);
    const stdout = await this.#stdout;
    await this.#stderrDone;
    return { code: status.code, stdout, stderr: this.stderr, killed };
  }
}

/** The JSON lines of a `capture --json` run: packet records, then the final counters. */
function parseJsonOutput(
  stdout: string,
): { records: Record<string, unknown>[]; stats: Record<string, unknown> } {
  const lines = stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
  const last = lines.pop();
  assert.ok(last?.capture_stats, `no final capture_stats line in ${stdout.slice(-300)}`);
  return { records: lines, stats: last.capture_stats };
}

Deno.test({
  name:
    "capture cli: -f/-c/--json/-w capture exactly the filtered datagrams; the spool reads back identically",
  ignore: skip !== false,
  async fn() {
    // netwatch captures on end a, in a namespace of its own; b sends.
    const pair = new NetnsPair({ isolateA: true });
    const dir = await Deno.makeTempDir({ prefix: "netwatch-capture-" });
    const spool = `${dir}/spool.pcapng`;
    const count = 20;
    let filtered: Netwatch | undefined, everything: Netwatch | undefined;
    try {
      await pair.create();
      filtered = new Netwatch(
        ["capture", "-i", pair.ifA, "-f", "udp port 5555", "-c", String(count), "--json", "-w", spool],
        { ns: pair.nsA },
      );
      // A witness without a filter (text output, stopped by SIGINT): it shows the other traffic was there.
      everything = new Netwatch(["capture", "-i", pair.ifA], { ns: pair.nsA });
      await Promise.all([filtered.ready(), everything.ready()]);

      // Other traffic first (ping also resolves ARP, so no datagram waits on it), then the datagrams.
      await pair.exec(["ping", "-c", "3", "-i", "0.2", "-W", "2", pair.ipA]);
      await pair.sendUdp(5556, 10, { prefix: "other-" });
      const tool = await pair.sendUdp(5555, count, { prefix: "netwatch-" });
      const got = await filtered.result(15_000);
      await sleep(300); // let the witness see everything before stopping it
      const t0 = performance.now();
      everything.child.kill("SIGINT");
      const all = await everything.result(10_000);
      const sigintMs = everything.exitedAt - t0;

      // The filtered capture: exactly the N datagrams, decoded, then the counters.
      assert.equal(got.killed, false, `capture -c ${count} did not stop: ${got.stderr}`);
      assert.equal(got.code, 0, got.stderr);
      const { records, stats } = parseJsonOutput(got.stdout);
      assert.equal(records.length, count);
      records.forEach((r, i) => {
        assert.equal(r.n, i + 1);
        assert.deepEqual(
          [(r.ip as { src: string }).src, (r.ip as { dst: string }).dst, (r.udp as { dport: number }).dport],
          [pair.ipB, pair.ipA, 5555],
        );
        assert.equal((r.udp as { len: number }).len, 8 + "netwatch-000".length);
        assert.equal(r.link, "EN10MB");
        assert.equal(r.malformed, undefined);
      });
      assert.equal(stats.interface, pair.ifA);
      assert.equal(stats.filter, "udp port 5555");
      assert.equal(stats.file, spool);
      assert.equal(stats.stop_reason, "count");
      assert.equal(stats.decoded, count);
      assert.equal(stats.written, count);
      assert.ok((stats.received as number) >= count, JSON.stringify(stats));
      assert.equal(stats.dropped, 0);
      assert.match(
        got.stderr,
        /^netwatch: capturing on nwt\d+a \(EN10MB, snaplen 262144, nanosecond timestamps\), filter "udp port 5555", writing /,
      );
      assert.equal(got.stderr.trim().split("\n").length, 1, got.stderr); // --json: counters go to stdout

      // The witness saw the traffic the filter dropped, so the filter (not luck) kept it out.
      assert.equal(all.code, 0, all.stderr);
      const lines = all.stdout.trim().split("\n");
      const toA = (port: number) => lines.filter((l) => l.includes(`> ${pair.ipA}.${port}: UDP len`)).length;
      assert.equal(toA(5555), count);
      assert.equal(toA(5556), 10);
      assert.equal(
        lines.filter((l) => l.includes(`${pair.ipB} > ${pair.ipA}: ICMP type 8 code 0`)).length,
        3,
      );
      assert.match(
        all.stderr,
        /netwatch: stopped \(SIGINT\) after [\d.]+ s: received \d+, dropped by kernel 0, dropped by interface 0; decoded \d+\n$/,
      );
      assert.ok(sigintMs < 5000, `SIGINT took ${sigintMs} ms`);

      // The spool, read back by netwatch: the very records printed live.
      const file = await openCapture(spool);
      const fromFile: Record<string, unknown>[] = [];
      // Through JSON, as printed: decoder views leave undefined fields that JSON drops.
      await runSource(file, (p) => void fromFile.push(JSON.parse(JSON.stringify(packetRecord(p)))));
      assert.deepEqual(fromFile, records);
      const { linkType, snaplen, name, filter, tsDigits } = file.interfaces[0];
      assert.deepEqual(
        { linkType, snaplen, name, filter, tsDigits },
        { linkType: 1, snaplen: 262144, name: pair.ifA, filter: "udp port 5555", tsDigits: 9 },
      );

      // ... and by tshark: same lengths, ports, addresses and nanosecond timestamps.
      let tsharkNote = "tshark not installed: not compared";
      if (hasProgram("tshark")) {
        const out = await run("tshark", [
          "-n",
          "-r",
          spool,
          "-T",
          "fields",
          "-E",
          "separator=,",
          "-e",
          "frame.len",
          "-e",
          "udp.dstport",
          "-e",
          "ip.src",
          "-e",
          "frame.time_epoch",
        ]);
        const rows = out.split("\n").filter((l) => /^\d/.test(l));
        assert.deepEqual(rows, records.map((r) => `${r.len},5555,${pair.ipB},${r.ts}`));
        tsharkNote = `tshark read the same ${rows.length} packets`;
      }
      console.log(
        `sent ${count} to port 5555 (+10 to 5556, 3 pings) with ${tool}; captured ${records.length}; ` +
          `counters ${JSON.stringify(stats)}; witness saw ${lines.length} packets; ${tsharkNote}; ` +
          `SIGINT to exit ${sigintMs.toFixed(0)} ms`,
      );
    } finally {
      for (const p of [filtered, everything]) {
        try {
          p?.child.kill("SIGKILL");
        } catch { /* already exited */ }
        await p?.result().catch(() => {});
      }
      await pair.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture cli: a bad filter or device is refused before capture starts, with libpcap's message",
  ignore: skip !== false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "netwatch-capture-" });
    try {
      const [badFilter, noDevice] = await Promise.all([
        runCli(["capture", "-i", "lo", "-f", "udp port", "-w", `${dir}/never.pcapng`]),
        runCli(["capture", "-i", "nwnosuchdev0", "-c", "1"]),
      ]);
      assert.equal(badFilter.code, 1);
      assert.equal(badFilter.stdout, "");
      assert.equal(
        badFilter.stderr,
        `netwatch: Invalid filter "udp port": can't parse filter expression: syntax error\n`,
      );
      await assert.rejects(Deno.stat(`${dir}/never.pcapng`), Deno.errors.NotFound); // nothing was created
      assert.equal(noDevice.code, 1);
      assert.match(noDevice.stderr, /^netwatch: No capture device "nwnosuchdev0": .+\n$/);
      console.log(`bad filter: ${badFilter.stderr.trim()} | bad device: ${noDevice.stderr.trim()}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture cli: --duration 1 without traffic and SIGTERM both stop promptly",
  ignore: skip !== false,
  async fn() {
    // A filter nothing on lo matches: the reading thread sits blocked in the kernel the whole time.
    const quiet = ["-i", "lo", "-f", "udp port 9 and host 127.0.0.254", "--json"];
    const timed = new Netwatch(["capture", ...quiet, "--duration", "1"]);
    const termed = new Netwatch(["capture", ...quiet]);
    await Promise.all([timed.ready(), termed.ready()]);
    await sleep(300);
    const t0 = performance.now();
    termed.child.kill("SIGTERM");
    const [d, t] = await Promise.all([timed.result(15_000), termed.result(15_000)]);
    const durationMs = timed.exitedAt - timed.readyAt;
    const totalMs = timed.exitedAt - timed.started;
    const termMs = termed.exitedAt - t0;

    assert.equal(d.code, 0, d.stderr);
    const stats = parseJsonOutput(d.stdout);
    assert.deepEqual(stats.records, []);
    assert.equal(stats.stats.stop_reason, "duration");
    assert.equal(stats.stats.decoded, 0);
    assert.ok((stats.stats.duration_s as number) >= 1 && (stats.stats.duration_s as number) < 1.5);
    // Generous bounds (a loaded CI host): the figures printed below are what matters.
    assert.ok(durationMs < 3000, `--duration 1 exited ${durationMs} ms after capture started`);
    assert.equal(t.code, 0, t.stderr);
    assert.equal(parseJsonOutput(t.stdout).stats.stop_reason, "SIGTERM");
    assert.ok(termMs < 3000, `SIGTERM took ${termMs} ms`);
    console.log(
      `--duration 1: exit ${durationMs.toFixed(0)} ms after the start line (${
        (durationMs - 1000).toFixed(0)
      } ms past the deadline; ${totalMs.toFixed(0)} ms including Deno startup); ` +
        `SIGTERM to exit: ${termMs.toFixed(0)} ms`,
    );
  },
});

Deno.test({
  name: "capture cli: SIGINT stops promptly under a flood (tcpreplay --topspeed), spool intact",
  ignore: skip !== false || !hasProgram("tcpreplay"),
  async fn() {
    const pair = new NetnsPair({ isolateA: true });
    const dir = await Deno.makeTempDir({ prefix: "netwatch-flood-" });
    let cap: Netwatch | undefined, replay: Deno.ChildProcess | undefined;
    try {
      const { generateCapture } = await import("../bench/generate_capture.ts");
      await generateCapture(`${dir}/flood.pcap`, 20_000);
      await pair.create();
      cap = new Netwatch(["capture", "-i", pair.ifA, "--json", "-w", `${dir}/spool.pcapng`], {
        ns: pair.nsA,
      });
      await cap.ready();
      // ~1M packets from memory (-K), far more than netwatch decodes in the 1.5 s before the signal.
      replay = new Deno.Command("ip", {
        args: [
          "netns",
          "exec",
          pair.nsB,
          "tcpreplay",
          "-K",
          "--topspeed",
          "--loop=50",
          "-i",
          pair.ifB,
          `${dir}/flood.pcap`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      await sleep(1500);
      const t0 = performance.now();
      cap.child.kill("SIGINT");
      const r = await cap.result(30_000);
      const stopMs = cap.exitedAt - t0;
      assert.equal(r.code, 0, r.stderr);
      const { records, stats } = parseJsonOutput(r.stdout);
      assert.equal(stats.stop_reason, "SIGINT");
      assert.ok(records.length > 1000, `only ${records.length} packets before SIGINT`);
      assert.equal(stats.decoded, records.length);
      assert.equal(stats.written, records.length);
      // The spool holds exactly what was printed, though the capture was stopped mid-flood.
      let n = 0;
      await runSource(await openCapture(`${dir}/spool.pcapng`), () => void n++);
      assert.equal(n, records.length);
      console.log(
        `SIGINT mid-flood: exit after ${stopMs.toFixed(0)} ms; ${records.length} packets decoded; ` +
          `counters ${JSON.stringify({ ...stats, file: undefined })}`,
      );
      assert.ok(stopMs < 3000, `SIGINT under a flood took ${stopMs} ms`);
    } finally {
      try {
        replay?.kill("SIGKILL");
      } catch { /* already exited */ }
      await replay?.status;
      try {
        cap?.child.kill("SIGKILL");
      } catch { /* already exited */ }
      await cap?.result().catch(() => {});
      await pair.destroy();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture cli: an unprivileged user gets the actionable permission message (capture and doctor)",
  ignore: skip !== false,
  async fn() {
    const setpriv = which("setpriv");
    if (setpriv === undefined) return console.log("setpriv not installed: skipped");
    const uid = Number((await run("id", ["-u", "nobody"], false)).trim());
    const gid = Number((await run("id", ["-g", "nobody"], false)).trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return console.log("no user nobody: skipped");
    const dir = await Deno.makeTempDir({ prefix: "netwatch-perm-" });
    try {
      await Deno.chmod(dir, 0o755);
      await Deno.mkdir(`${dir}/deno_dir`);
      await Deno.chown(`${dir}/deno_dir`, uid, gid);
      const env = { HOME: dir, DENO_DIR: `${dir}/deno_dir`, NO_COLOR: "1", PATH: "/usr/bin:/bin" };
      const prefix = [setpriv, `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups"];
      const [cap, doctor] = await Promise.all([
        new Netwatch(["capture", "-i", "lo", "-c", "1"], { prefix, env }).result(),
        new Netwatch(["doctor", "--json"], { prefix, env }).result(),
      ]);
      if (cap.stderr.includes("error: ") && !cap.stderr.startsWith("netwatch:")) {
        return console.log(`deno is not runnable as nobody (${cap.stderr.slice(0, 200)}): skipped`);
      }
      // nobody's fresh Deno cache makes Deno itself print "Download <url>" lines for the npm packages in the
      // import map (a compiled binary never does); what is asserted is netwatch's own output.
      cap.stderr = cap.stderr.split("\n").filter((l) => !l.startsWith("Download ")).join("\n");
      assert.equal(cap.code, 1, "nobody could capture on lo: is the deno binary setcap'd?");
      assert.equal(cap.stdout, "");
      assert.equal(cap.stderr.trim().split("\n").length, 1, cap.stderr);
      assert.match(cap.stderr, /^netwatch: Cannot capture on "lo": permission denied/);
      assert.match(cap.stderr, /sudo setcap cap_net_raw,cap_net_admin=eip \/path\/to\/netwatch/);
      assert.match(cap.stderr, /never setcap the deno executable/);

      assert.equal(doctor.code, 1, doctor.stderr);
      const report = JSON.parse(doctor.stdout);
      assert.equal(report.ok, false);
      assert.equal(report.uid, uid);
      const byName = Object.fromEntries(report.checks.map((c: { name: string }) => [c.name, c]));
      assert.equal(byName.libpcap.ok, true);
      assert.equal(byName.capture.ok, false);
      assert.equal(byName.capture.code, "permission");
      assert.match(byName.capture.fix, /setcap cap_net_raw,cap_net_admin=eip \/path\/to\/netwatch/);
      assert.doesNotMatch(byName.capture.fix, /setcap cap_\S+ \S*\/deno(\s|$)/);
      assert.equal(byName.interfaces.ok, true); // listing needs no privileges
      console.log(`as nobody: ${cap.stderr.trim()}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture cli: doctor as root says capture works and exits 0",
  ignore: skip !== false,
  async fn() {
    const r = await runCli(["doctor"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok +libpcap +libpcap version /m);
    assert.match(r.stdout, /^ok +capture +opened "lo" \(EN10MB, nanosecond timestamps\)/m);
    assert.match(r.stdout, /^ok +interfaces +\d+ devices?: .*\blo \(up, loopback\)/m);
    assert.match(r.stdout, /^Capture works/m);
  },
});

Deno.test({
  name: "filter cli: valid expressions print the program as tcpdump -d does; invalid ones libpcap's error",
  ignore: noLibpcap !== false,
  async fn() {
    const [good, words, bad, badJson, sll2, badType] = await Promise.all([
      runCli(["filter", "udp port 53"]),
      runCli(["filter", "udp", "port", "53"]), // unquoted words are joined, as tcpdump does
      runCli(["filter", "tcp port"]),
      runCli(["filter", "--json", "host 999.1.1.1"]),
      runCli(["filter", "--json", "--link-type", "LINUX_SLL2", "ip"]),
      runCli(["filter", "--link-type", "nonsense", "ip"]),
    ]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stderr, "");
    assert.match(good.stdout, /^\(000\) ldh +\[12\]\n/);
    assert.match(good.stdout, /\(\d{3}\) ret +#262144\n/);
    assert.equal(words.stdout, good.stdout);
    if (hasProgram("tcpdump")) {
      const tcpdump = await new Deno.Command("tcpdump", {
        args: ["-d", "udp port 53"],
        stdout: "piped",
        stderr: "null",
      }).output();
      assert.equal(good.stdout, decoder.decode(tcpdump.stdout));
    }

    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.equal(
      bad.stderr,
      `netwatch: Invalid filter "tcp port": can't parse filter expression: syntax error\n`,
    );

    assert.equal(badJson.code, 1);
    const j = JSON.parse(badJson.stdout);
    assert.equal(j.valid, false);
    assert.equal(j.expression, "host 999.1.1.1");
    assert.match(j.error, /999\.1\.1\.1/);
    assert.equal(j.instructions, undefined);

    assert.equal(sll2.code, 0, sll2.stderr);
    const s = JSON.parse(sll2.stdout);
    assert.deepEqual([s.valid, s.link_type, s.link_type_name], [true, 276, "LINUX_SLL2"]);
    assert.ok(s.instructions.length > 1);

    assert.equal(badType.code, 2);
    assert.match(badType.stderr, /--link-type needs a LINKTYPE number/);
  },
});

Deno.test({
  name: "interfaces cli: --json lists lo with its addresses and flags; the table shows it too",
  ignore: noLibpcap !== false || Deno.build.os !== "linux",
  async fn() {
    const [json, table] = await Promise.all([runCli(["interfaces", "--json"]), runCli(["interfaces"])]);
    assert.equal(json.code, 0, json.stderr);
    const list = JSON.parse(json.stdout) as {
      name: string;
      flags: Record<string, unknown>;
      addresses: { family: string; addr: string; netmask?: string }[];
    }[];
    const lo = list.find((i) => i.name === "lo");
    assert.ok(lo, `no lo in ${list.map((i) => i.name).join(", ")}`);
    assert.equal(lo.flags.loopback, true);
    assert.equal(lo.flags.up, true);
    assert.ok(
      lo.addresses.some((a) => a.family === "ipv4" && a.addr === "127.0.0.1" && a.netmask === "255.0.0.0"),
    );
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ *# +NAME +FLAGS +LINK TYPES +ADDRESSES$/m);
    assert.match(table.stdout, /^ *\d+ +lo +up,running,loopback +\S+ +/m);
    assert.match(table.stdout, / 127\.0\.0\.1\/8$/m);
  },
});
