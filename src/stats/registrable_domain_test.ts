import assert from "node:assert/strict";
import { registrableDomain } from "./registrable_domain.ts";

Deno.test("registrableDomain: last two labels, three under a known two-label suffix", () => {
  const cases: [string, string][] = [
    ["www.example.com", "example.com"],
    ["a.b.c.Example.COM.", "example.com"],
    ["example.com", "example.com"],
    ["news.bbc.co.uk", "bbc.co.uk"],
    ["bbc.co.uk", "bbc.co.uk"],
    ["co.uk", "co.uk"],
    ["www.abc.net.au", "abc.net.au"],
    ["x.y.example.co.jp", "example.co.jp"],
    ["localhost", "localhost"],
    ["", "."],
    [".", "."],
    ["4.3.2.1.in-addr.arpa", "in-addr.arpa"],
    ["b.a.9.8.ip6.arpa", "ip6.arpa"],
    // The documented limitation: private suffixes are not known, customers share one base domain.
    ["alice.github.io", "github.io"],
  ];
  for (const [name, base] of cases) assert.equal(registrableDomain(name), base, name);
});
