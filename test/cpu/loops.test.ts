// A loop of one block, which translated code runs inside the block's own
// function, keeps traps precise: a load that faults mid-loop, after 1 100
// turns, sees every register as the interpreter would, and instret counts
// exactly the instructions before it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { machineModeHart } from "../support/hart.js";

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
    const h = machineModeHart(mem);
    h.translateAfter = translateAfter;
    h.translateBatch = 1;
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
  });
}
