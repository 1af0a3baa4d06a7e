/**
 * virtio-net (virtio 1.2 §5.1): queue 0 receives, queue 1 transmits; every
 * packet is preceded by a 12-byte virtio_net_hdr (§5.1.6). No offloads are
 * offered, so frames cross complete with their checksums. Frames from the
 * host wait in a bounded backlog until the driver posts receive buffers;
 * beyond it they are dropped, as a full NIC ring would.
 */
import { ActiveDevice, bit, type VirtioContext, type VirtioDevice } from "./device.js";
import { readChain, writeChain } from "./virtqueue.js";
import { StateReader, base64, type Saved } from "../../state/savedState.js";

const RX = 0;
const TX = 1;
const QUEUE_SIZE = 256;
const HDR_BYTES = 12;
/** Largest frame taken from either side: an Ethernet frame with VLAN tag and room to spare. */
const MAX_FRAME = 65_550;
const BACKLOG_FRAMES = 512;
const STATE_VERSION = 1;

/** Feature bits (§5.1.3). */
const F_MAC = 5n;
const F_STATUS = 16n;
const LINK_UP = 1;

export class VirtioNet extends ActiveDevice implements VirtioDevice {
  readonly name = "virtio-net";
  readonly deviceId = 1;
  readonly queueSizes = [QUEUE_SIZE, QUEUE_SIZE];
  readonly features = bit(F_MAC) | bit(F_STATUS);
  readonly config = new Uint8Array(8);
  private readonly backlog: Uint8Array[] = [];
  /** Frames dropped because the guest had no receive buffers. */
  dropped = 0;

  /** @param transmit takes each frame the guest sends */
  constructor(
    mac: Uint8Array,
    private readonly transmit: (frame: Uint8Array) => void,
  ) {
    super();
    this.config.set(mac.subarray(0, 6), 0);
    this.config[6] = LINK_UP;
  }

  override reset(): void {
    super.reset();
    this.backlog.length = 0;
  }

  /** The frames not yet delivered (the rest is in the transport and guest RAM). */
  saveState(): Saved {
    return { v: STATE_VERSION, backlog: this.backlog.map((f) => base64(f)), dropped: this.dropped };
  }

  restoreState(saved: unknown): void {
    const r = StateReader.open(this.name, saved, STATE_VERSION);
    const backlog = r.byteStrings("backlog", 0, BACKLOG_FRAMES, MAX_FRAME);
    const dropped = r.int("dropped", 0, Number.MAX_SAFE_INTEGER);
    this.backlog.splice(0, this.backlog.length, ...backlog);
    this.dropped = dropped;
  }

  /** A frame from the host side for the guest. */
  deliver(frame: Uint8Array): void {
    if (this.ctx === undefined) return;
    if (this.backlog.length >= BACKLOG_FRAMES || frame.length > MAX_FRAME) {
      this.dropped++;
      return;
    }
    this.backlog.push(frame);
    this.ctx.kick(RX);
  }

  process(queue: number): void {
    const ctx = this.ctx;
    if (ctx === undefined) return;
    if (queue === TX) this.send(ctx);
    else if (queue === RX) this.receive(ctx);
  }

  private send(ctx: VirtioContext): void {
    const q = ctx.queue(TX);
    for (let chain = q.pop(); chain !== undefined; chain = q.pop()) {
      const len = chain.readableBytes - HDR_BYTES;
      const frame = len > 0 && len <= MAX_FRAME ? readChain(ctx.mem, chain, HDR_BYTES, len) : undefined;
      q.push(chain, 0);
      if (frame !== undefined) this.transmit(frame);
    }
    ctx.usedBuffers(TX);
  }

  private receive(ctx: VirtioContext): void {
    const q = ctx.queue(RX);
    let pushed = false;
    while (this.backlog.length > 0) {
      const chain = q.pop();
      if (chain === undefined) break;
      const frame = this.backlog.shift() as Uint8Array;
      const packet = new Uint8Array(HDR_BYTES + frame.length);
      packet[10] = 1; // num_buffers
      packet.set(frame, HDR_BYTES);
      if (packet.length > chain.writableBytes) {
        this.dropped++;
        q.push(chain, 0);
      } else {
        q.push(chain, writeChain(ctx.mem, chain, 0, packet));
      }
      pushed = true;
    }
    if (pushed) ctx.usedBuffers(RX);
  }
}
