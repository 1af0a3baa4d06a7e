// Shared hart state and the VMM mailbox: the mechanisms the hart worlds of
// an SMP machine coordinate through.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { HartControl, MTIME_HZ, NEVER, Power } from "../../src/vmm/smp/hartControl.js";
import { REQ_FENCE_I, REQ_SFENCE_VMA, REQ_SSIP } from "../../src/firmware/builtinFirmware.js";
import { StateError, type Saved } from "../../src/state/savedState.js";
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

test("posted writes reach the device in order, before any later request; a full ring makes a write synchronous", { timeout: 10_000 }, async () => {
  const buffer = mailboxBuffer(2);
  const log: string[] = [];
  const server = new MailboxServer(buffer, 2, {
    read: (dev, offset) => (log.push(`read ${dev}:${offset}`), log.length),
    write: (dev, offset, _size, value) => log.push(`write ${dev}:${offset}:${value}`),
    console: () => {},
    power: () => {},
    drain: () => {},
  });
  const mailboxModule = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "vmm", "smp", "mmioMailbox.js")).href;
  // The VMM thread starts serving only after the world posted everything: 64 posts fill the ring, the rest wait for it.
  const code = `
    const { workerData, parentPort } = require("node:worker_threads");
    import(${JSON.stringify(mailboxModule)}).then(({ MailboxClient }) => {
      const m = new MailboxClient(workerData, 0, 2);
      for (let k = 0; k < 64; k++) m.post(5, 0x50, k);
      parentPort.postMessage("full");
      for (let k = 64; k < 100; k++) m.post(5, 0x50, k);
      parentPort.postMessage(m.read(5, 0x60, 4));
    });`;
  const w = new Worker(code, { eval: true, workerData: buffer });
  assert.equal(await new Promise((resolve) => w.once("message", resolve)), "full");
  assert.deepEqual(log, [], "posting does not wait for the VMM thread");
  server.start();
  const read = await new Promise((resolve) => w.once("message", resolve));
  await new Promise((resolve) => w.once("exit", resolve));
  server.stop();
  assert.deepEqual(log, [...Array.from({ length: 100 }, (_, k) => `write 5:80:${k}`), "read 5:96"]);
  assert.equal(read, 101);
});

// ------------------------------------------------------------ checkpoints: what the harts share

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Awaits `p`, failing after `ms`. The timer also keeps the event loop alive:
 * a pending Atomics.waitAsync does not (in a VM, its worlds' threads do).
 */
async function settles<T>(p: Promise<T>, what: string, ms = 2000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not resolve within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
const viaJson = (s: Saved): unknown => JSON.parse(JSON.stringify(s));

/** Three harts with something in every saved field: timers, msip, each HSM state, start arguments, a pending IPI. */
function busyControl(): HartControl {
  const c = HartControl.create(3);
  c.setMtimecmp(0, 0x1_2345_6789n);
  c.setMtimecmp(2, 0xffff_ffff_ffff_fff0n);
  c.setSbiTimer(1, 0x8000_0000_0000_0001n);
  c.setMsip(1, 1);
  c.setHartState(0, HartState.Started);
  assert.equal(c.requestStart(1, 0xffff_ffff_8020_0000n, 0x8765_4321_0fed_cba9n), true);
  c.setHartState(2, HartState.Suspended);
  c.request(2, REQ_SSIP | REQ_FENCE_I);
  return c;
}

test("saveState -> JSON -> restoreState carries mtime, timers, msip, HSM states, start arguments and pending IPIs", () => {
  const a = busyControl();
  a.requestPause();
  const saved = a.saveState();
  const b = HartControl.create(3, true);
  b.request(0, REQ_SSIP); // an IPI the saved VM did not have
  b.restoreState(viaJson(saved));
  assert.deepEqual(b.saveState(), saved);
  assert.equal(b.now(), saved.mtime, "mtime stands where the saved VM's stood");
  assert.equal(b.mtimecmp(0), 0x1_2345_6789n);
  assert.equal(b.mtimecmp(1), NEVER);
  assert.equal(b.mtimecmp(2), 0xffff_ffff_ffff_fff0n);
  assert.equal(b.msip(1), 1);
  assert.equal(b.foldInterrupts(1, 0, false) & MIP_MSIP, MIP_MSIP, "msip drives MSIP again");
  assert.equal(b.foldInterrupts(1, 0, true) & MIP_STIP, 0, "the SBI timer far ahead");
  assert.deepEqual([0, 1, 2].map((h) => b.hartState(h)), [HartState.Started, HartState.StartPending, HartState.Suspended]);
  assert.deepEqual(b.startArguments(1), { pc: -0x7fe0_0000n, arg: -0x789a_bcde_f012_3457n });
  assert.equal(b.takeRequests(2), REQ_SSIP, "the IPI is restored; a FENCE.I request is not state");
  assert.equal(b.takeRequests(0), 0, "an IPI the saved VM did not have is dropped");
});

test("restoreState refuses a running VM and another number of harts, changing nothing", () => {
  const a = busyControl();
  a.requestPause();
  const saved = viaJson(a.saveState());
  const running = HartControl.create(3);
  const before = running.saveState().harts;
  assert.equal(running.pauseGeneration(), 0);
  assert.throws(() => running.restoreState(saved), (e: unknown) => e instanceof StateError && /restoring into a running VM/.test(e.message));
  assert.deepEqual(running.saveState().harts, before);
  for (const n of [2, 4]) {
    const other = HartControl.create(n, true);
    const mine = other.saveState();
    assert.throws(
      () => other.restoreState(saved),
      (e: unknown) => e instanceof StateError && e.message === `harts: field 'harts' is a list of 3, not ${n}`,
    );
    assert.deepEqual(other.saveState(), mine);
  }
  const bad = HartControl.create(3, true);
  const mine = bad.saveState();
  const broken = JSON.parse(JSON.stringify(saved)) as { harts: Record<string, unknown>[] };
  broken.harts[2].hsm = 5;
  assert.throws(() => bad.restoreState(broken), (e: unknown) => e instanceof StateError && /harts\.harts\[2\]: field 'hsm'/.test(e.message));
  assert.deepEqual(bad.saveState(), mine, "a bad last hart leaves the first ones as they were");
});

test("mtime is frozen while paused and runs on from the frozen value, without a jump, when resumed", async () => {
  const c = HartControl.create(1);
  const t0 = c.now();
  await sleep(5);
  assert.ok(c.now() > t0, "mtime runs");
  const g = c.requestPause();
  assert.notEqual(g, 0);
  assert.equal(c.requestPause(), g, "a second request joins the pause");
  const frozen = c.now();
  await sleep(30);
  assert.equal(c.now(), frozen, "frozen across 30 ms");
  const w0 = performance.now();
  c.resume();
  const t1 = c.now();
  const w1 = performance.now();
  assert.equal(c.pauseGeneration(), 0);
  assert.ok(t1 >= frozen, `mtime never goes back (${t1} < ${frozen})`);
  const allowed = (w1 - w0 + 0.1) * (MTIME_HZ / 1000);
  assert.ok(t1 - frozen <= allowed, `mtime jumped by ${t1 - frozen} ticks on resume (at most ${allowed}: no pause time is counted)`);
  await sleep(5);
  assert.ok(c.now() > t1, "and runs again");
});

test("a parked world leaves its state in its slot; the VMM leaves a state to restore, taken once", () => {
  const c = HartControl.create(2);
  const g = c.requestPause();
  const parked0 = { v: 1, pc: "0xffffffff80200000", note: "hart 0 é ✓" };
  c.park(0, g, parked0);
  c.park(1, g, { v: 1, pc: "0x0" });
  assert.deepEqual(c.parkedState(0), parked0);
  assert.equal(c.takeRestoreState(0), undefined, "nothing to restore after a plain park");
  const restore = { v: 1, pc: "0x80000000", x: ["0x1", "0x2"] };
  c.setRestoreState(1, restore);
  assert.deepEqual(c.takeRestoreState(1), restore);
  assert.equal(c.takeRestoreState(1), undefined, "taken once");
  assert.deepEqual(c.parkedState(0), parked0, "hart 1's slot is its own");
  assert.throws(() => c.park(0, g, { v: 1, big: "x".repeat(64 * 1024) }), (e: unknown) => e instanceof StateError && /does not fit its slot/.test(e.message));
});

test("allParked(g) resolves only once every hart has parked at generation g", async () => {
  const c = HartControl.create(3);
  const g = c.requestPause();
  let done = false;
  const all = c.allParked(g).then(() => (done = true));
  c.park(0, g, { v: 1 });
  c.park(2, g, { v: 1 });
  c.park(1, g - 1, { v: 1 }); // an older pause does not count
  await sleep(150); // past allParked's poll interval
  assert.equal(done, false, "hart 1 has not parked at g");
  c.park(1, g, { v: 1 });
  await settles(all, "allParked");
  // A VM powering off has no worlds left to park.
  const off = HartControl.create(2);
  const g2 = off.requestPause();
  const p = off.allParked(g2);
  off.requestPower(Power.Poweroff);
  await settles(p, "allParked while powering off");
});

test("write shootdowns: every hart sees the epoch, acknowledges it once, and the VMM waits for all", async () => {
  const c = HartControl.create(3);
  for (let h = 0; h < 3; h++) assert.equal(c.pendingWriteShootdown(h), 0);
  for (let h = 0; h < 3; h++) c.clearAttention(h);
  const e = c.shootDownWrites();
  assert.notEqual(e, 0);
  for (let h = 0; h < 3; h++) {
    assert.equal(c.pendingWriteShootdown(h), e);
    assert.equal(c.attentionView(h)[0], 1, "every world is told to look");
  }
  let done = false;
  const all = c.writesShotDown(e).then(() => (done = true));
  c.writesShotDownBy(0, e);
  assert.equal(c.pendingWriteShootdown(0), 0, "acknowledged");
  assert.equal(c.pendingWriteShootdown(1), e);
  c.writesShotDownBy(2, e);
  await sleep(20);
  assert.equal(done, false, "hart 1 has not acknowledged");
  // A newer epoch while hart 1 is behind: carrying out the newer one covers both.
  const e2 = c.shootDownWrites();
  assert.equal(c.pendingWriteShootdown(0), e2);
  c.writesShotDownBy(1, e2);
  await settles(all, "writesShotDown(e)");
  assert.equal(c.pendingWriteShootdown(1), 0);
  let done2 = false;
  const all2 = c.writesShotDown(e2).then(() => (done2 = true));
  await sleep(20);
  assert.equal(done2, false, "harts 0 and 2 have not carried out e2");
  c.writesShotDownBy(0, e2);
  c.writesShotDownBy(2, e2);
  await settles(all2, "writesShotDown(e2)");
});

test("takeRequests takes only the bits in its mask", () => {
  const c = HartControl.create(2);
  c.request(1, REQ_SSIP | REQ_FENCE_I | REQ_SFENCE_VMA);
  c.request(0, REQ_FENCE_I);
  assert.equal(c.takeRequests(1, REQ_SSIP), REQ_SSIP);
  assert.equal(c.takeRequests(1, REQ_SSIP), 0);
  assert.equal(c.takeRequests(1, REQ_SSIP | REQ_SFENCE_VMA), REQ_SFENCE_VMA);
  assert.equal(c.takeRequests(1), REQ_FENCE_I);
  assert.equal(c.takeRequests(1), 0);
  assert.equal(c.takeRequests(0, REQ_SSIP), 0, "another hart's requests are its own");
  assert.equal(c.takeRequests(0), REQ_FENCE_I);
});
