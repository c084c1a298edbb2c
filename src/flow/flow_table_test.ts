import assert from "node:assert/strict";
import { type Flow, type FlowEndReason, FlowTable, type FlowTableOptions } from "./flow_table.ts";
import { clientHello, dnsQuery, frameBytes, type PacketSpec, T0, TestPackets } from "./_test_packets.ts";

/** A table that records what it ends, fed through hand-built packets. */
function setup(options: FlowTableOptions = {}) {
  const ended: [Flow, FlowEndReason][] = [];
  const table = new FlowTable({ ...options, onFlowEnd: (f, r) => ended.push([f, r]) });
  const tp = new TestPackets();
  const send = (s: PacketSpec) => table.update(tp.packet(s));
  return { table, ended, send, tp };
}

const C = "10.0.0.1", S = "192.0.2.80";
const up = (s: Partial<PacketSpec>): PacketSpec => ({ src: C, dst: S, sport: 40000, dport: 80, ...s });
const down = (s: Partial<PacketSpec>): PacketSpec => ({ src: S, dst: C, sport: 80, dport: 40000, ...s });

Deno.test("flow table: one flow for both directions; orig = first sender; bytes = wire lengths", () => {
  const { table, send } = setup();
  const a = send(up({ flags: "S", seq: 100, t: 0 }))!;
  const b = send(down({ flags: "SA", seq: 900, t: 0.01 }))!;
  const c = send(up({ flags: "A", seq: 101, t: 0.02 }))!;
  assert.equal(a, b);
  assert.equal(a, c);
  assert.equal(a.lastFromOrig, true);
  assert.equal(table.stats().active, 1);
  const j = a.toJSON();
  assert.deepEqual(j.orig, { addr: C, port: 40000, packets: 2, bytes: 108 });
  assert.deepEqual(j.resp, { addr: S, port: 80, packets: 1, bytes: 54 });

  // A conversation first seen from the server side has the server as orig.
  const d = send({ src: S, dst: C, sport: 443, dport: 50000, payload: 10, flags: "PA", t: 1 })!;
  send({ src: C, dst: S, sport: 50000, dport: 443, t: 1.1 });
  assert.equal(d.toJSON().orig.addr, S);
  assert.equal(d.toJSON().resp.packets, 1);
  assert.equal(d.tcp!.state, "midstream");
});

Deno.test("flow table: the JSON record of a complete TCP connection", () => {
  const { table, send } = setup();
  send(up({ flags: "S", seq: 100, t: 0 }));
  send(down({ flags: "SA", seq: 900, t: 0.000250 }));
  send(up({ flags: "A", seq: 101, t: 0.0005 }));
  send(up({ flags: "PA", seq: 101, payload: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", t: 0.001 }));
  send(down({ flags: "PA", seq: 901, payload: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", t: 0.002 }));
  send(up({ flags: "FA", seq: 138, t: 1.5 }));
  send(down({ flags: "FA", seq: 939, t: 1.5001 }));
  const f = send(up({ flags: "A", seq: 139, t: 1.5002 }))!;
  assert.deepEqual(f.toJSON(), {
    id: 1,
    proto: "tcp",
    orig: { addr: C, port: 40000, packets: 5, bytes: 54 * 5 + 37 },
    resp: { addr: S, port: 80, packets: 3, bytes: 54 * 3 + 38 },
    first_ts: `${T0}.000000`,
    last_ts: `${T0 + 1}.500200`,
    duration_s: 1.5002,
    state: "closed",
    history: "ShADdFf",
    app: "http",
    syn: 1,
    synack: 1,
    rst: 0,
    fin: 2,
    retransmissions: { orig: 0, resp: 0 },
    out_of_order: { orig: 0, resp: 0 },
    http_hosts: ["example.com"],
    http_methods: ["GET"],
  });
  assert.deepEqual(table.stats(), {
    active: 1,
    created: 1,
    expired: 0,
    evicted: 0,
    reused: 0,
    flushed: 0,
    unkeyed_packets: 0,
  });
});

Deno.test("flow table: UDP and ICMP flows have one_way/two_way state and no TCP fields", () => {
  const { send } = setup();
  const q = send({
    src: C,
    dst: "10.0.0.53",
    proto: "udp",
    sport: 5353,
    dport: 53,
    payload: dnsQuery("a.test"),
  })!;
  assert.equal(q.state, "one_way");
  send({ src: "10.0.0.53", dst: C, proto: "udp", sport: 53, dport: 5353, payload: 20 });
  const j = q.toJSON();
  assert.equal(j.state, "two_way");
  assert.equal(j.history, undefined);
  assert.equal(j.retransmissions, undefined);
  const ping = send({ src: C, dst: S, proto: "icmp", icmpType: 8, icmpId: 7, payload: 56 })!;
  assert.equal(send({ src: S, dst: C, proto: "icmp", icmpType: 0, icmpId: 7, payload: 56 }), ping);
  const pj = ping.toJSON();
  assert.deepEqual([pj.proto, pj.orig.port, pj.resp.port, pj.icmp_id, pj.resp.packets], ["icmp", 8, 0, 7, 1]);
});

Deno.test("flow table: the TCP states and history strings through the table", () => {
  const { send } = setup();
  // half-open: SYN, no answer
  const h = send({ src: C, dst: S, sport: 1, dport: 22, flags: "S", seq: 5 })!;
  send({ src: C, dst: S, sport: 1, dport: 22, flags: "S", seq: 5, t: 1 });
  assert.deepEqual([h.toJSON().state, h.toJSON().history, h.toJSON().syn], ["half_open", "S", 2]);
  // rejected: SYN answered by RST
  const r = send({ src: C, dst: S, sport: 2, dport: 23, flags: "S", seq: 5 })!;
  send({ src: S, dst: C, sport: 23, dport: 2, flags: "RA", ack: 6 });
  assert.deepEqual([r.toJSON().state, r.toJSON().history, r.toJSON().rst], ["rejected", "Sr", 1]);
  // reset after the handshake
  const x = send({ src: C, dst: S, sport: 3, dport: 80, flags: "S", seq: 5 })!;
  send({ src: S, dst: C, sport: 80, dport: 3, flags: "SA", seq: 50 });
  send({ src: C, dst: S, sport: 3, dport: 80, flags: "A", seq: 6 });
  send({ src: C, dst: S, sport: 3, dport: 80, flags: "RA", seq: 6 });
  assert.deepEqual([x.toJSON().state, x.toJSON().history], ["reset", "ShAR"]);
});

Deno.test("flow table: retransmissions and out-of-order segments per direction", () => {
  const { send } = setup();
  const seq0 = 0xffffffa0; // the stream crosses the 2^32 wrap
  send(up({ flags: "S", seq: seq0 }));
  send(down({ flags: "SA", seq: 7 }));
  send(up({ flags: "A", seq: seq0 + 1 }));
  send(up({ flags: "PA", seq: seq0 + 1, payload: 100 }));
  send(up({ flags: "PA", seq: (seq0 + 201) >>> 0, payload: 100 })); // one segment missing
  send(up({ flags: "PA", seq: (seq0 + 101) >>> 0, payload: 100 })); // arrives late: out-of-order
  send(up({ flags: "PA", seq: seq0 + 1, payload: 100 })); // the first again: retransmission
  send(down({ flags: "PA", seq: 8, payload: 10 }));
  const f = send(down({ flags: "PA", seq: 8, payload: 10 }))!;
  const j = f.toJSON();
  assert.deepEqual(j.retransmissions, { orig: 1, resp: 1 });
  assert.deepEqual(j.out_of_order, { orig: 1, resp: 0 });
  assert.equal(j.history, "ShADTdt");
});

Deno.test("flow table: idle flows expire in packet time, swept at most once per second", () => {
  const { table, ended, send } = setup({ timeouts: { udp: 1 } });
  const udp = (sport: number, t: number) =>
    send({ src: C, dst: S, proto: "udp", sport, dport: 9, payload: 4, t });
  const a = udp(1, 0.5); // first update sweeps (nothing) and schedules the next sweep at t >= 1
  udp(2, 1.2); // sweep at 1.2: a idle 0.7 s, kept; next sweep at t >= 2
  udp(2, 1.6); // no sweep: a is idle 1.1 s but stays until the next sweep
  assert.equal(table.stats().active, 2);
  assert.equal(ended.length, 0);
  udp(2, 2.0); // sweep: a ends
  assert.deepEqual(ended.map(([f, r]) => [f.id, r]), [[a!.id, "expired"]]);
  assert.equal(a!.endReason, "expired");
  assert.equal(a!.toJSON().end_reason, "expired");
  assert.equal(table.stats().expired, 1);
  // A packet of an idle flow arriving before any sweep starts a new flow; the old one is expired first.
  const b1 = udp(2, 2.1);
  const b2 = udp(2, 3.5); // idle 1.4 s > 1 s
  assert.notEqual(b1, b2);
  assert.equal(table.stats().expired, 2);
  assert.equal(b2!.toJSON().first_ts, `${T0 + 3}.500000`);
});

Deno.test("flow table: closed and half-open TCP flows expire sooner than established ones", () => {
  const { table, ended, send } = setup({ timeouts: { tcpEstablished: 100, tcpClosed: 5, tcpHalfOpen: 3 } });
  const tcp = (sport: number, flags: string, t: number, seq = 1, fromClient = true) =>
    send(
      fromClient
        ? { src: C, dst: S, sport, dport: 80, flags, t, seq }
        : { src: S, dst: C, sport: 80, dport: sport, flags, t, seq },
    );
  const est = tcp(1, "PA", 0)!; // midstream: established timeout
  const fin = tcp(2, "PA", 0)!;
  tcp(2, "FA", 0.1, 1);
  tcp(2, "FA", 0.2, 9, false); // closed
  const rst = tcp(3, "PA", 0)!;
  tcp(3, "R", 0.3, 2); // reset
  const half = tcp(4, "S", 0.4)!; // SYN, no answer
  tcp(9, "PA", 3.5); // sweep: half idle 3.1 > 3
  assert.deepEqual(ended.map(([f]) => f.id), [half.id]);
  tcp(9, "PA", 5.4); // sweep: fin idle 5.2, rst idle 5.1
  assert.deepEqual(ended.map(([f]) => f.id).sort(), [half.id, fin.id, rst.id].sort());
  assert.equal(fin.toJSON().state, "closed");
  assert.equal(rst.toJSON().state, "reset");
  assert.equal(est.endReason, undefined);
  tcp(9, "PA", 100.5); // est idle 100.5 > 100
  assert.equal(est.endReason, "expired");
  assert.equal(table.stats().expired, 4);
});

Deno.test("flow table: at maxFlows the least recently seen flow is evicted and counted", () => {
  const { table, ended, send } = setup({ maxFlows: 3 });
  const udp = (sport: number, t: number) =>
    send({ src: C, dst: S, proto: "udp", sport, dport: 9, payload: 4, t });
  const f1 = udp(1, 0), f2 = udp(2, 0.1), f3 = udp(3, 0.2);
  udp(1, 0.3); // f1 is now the most recent
  const f4 = udp(4, 0.4);
  assert.deepEqual(ended.map(([f, r]) => [f.id, r]), [[f2!.id, "evicted"]]);
  udp(5, 0.5);
  assert.deepEqual(ended.map(([f]) => f.id), [f2!.id, f3!.id]);
  assert.deepEqual(table.stats(), {
    active: 3,
    created: 5,
    expired: 0,
    evicted: 2,
    reused: 0,
    flushed: 0,
    unkeyed_packets: 0,
  });
  assert.deepEqual([...table.flows()].map((f) => f.id).sort(), [f1!.id, f4!.id, 5]);
  // Eviction crosses timeout classes: the oldest TCP flow goes before a newer UDP flow.
  send({ src: C, dst: S, sport: 7, dport: 80, flags: "PA", t: 0.6 });
  assert.equal(ended.at(-1)![0].id, f1!.id);
});

Deno.test("flow table: the VLAN id separates otherwise equal flows", () => {
  const { table, send } = setup();
  const a = send(up({ vlan: [100] }))!;
  const b = send(up({ vlan: [200] }))!;
  assert.equal(send(down({ vlan: [100] })), a);
  assert.notEqual(a, b);
  assert.equal(table.stats().active, 2);
  assert.equal(a.toJSON().vlan, 100);
  assert.equal(send(up({}))!.toJSON().vlan, undefined);
});

Deno.test("flow table: a new SYN on a finished connection's ports starts a new flow (reused)", () => {
  const { table, ended, send } = setup();
  const first = send(up({ flags: "S", seq: 10 }))!;
  send(down({ flags: "RA", seq: 0, ack: 11 }));
  assert.equal(send(up({ flags: "S", seq: 10, t: 1 })), first, "a retransmitted SYN stays in the flow");
  const second = send(up({ flags: "S", seq: 5000, t: 2 }))!;
  assert.notEqual(second, first);
  assert.deepEqual(ended.map(([f, r]) => [f.id, r]), [[first.id, "reused"]]);
  assert.equal(table.stats().reused, 1);
  assert.equal(second.toJSON().history, "S");
});

Deno.test("flow table: application facts are kept, first seen, bounded and counted", () => {
  const { send } = setup({ maxDnsNames: 2, maxHttpValues: 2 });
  const dns = (name: string) =>
    send({ src: C, dst: "10.0.0.53", proto: "udp", sport: 5000, dport: 53, payload: dnsQuery(name) })!;
  for (const n of ["a.example", "b.example", "a.example", "c.example", "d.example"]) dns(n);
  const dj = dns("a.example").toJSON();
  assert.equal(dj.app, "dns");
  assert.deepEqual(dj.dns_names, ["a.example", "b.example"]);
  assert.equal(dj.dns_names_left_out, 2);

  const req = (host: string, method = "GET", ua = "curl/8") =>
    send(up({ flags: "PA", payload: `${method} / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${ua}\r\n\r\n` }))!;
  req("one.test");
  req("two.test", "POST", "wget");
  const hj = req("three.test", "PUT", "x").toJSON();
  assert.deepEqual(hj.http_hosts, ["one.test", "two.test"]);
  assert.deepEqual(hj.http_methods, ["GET", "POST"]);
  assert.deepEqual(hj.http_user_agents, ["curl/8", "wget"]);
  assert.equal(hj.http_left_out, 3);

  const tls = (sni: string) =>
    send({ src: C, dst: S, sport: 50000, dport: 443, flags: "PA", payload: clientHello(sni) })!;
  tls("first.example");
  const tj = tls("second.example").toJSON();
  assert.equal(tj.app, "tls");
  assert.equal(tj.tls!.sni, "first.example");
  assert.match(tj.tls!.ja3!, /^[0-9a-f]{32}$/);
  assert.equal(typeof tj.tls!.ja4, "string");
  assert.equal(tj.tls!.version, "TLS 1.2");
});

Deno.test("flow table: unkeyed packets are counted, flush ends every flow, find does not account", () => {
  const { table, ended, send, tp } = setup();
  assert.equal(
    send({ src: C, dst: S, proto: "udp", sport: 1, dport: 2, payload: 64, mf: true, slice: [0, 32] }),
    undefined,
  );
  assert.equal(table.stats().unkeyed_packets, 1);
  const f = send(up({}))!;
  send({ src: C, dst: S, proto: "udp", sport: 1, dport: 2, payload: 4 });
  assert.equal(table.find(tp.packet(down({}))), f);
  assert.equal(f.respPackets, 0);
  assert.equal(table.flush(), 2);
  assert.deepEqual(ended.map(([, r]) => r), ["flushed", "flushed"]);
  assert.deepEqual(table.stats().active, 0);
  assert.deepEqual([...table.flows()], []);
});

Deno.test("flow table: bad options throw RangeError", () => {
  assert.throws(() => new FlowTable({ maxFlows: 0 }), RangeError);
  assert.throws(() => new FlowTable({ timeouts: { udp: -1 } }), RangeError);
  assert.throws(() => new FlowTable({ maxDnsNames: 1.5 }), RangeError);
  assert.equal(new FlowTable({ timeouts: { udp: Infinity } }).timeouts.udp, Infinity);
});

/** mulberry32: a small seeded PRNG, so a failing fuzz case can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("flow table: seeded fuzz: mutated packets never throw and the counts stay consistent", () => {
  const rnd = prng(20240607);
  const bases = [
    up({ flags: "S", seq: 1 }),
    down({ flags: "SA", seq: 0xfffffff0, payload: 30 }),
    up({ flags: "FA", vlan: [7, 8], payload: "GET / HTTP/1.1\r\nHost: x\r\n\r\n" }),
    {
      src: "2001:db8::1",
      dst: "2001:db8::2",
      proto: "udp" as const,
      sport: 53,
      dport: 9,
      payload: dnsQuery("a.b"),
    },
    { src: C, dst: S, proto: "icmp" as const, icmpType: 8, icmpId: 3, payload: 16 },
    { src: "fe80::1", dst: "ff02::1", proto: "icmp6" as const, icmpType: 135 },
    {
      ...up({ flags: "PA", payload: clientHello("fuzz.test") }),
      ipip: ["203.0.113.1", "203.0.113.2"] as [string, string],
    },
    {
      src: C,
      dst: S,
      proto: "udp" as const,
      sport: 1,
      dport: 2,
      payload: 64,
      mf: true,
      slice: [0, 32] as [number, number],
    },
  ].map(frameBytes);
  let ended = 0;
  const table = new FlowTable({
    maxFlows: 40,
    timeouts: { udp: 2, tcpClosed: 1, tcpHalfOpen: 1, tcpEstablished: 5, icmp: 2 },
    onFlowEnd: () => ended++,
  });
  const tp = new TestPackets();
  let t = 0;
  for (let i = 0; i < 4000; i++) {
    const frame = bases[Math.floor(rnd() * bases.length)].slice();
    // Vary the addresses and ports a little so that many flows are made, then damage the frame.
    frame[frame.length > 40 ? 33 : 13] ^= Math.floor(rnd() * 64);
    const flips = Math.floor(rnd() * 4);
    for (let f = 0; f < flips; f++) frame[Math.floor(rnd() * frame.length)] ^= 1 << Math.floor(rnd() * 8);
    const cut = rnd() < 0.2 ? Math.floor(rnd() * frame.length) : frame.length;
    t += rnd() < 0.01 ? -0.5 : rnd() * 0.04; // the clock may step back
    const flow = table.update(tp.decode(frame.subarray(0, cut), Math.max(0, t)));
    if (flow !== undefined) JSON.stringify(flow);
  }
  const st = table.stats();
  assert.equal(st.active, [...table.flows()].length);
  assert.equal(st.created - st.expired - st.evicted - st.reused, st.active);
  assert.equal(ended, st.expired + st.evicted + st.reused);
  assert.ok(st.active <= 40);
  assert.ok(st.evicted > 0 && st.expired > 0, JSON.stringify(st));
  table.flush();
  assert.equal(table.stats().active, 0);
});
