/**
 * The plain-text report of `netwatch analyze`: the same figures as `--json`, laid out for a person.
 *
 * @module
 */

type Json = Record<string, unknown>;

/** Lines of the readable report for an analysis result. */
export function formatReport(r: Json): string[] {
  const s = r.summary as Json;
  const lines = [`Capture: ${r.file}`, ""];
  lines.push("Summary");
  lines.push(`  packets            ${fmtInt(s.packets as number)}`);
  lines.push(`  bytes on the wire  ${fmtInt(s.bytes as number)} (${fmtBytes(s.bytes as number)})`);
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
  lines.push("", "Protocols (packets)");
  for (const [name, n] of Object.entries(r.protocols as Json)) {
    lines.push(`  ${name.padEnd(18)} ${fmtInt(n as number)}`);
  }
  const hosts = r.hosts as Json;
  for (
    const [title, key, field] of [["Top senders", "top_senders", "bytes_out"], [
      "Top receivers",
      "top_receivers",
      "bytes_in",
    ]]
  ) {
    const list = hosts[key] as { items: Json[]; left_out: number };
    lines.push("", `${title} (of ${hosts.count} hosts)`);
    for (const h of list.items) lines.push(`  ${String(h.addr).padEnd(40)} ${fmtBytes(h[field] as number)}`);
    if (list.left_out > 0) lines.push(`  ... and ${list.left_out} more`);
  }
  if (r.read_error) lines.push("", `Warning: ${r.read_error}`);
  return lines;
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
