/**
 * Live capture tests. They need root (to capture and to build a network namespace) and libpcap; each
 * skips with a printed reason otherwise. Traffic only crosses a veth pair into a namespace created and
 * deleted here, and loopback.
 */
import assert from "node:assert/strict";
import { loadLibpcap } from "./load.ts";
import { openLiveCapture } from "./live_capture.ts";
import { PcapError } from "./pcap_error.ts";
import type { Frame } from "../src/capture/source.ts";
import { canUseNetns, NetnsPair, run } from "../test/_netns.ts";

function libpcapMissing(): string | false {
  try {
    loadLibpcap();
    return false;
  } catch (err) {
    return (err as Error).message;
  }
}

function skipReason(): string | false {
  if (Deno.build.os !== "linux") return "live tests run on Linux only";
  try {
    loadLibpcap();
  } catch (err) {
    return `libpcap missing: ${(err as Error).message}`;
  }
  return canUseNetns();
}
const skip = skipReason();
if (skip) console.log(`skipping live capture tests: ${skip}`);

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Resolves when `cond()` holds, or after `ms`. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
}

Deno.test({
  name: "live: captures exactly the UDP datagrams sent from a network namespace, with a BPF filter",
  ignore: skip !== false,
  async fn() {
    const pair = new NetnsPair();
    const port = 40000 + (Deno.pid % 20000);
    const count = 25;
    try {
      await pair.create();
      const { ifA: host, ipB: peerIp } = pair;

      const cap = openLiveCapture(host, { filter: `udp and src host ${peerIp} and dst port ${port}` });
      assert.equal(cap.linkType, 1);
      assert.equal(cap.tsDigits, 9);
      assert.deepEqual(cap.interfaces, [{
        linkType: 1,
        snaplen: 262144,
        name: host,
        filter: `udp and src host ${peerIp} and dst port ${port}`,
        tsDigits: 9,
      }]);
      const payloads: string[] = [];
      const numbers: number[] = [];
      let lastTs = 0;
      const decoder = new TextDecoder();
      const t0 = Date.now() / 1000;
      const done = cap.run((f: Frame) => {
        numbers.push(f.n);
        assert.equal(f.caplen, f.len);
        assert.equal(f.view.buffer, f.bytes.buffer);
        // Ethernet + IPv4 (no options) + UDP = 42 bytes before the payload.
        assert.equal(f.view.getUint16(f.start + 12), 0x0800);
        assert.equal(f.view.getUint16(f.start + 36), port);
        payloads.push(decoder.decode(f.bytes.subarray(f.start + 42, f.start + f.caplen)));
        const ts = f.tsSec + f.tsFrac / 1e9;
        assert.ok(f.tsFrac < 1e9 && ts >= lastTs);
        lastTs = ts;
      });

      // A real sender in the namespace: python3 if present, else deno.
      const tool = await pair.sendUdp(port, count, { prefix: "netwatch-" });
      // Generous: under load the worker module may still be compiling (packets wait in the ring).
      await until(() => payloads.length >= count, 8000);
      await until(() => cap.stats().received >= count, 2000); // stats refresh at least once a second
      const live = cap.stats();
      await new Promise((r) => setTimeout(r, 150)); // anything extra would show up now
      cap.close();
      await done;
      await cap.closed;
      const t1 = Date.now() / 1000;

      assert.equal(payloads.length, count, `captured ${payloads.length} of ${count}`);
      assert.deepEqual(
        payloads.toSorted(),
        Array.from({ length: count }, (_, i) => `netwatch-${String(i).padStart(3, "0")}`),
      );
      assert.deepEqual(numbers, Array.from({ length: count }, (_, i) => i + 1));
      assert.ok(lastTs >= t0 - 1 && lastTs <= t1 + 1, `timestamp ${lastTs} outside [${t0}, ${t1}]`);
      assert.ok(live.received >= count, `live stats ${JSON.stringify(live)}`);
      const final = cap.stats();
      assert.ok(final.received >= count && final.dropped === 0, `final stats ${JSON.stringify(final)}`);
      console.log(
        `sent ${count} with ${tool}, captured ${payloads.length}; ` +
          `stats ${JSON.stringify(final)}`,
      );
    } finally {
      await pair.destroy();
    }
  },
});

Deno.test({
  name: "live: close() with no traffic stops promptly",
  ignore: skip !== false,
  async fn() {
    const measured: string[] = [];
    for (let i = 0; i < 3; i++) {
      // A filter nothing on lo matches: the reader sits blocked in the kernel.
      const cap = openLiveCapture("lo", { filter: "udp port 9 and host 127.0.0.254" });
      let frames = 0;
      const done = cap.run(() => frames++);
      await new Promise((r) => setTimeout(r, 300)); // let the worker start and block
      const t0 = performance.now();
      cap.close();
      await done;
      const stopMs = performance.now() - t0;
      await cap.closed;
      const closedMs = performance.now() - t0;
      measured.push(`stop ${stopMs.toFixed(1)} ms (handle closed after ${closedMs.toFixed(1)} ms)`);
      assert.equal(frames, 0);
      assert.ok(stopMs < 500, `stop took ${stopMs} ms`);
      assert.ok(closedMs < 1000, `close took ${closedMs} ms`);
      cap.close(); // idempotent
      assert.deepEqual(await cap.run(() => {}), undefined); // run after the end resolves at once
    }
    console.log(`close() with no traffic: ${measured.join("; ")}`);
  },
});

Deno.test({
  name: "live: run rejects with libpcap's text when the interface disappears",
  ignore: skip !== false,
  async fn() {
    const a = `nwt${Deno.pid % 100000}x`;
    const b = `nwt${Deno.pid % 100000}y`;
    try {
      await run("ip", ["link", "add", a, "type", "veth", "peer", "name", b]);
      await run("ip", ["link", "set", a, "up"]);
      await run("ip", ["link", "set", b, "up"]);
      const cap = openLiveCapture(a);
      const outcome = cap.run(() => {}).then(() => undefined, (err: unknown) => err);
      await new Promise((r) => setTimeout(r, 300));
      await run("ip", ["link", "del", a]);
      const err = await outcome;
      assert.ok(err instanceof PcapError, `expected a PcapError, got ${err}`);
      assert.equal(err.code, "capture");
      assert.equal(err.device, a);
      assert.ok(err.pcapText.length > 0);
      console.log(`interface deleted: ${err.message}`);
      await cap.closed;
    } finally {
      await run("ip", ["link", "del", a], false);
    }
  },
});

Deno.test({
  name: "live: setup failures are PcapErrors with libpcap's text",
  ignore: skip !== false,
  async fn() {
    assert.throws(() => openLiveCapture("nwtest-nonexistent0"), (err: unknown) => {
      assert.ok(err instanceof PcapError);
      assert.equal(err.code, "no_device");
      assert.ok(err.pcapText.length > 0);
      return true;
    });
    assert.throws(() => openLiveCapture("lo", { filter: "tcp port" }), (err: unknown) => {
      assert.ok(err instanceof PcapError);
      assert.equal(err.code, "bad_filter");
      assert.equal(err.pcapText, "can't parse filter expression: syntax error");
      return true;
    });
    assert.throws(() => openLiveCapture("lo", { snaplen: 0 }), RangeError);
    // Opened but never run: close releases the handle directly.
    const cap = openLiveCapture("lo", { filter: "udp port 9" });
    assert.deepEqual(cap.stats(), { received: 0, dropped: 0, if_dropped: 0 });
    cap.close();
    await cap.closed;
  },
});

Deno.test({
  name: "live: an unprivileged user gets the actionable permission message",
  ignore: skip !== false,
  async fn() {
    const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"];
    let tool: string | undefined;
    for (const p of setpriv) if (await exists(p)) tool = p;
    if (!tool) return console.log("setpriv not installed: skipped");
    const uid = Number((await run("id", ["-u", "nobody"], false)).trim());
    const gid = Number((await run("id", ["-g", "nobody"], false)).trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) return console.log("no user nobody: skipped");
    const dir = await Deno.makeTempDir({ prefix: "netwatch-perm-" });
    try {
      await Deno.chmod(dir, 0o755);
      await Deno.mkdir(`${dir}/deno_dir`);
      await Deno.chown(`${dir}/deno_dir`, uid, gid);
      const script = `${dir}/probe.ts`;
      await Deno.writeTextFile(
        script,
        `import { openLiveCapture } from ${
          JSON.stringify(new URL("./live_capture.ts", import.meta.url).href)
        };
import { listInterfaces } from ${JSON.stringify(new URL("./interfaces.ts", import.meta.url).href)};
const result: Record<string, unknown> = {};
try {
  openLiveCapture("lo");
  result.opened = true;
} catch (err) {
  result.code = (err as { code?: string }).code;
  result.message = (err as Error).message;
  result.pcapText = (err as { pcapText?: string }).pcapText;
}
result.lo = listInterfaces().find((i) => i.name === "lo");
console.log(JSON.stringify(result));
`,
      );
      await Deno.chmod(script, 0o644);
      const deno = Deno.execPath();
      const out = await new Deno.Command(tool, {
        args: ["--reuid", String(uid), "--regid", String(gid), "--clear-groups", deno, "run", "-A", script],
        env: { HOME: dir, DENO_DIR: `${dir}/deno_dir`, NO_COLOR: "1" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(out.stdout).trim();
      const stderr = new TextDecoder().decode(out.stderr).trim();
      if (!out.success || !stdout.startsWith("{")) {
        return console.log(`deno is not runnable as nobody (${stderr.slice(0, 200)}): skipped`);
      }
      const result = JSON.parse(stdout.split("\n").pop()!);
      console.log(`as nobody: ${result.message}`);
      assert.equal(result.opened, undefined, "nobody could open lo: is the deno binary setcap'd?");
      assert.equal(result.code, "permission");
      assert.match(result.message, /^Cannot capture on "lo": permission denied/);
      assert.match(result.message, /sudo setcap cap_net_raw,cap_net_admin=eip \/path\/to\/netwatch/);
      assert.match(result.message, /never setcap the deno executable/);
      assert.ok(result.pcapText.length > 0);
      // Listing works without privileges; link types are skipped with a note.
      assert.equal(result.lo.link_types, undefined);
      assert.match(result.lo.link_types_note, /^not probed: no permission/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "live: without privileges (this user) the permission message is actionable",
  ignore: Deno.build.os !== "linux" || libpcapMissing() !== false || Deno.uid() === 0,
  fn() {
    let cap;
    try {
      cap = openLiveCapture("lo");
    } catch (err) {
      assert.ok(err instanceof PcapError);
      assert.equal(err.code, "permission");
      assert.match(err.message, /sudo setcap cap_net_raw,cap_net_admin=eip /);
      return;
    }
    cap.close();
    console.log("this user may capture (capabilities granted?): nothing to check");
  },
});
