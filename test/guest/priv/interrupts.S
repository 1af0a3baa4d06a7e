# Interrupts (Privileged ISA §3.1.9, §3.1.6.1): CLINT software and timer
# interrupts, the priority order MEI > MSI > MTI > SEI > SSI > STI, global
# enables per privilege, vectored mtvec, delegation with mideleg, and WFI
# waking on a pending-but-disabled interrupt.
#include "test.h"
#define CLINT_MSIP     0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME    0x200bff8
#define IRQ(n) (0x8000000000000000 | (n))

TEST_BEGIN
  .option norvc
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  li s1, CLINT_MSIP
  li s3, CLINT_MTIMECMP
  li t0, -1
  sd t0, 0(s3)
  la t0, handler
  csrw mtvec, t0
  la s11, log

  # --- MSI: pending in mip while MIE = 0, taken as soon as MIE is set
  li t0, 1 << 3
  csrw mie, t0
  li t0, 1
  sw t0, 0(s1)
  csrr a0, mip
  andi a0, a0, 1 << 3
  CHECK(1, a0, 1 << 3)
  li s2, 0
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  li a1, IRQ(3)
  CHECK_REG(2, s2, a1)
  csrr a0, mip
  andi a0, a0, 1 << 3
  CHECK(3, a0, 0)

  # --- MSI raised while MIE = 0 in a loop that has run before, so that under
  #     the translator the enable runs in chained code: it is still taken
  #     before the instruction after the enable
  li s2, 0
  li s4, 0
4:
  li t0, 10
  bne s4, t0, 5f
  li t0, 1
  sw t0, 0(s1)                 # turn 10: MSI pending while MIE = 0
5:
  csrsi mstatus, 8
  mv s6, s2                    # IRQ(3) here on turn 10: taken before this instruction
  csrci mstatus, 8
  li t0, 10
  beq s4, t0, 6f
  addi s4, s4, 1
  j 4b
6:
  li a1, IRQ(3)
  CHECK_REG(4, s6, a1)

  # --- priority: MSI, MTI and SSI all pending are taken in the order MSI, MTI, SSI
  la s11, log
  li t0, 1
  sw t0, 0(s1)
  sd zero, 0(s3)               # mtimecmp = 0: MTIP
  csrsi mip, 2                 # SSIP (writable by M)
  li t0, (1 << 3) | (1 << 7) | (1 << 1)
  csrw mie, t0
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  la t0, log
  ld a0, 0(t0)
  li a1, IRQ(3)
  CHECK_REG(10, a0, a1)
  ld a0, 8(t0)
  li a1, IRQ(7)
  CHECK_REG(11, a0, a1)
  ld a0, 16(t0)
  li a1, IRQ(1)
  CHECK_REG(12, a0, a1)
  sub a0, s11, t0
  CHECK(13, a0, 24)

  # --- vectored mtvec: an interrupt goes to base + 4 * cause
  la t0, vectors
  ori t0, t0, 1
  csrw mtvec, t0
  li s2, 0
  li t0, 1 << 3
  csrw mie, t0
  li t0, 1
  sw t0, 0(s1)
  csrsi mstatus, 8
  nop
  csrci mstatus, 8
  CHECK(20, s2, 0x333)         # marker written by vector entry 3
  la t0, handler
  csrw mtvec, t0

  # --- WFI wakes on a pending interrupt even when mstatus.MIE = 0, without a trap
  li s2, 0
  li t0, 1 << 7
  csrw mie, t0
  li t0, CLINT_MTIME
  ld t1, 0(t0)
  addi t1, t1, 200             # 20 us at 10 MHz
  sd t1, 0(s3)
  wfi
  csrr a0, mip
  andi a0, a0, 1 << 7
  CHECK(30, a0, 1 << 7)
  CHECK(31, s2, 0)
  li t0, -1
  sd t0, 0(s3)

  # --- M interrupts are taken in U and S whatever mstatus.MIE says
  li s2, 0
  li t0, 1 << 3
  csrw mie, t0
  li t0, 1
  sw t0, 0(s1)
  li t0, 3 << 11
  csrc mstatus, t0             # MPP = U
  la t0, in_u
  csrw mepc, t0
  mret
in_u:
  nop
  li a1, IRQ(3)
  CHECK_REG(40, s2, a1)        # still in U: the handler returned here
  ecall                        # back to M (handler: ECALL from U returns in M)
after_u:

  # --- delegated SSI goes to S-mode's stvec with scause = interrupt 1
  li t0, 1 << 1
  csrw mideleg, t0
  csrw mie, t0
  la t0, s_handler
  csrw stvec, t0
  csrsi mip, 2
  li t0, 3 << 11
  csrc mstatus, t0
  li t0, 1 << 11
  csrs mstatus, t0             # MPP = S
  la t0, in_s
  csrw mepc, t0
  li s8, 0
  mret
in_s:
  # Twice: the second time the blocks here are translated and reach each other without the run loop.
  li s10, 2
  li s7, 0
1:
  csrsi sstatus, 2             # SIE: the pending SSI is taken now, before the next instruction
in_s_next:
  nop
  csrci sstatus, 2             # (sret set SIE again from SPIE)
  csrsi sip, 2                 # SSI pending again
  addi s10, s10, -1
  bnez s10, 1b
  csrci sip, 2
  ecall
after_s:
  li a1, IRQ(1)
  CHECK_REG(50, s8, a1)
  la a1, in_s_next
  CHECK_REG(51, s9, a1)        # sepc: taken right after the csrsi (translated code stops its chain there)
  li a1, 2
  CHECK_REG(52, s7, a1)        # taken both times
  csrw mideleg, zero
  j pass

  .align 2
handler:
  csrr t0, mcause
  bltz t0, 1f
  # ECALL from U or S: continue in M after it
  li t1, 3 << 11
  csrs mstatus, t1
  csrr t1, mepc
  addi t1, t1, 4
  csrw mepc, t1
  mret
1: mv s2, t0
  sd t0, 0(s11)
  addi s11, s11, 8
  slli t0, t0, 1
  srli t0, t0, 1
  li t1, 3
  bne t0, t1, 2f
  sw zero, 0(s1)               # MSI: clear msip
  mret
2: li t1, 7
  bne t0, t1, 3f
  li t1, -1
  sd t1, 0(s3)                 # MTI: disarm the timer
  mret
3: csrci mip, 2                # SSI
  mret

  .align 2
vectors:
  j fail                       # 0: exceptions
  j fail
  j fail
  li s2, 0x333                 # 3: MSI
  sw zero, 0(s1)
  mret

  .align 2
s_handler:
  csrr s8, scause
  csrr s9, sepc
  addi s7, s7, 1
  csrci sip, 2
  sret

  .data
  .align 3
log: .space 64
TEST_END
