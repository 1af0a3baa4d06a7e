/**
 * Builds guest test programs from assembly with Debian's
 * binutils-riscv64-linux-gnu / gcc-riscv64-linux-gnu and runs them on the
 * bare-metal machine in-process, capturing the HTIF console.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { runBareMetal } from "../../src/vmm/bareMetal.js";
import type { TranslationStats } from "../../src/cpu/riscv/translate/engine.js";

/** The repository root (tests run from dist/test/…, sources stay in test/). */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const GUEST_DIR = join(REPO, "test", "guest");

const outDir = mkdtempSync(join(tmpdir(), "tsxi-guest-"));

export const GCC = "riscv64-linux-gnu-gcc";

/** Assembles test/guest/<rel> (a .S file) into an ELF and returns its path. */
export function assemble(rel: string, march = "rv64gc_zba_zbb_zbs_zicbom_zicboz"): string {
  const src = join(GUEST_DIR, rel);
  if (!existsSync(src)) throw new Error(`no guest source ${src}`);
  const out = join(outDir, basename(rel).replace(/\.S$/, "") + "-" + rel.replace(/[/.]/g, "_") + ".elf");
  execFileSync(GCC, [
    `-march=${march}`, "-mabi=lp64d", "-mcmodel=medany", "-fno-pic", "-static", "-nostdlib", "-nostartfiles",
    "-I", join(GUEST_DIR, "include"), "-T", join(GUEST_DIR, "include", "link.ld"), src, "-o", out,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  return out;
}

export interface GuestRun {
  exitCode: number;
  console: string;
  instructions: number;
  translation: TranslationStats;
}

/** How a guest program runs: interpreted (translateAfter 0) or translated, by the WebAssembly (default) or the JavaScript back end. */
export interface GuestEngine {
  translateAfter: number;
  backend?: "wasm" | "js";
}

/** Runs an ELF on the bare-metal machine. */
export function runElf(elf: string, maxInstructions = 50_000_000, memoryBytes = 16 << 20, engine: GuestEngine = { translateAfter: 0 }): GuestRun {
  let text = "";
  const r = runBareMetal({
    kernel: elf,
    memoryBytes,
    maxInstructions,
    ...engine,
    console: (b) => {
      text += Buffer.from(b).toString("latin1");
    },
  });
  return { exitCode: r.exitCode, console: text, instructions: r.instructions, translation: r.translation };
}

/** Assembles and runs test/guest/<rel> on `engine`. */
export function runGuest(rel: string, march?: string, engine?: GuestEngine): GuestRun {
  return runElf(assemble(rel, march), undefined, undefined, engine);
}
