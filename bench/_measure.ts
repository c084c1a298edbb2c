/** Timing helpers shared by the benchmarks: medians of repeated runs, external commands. @module */

/** Median of `xs`. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time of `fn` in seconds. */
export async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

/** Runs a command to completion (output discarded); throws if it fails. Returns wall seconds. */
export async function timeCommand(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped", stdin: "null" }).output();
  const secs = (performance.now() - t0) / 1000;
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  return secs;
}

/** Whether `cmd` can be run. */
export async function available(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/** The capture the benchmarks read: `NETWATCH_BENCH_PCAP`, or a generated 1M-packet file (made once). */
export async function benchCapture(packets = 1_000_000): Promise<string> {
  const given = Deno.env.get("NETWATCH_BENCH_PCAP");
  if (given && packets === 1_000_000) return given;
  const path = `${Deno.env.get("TMPDIR") ?? "/tmp"}/netwatch-bench-${packets}.pcap`;
  try {
    await Deno.stat(path);
  } catch {
    console.log(`generating ${path} (${packets} packets) ...`);
    const { generateCapture } = await import("./generate_capture.ts");
    await generateCapture(path, packets);
  }
  return path;
}

/** Prints a result table row. */
export function row(name: string, runs: number[], packets: number, reference?: number): void {
  const m = median(runs);
  const ratio = reference ? `  ${(m / reference).toFixed(2)}x the reference's time` : "";
  console.log(
    `${name.padEnd(34)} median ${m.toFixed(3)} s  (${runs.map((r) => r.toFixed(3)).join(", ")})  ` +
      `${Math.round(packets / m).toLocaleString("en-US")} packets/s${ratio}`,
  );
}
