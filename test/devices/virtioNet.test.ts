// virtio-net driven by the driver-side mock: frames both ways, the receive
// backlog while the driver has posted no buffers, and its limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { VirtioNet } from "../../src/devices/virtio/net.js";
import { TestDriver, WRITE } from "../support/virtioDriver.js";

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
