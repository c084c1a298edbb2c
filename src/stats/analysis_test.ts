import assert from "node:assert/strict";
import { clientHello, dnsQuery, frameBytes, TestPackets } from "../flow/_test_packets.ts";
import { Analysis } from "./analysis.ts";
import type { HostStatsRecord } from "./host_stats.ts";
import type { DnsStatsRecord } from "./dns_stats.ts";
import type { FlowStatsRecord, TcpStatsRecord } from "./flow_stats.ts";
import { ProtocolHierarchy } from "./protocol_hierarchy.ts";

Deno.test("Analysis: every section is present, in order; a subset can be asked for", () => {
  const a = new Analysis();
  const tp = new TestPackets();
  a.add(tp.packet({ src: "10.0.0.1", dst: "10.0.0.2", proto: "udp", sport: 1, dport: 2 }));
  assert.deepEqual(Object.keys(a.toJSON()), [
    "summary",
    "protocols",
    "flows",
    "hosts",
    "dns",
    "http",
    "tls",
    "tcp",
    "timeline",
    "alerts",
  ]);
  assert.deepEqual(Object.keys(a.toJSON(["alerts", "summary"])), ["summary", "alerts"]);
  assert.deepEqual(a.toJSON(["alerts"]).alerts, []);
});

Deno.test("Analysis: hosts, pairs and names stay within their caps and count what they dropped", () => {
  const a = new Analysis({ top: 2, maxValues: 3, hosts: { maxHosts: 4, maxPairs: 2, maxDetail: 2 } });
  const tp = new TestPackets();
  // 10.0.0.1 asks resolver 10.0.0.53 for 6 names, then talks to 5 more hosts.
  for (let i = 0; i < 6; i++) {
    a.add(tp.packet({
      src: "10.0.0.1",
      dst: "10.0.0.53",
      proto: "udp",
      sport: 5000 + i,
      dport: 53,
      payload: dnsQuery(`n${i}.example${i}.com`),
      t: i,
    }));
  }
  for (let i = 0; i < 5; i++) {
    a.add(tp.packet({ src: "10.0.0.1", dst: `10.0.1.${i}`, proto: "udp", sport: 7, dport: 9, t: 10 + i }));
  }
  const j = a.toJSON();
  const hosts = j.hosts as HostStatsRecord;
  assert.equal(hosts.count, 4); // 10.0.0.1, 10.0.0.53, 10.0.1.0, 10.0.1.1
  assert.equal(hosts.dropped_packets, 3);
  assert.equal(hosts.top_by_packets_out.items.length, 1);
  assert.equal(hosts.top_by_packets_in.items.length, 2);
  assert.equal(hosts.top_by_packets_in.left_out, 1);
  assert.equal(hosts.top_by_packets_in.dropped, 3);
  assert.equal(hosts.conversations.items.length, 2);
  assert.equal(hosts.conversations.dropped, 4); // packets of pairs past the cap of 2
  const busiest = hosts.details.items[0];
  assert.equal(busiest.addr, "10.0.0.1");
  assert.equal(busiest.packets_out, 11);
  assert.equal(busiest.peers.items.length, 2); // its peer table holds 2
  assert.equal(busiest.peers.dropped, 4 * 42); // bytes of 4 packets to peers past the cap
  assert.deepEqual(busiest.ports_contacted.items.map((i) => i.value), ["53", "9"]);
  const dns = j.dns as DnsStatsRecord;
  assert.equal(dns.queries, 6);
  assert.equal(dns.distinct_names, 3);
  assert.deepEqual(dns.names, {
    items: [{ value: "n0.example0.com", count: 1 }, { value: "n1.example1.com", count: 1 }],
    left_out: 1,
    dropped: 3,
  });
  assert.equal(dns.base_domains.dropped, 3);
  assert.deepEqual(dns.resolvers.items, [{ value: "10.0.0.53", count: 6 }]);
  const flows = j.flows as FlowStatsRecord;
  assert.equal(flows.count, 11);
  assert.equal(flows.top_by_bytes.items.length, 2);
  assert.equal(flows.top_by_bytes.left_out, 9);
  assert.deepEqual(flows.by_app.dns, { flows: 6, packets: 6, bytes: flows.by_app.dns.bytes });
  assert.equal(flows.by_app.udp.flows, 5);
});

Deno.test("Analysis: a full flow table evicts, and evicted flows still count", () => {
  const a = new Analysis({ top: 3, flows: { maxFlows: 2 } });
  const tp = new TestPackets();
  for (let i = 0; i < 5; i++) {
    a.add(tp.packet({ src: "10.0.0.1", dst: "10.0.0.2", sport: 1000 + i, dport: 22, flags: "S", t: i }));
  }
  const j = a.toJSON();
  const flows = j.flows as FlowStatsRecord;
  assert.equal(flows.table.evicted, 3);
  assert.equal(flows.table.active, 2);
  assert.equal(flows.count, 5);
  assert.equal(flows.top_by_bytes.items.length, 3);
  const tcp = j.tcp as TcpStatsRecord;
  assert.equal(tcp.connections, 5);
  assert.equal(tcp.unanswered, 5);
  assert.equal(tcp.handshakes_failed, 5);
  // toJSON does not end live flows.
  assert.equal((a.toJSON().flows as FlowStatsRecord).table.active, 2);
});

Deno.test("ProtocolHierarchy: counts every layer of the path; the node cap stops descent, counted", () => {
  const tp = new TestPackets();
  const h = new ProtocolHierarchy(2);
  h.add(tp.packet({ src: "10.0.0.1", dst: "10.0.0.2", proto: "udp", sport: 1, dport: 2 }));
  h.add(tp.packet({ src: "10.0.0.1", dst: "10.0.0.2", proto: "tcp", sport: 1, dport: 2 }));
  h.add(tp.packet({ src: "::1", dst: "::2", proto: "icmp6" }));
  const j = h.toJSON();
  assert.equal(j.eth.packets, 3);
  assert.equal(j.eth.children!.ipv4.packets, 2);
  assert.equal(j.eth.children!.ipv4.children!.udp.packets, 1);
  assert.equal(j.eth.children!.ipv4.unlisted_packets, 1); // tcp would have been the third node
  assert.equal(j.eth.unlisted_packets, 1); // so would ipv6
  assert.equal(j.eth.bytes, j.eth.children!.ipv4.bytes + 14 + 40 + 8); // + the ICMPv6 frame
});

Deno.test("Analysis: never throws on damaged packets (seeded bit flips and truncations)", () => {
  const specs = [
    {
      src: "10.0.0.1",
      dst: "10.0.0.53",
      proto: "udp" as const,
      sport: 5000,
      dport: 53,
      payload: dnsQuery("a.example.co.uk"),
    },
    {
      src: "10.0.0.1",
      dst: "10.0.0.2",
      sport: 40000,
      dport: 443,
      flags: "PA",
      payload: clientHello("example.org"),
    },
    {
      src: "10.0.0.1",
      dst: "10.0.0.3",
      sport: 40001,
      dport: 80,
      flags: "PA",
      payload: "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: y\r\n\r\n",
    },
    { src: "fe80::1", dst: "fe80::2", proto: "icmp6" as const, icmpType: 128 },
  ];
  const frames = specs.map(frameBytes);
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const tp = new TestPackets();
  const a = new Analysis({
    top: 3,
    maxValues: 50,
    hosts: { maxHosts: 50, maxPairs: 50 },
    flows: { maxFlows: 50 },
  });
  for (let i = 0; i < 3000; i++) {
    const f = frames[rand(frames.length)].slice();
    for (let k = rand(4); k >= 0; k--) f[rand(f.length)] ^= 1 << rand(8);
    a.add(tp.decode(f.subarray(0, rand(3) === 0 ? rand(f.length) : f.length), i / 100));
  }
  const j = a.toJSON();
  assert.equal((j.summary as { packets: number }).packets, 3000);
  JSON.stringify(j);
});
