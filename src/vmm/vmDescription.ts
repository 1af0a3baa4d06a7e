/**
 * What a VM is, as data: the serialisable description a VM is built from
 * (no callbacks), which travels in checkpoints and migration streams and
 * which a VM restored from one must match.
 */
import { StateError, StateReader, type Saved } from "../state/savedState.js";

export type Engine = "jit" | "interp";

export interface DriveDescription {
  /** Path of the raw image. */
  file: string;
  readOnly: boolean;
}

export interface VmDescription {
  memoryBytes: number;
  harts: number;
  /** Path of M-mode firmware, or undefined for tsxi's built-in SBI. */
  bios?: string;
  kernel: string;
  initrd?: string;
  append: string;
  /** Raw disk images, in the order the guest sees them (vda, vdb, ...). */
  drives: DriveDescription[];
  /** A virtio-net NIC with a user-mode NAT backend (QEMU's -netdev user). */
  userNet: boolean;
  /** Execution engine: the translator (default) or the interpreter alone. */
  engine: Engine;
}

/** What a saved VM's hardware was: its description and the sizes of its disks. */
export interface Hardware {
  description: VmDescription;
  driveBytes: number[];
}

const HARDWARE_VERSION = 1;
/** Bytes of the largest disk a saved record may claim (2^53: sizes are doubles). */
const MAX_DISK = Number.MAX_SAFE_INTEGER;

/** The record a checkpoint keeps of the hardware: the fields a restore checks, and the description. */
export function saveHardware(hw: Hardware): Saved {
  const d = hw.description;
  return {
    v: HARDWARE_VERSION,
    memoryBytes: d.memoryBytes,
    harts: d.harts,
    firmware: d.bios === undefined ? "builtin" : "m-mode",
    drives: d.drives.map((x, k) => ({ v: HARDWARE_VERSION, bytes: hw.driveBytes[k], readOnly: x.readOnly })),
    userNet: d.userNet,
    description: JSON.parse(JSON.stringify(d)) as Saved,
  };
}

/**
 * Checks that a saved VM's hardware (`saved`, from a checkpoint) is the
 * hardware of `own`, the VM that is to take its state, as QEMU requires the
 * destination of a migration to be started with the same machine: RAM
 * size, harts, firmware kind and devices (disks of the same sizes and
 * modes, the same NIC). Boot image paths need not match: the images are in
 * RAM. A mismatch is a one-line StateError.
 */
export function checkHardware(saved: unknown, own: Hardware): void {
  const r = StateReader.open("machine", saved, HARDWARE_VERSION);
  const d = own.description;
  const mismatch = (was: string, is: string): never => {
    throw new StateError(`the saved VM had ${was}, this VM has ${is}`);
  };
  const mem = r.int("memoryBytes", 0, Number.MAX_SAFE_INTEGER);
  if (mem !== d.memoryBytes) mismatch(`${mem} bytes of RAM`, `${d.memoryBytes}`);
  const harts = r.int("harts", 1, 64);
  if (harts !== d.harts) mismatch(`${harts} harts`, `${d.harts}`);
  const fw = r.str("firmware", 16);
  const ownFw = d.bios === undefined ? "builtin" : "m-mode";
  if (fw !== ownFw) mismatch(`firmware ${fw}`, ownFw);
  const drives = r.records("drives", 0, 64, HARDWARE_VERSION);
  if (drives.length !== d.drives.length) mismatch(`${drives.length} disks`, `${d.drives.length}`);
  drives.forEach((x, k) => {
    const bytes = x.int("bytes", 0, MAX_DISK);
    if (bytes !== own.driveBytes[k]) mismatch(`disk ${k} of ${bytes} bytes`, `${own.driveBytes[k]}`);
    const ro = x.bool("readOnly");
    if (ro !== d.drives[k].readOnly) mismatch(`disk ${k} ${ro ? "read-only" : "writable"}`, d.drives[k].readOnly ? "read-only" : "writable");
  });
  const net = r.bool("userNet");
  if (net !== d.userNet) mismatch(net ? "a NIC" : "no NIC", d.userNet ? "one" : "none");
}
