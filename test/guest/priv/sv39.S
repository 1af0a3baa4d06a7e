# Sv39 and Sv48 translation (Privileged ISA §12.3-12.5): 4 KiB pages and a
# 1 GiB gigapage, the page-fault causes 12/13/15 with stval, the U/SUM/MXR
# rules, reserved encodings (W without R), misaligned superpages, hardware
# A/D updates, and SFENCE.VMA after a PTE change. Runs in S-mode with the
# page faults delegated to it.
#include "test.h"
#define V 1
#define R 2
#define W 4
#define X 8
#define U 16
#define A 64
#define D 128
#define SUM (1 << 18)
#define MXR (1 << 19)
#define VA 0x40000000
/* Gigapage mapping VA = PA for [0x80000000, 0xc0000000): this program and its data. */
#define GIGA_PTE ((0x80000 << 10) | V | R | W | X | A | D)

/* Stores a leaf PTE mapping physical `label` with `flags` at table[index]. */
#define LEAF(table, index, label, flags) \
  la t0, label;                  \
  srli t0, t0, 12;               \
  slli t0, t0, 10;               \
  ori t0, t0, flags;             \
  la t1, table;                  \
  sd t0, (8 * (index))(t1)

/* A pointer PTE to the next-level table. */
#define NEXT(table, index, next) LEAF(table, index, next, V)

/* Expects the following access to fault with `cause` and stval = `addr_reg`. */
#define EXPECT_FAULT(n, cause, addr_reg) \
  li TESTNUM, n;                 \
  li s2, -1

#define CHECK_FAULT(n, cause, addr_reg) \
  CHECK(n, s2, cause);           \
  CHECK_REG(n, s3, addr_reg)

TEST_BEGIN
  .option norvc
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  # Sv39: root[2] = gigapage identity for 0x80000000; root[1] -> l1 -> l0 for VA 0x40000000
  la t1, root39
  li t0, GIGA_PTE
  sd t0, 16(t1)
  NEXT(root39, 1, l1)
  NEXT(l1, 0, l0)
  LEAF(l0, 0, page0, V | R | W)            # A and D clear: set by hardware
  LEAF(l0, 1, page1, V | R | A)            # read-only
  LEAF(l0, 2, page2, V | X | A)            # execute-only
  LEAF(l0, 3, page3, V | R | W | U | A | D) # user page
  LEAF(l0, 5, page0, V | W | A | D)        # W without R: reserved
  LEAF(l0, 6, page0, V | R | X | A)        # executable code page (contains a ret)
  LEAF(l1, 1, page0, V | R | W | A | D)    # 2 MiB megapage whose PPN is not 2 MiB aligned
  # page fault delegation, S-mode trap vector
  li t0, (1 << 12) | (1 << 13) | (1 << 15)
  csrw medeleg, t0
  la t0, s_trap
  csrw stvec, t0
  la t0, m_trap
  csrw mtvec, t0
  la t0, root39
  srli t0, t0, 12
  li t1, 8 << 60
  or t0, t0, t1
  csrw satp, t0
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0
  la t0, s_main
  csrw mepc, t0
  mret

s_main:
  li s4, VA
  # --- a load sets A (not D); a store sets D
  li t0, 0x1122334455667788
  la t1, page0
  sd t0, 0(t1)
  ld a0, 0(s4)
  CHECK(1, a0, 0x1122334455667788)
  la t1, l0
  ld a0, 0(t1)
  andi a0, a0, A | D
  CHECK(2, a0, A)
  li t0, 0x55
  sb t0, 8(s4)
  ld a0, 0(t1)
  andi a0, a0, A | D
  CHECK(3, a0, A | D)
  la t1, page0
  lbu a0, 8(t1)
  CHECK(4, a0, 0x55)

  # --- store to a read-only page: store/AMO page fault (15), stval = the address
  li s2, -1
  li s5, VA + 4096 + 16
  sd zero, 0(s5)
  CHECK_FAULT(10, 15, s5)
  ld a0, 0(s5)                               # reading it is fine
  CHECK(11, a0, 0)
  amoadd.d a0, zero, (s5)                    # an AMO needs write permission
  CHECK_FAULT(12, 15, s5)
  # --- load from an execute-only page: load page fault (13); MXR makes it readable
  li s5, VA + 2 * 4096
  ld a0, 0(s5)
  CHECK_FAULT(13, 13, s5)
  li t0, MXR
  csrs sstatus, t0
  li s2, -1
  ld a0, 0(s5)
  CHECK(14, s2, -1)
  li t0, MXR
  csrc sstatus, t0
  # --- S access to a U page faults unless SUM; S never executes U pages
  li s5, VA + 3 * 4096
  ld a0, 0(s5)
  CHECK_FAULT(15, 13, s5)
  sd zero, 0(s5)
  CHECK_FAULT(16, 15, s5)
  li t0, SUM
  csrs sstatus, t0
  li s2, -1
  ld a0, 0(s5)
  CHECK(17, s2, -1)
  li t0, SUM
  csrc sstatus, t0
  ld a0, 0(s5)                               # SUM clear again: faults again
  CHECK_FAULT(19, 13, s5)
  li t0, SUM
  csrs sstatus, t0
  jalr ra, 0(s5)
  CHECK_FAULT(18, 12, s5)
  li t0, SUM
  csrc sstatus, t0
  # --- invalid PTE; W without R; a misaligned megapage
  li s5, VA + 4 * 4096
  ld a0, 0(s5)
  CHECK_FAULT(20, 13, s5)
  sd zero, 0(s5)
  CHECK_FAULT(21, 15, s5)
  jalr ra, 0(s5)
  CHECK_FAULT(22, 12, s5)
  li s5, VA + 5 * 4096
  ld a0, 0(s5)
  CHECK_FAULT(23, 13, s5)
  li s5, VA + (1 << 21)
  ld a0, 0(s5)
  CHECK_FAULT(24, 13, s5)
  # --- fetch from a page without X: instruction page fault (12), stval = the target
  mv s5, s4
  jalr ra, 0(s5)
  CHECK_FAULT(25, 12, s5)
  # --- an executable page runs (page0 holds a ret at offset 0x100 via VA page 6)
  li s5, VA + 6 * 4096 + 0x100
  li s2, -1
  jalr ra, 0(s5)
  CHECK(26, s2, -1)
  # --- code run at two virtual addresses, then rewritten by a store: both addresses run the new code
  # (three turns: by the last, the calls are translated code that finds the ret in the jump cache)
  la s6, page0 + 0x100                       # the same ret through the identity gigapage
  fence.i                                    # (the next one then has only this hart's stores to mind)
  li s7, 3
  li a0, 0
1:
  jalr ra, 0(s6)
  jalr ra, 0(s5)
  addi s7, s7, -1
  li t0, 1
  bne s7, t0, 2f
  li t0, 0x00150513                          # before the last turn: addi a0, a0, 1; ret
  sw t0, 0(s6)
  li t0, 0x00008067
  sw t0, 4(s6)
  fence.i
2:
  bnez s7, 1b
  CHECK(28, a0, 2)
  # --- a non-canonical address (bits 63:39 not equal to bit 38) faults
  li s5, 0x0000008000000000
  ld a0, 0(s5)
  CHECK_FAULT(27, 13, s5)

  # --- SFENCE.VMA makes a changed PTE visible
  li s5, VA + 4096
  la t1, l0
  ld t0, 8(t1)
  ori t0, t0, W | D
  sd t0, 8(t1)
  sfence.vma s5, zero
  li s2, -1
  li t0, 0x77
  sd t0, 0(s5)
  CHECK(30, s2, -1)
  la t1, page1
  ld a0, 0(t1)
  CHECK(31, a0, 0x77)

  # --- Sv48: the same gigapage one level deeper; satp mode 9
  ecall                                      # to M, which switches satp and returns
  li s2, -1
  la t0, page0
  ld a0, 0(t0)
  CHECK(40, s2, -1)
  li s5, VA
  ld a0, 0(s5)                               # VA 0x40000000 is not mapped under Sv48 here
  CHECK_FAULT(41, 13, s5)
  li s5, 0x0000800000000000                  # bits 63:48 must equal bit 47
  ld a0, 0(s5)
  CHECK_FAULT(42, 13, s5)
  ecall                                      # done
  j fail

  .align 2
s_trap:
  csrr s2, scause
  csrr s3, stval
  csrr t0, sepc
  li t1, 12
  beq s2, t1, 1f
  addi t0, t0, 4
  csrw sepc, t0
  sret
1: csrw sepc, ra                             # instruction fault: return to the caller
  sret

  .align 2
m_trap:
  csrr t0, mcause
  li t1, 9
  bne t0, t1, fail_trap
  li t1, 40
  bge TESTNUM, t1, done
  # first ECALL from S: switch to Sv48 (root48[0] -> l2_48, whose entry 2 is the gigapage)
  la t1, l2_48
  li t0, GIGA_PTE
  sd t0, 16(t1)
  NEXT(root48, 0, l2_48)
  la t0, root48
  srli t0, t0, 12
  li t1, 9 << 60
  or t0, t0, t1
  csrw satp, t0
  csrr t0, satp
  srli t0, t0, 60
  li t1, 9
  bne t0, t1, fail_trap
  sfence.vma
  li TESTNUM, 40
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
done:
  # an unsupported mode (Sv57 = 10) is not written: satp keeps Sv48
  li t0, 10 << 60
  csrw satp, t0
  csrr t0, satp
  srli t0, t0, 60
  li TESTNUM, 43
  li t1, 9
  bne t0, t1, fail
  j pass
fail_trap:
  csrr a0, mcause
  addi a0, a0, 1000
  HTIF_EXIT(a0)

  .data
  .align 12
root39: .space 4096
l1: .space 4096
l0: .space 4096
root48: .space 4096
l2_48: .space 4096
page0: .space 0x100
  ret
  .space 4096 - 0x104
page1: .space 4096
page2: .space 4096
page3: .space 4096
TEST_END
