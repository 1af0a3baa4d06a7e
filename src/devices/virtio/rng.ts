/**
 * virtio-rng (virtio 1.2 §5.4): every buffer the driver offers is filled
 * from the host's cryptographic random source.
 */
import { randomFillSync } from "node:crypto";
import { ActiveDevice, type VirtioDevice } from "./device.js";
import { writeChain } from "./virtqueue.js";

/** Bytes given per request at most; the driver asks again for more. */
const MAX_REQUEST = 64 * 1024;

export class VirtioRng extends ActiveDevice implements VirtioDevice {
  readonly name = "virtio-rng";
  readonly deviceId = 4;
  readonly queueSizes = [64];
  readonly features = 0n;
  readonly config = new Uint8Array(0);

  process(queue: number): void {
    const ctx = this.ctx;
    if (ctx === undefined || queue !== 0) return;
    const q = ctx.queue(0);
    for (let chain = q.pop(); chain !== undefined; chain = q.pop()) {
      const bytes = randomFillSync(new Uint8Array(Math.min(chain.writableBytes, MAX_REQUEST)));
      q.push(chain, writeChain(ctx.mem, chain, 0, bytes));
    }
    ctx.usedBuffers(0);
  }
}
