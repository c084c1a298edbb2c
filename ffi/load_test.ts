import assert from "node:assert/strict";
import { installHint, libpcapCandidates, loadLibpcap, openLibpcap } from "./load.ts";
import { PcapError } from "./pcap_error.ts";

Deno.test("libpcapCandidates: explicit path and env first, then the platform's names", () => {
  assert.deepEqual(libpcapCandidates("linux", "/opt/libpcap.so", "/env/libpcap.so"), [
    "/opt/libpcap.so",
    "/env/libpcap.so",
    "libpcap.so.1",
    "libpcap.so.0.8",
    "libpcap.so",
  ]);
  assert.deepEqual(libpcapCandidates("darwin", undefined, undefined).slice(0, 2), [
    "/usr/lib/libpcap.A.dylib",
    "libpcap.dylib",
  ]);
  const win = libpcapCandidates("windows", undefined, undefined);
  assert.match(win[0], /\\System32\\Npcap\\wpcap\.dll$/);
  assert.equal(win[1], "wpcap.dll");
});

Deno.test("openLibpcap: when nothing opens, a no_library error lists the names and the fix", () => {
  assert.throws(
    () => openLibpcap(["/nonexistent/libpcap.so.1", "libnetwatch-no-such-pcap.so"]),
    (err: unknown) => {
      assert.ok(err instanceof PcapError);
      assert.equal(err.code, "no_library");
      assert.match(err.message, /\/nonexistent\/libpcap\.so\.1 \(/);
      assert.match(err.message, /libnetwatch-no-such-pcap\.so \(/);
      assert.ok(err.message.includes(installHint()));
      return true;
    },
  );
  assert.match(installHint("linux"), /apt-get install libpcap0\.8.*dnf install libpcap/);
  assert.match(installHint("windows"), /Npcap/);
});

Deno.test({
  name: "loadLibpcap: opens the installed libpcap once and caches it",
  ignore: Deno.build.os !== "linux",
  fn() {
    let pcap;
    try {
      pcap = loadLibpcap();
    } catch (err) {
      return console.log(`libpcap not installed, skipped: ${(err as Error).message}`);
    }
    assert.match(pcap.version, /^libpcap version \d+\.\d+/);
    assert.equal(loadLibpcap(), pcap);
    assert.equal(typeof pcap.symbols.pcap_create, "function");
    console.log(`${pcap.path}: ${pcap.version}`);
  },
});
