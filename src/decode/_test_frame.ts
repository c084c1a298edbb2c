/**
 * Test helpers for the link, network and transport decoders: build a `Frame` around hand-written bytes and
 * return the record `netwatch packets --jsonl` would print for it; a small seeded fuzzer; and, where the
 * public captures and tshark are installed, the records and tshark fields of a corpus capture.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openCapture } from "../capture/open_capture.ts";
import { concat } from "../capture/pcap_writer.ts";
import type { Frame } from "../capture/source.ts";
import { PacketDecoder } from "./packet_decoder.ts";
import { type PacketRecord, packetRecord } from "./packet_record.ts";

/** Bytes of a hex string; whitespace, `|` and `.` are ignored so vectors can be laid out by field. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[\s|.]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) {
    throw new TypeError(`Expected an even number of hex digits, got "${text}"`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Concatenates byte vectors (hex strings or bytes). */
export function cat(...parts: (string | Uint8Array)[]): Uint8Array {
  return concat(parts.map((p) => typeof p === "string" ? hex(p) : p));
}

/** What the frame around the test bytes looks like. */
export interface FrameOptions {
  /** LINKTYPE_* of the frame; 1 (Ethernet) by default. */
  linkType?: number;
  /** Bytes on the wire; `caplen` (the vector's length) by default. */
  len?: number;
  /** Offset of the frame in its buffer; 7 by default, so absolute offsets are never frame offsets. */
  start?: number;
  /** The byte that fills the buffer before and after the frame. */
  junk?: number;
  /** Junk bytes after the frame (32 by default; 0 puts the frame at the very end of the buffer). */
  after?: number;
  n?: number;
  tsSec?: number;
  tsFrac?: number;
  tsDigits?: number;
  iface?: number;
}

/** A `Frame` holding `packet` at `start` inside a larger buffer, with junk before and after it. */
export function makeFrame(packet: Uint8Array, options: FrameOptions = {}): Frame {
  const start = options.start ?? 7, after = options.after ?? 32;
  const buffer = new Uint8Array(start + packet.length + after).fill(options.junk ?? 0xa5);
  buffer.set(packet, start);
  return {
    n: options.n ?? 1,
    bytes: buffer,
    view: new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength),
    start,
    caplen: packet.length,
    len: options.len ?? packet.length,
    tsSec: options.tsSec ?? 1700000000,
    tsFrac: options.tsFrac ?? 123456,
    tsDigits: options.tsDigits ?? 6,
    linkType: options.linkType ?? 1,
    iface: options.iface ?? 0,
  };
}

/** The default frame's `ts`, as records show it. */
export const TS = "1700000000.123456";

/** Two buffers' worth of junk that would make any read outside the frame visible. */
const JUNK = [0x45, 0x00];

/**
 * The JSON record of `packet` (as `packets --jsonl` prints it: keys with undefined values omitted). The
 * packet is decoded twice, surrounded by two different junk bytes, and both records must be equal: a
 * decoder that reads outside the frame fails the test that uses this helper. Each call uses a fresh
 * decoder unless one is given (fragment reassembly keeps state between packets).
 */
export function decodeRecord(
  packet: Uint8Array | string,
  options: FrameOptions = {},
  decoder?: PacketDecoder,
): PacketRecord {
  const bytes = typeof packet === "string" ? hex(packet) : packet;
  const records = JUNK.map((junk) => {
    const d = decoder ?? new PacketDecoder();
    return JSON.parse(JSON.stringify(packetRecord(d.decode(makeFrame(bytes, { ...options, junk })))));
  });
  if (decoder === undefined) {
    assert.deepStrictEqual(records[1], records[0], "the record depends on bytes outside the frame");
  }
  return records[0];
}

/** The frame-level fields every record starts with, for a frame built with the default options. */
export function frameFields(caplen: number, link = "EN10MB", len = caplen): PacketRecord {
  return { n: 1, ts: TS, len, caplen, link, iface: 0 };
}

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same sequence on every run. */
export function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Feeds `iterations` mutated copies of `seeds` (bit flips, byte overwrites, truncation at any byte) through
 * the decoder and `packetRecord` + `JSON.stringify`. The frame ends exactly at the end of its buffer, so a
 * read past the captured bytes throws, and the test fails on any `decoder_exception` or escaping error.
 * Returns the anomaly codes seen, with counts.
 */
export function fuzzFrames(
  seeds: Uint8Array[],
  options: { linkType?: number; iterations?: number; seed?: number } = {},
): Record<string, number> {
  const rand = prng(options.seed ?? 0x5eed);
  const decoder = new PacketDecoder();
  const seen: Record<string, number> = {};
  const iterations = options.iterations ?? 3000;
  for (let i = 0; i < iterations; i++) {
    const seed = seeds[i % seeds.length];
    const cut = rand() < 0.5 ? Math.floor(rand() * (seed.length + 1)) : seed.length;
    const packet = seed.slice(0, cut);
    const edits = Math.floor(rand() * 6);
    for (let e = 0; e < edits && packet.length > 0; e++) {
      const at = Math.floor(rand() * packet.length);
      if (rand() < 0.7) packet[at] ^= 1 << Math.floor(rand() * 8);
      else packet[at] = rand() < 0.5 ? 0 : rand() < 0.5 ? 0xff : Math.floor(rand() * 256);
    }
    const frame = makeFrame(packet, { linkType: options.linkType, after: 0, start: 3, n: i + 1 });
    const decoded = decoder.decode(frame);
    JSON.stringify(packetRecord(decoded));
    const anomalies = decoded.anomalies ?? [];
    for (const a of anomalies) seen[a] = (seen[a] ?? 0) + 1;
    assert.ok(
      !anomalies.some((a) => a.startsWith("decoder_exception")),
      `decoder_exception on iteration ${i}: ${packet.length} bytes ${
        Array.from(packet, (b) => b.toString(16).padStart(2, "0")).join("")
      }`,
    );
  }
  return seen;
}

// ---------------------------------------------------------------------------------------------------------
// Corpus captures and tshark, for agreement tests that skip when either is missing.

/** The public captures' corpus directory, or undefined when this machine has none. */
export const CORPUS: string | undefined = (() => {
  const dir = new URL("../../../shared/pcaps/corpus", import.meta.url).pathname;
  try {
    return Deno.statSync(dir).isDirectory ? dir : undefined;
  } catch {
    return undefined;
  }
})();

/** Whether tshark is on PATH. */
export const HAVE_TSHARK: boolean = (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
  try {
    return dir !== "" && Deno.statSync(`${dir}/tshark`).isFile;
  } catch {
    return false;
  }
});

/** Why corpus tests are skipped, or undefined when they can run. */
export const CORPUS_SKIP: string | undefined = CORPUS === undefined
  ? "../shared/pcaps is missing"
  : !HAVE_TSHARK
  ? "tshark is missing"
  : undefined;

/** Every record of a corpus capture (`name` relative to the corpus), as `packets --jsonl` prints them. */
export async function corpusRecords(name: string): Promise<PacketRecord[]> {
  const records: PacketRecord[] = [];
  const decoder = new PacketDecoder();
  const source = await openCapture(`${CORPUS}/${name}`);
  await source.run((f) => records.push(JSON.parse(JSON.stringify(packetRecord(decoder.decode(f))))));
  return records;
}

/**
 * tshark's values of `fields` for every frame of a corpus capture: one array per frame, one string per field
 * holding every occurrence joined by `,` (outer layer first), or "" when absent.
 */
export async function tsharkRows(name: string, fields: string[]): Promise<string[][]> {
  const args = ["-n", "-r", `${CORPUS}/${name}`, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"];
  args.push(
    "-E",
    "aggregator=,",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
    "-o",
    "tcp.relative_sequence_numbers:FALSE",
  );
  for (const f of fields) args.push("-e", f);
  const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "null", stdin: "null" })
    .output();
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.length > 0);
  return lines.map((l) => {
    const row = l.split("\t");
    while (row.length < fields.length) row.push("");
    return row;
  });
}

/** Records and tshark rows of several corpus captures, read in parallel. */
export function corpusAndTshark(
  names: string[],
  fields: string[],
): Promise<{ name: string; ours: PacketRecord[]; theirs: string[][] }[]> {
  return Promise.all(names.map(async (name) => {
    const [ours, theirs] = await Promise.all([corpusRecords(name), tsharkRows(name, fields)]);
    return { name, ours, theirs };
  }));
}
