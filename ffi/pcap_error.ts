/**
 * `PcapError`: every libpcap failure netwatch reports, carrying libpcap's own text and a stable `code`.
 *
 * @module
 */

import {
  PCAP_ERROR_CANTSET_TSTAMP_TYPE,
  PCAP_ERROR_CAPTURE_NOTSUP,
  PCAP_ERROR_IFACE_NOT_UP,
  PCAP_ERROR_NO_SUCH_DEVICE,
  PCAP_ERROR_PERM_DENIED,
  PCAP_ERROR_PROMISC_PERM_DENIED,
  PCAP_ERROR_RFMON_NOTSUP,
  PCAP_ERROR_TSTAMP_PRECISION_NOTSUP,
} from "./libpcap.ts";

/**
 * The kind of a libpcap failure. These strings are an API (MCP tools and the CLI switch on them):
 * add new ones, never rename.
 */
export type PcapErrorCode =
  /** No libpcap/Npcap library could be opened. */
  | "no_library"
  /** The process may not capture (no root / capabilities / BPF device access / Npcap restricted). */
  | "permission"
  /** The named device does not exist. */
  | "no_device"
  /** The device exists but is down. */
  | "not_up"
  /** A BPF filter expression did not compile. */
  | "bad_filter"
  /** The device cannot do what was asked (monitor mode, timestamp type, capture at all). */
  | "not_supported"
  /** Reading packets failed after the capture started (e.g. the interface went away). */
  | "capture"
  /** Any other libpcap failure. */
  | "error";

/** Options of {@linkcode PcapError}. */
export interface PcapErrorOptions extends ErrorOptions {
  /** libpcap's own message (`pcap_geterr` or the errbuf), verbatim. */
  pcapText?: string;
  /** The libpcap status (`PCAP_ERROR_*`) when there was one. */
  status?: number;
  /** The device concerned, if any. */
  device?: string;
}

/**
 * A libpcap failure. `message` is for people (what failed, libpcap's text, and for `permission` the
 * fix); `pcapText` is libpcap's text alone, for callers that show it verbatim (e.g. a filter error).
 */
export class PcapError extends Error {
  /** The kind of failure. */
  readonly code: PcapErrorCode;
  /** libpcap's own message, verbatim (empty when libpcap gave none). */
  readonly pcapText: string;
  /** libpcap's status code, when the failure came with one. */
  readonly status?: number;
  /** The device concerned, if any. */
  readonly device?: string;

  constructor(code: PcapErrorCode, message: string, options: PcapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PcapError";
    this.code = code;
    this.pcapText = options.pcapText ?? "";
    if (options.status !== undefined) this.status = options.status;
    if (options.device !== undefined) this.device = options.device;
  }
}

/** Path of the running executable, or undefined when the read permission needed to ask is missing. */
function execPath(): string | undefined {
  try {
    return Deno.execPath();
  } catch {
    return undefined;
  }
}

/**
 * The one actionable sentence on how to let this program capture, for `os` (defaults to the running
 * one). On Linux the capabilities go on the compiled netwatch binary: granting them to `deno` itself
 * would let every script run by that interpreter sniff the network.
 */
export function permissionHint(
  os: typeof Deno.build.os = Deno.build.os,
  executable: string | undefined = execPath(),
): string {
  switch (os) {
    case "linux":
    case "android": {
      const base = executable?.split("/").pop() ?? "";
      const isDeno = executable === undefined || /^deno(\.exe)?$/.test(base);
      const target = isDeno ? "/path/to/netwatch" : executable;
      return `Run as root, or grant the compiled netwatch binary the capture capabilities: ` +
        `sudo setcap cap_net_raw,cap_net_admin=eip ${target}` +
        (isDeno
          ? ` (build it with \`deno compile\` first; never setcap the deno executable, which would let ` +
            `every Deno script capture traffic)`
          : "");
    }
    case "darwin":
    case "freebsd":
    case "netbsd":
      return `Capturing needs read access to /dev/bpf*: install Wireshark's ChmodBPF (it gives the ` +
        `access_bpf group read/write on /dev/bpf* at boot) and add your user to that group, or run with sudo`;
    case "windows":
      return `Npcap restricts capture to Administrators: reinstall Npcap without "Restrict Npcap driver's ` +
        `access to Administrators only", or run netwatch as Administrator`;
    default:
      return "Run netwatch with the privileges needed to capture packets";
  }
}

/**
 * Turns a failed `pcap_activate` (or other status-returning call) on `device` into a `PcapError` whose
 * message names the device, quotes libpcap, and for permission problems says how to fix them.
 */
export function pcapStatusError(status: number, pcapText: string, device: string): PcapError {
  const quoted = pcapText === "" ? "" : `: ${pcapText}`;
  const options = { pcapText, status, device };
  switch (status) {
    case PCAP_ERROR_PERM_DENIED:
      return new PcapError(
        "permission",
        `Cannot capture on "${device}": permission denied${quoted}. ${permissionHint()}.`,
        options,
      );
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return new PcapError(
        "permission",
        `Cannot put "${device}" in promiscuous mode: permission denied${quoted}. Capture without ` +
          `promiscuous mode, or: ${permissionHint()}.`,
        options,
      );
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return new PcapError("no_device", `No capture device "${device}"${quoted}`, options);
    case PCAP_ERROR_IFACE_NOT_UP:
      return new PcapError(
        "not_up",
        `Cannot capture on "${device}": the interface is down${quoted}`,
        options,
      );
    case PCAP_ERROR_RFMON_NOTSUP:
    case PCAP_ERROR_CANTSET_TSTAMP_TYPE:
    case PCAP_ERROR_TSTAMP_PRECISION_NOTSUP:
    case PCAP_ERROR_CAPTURE_NOTSUP:
      return new PcapError("not_supported", `Cannot capture on "${device}"${quoted}`, options);
    default:
      return new PcapError("error", `Cannot capture on "${device}"${quoted}`, options);
  }
}
