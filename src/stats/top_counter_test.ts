import assert from "node:assert/strict";
import { topBy, TopCounter } from "./top_counter.ts";

Deno.test("TopCounter: counts, ranks (ties by value) and says what it left out", () => {
  const c = new TopCounter();
  for (const v of ["b", "a", "c", "a", "b", "a", "d"]) c.add(v);
  assert.deepEqual(c.top(2), {
    items: [{ value: "a", count: 3 }, { value: "b", count: 2 }],
    left_out: 2,
    dropped: 0,
  });
  assert.deepEqual(c.top(10).items.map((i) => i.value), ["a", "b", "c", "d"]);
  assert.equal(c.total, 7);
});

Deno.test("TopCounter: past its cap new values are counted as dropped, known ones still counted", () => {
  const c = new TopCounter(2);
  for (const v of ["x", "y", "z", "x", "w", "z"]) c.add(v);
  assert.equal(c.size, 2);
  assert.equal(c.get("x"), 2);
  assert.equal(c.get("z"), 0);
  assert.deepEqual(c.top(1), { items: [{ value: "x", count: 2 }], left_out: 1, dropped: 3 });
  assert.throws(() => new TopCounter(0), RangeError);
});

Deno.test("topBy: largest first, ties in input order, left_out is the rest", () => {
  const l = topBy([{ k: 1 }, { k: 5 }, { k: 5 }, { k: 2 }], 3, (r) => r.k);
  assert.deepEqual(l.items, [{ k: 5 }, { k: 5 }, { k: 2 }]);
  assert.equal(l.left_out, 1);
});
