/**
 * Field-by-field agreement between netwatch's packet records and tshark's dissection, with the same
 * field list and normalisation rules as `../shared/tools/tshark-diff`, so the suite and the yardstick
 * measure the same thing, with two deliberate departures (see `V4_ONLY` and `INNER_LAYERS`) where the
 * yardstick compares fields that do not mean the same on both sides.
 *
 * @module
 */

/** netwatch record path -> tshark field(s); `a|b` means IPv4 field | IPv6 field. */
export const FIELDS: [string, string][] = [
  ["ts", "frame.time_epoch"],
  ["len", "frame.len"],
  ["caplen", "frame.cap_len"],
  ["iface", "frame.interface_id"],
  ["eth.src", "eth.src"],
  ["eth.dst", "eth.dst"],
  ["vlan.0", "vlan.id"],
  ["arp.op", "arp.opcode"],
  ["ip.src", "ip.src|ipv6.src"],
  ["ip.dst", "ip.dst|ipv6.dst"],
  ["ip.ttl", "ip.ttl|ipv6.hlim"],
  ["ip.proto", "ip.proto"],
  ["ip.id", "ip.id"],
  ["tcp.sport", "tcp.srcport"],
  ["tcp.dport", "tcp.dstport"],
  ["tcp.flags", "tcp.flags"],
  ["tcp.seq", "tcp.seq_raw"],
  ["tcp.ack", "tcp.ack_raw"],
  ["tcp.len", "tcp.len"],
  ["udp.sport", "udp.srcport"],
  ["udp.dport", "udp.dstport"],
  ["icmp.type", "icmp.type"],
  ["icmp.code", "icmp.code"],
  ["icmp6.type", "icmpv6.type"],
  ["icmp6.code", "icmpv6.code"],
  ["dns.id", "dns.id"],
  ["dns.qr", "dns.flags.response"],
  ["dns.opcode", "dns.flags.opcode"],
  ["dns.rcode", "dns.flags.rcode"],
  ["dns.qd.0.name", "dns.qry.name"],
  ["dns.qd.0.type", "dns.qry.type"],
  ["dns.an.#", "dns.count.answers"],
  ["http.method", "http.request.method"],
  ["http.uri", "http.request.uri"],
  ["http.host", "http.host"],
  ["http.status", "http.response.code"],
  ["tls.sni", "tls.handshake.extensions_server_name"],
  ["tls.ja3", "tls.handshake.ja3"],
  ["tls.ja3s", "tls.handshake.ja3s"],
]; // deno-fmt-ignore

const IPV6_ALTERNATIVE: Record<string, string> = { "ip.src": "ipv6.src", "ip.dst": "ipv6.dst", "ip.ttl": "ipv6.hlim" };
const TRANSPORT_AND_UP = ["tcp.", "udp.", "dns.", "http.", "tls."];
/**
 * Layers looked up in the tunnelled packet when the outer packet lacks them: tshark reports a field's first
 * occurrence anywhere in the packet. tshark-diff looks inside for transport and application layers only;
 * ARP and VLAN tags inside VXLAN/ERSPAN/GRE are looked up too here, which is what tshark's value means.
 */
const INNER_LAYERS = new Set(["tcp", "udp", "dns", "http", "tls", "icmp", "icmp6", "arp", "vlan"]);
/**
 * Fields that exist only in IPv4's header. tshark has no `ip.proto` or `ip.id` for an IPv6 packet, while
 * netwatch's `ip.proto` is the upper-layer protocol after the extension headers (the issue's definition)
 * and its `ip.id` the fragment header's identification: comparing those with an empty tshark field
 * would count every IPv6 packet as a difference, so IPv6 packets are left out of these two fields (the
 * IPv6 values are checked by `src/decode/ipv6_test.ts`).
 */
const V4_ONLY = new Set(["ip.proto", "ip.id"]);
const QTYPES: Record<number, string> = {
  1: "A",
  2: "NS",
  5: "CNAME",
  6: "SOA",
  10: "NULL",
  12: "PTR",
  13: "HINFO",
  15: "MX",
  16: "TXT",
  17: "RP",
  18: "AFSDB",
  24: "SIG",
  25: "KEY",
  28: "AAAA",
  29: "LOC",
  33: "SRV",
  35: "NAPTR",
  39: "DNAME",
  41: "OPT",
  43: "DS",
  44: "SSHFP",
  46: "RRSIG",
  47: "NSEC",
  48: "DNSKEY",
  50: "NSEC3",
  51: "NSEC3PARAM",
  52: "TLSA",
  64: "SVCB",
  65: "HTTPS",
  99: "SPF",
  249: "TKEY",
  250: "TSIG",
  251: "IXFR",
  252: "AXFR",
  255: "ANY",
  256: "URI",
  257: "CAA",
}; // deno-fmt-ignore

/** Every tshark field the comparison needs, in a fixed order (the columns of `tshark -T fields`). */
export const TSHARK_COLUMNS: string[] = (() => {
  const cols: string[] = [];
  for (const [, t] of FIELDS) for (const f of t.split("|")) if (!cols.includes(f)) cols.push(f);
  for (const f of ["frame.number", "icmp.type", "icmpv6.type"]) if (!cols.includes(f)) cols.push(f);
  return cols;
})();

/** tshark's options for the comparison: single packets, no TCP reassembly. */
export const TSHARK_OPTIONS = ["-o", "tcp.desegment_tcp_streams:FALSE"];

type Json = Record<string, unknown>;

function get(rec: unknown, path: string): unknown {
  let cur: unknown = rec;
  for (const part of path.split(".")) {
    if (part === "#") return Array.isArray(cur) ? cur.length : undefined;
    if (Array.isArray(cur)) cur = /^\d+$/.test(part) ? cur[Number(part)] : undefined;
    else if (cur !== null && typeof cur === "object") cur = (cur as Json)[part];
    else return undefined;
    if (cur === undefined || cur === null) return undefined;
  }
  return cur;
}

function ours(rec: Json, path: string): unknown {
  const v = get(rec, path);
  if (v === undefined && rec.inner !== undefined && INNER_LAYERS.has(path.split(".")[0])) {
    return get(rec.inner, path);
  }
  return v;
}

/** Normalises a value of either side to comparable text; undefined when absent. */
export function norm(path: string, v: unknown): string | undefined {
  if (path === "iface" && (v === undefined || v === "")) return "0";
  if (v === undefined || v === null || v === "") return undefined;
  const s = String(v).trim();
  switch (path) {
    case "ts": {
      if (!s.includes(".")) return s;
      const t = s.replace(/0+$/, "");
      return t.endsWith(".") ? t.slice(0, -1) : t;
    }
    case "tcp.flags":
    case "dns.id":
    case "ip.id":
      return String(Number(s));
    case "dns.qr":
      return ({ true: "1", false: "0", "1": "1", "0": "0" } as Record<string, string>)[s.toLowerCase()] ?? s;
    case "dns.qd.0.type":
      if (/^\d+$/.test(s)) return QTYPES[Number(s)] ?? `TYPE${s}`;
      return s.toUpperCase();
    case "eth.src":
    case "eth.dst":
    case "ip.src":
    case "ip.dst":
      return s.toLowerCase();
    case "dns.qd.0.name":
      return s === "<Root>" ? s : s.replace(/\.$/, "");
  }
  return /^-?\d+$/.test(s) ? String(Number(s)) : s;
}

/** Per-field tallies: equal, differ, only tshark, only netwatch. */
export type Tally = Record<string, [number, number, number, number]>;

/** A fresh tally. */
export function newTally(): Tally {
  return Object.fromEntries(FIELDS.map(([p]) => [p, [0, 0, 0, 0]])) as Tally;
}

/**
 * Compares one file's records with tshark's rows (by frame number) into `tally`; returns up to `maxShown`
 * mismatch descriptions.
 */
export function compareFile(
  name: string,
  records: Json[],
  rows: string[][],
  tally: Tally,
  maxShown = 5,
  skip: (field: string) => boolean = () => false,
): string[] {
  const col = (row: string[], field: string) => row[TSHARK_COLUMNS.indexOf(field)] ?? "";
  const byN = new Map(records.map((r) => [r.n as number, r]));
  const shown: string[] = [];
  for (const row of rows) {
    const rec = byN.get(Number(col(row, "frame.number")));
    if (rec === undefined) continue;
    const t4 = col(row, "icmp.type"), t6 = col(row, "icmpv6.type");
    const icmpError = [3, 4, 5, 11, 12].includes(Number(t4 || -1)) || [1, 2, 3, 4].includes(Number(t6 || -1));
    const v6 = get(rec, "ip.v") === 6;
    for (const [path, fields] of FIELDS) {
      if (icmpError && TRANSPORT_AND_UP.some((p) => path.startsWith(p))) continue;
      if (v6 && V4_ONLY.has(path)) continue;
      if (skip(path)) continue;
      let field = fields;
      if (fields.includes("|")) {
        if (v6) {
          if (IPV6_ALTERNATIVE[path] === undefined) continue;
          field = IPV6_ALTERNATIVE[path];
        } else field = fields.split("|")[0];
      }
      const a = norm(path, ours(rec, path)), b = norm(path, col(row, field));
      if (path === "dns.rcode" && b === undefined && norm("dns.qr", ours(rec, "dns.qr")) === "0") continue;
      if (a === undefined && b === undefined) continue;
      const t = tally[path];
      if (a === b) {
        t[0]++;
        continue;
      }
      t[a !== undefined && b !== undefined ? 1 : a === undefined ? 2 : 3]++;
      if (shown.length < maxShown) shown.push(`${name} #${rec.n} ${path}: netwatch=${a} tshark=${b}`);
    }
  }
  return shown;
}

/** The agreement table as text, and the lowest per-field percentage. */
export function formatTally(tally: Tally): { text: string; lowest: number; lowestField: string } {
  let lowest = 100, lowestField = "";
  const lines = [
    `${"field".padEnd(16)} ${"compared".padStart(9)} ${"equal".padStart(9)} ${"differ".padStart(7)} ${
      "only-tsh".padStart(8)
    } ${"only-nw".padStart(8)}`,
  ];
  for (const [path] of FIELDS) {
    const [eq, mm, ot, on] = tally[path];
    const total = eq + mm + ot + on;
    if (total === 0) continue;
    const pct = (100 * eq) / total;
    if (pct < lowest) [lowest, lowestField] = [pct, path];
    lines.push(
      `${path.padEnd(16)} ${String(total).padStart(9)} ${String(eq).padStart(9)} ${String(mm).padStart(7)} ${
        String(ot).padStart(8)
      } ${String(on).padStart(8)}  ${pct.toFixed(2)}%`,
    );
  }
  return { text: lines.join("\n"), lowest, lowestField };
}
