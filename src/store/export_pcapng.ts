/**
 * Writes packets from the store to a pcapng file: a query's matches, one conversation, or the whole ring.
 * The file holds one interface description per (interface, link type) pair actually present, numbered
 * in order of first appearance, each with the finest timestamp resolution its packets use; every packet
 * keeps its original captured bytes, wire length, timestamp and comment.
 *
 * Files are created, never overwritten: when the name is taken, `-1`, `-2`, ... is added before the
 * extension.
 *
 * @module
 */

import { join } from "node:path";
import type { InterfaceInfo } from "../capture/source.ts";
import { type PcapngInterface, PcapngWriter } from "../capture/pcapng_writer.ts";
import { type FlowSelector, flowSeqs } from "./follow_stream.ts";
import type { PacketRing } from "./packet_ring.ts";
import { type BpfCompiler, matchingSeqs, type PacketFilter } from "./packet_query.ts";

/** How many numbered alternatives are tried before giving up on a name. */
const MAX_NAME_TRIES = 1000;
/** Bytes buffered before a write to the file. */
const WRITE_CHUNK = 4 * 1024 * 1024;

/** Options of the export functions. */
export interface ExportOptions {
  /** File name (no directories); `.pcapng` is added when missing. Default `netwatch-<first packet time>.pcapng`. */
  name?: string;
  /** Interface facts (name, description, snaplen) by the ring's interface index, written into the file. */
  interfaces?: readonly (InterfaceInfo | undefined)[];
  /** `shb_comment` of the section. */
  comment?: string;
}

/** What was written. */
export interface ExportResult {
  /** The path of the new file. */
  path: string;
  packets: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** The interfaces of the file: its id, the ring's interface index and the link type. */
  interfaces: { id: number; iface: number; link_type: number }[];
}

/** Writes every packet held in `ring` to a new pcapng file in `dir`. */
export function exportRing(
  ring: PacketRing,
  dir: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const seqs: number[] = [];
  for (let s = ring.firstSeq; s < ring.nextSeq; s++) seqs.push(s);
  return exportSeqs(ring, seqs, dir, options);
}

/** Writes the packets held in `ring` that match `filter` (all of them, not one page) to a new pcapng file. */
export function exportQuery(
  ring: PacketRing,
  filter: PacketFilter,
  dir: string,
  options: ExportOptions = {},
  compile?: BpfCompiler,
): Promise<ExportResult> {
  return exportSeqs(ring, matchingSeqs(ring, filter, compile), dir, options);
}

/** Writes the packets held of the conversation `sel` (both directions) to a new pcapng file. */
export function exportFlow(
  ring: PacketRing,
  sel: FlowSelector,
  dir: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  return exportSeqs(ring, flowSeqs(ring, sel), dir, options);
}

/**
 * Writes the packets `seqs` (sequence numbers, ascending) of `ring` to a new pcapng file in `dir`.
 * Packets no longer held are skipped. The file's contents are built before the first `await`, so the
 * ring may move on while the file is written. Throws `Deno.errors.NotFound` when `dir` does not exist and
 * `TypeError` for a name with a directory part.
 */
export async function exportSeqs(
  ring: PacketRing,
  seqs: readonly number[],
  dir: string,
  options: ExportOptions = {},
): Promise<ExportResult> {
  const base = fileName(options.name);
  // Pass 1: the interfaces present and their resolutions.
  const ifaces = new Map<
    string,
    { id: number; iface: number; linkType: number; digits: number; snaplen: number }
  >();
  const order: { id: number; iface: number; linkType: number; digits: number; snaplen: number }[] = [];
  let firstSec: number | undefined;
  const held: number[] = [];
  for (const seq of seqs) {
    const f = ring.frameAt(seq);
    if (f === undefined) continue;
    held.push(seq);
    firstSec ??= f.tsSec;
    const k = `${f.iface}:${f.linkType}`;
    let e = ifaces.get(k);
    if (e === undefined) {
      e = { id: order.length, iface: f.iface, linkType: f.linkType, digits: f.tsDigits, snaplen: f.caplen };
      ifaces.set(k, e);
      order.push(e);
    }
    if (f.tsDigits > e.digits) e.digits = f.tsDigits;
    if (f.caplen > e.snaplen) e.snaplen = f.caplen;
  }
  // Pass 2: the blocks.
  const w = new PcapngWriter({ application: "netwatch", comment: options.comment });
  for (const e of order) {
    const info = options.interfaces?.[e.iface];
    const iface: PcapngInterface = {
      linkType: e.linkType,
      snaplen: info?.linkType === e.linkType
        ? Math.max(info.snaplen, e.snaplen)
        : Math.max(262144, e.snaplen),
      tsresol: e.digits,
    };
    if (info?.name !== undefined) iface.name = info.name;
    if (info?.description !== undefined) iface.description = info.description;
    if (info?.filter !== undefined) iface.filter = info.filter;
    w.interface(iface);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const seq of held) {
    const f = ring.frameAt(seq)!;
    const e = ifaces.get(`${f.iface}:${f.linkType}`)!;
    const units = BigInt(f.tsSec) * 10n ** BigInt(e.digits) +
      BigInt(f.tsFrac) * 10n ** BigInt(e.digits - f.tsDigits);
    w.packet(e.id, f.bytes.subarray(f.start, f.start + f.caplen), units, f.len, f.comment);
    if (w.length >= WRITE_CHUNK) {
      const chunk = w.drain();
      parts.push(chunk);
      size += chunk.length;
    }
  }
  const tail = w.drain();
  parts.push(tail);
  size += tail.length;
  const { file, path } = await createNew(dir, base ?? `netwatch-${firstSec ?? 0}.pcapng`);
  try {
    for (const p of parts) {
      let off = 0;
      while (off < p.length) off += await file.write(p.subarray(off));
    }
  } finally {
    file.close();
  }
  return {
    path,
    packets: held.length,
    bytes: size,
    interfaces: order.map((e) => ({ id: e.id, iface: e.iface, link_type: e.linkType })),
  };
}

function fileName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (typeof name !== "string" || name === "" || /[/\\\0]/.test(name) || name === "." || name === "..") {
    throw new TypeError(`name must be a plain file name without directories, got "${name}"`);
  }
  return /\.pcapng$/i.test(name) ? name : `${name}.pcapng`;
}

/** Creates `dir/name`, or `dir/name-1`, `-2`, ... when it exists; never truncates an existing file. */
async function createNew(dir: string, name: string): Promise<{ file: Deno.FsFile; path: string }> {
  const stat = await Deno.stat(dir);
  if (!stat.isDirectory) throw new TypeError(`Cannot export to "${dir}": not a directory`);
  const dot = name.toLowerCase().lastIndexOf(".pcapng");
  const stem = name.slice(0, dot), ext = name.slice(dot);
  for (let i = 0; i < MAX_NAME_TRIES; i++) {
    const path = join(dir, i === 0 ? name : `${stem}-${i}${ext}`);
    try {
      return { file: await Deno.open(path, { write: true, createNew: true }), path };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
  }
  throw new Deno.errors.AlreadyExists(
    `Cannot export to "${dir}": ${name} and ${MAX_NAME_TRIES - 1} numbered names exist`,
  );
}
