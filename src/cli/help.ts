/** The text of `netwatch --help`. @module */

/** Usage for the whole program. */
export const HELP = `netwatch: a network security monitor that speaks the Model Context Protocol

Usage:
  netwatch [serve] [--pcap-dir DIR]... [--store-mb N] [--max-flows N] [--out-dir DIR]
                                     serve MCP over stdio (for Claude Desktop, Claude Code, Cursor, ...)
  netwatch analyze FILE [--json] [--max-flows N]
                                     statistics of a pcap/pcapng capture (.gz too)
  netwatch packets FILE [--jsonl] [--limit N] [--offset N]
                                     list the packets of a capture, one per line
  netwatch interfaces [--json]       list capture devices: addresses, flags, link types
  netwatch filter EXPR [--link-type NAME|NUM] [--json]
                                     check a BPF filter and show its program (no privileges)
  netwatch capture -i IFACE [-f BPF] [-c COUNT] [--duration S] [-w FILE.pcapng]
                   [--snaplen N] [--no-promisc] [--buffer-mb N] [--json]
                                     capture live: one line per packet; stops at COUNT, after
                                     S seconds, or on Ctrl-C / SIGTERM
  netwatch doctor [--json]           check that libpcap loads and this process may capture
  netwatch --help | --version

Options:
  -h, --help        show this help
  -V, --version     show the version
  --json            (analyze, interfaces, filter, doctor) print JSON; (capture) one JSON record per
                    packet line, then a final {"capture_stats": ...} line with the counters
  --pcap-dir DIR    (serve) the only directory captures may be read from or written to; repeatable
                    (environment: NETWATCH_PCAP_DIR, colon-separated)
  --store-mb N      (serve) packet store of each capture session, in MiB (default 256; fractions
                    allowed); past it the oldest packets are evicted and counted (environment:
                    NETWATCH_STORE_MB)
  --out-dir DIR     (serve) directory export_pcap writes new pcapng files into; without it exports
                    are refused (environment: NETWATCH_OUT_DIR)
  --max-flows N     (analyze, serve) flows tracked at once (default 200000); the least recently seen
                    are evicted, and the report counts them (serve environment: NETWATCH_MAX_FLOWS)
  --jsonl           (packets) one JSON record per packet
  --limit N         (packets) print at most N packets
  --offset N        (packets) skip the first N packets
  --link-type T     (filter) LINKTYPE name or number the filter is for (default EN10MB)
  -i, --interface   (capture) the device to capture on (see \`netwatch interfaces\`)
  -f, --filter      (capture) BPF filter expression; refused before capturing if invalid
  -c, --count N     (capture) stop after N packets
  --duration S      (capture) stop after S seconds
  -w, --write FILE  (capture) also write every packet to FILE as pcapng (flushed every second)
  --snaplen N       (capture) bytes kept per packet (default 262144)
  --no-promisc      (capture) do not put the interface in promiscuous mode
  --buffer-mb N     (capture) kernel capture buffer in MiB (default 8)

Capture prints its counters (received, dropped by kernel, dropped by interface, decoded, written)
on stderr every 2 s when stderr is a terminal, and at the end on stderr, or with --json as the
last line of stdout.

Exit status: 0 on success; 1 when the input cannot be read or is damaged (what was read before the
damage is still printed), a filter is invalid, capture cannot start or fails (doctor: capture does
not work); 2 for a usage error.
`;
