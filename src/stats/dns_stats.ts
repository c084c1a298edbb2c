/**
 * The `dns` section of `netwatch analyze`: queries and responses, the names and base domains asked for,
 * query types, response codes and the NXDOMAIN rate, the resolvers asked and the addresses answered.
 * Counts every DNS message netwatch decoded over UDP or TCP, like `tshark -z dns,tree`; mDNS and LLMNR
 * (service discovery on the local link, not lookups through a resolver) are only counted apart, as
 * tshark's DNS statistics leave them out too.
 *
 * @module
 */

import type { DnsRecord } from "../decode/dns.ts";
import { registrableDomain } from "./registrable_domain.ts";
import { DEFAULT_MAX_VALUES, DEFAULT_TOP, round, TopCounter, type TopList } from "./top_counter.ts";

/** RCODE names (RFC 1035 section 4.1.1, RFC 2136, RFC 6891 for the extended ones). */
const RCODE_NAMES: Readonly<Record<number, string>> = {
  0: "NOERROR",
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
  16: "BADVERS",
};

/** The name of a (possibly extended) RCODE; unknown ones as `RCODE<n>`. */
export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

/** The `dns` section. */
export interface DnsStatsRecord {
  /** Messages with QR = 0, and with QR = 1 (unicast DNS: mDNS and LLMNR are counted apart). */
  queries: number;
  responses: number;
  /** Responses with RCODE NXDOMAIN, and their share of the responses (null without responses). */
  nxdomain: number;
  nxdomain_rate: number | null;
  /** mDNS and LLMNR messages (local name resolution, not queries to a resolver): counted only here. */
  multicast_messages: number;
  /** Question names of queries (lower-cased), by queries. */
  names: TopList;
  /** Registrable domains of those names (see `registrableDomain` for the approximation). */
  base_domains: TopList;
  /** Distinct names and base domains tracked (up to the table cap). */
  distinct_names: number;
  distinct_base_domains: number;
  /** QTYPE of each question of a query. */
  query_types: TopList;
  /** RCODE of each response (extended RCODE included when EDNS carries one). */
  response_codes: TopList;
  /** Destination addresses of queries. */
  resolvers: TopList;
  /** A and AAAA addresses in the answer sections of responses. */
  answer_addresses: TopList;
}

/** Accumulates DNS figures from decoded DNS records. */
export class DnsStats {
  queries = 0;
  responses = 0;
  nxdomain = 0;
  multicast = 0;
  private readonly names: TopCounter;
  private readonly baseDomains: TopCounter;
  private readonly qtypes: TopCounter;
  private readonly rcodes: TopCounter;
  private readonly resolvers: TopCounter;
  private readonly answers: TopCounter;

  /** `maxValues`: distinct values tracked per table (see `DEFAULT_MAX_VALUES`). */
  constructor(maxValues: number = DEFAULT_MAX_VALUES) {
    this.names = new TopCounter(maxValues);
    this.baseDomains = new TopCounter(maxValues);
    this.qtypes = new TopCounter(maxValues);
    this.rcodes = new TopCounter(maxValues);
    this.resolvers = new TopCounter(maxValues);
    this.answers = new TopCounter(maxValues);
  }

  /**
   * Accounts one DNS message sent to `dst` (address text, or undefined when not known) between ports
   * `sport` and `dport`. mDNS and LLMNR (port 5353 or 5355) are only counted in `multicast_messages`.
   */
  add(rec: DnsRecord, dst: string | undefined, sport: number, dport: number): void {
    if (sport === 5353 || dport === 5353 || sport === 5355 || dport === 5355) {
      this.multicast++;
      return;
    }
    if (rec.qr === 0) {
      this.queries++;
      for (const q of rec.qd) {
        const name = q.name.toLowerCase();
        this.names.add(name);
        this.baseDomains.add(registrableDomain(name));
        this.qtypes.add(q.type);
      }
      if (dst !== undefined) this.resolvers.add(dst);
      return;
    }
    this.responses++;
    const rcode = rec.edns !== undefined ? (rec.edns.ext_rcode << 4) | rec.rcode : rec.rcode;
    if (rcode === 3) this.nxdomain++;
    this.rcodes.add(rcodeName(rcode));
    for (const rr of rec.an) {
      if ((rr.type === "A" || rr.type === "AAAA") && typeof rr.data === "string") this.answers.add(rr.data);
    }
  }

  /** The section as JSON, each list at most `top` long. */
  toJSON(top: number = DEFAULT_TOP): DnsStatsRecord {
    return {
      queries: this.queries,
      responses: this.responses,
      nxdomain: this.nxdomain,
      nxdomain_rate: this.responses > 0 ? round(this.nxdomain / this.responses, 4) : null,
      multicast_messages: this.multicast,
      names: this.names.top(top),
      base_domains: this.baseDomains.top(top),
      distinct_names: this.names.size,
      distinct_base_domains: this.baseDomains.size,
      query_types: this.qtypes.top(top),
      response_codes: this.rcodes.top(top),
      resolvers: this.resolvers.top(top),
      answer_addresses: this.answers.top(top),
    };
  }
}
