// Helper threads yield to vCPU worlds: V8's and Node's threads and the
// compile world run at a lower priority, the VMM thread and worlds started
// afterwards at the normal one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { lowerHelperThreads } from "../../src/vmm/smp/helperPriority.js";

/** Nice value of each thread of this process (field 19 of /proc/<tid>/stat). */
function niceByThread(): Map<number, number> {
  const nice = new Map<number, number>();
  for (const t of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
    nice.set(Number(t), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
  }
  return nice;
}

test("helper threads run below the VMM thread and later worlds", async () => {
  const before = new Set(niceByThread().keys());
  lowerHelperThreads();
  const world = new Worker("setTimeout(() => {}, 10000)", { eval: true });
  await new Promise((resolve) => world.once("online", resolve));
  try {
    const nice = niceByThread();
    assert.equal(nice.get(process.pid), 0, "the VMM thread");
    const helpers = [...before].filter((t) => t !== process.pid);
    assert.ok(helpers.length > 0);
    for (const t of helpers) assert.equal(nice.get(t), 10, `helper thread ${t}`);
    const started = [...nice].filter(([t]) => !before.has(t));
    assert.ok(started.length > 0, "the world's thread");
    for (const [t, n] of started) assert.equal(n, 0, `thread ${t} started after`);
  } finally {
    await world.terminate();
  }
});
