/**
 * Decodes a captured frame into its layers, dispatching through a `Registry`. One decoder is reused for
 * every packet; it never throws: a decoder bug surfaces as a `decoder_exception` anomaly on the packet.
 *
 * @module
 */

import type { Frame } from "../capture/source.ts";
import { DecodeContext } from "./context.ts";
import { defaultRegistry } from "./default_registry.ts";
import { DEFAULT_REASSEMBLY, IpReassembler, type ReassemblyConfig } from "./ip_reassembly.ts";
import type { LayerSet } from "./layers.ts";
import type { Registry } from "./registry.ts";

/** A decoded packet. `layers` refer into the frame's bytes and are valid while those bytes are. */
export interface DecodedPacket {
  n: number;
  tsSec: number;
  tsFrac: number;
  tsDigits: number;
  len: number;
  caplen: number;
  linkType: number;
  iface: number;
  comment?: string;
  layers: LayerSet;
  /** The first anomaly, `<code> at byte <offset>`, when anything was cut short or invalid. */
  malformed?: string;
  /** Every anomaly code of the packet. */
  anomalies?: string[];
}

/** Turns frames into `DecodedPacket`s. */
export class PacketDecoder {
  private readonly ctx: DecodeContext;

  /** Reassembles IP fragments across the packets this decoder sees (state that spans packets). */
  readonly reassembler: IpReassembler;

  constructor(
    readonly registry: Registry = defaultRegistry(),
    reassembly: ReassemblyConfig = DEFAULT_REASSEMBLY,
  ) {
    this.reassembler = new IpReassembler(reassembly);
    this.ctx = new DecodeContext(registry, this.reassembler);
  }

  /** Decodes one frame. */
  decode(frame: Frame): DecodedPacket {
    const ctx = this.ctx;
    ctx.reset(frame.bytes, frame.view, frame.start, frame.caplen, frame.len);
    ctx.now = frame.tsSec;
    const layers: LayerSet = {};
    try {
      this.registry.dispatchLinkType(frame.linkType, ctx, layers, frame.start, frame.start + frame.caplen);
    } catch {
      // Validate-then-read makes this unreachable; if it is reached, keep the packet and say so.
      ctx.report("decoder_exception", frame.start);
    }
    const packet: DecodedPacket = {
      n: frame.n,
      tsSec: frame.tsSec,
      tsFrac: frame.tsFrac,
      tsDigits: frame.tsDigits,
      len: frame.len,
      caplen: frame.caplen,
      linkType: frame.linkType,
      iface: frame.iface,
      layers,
    };
    if (frame.comment !== undefined) packet.comment = frame.comment;
    if (ctx.malformed !== undefined) {
      packet.malformed = ctx.malformed;
      packet.anomalies = ctx.anomalies;
    }
    return packet;
  }
}
