// The software TLB's fast path on guest RAM whose machine offsets pass 2^31
// (guests of more than 2 GiB): a cached page offset must not turn negative.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { machineModeHart } from "../support/hart.js";
import { tlbHit, TlbSet, TLB_SET_BYTES } from "../../src/cpu/riscv/tlb.js";

const RAM = 0x8000_0000;
const SIZE = 2.5 * 2 ** 30;

test("loads and stores reach RAM above 2 GiB of machine memory through the TLB fast path", () => {
  const mem = new GuestMemory(RAM, SIZE);
  const h = machineModeHart(mem);
  const pa = RAM + SIZE - 4096 + 5; // physical 0x11ffff005, machine offset ~2.5 GiB
  const lo = pa % 2 ** 32 | 0;
  const hi = Math.floor(pa / 2 ** 32);
  mem.writeU8(pa, 0xa5);
  // First access fills the TLB through the slow path, the second takes the fast path.
  assert.equal(h.load(lo, hi, 1), 0xa5);
  assert.equal(h.load(lo, hi, 1), 0xa5);
  h.store(lo, hi, 1, 0x5a); // fills the write entry
  h.store((lo + 1) | 0, hi, 1, 0x3c); // through the cached entry
  assert.equal(mem.readU8(pa), 0x5a);
  assert.equal(mem.readU8(pa + 1), 0x3c);
});

test("an empty or flushed TLB entry matches no address, aligned or not", () => {
  const t = new TlbSet(new ArrayBuffer(TLB_SET_BYTES), 0);
  const addrs: [number, number][] = [[0, 0], [4095, 0], [-4096, -1], [-1, -1], [0x1000, 0], [4095, 4095], [0x7fff_f000, 0x3f]];
  for (const [lo, hi] of addrs) for (const tags of [t.rTag, t.wTag, t.xTag]) assert.equal(tlbHit(tags, lo, hi), false, `${hi}:${lo}`);
  t.fillRead(0x1234_5678, -1, 0);
  assert.equal(tlbHit(t.rTag, 0x1234_5fff, -1), true, "any offset in the page hits");
  assert.equal(tlbHit(t.rTag, 0x1234_5678, 0), false, "another high word misses");
  t.flushPage(0x1234_5000, -1);
  assert.equal(tlbHit(t.rTag, 0x1234_5678, -1), false, "flushed");
});

test("flushAll empties every filled entry, whether it logged them all or not", () => {
  for (const n of [3, 5000]) {
    const t = new TlbSet(new ArrayBuffer(TLB_SET_BYTES), 0);
    const page = (k: number): number => (0x4000_0000 + k * 4096) | 0;
    for (let k = 0; k < n; k++) {
      t.fillRead(page(k), 0, 0);
      t.fillWrite(page(k), 0, 0);
      t.fillExec(page(k), 0, 0);
    }
    t.flushAll();
    for (let k = 0; k < n; k++) for (const tags of [t.rTag, t.wTag, t.xTag]) assert.equal(tlbHit(tags, page(k), 0), false, `${n} fills: page ${k}`);
  }
});
