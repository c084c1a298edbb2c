/**
 * `memcpy` from the C library, so the capture worker can copy a packet from libpcap's ring into a batch
 * buffer by address: one FFI call and no JS object per packet (`UnsafePointerView.copyInto` would need a
 * pointer object and a subarray for every packet).
 *
 * @module
 */

const SYMBOLS = {
  // The result (dst) is ignored; declaring it void avoids converting a 64-bit value per call.
  memcpy: { parameters: ["usize", "usize", "usize"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Copies `n` bytes from address `src` to address `dst` (pass `AddressSlots` elements: no allocation). */
export type Memcpy = (dst: bigint, src: bigint, n: bigint) => void;

function libcNames(os: typeof Deno.build.os): string[] {
  switch (os) {
    case "darwin":
      return ["/usr/lib/libSystem.B.dylib"];
    case "windows":
      return ["ntdll.dll", "msvcrt.dll"];
    default:
      return ["libc.so.6", "libc.so"];
  }
}

let cached: Memcpy | null | undefined;

/** The C library's `memcpy`, or null when no C library opens (callers then copy with `copyInto`). */
export function openMemcpy(): Memcpy | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const name of libcNames(Deno.build.os)) {
    try {
      cached = Deno.dlopen(name, SYMBOLS).symbols.memcpy;
      break;
    } catch { /* try the next name */ }
  }
  return cached ?? null;
}
