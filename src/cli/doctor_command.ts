/**
 * `netwatch doctor [--json]`: can this process capture? Checks that libpcap loads (which file, which
 * version), that a capture on the loopback device activates and delivers, and which devices exist, and
 * says what to do about anything that fails. Exit 0 when capture works, 1 otherwise.
 *
 * @module
 */

import { type InterfaceRecord, listInterfaces } from "../../ffi/interfaces.ts";
import { openLiveCapture } from "../../ffi/live_capture.ts";
import { installHint, type Libpcap, loadLibpcap } from "../../ffi/load.ts";
import { PcapError, permissionHint } from "../../ffi/pcap_error.ts";
import { linkTypeName } from "../capture/link_type.ts";
import { LineWriter, OutputClosed } from "./output.ts";

/** How long the probe capture runs: long enough to start the reading thread and see it stop. */
export const PROBE_MS = 200;

/** Options of the `doctor` command. */
export interface DoctorOptions {
  json: boolean;
}

/** One check: `ok`, a sentence on what was found, and when it failed, what to do. */
export interface DoctorCheck {
  name: "libpcap" | "capture" | "interfaces";
  ok: boolean;
  detail: string;
  fix?: string;
  [key: string]: unknown;
}

/** The whole diagnosis, as `--json` prints it. */
export interface DoctorReport {
  /** True when this process can capture. */
  ok: boolean;
  deno: string;
  os: string;
  arch: string;
  uid?: number;
  checks: DoctorCheck[];
}

/** Runs every check; never throws for a failed check. */
export async function diagnose(): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  let lib: Libpcap | undefined;
  try {
    lib = loadLibpcap();
    checks.push({
      name: "libpcap",
      ok: true,
      detail: `${lib.version} at ${resolvedLibraryPath(lib.path)}`,
      path: resolvedLibraryPath(lib.path),
      version: lib.version,
    });
  } catch (e) {
    checks.push({ name: "libpcap", ok: false, detail: messageOf(e), fix: installHint() });
  }

  let devices: InterfaceRecord[] | undefined;
  if (lib === undefined) {
    checks.push({ name: "interfaces", ok: false, detail: "not checked: libpcap is missing" });
  } else {
    try {
      devices = listInterfaces({ linkTypes: false });
      checks.push({
        name: "interfaces",
        ok: devices.length > 0,
        detail: devices.length === 0
          ? "libpcap lists no devices (some systems list none without capture rights)"
          : `${devices.length} device${devices.length === 1 ? "" : "s"}: ` +
            devices.map((d) => `${d.name} (${deviceState(d)})`).join(", "),
        interfaces: devices.map((d) => ({ name: d.name, up: d.flags.up, loopback: d.flags.loopback })),
      });
    } catch (e) {
      checks.push({ name: "interfaces", ok: false, detail: messageOf(e) });
    }
  }

  if (lib === undefined) {
    checks.push({
      name: "capture",
      ok: false,
      detail: "not checked: libpcap is missing",
      fix: installHint(),
    });
  } else {
    checks.push(await probeCapture(loopbackName(devices)));
  }
  const uid = Deno.uid();
  const report: DoctorReport = {
    ok: checks.find((c) => c.name === "capture")!.ok,
    deno: Deno.version.deno,
    os: Deno.build.os,
    arch: Deno.build.arch,
    checks: [checks[0], checks[2], checks[1]],
  };
  if (uid !== null) report.uid = uid;
  return report;
}

/** Opens a capture on `device` without promiscuous mode, reads for {@linkcode PROBE_MS}, and closes it. */
async function probeCapture(device: string): Promise<DoctorCheck> {
  try {
    const cap = openLiveCapture(device, { promisc: false, snaplen: 256, bufferSize: 1 << 20 });
    let frames = 0;
    const done = cap.run(() => frames++);
    const timer = setTimeout(() => cap.close(), PROBE_MS);
    try {
      await done;
    } finally {
      clearTimeout(timer);
      await cap.closed;
    }
    return {
      name: "capture",
      ok: true,
      detail: `opened "${device}" (${linkTypeName(cap.linkType)}, ` +
        `${cap.tsDigits === 9 ? "nanosecond" : "microsecond"} timestamps) and read from it for ` +
        `${PROBE_MS / 1000} s (${frames} packet${frames === 1 ? "" : "s"})`,
      device,
    };
  } catch (e) {
    const check: DoctorCheck = { name: "capture", ok: false, detail: messageOf(e), device };
    if (e instanceof PcapError) {
      check.code = e.code;
      if (e.code === "permission") {
        const hint = permissionHint();
        // The message ends with the fix; the report shows it on its own line.
        check.detail = e.message.endsWith(`${hint}.`)
          ? e.message.slice(0, -hint.length - 1).trimEnd()
          : e.message;
        check.fix = hint;
      } else if (e.code === "no_library") {
        check.fix = installHint();
      }
    }
    return check;
  }
}

/** The loopback device libpcap reported, else the platform's usual name. */
function loopbackName(devices: InterfaceRecord[] | undefined): string {
  const lo = devices?.find((d) => d.flags.loopback && d.flags.up);
  if (lo) return lo.name;
  switch (Deno.build.os) {
    case "windows":
      return "\\Device\\NPF_Loopback";
    case "linux":
    case "android":
      return "lo";
    default:
      return "lo0";
  }
}

function deviceState(d: InterfaceRecord): string {
  const words = [d.flags.up ? "up" : "down"];
  if (d.flags.loopback) words.push("loopback");
  if (d.flags.wireless) words.push("wireless");
  return words.join(", ");
}

/** The file behind the name libpcap was opened by, where the OS says (Linux: the process's mappings). */
function resolvedLibraryPath(name: string): string {
  if (Deno.build.os !== "linux") return name;
  try {
    for (const line of Deno.readTextFileSync("/proc/self/maps").split("\n")) {
      const path = line.slice(line.indexOf("/"));
      if (line.includes("/") && /\/libpcap[^/]*$/.test(path)) return path;
    }
  } catch { /* no read permission: the name is still useful */ }
  return name;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The readable report. */
export function formatDoctor(r: DoctorReport): string[] {
  const lines = [
    `netwatch doctor (Deno ${r.deno}, ${r.os} ${r.arch}${r.uid === undefined ? "" : `, uid ${r.uid}`})`,
  ];
  for (const c of r.checks) {
    lines.push(`${(c.ok ? "ok" : "FAIL").padEnd(5)} ${c.name.padEnd(11)} ${c.detail}`);
    if (c.fix) lines.push(`${"".padEnd(17)} to fix: ${c.fix}`);
  }
  const iface = (r.checks.find((c) => c.name === "interfaces")?.interfaces as { name: string; up: boolean }[])
    ?.find((d) => d.up && d.name !== "any");
  lines.push(
    r.ok
      ? `Capture works: try \`netwatch capture -i ${iface?.name ?? "IFACE"} -c 10\`.`
      : "Capture does not work yet: fix the items marked FAIL above, then run `netwatch doctor` again.",
  );
  return lines;
}

/** Runs the command; resolves to 0 when capture works, 1 otherwise. */
export async function doctorCommand(options: DoctorOptions, out = new LineWriter()): Promise<number> {
  const report = await diagnose();
  try {
    if (options.json) out.line(JSON.stringify(report, null, 2));
    else for (const line of formatDoctor(report)) out.line(line);
    out.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  return report.ok ? 0 : 1;
}
