// Write tracking seen from a vCPU (vmkernel/writeTracker.ts, Hart.fillTlb):
// a guest store to a write-protected page takes the slow path and is logged,
// as are AMOs, SC and the page-table walker's A/D updates. A write entry the
// software TLB cached before tracking started bypasses all of that, which is
// why the vmkernel shoots down every world's write entries (HartControl's
// write-shootdown epoch) before it relies on the log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import type { Hart } from "../../src/cpu/riscv/hart.js";
import { Priv } from "../../src/cpu/riscv/priv.js";
import { PAGE_SIZE } from "../../src/vmkernel/machineMemory.js";
import { engineOf, machineModeHart } from "../support/hart.js";

const RAM = 0x8000_0000;
const SIZE = 64 * PAGE_SIZE;
/** What a world does when the VMM shoots down write entries. */
const shootDown = (h: Hart): void => {
  for (const t of h.tlbs) t.flushWrites();
};

// Assembled with riscv64-linux-gnu-as -march=rv64gc (.option norvc).
const STORE_LOOP = [
  0x00b52023, // loop: sw a1, 0(a0)
  0x00158593, //       addi a1, a1, 1
  0xff9ff06f, //       j loop
];
const ATOMICS = [
  0x00b626af, // amoadd.w a3, a1, (a2)
  0x1005272f, // lr.w a4, (a0)
  0x18b527af, // sc.w a5, a1, (a0)
  0x0000006f, // j .
];
const LOAD = [
  0x00052683, // lw a3, 0(a0)
  0x0000006f, // j .
];

function hartRunning(program: number[], translateAfter: number): { h: Hart; mem: GuestMemory } {
  const mem = new GuestMemory(RAM, SIZE);
  program.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
  const h = machineModeHart(mem, engineOf(translateAfter, { batch: 1 }));
  h.pc = RAM;
  return { h, mem };
}

const page = (p: number): bigint => BigInt(RAM + p * PAGE_SIZE);

for (const [engine, translateAfter] of [["interpreter", 0], ["translator", 1]] as const) {
  test(`a guest store to a protected page is logged, once write entries are shot down (${engine})`, () => {
    const { h, mem } = hartRunning(STORE_LOOP, translateAfter);
    const t = mem.writeTracker;
    h.setX(10, page(5)); // a0
    h.run(30); // 10 stores before tracking: the TLB caches page 5's write entry
    h.finishTranslations();
    h.run(30);
    assert.equal(h.translatedAt(RAM) !== undefined, translateAfter > 0, "the engine under test runs the loop");
    const stored = (): number => mem.readU32(RAM + 5 * PAGE_SIZE);
    let last = stored();

    t.start();
    h.run(30);
    assert.ok(stored() > last, "the guest stored");
    last = stored();
    assert.equal(t.countWritten(), 0, "documented: without a shootdown, a cached write entry bypasses the log");

    shootDown(h);
    h.run(30);
    assert.ok(stored() > last);
    last = stored();
    assert.deepEqual(t.takeWritten(), [5], "after the shootdown the store is logged");

    // Its second store cached the entry again (the page was unprotected by the first): taking
    // the page protects it again, and only a new shootdown makes its next store seen.
    h.run(30);
    assert.ok(stored() > last);
    last = stored();
    assert.equal(t.countWritten(), 0, "documented: the entry cached since the last take bypasses the log");
    shootDown(h);
    h.run(30);
    assert.ok(stored() > last);
    assert.deepEqual(t.takeWritten(), [5], "logged again after take + shootdown");
  });
}

test("AMOs and SC mark the pages they write", () => {
  const { h, mem } = hartRunning(ATOMICS, 0);
  h.setX(10, page(6)); // a0: lr/sc
  h.setX(12, page(7)); // a2: amoadd
  h.setX(11, 5n); // a1
  mem.writeTracker.start();
  shootDown(h);
  h.run(10);
  assert.equal(mem.readU32(RAM + 7 * PAGE_SIZE), 5, "amoadd.w ran");
  assert.equal(h.getX(15), 0n, "sc.w succeeded");
  assert.equal(mem.readU32(RAM + 6 * PAGE_SIZE), 5);
  assert.deepEqual(mem.writeTracker.takeWritten(), [6, 7]);
});

test("the page-table walker's A/D update marks the page-table page", () => {
  const { h, mem } = hartRunning(LOAD, 0);
  const root = RAM + 3 * PAGE_SIZE;
  // Sv39: VA 0x80000000 (root[2]) maps RAM with A and D set; VA 0xc0000000 (root[3]) maps it too, with neither.
  mem.writeU64(root + 8 * 2, (BigInt(RAM / 4096) << 10n) | 0xcfn);
  mem.writeU64(root + 8 * 3, (BigInt(RAM / 4096) << 10n) | 0x7n);
  h.priv = Priv.S;
  h.satpMode = 8;
  h.satpPpn = root / 4096;
  h.updateRegimes();
  h.setX(10, 0xc000_0000n + 9n * BigInt(PAGE_SIZE)); // a0: page 9 through root[3]
  mem.writeU32(RAM + 9 * PAGE_SIZE, 0x1234);
  mem.writeTracker.start();
  shootDown(h);
  h.run(10);
  assert.equal(h.getX(13), 0x1234n, "the load ran in S-mode through root[3]");
  assert.equal(Number(mem.readU64(root + 8 * 3) & 0x40n), 0x40, "A was set");
  assert.deepEqual(mem.writeTracker.takeWritten(), [3], "only the page table was written");
});
