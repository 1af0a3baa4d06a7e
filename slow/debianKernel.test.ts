// Boots Debian 13's stock riscv64 kernel (fetched by scripts/debian-riscv64.sh
// into $TSXI_DEBIAN, default /tmp/tsxi-debian) with the default guest's
// initramfs plus an archive of the kernel's own modules (virtio-mmio,
// virtio-blk, virtio-net, virtio-rng, ext4), with tsxi's built-in SBI and
// with Debian's OpenSBI, on 1 and 4 harts. Slow: run with `npm run test:slow`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GuestConsole } from "../test/support/guestConsole.js";
import { debianArgs, ext4Disk, FIRMWARES, SHELL_READY } from "./support/debian.js";

for (const { name, args: firmware } of FIRMWARES) {
  for (const smp of [1, 4]) {
    test(`Debian kernel boots to a shell with its modules (${name}, ${smp} hart${smp > 1 ? "s" : ""})`, { timeout: 400_000 }, async () => {
      const disk = ext4Disk(`disk-${name.replace(/\W/g, "")}-${smp}`, "32M");
      const g = new GuestConsole([...debianArgs({ smp, firmware }), "--drive", `file=${disk},format=raw`, "--netdev", "user"]);
      try {
        await g.expect(SHELL_READY, 300_000);
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
