// The default guest's virtio devices, used by Linux's own drivers: an ext4
// file system on a virtio disk (made by the host's mkfs.ext4) is written,
// synced, and still intact after the guest reboots and after tsxi restarts;
// a read-only disk refuses writes and its image is unchanged; /dev/hwrng
// gives bytes; the guest fetches a page from an HTTP server on the host's
// loopback through user-mode NAT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GuestConsole } from "../support/guestConsole.js";

function ext4Image(): string {
  const path = join(mkdtempSync(join(tmpdir(), "tsxi-ext4-")), "disk.raw");
  execFileSync("truncate", ["-s", "32M", path]);
  execFileSync("mkfs.ext4", ["-q", "-F", "-L", "tsxidata", path]);
  return path;
}

const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

async function boot(args: string[]): Promise<GuestConsole> {
  const g = new GuestConsole(["-m", "256M", ...args]);
  await g.expect("tsxi default guest", 150_000);
  await g.expect("# ", 30_000);
  return g;
}

test("ext4 on a virtio disk survives a guest reboot and a tsxi restart", { timeout: 400_000 }, async () => {
  const disk = ext4Image();
  const drive = ["--drive", `file=${disk},format=raw`];
  const stamp = `tsxi-${Date.now()}`;
  let g = await boot(drive);
  try {
    assert.match(await g.run("cat /sys/block/vda/size"), /^65536$/);
    await g.run(`mount -t ext4 /dev/vda /mnt && echo ${stamp} > /mnt/stamp && dd if=/dev/urandom of=/mnt/blob bs=1k count=512 2>/dev/null && sync`);
    const sum = await g.run("md5sum /mnt/blob | cut -d' ' -f1");
    g.type("reboot\n");
    await g.expect("tsxi default guest", 150_000);
    await g.expect("# ", 30_000);
    await g.run("mount -t ext4 /dev/vda /mnt");
    assert.equal(await g.run("cat /mnt/stamp"), stamp, "data intact after the guest rebooted");
    assert.equal(await g.run("md5sum /mnt/blob | cut -d' ' -f1"), sum);
    await g.run("umount /mnt");
    g.type("poweroff\n");
    assert.equal(await g.exited, 0);
    // The host's fsck agrees the file system is clean.
    execFileSync("e2fsck", ["-f", "-n", disk], { stdio: "pipe" });

    g = await boot(drive);
    await g.run("mount -t ext4 /dev/vda /mnt");
    assert.equal(await g.run("cat /mnt/stamp"), stamp, "data intact after tsxi restarted");
    assert.equal(await g.run("md5sum /mnt/blob | cut -d' ' -f1"), sum);
    g.type("poweroff\n");
    assert.equal(await g.exited, 0);
  } finally {
    g.kill();
  }
});

test("a read-only disk refuses writes and its image is unchanged; /dev/hwrng gives bytes", { timeout: 200_000 }, async () => {
  const disk = ext4Image();
  const before = sha(disk);
  const g = await boot(["--drive", `file=${disk},format=raw,readonly=on`]);
  try {
    assert.equal(await g.run("cat /sys/block/vda/ro"), "1");
    await g.run("mount -t ext4 -o ro,noload /dev/vda /mnt");
    assert.match(await g.run("touch /mnt/x 2>&1 || true"), /Read-only file system/);
    assert.match(await g.run("dd if=/dev/zero of=/dev/vda bs=512 count=1 2>&1 || true"), /Operation not permitted|Read-only|I\/O error/);
    assert.equal(await g.run("head -c 64 /dev/hwrng | wc -c"), "64");
    const words = await g.run("head -c 32 /dev/hwrng | od -An -tx1");
    assert.ok(new Set(words.split(/\s+/).filter(Boolean)).size > 8, `random bytes: ${words}`);
    g.type("poweroff\n");
    assert.equal(await g.exited, 0);
  } finally {
    g.kill();
  }
  assert.equal(sha(disk), before, "the read-only image was not written");
});

test("the guest gets DHCP and fetches a page from an HTTP server on the host's loopback", { timeout: 200_000 }, async () => {
  const body = `hello from the host ${Math.random().toString(36).slice(2)}\n`;
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 10)) & 0xff;
  const server: Server = createServer((req, res) => res.end(req.url === "/big" ? big : body));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const g = await boot(["--netdev", "user"]);
  try {
    assert.match(await g.run("ip -4 addr show eth0"), /inet 10\.0\.2\.15\/24/);
    assert.match(await g.run("ip route"), /default via 10\.0\.2\.2/);
    assert.equal(await g.run(`wget -q -O - http://10.0.2.2:${port}/`) + "\n", body);
    // 1 MiB through the NAT's TCP flow control.
    const md5 = createHash("md5").update(big).digest("hex");
    assert.equal(await g.run(`wget -q -O - http://10.0.2.2:${port}/big | md5sum | cut -d' ' -f1`), md5);
    g.type("poweroff\n");
    assert.equal(await g.exited, 0);
  } finally {
    g.kill();
    server.close();
  }
});
