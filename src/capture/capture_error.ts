/** Errors raised while reading capture files. @module */

/**
 * A capture file is damaged, truncated or not a capture at all. `offset` is the byte offset in the
 * (decompressed) file where the problem starts; every packet before it has already been delivered.
 */
export class CaptureFormatError extends Error {
  override name = "CaptureFormatError";
  constructor(message: string, readonly offset: number, options?: ErrorOptions) {
    super(message, options);
  }
}
