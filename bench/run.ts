/**
 * `npm run bench`: guest MIPS of the interpreter on small guest kernels,
 * assembled from bench/guest/*.S with Debian's riscv64 cross toolchain,
 * then boot-to-shell time of Linux under tsxi and QEMU (bench/boot.ts), then
 * live migration of a 512 MiB guest under tsxi and QEMU (bench/migrate.ts).
 * `node dist/bench/run.js [mips|boot|migrate]` runs one section; no argument runs all.
 * Prints tables; never asserts on time.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { runBareMetal } from "../src/vmm/bareMetal.js";
import { bootBench } from "./boot.js";
import { migrateBench } from "./migrate.js";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const GUEST = join(REPO, "bench", "guest");
const INCLUDE = join(REPO, "test", "guest", "include");
const section = process.argv[2];
if (section !== undefined && section !== "mips" && section !== "boot" && section !== "migrate") throw new Error(`usage: run.js [mips|boot|migrate]`);

function build(out: string, name: string): string {
  const elf = join(out, name.replace(/\.S$/, ".elf"));
  execFileSync("riscv64-linux-gnu-gcc", [
    "-march=rv64gc", "-mabi=lp64d", "-mcmodel=medany", "-fno-pic", "-static", "-nostdlib", "-nostartfiles",
    "-I", INCLUDE, "-T", join(INCLUDE, "link.ld"), join(GUEST, name), "-o", elf,
  ]);
  return elf;
}

console.log(`tsxi bench — node ${process.version}, ${process.arch}`);
if (section === undefined || section === "mips") {
  const out = mkdtempSync(join(tmpdir(), "tsxi-bench-"));
  // Guest MIPS of each engine: the interpreter, and the translator (blocks translated on their 100th run).
  console.log("kernel        instructions   interp s  interp MIPS      jit s    jit MIPS");
  for (const name of readdirSync(GUEST).filter((n) => n.endsWith(".S")).sort()) {
    const elf = build(out, name);
    const cols: string[] = [];
    let instructions = 0;
    for (const translateAfter of [0, 100]) {
      const r = runBareMetal({ kernel: elf, memoryBytes: 64 << 20, console: () => {}, translateAfter });
      if (r.exitCode !== 0) throw new Error(`${name}: guest exited with ${r.exitCode}`);
      instructions = r.instructions;
      cols.push(r.seconds.toFixed(3).padStart(10), (r.instructions / r.seconds / 1e6).toFixed(1).padStart(12));
    }
    console.log(`${name.replace(/\.S$/, "").padEnd(12)} ${String(instructions).padStart(13)} ${cols.join(" ")}`);
  }
}
if (section === undefined || section === "boot") await bootBench(REPO);
if (section === undefined || section === "migrate") await migrateBench(REPO);
