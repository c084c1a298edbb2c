/**
 * Diagnostics go to stderr, always: on stdio, stdout belongs to the MCP protocol or to command output.
 *
 * @module
 */

const encoder = new TextEncoder();

/** Writes one line to stderr. */
export function logLine(message: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(message.endsWith("\n") ? message : message + "\n"));
  } catch {
    // stderr closed: nothing sensible left to do
  }
}

/** A warning for the user, prefixed so it stands out from output. */
export function warn(message: string): void {
  logLine(`netwatch: warning: ${message}`);
}

/** An error for the user: one line, no stack trace. */
export function error(message: string): void {
  logLine(`netwatch: ${message}`);
}
