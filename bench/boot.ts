/**
 * Boot-to-shell benchmark: wall-clock seconds from process spawn until the
 * default initramfs's /etc/rcS prints the banner "tsxi default guest" on the
 * console, i.e. the whole firmware + kernel + init path a user waits for.
 * The same kernel and initramfs are booted under tsxi (built-in SBI, and
 * Debian's OpenSBI fw_jump for an apples-to-apples firmware) and under QEMU
 * TCG (which always runs its bundled OpenSBI). Peak RSS is VmHWM from
 * /proc/<pid>/status. Boots run one at a time so they don't compete for CPUs.
 * Prints a table; never asserts on time.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const BANNER = "tsxi default guest";
const TIMEOUT_MS = 300_000;
const QEMU = "qemu-system-riscv64";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

/** seconds: time to banner, "timeout", or "failed" (process exited first); rssMiB: peak RSS. */
interface BootResult { seconds: number | "timeout" | "failed"; rssMiB: number }

/** Peak resident set size in KiB as recorded by the kernel (0 if unreadable, e.g. process gone). */
function vmHwmKiB(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Spawn cmd, watch stdout for BANNER, then SIGKILL it (no waiting for poweroff). */
function bootOnce(cmd: string, args: string[]): Promise<BootResult> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let seconds: BootResult["seconds"] = "failed";
    let peakKiB = 0;
    let tail = ""; // last bytes of console output, so a banner split across chunks is still found
    let stderr = "";
    const sample = (): void => { if (child.pid !== undefined) peakKiB = Math.max(peakKiB, vmHwmKiB(child.pid)); };
    const poll = setInterval(sample, 200);
    const finish = (result: BootResult["seconds"]): void => {
      if (seconds !== "failed" || child.exitCode !== null) return;
      seconds = result;
      sample(); // VmHWM just before the kill
      child.kill("SIGKILL");
    };
    const timer = setTimeout(() => finish("timeout"), TIMEOUT_MS);
    child.stdout.setEncoding("latin1");
    child.stdout.on("data", (chunk: string) => {
      tail = (tail + chunk).slice(-(chunk.length + BANNER.length));
      if (tail.includes(BANNER)) finish((performance.now() - start) / 1000);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => { stderr = (stderr + chunk).slice(-400); });
    child.on("error", (e) => { stderr = e.message; });
    child.on("close", () => {
      clearInterval(poll);
      clearTimeout(timer);
      if (seconds === "failed") console.log(`  ${cmd} exited before the banner: ${stderr.trim()}`);
      resolve({ seconds, rssMiB: peakKiB / 1024 });
    });
  });
}

const fmtS = (r: BootResult | undefined): string =>
  r === undefined ? "n/a" : typeof r.seconds === "number" ? r.seconds.toFixed(2) : r.seconds;
const fmtMiB = (r: BootResult | undefined): string => (r === undefined || r.rssMiB === 0 ? "n/a" : r.rssMiB.toFixed(0));
const ratio = (a: BootResult | undefined, b: BootResult | undefined): string =>
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
  const rows: string[][] = [];
  for (const g of guests) {
    const common = ["--kernel", g.kernel, "--initrd", initrd, "--append", "console=ttyS0", "-m", "512M"];
    console.log(`booting ${g.name} ...`);
    const tsxi = await bootOnce(process.execPath, [cli, "run", ...common]);
    const tsxiSbi = hasOpenSbi ? await bootOnce(process.execPath, [cli, "run", ...common, "--bios", OPENSBI]) : undefined;
    const qemu = hasQemu
      ? await bootOnce(QEMU, ["-M", "virt", "-accel", "tcg", "-m", "512M", "-smp", "1", "-nographic", "-bios", "default",
        "-kernel", g.kernel, "-initrd", initrd, "-append", "console=ttyS0"])
      : undefined;
    rows.push([g.name, fmtS(tsxi), fmtS(tsxiSbi), fmtS(qemu), ratio(tsxi, qemu), ratio(tsxiSbi, qemu),
      fmtMiB(tsxi), fmtMiB(tsxiSbi), fmtMiB(qemu)]);
  }

  const head = ["guest", "tsxi s", "tsxi+OpenSBI s", "qemu s", "tsxi/qemu", "tsxi+OpenSBI/qemu",
    "tsxi MiB", "tsxi+OpenSBI MiB", "qemu MiB"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`\nboot to shell banner "${BANNER}" (wall-clock s from spawn; peak RSS = VmHWM)`);
  for (const r of [head, ...rows]) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
}
