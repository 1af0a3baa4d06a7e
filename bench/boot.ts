/**
 * Boot-to-shell benchmark: wall-clock seconds from process spawn until the
 * default initramfs's /etc/rcS prints the banner "tsxi default guest" on the
 * console, i.e. the whole firmware + kernel + init path a user waits for.
 * The same kernel and initramfs are booted under tsxi (built-in SBI, and
 * Debian's OpenSBI fw_jump for an apples-to-apples firmware) and under QEMU
 * TCG (which always runs its bundled OpenSBI). Peak RSS is VmHWM from
 * /proc/<pid>/status. Boots run one at a time so they don't compete for CPUs.
 * Then a CPU-bound workload (sha256sum of 16 MiB) is typed at the default
 * guest's shell under tsxi (both engines) and QEMU, timed by the guest's own
 * `time`. Prints two tables; never asserts on time.
 *
 * Every measurement is taken ROUNDS times (TSXI_BENCH_ROUNDS, default 3),
 * the engines interleaved round by round, and the tables show the median
 * (and the spread): on the 2-core CI-like machine a single Debian boot of
 * the same build varied from 12 s to 16 s within an hour, and QEMU's from
 * 3.7 s to 5.0 s, so one run each could not give a ratio.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const BANNER = "tsxi default guest";
const TIMEOUT_MS = 300_000;
const QEMU = "qemu-system-riscv64";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

/**
 * seconds: time to banner (or, for a workload run, the guest's own `time` of WORKLOAD), "timeout",
 * "failed" (process exited first), or "wrong" (the workload printed a wrong hash); rssMiB: peak RSS.
 */
interface BootResult { seconds: number | "timeout" | "failed" | "wrong"; rssMiB: number }

/** CPU-bound in-guest workload, typed at the shell prompt; busybox `time` reports e.g. "real\t0m 5.50s". */
const WORKLOAD = 'time sh -c "dd if=/dev/zero bs=1M count=16 2>/dev/null | sha256sum"';
const WORKLOAD_SHA256 = "080acf35a507ac9849cfcba47dc2ad83e01b75663a516279c8b9d243b719643e"; // 16 MiB of zeros
const WORKLOAD_TIMEOUT_MS = 600_000;
const REAL_RE = /real\t(?:(\d+)m )?(\d+(?:\.\d+)?)s/;
const ROUNDS = Math.max(1, Number(process.env.TSXI_BENCH_ROUNDS ?? 3));
const HASH_RE = /\b[0-9a-f]{64}\b/;

/** Peak resident set size in KiB as recorded by the kernel (0 if unreadable, e.g. process gone). */
function vmHwmKiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/**
 * Spawn cmd and watch its console for BANNER; without workload, SIGKILL it there (no waiting for
 * poweroff). With workload, wait for the shell prompt after the banner, type WORKLOAD, and kill it
 * once the guest prints the elapsed time (the typed line's echo has neither a hash nor "real\t").
 */
function bootOnce(cmd: string, args: string[], workload = false): Promise<BootResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let seconds: BootResult["seconds"] = "failed";
    let peakKiB = 0;
    let log = ""; // console output
    let mark = 0; // where the current phase's output starts: 0, after the banner, after the typed line
    let phase: "banner" | "prompt" | "workload" = "banner";
    let stderr = "";
    const sample = (): void => { if (child.pid !== undefined) peakKiB = Math.max(peakKiB, vmHwmKiB(child.pid)); };
    const poll = setInterval(sample, 200);
    const finish = (result: BootResult["seconds"]): void => {
      if (seconds !== "failed" || child.exitCode !== null) return;
      seconds = result;
      sample(); // VmHWM just before the kill
      child.kill("SIGKILL");
    };
    let timer = setTimeout(() => finish("timeout"), TIMEOUT_MS);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (chunk: string) => {
      const from = Math.max(mark, log.length - BANNER.length); // a banner split across chunks is still found
      log += chunk;
      if (phase === "banner") {
        const at = log.indexOf(BANNER, from);
        if (at < 0) return;
        if (!workload) return finish((performance.now() - start) / 1000);
        phase = "prompt";
        mark = at + BANNER.length;
      }
      if (phase === "prompt") {
        if (!log.includes("# ", mark)) return;
        phase = "workload";
        mark = log.length;
        child.stdin.write(`${WORKLOAD}\n`);
        clearTimeout(timer);
        timer = setTimeout(() => finish("timeout"), WORKLOAD_TIMEOUT_MS);
        return;
      }
      const out = log.slice(mark);
      const real = REAL_RE.exec(out);
      if (real !== null) {
        finish(HASH_RE.exec(out)?.[0] === WORKLOAD_SHA256 ? Number(real[1] ?? 0) * 60 + Number(real[2]) : "wrong");
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => { stderr = (stderr + chunk).slice(-400); });
    child.on("error", (e) => { stderr = e.message; });
    child.on("close", () => {
      clearInterval(poll);
      clearTimeout(timer);
      if (seconds === "failed") console.log(`  ${cmd} exited during the ${phase} phase: ${stderr.trim()}`);
      resolve({ seconds, rssMiB: peakKiB / 1024 });
    });
  });
}

/** A measurement taken ROUNDS times: the median time (or the first failure) and the largest peak RSS. */
interface Measured extends BootResult {
  min?: number;
  max?: number;
}

function summarize(runs: BootResult[]): Measured {
  const rssMiB = Math.max(...runs.map((r) => r.rssMiB));
  const failed = runs.find((r) => typeof r.seconds !== "number");
  if (failed !== undefined) return { seconds: failed.seconds, rssMiB };
  const t = runs.map((r) => r.seconds as number).sort((a, b) => a - b);
  return { seconds: t[(t.length - 1) >> 1], rssMiB, min: t[0], max: t[t.length - 1] };
}

/** Takes ROUNDS measurements of every job, interleaved (job 1, job 2, ..., job 1, ...); undefined jobs stay so. */
async function measure(jobs: ((() => Promise<BootResult>) | undefined)[]): Promise<(Measured | undefined)[]> {
  const runs: BootResult[][] = jobs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, job] of jobs.entries()) if (job !== undefined) runs[k].push(await job());
  }
  return jobs.map((job, k) => (job === undefined ? undefined : summarize(runs[k])));
}

const fmtS = (r: Measured | undefined): string =>
  r === undefined
    ? "n/a"
    : typeof r.seconds !== "number"
      ? r.seconds
      : r.min !== undefined && r.max !== undefined && r.max > r.min
        ? `${r.seconds.toFixed(2)} (${r.min.toFixed(2)}-${r.max.toFixed(2)})`
        : r.seconds.toFixed(2);
const fmtMiB = (r: Measured | undefined): string => (r === undefined || r.rssMiB === 0 ? "n/a" : r.rssMiB.toFixed(0));
const ratio = (a: Measured | undefined, b: Measured | undefined): string =>
  typeof a?.seconds === "number" && typeof b?.seconds === "number" ? `${(a.seconds / b.seconds).toFixed(1)}x` : "n/a";

/** Run the boot benchmark for every available guest and print the table. repo = repository root. */
export async function bootBench(repo: string): Promise<void> {
  const initrd = join(repo, "guest", "default", "initramfs.cpio");
  const guests: { name: string; kernel: string }[] = [{ name: "default", kernel: join(repo, "guest", "default", "Image") }];
  const debianBoot = join(process.env.TSXI_DEBIAN ?? "/tmp/tsxi-debian", "root", "boot");
  const vmlinux = existsSync(debianBoot) ? readdirSync(debianBoot).find((n) => n.startsWith("vmlinux-")) : undefined;
  if (vmlinux === undefined) {
    console.log(`no Debian kernel in ${debianBoot}; fetch it with: scripts/debian-riscv64.sh /tmp/tsxi-debian 'linux-image-6.12.*-riscv64'`);
  } else {
    guests.push({ name: `debian ${vmlinux.slice("vmlinux-".length)}`, kernel: join(debianBoot, vmlinux) });
  }
  const hasQemu = spawnSync(QEMU, ["--version"]).status === 0;
  if (!hasQemu) console.log(`${QEMU} not found (apt-get install qemu-system-misc); showing tsxi only`);
  const hasOpenSbi = existsSync(OPENSBI);
  if (!hasOpenSbi) console.log(`${OPENSBI} not found (apt-get install opensbi); skipping tsxi+OpenSBI`);

  const cli = join(repo, "dist", "src", "cli", "main.js");
  const tsxiArgs = (kernel: string, ...extra: string[]): string[] =>
    [cli, "run", "--kernel", kernel, "--initrd", initrd, "--append", "console=ttyS0", "-m", "512M", ...extra];
  const qemuArgs = (kernel: string): string[] => ["-M", "virt", "-accel", "tcg", "-m", "512M", "-smp", "1", "-nographic",
    "-bios", "default", "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0"];
  const rows: string[][] = [];
  for (const g of guests) {
    console.log(`booting ${g.name} (${ROUNDS} rounds) ...`);
    const [tsxi, tsxiSbi, qemu] = await measure([
      () => bootOnce(process.execPath, tsxiArgs(g.kernel)),
      hasOpenSbi ? () => bootOnce(process.execPath, tsxiArgs(g.kernel, "--bios", OPENSBI)) : undefined,
      hasQemu ? () => bootOnce(QEMU, qemuArgs(g.kernel)) : undefined,
    ]);
    rows.push([g.name, fmtS(tsxi), fmtS(tsxiSbi), fmtS(qemu), ratio(tsxi, qemu), ratio(tsxiSbi, qemu),
      fmtMiB(tsxi), fmtMiB(tsxiSbi), fmtMiB(qemu)]);
  }
  printTable(`boot to shell banner "${BANNER}" (wall-clock s from spawn, median (min-max) of ${ROUNDS}; peak RSS = VmHWM)`,
    ["guest", "tsxi s", "tsxi+OpenSBI s", "qemu s", "tsxi/qemu", "tsxi+OpenSBI/qemu",
      "tsxi MiB", "tsxi+OpenSBI MiB", "qemu MiB"], rows);

  // CPU-bound workload inside the default guest, timed by the guest itself (boot time excluded).
  const kernel = guests[0].kernel;
  console.log(`running \`${WORKLOAD}\` in the default guest (${ROUNDS} rounds; the interpreter once) ...`);
  const [jit, qemu] = await measure([
    () => bootOnce(process.execPath, tsxiArgs(kernel), true),
    hasQemu ? () => bootOnce(QEMU, qemuArgs(kernel), true) : undefined,
  ]);
  const interp = summarize([await bootOnce(process.execPath, tsxiArgs(kernel, "--engine", "interp"), true)]);
  printTable(`in-guest sha256sum of 16 MiB (s) (guest's \`time\` real s, median (min-max) of ${ROUNDS}; peak RSS = VmHWM)`,
    ["guest", "tsxi s", "tsxi interp s", "qemu s", "tsxi/qemu", "tsxi interp/qemu", "tsxi MiB", "tsxi interp MiB", "qemu MiB"],
    [["default", fmtS(jit), fmtS(interp), fmtS(qemu), ratio(jit, qemu), ratio(interp, qemu),
      fmtMiB(jit), fmtMiB(interp), fmtMiB(qemu)]]);
}

function printTable(title: string, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`\n${title}`);
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
}
