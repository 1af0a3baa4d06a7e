// Boots Debian 13's stock riscv64 kernel (fetched by scripts/debian-riscv64.sh
// into $TSXI_DEBIAN, default /tmp/tsxi-debian) with the default guest's
// initramfs, with tsxi's built-in SBI and with Debian's OpenSBI. Slow: run
// with `npm run test:slow`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { GuestConsole } from "../test/support/guestConsole.js";
import { REPO } from "../test/support/guest.js";

const debian = process.env.TSXI_DEBIAN ?? "/tmp/tsxi-debian";
const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";
const initrd = join(REPO, "guest", "default", "initramfs.cpio");

function kernel(): string {
  const boot = join(debian, "root", "boot");
  const k = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith("vmlinux-")) : undefined;
  assert.ok(k !== undefined, `no Debian kernel under ${boot}: run scripts/debian-riscv64.sh ${debian} 'linux-image-6.12.*-riscv64'`);
  return join(boot, k);
}

for (const [name, bios] of [["built-in SBI", []], ["OpenSBI", ["--bios", OPENSBI]]] as const) {
  for (const smp of [1, 4]) {
    test(`Debian kernel boots to a shell (${name}, ${smp} hart${smp > 1 ? "s" : ""})`, { timeout: 300_000 }, async () => {
      const g = new GuestConsole(["--kernel", kernel(), "--initrd", initrd, "-m", "512M", "--smp", String(smp), ...bios]);
      try {
        await g.expect("tsxi default guest", 240_000);
        assert.equal((await g.run("grep -c ^processor /proc/cpuinfo")).trim(), String(smp));
        assert.match(await g.run("uname -r"), /deb13-riscv64/);
        g.type("poweroff\n");
        assert.equal(await g.exited, 0);
      } finally {
        g.kill();
      }
    });
  }
}
