/**
 * The TCP side of a flow: a connection state machine over the segments seen in both directions
 * (RFC 9293 section 3.5, as a passive observer sees it), flag counts, Zeek-style history letters, and
 * cheap per-direction retransmission and out-of-order counts.
 *
 * History letters (Zeek's `conn.log` `history`): uppercase when the originator sent the segment,
 * lowercase for the responder.
 *
 * | letter | segment |
 * |---|---|
 * | `S` | SYN without ACK |
 * | `H` | SYN+ACK |
 * | `A` | pure ACK (no SYN/FIN/RST, no payload) |
 * | `D` | payload (any segment with data, a FIN or SYN carrying data included) |
 * | `F` | FIN |
 * | `R` | RST |
 * | `T` | a retransmission (see `SeqTracker`) |
 *
 * Each letter is recorded once per direction, in order of first occurrence, like Zeek's default (Zeek
 * repeats some letters at 10x thresholds; netwatch does not), so a clean connection reads `ShADadFf`.
 * Unlike Zeek, `D` is also set by a SYN or FIN that carries data.
 *
 * @module
 */

import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from "../decode/layers.ts";

/**
 * Connection state as a passive observer can tell it.
 * - `half_open`: the originator's SYN, no answer yet (a connection attempt, or a SYN scan probe).
 * - `handshake`: SYN+ACK seen, the final ACK not yet.
 * - `established`: the handshake completed (or the responder answered with data although its SYN+ACK
 *   was not captured).
 * - `midstream`: no SYN seen: the capture began after the connection was set up.
 * - `closing`: a FIN from one side.
 * - `closed`: FINs from both sides.
 * - `reset`: a RST ended the connection (not as the answer to a SYN).
 * - `rejected`: the responder answered the SYN with a RST (a closed port).
 */
export type TcpConnState =
  | "half_open"
  | "handshake"
  | "established"
  | "midstream"
  | "closing"
  | "closed"
  | "reset"
  | "rejected";

/** What `SeqTracker.segment` made of a segment. */
export const SEG_NONE = 0, SEG_NEW = 1, SEG_RETRANSMISSION = 2, SEG_OUT_OF_ORDER = 3;

/**
 * Sequence-space bookkeeping of one direction, in four numbers: the next expected sequence number (the
 * highest segment end seen) and the most recent gap below it. A segment with payload that starts below
 * the next expected number is out-of-order if it overlaps the gap (it fills data not seen before) and a
 * retransmission otherwise (every byte of it, or its start, was already seen).
 *
 * A bare ACK whose sequence number is ahead of the edge also opens a gap (the sender had sent bytes the
 * capture point missed). Only the latest gap is remembered: a segment filling an older, still open gap
 * counts as a retransmission, which is usually what it is (the sender resending what the capture point
 * never saw). Comparisons use signed 32-bit differences, so they hold across the sequence-number wrap.
 * Zero-length segments and 1-byte keep-alives (RFC 9293 section 3.8.4: the byte just below the next
 * expected number) are neither.
 */
export class SeqTracker {
  started = false;
  /** Next expected sequence number: the highest `seq + length` seen. */
  next = 0;
  hole = false;
  holeStart = 0;
  holeEnd = 0;

  /**
   * Accounts one segment. `len` is its payload length; `span` its length in sequence space (payload
   * plus one for SYN and one for FIN). Returns one of the `SEG_*` values.
   */
  segment(seq: number, len: number, span: number): number {
    if (!this.started) {
      this.started = true;
      this.next = (seq + span) >>> 0;
      return span > 0 ? SEG_NEW : SEG_NONE;
    }
    const ahead = (seq - this.next) | 0;
    if (span === 0) {
      // A bare ACK carries the sender's next sequence number: one ahead of the edge shows bytes were sent
      // that the capture point missed, so their later copy counts as out-of-order, not as new.
      if (ahead > 0) this.gap(seq);
      return SEG_NONE;
    }
    const end = (seq + span) >>> 0;
    if (ahead >= 0) {
      // Bytes between the old edge and this segment were not seen (lost before the capture point or
      // reordered): remember the gap so that the segment filling it counts as out-of-order.
      if (ahead > 0) this.gap(seq);
      this.next = end;
      return SEG_NEW;
    }
    if (len === 0) return SEG_NONE;
    if (len === 1 && end === this.next) return SEG_NONE; // keep-alive probe
    const extends_ = ((end - this.next) | 0) > 0;
    if (this.hole && ((seq - this.holeEnd) | 0) < 0 && ((end - this.holeStart) | 0) > 0) {
      this.fill(seq, end);
      if (extends_) this.next = end;
      return SEG_OUT_OF_ORDER;
    }
    if (extends_) this.next = end;
    return SEG_RETRANSMISSION;
  }

  /** Records `[next, seq)` as the gap (replacing an older one) and moves the edge to `seq`. */
  private gap(seq: number): void {
    this.hole = true;
    this.holeStart = this.next;
    this.holeEnd = seq;
    this.next = seq;
  }

  /** Shrinks the gap by `[seq, end)`; a fill from the middle keeps the larger remaining part. */
  private fill(seq: number, end: number): void {
    if (((seq - this.holeStart) | 0) <= 0) {
      if (((end - this.holeEnd) | 0) >= 0) this.hole = false;
      else this.holeStart = end;
    } else if (((end - this.holeEnd) | 0) >= 0) {
      this.holeEnd = seq;
    } else if (((seq - this.holeStart) | 0) >= ((this.holeEnd - end) | 0)) {
      this.holeEnd = seq;
    } else {
      this.holeStart = end;
    }
  }
}

// Bit positions of the history letters; the responder's are these shifted by RESP_SHIFT.
const H_SYN = 0, H_SYNACK = 1, H_ACK = 2, H_DATA = 3, H_FIN = 4, H_RST = 5, H_RETRANS = 6, RESP_SHIFT = 7;
const LETTERS = "SHADFRT";

/** TCP state of one flow. Fed every segment with its direction; never throws. */
export class TcpState {
  /** Current connection state (see `TcpConnState`). */
  state: TcpConnState = "midstream";
  /** Zeek-style history letters, each once per direction, in order of first occurrence. */
  history = "";
  /** SYN segments (without ACK), both directions. */
  syn = 0;
  /** SYN+ACK segments. */
  synack = 0;
  rst = 0;
  fin = 0;
  retransOrig = 0;
  retransResp = 0;
  oooOrig = 0;
  oooResp = 0;
  readonly orig: SeqTracker = new SeqTracker();
  readonly resp: SeqTracker = new SeqTracker();
  private letters = 0;
  private segments = 0;
  private finOrig = false;
  private finResp = false;
  /** Which side sent the SYN+ACK (the other side's ACK completes the handshake). */
  private synackFromOrig = false;
  /** Initial sequence numbers of each side's SYN, to tell a retransmitted SYN from a new connection. */
  private isnOrig = -1;
  private isnResp = -1;

  /** True once the connection is over (both FINs, a RST or a rejection). */
  get finished(): boolean {
    return this.state === "closed" || this.state === "reset" || this.state === "rejected";
  }

  /** True while no FIN or RST was seen: the flow is in use, or may be. */
  get open(): boolean {
    return this.state === "established" || this.state === "midstream" || this.state === "half_open" ||
      this.state === "handshake";
  }

  /** True while the handshake is incomplete (a SYN or SYN+ACK without the rest). */
  get opening(): boolean {
    return this.state === "half_open" || this.state === "handshake";
  }

  /**
   * True when this segment starts a new connection on a finished flow's addresses and ports (port
   * reuse): a SYN without ACK whose sequence number is not the ISN that side already used.
   */
  isNewConnection(flags: number, seq: number, fromOrig: boolean): boolean {
    if ((flags & (TCP_SYN | TCP_ACK | TCP_RST)) !== TCP_SYN || !this.finished) return false;
    return (fromOrig ? this.isnOrig : this.isnResp) !== seq;
  }

  /** Accounts one segment: `flags` as in `TcpLayer.flags`, `len` the payload length on the wire. */
  update(flags: number, seq: number, len: number, fromOrig: boolean): void {
    const syn = (flags & TCP_SYN) !== 0, ack = (flags & TCP_ACK) !== 0;
    const fin = (flags & TCP_FIN) !== 0, rst = (flags & TCP_RST) !== 0;
    const shift = fromOrig ? 0 : RESP_SHIFT;
    if (this.segments++ === 0) {
      // The first segment decides how the connection is shown as starting.
      this.state = syn && !rst ? (ack ? "handshake" : "half_open") : "midstream";
      if (syn && ack) this.synackFromOrig = fromOrig;
    }
    if (syn && !rst) {
      if (ack) {
        this.synack++;
        this.mark(H_SYNACK + shift);
        if (this.state === "half_open" && !fromOrig) {
          this.state = "handshake";
          this.synackFromOrig = false;
        }
      } else {
        this.syn++;
        this.mark(H_SYN + shift);
      }
      if (fromOrig) this.isnOrig = seq;
      else this.isnResp = seq;
    }
    if (fin) {
      this.fin++;
      this.mark(H_FIN + shift);
      if (fromOrig) this.finOrig = true;
      else this.finResp = true;
      if (this.state !== "reset" && this.state !== "rejected") {
        this.state = this.finOrig && this.finResp ? "closed" : "closing";
      }
    }
    if (rst) {
      this.rst++;
      this.mark(H_RST + shift);
      if (this.state === "half_open" && !fromOrig) this.state = "rejected";
      else if (this.state !== "closed" && this.state !== "rejected") this.state = "reset";
    } else if (!syn) {
      if (ack && !fin && len === 0) this.mark(H_ACK + shift);
      if (this.state === "handshake") {
        // The ACK (or data) from the side that received the SYN+ACK completes the handshake.
        if (fromOrig !== this.synackFromOrig || len > 0) this.state = "established";
      } else if (this.state === "half_open" && !fromOrig) {
        // The responder talks although its SYN+ACK was not captured.
        this.state = "established";
      }
    }
    if (len > 0) this.mark(H_DATA + shift);
    if (rst) return; // a RST's sequence number says nothing about the byte stream
    const span = len + (syn ? 1 : 0) + (fin ? 1 : 0);
    const r = (fromOrig ? this.orig : this.resp).segment(seq >>> 0, len, span);
    if (r === SEG_RETRANSMISSION) {
      if (fromOrig) this.retransOrig++;
      else this.retransResp++;
      this.mark(H_RETRANS + shift);
    } else if (r === SEG_OUT_OF_ORDER) {
      if (fromOrig) this.oooOrig++;
      else this.oooResp++;
    }
  }

  private mark(bit: number): void {
    if ((this.letters & (1 << bit)) !== 0) return;
    this.letters |= 1 << bit;
    const letter = LETTERS[bit % RESP_SHIFT];
    this.history += bit >= RESP_SHIFT ? letter.toLowerCase() : letter;
  }
}
