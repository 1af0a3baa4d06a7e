// F/D cross-check: fpcheck.c runs under QEMU's user-mode emulator (its
// softfloat is the reference) and bare-metal on tsxi; every line — a hash of
// the results and fflags of one operation in one rounding mode over 1500
// operand sets — must be identical.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GCC, GUEST_DIR, REPO, runElf } from "../support/guest.js";

const dir = join(REPO, "test", "fpu");
const out = mkdtempSync(join(tmpdir(), "tsxi-fpcheck-"));
const CFLAGS = [
  "-O2", "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-fno-pic", "-ffreestanding", "-fno-builtin",
  "-static", "-nostdlib", "-Wl,--no-relax",
];

function build(start: string, extra: string[], name: string): string {
  const elf = join(out, name);
  execFileSync(GCC, [...CFLAGS, ...extra, join(dir, start), join(dir, "fpcheck.c"), "-o", elf], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  return elf;
}

test("F and D results and fflags match QEMU's softfloat in every rounding mode", () => {
  const reference = execFileSync("qemu-riscv64", [build("start-linux.S", [], "fpcheck-linux")], {
    encoding: "latin1",
  }).split("\n");
  const elf = build("start-htif.S", ["-T", join(GUEST_DIR, "include", "link.ld")], "fpcheck-htif");
  const run = runElf(elf, 400_000_000);
  assert.equal(run.exitCode, 0);
  const ours = run.console.split("\n");
  assert.ok(reference.length > 280, `reference printed ${reference.length} lines`);
  for (let n = 0; n < reference.length; n++) assert.equal(ours[n], reference[n], `line ${n + 1}`);
  assert.equal(ours.length, reference.length);
});
