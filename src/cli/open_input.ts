/**
 * Opening a capture named on the command line, with failures turned into one clear sentence.
 *
 * @module
 */

import { CaptureFormatError } from "../capture/capture_error.ts";
import { type CaptureFile, openCapture } from "../capture/open_capture.ts";

/** A failure the CLI reports as one line and a non-zero exit. */
export class UserError extends Error {
  override name = "UserError";
  constructor(message: string, readonly exitCode = 1, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Opens `path` as a capture, or throws a `UserError` that says why it cannot be read. */
export async function openCaptureForCli(path: string): Promise<CaptureFile> {
  try {
    return await openCapture(path);
  } catch (e) {
    throw new UserError(describeOpenError(path, e), 1, { cause: e });
  }
}

/** One sentence for why `path` could not be opened. */
export function describeOpenError(path: string, e: unknown): string {
  if (e instanceof CaptureFormatError) return e.message;
  if (e instanceof Deno.errors.NotFound) return `Cannot open "${path}": no such file`;
  if (e instanceof Deno.errors.PermissionDenied) return `Cannot open "${path}": permission denied`;
  if (e instanceof Deno.errors.IsADirectory) {
    return `Cannot open "${path}": it is a directory, not a capture file`;
  }
  const why = e instanceof Error ? e.message : String(e);
  return `Cannot open "${path}": ${why}`;
}
