// A loop of one block, which translated code runs inside the block's own
// function, keeps traps precise: a load that faults mid-loop, after 1 100
// turns, sees every register as the interpreter would, and instret counts
// exactly the instructions before it. So does a loop whose body branches
// forward over a block, which runs as one function with its region.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { assertTranslated, engineOf, machineModeHart } from "../support/hart.js";

const RAM = 0x8000_0000;
const SIZE = 1 << 20;
const TURNS = 1100; // not a multiple of the turns one run(1000) makes, so the fault comes mid-loop
// loop: ld t0, 0(a1); addi a1, a1, 8; addi a0, a0, 1; bne a1, a2, loop
// handler (RAM + 16): csrr s2, minstret; j .
const PROGRAM = [0x0005b283, 0x00858593, 0x00150513, 0xfec59ae3, 0xb0202973, 0x0000006f];

for (const [engine, translateAfter] of [["interpreter", 0], ["translator", 1]] as const) {
  test(`a one-block loop that runs off the end of RAM traps precisely (${engine})`, () => {
    const mem = new GuestMemory(RAM, SIZE);
    PROGRAM.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
    const h = machineModeHart(mem, engineOf(translateAfter, { batch: 1 }));
    h.mtvec = BigInt(RAM + 16);
    h.setX(11, BigInt(RAM + SIZE - 8 * TURNS)); // a1: the last TURNS doublewords of RAM, then beyond
    h.pc = RAM;
    for (let i = 0; i < 100 && h.pc !== RAM + 20; i++) h.run(1000);
    assert.equal(h.pc, RAM + 20, "the hart never reached the trap handler");
    assert.equal(h.mcause, 5n); // load access fault
    assert.equal(h.mepc, BigInt(RAM));
    assert.equal(h.mtval, BigInt(RAM + SIZE));
    assert.equal(h.getX(11), BigInt(RAM + SIZE)); // a1 as the faulting ld saw it
    assert.equal(h.getX(10), BigInt(TURNS)); // a0: completed turns
    assert.equal(h.getX(18), BigInt(4 * TURNS)); // s2 = minstret at the handler
    assertTranslated(h, translateAfter, 0.9); // the loop's turns
  });
}

// loop: ld t0, 0(a1); addi a1, a1, 8; andi t1, t0, 1; beqz t1, skip
//       addi a0, a0, 1; li s3, 7            (only for odd doublewords)
// skip: bne a1, a2, loop
// handler (RAM + 28): csrr s2, minstret; j .
const BRANCHY = [0x0005b283, 0x00858593, 0x0012f313, 0x00030663, 0x00150513, 0x00700993, 0xfec594e3, 0xb0202973, 0x0000006f];

for (const [engine, translateAfter] of [["interpreter", 0], ["translator", 2]] as const) {
  test(`a loop with a branch inside traps precisely and keeps registers its skipped block writes (${engine})`, () => {
    const mem = new GuestMemory(RAM, SIZE);
    BRANCHY.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
    const first = RAM + SIZE - 8 * TURNS;
    mem.writeU32(first, 1); // the one odd doubleword: the first turn runs the skipped block
    // Translated on the second turn: a skipped block that wrote s3 before.
    const h = machineModeHart(mem, engineOf(translateAfter, { batch: 1 }));
    h.mtvec = BigInt(RAM + 28);
    h.setX(11, BigInt(first));
    h.setX(19, 12345n); // s3: 7 after the first turn; later turns skip its write
    h.pc = RAM;
    for (let i = 0; i < 100 && h.pc !== RAM + 32; i++) h.run(1000);
    assert.equal(h.pc, RAM + 32, "the hart never reached the trap handler");
    // Its region: the block from the skipped one to the loop branch, which the join point splits.
    if (translateAfter > 0) assert.equal(h.blockInCodePage(RAM)?.region.length, 1, "the loop's function runs its whole body");
    assert.equal(h.mcause, 5n);
    assert.equal(h.mepc, BigInt(RAM));
    assert.equal(h.getX(11), BigInt(RAM + SIZE));
    assert.equal(h.getX(10), 1n); // a0: one odd doubleword
    assert.equal(h.getX(19), 7n);
    assert.equal(h.getX(18), BigInt(5 * TURNS + 2)); // s2 = minstret: 5 per turn, 2 more in the first
    assertTranslated(h, translateAfter, 0.9); // the loop's turns after the first
  });
}
