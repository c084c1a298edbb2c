import assert from "node:assert/strict";
import { listInterfaces, parseSockaddr } from "./interfaces.ts";
import { loadLibpcap } from "./load.ts";

function libpcapMissing(): string | false {
  try {
    loadLibpcap();
    return false;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
const missing = libpcapMissing();
if (missing) console.log(`skipping listInterfaces tests: ${missing}`);

Deno.test({
  name: "listInterfaces: lo with 127.0.0.1, flags and (as root) its link type",
  ignore: missing !== false || Deno.build.os !== "linux",
  fn() {
    const all = listInterfaces();
    const lo = all.find((i) => i.name === "lo");
    assert.ok(lo, `no lo in ${all.map((i) => i.name).join(", ")}`);
    const v4 = lo.addresses.find((a) => a.family === "ipv4");
    assert.deepEqual(v4, { family: "ipv4", addr: "127.0.0.1", netmask: "255.0.0.0" });
    assert.equal(lo.flags.loopback, true);
    assert.equal(lo.flags.up, true);
    if (Deno.uid() === 0) {
      assert.deepEqual(lo.link_types?.[0], { value: 1, name: "EN10MB", description: "Ethernet" });
      const any = all.find((i) => i.name === "any");
      if (any?.link_types) assert.ok(any.link_types.some((t) => t.value === 113 || t.value === 276));
    } else {
      assert.match(lo.link_types_note ?? "", /not probed/);
    }
    // Side-effecting pseudo-devices are never opened.
    for (const dev of all.filter((i) => /^(nfqueue|nflog|dbus-)/.test(i.name))) {
      assert.equal(dev.link_types, undefined);
    }
    // JSON-ready: no undefined or null values anywhere.
    assert.doesNotMatch(JSON.stringify(all), /null/);
    // Other tests create and delete veth interfaces in parallel: compare the devices of both listings.
    const first = new Set(all.map((i) => i.name));
    const names = listInterfaces({ linkTypes: false }).map((i) => i.name).filter((n) => first.has(n));
    const again = new Set(names);
    assert.deepEqual(names, all.map((i) => i.name).filter((n) => again.has(n)));
    assert.ok(names.includes("lo"));
  },
});

Deno.test("parseSockaddr: Linux sockaddr_in / sockaddr_in6 / sockaddr_ll", () => {
  // AF_INET (2) port 0 127.0.0.1
  const in4 = Uint8Array.from([2, 0, 0, 0, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseSockaddr(in4, "linux"), { family: "ipv4", addr: "127.0.0.1" });
  // AF_INET6 (10) port 0 flowinfo 0 fe80::fc:ff:fe00:1 scope 2
  const in6 = Uint8Array.from([
    10,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0xfe,
    0x80,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0xfc,
    0,
    0xff,
    0xfe,
    0,
    0,
    1,
    2,
    0,
    0,
    0,
  ]);
  assert.deepEqual(parseSockaddr(in6, "linux"), { family: "ipv6", addr: "fe80::fc:ff:fe00:1" });
  // AF_PACKET (17) protocol 0 ifindex 2 hatype 1 (ether) pkttype 0 halen 6 02:fc:00:00:00:01
  const ll = Uint8Array.from([17, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 6, 0x02, 0xfc, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual(parseSockaddr(ll, "linux"), { family: "link", addr: "02:fc:00:00:00:01" });
  // Unknown family, and a sockaddr_in cut short.
  assert.equal(parseSockaddr(Uint8Array.from([99, 0, 1, 2]), "linux"), undefined);
  assert.equal(parseSockaddr(in4.subarray(0, 6), "linux"), undefined);
});

Deno.test("parseSockaddr: macOS sa_len/sa_family bytes, sockaddr_dl; Windows AF_INET6 = 23", () => {
  // sa_len 16, AF_INET 192.168.1.5
  const in4 = Uint8Array.from([16, 2, 0, 0, 192, 168, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(parseSockaddr(in4, "darwin"), { family: "ipv4", addr: "192.168.1.5" });
  // sa_len 28, AF_INET6 (30) ::1
  const in6 = new Uint8Array(28);
  in6.set([28, 30]);
  in6[23] = 1;
  assert.deepEqual(parseSockaddr(in6, "darwin"), { family: "ipv6", addr: "::1" });
  // sockaddr_dl: len 20, AF_LINK 18, index 4, type 6, nlen 3, alen 6, slen 0, "en0", a4:83:e7:00:11:22
  const dl = Uint8Array.from([
    20,
    18,
    4,
    0,
    6,
    3,
    6,
    0,
    0x65,
    0x6e,
    0x30,
    0xa4,
    0x83,
    0xe7,
    0x00,
    0x11,
    0x22,
    0,
    0,
    0,
  ]);
  assert.deepEqual(parseSockaddr(dl, "darwin"), { family: "link", addr: "a4:83:e7:00:11:22" });
  // lo0's AF_LINK has no address: skipped.
  assert.equal(
    parseSockaddr(Uint8Array.from([20, 18, 1, 0, 24, 3, 0, 0, 0x6c, 0x6f, 0x30]), "darwin"),
    undefined,
  );
  // The same Linux bytes mean something else on macOS: family is byte 1 there.
  assert.equal(parseSockaddr(Uint8Array.from([2, 0, 0, 0, 127, 0, 0, 1]), "darwin"), undefined);
  const win6 = new Uint8Array(28);
  win6[0] = 23;
  win6[8] = 0x20;
  win6[9] = 0x01;
  win6[10] = 0x0d;
  win6[11] = 0xb8;
  win6[23] = 1;
  assert.deepEqual(parseSockaddr(win6, "windows"), { family: "ipv6", addr: "2001:db8::1" });
});

Deno.test("parseSockaddr: never throws on random bytes (seeded)", () => {
  let seed = 0x1234567;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const oses = ["linux", "darwin", "windows", "freebsd"] as const;
  for (let i = 0; i < 5000; i++) {
    const b = new Uint8Array(Math.floor(rand() * 40));
    for (let j = 0; j < b.length; j++) b[j] = rand() * 256;
    if (b.length > 1 && rand() < 0.5) {
      b[rand() < 0.5 ? 0 : 1] = [2, 10, 17, 18, 23, 30][Math.floor(rand() * 6)];
    }
    parseSockaddr(b, oses[i % oses.length]);
  }
});
