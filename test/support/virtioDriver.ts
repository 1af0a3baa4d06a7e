/**
 * A driver-side mock for virtio tests: lays out a split virtqueue in guest
 * memory and drives an `MmioTransport` through its registers, the way
 * Linux's virtio_mmio and virtio_ring do (virtio 1.2 §3.1, §2.7.13).
 */
import { GuestMemory } from "../../src/memory/guestMemory.js";
import { MmioTransport } from "../../src/devices/virtio/mmioTransport.js";
import type { VirtioDevice } from "../../src/devices/virtio/device.js";

export const RAM = 0x8000_0000;
export const F_INDIRECT = 1n << 28n;
export const F_EVENT_IDX = 1n << 29n;
export const F_VERSION_1 = 1n << 32n;

export interface Desc {
  addr: number;
  len: number;
  flags?: number;
  next?: number;
}
export const NEXT = 1;
export const WRITE = 2;
export const INDIRECT = 4;

export class TestIrq {
  level = false;
  raised = 0;
  set(level: boolean): void {
    if (level && !this.level) this.raised++;
    this.level = level;
  }
}

export class TestDriver {
  readonly mem = new GuestMemory(RAM, 4 << 20);
  readonly irq = new TestIrq();
  readonly transport: MmioTransport;
  readonly broken: string[] = [];
  /** Per queue: descriptor table, available and used ring addresses, size, next avail index. */
  readonly queues: { desc: number; avail: number; used: number; size: number; availIdx: number }[] = [];
  /** Scratch area for buffers: tests allocate from here. */
  private nextBuffer = RAM + (1 << 20);

  constructor(readonly device: VirtioDevice | undefined) {
    this.transport = new MmioTransport(this.mem, this.irq, device, (_d, why) => this.broken.push(why));
  }

  /**
   * Takes over from `other` what a checkpoint carries besides the devices:
   * guest RAM and, for this mock, the driver's bookkeeping (a real driver's is in RAM).
   */
  resumeFrom(other: TestDriver): void {
    this.mem.writeBytes(RAM, other.mem.readBytes(RAM, other.mem.size));
    this.queues.splice(0, this.queues.length, ...other.queues.map((q) => ({ ...q })));
    this.nextBuffer = other.nextBuffer;
  }

  reg(offset: number): number {
    return Number(this.transport.read(offset, 4));
  }
  setReg(offset: number, v: number): void {
    this.transport.write(offset, 4, v);
  }

  /** §3.1.1 initialisation up to DRIVER_OK, with `features` (default VERSION_1 | INDIRECT). */
  init(features = F_VERSION_1 | F_INDIRECT, queueSize = 16): boolean {
    this.setReg(0x70, 0);
    this.setReg(0x70, 1);
    this.setReg(0x70, 1 | 2);
    for (const sel of [0, 1]) {
      this.setReg(0x24, sel);
      this.setReg(0x20, Number((features >> BigInt(32 * sel)) & 0xffffffffn));
    }
    this.setReg(0x70, 1 | 2 | 8);
    if (!(this.reg(0x70) & 8)) return false;
    const nq = this.device?.queueSizes.length ?? 0;
    for (let q = 0; q < nq; q++) {
      const base = RAM + q * 0x10000;
      const size = queueSize;
      const layout = { desc: base, avail: base + 0x4000, used: base + 0x8000, size, availIdx: 0 };
      this.mem.fill(base, 0x10000, 0);
      this.queues.push(layout);
      this.setReg(0x30, q);
      this.setReg(0x38, size);
      this.setReg(0x80, layout.desc);
      this.setReg(0x84, 0);
      this.setReg(0x90, layout.avail);
      this.setReg(0x94, 0);
      this.setReg(0xa0, layout.used);
      this.setReg(0xa4, 0);
      this.setReg(0x44, 1);
    }
    this.setReg(0x70, 1 | 2 | 8 | 4);
    return true;
  }

  /** Allocates a guest buffer of `len` bytes, optionally filled with `data`. */
  buffer(len: number, data?: Uint8Array): number {
    const a = this.nextBuffer;
    this.nextBuffer += (len + 15) & ~15;
    if (data !== undefined) this.mem.writeBytes(a, data);
    return a;
  }

  /** Writes descriptor `i` of a table at `table`. */
  writeDesc(table: number, i: number, d: Desc): void {
    const a = table + 16 * i;
    this.mem.writeU32(a, d.addr % 0x1_0000_0000);
    this.mem.writeU32(a + 4, Math.floor(d.addr / 0x1_0000_0000));
    this.mem.writeU32(a + 8, d.len);
    this.mem.writeU16(a + 12, d.flags ?? 0);
    this.mem.writeU16(a + 14, d.next ?? 0);
  }

  /** Puts descriptors at table indices `first..` chained in order and makes the chain available. */
  offer(queue: number, descs: Desc[], first = 0): number {
    const q = this.queues[queue];
    descs.forEach((d, k) => {
      const chained = k < descs.length - 1;
      this.writeDesc(q.desc, first + k, { ...d, flags: (d.flags ?? 0) | (chained ? NEXT : 0), next: chained ? first + k + 1 : 0 });
    });
    this.makeAvailable(queue, first);
    return first;
  }

  makeAvailable(queue: number, head: number): void {
    const q = this.queues[queue];
    this.mem.writeU16(q.avail + 4 + 2 * (q.availIdx % q.size), head);
    q.availIdx = (q.availIdx + 1) & 0xffff;
    this.mem.writeU16(q.avail + 2, q.availIdx);
  }

  notify(queue: number): void {
    this.setReg(0x50, queue);
  }

  usedIdx(queue: number): number {
    return this.mem.readU16(this.queues[queue].used + 2);
  }

  /** Used ring element k: {id, len}. */
  used(queue: number, k: number): { id: number; len: number } {
    const q = this.queues[queue];
    const a = q.used + 4 + 8 * (k % q.size);
    return { id: this.mem.readU32(a), len: this.mem.readU32(a + 4) };
  }

  get needsReset(): boolean {
    return (this.reg(0x70) & 64) !== 0;
  }
}
