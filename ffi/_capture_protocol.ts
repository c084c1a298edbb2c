/**
 * What `live_capture.ts` (main thread) and `capture_worker.ts` (the reading thread) exchange. Kept apart
 * so neither module imports the other: importing the worker module on the main thread would install its
 * message handler there.
 *
 * @module
 */

/** Indexes into the shared `Int32Array` control block. */
export const CTL_STOP = 0; // main sets 1: the worker leaves its loop at its next wakeup
export const CTL_STATS_VALID = 1; // worker sets 1 once the fields below hold a pcap_stats result
export const CTL_RECV = 2; // pcap_stat.ps_recv (u32, stored in an i32 slot: read with >>> 0)
export const CTL_DROP = 3; // pcap_stat.ps_drop
export const CTL_IFDROP = 4; // pcap_stat.ps_ifdrop
export const CTL_PENDING = 5; // worker sets 1 while its current batch holds packets, 0 after a flush
export const CTL_HANDLE = 6; // who may touch the pcap_t besides the reader: one of HANDLE_*
/**
 * Batches posted but not yet consumed: the worker adds 1 before posting, the main thread subtracts 1 (and
 * notifies) once every frame of a batch went through `onFrame`. The worker reads no packet while it is at
 * the window (`StartMessage.window`), so a consumer that falls behind leaves the backlog in libpcap's
 * kernel buffer, where overflow is counted by `pcap_stats`, rather than in an unbounded message queue.
 * The main thread also notifies this slot on stop, to wake a waiting worker at once.
 */
export const CTL_INFLIGHT = 7;

/**
 * Ownership of the handle for `pcap_breakloop`. The main thread rings (breakloop) only after moving
 * FREE -> BUSY; the worker moves FREE -> CLOSED, waiting out a BUSY, before it calls `pcap_close`, so a
 * breakloop can never hit a closed handle.
 */
export const HANDLE_FREE = 0;
export const HANDLE_BUSY = 1;
export const HANDLE_CLOSED = 2;
/** Slots in the control block. */
export const CTL_SLOTS = 8;

/**
 * One packet record in a batch buffer: this header, then `caplen` bytes, padded to a multiple of 4.
 * The header is netwatch's own (not `pcap_pkthdr`), so the main thread needs no platform layout.
 */
export const REC_CAPLEN = 0; // u32
export const REC_LEN = 4; // u32
export const REC_SEC = 8; // f64: seconds since the epoch (exact for any 53-bit integer)
export const REC_FRAC = 16; // u32: fraction in units of 10^-tsDigits s
export const REC_HEADER = 20;

/** Bytes a record with `caplen` captured bytes takes. */
export function recordSize(caplen: number): number {
  return REC_HEADER + ((caplen + 3) & ~3);
}

/** Main -> worker: the single message that starts the loop. */
export interface StartMessage {
  /** Library name the main thread opened, so the worker binds the same libpcap. */
  libraryPath: string;
  /** The activated `pcap_t *` as an integer (pointer objects cannot cross threads). */
  handle: bigint;
  control: SharedArrayBuffer;
  /** Capacity of each batch buffer. */
  batchBytes: number;
  /** Most packets in one batch. */
  batchPackets: number;
  /** Most batches posted and not yet consumed (see `CTL_INFLIGHT`). */
  window: number;
  /** Longest a packet waits in a partly filled batch, and the stats refresh period. */
  flushMs: number;
}

/** Worker -> main. */
export type WorkerMessage =
  | { type: "batch"; buffer: ArrayBuffer; used: number; count: number }
  | { type: "error"; text: string; status: number }
  /** Every packet read has been posted and the stats are final; the handle is closing. */
  | { type: "done" }
  /** The handle is closed; the worker is about to exit. */
  | { type: "closed" };
