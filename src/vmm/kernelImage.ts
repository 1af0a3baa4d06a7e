/**
 * Recognises a RISC-V Linux kernel image (Linux Documentation/arch/riscv/
 * boot-image-header.rst): a 64-byte header with magic "RISCV\0\0\0" at 48
 * and "RSC\x05" at 56, the load offset from a 2 MiB-aligned RAM base
 * (text_offset) and the memory the kernel occupies (image_size, including
 * its BSS).
 */
export class KernelImageError extends Error {
  override name = "KernelImageError";
}

export interface RiscvImage {
  textOffset: number;
  imageSize: number;
  version: number;
}

const MAGIC = "RISCV\0\0\0";
const MAGIC2 = 0x05435352; // "RSC\x05"

/** The Image header of `buf`, or undefined when `buf` is not a RISC-V Image. */
export function parseRiscvImage(buf: Uint8Array, what = "kernel"): RiscvImage | undefined {
  if (buf.length < 64) return undefined;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = new TextDecoder("latin1").decode(buf.subarray(48, 56));
  if (magic !== MAGIC && dv.getUint32(56, true) !== MAGIC2) return undefined;
  const textOffset = Number(dv.getBigUint64(8, true));
  const imageSize = Number(dv.getBigUint64(16, true));
  if (imageSize === 0) {
    // Header version 0.1 kernels leave image_size 0: the file is all there is.
    return { textOffset, imageSize: buf.length, version: dv.getUint32(32, true) };
  }
  if (imageSize < buf.length) {
    throw new KernelImageError(`${what}: Image header says ${imageSize} bytes but the file has ${buf.length}`);
  }
  if (textOffset % 4096 !== 0 || textOffset > 1 << 30) {
    throw new KernelImageError(`${what}: Image header has an invalid text_offset 0x${textOffset.toString(16)}`);
  }
  return { textOffset, imageSize, version: dv.getUint32(32, true) };
}
