/** Runs netwatch's CLI as a subprocess, for tests of what a user sees. @module */

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Output of one CLI run. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A main.ts ...args`. */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    cwd: options.cwd,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Where the shared public captures are, or undefined when this checkout has none beside it. */
export function sharedPcaps(): string | undefined {
  const dir = new URL("../../shared/pcaps", import.meta.url).pathname;
  try {
    return Deno.statSync(dir).isDirectory ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a program is on PATH. */
export function hasProgram(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}
