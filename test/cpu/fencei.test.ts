// FENCE.I on a single hart (Zifencei): code written by a device or loader
// (GuestMemory's typed accessors, as DMA does) must be fetched anew after the
// next FENCE.I, even though FENCE.I skips its re-check of cached code when
// nothing but the hart itself wrote memory since the last one.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Hart } from "../../src/cpu/riscv/hart.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { assertTranslated, engineOf, machineModeHart } from "../support/hart.js";

const RAM = 0x8000_0000;
const ADDI_A0_1 = 0x00150513; // addi a0, a0, 1
const ADDI_A0_100 = 0x06450513; // addi a0, a0, 100
const FENCE_I = 0x0000100f;
const J_MINUS_8 = 0xff9ff06f; // jal x0, -8

function loopingHart(translateAfter: number): { h: Hart; mem: GuestMemory } {
  const mem = new GuestMemory(RAM, 1 << 20);
  mem.writeU32(RAM, ADDI_A0_1);
  mem.writeU32(RAM + 4, FENCE_I);
  mem.writeU32(RAM + 8, J_MINUS_8);
  const h = machineModeHart(mem, engineOf(translateAfter, { batch: 1 }));
  h.pc = RAM;
  return { h, mem };
}

for (const [engine, translateAfter] of [["interpreter", 0], ["translator", 1]] as const) {
  test(`a DMA write to code is seen after the next FENCE.I (${engine})`, () => {
    const { h, mem } = loopingHart(translateAfter);
    h.run(300); // 100 turns of the loop: every block hot and translated
    assertTranslated(h, translateAfter, 0.5); // all but the FENCE.Is
    const before = h.getX(10);
    assert.ok(before >= 99n, `a0 = ${before}`);
    // A device in another world (its own view of the same RAM) rewrites the loop's first instruction.
    new GuestMemory(RAM, 1 << 20, mem.shared).writeU32(RAM, ADDI_A0_100);
    h.run(30); // 10 more turns: at most the first still runs the old instruction
    const delta = h.getX(10) - before;
    assert.ok(delta >= 9n * 100n, `a0 grew by ${delta}: the patched instruction did not run`);
  });
}

test("a DMA write to a directly linked block is seen after the next FENCE.I (translator, one module)", () => {
  const mem = new GuestMemory(RAM, 1 << 20);
  // A: addi s4, s4, 1; j B   B: addi a0, a0, 1   F: fence.i   J: j A
  const program = [0x001a0a13, 0x00c0006f, 0x00000013, 0x00000013, ADDI_A0_1, FENCE_I, 0xfe9ff06f];
  program.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
  const h = machineModeHart(mem, engineOf(1));
  h.pc = RAM;
  h.run(40);
  h.finishTranslations(); // A, B and J in one module: A reaches B by a direct link
  h.run(200);
  assertTranslated(h, 1, 0.5);
  const before = h.getX(10);
  new GuestMemory(RAM, 1 << 20, mem.shared).writeU32(RAM + 16, ADDI_A0_100);
  h.run(50); // 10 turns
  const delta = h.getX(10) - before;
  assert.ok(delta >= 9n * 100n, `a0 grew by ${delta}: the linked block ran its old code`);
});

test("a DMA write to a block linked from a later module is seen after the next FENCE.I (translator, a module per block)", () => {
  const mem = new GuestMemory(RAM, 1 << 20);
  // A: addi a0, a0, 1; j B   B: addi s4, s4, 1   F: fence.i   J: j A (J's module imports A and links to it)
  const program = [ADDI_A0_1, 0x00c0006f, 0x00000013, 0x00000013, 0x001a0a13, FENCE_I, 0xfe9ff06f];
  program.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
  const h = machineModeHart(mem, engineOf(1, { batch: 1 }));
  h.pc = RAM;
  h.run(200);
  assertTranslated(h, 1, 0.5);
  const before = h.getX(10);
  assert.ok(before >= 30n, `a0 = ${before}`);
  new GuestMemory(RAM, 1 << 20, mem.shared).writeU32(RAM, ADDI_A0_100);
  h.run(50); // 10 turns
  const delta = h.getX(10) - before;
  assert.ok(delta >= 9n * 100n, `a0 grew by ${delta}: J's link ran A's old code`);
});

test("a DMA write to a block that a loop's function runs as its region is seen after the next FENCE.I (translator)", () => {
  const mem = new GuestMemory(RAM, 1 << 20);
  // A: addi s4, s4, 1; beq s4, s6, F   B: addi a0, a0, 1; andi t0, s4, 15; bnez t0, A   F: fence.i; j A
  // A's function runs B too and loops inside; it leaves for F every 16th turn.
  const program = [0x001a0a13, 0x016a0863, ADDI_A0_1, 0x00fa7293, 0xfe0298e3, FENCE_I, 0xfe9ff06f];
  program.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
  const h = machineModeHart(mem, engineOf(1, { batch: 1 }));
  h.setX(22, -1n); // s6: never equal to s4
  h.pc = RAM;
  h.run(400);
  assert.equal(h.blockInCodePage(RAM)?.region.length, 1, "A's function runs B");
  assertTranslated(h, 1, 0.5);
  const before = h.getX(10);
  assert.ok(before >= 60n, `a0 = ${before}`);
  new GuestMemory(RAM, 1 << 20, mem.shared).writeU32(RAM + 8, ADDI_A0_100);
  h.run(200); // about 38 turns, the first 16 or fewer before the FENCE.I
  const delta = h.getX(10) - before;
  assert.ok(delta >= 20n * 100n, `a0 grew by ${delta}: A's function ran B's old code`);
});
