/**
 * The contract between the packet decoder and the application-layer decoders (DNS, HTTP, TLS, ...).
 *
 * Offsets are absolute indexes into `bytes`, which may be a large chunk holding many packets: the decoder
 * never copies a packet out of the chunk it was read into. `view` is a `DataView` over exactly the same
 * bytes (`view.getUint8(i) === bytes[i]`). A decoder reads only `[off, end)`.
 *
 * @module
 */

/** Where a decoder reports that its layer is cut short or invalid. `code` is `<proto>_<condition>`. */
export interface IssueSink {
  /** Records an anomaly at absolute byte offset `offset`. Only the first one becomes the packet's `malformed`. */
  report(code: string, offset: number): void;
}

/** What the transport layer knows about the payload an application decoder is handed. */
export interface AppHint {
  readonly transport: "tcp" | "udp";
  readonly srcPort: number;
  readonly dstPort: number;
}

/**
 * An application-layer decoder. Returns a plain JSON-ready record (no bigint, no Uint8Array: bytes as hex
 * strings) or `null` when the bytes are not this protocol (so the next candidate can be tried).
 * It must never throw for any input; a `RangeError` escaping it is a bug that the packet decoder records as
 * `decoder_exception`.
 */
export type AppDecode<R extends object> = (
  bytes: Uint8Array,
  view: DataView,
  off: number,
  end: number,
  issues: IssueSink,
  hint: AppHint,
) => R | null;

/** An application protocol as registered with the decoder registry. */
export interface AppProtocol<R extends object = object> {
  /** Key of the record in `packets --jsonl` output, e.g. `dns`. */
  readonly name: string;
  /** Well-known ports that make this decoder a candidate. */
  readonly ports: { readonly tcp?: readonly number[]; readonly udp?: readonly number[] };
  /**
   * Content sniffer tried on every payload before port hints (for protocols that announce themselves,
   * such as a TLS record header or an HTTP method), so that a non-standard port is still recognised.
   * Must be cheap: a few byte comparisons.
   */
  readonly sniff?: (bytes: Uint8Array, off: number, end: number, hint: AppHint) => boolean;
  readonly decode: AppDecode<R>;
}

/** An `IssueSink` that keeps every report, for unit tests. */
export class IssueList implements IssueSink {
  readonly items: { code: string; offset: number }[] = [];
  report(code: string, offset: number): void {
    this.items.push({ code, offset });
  }
}
