/**
 * Places the boot images in guest RAM the way QEMU's `virt` machine does
 * (hw/riscv/boot.c), so kernels and firmware built for it find what they
 * expect:
 *
 *   RAM base       M-mode firmware (--bios PATH), or nothing (built-in SBI)
 *   base + 2 MiB   the kernel: a RISC-V Linux Image at its 2 MiB-aligned
 *                  text_offset (Documentation/arch/riscv/boot.rst), or an
 *                  ELF's segments relative to its lowest physical address
 *   ...            free
 *   end - ...      the initrd, then the device tree blob at the top of RAM
 *
 * Every image is checked to fit before anything is written.
 */
import { readFileSync } from "node:fs";
import type { GuestMemory } from "../memory/guestMemory.js";
import { parseElf, ElfError, type ElfImage } from "./elf.js";
import { parseRiscvImage, KernelImageError } from "./kernelImage.js";
import { VmmError } from "./errors.js";

const MiB = 1 << 20;
const KERNEL_ALIGN = 2 * MiB;

export interface LoadedImage {
  /** First guest-physical address written. */
  start: number;
  /** One past the last byte the image occupies (including BSS). */
  end: number;
  entry: number;
}

export function readImage(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new VmmError(`${what} ${path}: no such file`);
    if (code === "EISDIR") throw new VmmError(`${what} ${path}: is a directory`);
    throw new VmmError(`${what} ${path}: cannot read (${code ?? String(e)})`);
  }
}

function isElf(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

function hex(n: number): string {
  return "0x" + n.toString(16);
}

function fits(mem: GuestMemory, what: string, start: number, size: number): void {
  if (!mem.contains(start, size)) {
    throw new VmmError(
      `${what} does not fit in RAM: needs [${hex(start)}, ${hex(start + size)}) but RAM is [${hex(mem.base)}, ${hex(mem.end)}) — give the guest more memory (-m)`,
    );
  }
}

function parseElfOrFail(buf: Uint8Array, what: string): ElfImage {
  try {
    return parseElf(buf, what);
  } catch (e) {
    if (e instanceof ElfError) throw new VmmError(e.message);
    throw e;
  }
}

/** Loads ELF segments shifted so the lowest one starts at `base`. */
function loadElfAt(mem: GuestMemory, elf: ElfImage, base: number, what: string): LoadedImage {
  if (elf.segments.length === 0) throw new VmmError(`${what} has no loadable segments`);
  const low = Math.min(...elf.segments.map((s) => s.paddr));
  const high = Math.max(...elf.segments.map((s) => s.paddr + s.memSize));
  fits(mem, what, base, high - low);
  for (const s of elf.segments) {
    mem.writeBytes(base + s.paddr - low, s.fileBytes);
    mem.fill(base + s.paddr - low + s.fileBytes.length, s.memSize - s.fileBytes.length, 0);
  }
  const entry = base + elf.entry - low;
  if (entry < base || entry >= base + high - low) throw new VmmError(`${what}: entry point ${hex(elf.entry)} is outside its segments`);
  return { start: base, end: base + high - low, entry };
}

/** M-mode firmware (e.g. OpenSBI fw_jump/fw_dynamic) at the RAM base: a raw binary or an ELF. */
export function loadFirmware(mem: GuestMemory, path: string): LoadedImage {
  const what = `firmware ${path}`;
  const buf = readImage(path, "firmware");
  if (buf.length === 0) throw new VmmError(`${what} is empty`);
  if (isElf(buf)) return loadElfAt(mem, parseElfOrFail(buf, what), mem.base, what);
  fits(mem, what, mem.base, buf.length);
  mem.writeBytes(mem.base, buf);
  return { start: mem.base, end: mem.base + buf.length, entry: mem.base };
}

/** The kernel, at the first 2 MiB boundary at or above `after` (plus its text_offset for an Image). */
export function loadKernel(mem: GuestMemory, path: string, after: number): LoadedImage {
  const what = `kernel ${path}`;
  const buf = readImage(path, "kernel");
  const base = Math.ceil(Math.max(after, mem.base + KERNEL_ALIGN) / KERNEL_ALIGN) * KERNEL_ALIGN;
  if (isElf(buf)) return loadElfAt(mem, parseElfOrFail(buf, what), base, what);
  let image;
  try {
    image = parseRiscvImage(buf, what);
  } catch (e) {
    if (e instanceof KernelImageError) throw new VmmError(e.message);
    throw e;
  }
  if (image === undefined) throw new VmmError(`${what} is neither a RISC-V Linux Image nor an ELF file`);
  // text_offset is relative to a 2 MiB-aligned base; RV64 kernels use 2 MiB (boot-image-header.rst).
  const start = base + (image.textOffset % KERNEL_ALIGN);
  fits(mem, what, start, image.imageSize);
  mem.writeBytes(start, buf);
  return { start, end: start + image.imageSize, entry: start };
}

/** Top-of-RAM placement of the device tree and, below it, the initrd. */
export interface TopLayout {
  dtb: number;
  initrd?: { start: number; end: number };
}

/** Reserves the DTB (size `dtbBytes`) and the initrd at the top of RAM, above `lowestFree`. */
export function placeTop(mem: GuestMemory, dtbBytes: number, initrdBytes: number | undefined, lowestFree: number): TopLayout {
  // The DTB goes at the top, 4 KiB aligned; Linux maps it wherever it is (arch/riscv/mm/init.c).
  const dtb = Math.floor((mem.end - dtbBytes) / 4096) * 4096;
  if (dtb < lowestFree) throw new VmmError(`the device tree (${dtbBytes} bytes) does not fit in RAM above the kernel`);
  if (initrdBytes === undefined) return { dtb };
  const start = Math.floor((dtb - initrdBytes) / 4096) * 4096;
  if (start < lowestFree) {
    throw new VmmError(
      `initrd (${initrdBytes} bytes) does not fit in RAM between the kernel (ends ${hex(lowestFree)}) and the device tree — give the guest more memory (-m)`,
    );
  }
  return { dtb, initrd: { start, end: start + initrdBytes } };
}
