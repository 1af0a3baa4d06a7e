// RISC-V Linux Image header recognition (Documentation/arch/riscv/boot-image-header.rst).
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseRiscvImage, KernelImageError } from "../../src/vmm/kernelImage.js";

function header(textOffset: bigint, imageSize: bigint, fileLen = 4096): Uint8Array {
  const b = new Uint8Array(fileLen);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(8, textOffset, true);
  dv.setBigUint64(16, imageSize, true);
  dv.setUint32(32, 2, true);
  b.set(new TextEncoder().encode("RISCV\0\0\0"), 48);
  dv.setUint32(56, 0x05435352, true);
  return b;
}

test("a valid header gives text_offset and image_size", () => {
  assert.deepEqual(parseRiscvImage(header(0x200000n, 0x1000000n)), { textOffset: 0x200000, imageSize: 0x1000000, version: 2 });
});

test("a file without the magic is not an Image", () => {
  assert.equal(parseRiscvImage(new Uint8Array(4096)), undefined);
  assert.equal(parseRiscvImage(new Uint8Array(10)), undefined);
});

test("inconsistent headers are one-line errors", () => {
  assert.throws(() => parseRiscvImage(header(0x200000n, 16n)), KernelImageError);
  assert.throws(() => parseRiscvImage(header(0x123n, 0x10000n)), /invalid text_offset 0x123/);
});
