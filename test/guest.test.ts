// Guest programs under test/guest/: each is assembled and must exit through HTIF
// with status 0, on every engine: the interpreter, and the translator with
// every block translated on its first run, by the WebAssembly back end and by
// the JavaScript one (used for guests whose RAM is not a WebAssembly memory).
// The translator's counters must show that translated code ran: most of the
// instructions, since every block is translated before its first run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { GUEST_DIR, runGuest, type GuestEngine, type GuestRun } from "./support/guest.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === "include" ? [] : sources(p);
    return n.endsWith(".S") ? [relative(GUEST_DIR, p)] : [];
  });
}

const ENGINES: [string, GuestEngine][] = [
  ["interpreter", { translateAfter: 0 }],
  ["translator", { translateAfter: 1 }],
  ["translator, JavaScript back end", { translateAfter: 1, backend: "js" }],
];

/** Asserts what ran translated: nothing on the interpreter; on the translator, most instructions, in the back end's blocks. */
function assertTranslation(r: GuestRun, e: GuestEngine): void {
  const t = r.translation;
  const stats = JSON.stringify({ instructions: r.instructions, ...t });
  if (e.translateAfter === 0) {
    assert.deepEqual(t, { jsBlocks: 0, wasmBlocks: 0, jsInstructions: 0, wasmInstructions: 0 }, "the interpreter translated code");
    return;
  }
  if (e.backend === "js") {
    assert.ok(t.jsBlocks > 0 && t.jsInstructions > 0, `no JavaScript block ran: ${stats}`);
    assert.ok(t.wasmBlocks === 0 && t.wasmInstructions === 0, `WebAssembly blocks ran on the JavaScript back end: ${stats}`);
  } else {
    assert.ok(t.wasmBlocks > 0 && t.wasmInstructions > 0, `no WebAssembly block ran: ${stats}`);
  }
  assert.ok(t.jsInstructions + t.wasmInstructions >= r.instructions / 2, `less than half the instructions ran translated: ${stats}`);
}

for (const rel of sources(GUEST_DIR).sort()) {
  for (const [name, engine] of ENGINES) {
    test(`guest ${rel} (${name})`, () => {
      const r = runGuest(rel, undefined, engine);
      assert.equal(r.exitCode, 0, `${rel} failed test ${r.exitCode} (>= 1000: unexpected trap, mcause = status - 1000)`);
      assertTranslation(r, engine);
    });
  }
}
