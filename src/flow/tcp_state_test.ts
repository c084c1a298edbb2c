import assert from "node:assert/strict";
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from "../decode/layers.ts";
import {
  SEG_NEW,
  SEG_NONE,
  SEG_OUT_OF_ORDER,
  SEG_RETRANSMISSION,
  SeqTracker,
  TcpState,
} from "./tcp_state.ts";

const S = TCP_SYN, A = TCP_ACK, F = TCP_FIN, R = TCP_RST, P = TCP_PSH;
const ORIG = true, RESP = false;

/** Runs `[flags, seq, len, fromOrig]` segments through a fresh state. */
function run(segments: [number, number, number, boolean][]): TcpState {
  const st = new TcpState();
  for (const [flags, seq, len, dir] of segments) st.update(flags, seq, len, dir);
  return st;
}

// A clean connection: client ISN 1000, server ISN 5000; 100 bytes up, 300 down, FIN from both.
const HANDSHAKE: [number, number, number, boolean][] = [
  [S, 1000, 0, ORIG],
  [S | A, 5000, 0, RESP],
  [A, 1001, 0, ORIG],
];

Deno.test("tcp state: handshake, data and FIN close read ShADadFf", () => {
  const st = new TcpState();
  st.update(S, 1000, 0, ORIG);
  assert.equal(st.state, "half_open");
  st.update(S | A, 5000, 0, RESP);
  assert.equal(st.state, "handshake");
  st.update(A, 1001, 0, ORIG);
  assert.equal(st.state, "established");
  st.update(P | A, 1001, 100, ORIG);
  st.update(A, 5001, 0, RESP);
  st.update(P | A, 5001, 300, RESP);
  st.update(F | A, 1101, 0, ORIG);
  assert.equal(st.state, "closing");
  st.update(F | A, 5301, 0, RESP);
  assert.equal(st.state, "closed");
  st.update(A, 1102, 0, ORIG);
  assert.equal(st.state, "closed");
  assert.equal(st.history, "ShADadFf");
  assert.deepEqual([st.syn, st.synack, st.fin, st.rst], [1, 1, 2, 0]);
  assert.deepEqual([st.retransOrig, st.retransResp, st.oooOrig, st.oooResp], [0, 0, 0, 0]);
  assert.ok(st.finished && !st.open);
});

Deno.test("tcp state: a RST after the handshake is a reset", () => {
  const st = run([...HANDSHAKE, [P | A, 1001, 10, ORIG], [R | A, 5001, 0, RESP]]);
  assert.equal(st.state, "reset");
  assert.equal(st.history, "ShADr");
  assert.equal(st.rst, 1);
});

Deno.test("tcp state: a SYN without answer is half-open; retransmitted SYNs are counted", () => {
  const st = run([[S, 7, 0, ORIG], [S, 7, 0, ORIG], [S, 7, 0, ORIG]]);
  assert.equal(st.state, "half_open");
  assert.equal(st.history, "S");
  assert.equal(st.syn, 3);
  assert.equal(st.retransOrig, 0, "a SYN carries no payload, so it is not a data retransmission");
  assert.ok(st.opening);
});

Deno.test("tcp state: a SYN answered by RST is rejected", () => {
  const st = run([[S, 7, 0, ORIG], [R | A, 0, 0, RESP]]);
  assert.equal(st.state, "rejected");
  assert.equal(st.history, "Sr");
  assert.ok(st.finished);
  // The client retrying with the same ISN is the same attempt; a new ISN is a new connection.
  assert.equal(st.isNewConnection(S, 7, ORIG), false);
  assert.equal(st.isNewConnection(S, 8, ORIG), true);
});

Deno.test("tcp state: a SYN+ACK answered by the scanner's RST (SYN scan) is a reset", () => {
  const st = run([[S, 7, 0, ORIG], [S | A, 99, 0, RESP], [R, 8, 0, ORIG]]);
  assert.equal(st.state, "reset");
  assert.equal(st.history, "ShR");
});

Deno.test("tcp state: a connection seen from the middle is midstream", () => {
  const st = run([[P | A, 50, 10, ORIG], [A, 900, 0, RESP], [F | A, 60, 0, ORIG], [F | A, 900, 0, RESP]]);
  assert.equal(st.history, "DaFf");
  assert.equal(st.state, "closed");
  assert.equal(run([[A, 1, 0, ORIG]]).state, "midstream");
});

Deno.test("tcp state: the responder talking without a captured SYN+ACK establishes", () => {
  const st = run([[S, 1, 0, ORIG], [P | A, 500, 20, RESP]]);
  assert.equal(st.state, "established");
});

Deno.test("tcp state: a repeated segment is a retransmission (T), a gap filler is out-of-order", () => {
  const st = run([
    ...HANDSHAKE,
    [P | A, 1001, 100, ORIG],
    [P | A, 1001, 100, ORIG], // the same bytes again
    [P | A, 1201, 100, ORIG], // 1101..1200 missing
    [P | A, 1101, 100, ORIG], // fills the gap
    [P | A, 1101, 100, ORIG], // and again: now a retransmission
    [P | A, 5001, 50, RESP],
  ]);
  assert.equal(st.retransOrig, 2);
  assert.equal(st.oooOrig, 1);
  assert.deepEqual([st.retransResp, st.oooResp], [0, 0]);
  assert.equal(st.history, "ShADTd");
});

Deno.test("tcp state: a bare ACK ahead of the data shows a missed segment; its copy is out-of-order", () => {
  const st = run([
    ...HANDSHAKE,
    [P | A, 1001, 100, ORIG],
    // 1101..1124 was sent but not captured; the next bare ACK carries seq 1125 (after data and FIN).
    [A, 1125, 0, ORIG],
    [P | A | F, 1101, 23, ORIG],
  ]);
  assert.deepEqual([st.retransOrig, st.oooOrig], [0, 1]);
});

Deno.test("tcp state: keep-alives and pure ACKs are neither retransmissions nor out-of-order", () => {
  const st = run([...HANDSHAKE, [P | A, 1001, 100, ORIG], [A, 1100, 1, ORIG], [A, 1100, 0, ORIG]]);
  assert.deepEqual([st.retransOrig, st.oooOrig], [0, 0]);
});

Deno.test("seq tracker: sequence numbers wrap around 2^32", () => {
  const t = new SeqTracker();
  const isn = 0xffffff00;
  assert.equal(t.segment(isn, 0, 1), SEG_NEW); // SYN
  assert.equal(t.segment(isn + 1, 300, 300), SEG_NEW); // 0xffffff01 .. 0x0000002c wraps
  assert.equal(t.next, 0x2d);
  assert.equal(t.segment(0x2d, 100, 100), SEG_NEW);
  assert.equal(t.segment(isn + 1, 300, 300), SEG_RETRANSMISSION, "before the wrap, already seen");
  assert.equal(t.segment(0xf5, 100, 100), SEG_NEW); // leaves a gap 0x91..0xf5
  assert.equal(t.segment(0x91, 100, 100), SEG_OUT_OF_ORDER);
  assert.equal(t.hole, false);
  assert.equal(t.segment(0x91, 100, 100), SEG_RETRANSMISSION);
});

Deno.test("seq tracker: a gap straddling the wrap is filled out-of-order", () => {
  const t = new SeqTracker();
  t.segment(0xfffffe00, 0x100, 0x100); // up to 0xffffff00
  assert.equal(t.segment(0x50, 0x100, 0x100), SEG_NEW); // gap 0xffffff00 .. 0x50
  assert.deepEqual([t.hole, t.holeStart, t.holeEnd], [true, 0xffffff00, 0x50]);
  assert.equal(t.segment(0xffffff00, 0x80, 0x80), SEG_OUT_OF_ORDER); // front part
  assert.equal(t.holeStart, 0xffffff80);
  assert.equal(t.segment(0x10, 0x40, 0x40), SEG_OUT_OF_ORDER); // back part
  assert.equal(t.holeEnd, 0x10);
  assert.equal(t.segment(0xffffff80, 0x90, 0x90), SEG_OUT_OF_ORDER); // the rest, across 0
  assert.equal(t.hole, false);
  assert.equal(t.segment(0xfffffff0, 0x20, 0x20), SEG_RETRANSMISSION);
  assert.equal(t.segment(0x150, 0, 0), SEG_NONE);
});

Deno.test("tcp state: retransmission and out-of-order across the wrap through TcpState", () => {
  const isn = 0xfffffff0;
  const st = run([
    [S, isn, 0, ORIG],
    [S | A, 1, 0, RESP],
    [A, isn + 1, 0, ORIG],
    [P | A, isn + 1, 100, ORIG], // ends at 0x55 after the wrap
    [P | A, 0x55 + 100, 100, ORIG], // gap of 100
    [P | A, isn + 1, 100, ORIG], // retransmission from before the wrap
    [P | A, 0x55, 100, ORIG], // fills the gap
  ]);
  assert.deepEqual([st.retransOrig, st.oooOrig], [1, 1]);
});
