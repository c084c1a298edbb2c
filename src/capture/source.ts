/**
 * The one interface every packet source implements, so the engine cannot tell a file from an interface.
 *
 * @module
 */

/** One captured frame. `bytes[start, start + caplen)` are the captured bytes; nothing is copied out of `bytes`. */
export interface Frame {
  /** 1-based frame number within the source. */
  n: number;
  /** The buffer holding this frame; it may hold other frames too and is reused after the frame is consumed. */
  bytes: Uint8Array;
  /** A `DataView` over exactly `bytes`. */
  view: DataView;
  /** Offset of the frame's first byte in `bytes`. */
  start: number;
  /** Bytes captured. */
  caplen: number;
  /** Bytes on the wire (may exceed `caplen` when the snaplen cut the packet). */
  len: number;
  /** Timestamp: whole seconds since the epoch. */
  tsSec: number;
  /** Timestamp: the fraction, as an integer count of `1 / 10^tsDigits` seconds. */
  tsFrac: number;
  /** Decimal digits of the fraction (6 for microseconds, 9 for nanoseconds, ...): the file's precision. */
  tsDigits: number;
  /** LINKTYPE_* number of the frame's interface. */
  linkType: number;
  /** Interface index (pcapng interface id; 0 for classic pcap and single-interface live captures). */
  iface: number;
  /** The packet's comment (pcapng `opt_comment`), when the file has one. */
  comment?: string;
}

/**
 * A blank frame over `bytes`, for a source to fill and reuse for every packet. Every source makes its
 * frames here so they all have one shape (which keeps the decoder's property reads monomorphic).
 */
export function newFrame(bytes: Uint8Array, view: DataView, linkType = 1, tsDigits = 6): Frame {
  return {
    n: 0,
    bytes,
    view,
    start: 0,
    caplen: 0,
    len: 0,
    tsSec: 0,
    tsFrac: 0,
    tsDigits,
    linkType,
    iface: 0,
    comment: undefined,
  };
}

/** What is known about an interface a source delivers frames from. */
export interface InterfaceInfo {
  linkType: number;
  snaplen: number;
  name?: string;
  description?: string;
  filter?: string;
  tsDigits: number;
}

/**
 * A push source of frames. Push rather than an async iterator because a promise per packet costs more
 * than decoding the packet: a source awaits only between chunks and calls `onFrame` synchronously for
 * every frame of a chunk.
 *
 * The `Frame` passed to `onFrame` (and the buffer behind it) is reused after `onFrame` returns: a consumer
 * that keeps a frame must copy `bytes.subarray(start, start + caplen)` and the fields it needs.
 */
export interface PacketSource {
  /** Interfaces seen so far (pcapng may declare more as it goes). */
  readonly interfaces: readonly InterfaceInfo[];
  /**
   * Delivers every frame in order. Resolves when the source ends or `close()` was called; rejects with a
   * descriptive error (a `CaptureFormatError` naming the byte offset, a `PcapError`, ...) after every frame
   * before the damage has been delivered.
   */
  run(onFrame: (frame: Frame) => void): Promise<void>;
  /** Stops the source promptly; `run` then resolves. */
  close(): void;
}
