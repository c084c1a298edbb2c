/**
 * Runs a packet source through the decoder: the one pipeline shared by files and live captures.
 *
 * @module
 */

import type { Frame, PacketSource } from "./capture/source.ts";
import { type DecodedPacket, PacketDecoder } from "./decode/packet_decoder.ts";

/** How a run over a source ended. */
export interface RunResult {
  /** Frames delivered by the source. */
  frames: number;
  /** Set when the source failed part-way; every frame before the failure was processed. */
  error?: Error;
  /** True when the consumer asked to stop early. */
  stopped: boolean;
}

/**
 * Decodes every frame of `source` and hands it to `onPacket`, which may return `false` to stop.
 * `frame` is valid only during the call (its buffer is reused). A source failure ends the run with
 * `error` set rather than throwing, so what was decoded is kept.
 */
export async function runSource(
  source: PacketSource,
  onPacket: (packet: DecodedPacket, frame: Frame) => boolean | void,
  decoder: PacketDecoder = new PacketDecoder(),
): Promise<RunResult> {
  let frames = 0;
  let stopped = false;
  let thrown: unknown;
  try {
    await source.run((frame) => {
      if (stopped) return;
      frames++;
      try {
        if (onPacket(decoder.decode(frame), frame) === false) {
          stopped = true;
          source.close();
        }
      } catch (e) {
        // The consumer's own failure (e.g. output closed) must stop the source, not be mistaken for damage.
        thrown = e;
        stopped = true;
        source.close();
      }
    });
  } catch (e) {
    if (thrown === undefined) {
      return { frames, stopped, error: e instanceof Error ? e : new Error(String(e)) };
    }
  }
  if (thrown !== undefined) throw thrown;
  return { frames, stopped };
}
