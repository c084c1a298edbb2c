/**
 * The plain-text report of `netwatch analyze`: the same figures as `--json`, laid out for a person.
 * Sections with nothing to say (no DNS, no HTTP...) are left out; long lists keep their `left_out` note.
 *
 * @module
 */

type Json = Record<string, unknown>;
interface List {
  items: Json[];
  left_out: number;
  dropped: number;
}

/** Protocol hierarchy lines shown at most; the rest is summarised in one line. */
const MAX_PROTOCOL_LINES = 40;
/** Rows shown of each top list (the JSON has more); the rest is summarised in one line. */
const ROWS = 5;

/** Lines of the readable report for an analysis result. */
export function formatReport(r: Json): string[] {
  const lines = [`Capture: ${r.file}`];
  if (r.summary) summary(lines, r.summary as Json);
  if (r.protocols) protocols(lines, r.protocols as Json);
  if (r.flows) flows(lines, r.flows as Json);
  if (r.tcp) tcp(lines, r.tcp as Json);
  if (r.hosts) hosts(lines, r.hosts as Json);
  if (r.dns) dns(lines, r.dns as Json);
  if (r.http) http(lines, r.http as Json);
  if (r.tls) tls(lines, r.tls as Json);
  if (r.timeline) timeline(lines, r.timeline as Json);
  if (Array.isArray(r.alerts)) lines.push("", `Alerts: ${r.alerts.length === 0 ? "none" : r.alerts.length}`);
  if (r.read_error) lines.push("", `Warning: ${r.read_error}`);
  return lines;
}

function summary(lines: string[], s: Json): void {
  lines.push("", "Summary");
  lines.push(`  packets            ${fmtInt(s.packets as number)}`);
  lines.push(`  bytes on the wire  ${fmtInt(s.bytes as number)} (${fmtBytes(s.bytes as number)})`);
  if ((s.cut_packets as number) > 0) {
    lines.push(`  bytes captured     ${fmtInt(s.captured_bytes as number)} (${s.cut_packets} packets cut)`);
  }
  lines.push(`  first packet       ${fmtTs(s.first_ts as string | null)}`);
  lines.push(`  last packet        ${fmtTs(s.last_ts as string | null)}`);
  lines.push(`  duration           ${s.duration_s} s`);
  lines.push(
    `  link types         ${
      Object.entries(s.link_types as Json).map(([k, v]) => `${k} (${v})`).join(", ") || "-"
    }`,
  );
  lines.push(`  average packet     ${s.avg_packet_bytes} bytes`);
  if (s.packets_per_s !== null) {
    lines.push(`  rate               ${s.packets_per_s} packets/s, ${fmtBits(s.bits_per_s as number)}`);
  }
  if ((s.malformed_packets as number) > 0) {
    lines.push(`  malformed packets  ${fmtInt(s.malformed_packets as number)}`);
  }
  if ((s.out_of_order_packets as number) > 0) {
    lines.push(`  out of time order  ${fmtInt(s.out_of_order_packets as number)} packets`);
  }
}

function protocols(lines: string[], tree: Json): void {
  lines.push("", "Protocols                                  packets        bytes");
  const rows: string[] = [];
  const walk = (nodes: Json, depth: number) => {
    for (const [name, n] of Object.entries(nodes)) {
      const node = n as Json;
      rows.push(
        `  ${("  ".repeat(depth) + name).padEnd(36)} ${fmtInt(node.packets as number).padStart(12)} ${
          fmtBytes(node.bytes as number).padStart(12)
        }`,
      );
      if (node.children) walk(node.children as Json, depth + 1);
    }
  };
  walk(tree, 0);
  lines.push(...rows.slice(0, MAX_PROTOCOL_LINES));
  if (rows.length > MAX_PROTOCOL_LINES) {
    lines.push(`  ... and ${rows.length - MAX_PROTOCOL_LINES} more lines`);
  }
}

function flows(lines: string[], f: Json): void {
  const t = f.table as Json;
  lines.push("", `Flows: ${fmtInt(f.count as number)}`);
  lines.push(
    `  table              ${t.active} active, ${t.expired} expired, ${t.evicted} evicted, ${t.reused} reused` +
      `, ${fmtInt(t.unkeyed_packets as number)} packets without a flow`,
  );
  const apps = Object.entries(f.by_app as Json).map(([k, v]) => `${k} ${(v as Json).flows}`);
  if (apps.length > 0) lines.push(`  by application     ${apps.join(", ")}`);
  const top = f.top_by_bytes as List;
  if (top.items.length === 0) return;
  lines.push("  largest:");
  for (const rec of top.items.slice(0, ROWS)) {
    const o = rec.orig as Json, r = rec.resp as Json;
    const icmp = rec.proto === "icmp" || rec.proto === "icmp6"; // their "ports" are message types
    const ends = icmp ? `${o.addr} -> ${r.addr}` : `${endpoint(o)} -> ${endpoint(r)}`;
    const bytes = (o.bytes as number) + (r.bytes as number);
    const packets = (o.packets as number) + (r.packets as number);
    const app = rec.app ? ` ${rec.app}` : "";
    lines.push(
      `    ${String(rec.proto).padEnd(5)} ${ends.padEnd(52)} ${
        fmtBytes(bytes).padStart(10)
      } ${packets} pkts${app}`,
    );
  }
  more(lines, top, "flows");
}

function endpoint(e: Json): string {
  const a = String(e.addr);
  if (e.port === undefined) return a;
  return a.includes(":") ? `[${a}]:${e.port}` : `${a}:${e.port}`;
}

function tcp(lines: string[], t: Json): void {
  if ((t.connections as number) === 0) return;
  lines.push("", `TCP: ${fmtInt(t.connections as number)} connections`);
  lines.push(
    `  handshakes         ${t.handshakes_completed} completed, ${t.handshakes_failed} failed ` +
      `(${t.unanswered} unanswered, ${t.rejected} rejected, ${t.incomplete} incomplete), ${t.midstream} midstream`,
  );
  lines.push(`  resets             ${t.reset_connections} connections, ${t.rst_segments} RST segments`);
  const rate = t.retransmission_rate === null
    ? "-"
    : `${((t.retransmission_rate as number) * 100).toFixed(2)}%`;
  lines.push(
    `  retransmissions    ${fmtInt(t.retransmissions as number)} of ${
      fmtInt(t.segments as number)
    } segments (${rate})` +
      `, ${fmtInt(t.out_of_order as number)} out of order`,
  );
}

function hosts(lines: string[], h: Json): void {
  lines.push("", `Hosts: ${fmtInt(h.count as number)}`);
  for (
    const [title, key, field] of [
      ["Top senders", "top_by_bytes_out", "bytes_out"],
      ["Top receivers", "top_by_bytes_in", "bytes_in"],
    ]
  ) {
    const list = h[key] as List;
    if (list.items.length === 0) continue;
    lines.push(`  ${title}:`);
    for (const x of list.items) {
      lines.push(`    ${String(x.addr).padEnd(40)} ${fmtBytes(x[field] as number).padStart(10)}`);
    }
    more(lines, list, "hosts");
  }
  const conv = h.conversations as List;
  if (conv.items.length > 0) {
    lines.push("  Top conversations:");
    for (const c of conv.items.slice(0, ROWS)) {
      lines.push(
        `    ${`${c.a} <-> ${c.b}`.padEnd(52)} ${fmtBytes(c.bytes as number).padStart(10)} ${c.packets} pkts`,
      );
    }
    more(lines, conv, "conversations");
  }
}

function dns(lines: string[], d: Json): void {
  if ((d.queries as number) + (d.responses as number) === 0) return;
  const rate = d.nxdomain_rate === null
    ? ""
    : ` (NXDOMAIN ${((d.nxdomain_rate as number) * 100).toFixed(1)}%)`;
  lines.push(
    "",
    `DNS: ${fmtInt(d.queries as number)} queries, ${fmtInt(d.responses as number)} responses${rate}`,
  );
  inline(lines, "query types", d.query_types as List);
  inline(lines, "response codes", d.response_codes as List);
  inline(lines, "resolvers", d.resolvers as List);
  counted(lines, `Top names (${d.distinct_names} distinct)`, d.names as List);
  counted(lines, `Top base domains (${d.distinct_base_domains} distinct)`, d.base_domains as List);
  counted(lines, "Top answer addresses", d.answer_addresses as List);
}

function http(lines: string[], h: Json): void {
  if ((h.requests as number) + (h.responses as number) === 0) return;
  lines.push(
    "",
    `HTTP: ${fmtInt(h.requests as number)} requests, ${fmtInt(h.responses as number)} responses`,
  );
  inline(lines, "methods", h.methods as List);
  inline(lines, "status codes", h.status_codes as List);
  counted(lines, "Top hosts", h.hosts as List);
  counted(lines, "Top user agents", h.user_agents as List);
}

function tls(lines: string[], t: Json): void {
  const hellos = (t.client_hellos as number) + (t.server_hellos as number) + (t.quic_client_hellos as number);
  if (hellos === 0) return;
  const quic = (t.quic_client_hellos as number) > 0 ? `, ${t.quic_client_hellos} QUIC ClientHellos` : "";
  lines.push("", `TLS: ${t.client_hellos} ClientHellos, ${t.server_hellos} ServerHellos${quic}`);
  inline(lines, "versions", t.versions as List);
  counted(lines, "Top server names", t.sni as List);
  counted(lines, "Top JA3", t.ja3 as List);
  counted(lines, "Top JA4", t.ja4 as List);
}

const BARS = " ▁▂▃▄▅▆▇█";

function timeline(lines: string[], t: Json): void {
  const buckets = t.buckets as Json[];
  if (buckets.length < 2) return;
  const counts = buckets.map((b) => b.packets as number);
  const max = Math.max(...counts);
  const bar = counts.map((n) => BARS[n === 0 ? 0 : Math.max(1, Math.round((n / max) * 8))]).join("");
  lines.push("", `Timeline (packets per ${t.interval_s} s, peak ${fmtInt(max)})`, `  |${bar}|`);
}

/** A short list on one line: `A 200, AAAA 40`. */
function inline(lines: string[], title: string, list: List): void {
  if (list.items.length === 0) return;
  const text = list.items.map((i) => `${i.value} ${fmtInt(i.count as number)}`).join(", ");
  const rest = list.left_out > 0 ? `, ${list.left_out} more` : "";
  lines.push(`  ${title.padEnd(18)} ${text}${rest}`);
}

/** A list of values with their counts, one per line. */
function counted(lines: string[], title: string, list: List): void {
  if (list.items.length === 0) return;
  lines.push(`  ${title}:`);
  for (const i of list.items.slice(0, ROWS)) {
    lines.push(`    ${fmtInt(i.count as number).padStart(8)}  ${i.value}`);
  }
  more(lines, list, "values");
}

function more(lines: string[], list: List, what: string): void {
  const rest = list.left_out + Math.max(0, list.items.length - ROWS);
  if (rest > 0) lines.push(`    ... and ${fmtInt(rest)} more ${what}`);
  if (list.dropped > 0) lines.push(`    (${fmtInt(list.dropped)} not tracked: table full)`);
}

function fmtInt(n: number): string {
  return n.toLocaleString("en-US");
}

function fmtBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

function fmtBits(n: number): string {
  const units = ["bit/s", "kbit/s", "Mbit/s", "Gbit/s"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(1)} ${units[i]}`;
}

function fmtTs(ts: string | null): string {
  if (ts === null) return "-";
  const date = new Date(Number(ts) * 1000);
  // Corrupt captures carry timestamps outside what a Date can show.
  return Number.isNaN(date.getTime()) ? ts : `${date.toISOString()} (${ts})`;
}
