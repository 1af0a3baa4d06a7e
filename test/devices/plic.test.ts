import { test } from "node:test";
import assert from "node:assert/strict";
import { Plic } from "../../src/devices/plic.js";

const CLAIM = (ctx: number): number => 0x20_0004 + 0x1000 * ctx;
const THRESHOLD = (ctx: number): number => 0x20_0000 + 0x1000 * ctx;
const ENABLE = (ctx: number): number => 0x2000 + 0x80 * ctx;

function setup(): { plic: Plic; out: boolean[] } {
  const out = [false, false, false, false];
  const plic = new Plic(96, 4, (ctx, level) => {
    out[ctx] = level;
  });
  return { plic, out };
}

test("a source with priority 0 never interrupts; priority above threshold does", () => {
  const { plic, out } = setup();
  plic.write(ENABLE(1), 4, 1 << 10);
  plic.line(10).set(true);
  assert.equal(out[1], false);
  plic.write(4 * 10, 4, 1);
  assert.equal(out[1], true);
  plic.write(THRESHOLD(1), 4, 1);
  assert.equal(out[1], false, "priority must exceed the threshold");
  plic.write(THRESHOLD(1), 4, 0);
  assert.equal(out[1], true);
  assert.equal(out[0], false, "context 0 has not enabled the source");
});

test("claim returns the highest priority, then the lowest id, and 0 when nothing is pending", () => {
  const { plic } = setup();
  plic.write(ENABLE(0), 4, (1 << 3) | (1 << 5) | (1 << 7));
  plic.write(4 * 3, 4, 2);
  plic.write(4 * 5, 4, 5);
  plic.write(4 * 7, 4, 5);
  for (const n of [3, 5, 7]) plic.line(n).set(true);
  assert.equal(plic.read(0x1000, 4), (1 << 3) | (1 << 5) | (1 << 7));
  assert.equal(plic.read(CLAIM(0), 4), 5);
  assert.equal(plic.read(CLAIM(0), 4), 7);
  assert.equal(plic.read(CLAIM(0), 4), 3);
  assert.equal(plic.read(CLAIM(0), 4), 0);
});

test("a level source pends again after complete while its line is high; wrong ids are ignored", () => {
  const { plic, out } = setup();
  plic.write(ENABLE(1), 4, 1 << 10);
  plic.write(4 * 10, 4, 1);
  plic.line(10).set(true);
  assert.equal(plic.read(CLAIM(1), 4), 10);
  assert.equal(out[1], false, "in service: no longer pending");
  plic.write(CLAIM(1), 4, 11); // not the claimed source
  assert.equal(out[1], false);
  plic.write(CLAIM(1), 4, 10);
  assert.equal(out[1], true, "line still high: pending again");
  assert.equal(plic.read(CLAIM(1), 4), 10);
  plic.line(10).set(false);
  plic.write(CLAIM(1), 4, 10);
  assert.equal(out[1], false);
  assert.equal(plic.read(CLAIM(1), 4), 0);
});

test("source 0 cannot be enabled and out-of-range registers read 0", () => {
  const { plic } = setup();
  plic.write(ENABLE(0), 4, 0xffffffff);
  assert.equal(plic.read(ENABLE(0), 4), 0xfffffffe);
  assert.equal(plic.read(ENABLE(9), 4), 0);
  assert.equal(plic.read(CLAIM(9), 4), 0);
  assert.equal(plic.read(4 * 200, 4), 0);
  assert.throws(() => plic.line(0), RangeError);
});

/** The same accesses after a checkpoint, on the original and on the restored PLIC: what the harts see at each step. */
function carryOn(plic: Plic, out: boolean[]): unknown[] {
  const seen: unknown[] = [];
  const look = (what: string, v?: number): void => void seen.push([what, v, ...out]);
  look("pending", plic.read(0x1000, 4));
  look("claim 1", plic.read(CLAIM(1), 4)); // the pending source, behind the one in service
  plic.write(CLAIM(1), 4, 10);
  look("complete 10: its line is still high");
  look("claim 1", plic.read(CLAIM(1), 4));
  plic.line(40).set(true);
  look("line 40");
  look("claim 0", plic.read(CLAIM(0), 4));
  plic.write(THRESHOLD(1), 4, 0);
  look("threshold 1 = 0");
  look("claim 1", plic.read(CLAIM(1), 4));
  look("enable 1", plic.read(ENABLE(1) + 4, 4));
  return seen;
}

/** Two harts mid-interrupt: source 10 claimed by context 1 and in service, 5 pending behind it, 40 enabled and idle. */
function midOperation(): { plic: Plic; out: boolean[] } {
  const { plic, out } = setup();
  for (const [n, prio] of [[10, 3], [5, 2], [40, 4]]) plic.write(4 * n, 4, prio);
  plic.write(ENABLE(1), 4, (1 << 10) | (1 << 5));
  plic.write(ENABLE(1) + 4, 4, 1 << 8);
  plic.write(ENABLE(2), 4, 1 << 5);
  plic.write(THRESHOLD(1), 4, 1);
  plic.write(THRESHOLD(2), 4, 2);
  plic.line(10).set(true);
  plic.line(5).set(true);
  assert.equal(plic.read(CLAIM(1), 4), 10);
  return { plic, out };
}

test("a PLIC restored from a JSON checkpoint drives every context and carries on as the original", () => {
  const a = midOperation();
  const saved = JSON.parse(JSON.stringify(a.plic.saveState())) as unknown;
  const driven: [number, boolean][] = [];
  const out = [false, false, false, false];
  const b = new Plic(96, 4, (ctx, level) => {
    driven.push([ctx, level]);
    out[ctx] = level;
  });
  b.restoreState(saved);
  assert.deepEqual(driven, [[0, false], [1, true], [2, false], [3, false]], "every context driven once, the quiet ones too");
  const expected = carryOn(a.plic, a.out);
  assert.deepEqual(expected.slice(0, 2), [["pending", 1 << 5, false, true, false, false], ["claim 1", 5, false, false, false, false]]);
  assert.deepEqual(carryOn(b, out), expected);
});

test("a bad PLIC record is refused with its field named and changes nothing", () => {
  const good = midOperation().plic.saveState();
  const other = new Plic(96, 2, () => {}).saveState(); // one hart: two contexts
  const cases: [unknown, RegExp][] = [
    [{ ...good, v: 2 }, /^plic: saved state version 2 is not 1$/],
    [other, /^plic: field 'contexts' is 2 in the checkpoint but 4 on this machine$/],
    [{ ...good, threshold: [0, 1, 2] }, /^plic: field 'threshold' is a list of 3, not 4$/],
    [{ ...good, enable: (good.enable as number[]).slice(3) }, /^plic: field 'enable' is a list of 9, not 12$/],
    [{ ...good, priority: (good.priority as number[]).map((p, n) => (n === 7 ? 8 : p)) }, /^plic: field 'priority' \[7\] is not an integer in \[0, 7\]$/],
    [{ ...good, inService: "1" }, /^plic: field 'inService' is not a list of 96 elements$/],
    [Object.fromEntries(Object.entries(good).filter(([k]) => k !== "pending")), /^plic: field 'pending' is missing$/],
  ];
  for (const [bad, message] of cases) {
    const { plic } = midOperation();
    const before = plic.saveState();
    let calls = 0;
    const target = new Plic(96, 4, () => calls++);
    target.restoreState(before);
    calls = 0;
    assert.throws(() => target.restoreState(JSON.parse(JSON.stringify(bad))), (e: Error) => e.name === "StateError" && message.test(e.message), String(message));
    assert.deepEqual(target.saveState(), before, "unchanged");
    assert.equal(calls, 0, "no line driven");
  }
});
