/** The text of `netwatch --help`. @module */

/** Usage for the whole program. */
export const HELP = `netwatch: a network security monitor that speaks the Model Context Protocol

Usage:
  netwatch [serve]                   serve MCP over stdio (for Claude Desktop, Claude Code, Cursor, ...)
  netwatch analyze FILE [--json]     summarise a pcap/pcapng capture (.gz too)
  netwatch packets FILE [--jsonl] [--limit N] [--offset N]
                                     list the packets of a capture, one per line
  netwatch --help | --version

Options:
  -h, --help        show this help
  -V, --version     show the version
  --json            (analyze) print the report as JSON
  --jsonl           (packets) one JSON record per packet
  --limit N         (packets) print at most N packets
  --offset N        (packets) skip the first N packets

Exit status: 0 on success; 1 when the input cannot be read or is damaged (what was read before the
damage is still printed); 2 for a usage error.
`;
