// Guest programs under test/guest/: each is assembled and must exit through HTIF
// with status 0, on both engines: the interpreter, and the translator with
// every block translated on its first run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { GUEST_DIR, runGuest } from "./support/guest.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === "include" ? [] : sources(p);
    return n.endsWith(".S") ? [relative(GUEST_DIR, p)] : [];
  });
}

for (const rel of sources(GUEST_DIR).sort()) {
  for (const [engine, translateAfter] of [["interpreter", 0], ["translator", 1]] as const) {
    test(`guest ${rel} (${engine})`, () => {
      const r = runGuest(rel, undefined, translateAfter);
      assert.equal(r.exitCode, 0, `${rel} failed test ${r.exitCode} (>= 1000: unexpected trap, mcause = status - 1000)`);
    });
  }
}
