/**
 * Finds and opens libpcap (or Npcap's wpcap.dll) once per process, explaining how to install it when
 * nothing opens.
 *
 * @module
 */

import { type LibpcapSymbols, newErrbuf, PCAP_CHAR_ENC_UTF_8, readCString, SYMBOLS } from "./libpcap.ts";
import { PcapError } from "./pcap_error.ts";

/** Environment variable naming the library file to open before the usual names. */
export const LIBPCAP_ENV = "NETWATCH_LIBPCAP";

/** An opened libpcap. */
export interface Libpcap {
  /** The symbols (optional ones are `null` when this libpcap lacks them). */
  readonly symbols: LibpcapSymbols;
  /** The name or path that opened; a worker opens the same one. */
  readonly path: string;
  /** `pcap_lib_version()`, e.g. `"libpcap version 1.10.3 (with TPACKET_V3)"`. */
  readonly version: string;
}

const cache = new Map<string, Libpcap>();

function envPath(): string | undefined {
  try {
    return Deno.env.get(LIBPCAP_ENV) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

function windowsNpcapDir(): string {
  let root = "C:\\Windows";
  try {
    root = Deno.env.get("SystemRoot") ?? root;
  } catch { /* keep the default */ }
  return `${root}\\System32\\Npcap`;
}

/**
 * The library names tried, in order, for `os`: `explicit` and `$NETWATCH_LIBPCAP` first, then the names
 * libpcap is installed under on that platform.
 */
export function libpcapCandidates(
  os: typeof Deno.build.os = Deno.build.os,
  explicit?: string,
  fromEnv: string | undefined = envPath(),
): string[] {
  const names: string[] = [];
  if (explicit) names.push(explicit);
  if (fromEnv && fromEnv !== explicit) names.push(fromEnv);
  switch (os) {
    case "darwin":
      // Since macOS 11 the file lives only in the dyld shared cache; dlopen still resolves the path.
      names.push("/usr/lib/libpcap.A.dylib", "libpcap.dylib", "libpcap.A.dylib");
      break;
    case "windows":
      // Npcap installs into System32\Npcap, outside the DLL search path (WinPcap used System32).
      names.push(`${windowsNpcapDir()}\\wpcap.dll`, "wpcap.dll");
      break;
    default:
      // .so.1 is the upstream soname; Debian/Ubuntu ship it as .so.0.8; plain .so comes with -dev packages.
      names.push("libpcap.so.1", "libpcap.so.0.8", "libpcap.so");
  }
  return names;
}

/** How to install libpcap on `os`, as one sentence. */
export function installHint(os: typeof Deno.build.os = Deno.build.os): string {
  switch (os) {
    case "darwin":
      return "macOS ships libpcap in /usr/lib; if it is missing, reinstall the Command Line Tools or set " +
        `${LIBPCAP_ENV} to a libpcap.dylib`;
    case "windows":
      return "install Npcap from https://npcap.com (it provides wpcap.dll), or set " +
        `${LIBPCAP_ENV} to wpcap.dll`;
    default:
      return "install it with `apt-get install libpcap0.8` (Debian/Ubuntu), `dnf install libpcap` " +
        "(Fedora/RHEL), `apk add libpcap` (Alpine) or `pacman -S libpcap` (Arch), or set " +
        `${LIBPCAP_ENV} to the path of libpcap.so`;
  }
}

/**
 * Npcap's wpcap.dll imports Packet.dll from its own directory, which Windows does not search for a
 * DLL's dependencies; opening Packet.dll by full path first makes the later import resolve to it.
 */
function preloadNpcapPacketDll(path: string): void {
  const slash = path.lastIndexOf("\\");
  if (slash < 0) return;
  try {
    Deno.dlopen(`${path.slice(0, slash)}\\Packet.dll`, {});
  } catch { /* wpcap.dll will report what is missing */ }
}

/**
 * Opens libpcap, trying `path` (or `$NETWATCH_LIBPCAP`) and then the usual names, and caches the result
 * for the process. Throws a `PcapError` with code `no_library` listing every name tried, why each failed,
 * and how to install libpcap.
 *
 * @example
 * ```ts
 * const pcap = loadLibpcap();
 * console.log(pcap.version); // "libpcap version 1.10.3 (with TPACKET_V3)"
 * ```
 */
export function loadLibpcap(path?: string): Libpcap {
  const key = path ?? "";
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = openLibpcap(libpcapCandidates(Deno.build.os, path));
    cache.set(key, loaded);
  }
  return loaded;
}

/** Opens the first of `names` that loads as libpcap (uncached; {@linkcode loadLibpcap} is the entry point). */
export function openLibpcap(names: readonly string[]): Libpcap {
  const failures: string[] = [];
  for (const name of names) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      if (Deno.build.os === "windows") preloadNpcapPacketDll(name);
      lib = Deno.dlopen(name, SYMBOLS);
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        throw new PcapError("no_library", `Cannot open libpcap: FFI is not allowed (run with --allow-ffi)`, {
          cause: err,
        });
      }
      failures.push(`${name} (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    // UTF-8 error strings on Windows; harmless elsewhere, absent before 1.10.
    lib.symbols.pcap_init?.(PCAP_CHAR_ENC_UTF_8, newErrbuf());
    return { symbols: lib.symbols, path: name, version: readCString(lib.symbols.pcap_lib_version()) };
  }
  throw new PcapError(
    "no_library",
    `Cannot open libpcap: tried ${failures.join("; ")}. To fix, ${installHint()}.`,
  );
}
