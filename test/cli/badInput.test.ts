// Bad input to `tsxi run` is one line on stderr naming the problem, exit
// status 125, and never a stack trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI } from "../support/guestConsole.js";
import { GCC, GUEST_DIR } from "../support/guest.js";

const LINK = ["-T", join(GUEST_DIR, "include", "link.ld")];

const dir = mkdtempSync(join(tmpdir(), "tsxi-cli-"));

function build(name: string, args: string[]): string {
  const src = join(dir, `${name}.S`);
  writeFileSync(src, ".globl _start\n_start: j _start\n");
  const out = join(dir, name);
  execFileSync(GCC, ["-nostdlib", "-static", "-fno-pic", ...args, src, "-o", out], { stdio: ["ignore", "ignore", "pipe"] });
  return out;
}

function tsxi(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "run", ...args], { encoding: "utf8", input: "" });
  return { status: r.status, stderr: r.stderr };
}

function expectError(args: string[], pattern: RegExp): void {
  const r = tsxi(...args);
  assert.equal(r.status, 125, r.stderr);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
  assert.match(lines[0], /^tsxi: error: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

test("bare-metal runner: missing, non-ELF, 32-bit, non-RISC-V, outside RAM, no tohost", () => {
  const notElf = join(dir, "notelf");
  writeFileSync(notElf, "hello");
  expectError(["--bios", "none", "--kernel", join(dir, "missing.elf")], /missing\.elf: no such file/);
  expectError(["--bios", "none", "--kernel", notElf], /is not an ELF file/);
  expectError(["--bios", "none", "--kernel", build("rv32", ["-march=rv32imac", "-mabi=ilp32"])], /32-bit ELF/);
  expectError(["--bios", "none", "--kernel", process.execPath], /not RISC-V/);
  expectError(["--bios", "none", "--kernel", build("low", ["-Wl,-Ttext=0x1000"])], /outside RAM/);
  expectError(["--bios", "none", "--kernel", build("notohost", LINK)], /no 'tohost' symbol/);
  expectError(["--bios", "none", "--kernel", build("spin", [...LINK, "-Wl,--defsym=tohost=0x80001000"]), "--max-instructions", "1000"], /did not finish within 1000 instructions/);
});

test("virt machine: missing or corrupt kernel, initrd that does not fit, unknown option, bad sizes", () => {
  const notKernel = join(dir, "garbage");
  writeFileSync(notKernel, Buffer.alloc(4096, 0x41));
  expectError(["--kernel", join(dir, "nope")], /nope: no such file/);
  expectError(["--kernel", notKernel], /neither a RISC-V Linux Image nor an ELF file/);
  const big = join(dir, "big.img");
  writeFileSync(big, Buffer.alloc(16 << 20));
  expectError(["-m", "16M", "--initrd", big], /initrd .* does not fit in RAM/);
  expectError(["--frobnicate"], /Unknown option '--frobnicate'/);
  expectError(["-m", "12Q"], /invalid memory size/);
  expectError(["--smp", "0"], /--smp must be a positive integer/);
});

test("virt machine: missing disk, bad --drive and --netdev values; the disk image is not written", () => {
  const disk = join(dir, "disk.raw");
  writeFileSync(disk, Buffer.alloc(1 << 20, 0x5a));
  const before = readFileSync(disk);
  expectError(["--drive", `file=${join(dir, "nodisk.raw")},format=raw`], /--drive: cannot open disk image '.*nodisk\.raw': no such file/);
  expectError(["--drive", `file=${disk},format=qcow2`], /format 'qcow2' is not supported/);
  expectError(["--drive", `file=${disk},format=raw,cache=none`], /unknown parameter 'cache=none'/);
  expectError(["--drive", "format=raw"], /--drive needs file=PATH/);
  expectError(["--drive", `file=${disk},readonly=maybe`], /readonly must be on or off/);
  expectError(["--netdev", "tap,id=n0"], /backend 'tap' is not supported/);
  // A bad kernel with a good disk: the error comes before the disk is touched.
  expectError(["--kernel", join(dir, "nope"), "--drive", `file=${disk},format=raw`], /nope: no such file/);
  assert.deepEqual(readFileSync(disk), before);
});
