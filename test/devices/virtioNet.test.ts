// virtio-net driven by the driver-side mock: frames both ways, the receive
// backlog while the driver has posted no buffers, and its limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioNet } from "../../src/devices/virtio/net.js";
import { RAM, TestDriver, WRITE } from "../support/virtioDriver.js";

const MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const HDR = 12;

/** A driver with virtio-net up; `sent` collects what the guest transmits. */
function nic(): { d: TestDriver; net: VirtioNet; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const net = new VirtioNet(MAC, (f) => sent.push(f));
  const d = new TestDriver(net);
  assert.ok(d.init());
  return { d, net, sent };
}

/** Posts `n` receive buffers of `len` bytes at descriptor heads from `first` on. */
function postReceive(d: TestDriver, n: number, len = 2048, first = 0): number[] {
  const bufs: number[] = [];
  for (let k = 0; k < n; k++) {
    bufs.push(d.buffer(len));
    d.offer(0, [{ addr: bufs[k], len, flags: WRITE }], first + k);
  }
  d.notify(0);
  return bufs;
}

const frame = (len: number, seed: number): Uint8Array => Uint8Array.from({ length: len }, (_, k) => (k * 31 + seed) & 0xff);

test("frames wait in the backlog until the driver posts buffers; oversized ones are dropped", () => {
  const { d, net } = nic();
  net.deliver(frame(60, 1));
  net.deliver(frame(65_551, 2));
  net.deliver(frame(1514, 3));
  assert.equal(d.usedIdx(0), 0);
  assert.equal(net.dropped, 1, "larger than any Ethernet frame");
  const bufs = postReceive(d, 2);
  assert.equal(d.usedIdx(0), 2);
  assert.deepEqual(d.used(0, 1), { id: 1, len: HDR + 1514 });
  assert.deepEqual(d.mem.readBytes(bufs[0] + HDR, 60), frame(60, 1));
  assert.equal(d.mem.readU8(bufs[0] + 10), 1, "num_buffers");
});

/** A NIC mid-conversation: a frame sent, one received, two waiting in the backlog with no receive buffers, one dropped; the interrupt not acknowledged. */
function nicMidOperation(): ReturnType<typeof nic> {
  const n = nic();
  n.d.offer(1, [{ addr: n.d.buffer(HDR + 42, new Uint8Array(HDR + 42).fill(7)), len: HDR + 42 }]);
  n.d.notify(1);
  postReceive(n.d, 1);
  for (const [len, seed] of [[60, 1], [1514, 2], [70_000, 3], [98, 4]]) n.net.deliver(frame(len, seed));
  return n;
}

/** The same steps after a checkpoint, on the original and on the restored NIC: interrupts, receive completions and contents, transmissions. */
function carryOnNic({ d, net, sent }: ReturnType<typeof nic>): unknown[] {
  const seen: unknown[] = [d.irq.level, d.reg(0x60), net.dropped];
  d.setReg(0x64, 1);
  const bufs = postReceive(d, 3, 2048, 1);
  seen.push(d.irq.level, d.usedIdx(0), d.used(0, 1), d.used(0, 2));
  net.deliver(frame(200, 5));
  seen.push(d.usedIdx(0), d.used(0, 3), ...bufs.map((b) => d.mem.readBytes(b, 300)));
  d.offer(1, [{ addr: d.buffer(HDR + 60, frame(HDR + 60, 6)), len: HDR + 60 }], 1);
  d.notify(1);
  seen.push(sent, d.usedIdx(1));
  return seen;
}

test("virtio-net restored from a JSON checkpoint delivers its backlog and carries on as the original", () => {
  const a = nicMidOperation();
  assert.equal(a.d.usedIdx(0), 1);
  const saved = JSON.parse(JSON.stringify(a.d.transport.saveState())) as unknown;
  const b = { d: undefined as unknown as TestDriver, net: undefined as unknown as VirtioNet, sent: [] as Uint8Array[] };
  b.net = new VirtioNet(MAC, (f) => b.sent.push(f));
  b.d = new TestDriver(b.net);
  b.d.resumeFrom(a.d);
  b.d.transport.restoreState(saved);
  b.sent.push(...a.sent); // what went out before the checkpoint
  const expected = carryOnNic(a);
  assert.deepEqual(expected.slice(0, 7), [true, 1, 1, true, 3, { id: 1, len: HDR + 1514 }, { id: 2, len: HDR + 98 }]);
  assert.deepEqual(expected.slice(7, 9), [4, { id: 3, len: HDR + 200 }]);
  assert.deepEqual(carryOnNic(b), expected);
  assert.ok(Buffer.from(a.d.mem.readBytes(RAM, a.d.mem.size)).equals(b.d.mem.readBytes(RAM, b.d.mem.size)), "the same guest RAM");
});

test("a bad virtio-net record is refused with its field named and changes nothing", () => {
  const good = nicMidOperation().d.transport.saveState();
  const device = good.device as { backlog: string[] };
  const big = Buffer.alloc(65_551).toString("base64");
  const cases: [unknown, RegExp][] = [
    [{ ...good, device: { ...device, backlog: [device.backlog[0], big] } }, /^virtio-net: field 'backlog' \[1\] is not base64 of at most 65550 bytes$/],
    [{ ...good, device: { ...device, backlog: new Array(513).fill(device.backlog[0]) } }, /^virtio-net: field 'backlog' is a list of 513, not 0 to 512$/],
    [{ ...good, device: { ...device, dropped: -1 } }, /^virtio-net: field 'dropped' is not an integer in \[0, 9007199254740991\]$/],
    [{ ...good, device: { ...device, v: 2 } }, /^virtio-net: saved state version 2 is not 1$/],
    [Object.fromEntries(Object.entries(good).filter(([k]) => k !== "device")), /^virtio-net: field 'device' is missing$/],
  ];
  for (const [bad, message] of cases) {
    const { d, net } = nic();
    d.transport.restoreState(good);
    const before = d.transport.saveState();
    const level = d.irq.level;
    d.irq.level = !level; // to see whether the line is driven
    assert.throws(() => d.transport.restoreState(bad), (e: Error) => e.name === "StateError" && message.test(e.message), String(message));
    assert.deepEqual(d.transport.saveState(), before, "unchanged");
    assert.equal(d.irq.level, !level, "the line is left alone");
    assert.equal(net.dropped, 1);
  }
});
