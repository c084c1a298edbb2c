/**
 * The libpcap C ABI as Deno FFI sees it: one symbol table, the struct layouts netwatch reads, and the
 * constants of `pcap/pcap.h`. Nothing here opens the library (see `load.ts`), so importing it is free.
 *
 * Only 64-bit little-endian targets are described: those are the only ones Deno ships for (x86_64 and
 * aarch64 on Linux, macOS and Windows).
 *
 * @module
 */

/**
 * Every libpcap function netwatch calls, in one object (the @db/sqlite shape). Symbols added after
 * libpcap 1.0 are `optional`, so an old library still opens and the caller checks for `null`.
 *
 * Parameter conventions:
 * - `"buffer"` for C strings we pass (NUL-terminated `Uint8Array`s) and out-parameters we own.
 * - `"pointer"` for `pcap_t *` and other memory libpcap owns.
 * - `pcap_offline_filter` takes the packet as a `usize` address so a caller can point into the middle
 *   of a reused buffer without creating a subarray per packet; pass an {@linkcode AddressSlots}
 *   element (see `filter.ts`).
 */
export const SYMBOLS = {
  pcap_lib_version: { parameters: [], result: "pointer" },
  /** 1.10+: selects UTF-8 error strings on Windows; a no-op elsewhere. */
  pcap_init: { parameters: ["u32", "buffer"], result: "i32", optional: true },
  pcap_statustostr: { parameters: ["i32"], result: "pointer" },
  pcap_geterr: { parameters: ["pointer"], result: "pointer" },

  pcap_create: { parameters: ["buffer", "buffer"], result: "pointer" },
  pcap_set_snaplen: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_promisc: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_timeout: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_buffer_size: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_immediate_mode: { parameters: ["pointer", "i32"], result: "i32", optional: true },
  pcap_set_tstamp_precision: { parameters: ["pointer", "i32"], result: "i32", optional: true },
  pcap_get_tstamp_precision: { parameters: ["pointer"], result: "i32", optional: true },
  pcap_set_protocol_linux: { parameters: ["pointer", "i32"], result: "i32", optional: true },
  pcap_activate: { parameters: ["pointer"], result: "i32" },
  pcap_close: { parameters: ["pointer"], result: "void" },
  pcap_snapshot: { parameters: ["pointer"], result: "i32" },

  pcap_datalink: { parameters: ["pointer"], result: "i32" },
  pcap_list_datalinks: { parameters: ["pointer", "buffer"], result: "i32" },
  pcap_free_datalinks: { parameters: ["pointer"], result: "void" },
  pcap_datalink_val_to_name: { parameters: ["i32"], result: "pointer" },
  pcap_datalink_val_to_description: { parameters: ["i32"], result: "pointer" },

  pcap_lookupnet: { parameters: ["buffer", "buffer", "buffer", "buffer"], result: "i32" },
  pcap_compile: { parameters: ["pointer", "buffer", "buffer", "i32", "u32"], result: "i32" },
  pcap_setfilter: { parameters: ["pointer", "buffer"], result: "i32" },
  pcap_freecode: { parameters: ["buffer"], result: "void" },
  pcap_open_dead: { parameters: ["i32", "i32"], result: "pointer" },
  pcap_offline_filter: { parameters: ["buffer", "buffer", "usize"], result: "i32" },
  bpf_image: { parameters: ["pointer", "i32"], result: "pointer" },

  pcap_findalldevs: { parameters: ["buffer", "buffer"], result: "i32" },
  pcap_freealldevs: { parameters: ["pointer"], result: "void" },

  pcap_next_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  pcap_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  pcap_breakloop: { parameters: ["pointer"], result: "void" },
  /** Not exported by Npcap (Windows has no selectable descriptor). */
  pcap_get_selectable_fd: { parameters: ["pointer"], result: "i32", optional: true },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened library's symbols. */
export type LibpcapSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** Size of the `errbuf` every libpcap function that can fail before a `pcap_t` exists writes into. */
export const PCAP_ERRBUF_SIZE = 256;
/** `pcap_compile` netmask meaning "unknown": only `ip broadcast` needs the real one. */
export const PCAP_NETMASK_UNKNOWN = 0xffffffff;
/** `pcap_init` option: error strings in UTF-8 (matters on Windows only). */
export const PCAP_CHAR_ENC_UTF_8 = 1;

/** `pcap_activate` and friends: negative results are errors. */
export const PCAP_ERROR = -1;
export const PCAP_ERROR_BREAK = -2;
export const PCAP_ERROR_NOT_ACTIVATED = -3;
export const PCAP_ERROR_ACTIVATED = -4;
export const PCAP_ERROR_NO_SUCH_DEVICE = -5;
export const PCAP_ERROR_RFMON_NOTSUP = -6;
export const PCAP_ERROR_NOT_RFMON = -7;
export const PCAP_ERROR_PERM_DENIED = -8;
export const PCAP_ERROR_IFACE_NOT_UP = -9;
export const PCAP_ERROR_CANTSET_TSTAMP_TYPE = -10;
export const PCAP_ERROR_PROMISC_PERM_DENIED = -11;
export const PCAP_ERROR_TSTAMP_PRECISION_NOTSUP = -12;
export const PCAP_ERROR_CAPTURE_NOTSUP = -13;
/** Positive `pcap_activate` results are warnings: the capture works. */
export const PCAP_WARNING = 1;
export const PCAP_WARNING_PROMISC_NOTSUP = 2;
export const PCAP_WARNING_TSTAMP_TYPE_NOTSUP = 3;

export const PCAP_TSTAMP_PRECISION_MICRO = 0;
export const PCAP_TSTAMP_PRECISION_NANO = 1;

/** `pcap_if_t.flags` bits. */
export const PCAP_IF_LOOPBACK = 0x1;
export const PCAP_IF_UP = 0x2;
export const PCAP_IF_RUNNING = 0x4;
export const PCAP_IF_WIRELESS = 0x8;
export const PCAP_IF_CONNECTION_STATUS = 0x30;
export const PCAP_IF_CONNECTION_STATUS_UNKNOWN = 0x00;
export const PCAP_IF_CONNECTION_STATUS_CONNECTED = 0x10;
export const PCAP_IF_CONNECTION_STATUS_DISCONNECTED = 0x20;
export const PCAP_IF_CONNECTION_STATUS_NOT_APPLICABLE = 0x30;

/**
 * `struct pcap_pkthdr` as this platform lays it out. It embeds a `struct timeval`, whose fields are
 * `long`-sized: 8 bytes each on 64-bit Linux, 8 + 4 (+ 4 padding) on macOS, but 4 + 4 on Windows where
 * `long` stays 32 bits even in 64-bit code. Nothing else in netwatch may hard-code these offsets.
 */
export interface PktHdrLayout {
  /** `sizeof(struct pcap_pkthdr)`. */
  size: number;
  /** Offset of `ts.tv_sec`. */
  secOffset: number;
  /** Bytes of `ts.tv_sec` (8: read as a 64-bit signed value; 4: 32-bit). */
  secBytes: 4 | 8;
  /** Offset of `ts.tv_usec` (nanoseconds when the handle's precision is nano); always < 10^9. */
  fracOffset: number;
  /** Offset of `caplen` (u32). */
  caplenOffset: number;
  /** Offset of `len` (u32). */
  lenOffset: number;
}

/** Returns the `pcap_pkthdr` layout for `os` (defaults to the running one). */
export function pktHdrLayout(os: typeof Deno.build.os = Deno.build.os): PktHdrLayout {
  if (os === "windows") {
    return { size: 16, secOffset: 0, secBytes: 4, fracOffset: 4, caplenOffset: 8, lenOffset: 12 };
  }
  // 64-bit Unix: time_t tv_sec (8) then tv_usec (8 on Linux; 4 + padding on macOS/BSD, whose low
  // 4 bytes little-endian are the value either way).
  return { size: 24, secOffset: 0, secBytes: 8, fracOffset: 8, caplenOffset: 16, lenOffset: 20 };
}

/** The layout of the running platform. */
export const PKTHDR: PktHdrLayout = pktHdrLayout();

/** `struct bpf_program { u_int bf_len; struct bpf_insn *bf_insns; }`: the pointer is 8-aligned. */
export const BPF_PROGRAM = { size: 16, lenOffset: 0, insnsOffset: 8 } as const;
/** `struct bpf_insn { u_short code; u_char jt, jf; bpf_u_int32 k; }`. */
export const BPF_INSN_SIZE = 8;
/** `struct pcap_stat`: three u_ints (Npcap may append more under HAVE_REMOTE; 32 bytes leaves room). */
export const PCAP_STAT = { size: 32, recvOffset: 0, dropOffset: 4, ifdropOffset: 8 } as const;
/** `pcap_if_t` on 64-bit targets. */
export const PCAP_IF = { next: 0, name: 8, description: 16, addresses: 24, flags: 32 } as const;
/** `pcap_addr_t` on 64-bit targets. */
export const PCAP_ADDR = { next: 0, addr: 8, netmask: 16, broadaddr: 24, dstaddr: 32 } as const;

/**
 * DLT_* values (what a live `pcap_t` reports) that differ from the LINKTYPE_* values written to files
 * and used everywhere else in netwatch. Every other value is the same number in both spaces.
 */
const DLT_TO_LINKTYPE: ReadonlyMap<number, number> = new Map([
  [11, 100], // DLT_ATM_RFC1483 -> LINKTYPE_ATM_RFC1483
  [12, 101], // DLT_RAW (14 on OpenBSD, where Deno does not run) -> LINKTYPE_RAW
  [15, 102], // DLT_SLIP_BSDOS
  [16, 103], // DLT_PPP_BSDOS
  [19, 106], // DLT_ATM_CLIP on Linux
]);
const LINKTYPE_TO_DLT: ReadonlyMap<number, number> = new Map([
  [100, 11],
  [101, 12],
  [102, 15],
  [103, 16],
  [106, 19],
]);

/** Converts a DLT_* value from libpcap to the LINKTYPE_* value the rest of netwatch uses. */
export function dltToLinkType(dlt: number): number {
  return DLT_TO_LINKTYPE.get(dlt) ?? dlt;
}

/** Converts a LINKTYPE_* value to the DLT_* value `pcap_open_dead` expects. */
export function linkTypeToDlt(linkType: number): number {
  return LINKTYPE_TO_DLT.get(linkType) ?? linkType;
}

const encoder = new TextEncoder();

/** A NUL-terminated UTF-8 copy of `s` for a `"buffer"` parameter. Throws `TypeError` on an embedded NUL. */
export function cString(s: string, what = "string"): Uint8Array<ArrayBuffer> {
  if (s.includes("\0")) throw new TypeError(`${what} must not contain a NUL character`);
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** The text of a C string libpcap returned, or `""` for NULL. */
export function readCString(ptr: Deno.PointerValue): string {
  return ptr === null ? "" : Deno.UnsafePointerView.getCString(ptr);
}

/** The message libpcap wrote into an `errbuf`. */
export function errbufText(errbuf: Uint8Array): string {
  let end = errbuf.indexOf(0);
  if (end < 0) end = errbuf.length;
  return new TextDecoder().decode(errbuf.subarray(0, end)).trim();
}

/** A new zeroed errbuf. */
export function newErrbuf(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(PCAP_ERRBUF_SIZE);
}

/** libpcap's message for the last failure on `p`, falling back to the text of `status`. */
export function pcapErrorText(sym: LibpcapSymbols, p: Deno.PointerValue, status?: number): string {
  const text = p === null ? "" : readCString(sym.pcap_geterr(p)).trim();
  if (text !== "" || status === undefined) return text;
  return readCString(sym.pcap_statustostr(status));
}

/** Address held by an 8-byte out-parameter (`T **`), as a number (user-space addresses fit in 53 bits). */
export function readAddress(words: Uint32Array, index: number): number {
  return words[index] + words[index + 1] * 4294967296;
}

/**
 * 64-bit scratch slots for passing addresses and sizes to `usize` parameters without allocating. V8
 * hands a `BigUint64Array` element to a fast FFI call unboxed, whereas `BigInt(n)` allocates on every
 * call and a plain number sends the call down the slow path (measured: ~35 ns vs ~70 ns with a BigInt
 * per call vs ~450 ns with a number). Write a slot with `set`, pass `slots.big[i]`.
 */
export class AddressSlots {
  /** Pass these elements to `usize` parameters. */
  readonly big: BigUint64Array<ArrayBuffer>;
  readonly #words: Uint32Array<ArrayBuffer>;

  constructor(count: number) {
    this.big = new BigUint64Array(new ArrayBuffer(count * 8));
    this.#words = new Uint32Array(this.big.buffer);
  }

  /** Stores `value` (an integer below 2^53) in slot `slot`. */
  set(slot: number, value: number): void {
    this.#words[slot * 2] = value >>> 0; // ToUint32 keeps the low 32 bits
    this.#words[slot * 2 + 1] = (value / 4294967296) >>> 0;
  }
}

/**
 * The address of the first byte of `view` as a number, or 0 when it has none (empty view). Valid while
 * `view`'s buffer is neither detached nor collected.
 */
export function addressOf(view: ArrayBufferView): number {
  // V8 keeps small typed arrays inside the JS heap, where the GC may move them; reading `.buffer`
  // moves the bytes to a fixed backing store, so the address stays valid while `view` lives.
  void view.buffer;
  const ptr = Deno.UnsafePointer.of(view);
  return ptr === null ? 0 : Number(Deno.UnsafePointer.value(ptr));
}
