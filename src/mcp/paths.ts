/**
 * Which files the MCP tools may read or write: with `--pcap-dir` roots, only files inside them after
 * every symlink is resolved, so neither `../` nor a link can lead outside.
 *
 * @module
 */

import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";

/** A refused or unusable path: the message says why and what is allowed. */
export class PathError extends Error {
  override name = "PathError";
}

/** Resolves tool paths against the configured roots. */
export class PathPolicy {
  /** The roots, resolved to real absolute paths; empty means unconfined. */
  readonly roots: readonly string[];

  /** `roots` must exist; throws a `PathError` naming one that does not. */
  constructor(roots: readonly string[] = []) {
    this.roots = roots.map((r) => {
      try {
        return Deno.realPathSync(r);
      } catch (e) {
        throw new PathError(`--pcap-dir "${r}" cannot be used: ${e instanceof Error ? e.message : e}`);
      }
    });
  }

  /** Whether file access is confined. */
  get confined(): boolean {
    return this.roots.length > 0;
  }

  /** How paths are resolved, for tool descriptions and error messages. */
  describe(): string {
    return this.confined
      ? `Files must be inside ${this.roots.map((r) => JSON.stringify(r)).join(", ")}; a relative path ` +
        `is taken relative to ${this.roots.length > 1 ? "each of these in turn" : "it"}.`
      : "Any readable file; a relative path is taken relative to the server's working directory.";
  }

  #inside(real: string): boolean {
    return this.roots.some((root) =>
      real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)
    );
  }

  #candidates(path: string): string[] {
    if (isAbsolute(path)) return [resolve(path)];
    return this.confined ? this.roots.map((r) => join(r, path)) : [resolve(path)];
  }

  /**
   * The real path of an existing file to read. Throws a `PathError` when it is outside the roots or
   * does not exist (the message says which, and where files may be).
   */
  readable(path: string): string {
    if (typeof path !== "string" || path === "") throw new PathError("The path is empty.");
    let outside = false;
    for (const candidate of this.#candidates(path)) {
      let real: string;
      try {
        real = Deno.realPathSync(candidate);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        if (e instanceof Deno.errors.PermissionDenied) {
          throw new PathError(`Cannot open "${path}": permission denied.`);
        }
        throw new PathError(`Cannot open "${path}": ${e instanceof Error ? e.message : e}`);
      }
      if (this.confined && !this.#inside(real)) {
        outside = true;
        continue;
      }
      return real;
    }
    if (outside) {
      throw new PathError(
        `Access to "${path}" is refused: it is outside the allowed directories. ${this.describe()}`,
      );
    }
    throw new PathError(`Cannot open "${path}": no such file. ${this.describe()}`);
  }

  /**
   * The path of a new file to write, whose directory exists and is inside the roots (a relative path
   * is taken relative to the first root). Refuses an existing file, so a tool never overwrites one.
   */
  writable(path: string): string {
    if (typeof path !== "string" || path === "") throw new PathError("The path is empty.");
    const candidate = this.#candidates(path)[0];
    let dir: string;
    try {
      dir = Deno.realPathSync(dirname(candidate));
    } catch {
      throw new PathError(`Cannot write "${path}": its directory does not exist. ${this.describe()}`);
    }
    const target = join(dir, basename(candidate));
    if (this.confined && !this.#inside(target)) {
      throw new PathError(
        `Writing "${path}" is refused: it is outside the allowed directories. ${this.describe()}`,
      );
    }
    try {
      Deno.lstatSync(target);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return target;
    }
    throw new PathError(
      `Cannot write "${path}": the file exists (choose a new name; files are never overwritten).`,
    );
  }
}
