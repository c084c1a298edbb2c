/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * The reading thread of a live capture: loops `pcap_next_ex` synchronously on a handle the main thread
 * activated, copies packets into batch buffers and transfers each full (or 50 ms old) batch to the main
 * thread. Started by `LiveCapture.run`; never imported by other modules.
 *
 * Flow control: at most `window` batches are posted and not yet consumed (`CTL_INFLIGHT`). At the window
 * the worker stops reading and sleeps in `Atomics.wait` until the main thread consumes one or asks it to
 * stop, so a backlog stays in libpcap's kernel buffer (bounded, and counted by `pcap_stats` when it
 * overflows) instead of piling up as messages that the main thread would drain before running any timer.
 *
 * Why a synchronous loop in a worker: a `nonblocking: true` FFI call costs tens of microseconds, more
 * than the packet it returns, while a synchronous call costs well under one. Blocking is fine here
 * because nothing else runs on this thread; the main thread stops it through the shared control block
 * plus `pcap_breakloop` (see `live_capture.ts`).
 *
 * @module
 */

import { loadLibpcap } from "./load.ts";
import {
  addressOf,
  AddressSlots,
  PCAP_ERROR_BREAK,
  PCAP_STAT,
  pcapErrorText,
  PKTHDR,
  readAddress,
} from "./libpcap.ts";
import { openMemcpy } from "./_libc.ts";
import {
  CTL_DROP,
  CTL_HANDLE,
  CTL_IFDROP,
  CTL_INFLIGHT,
  CTL_PENDING,
  CTL_RECV,
  CTL_STATS_VALID,
  CTL_STOP,
  HANDLE_BUSY,
  HANDLE_CLOSED,
  HANDLE_FREE,
  REC_CAPLEN,
  REC_FRAC,
  REC_HEADER,
  REC_LEN,
  REC_SEC,
  recordSize,
  type StartMessage,
  type WorkerMessage,
} from "./_capture_protocol.ts";

function post(message: WorkerMessage, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

function capture(start: StartMessage): void {
  const sym = loadLibpcap(start.libraryPath).symbols;
  const p = Deno.UnsafePointer.create(start.handle);
  if (p === null) throw new TypeError("capture worker started without a pcap handle");
  const ctl = new Int32Array(start.control);
  const memcpy = openMemcpy();
  const flushMs = start.flushMs;
  const capacity = start.batchBytes;
  const maxPackets = start.batchPackets;
  const window = start.window;

  // Out-parameters of pcap_next_ex (struct pcap_pkthdr **, const u_char **), reused for every call;
  // `outBig[1]` then goes to memcpy as the source address without becoming a JS BigInt.
  const outBig = new BigUint64Array(new ArrayBuffer(16));
  const out = new Uint32Array(outBig.buffer);
  const outHdr = new Uint8Array(outBig.buffer, 0, 8);
  const outData = new Uint8Array(outBig.buffer, 8, 8);
  const slots = new AddressSlots(2); // 0: destination, 1: length
  const statBuf = new Uint8Array(new ArrayBuffer(PCAP_STAT.size));
  const statView = new DataView(statBuf.buffer);

  // libpcap returns the same header struct (inside the pcap_t) on every call: alias it once and re-alias
  // only if the address ever changes, so reading a header costs no FFI call.
  let hdrAddress = -1;
  let hdr = new DataView(new ArrayBuffer(PKTHDR.size));

  let buffer = new ArrayBuffer(capacity);
  let view = new DataView(buffer);
  let base = addressOf(new Uint8Array(buffer));
  let used = 0;
  let count = 0;

  const flush = (nextSize: number) => {
    if (count > 0) {
      // Counted before posting, so the main thread's decrement can never run first.
      Atomics.add(ctl, CTL_INFLIGHT, 1);
      post({ type: "batch", buffer, used, count }, [buffer]);
      // The transferred memory now belongs to the main thread: never write through `base` again.
      buffer = new ArrayBuffer(Math.max(capacity, nextSize));
      view = new DataView(buffer);
      base = addressOf(new Uint8Array(buffer));
    } else if (nextSize > buffer.byteLength) {
      buffer = new ArrayBuffer(nextSize);
      view = new DataView(buffer);
      base = addressOf(new Uint8Array(buffer));
    }
    used = 0;
    count = 0;
    Atomics.store(ctl, CTL_PENDING, 0);
  };

  const publishStats = () => {
    if (sym.pcap_stats(p, statBuf) !== 0) return;
    Atomics.store(ctl, CTL_RECV, statView.getUint32(PCAP_STAT.recvOffset, true) | 0);
    Atomics.store(ctl, CTL_DROP, statView.getUint32(PCAP_STAT.dropOffset, true) | 0);
    Atomics.store(ctl, CTL_IFDROP, statView.getUint32(PCAP_STAT.ifdropOffset, true) | 0);
    Atomics.store(ctl, CTL_STATS_VALID, 1);
  };

  // Sleeps while the window is full. The main thread notifies CTL_INFLIGHT after each consumed batch and
  // on stop; the timeout only keeps the stats fresh (the kernel counts drops meanwhile).
  const waitForWindow = () => {
    for (;;) {
      const inFlight = Atomics.load(ctl, CTL_INFLIGHT);
      if (inFlight < window || Atomics.load(ctl, CTL_STOP) !== 0) return;
      if (Atomics.wait(ctl, CTL_INFLIGHT, inFlight, flushMs) === "timed-out") publishStats();
    }
  };

  let failure: { text: string; status: number } | undefined;
  let batchStart = 0; // when the first packet of the current batch was read
  publishStats();
  while (Atomics.load(ctl, CTL_STOP) === 0) {
    // Waiting here, before a read, rather than at a flush: no packet is held from libpcap while asleep,
    // and a flush below finds a free slot (only the final flush at stop may go past the window).
    if (Atomics.load(ctl, CTL_INFLIGHT) >= window) {
      waitForWindow();
      continue;
    }
    out[2] = 0; // the data pointer: non-null afterwards means a packet was delivered
    out[3] = 0;
    const rc = sym.pcap_next_ex(p, outHdr, outData);
    // libpcap checks the breakloop flag after handing a packet over, so BREAK can come with a packet
    // (seen on Linux 1.10.3: a datagram lost whenever the flush doorbell rang mid-read).
    if (rc === 1 || (rc === PCAP_ERROR_BREAK && (out[2] | out[3]) !== 0)) {
      const h = readAddress(out, 0);
      if (h !== hdrAddress) {
        hdrAddress = h;
        hdr = new DataView(
          Deno.UnsafePointerView.getArrayBuffer(Deno.UnsafePointer.create(outBig[0])!, PKTHDR.size),
        );
      }
      const caplen = hdr.getUint32(PKTHDR.caplenOffset, true);
      const size = recordSize(caplen);
      if (used + size > buffer.byteLength) flush(size);
      if (count === 0) {
        batchStart = performance.now();
        Atomics.store(ctl, CTL_PENDING, 1);
      }
      view.setUint32(used + REC_CAPLEN, caplen, true);
      view.setUint32(used + REC_LEN, hdr.getUint32(PKTHDR.lenOffset, true), true);
      const sec = PKTHDR.secBytes === 8
        ? hdr.getUint32(PKTHDR.secOffset, true) + hdr.getInt32(PKTHDR.secOffset + 4, true) * 4294967296
        : hdr.getInt32(PKTHDR.secOffset, true);
      view.setFloat64(used + REC_SEC, sec, true);
      view.setUint32(used + REC_FRAC, hdr.getUint32(PKTHDR.fracOffset, true), true);
      if (memcpy !== null) {
        slots.set(0, base + used + REC_HEADER);
        slots.set(1, caplen);
        memcpy(slots.big[0], outBig[1], slots.big[1]);
      } else if (caplen > 0) {
        Deno.UnsafePointerView.copyInto(
          Deno.UnsafePointer.create(outBig[1])!,
          new Uint8Array(buffer, used + REC_HEADER, caplen),
        );
      }
      used += size;
      count++;
    }
    if (rc === 1) {
      if (count >= maxPackets || performance.now() - batchStart >= flushMs) {
        flush(0);
        publishStats();
      }
    } else if (rc === PCAP_ERROR_BREAK || rc === 0) {
      // BREAK: the main thread rang (flush now) or wants us to stop (the loop condition sees that).
      // 0: the read timeout, where the platform has one that fires with no traffic.
      if (rc === PCAP_ERROR_BREAK || performance.now() - batchStart >= flushMs) flush(0);
      publishStats();
    } else {
      failure = { text: pcapErrorText(sym, p, rc), status: rc };
      break;
    }
  }
  flush(0);
  publishStats();
  if (failure) post({ type: "error", ...failure });
  post({ type: "done" });

  // Close here rather than on the main thread: closing a Linux packet socket waits for an RCU grace
  // period (~30 ms measured), which would otherwise delay `run` and block the main thread.
  while (Atomics.compareExchange(ctl, CTL_HANDLE, HANDLE_FREE, HANDLE_CLOSED) !== HANDLE_FREE) {
    Atomics.wait(ctl, CTL_HANDLE, HANDLE_BUSY, 5); // the main thread is inside pcap_breakloop
  }
  sym.pcap_close(p);
  post({ type: "closed" });
}

self.onmessage = (event: MessageEvent<StartMessage>) => {
  self.onmessage = null;
  try {
    capture(event.data);
  } catch (err) {
    // Only setup can throw (the loop calls nothing that does): the handle was never read, and the main
    // thread closes it when it sees "closed" without having seen the handle taken.
    post({ type: "error", text: err instanceof Error ? err.message : String(err), status: 0 });
    post({ type: "done" });
    post({ type: "closed" });
  }
};
