// The vmkernel's write tracking (vmkernel/writeTracker.ts), the dirty log of
// live migration: while logging, every write to guest RAM through
// GuestMemory marks its page and lifts its protection; takeWritten hands the
// pages over once, in order, and protects them again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { WriteTracker } from "../../src/vmkernel/writeTracker.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { PAGE_SIZE } from "../../src/vmkernel/machineMemory.js";

const protectedPages = (t: WriteTracker): number[] => [...t.protect.keys()].filter((p) => t.protect[p] !== 0);
const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k);

test("when not logging, noteWrite records nothing and nothing is protected", () => {
  const t = new WriteTracker(70);
  assert.equal(t.active, false);
  t.noteWrite(0, 69);
  t.noteWrite(5, 5);
  assert.equal(t.countWritten(), 0);
  assert.deepEqual(t.takeWritten(), []);
  assert.deepEqual(protectedPages(t), []);
});

test("start protects every page; a write marks its pages and unprotects them; takeWritten gives them once, sorted, protected again", () => {
  const t = new WriteTracker(70); // not a multiple of 32: the last bitmap word is partial
  t.start();
  assert.equal(t.active, true);
  assert.deepEqual(protectedPages(t), range(0, 70));
  assert.equal(t.countWritten(), 0);
  for (const [first, last] of [[69, 69], [33, 33], [3, 3], [31, 32], [0, 0], [3, 3]]) t.noteWrite(first, last);
  const written = [0, 3, 31, 32, 33, 69];
  assert.equal(t.countWritten(), written.length, "a page written twice counts once");
  assert.deepEqual(protectedPages(t), range(0, 70).filter((p) => !written.includes(p)), "written pages are unprotected");
  assert.deepEqual(t.takeWritten(), written, "sorted");
  assert.equal(t.countWritten(), 0);
  assert.deepEqual(t.takeWritten(), [], "once");
  assert.deepEqual(protectedPages(t), range(0, 70), "and protected again");
  t.noteWrite(33, 34);
  assert.deepEqual(t.takeWritten(), [33, 34], "a page taken is logged anew");
});

test("a restart forgets what was logged; stop unprotects everything and ends logging", () => {
  const t = new WriteTracker(64);
  t.start();
  t.noteWrite(10, 12);
  t.start();
  assert.equal(t.countWritten(), 0);
  assert.deepEqual(protectedPages(t), range(0, 64));
  t.noteWrite(1, 1);
  t.stop();
  assert.equal(t.active, false);
  assert.deepEqual(protectedPages(t), []);
  t.noteWrite(2, 2);
  assert.equal(t.countWritten(), 1, "nothing is logged after stop");
});

test("another world's tracker over the same buffers shares the log", () => {
  const vmm = new WriteTracker(40);
  const world = new WriteTracker(40, vmm.shared);
  vmm.start();
  assert.equal(world.active, true);
  assert.equal(world.protect[7], 1);
  world.noteWrite(7, 8);
  assert.equal(vmm.protect[7], 0);
  assert.deepEqual(vmm.takeWritten(), [7, 8]);
  assert.equal(world.protect[8], 1, "protected again for every world");
});

// ------------------------------------------------------------ through GuestMemory

const RAM = 0x8000_0000;

test("writes through GuestMemory's accessors mark their pages and make them write-cacheable", () => {
  const mem = new GuestMemory(RAM, 64 * PAGE_SIZE);
  const t = mem.writeTracker;
  mem.writeU32(RAM + 5 * PAGE_SIZE, 1);
  assert.equal(t.countWritten(), 0, "not logging: nothing recorded");
  assert.equal(mem.writeCacheable(5), true);
  t.start();
  for (const p of [0, 5, 9, 10, 20, 63]) assert.equal(mem.writeCacheable(p), false, `page ${p} protected`);
  mem.writeU32(RAM + 5 * PAGE_SIZE + 8, 0xdead_beef);
  mem.writeU8(RAM + 63 * PAGE_SIZE + 4095, 1);
  mem.writeU64(RAM + 20 * PAGE_SIZE - 4, 0x1_0000_0001n); // straddles pages 19 and 20
  mem.writeBytes(RAM + 9 * PAGE_SIZE + 100, new Uint8Array(PAGE_SIZE)); // pages 9 and 10
  mem.writeU16(RAM + 30 * PAGE_SIZE + 4095, 0xffff); // misaligned: pages 30 and 31
  mem.fill(RAM + 40 * PAGE_SIZE, 2 * PAGE_SIZE, 0); // pages 40 and 41
  const written = [5, 9, 10, 19, 20, 30, 31, 40, 41, 63];
  assert.equal(t.countWritten(), written.length);
  for (const p of written) assert.equal(mem.writeCacheable(p), true, `page ${p} unprotected by its write`);
  assert.equal(mem.writeCacheable(0), false);
  assert.equal(mem.writeCacheable(42), false);
  assert.deepEqual(t.takeWritten(), written);
  for (const p of written) assert.equal(mem.writeCacheable(p), false, `page ${p} protected again`);
  // Another world's view of the same RAM (a device model's DMA) logs into the same tracker.
  new GuestMemory(RAM, 64 * PAGE_SIZE, mem.shared).writeU32(RAM + 12 * PAGE_SIZE, 7);
  assert.deepEqual(t.takeWritten(), [12]);
  t.stop();
  assert.equal(mem.writeCacheable(12), true);
});

test("reads mark nothing", () => {
  const mem = new GuestMemory(RAM, 16 * PAGE_SIZE);
  mem.writeTracker.start();
  mem.readU32(RAM);
  mem.readU64(RAM + 8 * PAGE_SIZE);
  mem.readBytes(RAM, 16 * PAGE_SIZE);
  assert.equal(mem.writeTracker.countWritten(), 0);
});
