// Boots the default guest that ships with tsxi (guest/default) and runs
// commands in it over the console, with the built-in SBI and with Debian's
// OpenSBI, with one and four harts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GuestConsole } from "../support/guestConsole.js";

const OPENSBI = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin";

const configs: [string, string[]][] = [
  ["built-in SBI, 1 hart", []],
  ["built-in SBI, 4 harts", ["--smp", "4"]],
  ["OpenSBI, 4 harts", ["--bios", OPENSBI, "--smp", "4"]],
];

for (const [name, args] of configs) {
  test(`default guest boots to a shell and runs commands (${name})`, { timeout: 180_000 }, async () => {
    const g = new GuestConsole(["-m", "256M", ...args]);
    try {
      const banner = await g.expect(/tsxi default guest: Linux \S+, (\d+) hart\(s\)/, 150_000);
      const harts = args.includes("--smp") ? args[args.indexOf("--smp") + 1] : "1";
      assert.match(banner, new RegExp(`, ${harts} hart\\(s\\)`));
      await g.expect("# ", 30_000); // the shell's prompt
      assert.equal(await g.run("echo $((6 * 7))"), "42");
      assert.equal(await g.run("grep -c ^processor /proc/cpuinfo"), harts);
      assert.match(await g.run("cat /proc/cpuinfo"), /isa\s+: rv64imafdc_zicbom_zicboz/);
      assert.equal(await g.run("echo tsxi > /tmp/f && cat /tmp/f && wc -c < /tmp/f"), "tsxi\n5");
      assert.match(await g.run("cat /proc/interrupts"), /ttyS0|serial/);
      g.type("poweroff\n");
      assert.equal(await g.exited, 0, "poweroff ends tsxi with status 0");
    } finally {
      g.kill();
    }
  });
}
