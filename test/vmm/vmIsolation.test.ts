// One process hosts two VMs, each in its own VMX world with its own hart
// worlds (VmHandle). A fault injected into one of one VM's worlds stops that
// VM with the reason; the other VM finishes its workload with the right
// result, and the process runs on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VmHandle } from "../../src/vmm/vmx/vmHandle.js";
import type { VmDescription } from "../../src/vmm/vmDescription.js";
import type { VmState } from "../../src/vmm/vmx/protocol.js";
import { configureHostProcess } from "../../src/vmm/hostProcess.js";
import { GCC, REPO } from "../support/guest.js";

configureHostProcess();

const elf = join(mkdtempSync(join(tmpdir(), "tsxi-isolation-")), "hashLoop.elf");
execFileSync(GCC, [
  "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-fno-pic", "-static", "-nostdlib", "-nostartfiles", "-DROUNDS=12",
  "-T", join(REPO, "test", "guest", "include", "link.ld"), join(REPO, "test", "vmm", "guest", "hashLoop.S"), "-o", elf,
]);
const description: VmDescription = { memoryBytes: 16 << 20, harts: 2, kernel: elf, append: "", drives: [], userNet: false, engine: "jit" };

function start(): { vm: VmHandle; output: () => string; states: VmState[] } {
  const vm = new VmHandle(description);
  let out = "";
  const states: VmState[] = [];
  vm.onEvent((e) => {
    if (e.type === "console") out += Buffer.from(e.bytes).toString("latin1");
    if (e.type === "state") states.push(e.state);
  });
  return { vm, output: () => out, states };
}

/** What the workload prints when nothing disturbs it. */
const reference = (async () => {
  const r = start();
  const exit = await r.vm.exited;
  assert.deepEqual(exit.error, undefined);
  return r.output();
})();

for (const world of ["vmx", 0, 1] as const) {
  const name = world === "vmx" ? "VMX world" : `hart ${world}'s world`;
  test(`a fault in one VM's ${name} stops that VM only`, { timeout: 120_000 }, async () => {
    const want = await reference;
    assert.match(want, /^hash=[0-9a-f]{16} fp=[0-9a-f]{16}\n$/);
    const victim = start();
    const bystander = start();
    await victim.vm.ready;
    await new Promise((r) => setTimeout(r, 200)); // both VMs running their workload
    // The VMX world may fail before its reply crosses: the VM's end is the answer that counts.
    void victim.vm.request({ type: "injectFault", world }).catch(() => undefined);
    const failed = await victim.vm.exited;
    assert.equal(failed.code, 125);
    assert.match(failed.error ?? "", world === "vmx" ? /VMX world failed: fault injected into the VMX world/ : new RegExp(`hart world failed: fault injected into hart ${world}'s world`));
    assert.equal(victim.vm.state, "crashed");
    assert.equal(victim.output(), "", "the victim never finished");
    const fine = await bystander.vm.exited;
    assert.deepEqual(fine.error, undefined);
    assert.equal(fine.code, 0);
    assert.equal(bystander.output(), want);
    assert.deepEqual(bystander.states.at(-1), "shutdown");
  });
}
