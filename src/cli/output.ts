/**
 * Buffered stdout for commands that print many lines: one write per 64 KiB instead of one per packet.
 * A closed pipe (`netwatch packets f | head`) ends output quietly instead of crashing.
 *
 * @module
 */

const FLUSH_AT = 64 * 1024;

/** Raised when the reader of stdout went away; commands stop quietly on it. */
export class OutputClosed extends Error {
  override name = "OutputClosed";
}

/** Accumulates text and writes it to a `Deno.stdout`-like sink in large blocks. */
export class LineWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly sink: { writeSync(p: Uint8Array): number } = Deno.stdout) {}

  /** Appends one line (a newline is added). */
  line(text: string): void {
    this.parts.push(text, "\n");
    this.size += text.length + 1;
    if (this.size >= FLUSH_AT) this.flush();
  }

  /** Writes what is buffered. Throws `OutputClosed` when the reader has gone. */
  flush(): void {
    if (this.size === 0) return;
    const data = this.encoder.encode(this.parts.join(""));
    this.parts = [];
    this.size = 0;
    let off = 0;
    try {
      while (off < data.length) off += this.sink.writeSync(data.subarray(off));
    } catch (e) {
      if (e instanceof Deno.errors.BrokenPipe) throw new OutputClosed("stdout closed");
      throw e;
    }
  }
}
