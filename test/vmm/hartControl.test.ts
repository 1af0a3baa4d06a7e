// Shared hart state and the VMM mailbox: the mechanisms the hart worlds of
// an SMP machine coordinate through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { HartControl, NEVER, Power } from "../../src/vmm/smp/hartControl.js";
import { REQ_FENCE_I, REQ_SSIP } from "../../src/firmware/builtinFirmware.js";
import { MailboxServer, mailboxBuffer } from "../../src/vmm/smp/mmioMailbox.js";
import { HartState } from "../../src/firmware/sbi.js";
import { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP, MIP_SSIP, MIP_STIP } from "../../src/cpu/riscv/trap.js";

test("interrupt lines and timers fold into mip; hart-owned bits are kept", () => {
  const c = HartControl.create(2);
  c.setLine(1, MIP_SEIP, true);
  c.setMsip(1, 1);
  assert.equal(c.foldInterrupts(1, MIP_SSIP, false), MIP_SSIP | MIP_SEIP | MIP_MSIP);
  assert.equal(c.foldInterrupts(0, MIP_MEIP, false), 0, "a stale external line is dropped");
  c.setLine(1, MIP_SEIP, false);
  c.setMsip(1, 0);
  assert.equal(c.foldInterrupts(1, 0, false), 0);
  c.setMtimecmp(0, 0n);
  assert.equal(c.foldInterrupts(0, 0, false) & MIP_MTIP, MIP_MTIP, "mtime >= mtimecmp");
  c.setSbiTimer(0, 0n);
  assert.equal(c.foldInterrupts(0, 0, true) & MIP_STIP, MIP_STIP, "the SBI timer drives STIP");
  assert.equal(c.foldInterrupts(0, MIP_STIP, false) & MIP_STIP, MIP_STIP, "with M-mode firmware STIP is the guest's");
  c.setMtimecmp(0, NEVER);
  c.setSbiTimer(0, BigInt(c.now()) + 10_000_000n);
  assert.equal(c.foldInterrupts(0, MIP_STIP, true) & MIP_STIP, 0);
  const ms = c.msUntilDeadline(0, true);
  assert.ok(ms > 900 && ms <= 1000, `next deadline in ~1 s, got ${ms}`);
});

test("HSM: a start request claims a stopped hart once and carries its arguments", () => {
  const c = HartControl.create(2);
  assert.equal(c.hartState(1), HartState.Stopped);
  assert.equal(c.requestStart(1, 0x8020_0000n, -2n), true);
  assert.equal(c.hartState(1), HartState.StartPending);
  assert.equal(c.requestStart(1, 0n, 0n), false, "already starting");
  assert.deepEqual(c.startArguments(1), { pc: 0x8020_0000n, arg: -2n });
  c.setHartState(1, HartState.Started);
  assert.equal(c.requestStart(1, 0n, 0n), false);
});

test("requests are taken once and acknowledged; the first power request wins", () => {
  const c = HartControl.create(2);
  const seen = c.request(1, REQ_SSIP);
  c.request(1, REQ_FENCE_I);
  assert.equal(c.takeRequests(1), REQ_SSIP | REQ_FENCE_I);
  assert.equal(c.takeRequests(1), 0);
  assert.equal(c.awaitAck(1, seen, 0), false);
  c.acknowledge(1);
  assert.equal(c.awaitAck(1, seen, 0), true);
  c.requestPower(Power.Poweroff, 3);
  c.requestPower(Power.Reboot);
  assert.equal(c.power(), Power.Poweroff);
  assert.equal(c.powerCode(), 3);
});

test("a world's device accesses reach the VMM thread through the mailbox", async () => {
  const buffer = mailboxBuffer(2);
  const writes: string[] = [];
  const console: string[] = [];
  const server = new MailboxServer(buffer, 2, {
    read: (dev, offset, size) => (size === 8 ? 0x1_2345_6789n + BigInt(dev) : offset + 1),
    write: (dev, offset, size, value) => writes.push(`${dev}:${offset}:${size}:${value}`),
    console: (b) => console.push(Buffer.from(b).toString()),
    power: () => {},
    drain: () => {},
  });
  server.start();
  const mailboxModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "vmm", "smp", "mmioMailbox.js")).href;
  const code = `
    const { workerData, parentPort } = require("node:worker_threads");
    import(${JSON.stringify(mailboxModule)}).then(({ MailboxClient }) => {
      const m = new MailboxClient(workerData, 1, 2);
      const r = [m.read(0, 7, 4), m.read(2, 0, 8).toString(16)];
      m.write(3, 16, 8, 0xfedcba9876543210n);
      m.console(new TextEncoder().encode("hi"));
      parentPort.postMessage(r);
    });`;
  const w = new Worker(code, { eval: true, workerData: buffer });
  const result = await new Promise((resolve) => w.once("message", resolve));
  await new Promise((resolve) => w.once("exit", resolve));
  server.stop();
  assert.deepEqual(result, [8, "12345678b"]);
  assert.deepEqual(writes, [`3:16:8:${0xfedcba9876543210n}`]);
  assert.deepEqual(console, ["hi"]);
});
