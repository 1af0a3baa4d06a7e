// The split virtqueue and the virtio-mmio transport, driven through their
// registers by a driver-side mock (test/support/virtioDriver.ts), with
// virtio-rng as the simplest device on top.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioRng } from "../../src/devices/virtio/rng.js";
import { Virtqueue } from "../../src/devices/virtio/virtqueue.js";
import { F_EVENT_IDX, F_INDIRECT, F_VERSION_1, INDIRECT, NEXT, RAM, TestDriver, WRITE } from "../support/virtioDriver.js";

test("virtio-mmio identifies itself; an empty slot reads DeviceID 0", () => {
  const d = new TestDriver(new VirtioRng());
  assert.equal(d.reg(0x000), 0x74726976);
  assert.equal(d.reg(0x004), 2);
  assert.equal(d.reg(0x008), 4);
  d.setReg(0x14, 1);
  assert.equal(d.reg(0x010) & 1, 1, "VIRTIO_F_VERSION_1 offered");
  d.setReg(0x14, 0);
  assert.equal((d.reg(0x010) >>> 28) & 3, 3, "indirect descriptors and event index offered");
  d.setReg(0x30, 0);
  assert.equal(d.reg(0x034), 64);
  d.setReg(0x30, 1);
  assert.equal(d.reg(0x034), 0, "no second queue");
  const empty = new TestDriver(undefined);
  assert.equal(empty.reg(0x000), 0x74726976);
  assert.equal(empty.reg(0x008), 0);
});

test("FEATURES_OK is refused without VERSION_1 or with features never offered", () => {
  assert.equal(new TestDriver(new VirtioRng()).init(0n), false);
  assert.equal(new TestDriver(new VirtioRng()).init(F_VERSION_1 | (1n << 40n)), false);
  assert.equal(new TestDriver(new VirtioRng()).init(F_VERSION_1), true);
});

test("a chain of writable buffers is filled, returned in the used ring, and interrupts until acknowledged", () => {
  const d = new TestDriver(new VirtioRng());
  assert.ok(d.init());
  const a = d.buffer(100);
  const b = d.buffer(28);
  d.offer(0, [{ addr: a, len: 100, flags: WRITE }, { addr: b, len: 28, flags: WRITE }]);
  d.notify(0);
  assert.equal(d.usedIdx(0), 1);
  assert.deepEqual(d.used(0, 0), { id: 0, len: 128 });
  const bytes = [...d.mem.readBytes(a, 100), ...d.mem.readBytes(b, 28)];
  assert.ok(new Set(bytes).size > 20, "random bytes were written");
  assert.equal(d.irq.level, true);
  assert.equal(d.reg(0x60), 1, "InterruptStatus: used buffer");
  d.setReg(0x64, 1);
  assert.equal(d.irq.level, false);
  assert.equal(d.reg(0x60), 0);
});

test("indirect descriptor tables are followed", () => {
  const d = new TestDriver(new VirtioRng());
  assert.ok(d.init());
  const table = d.buffer(48);
  const bufs = [d.buffer(8), d.buffer(8), d.buffer(8)];
  bufs.forEach((addr, k) => d.writeDesc(table, k, { addr, len: 8, flags: WRITE | (k < 2 ? NEXT : 0), next: k + 1 }));
  d.offer(0, [{ addr: table, len: 48, flags: INDIRECT }], 5);
  d.notify(0);
  assert.deepEqual(d.used(0, 0), { id: 5, len: 24 });
  assert.equal(d.needsReset, false);
});

test("the NO_INTERRUPT flag and the event index suppress interrupts; avail_event is published", () => {
  const plain = new TestDriver(new VirtioRng());
  assert.ok(plain.init());
  plain.mem.writeU16(plain.queues[0].avail, 1); // VIRTQ_AVAIL_F_NO_INTERRUPT
  plain.offer(0, [{ addr: plain.buffer(4), len: 4, flags: WRITE }]);
  plain.notify(0);
  assert.equal(plain.usedIdx(0), 1);
  assert.equal(plain.irq.raised, 0);

  const d = new TestDriver(new VirtioRng());
  assert.ok(d.init(F_VERSION_1 | F_INDIRECT | F_EVENT_IDX));
  const q = d.queues[0];
  d.mem.writeU16(q.avail + 4 + 2 * q.size, 2); // used_event: interrupt once used idx passes 2
  for (let k = 0; k < 2; k++) {
    d.offer(0, [{ addr: d.buffer(4), len: 4, flags: WRITE }], k);
    d.notify(0);
    assert.equal(d.irq.raised, 0, `no interrupt for used idx ${k + 1}`);
    assert.equal(d.mem.readU16(q.used + 4 + 8 * q.size), k + 1, "avail_event follows the device");
  }
  d.offer(0, [{ addr: d.buffer(4), len: 4, flags: WRITE }], 2);
  d.notify(0);
  assert.equal(d.irq.raised, 1, "interrupt when used idx reaches used_event + 1");
});

test("a device reset clears status, queues and the interrupt", () => {
  const d = new TestDriver(new VirtioRng());
  assert.ok(d.init());
  d.offer(0, [{ addr: d.buffer(4), len: 4, flags: WRITE }]);
  d.notify(0);
  d.setReg(0x70, 0);
  assert.equal(d.reg(0x70), 0);
  assert.equal(d.irq.level, false);
  d.setReg(0x30, 0);
  assert.equal(d.reg(0x44), 0, "queue no longer ready");
});

const malicious: [string, (d: TestDriver) => void][] = [
  ["a descriptor loop", (d) => {
    const a = d.buffer(4);
    d.writeDesc(d.queues[0].desc, 0, { addr: a, len: 4, flags: WRITE | NEXT, next: 1 });
    d.writeDesc(d.queues[0].desc, 1, { addr: a, len: 4, flags: WRITE | NEXT, next: 0 });
    d.makeAvailable(0, 0);
  }],
  ["a next index past the table", (d) => {
    d.writeDesc(d.queues[0].desc, 0, { addr: d.buffer(4), len: 4, flags: WRITE | NEXT, next: 16 });
    d.makeAvailable(0, 0);
  }],
  ["a head index past the table", (d) => d.makeAvailable(0, 16)],
  ["a buffer outside RAM", (d) => d.offer(0, [{ addr: 0x1000, len: 4, flags: WRITE }])],
  ["a buffer running off the end of RAM", (d) => d.offer(0, [{ addr: RAM + (4 << 20) - 8, len: 16, flags: WRITE }])],
  ["a 64-bit address past RAM", (d) => d.offer(0, [{ addr: 2 ** 52, len: 16, flags: WRITE }])],
  ["an available index too far ahead", (d) => d.mem.writeU16(d.queues[0].avail + 2, 17)],
  ["an empty indirect table", (d) => d.offer(0, [{ addr: d.buffer(16), len: 0, flags: INDIRECT }])],
  ["an indirect table of a partial descriptor", (d) => d.offer(0, [{ addr: d.buffer(32), len: 24, flags: INDIRECT }])],
  ["an indirect table outside RAM", (d) => d.offer(0, [{ addr: 0x2000, len: 32, flags: INDIRECT }])],
  ["an indirect descriptor inside an indirect table", (d) => {
    const t = d.buffer(16);
    d.writeDesc(t, 0, { addr: t, len: 16, flags: INDIRECT });
    d.offer(0, [{ addr: t, len: 16, flags: INDIRECT }]);
  }],
  ["an indirect loop", (d) => {
    const t = d.buffer(32);
    d.writeDesc(t, 0, { addr: d.buffer(4), len: 4, flags: WRITE | NEXT, next: 1 });
    d.writeDesc(t, 1, { addr: d.buffer(4), len: 4, flags: WRITE | NEXT, next: 0 });
    d.offer(0, [{ addr: t, len: 32, flags: INDIRECT }]);
  }],
  ["an indirect descriptor with NEXT", (d) => {
    const t = d.buffer(16);
    d.writeDesc(t, 0, { addr: d.buffer(4), len: 4, flags: WRITE });
    d.writeDesc(d.queues[0].desc, 0, { addr: t, len: 16, flags: INDIRECT | NEXT, next: 1 });
    d.writeDesc(d.queues[0].desc, 1, { addr: d.buffer(4), len: 4, flags: WRITE });
    d.makeAvailable(0, 0);
  }],
  ["a readable buffer after a writable one", (d) => d.offer(0, [{ addr: d.buffer(4), len: 4, flags: WRITE }, { addr: d.buffer(4), len: 4 }])],
];

for (const [what, attack] of malicious) {
  test(`${what} marks the device DEVICE_NEEDS_RESET without a host exception`, () => {
    const d = new TestDriver(new VirtioRng());
    assert.ok(d.init());
    attack(d);
    assert.doesNotThrow(() => d.notify(0));
    assert.equal(d.needsReset, true);
    assert.equal(d.reg(0x60) & 2, 2, "configuration-change interrupt");
    assert.equal(d.broken.length, 1);
    assert.equal(d.usedIdx(0), 0, "nothing returned");
    // The device stays quiet until reset, then works again.
    d.notify(0);
    assert.equal(d.broken.length, 1);
    const fresh = new TestDriver(new VirtioRng());
    assert.ok(fresh.init());
  });
}

test("misplaced rings are refused when the queue is enabled", () => {
  for (const [reg, addr] of [[0x80, RAM + 8], [0x90, 0x1000], [0xa0, RAM + 2]] as const) {
    const d = new TestDriver(new VirtioRng());
    assert.ok(d.init());
    d.setReg(0x44, 0);
    d.setReg(reg, addr);
    d.setReg(0x44, 1);
    assert.equal(d.needsReset, true, `register 0x${reg.toString(16)} = 0x${addr.toString(16)}`);
  }
});

test("random descriptor tables never raise a host exception", () => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const d = new TestDriver(new VirtioRng());
    assert.ok(d.init(F_VERSION_1 | F_INDIRECT | F_EVENT_IDX));
    const q = d.queues[0];
    for (let i = 0; i < 16; i++) {
      const addr = [RAM + rnd(8 << 20), rnd(2 ** 32), RAM + (1 << 20) + 16 * rnd(64)][rnd(3)];
      d.writeDesc(q.desc, i, { addr, len: rnd(4) === 0 ? rnd(2 ** 32) : rnd(256), flags: rnd(8), next: rnd(20) });
    }
    for (let k = 0; k < 1 + rnd(4); k++) d.makeAvailable(0, rnd(20));
    assert.doesNotThrow(() => d.notify(0));
  }
});

/**
 * A queue of 8 with the event index, driven directly: four chains made
 * available, two taken and returned, the interrupt decided after the first
 * only, so the driver has not been told of the second.
 */
function queueMidOperation(): { d: TestDriver; q: Virtqueue } {
  const d = new TestDriver(undefined); // its RAM and driver helpers only
  const layout = { desc: RAM, avail: RAM + 0x4000, used: RAM + 0x8000, size: 8, availIdx: 0 };
  d.queues.push(layout);
  const q = new Virtqueue(d.mem, 16);
  q.size = layout.size;
  q.descAddr = layout.desc;
  q.availAddr = layout.avail;
  q.usedAddr = layout.used;
  q.eventIdx = true;
  q.validate();
  q.ready = true;
  d.mem.writeU16(layout.avail + 4 + 2 * layout.size, 0); // used_event
  for (let k = 0; k < 4; k++) d.offer(0, [{ addr: d.buffer(16), len: 16, flags: WRITE }, { addr: d.buffer(8), len: 8, flags: WRITE }], 2 * k);
  q.push(q.pop()!, 10);
  assert.equal(q.shouldInterrupt(), true);
  q.push(q.pop()!, 24);
  return { d, q };
}

/** The same device-side steps after a checkpoint, on the original and on the restored queue. */
function carryOnQueue(d: TestDriver, q: Virtqueue): unknown[] {
  const seen: unknown[] = [q.pending(), q.shouldInterrupt()];
  for (let c = q.pop(); c !== undefined; c = q.pop()) {
    seen.push(c);
    q.push(c, c.head);
  }
  seen.push(q.shouldInterrupt());
  const { avail, used, size } = d.queues[0];
  d.mem.writeU16(avail + 4 + 2 * size, 4); // used_event: the driver has seen 4 and wants the next
  d.offer(0, [{ addr: d.buffer(4), len: 4, flags: WRITE }], 0);
  q.push(q.pop()!, 4);
  seen.push(q.shouldInterrupt(), d.usedIdx(0));
  seen.push(d.mem.readBytes(used, 6 + 8 * size + 2)); // the used ring and avail_event
  return seen;
}

test("a virtqueue restored from a JSON checkpoint carries on as the original: chains in flight, used entries unsignalled", () => {
  const a = queueMidOperation();
  const saved = JSON.parse(JSON.stringify(a.q.saveState())) as unknown;
  const d = new TestDriver(undefined);
  d.resumeFrom(a.d);
  const q = new Virtqueue(d.mem, 16);
  q.restoreState(saved);
  const expected = carryOnQueue(a.d, a.q);
  assert.deepEqual(expected.slice(0, 2), [2, false], "two chains left; nothing to signal yet");
  assert.deepEqual(expected.slice(4, 7), [false, true, 5]);
  assert.deepEqual(carryOnQueue(d, q), expected);
});

test("a queue the driver has not enabled keeps whatever it was given, up to 64-bit addresses", () => {
  const d = new TestDriver(undefined);
  const q = new Virtqueue(d.mem, 64);
  q.size = 0xffff_ffff;
  q.descAddr = 0xffff_ffff * 2 ** 32 + 0x1234; // as the transport puts QueueDescHigh and QueueDescLow together
  const saved = JSON.parse(JSON.stringify(q.saveState())) as unknown;
  const fresh = new Virtqueue(d.mem, 64);
  fresh.restoreState(saved);
  assert.deepEqual(fresh.saveState(), q.saveState());
});

test("a bad virtqueue record is refused with its field named and changes nothing", () => {
  const good = queueMidOperation().q.saveState();
  const cases: [unknown, RegExp][] = [
    [{ ...good, v: 0 }, /^virtqueue: saved state version 0 is not 1$/],
    [{ ...good, usedIdx: 0x10000 }, /^virtqueue: field 'usedIdx' is not an integer in \[0, 65535\]$/],
    [{ ...good, availAddr: RAM + 0.5 }, /^virtqueue: field 'availAddr' is not an integer in \[0, 18446744073709552000\]$/],
    [{ ...good, eventIdx: "yes" }, /^virtqueue: field 'eventIdx' is not a boolean$/],
    [Object.fromEntries(Object.entries(good).filter(([k]) => k !== "signalledUsed")), /^virtqueue: field 'signalledUsed' is missing$/],
    [{ ...good, descAddr: RAM + 8 }, /^virtqueue: field 'ready' is true but descriptor table at 0x80000008 is not 16-byte aligned$/],
    [{ ...good, size: 17 }, /^virtqueue: field 'ready' is true but queue size 17 is not in 1..16$/],
    [{ ...good, usedAddr: RAM + (4 << 20) - 16 }, /^virtqueue: field 'ready' is true but used ring \[0x803ffff0, \+70\) is outside guest RAM$/],
  ];
  for (const [bad, message] of cases) {
    const { q } = queueMidOperation();
    const before = q.saveState();
    assert.throws(() => q.restoreState(bad), (e: Error) => e.name === "StateError" && message.test(e.message), String(message));
    assert.deepEqual(q.saveState(), before, "unchanged");
  }
  const { q } = queueMidOperation();
  q.restoreState({ ...good, ready: false, size: 0, descAddr: 0 });
  assert.equal(q.ready, false, "a queue not ready may hold anything the driver wrote");
});
