/**
 * The one interface every virtio device implements (virtio 1.2 §2, §5). A
 * device knows its own type, features, configuration space and queues; the
 * transport (`MmioTransport` now, PCI later) owns the registers, feature
 * negotiation, status, interrupts and the queues' guest addresses.
 */
import type { GuestMemory } from "../../memory/guestMemory.js";
import type { Virtqueue } from "./virtqueue.js";
import type { Saved } from "../../state/savedState.js";

/** Device-independent feature bits (§6). */
export const VIRTIO_F_RING_INDIRECT_DESC = 28n;
export const VIRTIO_F_RING_EVENT_IDX = 29n;
export const VIRTIO_F_VERSION_1 = 32n;

export const bit = (n: bigint): bigint => 1n << n;

/** What the transport gives a device once the driver has set DRIVER_OK. */
export interface VirtioContext {
  readonly mem: GuestMemory;
  queue(index: number): Virtqueue;
  /** Call after pushing used buffers: interrupts the driver if it asked for it. */
  usedBuffers(queue: number): void;
  /**
   * Asks the transport to run `process(queue)` now, guarded like a driver
   * notification: for work a host backend completes asynchronously.
   */
  kick(queue: number): void;
}

export interface VirtioDevice {
  /** Short name for messages, e.g. "virtio-blk". */
  readonly name: string;
  /** Device ID (§5). */
  readonly deviceId: number;
  /** Device-specific feature bits offered to the driver. */
  readonly features: bigint;
  /** Maximum size of each queue; the array's length is the number of queues. */
  readonly queueSizes: readonly number[];
  /** The device configuration space (little-endian). */
  readonly config: Uint8Array;
  /** The driver wrote `length` bytes of the configuration space at `offset`. */
  configWritten?(offset: number, length: number): void;
  /** The driver set DRIVER_OK. */
  activate(ctx: VirtioContext): void;
  /**
   * Process what the driver made available on `queue`. May throw
   * `VirtqueueError` for a malformed chain: the transport then marks the
   * device DEVICE_NEEDS_RESET.
   */
  process(queue: number): void;
  /** The driver reset the device: drop in-flight state. */
  reset(): void;
  /** The device's own state for a checkpoint, if it has any beyond its queues and configuration (docs/checkpoint.md). */
  saveState?(): Saved;
  /**
   * Restores what saveState returned, checking everything first, so a bad
   * record changes nothing. The transport calls it without a context, then
   * activates the device if the driver had set DRIVER_OK, else resets it
   * (a device not started holds nothing in flight).
   */
  restoreState?(saved: unknown): void;
}

/** What most devices do with activate/reset: hold the context from DRIVER_OK until the driver resets them. */
export abstract class ActiveDevice {
  protected ctx: VirtioContext | undefined;

  activate(ctx: VirtioContext): void {
    this.ctx = ctx;
  }

  reset(): void {
    this.ctx = undefined;
  }
}
