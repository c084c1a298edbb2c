/**
 * netwatch's entry point: parses the command line and runs a command or the MCP server.
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoJson from "./deno.json" with { type: "json" };
import { analyzeCommand } from "./src/cli/analyze_command.ts";
import { captureCommand, captureOptionsFromArgs } from "./src/cli/capture_command.ts";
import { doctorCommand } from "./src/cli/doctor_command.ts";
import { filterCommand } from "./src/cli/filter_command.ts";
import { interfacesCommand } from "./src/cli/interfaces_command.ts";
import { HELP } from "./src/cli/help.ts";
import { UserError } from "./src/cli/open_input.ts";
import { packetsCommand } from "./src/cli/packets_command.ts";
import { error, logLine } from "./src/log.ts";

/** netwatch's version, from deno.json. */
export const VERSION: string = denoJson.version;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  json: { type: "boolean" },
  jsonl: { type: "boolean" },
  limit: { type: "string" },
  offset: { type: "string" },
  interface: { type: "string", short: "i" },
  filter: { type: "string", short: "f" },
  count: { type: "string", short: "c" },
  duration: { type: "string" },
  write: { type: "string", short: "w" },
  snaplen: { type: "string" },
  "no-promisc": { type: "boolean" },
  "buffer-mb": { type: "string" },
  "link-type": { type: "string" },
  "pcap-dir": { type: "string", multiple: true },
  "max-flows": { type: "string" },
  "store-mb": { type: "string" },
  "out-dir": { type: "string" },
} as const;

/** Which options each command accepts (anything else is a usage error). */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  serve: ["pcap-dir", "store-mb", "max-flows", "out-dir"],
  analyze: ["json", "max-flows"],
  packets: ["jsonl", "limit", "offset"],
  interfaces: ["json"],
  filter: ["json", "link-type"],
  capture: [
    "interface",
    "filter",
    "count",
    "duration",
    "write",
    "snaplen",
    "no-promisc",
    "buffer-mb",
    "json",
  ],
  doctor: ["json"],
};

/** Runs netwatch with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    return usage(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    Deno.stdout.writeSync(new TextEncoder().encode(HELP));
    return 0;
  }
  if (values.version) {
    Deno.stdout.writeSync(new TextEncoder().encode(`netwatch ${VERSION}\n`));
    return 0;
  }
  const command = positionals[0] ?? "serve";
  const allowed = COMMAND_OPTIONS[command];
  if (allowed === undefined) return usage(`unknown command "${command}"`);
  for (const name of Object.keys(values)) {
    if (!allowed.includes(name)) return usage(`option --${name} does not apply to "${command}"`);
  }
  try {
    switch (command) {
      case "serve":
        if (positionals.length > 1) return usage(`"serve" takes no arguments`);
        return await serveCommand(values);
      case "analyze":
        return await analyzeCommand(oneFile(command, positionals), {
          json: values.json ?? false,
          maxFlows: values["max-flows"] === undefined
            ? undefined
            : Math.max(1, count("max-flows", values["max-flows"], 1)),
        });
      case "packets":
        return await packetsCommand(oneFile(command, positionals), {
          jsonl: values.jsonl ?? false,
          limit: count("limit", values.limit, Infinity),
          offset: count("offset", values.offset, 0),
        });
      case "interfaces":
        if (positionals.length > 1) return usage(`"interfaces" takes no arguments`);
        return interfacesCommand({ json: values.json ?? false });
      case "filter":
        // Like tcpdump, the words of an unquoted expression are joined: `netwatch filter udp port 53`.
        if (positionals.length < 2) return usage(`"filter" needs a BPF expression`);
        return filterCommand(positionals.slice(1).join(" "), {
          linkType: values["link-type"],
          json: values.json ?? false,
        });
      case "capture":
        if (positionals.length > 1) {
          return usage(`"capture" takes no arguments (quote the filter: -f 'udp port 53')`);
        }
        return await captureCommand(captureOptionsFromArgs(values));
      case "doctor":
        if (positionals.length > 1) return usage(`"doctor" takes no arguments`);
        return await doctorCommand({ json: values.json ?? false });
    }
  } catch (e) {
    if (e instanceof UserError) {
      error(e.message);
      return e.exitCode;
    }
    throw e;
  }
  return 0;
}

/**
 * `netwatch serve [--pcap-dir DIR]... [--store-mb N] [--max-flows N] [--out-dir DIR]`: the MCP server on
 * stdio. File access is confined to the `--pcap-dir` roots, or to those of `NETWATCH_PCAP_DIR`
 * (colon-separated) when no flag is given; each other flag likewise falls back to its environment variable
 * (`NETWATCH_STORE_MB`, `NETWATCH_MAX_FLOWS`, `NETWATCH_OUT_DIR`).
 */
async function serveCommand(values: {
  "pcap-dir"?: string[];
  "store-mb"?: string;
  "max-flows"?: string;
  "out-dir"?: string;
}): Promise<number> {
  // Loaded here so that the other commands do not load the MCP SDK at startup.
  const { PathError, PathPolicy } = await import("./src/mcp/paths.ts");
  const { Sessions } = await import("./src/mcp/sessions.ts");
  const { serveMcpStdio } = await import("./src/mcp/server.ts");
  const roots = values["pcap-dir"] ??
    (Deno.env.get("NETWATCH_PCAP_DIR") ?? "").split(":").filter((d) => d !== "");
  let paths;
  try {
    paths = new PathPolicy(roots);
  } catch (e) {
    if (e instanceof PathError) throw new UserError(e.message, 2, { cause: e });
    throw e;
  }
  const env = (name: string) => {
    const v = Deno.env.get(name);
    return v === undefined || v === "" ? undefined : v;
  };
  const storeMbText = values["store-mb"] ?? env("NETWATCH_STORE_MB");
  let storeBytes: number | undefined;
  if (storeMbText !== undefined) {
    // Fractions are allowed (`0.5`), so small budgets can be tried without a big capture.
    const mb = Number(storeMbText);
    if (!Number.isFinite(mb) || mb <= 0 || Math.floor(mb * 1024 * 1024) < 1) {
      throw new UserError(`--store-mb needs a number of MiB > 0, not "${storeMbText}"`, 2);
    }
    storeBytes = Math.floor(mb * 1024 * 1024);
  }
  const maxFlowsText = values["max-flows"] ?? env("NETWATCH_MAX_FLOWS");
  const maxFlows = maxFlowsText === undefined ? undefined : Math.max(1, count("max-flows", maxFlowsText, 1));
  const outDirText = values["out-dir"] ?? env("NETWATCH_OUT_DIR");
  let outDir: string | undefined;
  if (outDirText !== undefined) {
    try {
      outDir = Deno.realPathSync(outDirText);
      if (!Deno.statSync(outDir).isDirectory) throw new Error("not a directory");
    } catch (e) {
      throw new UserError(
        `--out-dir "${outDirText}" cannot be used: ${e instanceof Error ? e.message : e}`,
        2,
      );
    }
  }
  await serveMcpStdio(new Sessions({ paths, storeBytes, maxFlows, outDir }), {
    name: "netwatch",
    version: VERSION,
  });
  return 0;
}

function oneFile(command: string, positionals: string[]): string {
  if (positionals.length !== 2) {
    throw new UserError(`"${command}" takes exactly one capture file (see netwatch --help)`, 2);
  }
  return positionals[1];
}

function count(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new UserError(`--${name} needs a whole number >= 0, not "${value}"`, 2);
  }
  return n;
}

function usage(message: string): number {
  error(`${message}. Run "netwatch --help" for usage.`);
  return 2;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (e) {
    // A bug, not a user error: still one line, with the details only when asked for.
    error(`internal error: ${e instanceof Error ? e.message : String(e)}`);
    if (Deno.env.get("NETWATCH_DEBUG")) logLine(e instanceof Error ? e.stack ?? "" : "");
    Deno.exitCode = 70;
  }
}
