#!/usr/bin/env node
/**
 * The `tsxi` command. Option names follow QEMU's where they exist.
 * Exit status: the guest's own status (0 after a clean poweroff); 125 when
 * tsxi itself cannot run the guest (bad option, bad image, runaway guest).
 */
import { parseArgs } from "node:util";
import { runBareMetal } from "../vmm/bareMetal.js";
import { VmmError } from "../vmm/errors.js";
import type { Engine, VmDescription } from "../vmm/vmDescription.js";
import { VmHandle } from "../vmm/vmx/vmHandle.js";
import { configureHostProcess } from "../vmm/hostProcess.js";
import { DEFAULT_DOWNTIME_LIMIT_MS, DEFAULT_MAX_BANDWIDTH } from "../vmm/migration/outgoing.js";
import { attachTerminal } from "./terminal.js";
import { parseQmpAddress, QmpServer } from "./qmpServer.js";
import { parseMigrationUri } from "./migrationUri.js";
import { writeAll } from "./writeAll.js";
import { DEFAULT_GUEST } from "./defaultGuest.js";

const EXIT_TSXI_ERROR = 125;

const USAGE = `usage: tsxi run [options]

Runs a RISC-V RV64GC guest on tsxi's virt machine (QEMU virt compatible).

options:
  --kernel FILE            Linux kernel (RISC-V Image or ELF), or with --bios none an ELF program
                           (default: the bundled default guest, Linux + busybox)
  --initrd FILE            initial ramdisk
  --append CMDLINE         kernel command line (default: console=ttyS0)
  --bios none|PATH         none: bare-metal ELF in M-mode with HTIF (riscv-tests);
                           PATH: M-mode firmware such as OpenSBI fw_jump.bin/fw_dynamic.bin;
                           default: tsxi's built-in SBI, the kernel starts in S-mode
  -m, --memory SIZE        guest RAM, e.g. 512M or 1G (default 512M; a plain number is MiB)
  --smp N                  number of harts (default 1)
  --drive file=PATH,format=raw[,readonly=on]
                           a virtio-blk disk backed by a raw image (repeatable: vda, vdb, ...)
  --netdev user            a virtio-net NIC behind user-mode NAT: DHCP gives 10.0.2.15,
                           10.0.2.2 is the host's loopback (TCP)
  --engine jit|interp      jit (default): hot guest code is translated to JavaScript that V8 compiles
                           (with --bios none: every block, on its first run);
                           interp: the interpreter alone (debugging, reference)
  --qmp unix:PATH,server=on,wait=off | tcp:HOST:PORT,server=on,wait=off
                           serve QMP (QEMU Machine Protocol): query-status, stop, cont, system_reset,
                           quit, migrate, query-migrate, migrate-set-parameters, migrate_cancel, ...
                           (wait=on, the default, starts the VM once a client has connected)
  --incoming tcp:HOST:PORT | file:PATH
                           wait for the VM's state from a migration (or a file written by
                           'migrate file:PATH') instead of booting; the machine options must
                           describe the same hardware
  --nographic              accepted for QEMU compatibility: the console is always this terminal
  --max-instructions N     (--bios none) stop with an error after N instructions
  --stats                  print instructions, seconds and MIPS to stderr at exit
  -h, --help               show this help

console: Ctrl-A X exits, Ctrl-A Ctrl-A sends Ctrl-A.`;

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

/** Parses QEMU's `-drive` value: file=PATH,format=raw[,readonly=on|off][,if=virtio]. */
export function parseDrive(s: string): { file: string; readOnly: boolean } {
  let file: string | undefined;
  let readOnly = false;
  for (const part of s.split(",")) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : part.slice(eq + 1);
    if (key === "file" && value !== "") file = value;
    else if (key === "format") {
      if (value !== "raw") throw new UsageError(`--drive: format '${value}' is not supported (use format=raw)`);
    } else if (key === "readonly") {
      if (value !== "on" && value !== "off") throw new UsageError(`--drive: readonly must be on or off, got '${value}'`);
      readOnly = value === "on";
    } else if (key === "if") {
      if (value !== "virtio") throw new UsageError(`--drive: interface '${value}' is not supported (use if=virtio)`);
    } else throw new UsageError(`--drive: unknown parameter '${part}' (expected file=PATH,format=raw[,readonly=on])`);
  }
  if (file === undefined) throw new UsageError("--drive needs file=PATH");
  return { file, readOnly };
}

function parseEngine(s: string): Engine {
  if (s !== "jit" && s !== "interp") throw new UsageError(`--engine must be jit or interp, got '${s}'`);
  return s;
}

function parseNetdev(s: string): boolean {
  const [kind, ...rest] = s.split(",");
  if (kind !== "user") throw new UsageError(`--netdev: backend '${kind}' is not supported (use --netdev user)`);
  for (const p of rest) if (!p.startsWith("id=")) throw new UsageError(`--netdev user: unknown parameter '${p}'`);
  return true;
}

function positiveInt(name: string, s: string): number {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${name} must be a positive integer, got '${s}'`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bios: { type: "string" },
      kernel: { type: "string" },
      initrd: { type: "string" },
      append: { type: "string" },
      memory: { type: "string", short: "m" },
      smp: { type: "string" },
      nographic: { type: "boolean" },
      drive: { type: "string", multiple: true },
      netdev: { type: "string" },
      engine: { type: "string" },
      qmp: { type: "string" },
      incoming: { type: "string" },
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
  const t0 = performance.now();
  if (values.bios === "none") {
    if (values.kernel === undefined) throw new UsageError("--bios none needs --kernel PROGRAM.elf");
    const result = runBareMetal({
      kernel: values.kernel,
      memoryBytes: parseSize(values.memory ?? "128M"),
      maxInstructions: values["max-instructions"] === undefined ? undefined : positiveInt("--max-instructions", values["max-instructions"]),
      console: (b) => writeAll(1, b),
      // Bare-metal programs are small tests: with the translator, translate every block on its first run.
      translateAfter: parseEngine(values.engine ?? "jit") === "jit" ? 1 : 0,
    });
    if (values.stats) stats(result.instructions, result.seconds);
    return result.exitCode;
  }
  if (values["max-instructions"] !== undefined) throw new UsageError("--max-instructions applies to --bios none only");
  const description: VmDescription = {
    memoryBytes: parseSize(values.memory ?? "512M"),
    harts: values.smp === undefined ? 1 : positiveInt("--smp", values.smp),
    bios: values.bios,
    // No image arguments: the default guest that ships with tsxi.
    kernel: values.kernel ?? DEFAULT_GUEST.kernel,
    initrd: values.initrd ?? (values.kernel === undefined ? DEFAULT_GUEST.initrd : undefined),
    append: values.append ?? "console=ttyS0",
    drives: (values.drive ?? []).map(parseDrive),
    userNet: values.netdev === undefined ? false : parseNetdev(values.netdev),
    engine: parseEngine(values.engine ?? "jit"),
  };
  const incoming = values.incoming === undefined ? undefined : usage(() => parseMigrationUri(values.incoming as string), "--incoming");
  const qmpAddress = values.qmp === undefined ? undefined : usage(() => parseQmpAddress(values.qmp as string));
  configureHostProcess();

  const parameters = { downtimeLimitMs: DEFAULT_DOWNTIME_LIMIT_MS, maxBandwidth: DEFAULT_MAX_BANDWIDTH };
  const qmp = qmpAddress === undefined ? undefined : new QmpServer(qmpAddress, parameters, () => void handle.powerOff().catch(() => undefined));
  const listen = async (): Promise<void> => {
    try {
      await qmp?.listen();
    } catch (e) {
      throw new UsageError(`--qmp: ${(e as Error).message}`);
    }
  };
  let handle: VmHandle;
  if (qmpAddress?.wait === true) {
    await listen(); // QEMU's wait=on: the VM starts once a client is connected
    handle = new VmHandle(description, { incoming });
    await handle.ready;
  } else {
    // The VM first: once QMP answers, an incoming migration's port is listening (as in QEMU).
    handle = new VmHandle(description, { incoming });
    await handle.ready;
    await listen().catch(async (e: unknown) => {
      await handle.terminate();
      throw e;
    });
  }
  qmp?.attach(handle);
  handle.onEvent((e) => {
    if (e.type === "console") writeAll(1, e.bytes);
    else if (e.type === "warning") process.stderr.write(`tsxi: ${e.line}\n`);
  });
  const term = attachTerminal((b) => handle.input(b), () => void handle.powerOff().catch(() => undefined));
  let exit;
  try {
    exit = await handle.exited;
  } finally {
    term.close();
    qmp?.close();
  }
  if (values.stats) stats(exit.instructions ?? 0, (performance.now() - t0) / 1000);
  if (exit.error !== undefined) throw new VmmError(exit.error);
  return exit.code;
}

/** Runs a parser whose errors are the user's: they become usage errors (one line, exit 125). */
function usage<T>(parse: () => T, prefix?: string): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError(prefix === undefined ? (e as Error).message : `${prefix}: ${(e as Error).message}`);
  }
}

function stats(instructions: number, seconds: number): void {
  const mips = instructions / seconds / 1e6;
  process.stderr.write(`tsxi: ${instructions} instructions in ${seconds.toFixed(3)} s (${mips.toFixed(1)} MIPS)\n`);
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === "run") return await run(rest);
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

process.exitCode = await main(process.argv.slice(2));
