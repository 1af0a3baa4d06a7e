/**
 * The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2): the register
 * block QEMU's virt machine puts at 0x1000_1000 + n·0x1000. It wraps any
 * `VirtioDevice`; a slot with no device reads DeviceID 0, as in QEMU, so the
 * device tree can describe every slot.
 *
 * A device that finds the driver's rings or chains malformed is marked
 * DEVICE_NEEDS_RESET (§2.1.2) and goes quiet until the driver resets it.
 */
import type { MmioDevice } from "../bus.js";
import type { IrqLine } from "../irq.js";
import type { GuestMemory } from "../../memory/guestMemory.js";
import { Virtqueue, VirtqueueError } from "./virtqueue.js";
import { StateReader, base64, hex64, type Saved, type Stateful } from "../../state/savedState.js";
import {
  VIRTIO_F_RING_EVENT_IDX,
  VIRTIO_F_RING_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  bit,
  type VirtioContext,
  type VirtioDevice,
} from "./device.js";

const MAGIC = 0x74726976; // "virt"
const VENDOR_QEMU = 0x554d4551; // "QEMU", what Linux and firmware see on QEMU's virt
const TRANSPORT_FEATURES = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_RING_INDIRECT_DESC) | bit(VIRTIO_F_RING_EVENT_IDX);

const STATE_VERSION = 1;
const U32_MAX = 0xffff_ffff;

/** Device status bits (§2.1). */
export const Status = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** InterruptStatus bits (§4.2.2). */
const INT_USED_BUFFER = 1;
const INT_CONFIG_CHANGE = 2;

/**
 * The QueueNotify register's offset: a write the driver never waits for
 * (its effect shows in the used ring and an interrupt), so a hart may post
 * it and run on (src/vmm/smp/mmioMailbox.ts).
 */
export const QUEUE_NOTIFY = 0x050;

/** Register offsets (§4.2.2, table "MMIO Device Register Layout"). */
const enum Reg {
  MagicValue = 0x000,
  Version = 0x004,
  DeviceID = 0x008,
  VendorID = 0x00c,
  DeviceFeatures = 0x010,
  DeviceFeaturesSel = 0x014,
  DriverFeatures = 0x020,
  DriverFeaturesSel = 0x024,
  QueueSel = 0x030,
  QueueNumMax = 0x034,
  QueueNum = 0x038,
  QueueReady = 0x044,
  QueueNotify = 0x050,
  InterruptStatus = 0x060,
  InterruptACK = 0x064,
  Status = 0x070,
  QueueDescLow = 0x080,
  QueueDescHigh = 0x084,
  QueueDriverLow = 0x090,
  QueueDriverHigh = 0x094,
  QueueDeviceLow = 0x0a0,
  QueueDeviceHigh = 0x0a4,
  SHMLenLow = 0x0b0,
  SHMLenHigh = 0x0b4,
  SHMBaseLow = 0x0b8,
  SHMBaseHigh = 0x0bc,
  ConfigGeneration = 0x0fc,
  Config = 0x100,
}

export class MmioTransport implements MmioDevice, Stateful {
  private readonly queues: Virtqueue[];
  private status = 0;
  private interruptStatus = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures = 0n;
  private queueSel = 0;
  private configGeneration = 0;
  private readonly ctx: VirtioContext;

  /**
   * @param onBroken told (once per reset) why the device was marked DEVICE_NEEDS_RESET
   */
  constructor(
    mem: GuestMemory,
    private readonly irq: IrqLine,
    readonly device: VirtioDevice | undefined,
    private readonly onBroken: (device: VirtioDevice, reason: string) => void = () => {},
  ) {
    this.queues = (device?.queueSizes ?? []).map((n) => new Virtqueue(mem, n));
    this.ctx = {
      mem,
      queue: (i) => this.queues[i],
      usedBuffers: (i) => {
        if (this.queues[i].shouldInterrupt()) this.raise(INT_USED_BUFFER);
      },
      kick: (i) => this.process(i),
    };
  }

  get broken(): boolean {
    return (this.status & Status.DEVICE_NEEDS_RESET) !== 0;
  }

  private get offered(): bigint {
    return this.device === undefined ? 0n : this.device.features | TRANSPORT_FEATURES;
  }

  private raise(bits: number): void {
    this.interruptStatus |= bits;
    this.irq.set(true);
  }

  private fail(reason: string): void {
    if (this.broken || this.device === undefined) return;
    this.status |= Status.DEVICE_NEEDS_RESET;
    this.raise(INT_CONFIG_CHANGE);
    this.onBroken(this.device, reason);
  }

  /** Runs the device on a queue, turning a malformed-ring error into DEVICE_NEEDS_RESET. */
  private process(q: number): void {
    const dev = this.device;
    if (dev === undefined || this.broken || !(this.status & Status.DRIVER_OK)) return;
    if (q >= this.queues.length || !this.queues[q].ready) return;
    try {
      dev.process(q);
    } catch (e) {
      if (!(e instanceof VirtqueueError)) throw e;
      this.fail(e.message);
    }
  }

  private reset(): void {
    this.device?.reset();
    for (const q of this.queues) q.reset();
    this.status = this.interruptStatus = 0;
    this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
    this.driverFeatures = 0n;
    this.irq.set(false);
  }

  read(offset: number, size: number): number | bigint {
    if (offset >= Reg.Config) return this.readConfig(offset - Reg.Config, size);
    if (size !== 4 || offset % 4 !== 0) return 0;
    const q = this.queues[this.queueSel] as Virtqueue | undefined;
    switch (offset) {
      case Reg.MagicValue:
        return MAGIC;
      case Reg.Version:
        return 2;
      case Reg.DeviceID:
        return this.device?.deviceId ?? 0;
      case Reg.VendorID:
        return VENDOR_QEMU;
      case Reg.DeviceFeatures:
        return this.deviceFeaturesSel > 1 ? 0 : Number((this.offered >> BigInt(32 * this.deviceFeaturesSel)) & 0xffffffffn);
      case Reg.QueueNumMax:
        return q?.maxSize ?? 0;
      case Reg.QueueReady:
        return q?.ready ? 1 : 0;
      case Reg.InterruptStatus:
        return this.interruptStatus;
      case Reg.Status:
        return this.status;
      case Reg.SHMLenLow:
      case Reg.SHMLenHigh:
        return 0xffffffff; // no shared memory regions (§4.2.2)
      case Reg.SHMBaseLow:
      case Reg.SHMBaseHigh:
        return 0xffffffff;
      case Reg.ConfigGeneration:
        return this.configGeneration;
      default:
        return 0;
    }
  }

  private readConfig(offset: number, size: number): number | bigint {
    const c = this.device?.config;
    if (c === undefined || offset + size > c.length) return 0;
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(c[offset + k]);
    return size === 8 ? v : Number(v);
  }

  write(offset: number, size: number, value: number | bigint): void {
    const v = Number(BigInt.asUintN(32, BigInt(value)));
    if (offset >= Reg.Config) return this.writeConfig(offset - Reg.Config, size, BigInt(value));
    if (size !== 4 || offset % 4 !== 0 || this.device === undefined) return;
    const q = this.queues[this.queueSel] as Virtqueue | undefined;
    switch (offset) {
      case Reg.DeviceFeaturesSel:
        this.deviceFeaturesSel = v;
        return;
      case Reg.DriverFeaturesSel:
        this.driverFeaturesSel = v;
        return;
      case Reg.DriverFeatures:
        if (this.driverFeaturesSel <= 1 && !(this.status & Status.FEATURES_OK)) {
          const shift = BigInt(32 * this.driverFeaturesSel);
          this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v) << shift);
        }
        return;
      case Reg.QueueSel:
        this.queueSel = v;
        return;
      case Reg.QueueNum:
        if (q !== undefined && !q.ready) q.size = v;
        return;
      case Reg.QueueDescLow:
      case Reg.QueueDescHigh:
      case Reg.QueueDriverLow:
      case Reg.QueueDriverHigh:
      case Reg.QueueDeviceLow:
      case Reg.QueueDeviceHigh:
        if (q !== undefined && !q.ready) setQueueAddress(q, offset, v);
        return;
      case Reg.QueueReady:
        if (q === undefined) return;
        if (v === 0) {
          q.ready = false;
          return;
        }
        try {
          q.eventIdx = (this.driverFeatures & bit(VIRTIO_F_RING_EVENT_IDX)) !== 0n;
          q.validate();
          q.ready = true;
        } catch (e) {
          if (!(e instanceof VirtqueueError)) throw e;
          this.fail(`queue ${this.queueSel}: ${e.message}`);
        }
        return;
      case Reg.QueueNotify:
        this.process(v & 0xffff);
        return;
      case Reg.InterruptACK:
        this.interruptStatus &= ~v;
        if (this.interruptStatus === 0) this.irq.set(false);
        return;
      case Reg.Status:
        this.writeStatus(v & 0xff);
        return;
      default:
        return;
    }
  }

  private writeStatus(v: number): void {
    if (v === 0) return this.reset();
    const was = this.status;
    let next = v | (was & Status.DEVICE_NEEDS_RESET);
    // §2.2.2: FEATURES_OK only for a subset of what was offered that includes VERSION_1 (§6.1).
    if (next & Status.FEATURES_OK && !(was & Status.FEATURES_OK)) {
      const ok = (this.driverFeatures & ~this.offered) === 0n && (this.driverFeatures & bit(VIRTIO_F_VERSION_1)) !== 0n;
      if (!ok) next &= ~Status.FEATURES_OK;
    }
    this.status = next;
    if (next & Status.DRIVER_OK && !(was & Status.DRIVER_OK) && this.device !== undefined) {
      this.device.activate(this.ctx);
      // Buffers the driver made available before DRIVER_OK.
      for (let i = 0; i < this.queues.length; i++) this.process(i);
    }
  }

  private writeConfig(offset: number, size: number, value: bigint): void {
    const dev = this.device;
    if (dev?.configWritten === undefined || offset + size > dev.config.length) return;
    for (let k = 0; k < size; k++) dev.config[offset + k] = Number((value >> BigInt(8 * k)) & 0xffn);
    dev.configWritten(offset, size);
  }

  /**
   * The transport's registers, its queues, the configuration space and the
   * device's own state. An empty slot has none: only its DeviceID 0.
   */
  saveState(): Saved {
    const dev = this.device;
    if (dev === undefined) return { v: STATE_VERSION, deviceId: 0 };
    const saved: Saved = {
      v: STATE_VERSION,
      deviceId: dev.deviceId,
      status: this.status,
      interruptStatus: this.interruptStatus,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: hex64(this.driverFeatures),
      queueSel: this.queueSel,
      configGeneration: this.configGeneration,
      queues: this.queues.map((q) => q.saveState()),
      config: base64(dev.config),
    };
    if (dev.saveState !== undefined) saved.device = dev.saveState();
    return saved;
  }

  restoreState(saved: unknown): void {
    const dev = this.device;
    const r = StateReader.open(dev?.name ?? "virtio-mmio", saved, STATE_VERSION);
    // Another device in the slot means the VM's device set changed.
    r.same("deviceId", dev?.deviceId ?? 0);
    if (dev === undefined) return;
    const status = r.int("status", 0, 0xff);
    const interruptStatus = r.int("interruptStatus", 0, INT_USED_BUFFER | INT_CONFIG_CHANGE);
    const deviceFeaturesSel = r.int("deviceFeaturesSel", 0, U32_MAX);
    const driverFeaturesSel = r.int("driverFeaturesSel", 0, U32_MAX);
    const driverFeatures = r.u64("driverFeatures");
    // §2.2.2: what the driver accepted, this device must offer (a disk now read-only does not).
    if (status & Status.FEATURES_OK && (driverFeatures & ~this.offered) !== 0n) {
      r.fail("driverFeatures", `has ${hex64(driverFeatures & ~this.offered)}, not offered by this ${dev.name}`);
    }
    const queueSel = r.int("queueSel", 0, U32_MAX);
    const configGeneration = r.int("configGeneration", 0, U32_MAX);
    const n = this.queues.length;
    const queues = r.list("queues", n, n).map((q, i) => this.queues[i].checkState(q, `${r.what}.queues[${i}]`));
    const config = r.bytes("config", dev.config.length);
    if (config.length !== dev.config.length) r.fail("config", `holds ${config.length} bytes, not ${dev.config.length}`);
    // The device checks its record before changing anything: the last step that may fail.
    dev.restoreState?.(r.raw("device"));
    this.status = status;
    this.interruptStatus = interruptStatus;
    this.deviceFeaturesSel = deviceFeaturesSel;
    this.driverFeaturesSel = driverFeaturesSel;
    this.driverFeatures = driverFeatures;
    this.queueSel = queueSel;
    this.configGeneration = configGeneration;
    for (const restore of queues) restore();
    // Only what the driver may write; the rest describes this device (its disk's size, its MAC).
    if (dev.configWritten !== undefined) dev.config.set(config);
    // Active from DRIVER_OK to the next reset, as writeStatus makes it, even when
    // DEVICE_NEEDS_RESET (then process() refuses it); queues wait for a notification.
    if (status & Status.DRIVER_OK) dev.activate(this.ctx);
    else dev.reset();
    // Drive the line, changed or not: a fresh machine's PLIC has not seen it.
    this.irq.set(interruptStatus !== 0);
  }

  /** Tells the driver the configuration space changed (§4.2.3.3). */
  configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if (this.status & Status.DRIVER_OK) this.raise(INT_CONFIG_CHANGE);
  }
}

function setQueueAddress(q: Virtqueue, reg: Reg, v: number): void {
  const high = (reg & 4) !== 0;
  const set = (old: number): number => (high ? (old % 0x1_0000_0000) + v * 0x1_0000_0000 : old - (old % 0x1_0000_0000) + v);
  if (reg === Reg.QueueDescLow || reg === Reg.QueueDescHigh) q.descAddr = set(q.descAddr);
  else if (reg === Reg.QueueDriverLow || reg === Reg.QueueDriverHigh) q.availAddr = set(q.availAddr);
  else q.usedAddr = set(q.usedAddr);
}
