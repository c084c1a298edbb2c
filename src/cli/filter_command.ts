/**
 * `netwatch filter EXPR [--link-type NAME|NUM] [--json]`: validates a BPF expression without privileges
 * and shows the program libpcap compiles it to, as `tcpdump -d` does, or libpcap's own error.
 *
 * @module
 */

import { checkFilter } from "../../ffi/filter.ts";
import { PcapError } from "../../ffi/pcap_error.ts";
import { linkTypeName } from "../capture/link_type.ts";
import { error } from "../log.ts";
import { UserError } from "./open_input.ts";
import { LineWriter, OutputClosed } from "./output.ts";

/** Options of the `filter` command. */
export interface FilterOptions {
  /** `--link-type` as given (a LINKTYPE_* name or number); Ethernet when absent. */
  linkType?: string;
  json: boolean;
}

let namesByUpper: Map<string, number> | undefined;

/**
 * The LINKTYPE_* number for `text`: a number (`1`), or a name as libpcap and tcpdump spell it (`EN10MB`,
 * `LINUX_SLL2`, case-insensitive, with or without a `DLT_`/`LINKTYPE_` prefix). Throws a `UserError`
 * (exit 2) for anything else.
 */
export function parseLinkType(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n <= 0xffff) return n;
  } else {
    if (namesByUpper === undefined) {
      namesByUpper = new Map();
      // link_type.ts keeps the table private; its lookup covers every value it names below 300.
      for (let n = 0; n < 300; n++) {
        const name = linkTypeName(n);
        if (!name.startsWith("LINKTYPE_") && !namesByUpper.has(name)) namesByUpper.set(name, n);
      }
      namesByUpper.set("ETHERNET", 1); // what people type for EN10MB
    }
    const found = namesByUpper.get(t.toUpperCase().replace(/^(DLT|LINKTYPE)_/, ""));
    if (found !== undefined) return found;
  }
  throw new UserError(
    `--link-type needs a LINKTYPE number (0-65535) or a name such as EN10MB, RAW, LINUX_SLL2 or ` +
      `IEEE802_11_RADIO, not "${text}"`,
    2,
  );
}

/** Runs the command; resolves to the exit code (0 valid, 1 invalid). */
export function filterCommand(expression: string, options: FilterOptions, out = new LineWriter()): number {
  const linkType = options.linkType === undefined ? 1 : parseLinkType(options.linkType);
  let check;
  try {
    check = checkFilter(expression, { linkType });
  } catch (e) {
    if (e instanceof PcapError) throw new UserError(e.message, 1, { cause: e });
    throw e;
  }
  try {
    if (options.json) {
      const record: Record<string, unknown> = {
        expression,
        link_type: linkType,
        link_type_name: linkTypeName(linkType),
        valid: check.valid,
      };
      if (check.valid) record.instructions = check.instructions;
      else record.error = check.error;
      out.line(JSON.stringify(record, null, 2));
    } else if (check.valid) {
      for (const line of check.instructions) out.line(line);
    }
    out.flush();
  } catch (e) {
    if (!(e instanceof OutputClosed)) throw e;
  }
  if (!check.valid) {
    error(`Invalid filter "${expression}": ${check.error}`);
    return 1;
  }
  return 0;
}
