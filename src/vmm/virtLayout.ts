/**
 * The memory map and interrupt numbers of QEMU's RISC-V `virt` machine
 * (hw/riscv/virt.c, virt_memmap), which tsxi's platform reproduces so that
 * stock kernels and firmware run unmodified.
 */
export const RAM_BASE = 0x8000_0000;
export const TEST_BASE = 0x0010_0000;
export const TEST_SIZE = 0x1000;
export const CLINT_BASE = 0x0200_0000;
export const CLINT_SIZE = 0x1_0000;
export const PLIC_BASE = 0x0c00_0000;
export const PLIC_SIZE = 0x60_0000;
export const UART0_BASE = 0x1000_0000;
export const UART0_SIZE = 0x100;
export const UART0_IRQ = 10;
export const VIRTIO_BASE = 0x1000_1000;
export const VIRTIO_STRIDE = 0x1000;
export const VIRTIO_COUNT = 8;
/** virtio-mmio slot n raises PLIC source 1 + n. */
export const VIRTIO_IRQ = 1;
/** PLIC sources: 1..95 as in QEMU (VIRT_IRQCHIP_NUM_SOURCES = 96). */
export const PLIC_SOURCES = 96;
export const TIMEBASE_HZ = 10_000_000;
