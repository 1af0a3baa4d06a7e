// Translated batches compiled away from the vCPU's thread: the compile world
// answers with modules (or a one-line reason), and a batch that arrives after
// its code changed never runs the old code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RemoteCompiler, type ModuleCompiler } from "../../src/cpu/riscv/translate/moduleCompiler.js";
import { encodeBatch, type BatchRequest } from "../../src/cpu/riscv/translate/wasmModuleEncoder.js";
import { startCompileWorld } from "../../src/vmm/virtMachine.js";
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { engineOf, machineModeHart, translatedInstructions } from "../support/hart.js";

/** One block: addi a0, a0, 1; j back to it. */
const LOOP: BatchRequest = {
  stateBase: 0,
  pages: 1,
  base: 0,
  blocks: [{ paddr: 0x8000_0000, straddles: false, raws: [0x00150513, 0xffdff06f], region: [] }],
  imported: [],
};

test("the compile world encodes and compiles a batch, and says why one fails", async () => {
  const { world, links } = startCompileWorld(1);
  try {
    const c = new RemoteCompiler(links[0]);
    let got: WebAssembly.Module | undefined;
    c.compile(LOOP, (m) => (got = m));
    c.drain();
    assert.ok(got !== undefined);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    const instance = new WebAssembly.Instance(got, { env: { memory, ex: () => 0, sys: () => 0 } });
    assert.equal(typeof instance.exports["0"], "function", "the block's function");
    c.compile({ ...LOOP, blocks: [{ paddr: 0x8000_0000, straddles: false, raws: [], region: [] }] }, () => assert.fail("an empty block was delivered"));
    assert.throws(() => c.drain(), /^Error: translated code failed to compile: .+/);
  } finally {
    await world.terminate();
  }
});

test("a batch that arrives after a DMA write and FENCE.I does not run the old code", () => {
  const RAM = 0x8000_0000;
  const ADDI_A0_100 = 0x06450513;
  const mem = new GuestMemory(RAM, 1 << 20);
  // A: addi s4, s4, 1; j B   B: addi a0, a0, 1   F: fence.i   J: j A
  const program = [0x001a0a13, 0x00c0006f, 0x00000013, 0x00000013, 0x00150513, 0x0000100f, 0xfe9ff06f];
  program.forEach((w, k) => mem.writeU32(RAM + 4 * k, w));
  const held: (() => void)[] = [];
  const deferred: ModuleCompiler = {
    compile: (batch, done) => held.push(() => done(new WebAssembly.Module(encodeBatch(batch)))),
    collect: () => {},
    drain: () => held.splice(0).forEach((f) => f()),
    ready: () => false,
  };
  const h = machineModeHart(mem, engineOf(1, { batch: 3, compiler: deferred })); // A, B and J in one module: A reaches B by a direct link
  h.pc = RAM;
  h.run(40);
  assert.equal(held.length, 1, "the batch went to be compiled");
  new GuestMemory(RAM, 1 << 20, mem.shared).writeU32(RAM + 16, ADDI_A0_100);
  h.run(20); // past the FENCE.I: B is decoded anew, interpreted
  assert.equal(translatedInstructions(h), 0, "nothing ran translated before the batch arrived");
  deferred.drain(); // the batch arrives, with the old B in it
  const before = h.getX(10);
  h.run(100); // 20 turns, A translated
  const delta = h.getX(10) - before;
  assert.ok(delta >= 19n * 100n, `a0 grew by ${delta}: the old B ran`);
  const t = h.stats;
  assert.ok(t.wasmBlocks > 0 && translatedInstructions(h) >= 50, `A's turns did not run translated: ${JSON.stringify(t)}`);
});
