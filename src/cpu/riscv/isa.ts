/**
 * What the vCPU implements, as the device tree reports it to the guest
 * (Documentation/devicetree/bindings/riscv/extensions.yaml): kernels enable
 * features from this list, so it must name exactly what the hart executes.
 */
export const ISA_BASE = "rv64i";
export const ISA_EXTENSIONS = [
  "i", "m", "a", "f", "d", "c",
  "zicbom", "zicboz", "zicntr", "zicond", "zicsr", "zifencei", "zihintpause",
  "zba", "zbb", "zbs",
] as const;
/** Cache-block size for Zicbom/Zicboz (riscv,cbom-block-size / riscv,cboz-block-size). */
export const CACHE_BLOCK_BYTES = 64;
/** The riscv,isa string: single-letter extensions, then the multi-letter ones joined by '_'. */
export function isaString(): string {
  const single = ISA_EXTENSIONS.filter((e) => e.length === 1 && e !== "i").join("");
  const multi = ISA_EXTENSIONS.filter((e) => e.length > 1);
  return [`rv64i${single}`, ...multi].join("_");
}
