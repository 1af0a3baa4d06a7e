// Boots Debian 13's stock riscv64 kernel (fetched by scripts/debian-riscv64.sh
// into $TSXI_DEBIAN, default /tmp/tsxi-debian) with the default guest's
// initramfs plus an archive of the kernel's own modules (virtio-mmio,
// virtio-blk, virtio-net, virtio-rng, ext4), with tsxi's built-in SBI and
// with Debian's OpenSBI, on 1 and 4 harts. Slow: run with `npm run test:slow`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestConsole } from "../test/support/guestConsole.js";
import { REPO } from "../test/support/guest.js";
import { moduleArchive } from "../src/image/moduleArchive.js";

const debian = process.env.TSXI_DEBIAN ?? "/tmp/tsxi-debian";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const MODULES = ["virtio_mmio", "virtio_blk", "virtio_net", "virtio_rng", "crc32c_generic", "ext4"];
const work = mkdtempSync(join(tmpdir(), "tsxi-debian-"));

function kernel(): string {
  const boot = join(debian, "root", "boot");
  const k = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith("vmlinux-")) : undefined;
  assert.ok(k !== undefined, `no Debian kernel under ${boot}: run scripts/debian-riscv64.sh ${debian} 'linux-image-6.12.*-riscv64'`);
  return join(boot, k);
}

/** The default initramfs with the Debian kernel's modules appended (Linux unpacks both). */
function initrd(): string {
  const path = join(work, "initrd.cpio");
  if (!existsSync(path)) {
    const base = readFileSync(join(REPO, "guest", "default", "initramfs.cpio"));
    writeFileSync(path, Buffer.concat([base, moduleArchive(join(debian, "root"), MODULES)]));
  }
  return path;
}

for (const [name, bios] of [["built-in SBI", []], ["OpenSBI", ["--bios", OPENSBI]]] as const) {
  for (const smp of [1, 4]) {
    test(`Debian kernel boots to a shell with its modules (${name}, ${smp} hart${smp > 1 ? "s" : ""})`, { timeout: 400_000 }, async () => {
      const disk = join(work, `disk-${name.replace(/\W/g, "")}-${smp}.raw`);
      execFileSync("truncate", ["-s", "32M", disk]);
      execFileSync("mkfs.ext4", ["-q", "-F", disk]);
      const g = new GuestConsole([
        "--kernel", kernel(), "--initrd", initrd(), "-m", "512M", "--smp", String(smp), ...bios,
        "--drive", `file=${disk},format=raw`, "--netdev", "user",
      ]);
      try {
        await g.expect("tsxi default guest", 300_000);
        assert.equal((await g.run("grep -c ^processor /proc/cpuinfo")).trim(), String(smp));
        assert.match(await g.run("uname -r"), /deb13-riscv64/);
        assert.match(await g.run("cat /proc/modules | cut -d' ' -f1 | sort | tr '\\n' ' '"), /ext4 .*virtio_blk .*virtio_mmio .*virtio_net .*virtio_rng/);
        await g.run("mount -t ext4 /dev/vda /mnt && echo debian > /mnt/f && sync && cat /mnt/f");
        assert.equal(await g.run("head -c 16 /dev/hwrng | wc -c"), "16");
        assert.match(await g.run("ip -4 addr show eth0"), /10\.0\.2\.15/);
        g.type("poweroff\n");
        assert.equal(await g.exited, 0);
      } finally {
        g.kill();
      }
    });
  }
}
