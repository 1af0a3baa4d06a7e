// A guest computing a hash over memory it rewrites all the time is paused,
// saved and restored hundreds of times at random points, on both engines,
// and must print the hash an uninterrupted run prints. The checkpoint goes
// through the whole migration stream (outgoing.ts, incoming.ts): RAM, every
// hart, the shared hart control and every device.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { VirtMachine } from "../../src/vmm/virtMachine.js";
import type { Engine, VmDescription } from "../../src/vmm/vmDescription.js";
import { configureHostProcess } from "../../src/vmm/hostProcess.js";
import { OutgoingMigration } from "../../src/vmm/migration/outgoing.js";
import { receiveMigration } from "../../src/vmm/migration/incoming.js";
import { ReadableSource, WritableSink } from "../../src/vmm/migration/byteStreams.js";
import { GCC, REPO } from "../support/guest.js";

configureHostProcess();

const elf = join(mkdtempSync(join(tmpdir(), "tsxi-ckpt-")), "hashLoop.elf");
execFileSync(GCC, [
  "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-fno-pic", "-static", "-nostdlib", "-nostartfiles", "-DROUNDS=30",
  "-T", join(REPO, "test", "guest", "include", "link.ld"), join(REPO, "test", "vmm", "guest", "hashLoop.S"), "-o", elf,
]);

function describe(engine: Engine): VmDescription {
  return { memoryBytes: 16 << 20, harts: 1, kernel: elf, append: "", drives: [], userNet: false, engine };
}

/** Saves a paused VM's whole state into memory, as `migrate` would to a file. */
async function save(vm: VirtMachine): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  const sink = new WritableSink(new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }));
  await new OutgoingMigration(vm, sink, { downtimeLimitMs: 300, maxBandwidth: 0 }, undefined).run();
  return chunks;
}

/** Every this many cycles the state moves to a new VM (QEMU's -incoming); the others restore in place. */
const FRESH_EVERY = 16;
/** Cycles before the guest may finish undisturbed. */
const CYCLES = 300;

async function run(engine: Engine, interrupt: boolean): Promise<{ out: string; cycles: number; fresh: number; bytes: number }> {
  let out = "";
  const io = { consoleOut: (b: Uint8Array) => (out += Buffer.from(b).toString("latin1")) };
  let vm = new VirtMachine(describe(engine), io);
  let done = false;
  let running = vm.run().finally(() => (done = true));
  let cycles = 0;
  let fresh = 0;
  let bytes = 0;
  try {
    while (interrupt && !done && cycles < CYCLES) {
      await new Promise((r) => setTimeout(r, Math.random() * 6));
      await vm.pause();
      if (done) break;
      const saved = await save(vm);
      bytes = saved.reduce((n, c) => n + c.length, 0);
      if (++cycles % FRESH_EVERY === 0) {
        // A new machine knows nothing of the old one: whatever the checkpoint misses is lost.
        vm.stop({ kind: "poweroff", code: 0 });
        await running;
        vm.close();
        vm = new VirtMachine(describe(engine), io, { incoming: true });
        done = false;
        running = vm.run().finally(() => (done = true));
        await vm.pause();
        await receiveMigration(vm, new ReadableSource(Readable.from(saved)));
        fresh++;
      } else {
        await receiveMigration(vm, new ReadableSource(Readable.from(saved)), true);
      }
      vm.resume();
    }
    const ended = await running;
    assert.deepEqual(ended, { kind: "poweroff", code: 0 });
  } finally {
    vm.close();
  }
  return { out, cycles, fresh, bytes };
}

const reference = run("jit", false);

for (const engine of ["jit", "interp"] as const) {
  test(`a hashing guest survives hundreds of pause/save/restore cycles (${engine})`, { timeout: 240_000 }, async (t) => {
    const want = (await reference).out;
    assert.match(want, /^hash=[0-9a-f]{16} fp=[0-9a-f]{16}\n$/);
    const r = await run(engine, true);
    t.diagnostic(`${r.cycles} cycles (${r.fresh} into a new VM), checkpoints of ${r.bytes} bytes`);
    assert.equal(r.out, want);
    assert.ok(r.cycles >= 100, `only ${r.cycles} cycles`);
    // 16 MiB of RAM, most of it zero: the checkpoint holds the 2 MiB the guest uses, not the zeros.
    assert.ok(r.bytes < 4 << 20, `checkpoint of ${r.bytes} bytes`);
  });
}
