/**
 * Debian 13's stock riscv64 kernel for the slow tests: the kernel fetched by
 * scripts/debian-riscv64.sh into $TSXI_DEBIAN (default /tmp/tsxi-debian),
 * the default guest's initramfs with an archive of the kernel's own modules
 * appended (virtio-mmio, virtio-blk, virtio-net, virtio-rng, ext4), the
 * firmware choices and fresh ext4 disks.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { REPO } from "../../test/support/guest.js";
import { moduleArchive } from "../../src/image/moduleArchive.js";

export const DEBIAN = process.env.TSXI_DEBIAN ?? "/tmp/tsxi-debian";
export const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const MODULES = ["virtio_mmio", "virtio_blk", "virtio_net", "virtio_rng", "crc32c_generic", "ext4"];

/** The firmware choices the slow tests run under: tsxi's built-in SBI and Debian's OpenSBI. */
export const FIRMWARES = [
  { name: "built-in SBI", args: [] as string[] },
  { name: "OpenSBI", args: ["--bios", OPENSBI] },
] as const;

/** A scratch directory for this test file's images and sockets, removed once its tests are done. */
export const work = mkdtempSync(join(tmpdir(), "tsxi-debian-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The Debian kernel (the vmlinux ELF). */
export function kernel(): string {
  const boot = join(DEBIAN, "root", "boot");
  const k = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith("vmlinux-")) : undefined;
  assert.ok(k !== undefined, `no Debian kernel under ${boot}: run scripts/debian-riscv64.sh ${DEBIAN} 'linux-image-6.12.*-riscv64'`);
  return join(boot, k);
}

/** The default initramfs with the Debian kernel's modules appended (Linux unpacks both). */
export function initrd(): string {
  const path = join(work, "initrd.cpio");
  if (!existsSync(path)) {
    const base = readFileSync(join(REPO, "guest", "default", "initramfs.cpio"));
    writeFileSync(path, Buffer.concat([base, moduleArchive(join(DEBIAN, "root"), MODULES)]));
  }
  return path;
}

/** A new raw image of `size` (e.g. "32M") holding an ext4 file system, empty or with `files` (path → contents). */
export function ext4Disk(name: string, size: string, files: Record<string, Uint8Array> = {}): string {
  const disk = join(work, `${name}.raw`);
  const root = join(work, `${name}.root`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root);
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), contents);
  }
  execFileSync("truncate", ["-s", "0", disk]);
  execFileSync("truncate", ["-s", size, disk]);
  execFileSync("mkfs.ext4", ["-q", "-F", "-d", root, disk]);
  rmSync(root, { recursive: true });
  return disk;
}

/** `tsxi run` options that boot the Debian kernel with its modules. */
export function debianArgs(opts: { smp: number; memory?: string; firmware: readonly string[] }): string[] {
  return ["--kernel", kernel(), "--initrd", initrd(), "-m", opts.memory ?? "512M", "--smp", String(opts.smp), ...opts.firmware];
}

/** What the default guest's start-up script prints once the shell is about to start. */
export const SHELL_READY = "tsxi default guest";
