/**
 * Decoder benchmark: full decode of every packet of a generated 1-million-packet mixed capture (DNS, HTTP,
 * TLS, bulk TCP, UDP), beside `tshark -r FILE -T fields` of the same fields and `tcpdump -r FILE -w
 * /dev/null`, in the same run. Targets: at least 20x faster than tshark, within 5x of the tcpdump read.
 * Usage: `deno task bench:decode [RUNS]` (default 3; tshark is slow, so it runs `TSHARK_RUNS`, default 1).
 *
 * @module
 */

import { openCapture } from "../src/capture/open_capture.ts";
import { runSource } from "../src/engine.ts";
import { available, benchCapture, median, row, time, timeCommand } from "./_measure.ts";

const runs = Number(Deno.args[0] ?? 3);
const tsharkRuns = Number(Deno.env.get("TSHARK_RUNS") ?? 1);
const path = await benchCapture();

/** The fields netwatch decodes, as tshark names them. */
const TSHARK_FIELDS = [
  "frame.time_epoch",
  "frame.len",
  "eth.src",
  "eth.dst",
  "ip.src",
  "ip.dst",
  "ip.proto",
  "ip.ttl",
  "tcp.srcport",
  "tcp.dstport",
  "tcp.flags",
  "tcp.seq_raw",
  "tcp.len",
  "udp.srcport",
  "udp.dstport",
  "dns.id",
  "dns.qry.name",
  "dns.qry.type",
  "dns.count.answers",
  "http.request.method",
  "http.request.uri",
  "http.host",
  "http.response.code",
  "tls.handshake.extensions_server_name",
  "tls.handshake.ja3",
]; // deno-fmt-ignore

async function decodeOnce(): Promise<number> {
  let n = 0, apps = 0;
  const result = await runSource(await openCapture(path), (p) => {
    n++;
    if (p.layers.app !== undefined) apps++;
  });
  if (result.error) throw result.error;
  if (apps === 0) throw new Error("no application layer decoded: the benchmark is not measuring decoding");
  return n;
}

const packets = await decodeOnce();
const hasTcpdump = await available("tcpdump"), hasTshark = await available("tshark");
const ours: number[] = [], dump: number[] = [], shark: number[] = [];
for (let i = 0; i < runs; i++) {
  ours.push(await time(decodeOnce));
  if (hasTcpdump) dump.push(await timeCommand("tcpdump", ["-r", path, "-w", "/dev/null"]));
  if (hasTshark && i < tsharkRuns) {
    const args = ["-n", "-r", path, "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields"];
    for (const f of TSHARK_FIELDS) args.push("-e", f);
    shark.push(await timeCommand("tshark", args));
  }
}
console.log(`decode benchmark: ${path}, ${packets.toLocaleString("en-US")} packets, ${runs} runs`);
if (hasTcpdump) row("tcpdump -r FILE -w /dev/null", dump, packets);
if (shark.length > 0) row(`tshark -T fields (${TSHARK_FIELDS.length} fields)`, shark, packets);
row("netwatch full decode", ours, packets, hasTcpdump ? median(dump) : undefined);
if (shark.length > 0) {
  console.log(`netwatch is ${(median(shark) / median(ours)).toFixed(1)}x faster than tshark`);
}
