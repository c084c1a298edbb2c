/**
 * Network namespaces for the live-capture tests: a veth pair whose sending end sits in a namespace of its
 * own, so real traffic crosses a real link without ever leaving the machine. Linux and root only; see
 * {@linkcode canUseNetns}.
 *
 * @module
 */

const decoder = new TextDecoder();

/** How many /30 subnets 10.77.0.0/16 holds: one per live pair, indexed by the pair's number. */
const SUBNETS = 1 << 14;
/** How many numbers `create()` tries before giving up (each taken one is another live pair or a leftover). */
const CLAIM_TRIES = 64;

/** Runs a command to completion and returns stdout + stderr; throws with that text when it fails and `check`. */
export async function run(cmd: string, args: string[], check = true): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
  const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
  if (check && !out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${text}`);
  return text;
}

/** The full path of program `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch { /* not here */ }
  }
  return undefined;
}

/**
 * The python3 that sends test traffic: the system's first (no version-manager shim to start), else the one
 * on PATH; undefined when there is none, and {@linkcode NetnsPair.sendUdp} then sends with Deno.
 */
export function python3(): string | undefined {
  try {
    if (Deno.statSync("/usr/bin/python3").isFile) return "/usr/bin/python3";
  } catch { /* not installed there */ }
  return which("python3");
}

/** Why {@linkcode NetnsPair} cannot be used here (a skip message), or false when it can. */
export function canUseNetns(): string | false {
  if (Deno.build.os !== "linux") return "network namespaces are Linux only";
  if (Deno.uid() !== 0) return "not root (capture and network namespaces need it)";
  if (which("ip") === undefined) return "iproute2 (`ip`) is not installed";
  return false;
}

/** Options of {@linkcode NetnsPair}. */
export interface NetnsPairOptions {
  /**
   * Put end a in a namespace of its own too (`nsA`), for a capturing subprocess started there. By default
   * end a stays in the test's own namespace, where the test process itself can capture on `ifA`.
   */
  isolateA?: boolean;
}

/** Payload options of {@linkcode NetnsPair.sendUdp}: datagram i carries `prefix` + i in `digits` digits. */
export interface SendUdpOptions {
  /** Letters, digits, `.`, `_` and `-` only (it is pasted into the sender's source). Default "". */
  prefix?: string;
  /** Width of the zero-padded index, 1 to 9. Default 3. */
  digits?: number;
}

/**
 * A veth pair: end a (`ifA`, `ipA`) where a test captures, end b (`ifB`, `ipB`) in namespace `nsB`, where
 * traffic is sent from. Each `create()` claims a number no other live pair holds, in this or any other
 * process (the claim is `ip netns add`, which fails if the name exists), and derives every name and the
 * /30 subnet in 10.77.0.0/16 from it, so parallel tests never share a name or a route. `destroy()` removes
 * all of it and may be called any number of times, also when `create()` failed or never ran.
 *
 * @example
 * ```ts
 * const pair = new NetnsPair();
 * try {
 *   await pair.create();
 *   // capture on pair.ifA ...
 *   await pair.sendUdp(5555, 10, { prefix: "x-" }); // x-000 ... x-009 from pair.ipB to pair.ipA:5555
 * } finally {
 *   await pair.destroy();
 * }
 * ```
 */
export class NetnsPair {
  readonly #isolateA: boolean;
  #n: number | undefined;
  /** What `create()` made, so `destroy()` removes exactly that. */
  #made = { nsA: false, nsB: false, link: false };

  constructor(options: NetnsPairOptions = {}) {
    this.#isolateA = options.isolateA ?? false;
  }

  #number(): number {
    if (this.#n === undefined) throw new Error("NetnsPair: call create() first");
    return this.#n;
  }

  /** End a's interface (`nwt<n>a`; 15 bytes is the kernel's limit, this stays under 10). */
  get ifA(): string {
    return `nwt${this.#number()}a`;
  }
  /** End b's interface, in `nsB`. */
  get ifB(): string {
    return `nwt${this.#number()}b`;
  }
  /** End a's namespace, or undefined when end a stays in the test's own (the default). */
  get nsA(): string | undefined {
    return this.#isolateA ? `nwt${this.#number()}a` : undefined;
  }
  /** End b's namespace, where the traffic comes from. */
  get nsB(): string {
    return `nwt${this.#number()}b`;
  }
  /** End a's IPv4 address, the first host of the pair's /30. */
  get ipA(): string {
    return this.#ip(1);
  }
  /** End b's IPv4 address, the second host of the pair's /30. */
  get ipB(): string {
    return this.#ip(2);
  }

  #ip(host: number): string {
    const n = this.#number();
    return `10.77.${n >> 6}.${(n & 63) * 4 + host}`;
  }

  /** Claims a number, then builds the namespaces, the link and its addresses, both ends up. */
  async create(): Promise<void> {
    if (this.#n !== undefined) throw new Error("NetnsPair: create() already ran");
    const start = crypto.getRandomValues(new Uint16Array(1))[0] % SUBNETS;
    for (let i = 0; i < CLAIM_TRIES && this.#n === undefined; i++) {
      const n = (start + i) % SUBNETS;
      try {
        await run("ip", ["netns", "add", `nwt${n}b`]);
        this.#n = n;
      } catch (err) {
        if (!(err as Error).message.includes("File exists")) throw err;
      }
    }
    if (this.#n === undefined) throw new Error(`NetnsPair: ${CLAIM_TRIES} numbers from ${start} all taken`);
    this.#made.nsB = true;
    try {
      const inA = this.nsA === undefined ? [] : ["-n", this.nsA];
      if (this.nsA !== undefined) {
        await run("ip", ["netns", "add", this.nsA]);
        this.#made.nsA = true;
      }
      await run("ip", ["link", "add", this.ifA, "type", "veth", "peer", "name", this.ifB]);
      this.#made.link = true;
      if (this.nsA !== undefined) await run("ip", ["link", "set", this.ifA, "netns", this.nsA]);
      await run("ip", ["link", "set", this.ifB, "netns", this.nsB]);
      await run("ip", [...inA, "addr", "add", `${this.ipA}/30`, "dev", this.ifA]);
      await run("ip", ["-n", this.nsB, "addr", "add", `${this.ipB}/30`, "dev", this.ifB]);
      await run("ip", [...inA, "link", "set", this.ifA, "up"]);
      await run("ip", ["-n", this.nsB, "link", "set", this.ifB, "up"]);
    } catch (err) {
      await this.destroy();
      throw err;
    }
  }

  /**
   * Removes the link and the namespaces. Each step runs whatever failed before it; deleting the link first
   * (rather than leaving it to namespace teardown, which the kernel finishes later) frees its name now.
   */
  async destroy(): Promise<void> {
    if (this.#made.link) {
      await run("ip", [...(this.nsA ? ["-n", this.nsA] : []), "link", "del", this.ifA], false);
      this.#made.link = false;
    }
    if (this.#made.nsA) {
      await run("ip", ["netns", "del", this.nsA!], false);
      this.#made.nsA = false;
    }
    if (this.#made.nsB) {
      await run("ip", ["netns", "del", this.nsB], false);
      this.#made.nsB = false;
    }
  }

  /** Runs `argv` in namespace b (the sending end) and returns its output; throws if it fails. */
  exec(argv: string[]): Promise<string> {
    return run("ip", ["netns", "exec", this.nsB, ...argv]);
  }

  /**
   * Sends `count` UDP datagrams from end b to `ipA:port` with a real sender, python3 if installed, else
   * Deno's node:dgram (slower: it waits for each send). Returns which one sent them.
   */
  async sendUdp(port: number, count: number, options: SendUdpOptions = {}): Promise<string> {
    const { prefix = "", digits = 3 } = options;
    if (!/^[\w.-]*$/.test(prefix)) throw new RangeError(`sendUdp: prefix ${JSON.stringify(prefix)}`);
    if (!Number.isInteger(digits) || digits < 1 || digits > 9) {
      throw new RangeError(`sendUdp: digits must be 1 to 9, got ${digits}`);
    }
    const python = python3();
    const sender = python
      ? [
        python,
        "-c",
        `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(${count}): s.sendto(b"${prefix}%0${digits}d" % i, ("${this.ipA}", ${port}))`,
      ]
      : [
        Deno.execPath(),
        "eval",
        `import dgram from "node:dgram";
const s = dgram.createSocket("udp4");
for (let i = 0; i < ${count}; i++) await new Promise((r) => s.send("${prefix}" + String(i).padStart(${digits}, "0"), ${port}, "${this.ipA}", r));
s.close();`,
      ];
    await this.exec(sender);
    return python ? "python3" : "deno (node:dgram)";
  }
}
