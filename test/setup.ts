/**
 * Installs what the test suite needs from the system, when it can: Debian's libpcap0.8 (live capture and
 * BPF tests), tshark and tcpdump (agreement tests). Run by `deno task test` before the tests. Without root
 * or apt-get it installs nothing and says which tests will skip.
 *
 * @module
 */

const NEEDS: { what: string; present: () => boolean; packages: string[]; skips: string }[] = [
  {
    what: "libpcap",
    present: () =>
      [
        "/usr/lib/x86_64-linux-gnu/libpcap.so.0.8",
        "/usr/lib/aarch64-linux-gnu/libpcap.so.0.8",
        "/usr/lib/libpcap.so.1",
        "/usr/lib64/libpcap.so.1",
      ].some(exists),
    packages: ["libpcap0.8"],
    skips: "live capture and BPF tests",
  },
  { what: "tshark", present: () => onPath("tshark"), packages: ["tshark"], skips: "tshark agreement tests" },
  { what: "tcpdump", present: () => onPath("tcpdump"), packages: ["tcpdump"], skips: "tcpdump comparisons" },
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => dir && exists(`${dir}/${name}`));
}

async function run(cmd: string, args: string[]): Promise<boolean> {
  const out = await new Deno.Command(cmd, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    console.error(new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("\n"));
  }
  return out.success;
}

const missing = NEEDS.filter((n) => !n.present());
if (missing.length > 0) {
  const packages = missing.flatMap((m) => m.packages);
  const canInstall = Deno.build.os === "linux" && Deno.uid?.() === 0 && onPath("apt-get");
  if (canInstall && Deno.env.get("NETWATCH_NO_INSTALL") === undefined) {
    console.error(`setup: installing ${packages.join(" ")} with apt-get ...`);
    const ok = (await run("apt-get", ["install", "-y", "-qq", ...packages])) ||
      ((await run("apt-get", ["update", "-qq"])) &&
        (await run("apt-get", ["install", "-y", "-qq", ...packages])));
    if (!ok) console.error("setup: apt-get failed; the tests that need these will skip");
  }
  for (const m of NEEDS.filter((n) => !n.present())) {
    console.error(
      `setup: ${m.what} is not installed: ${m.skips} will skip (install: ${m.packages.join(" ")})`,
    );
  }
}
