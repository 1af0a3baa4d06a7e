#!/usr/bin/env node
/**
 * The `tsxi` command. Option names follow QEMU's where they exist.
 * Exit status: the guest's own status for a guest that exits; 125 when tsxi
 * itself cannot run the guest (bad option, bad image, runaway guest).
 */
import { parseArgs } from "node:util";
import { writeSync } from "node:fs";
import { runBareMetal } from "../vmm/bareMetal.js";
import { VmmError } from "../vmm/errors.js";

const EXIT_TSXI_ERROR = 125;

const USAGE = `usage: tsxi run --bios none --kernel PROGRAM.elf [options]

Runs a RISC-V RV64GC guest.

options:
  --bios none              bare-metal mode: start the ELF in M-mode, HTIF console and exit
  --kernel FILE            the ELF64 RISC-V program to run
  -m, --memory SIZE        guest RAM, e.g. 128M or 1G (default 128M; a plain number is MiB)
  --max-instructions N     stop with an error after N instructions
  --stats                  print instructions, seconds and MIPS to stderr at exit
  -h, --help               show this help`;

class UsageError extends Error {}

export function parseSize(s: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(s.trim());
  if (m === null) throw new UsageError(`invalid memory size '${s}' (use e.g. 128M or 1G)`);
  const n = Number(m[1]);
  const unit = (m[2] ?? "M")[0].toUpperCase();
  const bytes = n * (unit === "K" ? 1024 : unit === "M" ? 1 << 20 : 1 << 30);
  if (bytes < 1 << 20 || bytes % 4096 !== 0) throw new UsageError(`memory size '${s}' must be at least 1M and a multiple of 4K`);
  if (bytes > 4 * 1024 * 1024 * 1024 - 4096) throw new UsageError(`memory size '${s}' is larger than tsxi supports (4G)`);
  return bytes;
}

function run(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      bios: { type: "string" },
      kernel: { type: "string" },
      memory: { type: "string", short: "m" },
      "max-instructions": { type: "string" },
      stats: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (values.bios !== "none") {
    throw new UsageError(values.bios === undefined ? "--bios is required (only --bios none is available so far)" : `--bios ${values.bios}: only --bios none is available so far`);
  }
  if (values.kernel === undefined) throw new UsageError("--kernel FILE is required");
  let max: number | undefined;
  if (values["max-instructions"] !== undefined) {
    max = Number(values["max-instructions"]);
    if (!Number.isSafeInteger(max) || max <= 0) throw new UsageError(`--max-instructions must be a positive integer, got '${values["max-instructions"]}'`);
  }
  const result = runBareMetal({
    kernel: values.kernel,
    memoryBytes: parseSize(values.memory ?? "128M"),
    maxInstructions: max,
    console: (b) => writeSync(1, b),
  });
  if (values.stats) {
    const mips = result.instructions / result.seconds / 1e6;
    process.stderr.write(`tsxi: ${result.instructions} instructions in ${result.seconds.toFixed(3)} s (${mips.toFixed(1)} MIPS)\n`);
  }
  return result.exitCode;
}

export function main(argv: string[]): number {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === "run") return run(rest);
    if (cmd === undefined || cmd === "-h" || cmd === "--help" || cmd === "help") {
      process.stdout.write(USAGE + "\n");
      return cmd === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command '${cmd}' (try 'tsxi run --help')`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof VmmError) {
      process.stderr.write(`tsxi: error: ${e.message}\n`);
      return EXIT_TSXI_ERROR;
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`tsxi: error: ${e.message.split("\n")[0]}\n`);
      return EXIT_TSXI_ERROR;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
