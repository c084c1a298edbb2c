/**
 * DNS mnemonic tables: RR TYPEs, CLASSes and EDNS(0) option codes as registered with IANA
 * ("Domain Name System (DNS) Parameters"). Unknown values keep their number in the RFC 3597 spelling
 * (`TYPE123`, `CLASS9`) so that nothing is lost and the text round-trips through zone-file syntax.
 *
 * @module
 */

/** RR TYPE numbers the decoder treats specially (RFC 1035 3.2.2 and later RFCs). */
export const DnsType = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  RT: 21,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  DNAME: 39,
  OPT: 41,
  NSEC: 47,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  URI: 256,
  CAA: 257,
} as const;

const TYPE_NAMES: [number, string][] = [
  [1, "A"],
  [2, "NS"],
  [3, "MD"],
  [4, "MF"],
  [5, "CNAME"],
  [6, "SOA"],
  [7, "MB"],
  [8, "MG"],
  [9, "MR"],
  [10, "NULL"],
  [11, "WKS"],
  [12, "PTR"],
  [13, "HINFO"],
  [14, "MINFO"],
  [15, "MX"],
  [16, "TXT"],
  [17, "RP"],
  [18, "AFSDB"],
  [19, "X25"],
  [20, "ISDN"],
  [21, "RT"],
  [22, "NSAP"],
  [23, "NSAP-PTR"],
  [24, "SIG"],
  [25, "KEY"],
  [26, "PX"],
  [27, "GPOS"],
  [28, "AAAA"],
  [29, "LOC"],
  [30, "NXT"],
  [31, "EID"],
  [32, "NIMLOC"],
  [33, "SRV"],
  [34, "ATMA"],
  [35, "NAPTR"],
  [36, "KX"],
  [37, "CERT"],
  [38, "A6"],
  [39, "DNAME"],
  [40, "SINK"],
  [41, "OPT"],
  [42, "APL"],
  [43, "DS"],
  [44, "SSHFP"],
  [45, "IPSECKEY"],
  [46, "RRSIG"],
  [47, "NSEC"],
  [48, "DNSKEY"],
  [49, "DHCID"],
  [50, "NSEC3"],
  [51, "NSEC3PARAM"],
  [52, "TLSA"],
  [53, "SMIMEA"],
  [55, "HIP"],
  [56, "NINFO"],
  [57, "RKEY"],
  [58, "TALINK"],
  [59, "CDS"],
  [60, "CDNSKEY"],
  [61, "OPENPGPKEY"],
  [62, "CSYNC"],
  [63, "ZONEMD"],
  [64, "SVCB"],
  [65, "HTTPS"],
  [66, "DSYNC"],
  [99, "SPF"],
  [100, "UINFO"],
  [101, "UID"],
  [102, "GID"],
  [103, "UNSPEC"],
  [104, "NID"],
  [105, "L32"],
  [106, "L64"],
  [107, "LP"],
  [108, "EUI48"],
  [109, "EUI64"],
  [128, "NXNAME"],
  [249, "TKEY"],
  [250, "TSIG"],
  [251, "IXFR"],
  [252, "AXFR"],
  [253, "MAILB"],
  [254, "MAILA"],
  [255, "ANY"],
  [256, "URI"],
  [257, "CAA"],
  [258, "AVC"],
  [259, "DOA"],
  [260, "AMTRELAY"],
  [261, "RESINFO"],
  [262, "WALLET"],
  [32768, "TA"],
  [32769, "DLV"],
];

// A dense array indexed by the 16-bit value: one load per lookup on the hot path, and the `TYPEnnn`
// spellings are made lazily so that a flood of random types does not build 65536 strings up front.
const typeNames: (string | undefined)[] = new Array(65536);
for (const [n, s] of TYPE_NAMES) typeNames[n] = s;

/** Mnemonic of RR TYPE `t` (`A`, `HTTPS`, ...), or `TYPE<t>` when unassigned (RFC 3597 section 5). */
export function dnsTypeName(t: number): string {
  return typeNames[t] ?? (typeNames[t] = "TYPE" + t);
}

const CLASS_NAMES: [number, string][] = [[1, "IN"], [2, "CS"], [3, "CH"], [4, "HS"], [254, "NONE"], [
  255,
  "ANY",
]];
const classNames: (string | undefined)[] = new Array(65536);
for (const [n, s] of CLASS_NAMES) classNames[n] = s;

/** Mnemonic of CLASS `c` (`IN`, `CH`, ...), or `CLASS<c>` when unassigned (RFC 3597 section 5). */
export function dnsClassName(c: number): string {
  return classNames[c] ?? (classNames[c] = "CLASS" + c);
}

/** EDNS(0) option code of the client subnet option (RFC 7871 section 6). */
export const EDNS_CLIENT_SUBNET = 8;

const OPTION_NAMES: [number, string][] = [
  [1, "LLQ"],
  [2, "UL"],
  [3, "NSID"],
  [5, "DAU"],
  [6, "DHU"],
  [7, "N3U"],
  [8, "ECS"],
  [9, "EXPIRE"],
  [10, "COOKIE"],
  [11, "TCP-KEEPALIVE"],
  [12, "PADDING"],
  [13, "CHAIN"],
  [14, "KEY-TAG"],
  [15, "EDE"],
  [16, "CLIENT-TAG"],
  [17, "SERVER-TAG"],
  [18, "REPORT-CHANNEL"],
  [19, "ZONEVERSION"],
  [20292, "UMBRELLA"],
  [26946, "DEVICEID"],
];
const optionNames = new Map<number, string>(OPTION_NAMES);

/** Name of EDNS(0) option `code` (`COOKIE`, `ECS`, ...), or `OPT<code>` when unassigned. */
export function ednsOptionName(code: number): string {
  return optionNames.get(code) ?? "OPT" + code;
}

/** SvcParamKey names (RFC 9460 section 14.3.2); others are spelled `key<n>` as the RFC's presentation format does. */
const SVC_PARAM_NAMES = [
  "mandatory",
  "alpn",
  "no-default-alpn",
  "port",
  "ipv4hint",
  "ech",
  "ipv6hint",
  "dohpath",
  "ohttp",
];

/** Presentation name of SvcParamKey `key` (RFC 9460 section 2.1). */
export function svcParamName(key: number): string {
  return key < SVC_PARAM_NAMES.length ? SVC_PARAM_NAMES[key] : "key" + key;
}
