/**
 * The registrable ("base") domain of a DNS name, for grouping lookups by the organisation that owns
 * them: `a.b.example.com` -> `example.com`, `www.bbc.co.uk` -> `bbc.co.uk`.
 *
 * Limitation: this is a small built-in approximation of the Public Suffix List, not the list itself. It
 * takes the last two labels, or the last three when the last two form one of the common two-label
 * public suffixes in `TWO_LABEL_SUFFIXES` (`co.uk`, `com.au`, ...). Suffixes it does not know (`*.ck`,
 * private suffixes such as `github.io` or `cloudfront.net`, deeper ones such as `pvt.k12.ma.us`) make
 * every customer of such a suffix share one base domain. Reverse lookups group under `in-addr.arpa` and
 * `ip6.arpa`.
 *
 * @module
 */

/** Two-label public suffixes recognised: second-level registries of common country-code domains. */
export const TWO_LABEL_SUFFIXES: ReadonlySet<string> = new Set(
  [
    ["uk", "co ac gov ltd me net nhs org plc sch"],
    ["au", "com net org edu gov asn id"],
    ["nz", "co net org ac govt school geek gen kiwi maori"],
    ["jp", "co ne or ac ad ed go gr lg"],
    ["kr", "co ne or ac go re pe"],
    ["cn", "com net org edu gov ac"],
    ["hk", "com net org edu gov idv"],
    ["tw", "com net org edu gov idv"],
    ["sg", "com net org edu gov per"],
    ["in", "co net org firm gen ind ac edu gov res"],
    ["br", "com net org gov edu art blog eco emp"],
    ["ar", "com net org gob edu int"],
    ["mx", "com net org gob edu"],
    ["za", "co net org gov edu ac web"],
    ["il", "co net org ac gov muni"],
    ["tr", "com net org gov edu bel gen web"],
    ["ru", "com net org msk spb"],
    ["ua", "com net org gov edu in kiev"],
    ["id", "co net or ac go sch web my"],
    ["my", "com net org gov edu name"],
    ["th", "co net or ac go in"],
    ["ph", "com net org gov edu"],
    ["pk", "com net org gov edu"],
    ["ng", "com net org gov edu"],
    ["eg", "com net org gov edu"],
    ["sa", "com net org gov edu"],
    ["ve", "com net org gov edu"],
    ["co", "com net org gov edu"],
    ["pe", "com net org gob edu"],
    ["vn", "com net org gov edu"],
    ["es", "com org gob edu nom"],
    ["pl", "com net org gov edu"],
    ["fr", "gouv asso com"],
    ["at", "co or ac gv"],
  ].flatMap(([tld, seconds]) => seconds.split(" ").map((s) => `${s}.${tld}`)),
);

/**
 * The registrable domain of `name` (lower-cased, trailing dot removed). A name with fewer labels than
 * the suffix needs (a bare TLD, `co.uk` itself, a single-label host) is returned whole; the root is `.`.
 */
export function registrableDomain(name: string): string {
  let n = name.toLowerCase();
  if (n.endsWith(".")) n = n.slice(0, -1);
  if (n === "") return ".";
  if (n.endsWith(".in-addr.arpa") || n === "in-addr.arpa") return "in-addr.arpa";
  if (n.endsWith(".ip6.arpa") || n === "ip6.arpa") return "ip6.arpa";
  const last = n.lastIndexOf(".");
  if (last < 0) return n;
  const second = n.lastIndexOf(".", last - 1);
  if (second < 0) return n;
  if (!TWO_LABEL_SUFFIXES.has(n.slice(second + 1))) return n.slice(second + 1);
  const third = n.lastIndexOf(".", second - 1);
  return third < 0 ? n : n.slice(third + 1);
}
