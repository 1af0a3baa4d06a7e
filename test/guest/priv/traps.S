# Traps and privilege transitions (Privileged ISA §3.1.6-3.1.9, §3.3):
# exception causes and mepc/mtval, ECALL from U/S/M, MRET/SRET and the
# MPP/MPIE/SPP/SPIE stacks, delegation with medeleg, TW/TSR/TVM.
#include "test.h"
#define MSTATUS_MIE  (1 << 3)
#define MSTATUS_MPIE (1 << 7)
#define MSTATUS_SPP  (1 << 8)
#define MSTATUS_MPP  (3 << 11)
#define MSTATUS_TVM  (1 << 20)
#define MSTATUS_TW   (1 << 21)
#define MSTATUS_TSR  (1 << 22)

/* Enter privilege `mpp` (0 = U, 1 = S) at `label` with MRET. */
#define ENTER(mpp, label)        \
  li t0, MSTATUS_MPP;            \
  csrc mstatus, t0;              \
  li t0, (mpp) << 11;            \
  csrs mstatus, t0;              \
  la t0, label;                  \
  csrw mepc, t0;                 \
  mret

TEST_BEGIN
  .option norvc
  la t0, record
  csrw mtvec, t0
  li t0, -1                    # PMP entry 0: all memory, RWX, for S and U (NAPOT)
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0

  # --- ECALL from M: cause 11, mepc = the ECALL, mtval = 0
  li TESTNUM, 1
e_m: ecall
  CHECK(1, s2, 11)
  la t0, e_m
  CHECK_REG(2, s4, t0)
  CHECK(3, s3, 0)

  # --- EBREAK: cause 3, mtval = its address (tsxi reports the pc)
b_m: ebreak
  CHECK(4, s2, 3)
  la t0, b_m
  CHECK_REG(5, s3, t0)

  # --- illegal instruction: mtval holds the instruction bits
ill: .word 0x0000500b          # custom-0 opcode: not an instruction here
  CHECK(6, s2, 2)
  CHECK(7, s3, 0x500b)
  csrr a0, 0x7ff               # no such CSR
  CHECK(8, s2, 2)
  CHECK(9, s3, 0x7ff02573)
  csrw mvendorid, zero         # read-only CSR written
  CHECK(10, s2, 2)

  # --- MPIE/MIE stack: a trap clears MIE and saves it in MPIE; MRET restores it
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  ecall
  andi a0, s5, MSTATUS_MIE | MSTATUS_MPIE
  CHECK(11, a0, MSTATUS_MPIE)
  csrr a0, mstatus
  andi a0, a0, MSTATUS_MIE | MSTATUS_MPIE
  CHECK(12, a0, MSTATUS_MIE | MSTATUS_MPIE)
  li t0, MSTATUS_MIE
  csrc mstatus, t0

  # --- ECALL from U (cause 8) and S (cause 9); MPP records where the trap came from
  la t0, back_to_m
  csrw mtvec, t0
  ENTER(0, in_u)
in_u:
  ecall
back_in_m_u:
  CHECK(20, s2, 8)
  srli a0, s5, 11
  andi a0, a0, 3
  CHECK(21, a0, 0)
  ENTER(1, in_s)
in_s:
  ecall
  CHECK(22, s2, 9)
  srli a0, s5, 11
  andi a0, a0, 3
  CHECK(23, a0, 1)

  # --- MRET to U leaves MPP = U (least privilege) and MPIE = 1
  ENTER(0, u_check)
u_check:
  ecall
  srli a0, s5, 11
  andi a0, a0, 3
  CHECK(24, a0, 0)

  # --- M-mode CSRs and MRET are illegal in S and U
  la t0, record_and_return_m
  csrw mtvec, t0
  ENTER(1, s_touch_m)
s_touch_m:
  csrr a0, mstatus
  ecall
  CHECK(30, s6, 2)              # first trap: illegal instruction from S
  ENTER(0, u_mret)
u_mret:
  mret
  ecall
  CHECK(31, s6, 2)
  ENTER(0, u_sret)
u_sret:
  sret
  ecall
  CHECK(32, s6, 2)
  li s6, 0
  ENTER(0, u_sstatus)
u_sstatus:
  csrsi sstatus, 2              # an S-mode CSR (translated code runs this one itself, but not in U)
  ecall
  CHECK(37, s6, 2)

  # --- TW: WFI in S traps; TSR: SRET in S traps; TVM: satp and SFENCE.VMA in S trap
  li t0, MSTATUS_TW | MSTATUS_TSR | MSTATUS_TVM
  csrs mstatus, t0
  ENTER(1, s_tw)
s_tw:
  wfi
  ecall
  CHECK(33, s6, 2)
  ENTER(1, s_tsr)
s_tsr:
  sret
  ecall
  CHECK(34, s6, 2)
  ENTER(1, s_tvm)
s_tvm:
  csrr a0, satp
  ecall
  CHECK(35, s6, 2)
  ENTER(1, s_tvm2)
s_tvm2:
  sfence.vma
  ecall
  CHECK(36, s6, 2)
  li t0, MSTATUS_TW | MSTATUS_TSR | MSTATUS_TVM
  csrc mstatus, t0

  # --- delegation: medeleg sends U's ECALL to S; scause/sepc/stval, SPP
  la t0, s_record
  csrw stvec, t0
  li t0, 1 << 8
  csrw medeleg, t0
  la t0, back_to_m
  csrw mtvec, t0
  li s7, 0
  ENTER(0, u_deleg)
u_deleg:
  ecall                        # to S
  ecall                        # S returned here with SRET: this one goes to S again, which escalates
  j fail
s_record:
  csrr s8, scause
  csrr s9, sepc
  csrr s10, sstatus
  addi s7, s7, 1
  li t0, 2
  beq s7, t0, s_escalate
  addi t0, s9, 4
  csrw sepc, t0
  sret
s_escalate:
  ecall                        # ECALL from S is not delegated: M
back_from_deleg:
  CHECK(40, s7, 2)
  CHECK(41, s8, 8)
  la t0, u_deleg + 4
  CHECK_REG(42, s9, t0)
  andi a0, s10, MSTATUS_SPP
  CHECK(43, a0, 0)
  CHECK(44, s2, 9)             # the M trap was S's ECALL
  # traps taken in M are never delegated, whatever medeleg says
  li t0, 1 << 2
  csrs medeleg, t0
  la t0, record
  csrw mtvec, t0
  .word 0x0000500b
  CHECK(45, s2, 2)
  csrw medeleg, zero

  # --- medeleg is WARL: ECALL from M (bit 11) cannot be delegated
  li t0, -1
  csrw medeleg, t0
  csrr a0, medeleg
  srli a0, a0, 11
  andi a0, a0, 1
  CHECK(46, a0, 0)
  csrw medeleg, zero
  j pass

  .align 2
# Records mcause/mtval/mepc/mstatus in s2-s5 and resumes after the trapping instruction.
record:
  csrr s2, mcause
  csrr s3, mtval
  csrr s4, mepc
  csrr s5, mstatus
  addi t0, s4, 4
  csrw mepc, t0
  mret

  .align 2
# Records the trap and continues in M-mode at the instruction after the ECALL (the checks).
back_to_m:
  csrr s2, mcause
  csrr s4, mepc
  csrr s5, mstatus
  li t0, MSTATUS_MPP
  csrs mstatus, t0
  addi t0, s4, 4
  la t1, back_from_deleg
  li t2, 9
  bne s2, t2, 1f
  bnez s7, 2f
1: csrw mepc, t0
  mret
2: csrw mepc, t1
  mret

  .align 2
# The first trap's cause goes to s6; the ECALL that follows returns to M after it.
record_and_return_m:
  csrr t0, mcause
  csrr t1, mepc
  li t2, 8
  beq t0, t2, 1f
  li t2, 9
  beq t0, t2, 1f
  mv s6, t0
  addi t1, t1, 4
  csrw mepc, t1
  mret
1: li t0, MSTATUS_MPP
  csrs mstatus, t0
  addi t1, t1, 4
  csrw mepc, t1
  mret
TEST_END
