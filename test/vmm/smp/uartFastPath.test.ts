// The UART fast path: THR writes through a world's TX ring and LSR reads
// from the mirrored line status, checked against the device they stand for.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { MmioDevice } from "../../../src/devices/bus.js";
import { Ns16550a } from "../../../src/devices/ns16550a.js";
import { RING_BYTES, UartFastPath, UartFastPathHost, uartFastPathBuffer } from "../../../src/vmm/smp/uartFastPath.js";
import { MailboxServer, mailboxBuffer } from "../../../src/vmm/smp/mmioMailbox.js";

const THR = 0;
const IER = 1;
const IIR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const SCR = 7;

/** A UART behind the fast path, its worlds, and a mailbox stand-in that serves accesses at once. */
function setup(harts = 1) {
  const out: number[] = [];
  const irq = { level: false };
  const buffer = uartFastPathBuffer(harts);
  const uart = new Ns16550a({ set: (l) => (irq.level = l) }, (b) => out.push(...b), () => host.mirror());
  const host = new UartFastPathHost(buffer, harts, uart);
  const counts = { trips: 0, doorbells: 0 };
  const mailbox: MmioDevice = {
    read: (offset, size) => (counts.trips++, host.read(offset, size)),
    write: (offset, size, value) => (counts.trips++, host.write(offset, size, value)),
  };
  const worlds = Array.from({ length: harts }, (_, h) => new UartFastPath(buffer, h, harts, mailbox, () => counts.doorbells++));
  return { out, irq, uart, host, counts, worlds, text: () => Buffer.from(out).toString() };
}

const reg = (dev: MmioDevice, offset: number): number => Number(dev.read(offset, 1));

const send = (dev: MmioDevice, s: string): void => {
  for (const c of s) dev.write(THR, 1, c.charCodeAt(0));
};

test("THR bytes go through the ring in order, ring the doorbell once per line or slice, and reach the UART when drained", () => {
  const { host, counts, worlds, text } = setup();
  send(worlds[0], "hi!");
  assert.equal(counts.trips, 0);
  assert.equal(counts.doorbells, 0, "no line end yet: the world rings after its slice");
  worlds[0].flush();
  assert.equal(counts.doorbells, 1);
  worlds[0].flush();
  assert.equal(counts.doorbells, 1, "nothing new to ring for");
  assert.equal(text(), "");
  host.drain();
  assert.equal(text(), "hi!");
  send(worlds[0], "a\nb\n");
  assert.equal(counts.doorbells, 2, "the first line end rings; the rest find the ring busy");
  host.drain();
  send(worlds[0], "x".repeat(RING_BYTES / 2 - 1));
  assert.equal(counts.doorbells, 2);
  send(worlds[0], "x");
  assert.equal(counts.doorbells, 3, "a half-full ring rings");
  host.drain();
  assert.equal(text(), "hi!a\nb\n" + "x".repeat(RING_BYTES / 2));
});

test("a mailbox access to the UART drains the rings first; DLAB and loopback close the ring", () => {
  const { host, counts, worlds, text } = setup();
  const w = worlds[0];
  send(w, "ab");
  w.write(SCR, 1, 0x55);
  assert.equal(text(), "ab", "queued bytes went out before the SCR write was served");
  w.write(LCR, 1, 0x83);
  w.write(THR, 1, 0x12);
  assert.equal(counts.trips, 3, "with DLAB set, offset 0 is DLL: the mailbox takes it");
  assert.equal(reg(w, THR), 0x12);
  w.write(LCR, 1, 0x03);
  w.write(MCR, 1, 0x10);
  send(w, "L");
  host.drain();
  assert.equal(text(), "ab", "in loopback the byte goes to the receiver");
  assert.equal(reg(w, LSR) & 1, 1, "DR");
  assert.equal(reg(w, THR), 0x4c);
});

test("a full ring falls back to the mailbox, which drains it first", () => {
  const { host, counts, worlds, out } = setup();
  const bytes = Array.from({ length: RING_BYTES + 100 }, (_, k) => (k * 7) & 0xff);
  for (const b of bytes) worlds[0].write(THR, 1, b);
  assert.equal(counts.trips, 1, "the byte after a full ring");
  assert.equal(out.length, RING_BYTES + 1);
  host.drain();
  assert.deepEqual(out, bytes);
});

test("ETBEI: the write that raises THR-empty takes the mailbox, the rest of the burst the ring", () => {
  const { host, irq, counts, worlds, text } = setup();
  const w = worlds[0];
  w.write(IER, 1, 2);
  assert.equal(irq.level, true);
  assert.equal(reg(w, IIR) & 0x0f, 0x02);
  assert.equal(irq.level, false);
  const trips = counts.trips;
  send(w, "xyz");
  assert.equal(counts.trips, trips + 1, "only the first byte");
  assert.equal(irq.level, true, "raised by the first byte, at once");
  assert.equal(text(), "x");
  host.drain();
  assert.equal(text(), "xyz");
  assert.equal(irq.level, true);
  assert.equal(reg(w, IIR) & 0x0f, 0x02);
  assert.equal(reg(w, IIR) & 0x0f, 0x01, "one THR-empty interrupt for the burst, as without the ring");
});

test("a byte never overtakes another hart's earlier byte", () => {
  const { host, counts, worlds, text } = setup(2);
  send(worlds[1], "A");
  send(worlds[0], "B");
  assert.equal(counts.trips, 1, "hart 0 found hart 1's ring busy and took the mailbox");
  assert.equal(text(), "AB");
  send(worlds[0], "C");
  send(worlds[1], "D");
  host.drain();
  assert.equal(text(), "ABCD");
  assert.equal(counts.trips, 2);
});

test("every access matches the plain device's answer, interrupt level and output (random accesses)", () => {
  const fast = setup(2);
  const refOut: number[] = [];
  const refIrq = { level: false };
  const ref = new Ns16550a({ set: (l) => (refIrq.level = l) }, (b) => refOut.push(...b));
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const pick = (xs: number[]): number => xs[rand(xs.length)];
  const values: Record<number, number[]> = { [IER]: [0, 1, 2, 3, 5, 7], [IIR]: [0, 1, 3, 7], [LCR]: [0x03, 0x03, 0x83], [MCR]: [0, 0, 0x0b, 0x10] };
  let localLsr = 0;
  for (let step = 0; step < 20_000; step++) {
    const w = fast.worlds[rand(2)];
    const op = rand(100);
    if (op < 40) {
      const b = rand(256);
      w.write(THR, 1, b);
      ref.write(THR, 1, b);
    } else if (op < 70) {
      const trips = fast.counts.trips;
      assert.equal(reg(w, LSR), ref.read(LSR, 1), `LSR at step ${step}`);
      if (fast.counts.trips === trips) localLsr++;
    } else if (op < 85) {
      const offset = rand(8);
      assert.equal(reg(w, offset), ref.read(offset, 1), `read ${offset} at step ${step}`);
    } else if (op < 93) {
      const offset = pick([IER, IIR, LCR, MCR, SCR]);
      const v = offset in values ? pick(values[offset]) : rand(256);
      w.write(offset, 1, v);
      ref.write(offset, 1, v);
    } else if (op < 97) {
      const input = Uint8Array.from({ length: op === 96 && rand(20) === 0 ? 5000 : 1 + rand(3) }, () => rand(256));
      fast.uart.pushInput(input);
      ref.pushInput(input);
    } else {
      fast.host.drain();
    }
    assert.equal(fast.irq.level, refIrq.level, `interrupt level at step ${step}`);
    if (step % 100 === 0) assert.deepEqual(fast.out, refOut.slice(0, fast.out.length), `output so far at step ${step}`);
  }
  fast.host.drain();
  assert.deepEqual(fast.out, refOut);
  assert.ok(localLsr > 1000 && fast.counts.trips < 12_000, `fast path used: ${localLsr} local LSR reads, ${fast.counts.trips} trips`);
});

test("through a real mailbox: a doorbell drains the ring, and a request never overtakes queued bytes", async () => {
  const out: number[] = [];
  const shared = uartFastPathBuffer(1);
  const uart = new Ns16550a({ set: () => {} }, (b) => out.push(...b), () => host.mirror());
  const host = new UartFastPathHost(shared, 1, uart);
  let uartTrips = 0;
  const buffer = mailboxBuffer(1);
  const server = new MailboxServer(buffer, 1, {
    read: (_dev, offset, size) => (uartTrips++, host.read(offset, size)),
    write: (_dev, offset, size, value) => (uartTrips++, host.write(offset, size, value)),
    console: (b) => out.push(...b),
    power: () => {},
    drain: () => host.drain(),
  });
  server.start();
  const smp = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "src", "vmm", "smp");
  const code = `
    const { workerData, parentPort } = require("node:worker_threads");
    Promise.all([import(${JSON.stringify(pathToFileURL(join(smp, "mmioMailbox.js")).href)}), import(${JSON.stringify(pathToFileURL(join(smp, "uartFastPath.js")).href)})])
      .then(([{ MailboxClient, RemoteDevice }, { UartFastPath }]) => {
        const m = new MailboxClient(workerData.buffer, 0, 1);
        const uart = new UartFastPath(workerData.shared, 0, 1, new RemoteDevice(m, 0, () => {}), () => m.ring());
        const send = (s) => { for (const c of s) uart.write(0, 1, c.charCodeAt(0)); };
        send("ring ");
        m.console(new TextEncoder().encode("console "));
        send("ring again");
        uart.flush(); // as the world does after each run slice
        parentPort.postMessage(uart.read(5, 1));
      });`;
  const w = new Worker(code, { eval: true, workerData: { buffer, shared } });
  const exited = new Promise((resolve) => w.once("exit", resolve));
  const lsr = await new Promise((resolve) => w.once("message", resolve));
  await exited;
  const expected = "ring console ring again";
  for (let t = 0; t < 200 && out.length < expected.length; t++) await new Promise((resolve) => setTimeout(resolve, 10));
  server.stop();
  assert.equal(Buffer.from(out).toString(), expected, "drained on the doorbell alone, in order");
  assert.equal(lsr, 0x60);
  assert.equal(uartTrips, 0);
});
