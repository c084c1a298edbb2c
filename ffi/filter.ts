/**
 * BPF filter expressions without a capture device: validate and disassemble them (`checkFilter`, like
 * `tcpdump -d`), and apply them to packets from files or the packet store (`CompiledFilter`). Both use
 * `pcap_open_dead`, so they need no privileges.
 *
 * @module
 */

import { loadLibpcap } from "./load.ts";
import {
  addressOf,
  AddressSlots,
  BPF_INSN_SIZE,
  BPF_PROGRAM,
  cString,
  type LibpcapSymbols,
  linkTypeToDlt,
  PCAP_NETMASK_UNKNOWN,
  pcapErrorText,
  PKTHDR,
} from "./libpcap.ts";
import { PcapError } from "./pcap_error.ts";

/** LINKTYPE_ETHERNET. */
export const DEFAULT_LINK_TYPE = 1;
/** tcpdump's default snapshot length; the value appears in the `ret` instructions. */
export const DEFAULT_SNAPLEN = 262144;

/** Options of {@linkcode checkFilter}. */
export interface CheckFilterOptions {
  /** LINKTYPE_* of the packets the filter will see (default 1, Ethernet). */
  linkType?: number;
  /** Snapshot length (default 262144). */
  snaplen?: number;
  /** Run libpcap's optimizer, as tcpdump does unless `-O` (default true). */
  optimize?: boolean;
  /** Library path to open instead of the usual names. */
  libraryPath?: string;
}

/** Result of {@linkcode checkFilter}. */
export type FilterCheck =
  | { valid: true; instructions: string[] }
  | { valid: false; error: string };

function validateNumbers(linkType: number, snaplen: number): void {
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) {
    throw new RangeError(`linkType must be an integer in [0, 65535], got ${linkType}`);
  }
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) {
    throw new RangeError(`snaplen must be a positive integer, got ${snaplen}`);
  }
}

/**
 * Compiles into `prog` on a fresh dead handle. Returns the handle, or libpcap's error text after
 * closing it.
 */
function compileDead(
  sym: LibpcapSymbols,
  expression: string,
  linkType: number,
  snaplen: number,
  optimize: boolean,
  prog: Uint8Array<ArrayBuffer>,
): { p: Deno.PointerObject } | { error: string } {
  if (typeof expression !== "string") throw new TypeError("filter expression must be a string");
  validateNumbers(linkType, snaplen);
  const text = cString(expression, "filter expression");
  const p = sym.pcap_open_dead(linkTypeToDlt(linkType), snaplen);
  if (p === null) throw new PcapError("error", "pcap_open_dead failed (out of memory?)");
  if (sym.pcap_compile(p, prog, text, optimize ? 1 : 0, PCAP_NETMASK_UNKNOWN) !== 0) {
    const error = pcapErrorText(sym, p);
    sym.pcap_close(p);
    return { error };
  }
  return { p };
}

/**
 * Compiles `expression` for `linkType` and returns its instructions as `tcpdump -d` prints them, or
 * libpcap's own error message. Needs no privileges. Throws only for bad arguments or a missing libpcap.
 *
 * @example
 * ```ts
 * checkFilter("udp port 53"); // { valid: true, instructions: ["(000) ldh      [12]", ...] }
 * checkFilter("tcp port");    // { valid: false, error: "can't parse filter expression: syntax error" }
 * ```
 */
export function checkFilter(expression: string, options: CheckFilterOptions = {}): FilterCheck {
  const { linkType = DEFAULT_LINK_TYPE, snaplen = DEFAULT_SNAPLEN, optimize = true } = options;
  const sym = loadLibpcap(options.libraryPath).symbols;
  const prog = new Uint8Array(new ArrayBuffer(BPF_PROGRAM.size));
  const compiled = compileDead(sym, expression, linkType, snaplen, optimize, prog);
  if ("error" in compiled) return { valid: false, error: compiled.error };
  try {
    const view = new DataView(prog.buffer);
    const count = view.getUint32(BPF_PROGRAM.lenOffset, true);
    const insns = Deno.UnsafePointer.create(view.getBigUint64(BPF_PROGRAM.insnsOffset, true));
    const instructions: string[] = [];
    for (let i = 0; i < count; i++) {
      // bpf_image formats into a static buffer: read it before the next call.
      instructions.push(readImage(sym, Deno.UnsafePointer.offset(insns!, i * BPF_INSN_SIZE), i));
    }
    return { valid: true, instructions };
  } finally {
    sym.pcap_freecode(prog);
    sym.pcap_close(compiled.p);
  }
}

function readImage(sym: LibpcapSymbols, insn: Deno.PointerValue, n: number): string {
  const ptr = sym.bpf_image(insn, n);
  return ptr === null ? "" : Deno.UnsafePointerView.getCString(ptr);
}

/**
 * A compiled BPF program applied in user space with `pcap_offline_filter`. `matches` allocates nothing:
 * the `pcap_pkthdr` it passes is one buffer reused for every call, and the packet is passed by address.
 * Call `close()` (or use `using`) to free the program.
 */
export class CompiledFilter {
  /** The expression, as given. */
  readonly expression: string;
  /** LINKTYPE_* the program was compiled for. */
  readonly linkType: number;
  /** Snapshot length the program was compiled for. */
  readonly snaplen: number;
  /** Number of BPF instructions. */
  readonly instructionCount: number;

  #sym: LibpcapSymbols;
  #p: Deno.PointerObject | null;
  #prog: Uint8Array<ArrayBuffer>;
  #hdr: Uint8Array<ArrayBuffer>;
  #hdrView: DataView;
  #lastBytes: Uint8Array | null = null;
  #lastAddress = 0;
  #slots = new AddressSlots(1);

  /** Use {@linkcode compileFilter}. */
  constructor(
    sym: LibpcapSymbols,
    p: Deno.PointerObject,
    prog: Uint8Array<ArrayBuffer>,
    expression: string,
    linkType: number,
    snaplen: number,
  ) {
    this.#sym = sym;
    this.#p = p;
    this.#prog = prog;
    this.expression = expression;
    this.linkType = linkType;
    this.snaplen = snaplen;
    this.instructionCount = new DataView(prog.buffer).getUint32(BPF_PROGRAM.lenOffset, true);
    // An ArrayBuffer (not `new Uint8Array(n)`) so the header never lives in the movable JS heap.
    this.#hdr = new Uint8Array(new ArrayBuffer(PKTHDR.size));
    this.#hdrView = new DataView(this.#hdr.buffer);
  }

  /**
   * True when the packet `bytes[start, start + caplen)`, which was `len` bytes on the wire, passes the
   * filter. Throws `RangeError` when the range is outside `bytes`, `TypeError` after `close()`.
   */
  matches(bytes: Uint8Array, start: number, caplen: number, len: number): boolean {
    if (this.#p === null) throw new TypeError("CompiledFilter is closed");
    if (!(start >= 0 && caplen >= 0 && start + caplen <= bytes.length)) {
      throw new RangeError(`packet [${start}, ${start + caplen}) is outside the ${bytes.length}-byte buffer`);
    }
    if (bytes !== this.#lastBytes) {
      // Frames come from a few reused buffers: resolve each buffer's address once, not per packet.
      this.#lastAddress = addressOf(bytes);
      this.#lastBytes = bytes;
    }
    const h = this.#hdrView;
    h.setUint32(PKTHDR.caplenOffset, caplen, true);
    h.setUint32(PKTHDR.lenOffset, len < caplen ? caplen : len, true);
    this.#slots.set(0, this.#lastAddress + start);
    return this.#sym.pcap_offline_filter(this.#prog, this.#hdr, this.#slots.big[0]) !== 0;
  }

  /** Frees the program. Further `matches` calls throw; closing twice is harmless. */
  close(): void {
    if (this.#p === null) return;
    this.#sym.pcap_freecode(this.#prog);
    this.#sym.pcap_close(this.#p);
    this.#p = null;
    this.#lastBytes = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Compiles `expression` for packets of `linkType` (LINKTYPE_*). Throws a `PcapError` with code
 * `bad_filter` and libpcap's message as `pcapText` when it does not compile.
 *
 * @example
 * ```ts
 * using f = compileFilter("tcp dst port 80");
 * f.matches(frame.bytes, frame.start, frame.caplen, frame.len);
 * ```
 */
export function compileFilter(
  expression: string,
  linkType: number = DEFAULT_LINK_TYPE,
  snaplen: number = DEFAULT_SNAPLEN,
  optimize = true,
  libraryPath?: string,
): CompiledFilter {
  const sym = loadLibpcap(libraryPath).symbols;
  const prog = new Uint8Array(new ArrayBuffer(BPF_PROGRAM.size));
  const compiled = compileDead(sym, expression, linkType, snaplen, optimize, prog);
  if ("error" in compiled) {
    throw new PcapError("bad_filter", `Invalid filter "${expression}": ${compiled.error}`, {
      pcapText: compiled.error,
    });
  }
  return new CompiledFilter(sym, compiled.p, prog, expression, linkType, snaplen);
}
