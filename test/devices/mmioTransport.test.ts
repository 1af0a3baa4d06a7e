// Checkpoints of the virtio-mmio transport: which records it refuses (another
// device in the slot, another number of queues, a bad field anywhere inside),
// empty slots, the configuration space, and restoring over a running device.
// virtioBlk.test.ts and virtioNet.test.ts carry devices on across a checkpoint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ActiveDevice, type VirtioDevice } from "../../src/devices/virtio/device.js";
import { VirtioNet } from "../../src/devices/virtio/net.js";
import { VirtioRng } from "../../src/devices/virtio/rng.js";
import type { Saved } from "../../src/state/savedState.js";
import { TestDriver, WRITE } from "../support/virtioDriver.js";

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);

/** A virtio-net slot with the driver up; `traffic` sends a frame and receives one. */
function net(traffic: boolean, mac = MAC): { d: TestDriver; nic: VirtioNet } {
  const nic = new VirtioNet(mac, () => {});
  const d = new TestDriver(nic);
  assert.ok(d.init());
  if (traffic) {
    d.offer(1, [{ addr: d.buffer(60), len: 60 }]);
    d.notify(1);
    d.offer(0, [{ addr: d.buffer(2048), len: 2048, flags: WRITE }]);
    d.notify(0);
    nic.deliver(new Uint8Array(60));
  }
  return { d, nic };
}

const without = (rec: Saved, field: string): Saved => Object.fromEntries(Object.entries(rec).filter(([k]) => k !== field));

test("a bad transport record is refused with its field named and changes nothing, queues included", () => {
  const good = net(true).d.transport.saveState();
  const queues = good.queues as Saved[];
  const cases: [unknown, RegExp][] = [
    [{ ...good, v: 3 }, /^virtio-net: saved state version 3 is not 1$/],
    [new TestDriver(new VirtioRng()).transport.saveState(), /^virtio-net: field 'deviceId' is 4 in the checkpoint but 1 on this machine$/],
    [new TestDriver(undefined).transport.saveState(), /^virtio-net: field 'deviceId' is 0 in the checkpoint but 1 on this machine$/],
    [{ ...good, queues: [queues[0]] }, /^virtio-net: field 'queues' is a list of 1, not 2$/],
    [{ ...good, queues: [queues[0], { ...queues[1], usedIdx: -1 }] }, /^virtio-net\.queues\[1\]: field 'usedIdx' is not an integer in \[0, 65535\]$/],
    [{ ...good, queues: [{ ...queues[0], descAddr: 0x1000 }, queues[1]] }, /^virtio-net\.queues\[0\]: field 'ready' is true but descriptor table \[0x1000, \+256\) is outside guest RAM$/],
    [{ ...good, interruptStatus: 4 }, /^virtio-net: field 'interruptStatus' is not an integer in \[0, 3\]$/],
    [{ ...good, driverFeatures: "0x100002000" }, /^virtio-net: field 'driverFeatures' has 0x2000, not offered by this virtio-net$/],
    [{ ...good, driverFeatures: 1 }, /^virtio-net: field 'driverFeatures' is not a 64-bit hex value$/],
    [{ ...good, config: "AAAAAAAAAA==" }, /^virtio-net: field 'config' holds 7 bytes, not 8$/],
    [without(good, "status"), /^virtio-net: field 'status' is missing$/],
  ];
  for (const [bad, message] of cases) {
    const { d } = net(false); // queues ready, indices at 0: unlike `good`
    const before = d.transport.saveState();
    d.irq.level = true; // to see whether the line is driven
    assert.throws(() => d.transport.restoreState(bad), (e: Error) => e.name === "StateError" && message.test(e.message), String(message));
    assert.deepEqual(d.transport.saveState(), before, "unchanged");
    assert.equal(d.irq.level, true, "the line is left alone");
  }
});

test("an empty slot saves only its DeviceID 0 and refuses a device's record", () => {
  const empty = new TestDriver(undefined);
  const saved = empty.transport.saveState();
  assert.deepEqual(saved, { v: 1, deviceId: 0 });
  empty.transport.restoreState(JSON.parse(JSON.stringify(saved)));
  assert.throws(() => empty.transport.restoreState(net(true).d.transport.saveState()), /^StateError: virtio-mmio: field 'deviceId' is 1 in the checkpoint but 0 on this machine$/);
});

/** A device whose configuration the driver may write. */
class Scratchpad extends ActiveDevice implements VirtioDevice {
  readonly name = "scratchpad";
  readonly deviceId = 42;
  readonly features = 0n;
  readonly queueSizes = [8];
  readonly config = new Uint8Array(4);
  configWritten(): void {}
  process(): void {}
}

test("the configuration space is restored where the driver may write it; elsewhere it describes this device", () => {
  const a = new TestDriver(new Scratchpad());
  a.setReg(0x100, 0x1234_5678);
  const b = new TestDriver(new Scratchpad());
  b.transport.restoreState(JSON.parse(JSON.stringify(a.transport.saveState())));
  assert.equal(b.reg(0x100), 0x1234_5678);

  const other = net(false, Uint8Array.of(2, 0, 0, 0, 0, 1));
  other.d.transport.restoreState(net(true).d.transport.saveState());
  assert.equal(other.d.reg(0x100), 0x0000_0002, "this NIC's MAC");
});

test("restoring a record of a device the driver never started resets a running one", () => {
  const { d, nic } = net(true);
  nic.deliver(new Uint8Array(60)); // no receive buffer: waits in the backlog
  assert.equal((nic.saveState().backlog as string[]).length, 1);
  d.transport.restoreState(new TestDriver(new VirtioNet(MAC, () => {})).transport.saveState());
  assert.equal(d.irq.level, false);
  assert.equal(d.reg(0x70), 0);
  nic.deliver(new Uint8Array(60));
  assert.deepEqual(nic.saveState().backlog, [], "not active: frames are not taken");
});

test("a device with no state of its own (virtio-rng) is restored by the transport alone", () => {
  const a = new TestDriver(new VirtioRng());
  assert.ok(a.init());
  a.offer(0, [{ addr: a.buffer(16), len: 16, flags: WRITE }]);
  a.notify(0);
  const saved = JSON.parse(JSON.stringify(a.transport.saveState())) as Saved;
  assert.equal(saved.device, undefined);
  const b = new TestDriver(new VirtioRng());
  b.resumeFrom(a);
  b.transport.restoreState(saved);
  b.offer(0, [{ addr: b.buffer(8), len: 8, flags: WRITE }], 1);
  b.notify(0);
  assert.deepEqual([b.usedIdx(0), b.used(0, 1)], [2, { id: 1, len: 8 }]);
});
