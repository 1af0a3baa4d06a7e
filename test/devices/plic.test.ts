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
