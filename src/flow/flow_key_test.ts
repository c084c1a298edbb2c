import assert from "node:assert/strict";
import { FlowKey } from "./flow_key.ts";
import { type PacketSpec, TestPackets } from "./_test_packets.ts";

const tp = new TestPackets();

function keyOf(s: PacketSpec): FlowKey | undefined {
  const k = new FlowKey();
  return k.fromLayers(tp.packet(s).layers) ? k.clone() : undefined;
}

Deno.test("flow key: both directions of a TCP conversation share a hash and match reversed", () => {
  const ab = keyOf({ src: "10.0.0.1", dst: "192.0.2.80", sport: 40000, dport: 80 })!;
  const ba = keyOf({ src: "192.0.2.80", dst: "10.0.0.1", sport: 80, dport: 40000 })!;
  assert.equal(ab.hash, ba.hash);
  assert.ok(ab.reverseOf(ba) && ba.reverseOf(ab));
  assert.ok(!ab.sameDirection(ba));
  assert.ok(ab.sameDirection(keyOf({ src: "10.0.0.1", dst: "192.0.2.80", sport: 40000, dport: 80 })!));
  assert.equal(ab.toString(), "tcp 10.0.0.1:40000 -> 192.0.2.80:80");
  assert.equal(ab.src, "10.0.0.1");
  assert.equal(ab.dst, "192.0.2.80");
  assert.ok(ab.hash >= 0 && ab.hash < 2 ** 30);
});

Deno.test("flow key: ports, protocol and addresses tell conversations apart", () => {
  const base: PacketSpec = { src: "10.0.0.1", dst: "192.0.2.80", sport: 40000, dport: 80 };
  const k = keyOf(base)!;
  for (
    const other of [
      { ...base, sport: 40001 },
      { ...base, dport: 81 },
      { ...base, proto: "udp" as const },
      { ...base, dst: "192.0.2.81" },
      // Swapping only the ports is a different conversation, though a naive symmetric hash may collide.
      { ...base, sport: 80, dport: 40000 },
    ]
  ) {
    const o = keyOf(other)!;
    assert.ok(!k.sameDirection(o) && !k.reverseOf(o), JSON.stringify(other));
  }
});

Deno.test("flow key: IPv6 addresses are keyed as four words each", () => {
  const ab = keyOf({ src: "2001:db8::1", dst: "2001:db8:0:1::53", proto: "udp", sport: 5353, dport: 53 })!;
  const ba = keyOf({ src: "2001:db8:0:1::53", dst: "2001:db8::1", proto: "udp", sport: 53, dport: 5353 })!;
  assert.equal(ab.v, 6);
  assert.equal(ab.hash, ba.hash);
  assert.ok(ab.reverseOf(ba));
  assert.equal(ab.toString(), "udp [2001:db8::1]:5353 -> [2001:db8:0:1::53]:53");
  const other = keyOf({ src: "2001:db8::2", dst: "2001:db8:0:1::53", proto: "udp", sport: 5353, dport: 53 })!;
  assert.ok(!ab.sameDirection(other));
});

Deno.test("flow key: the outermost VLAN id is part of the key", () => {
  const base: PacketSpec = { src: "10.0.0.1", dst: "10.0.0.2", sport: 1, dport: 2 };
  const v10 = keyOf({ ...base, vlan: [10] })!, v20 = keyOf({ ...base, vlan: [20] })!;
  const none = keyOf(base)!, qinq = keyOf({ ...base, vlan: [10, 99] })!;
  assert.equal(v10.vlan, 10);
  assert.equal(none.vlan, -1);
  assert.equal(qinq.vlan, 10);
  assert.ok(!v10.sameDirection(v20) && !v10.sameDirection(none));
  assert.ok(v10.sameDirection(qinq), "only the outermost tag is keyed");
  assert.equal(v10.toString(), "tcp 10.0.0.1:1 -> 10.0.0.2:2 vlan 10");
});

Deno.test("flow key: ICMP echo request and reply map to one key by identifier", () => {
  const req = keyOf({ src: "10.0.0.1", dst: "10.0.0.2", proto: "icmp", icmpType: 8, icmpId: 77 })!;
  const rep = keyOf({ src: "10.0.0.2", dst: "10.0.0.1", proto: "icmp", icmpType: 0, icmpId: 77 })!;
  const otherId = keyOf({ src: "10.0.0.1", dst: "10.0.0.2", proto: "icmp", icmpType: 8, icmpId: 78 })!;
  assert.deepEqual([req.sport, req.dport, req.ident], [8, 0, 77]);
  assert.ok(rep.reverseOf(req));
  assert.equal(rep.hash, req.hash);
  assert.ok(!otherId.sameDirection(req));
  const req6 = keyOf({ src: "fe80::1", dst: "fe80::2", proto: "icmp6", icmpType: 128, icmpId: 5 })!;
  const rep6 = keyOf({ src: "fe80::2", dst: "fe80::1", proto: "icmp6", icmpType: 129, icmpId: 5 })!;
  assert.ok(rep6.reverseOf(req6));
  assert.equal(req6.protoName, "icmp6");
  // An error message keys on type/code.
  const unreach = keyOf({ src: "10.0.0.9", dst: "10.0.0.1", proto: "icmp", icmpType: 3, icmpCode: 3 })!;
  assert.deepEqual([unreach.sport, unreach.dport, unreach.ident], [3, 3, 0]);
});

Deno.test("flow key: a tunnelled packet is keyed on the innermost packet", () => {
  const inner: PacketSpec = { src: "10.1.0.1", dst: "10.2.0.2", sport: 5000, dport: 443 };
  const tunnelled = keyOf({ ...inner, ipip: ["203.0.113.1", "203.0.113.2"] })!;
  const plain = keyOf(inner)!;
  assert.ok(tunnelled.sameDirection(plain));
  assert.equal(tunnelled.tunnel, "ipip");
  assert.equal(plain.tunnel, undefined);
});

Deno.test("flow key: fragments awaiting reassembly and non-IP packets are not keyed", () => {
  const first = { src: "10.0.0.1", dst: "10.0.0.2", proto: "udp" as const, sport: 1, dport: 2, payload: 64 };
  assert.equal(keyOf({ ...first, mf: true, ipId: 9, slice: [0, 32] }), undefined);
  // The fragment that completes the datagram carries the reassembled UDP header and is keyed.
  const done = keyOf({ ...first, ipId: 9, fragOffset: 32, slice: [32, 72] })!;
  assert.deepEqual([done.sport, done.dport, done.proto], [1, 2, 17]);
  const k = new FlowKey();
  assert.equal(k.fromLayers({}), false);
});
