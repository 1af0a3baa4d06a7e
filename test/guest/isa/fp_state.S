# F/D architectural state around the arithmetic (the arithmetic itself is
# cross-checked against QEMU by test/fpu): mstatus.FS gating and dirty
# tracking (Privileged ISA §3.1.6.6), reserved rounding modes (Unprivileged
# ISA §20.2), NaN-boxing of loads and moves (§21.2), FP loads/stores
# including the compressed forms.
#include "test.h"
#define MSTATUS_FS (3 << 13)
#define FS_INITIAL (1 << 13)
#define FS_CLEAN (2 << 13)

TEST_BEGIN
  .option push
  .option norvc              # the trap handler skips 4-byte instructions
  # --- FS = Off: every FP instruction and fcsr access is illegal
  li t0, MSTATUS_FS
  csrc mstatus, t0
  la t0, expect_illegal
  csrw mtvec, t0
  li TESTNUM, 1
  li s1, 0
  fadd.d f1, f2, f3
  li TESTNUM, 2
  csrr a0, fflags
  li TESTNUM, 3
  fld f1, 0(sp)
  li TESTNUM, 4
  fmv.x.d a0, f1
  li t0, 4
  bne s1, t0, fail

  # --- FS = Initial: an FP write makes it Dirty and sets SD (bit 63)
  li t0, FS_INITIAL
  csrs mstatus, t0
  csrr a0, mstatus
  bltz a0, fail
  li t1, 0x3ff0000000000000
  fmv.d.x f1, t1
  csrr a0, mstatus
  li t0, MSTATUS_FS
  and a1, a0, t0
  CHECK(10, a1, MSTATUS_FS)
  li TESTNUM, 11
  bgez a0, fail

  # --- Clean stays Clean for an FP op that writes only an x register and raises no flag
  li t0, MSTATUS_FS
  csrc mstatus, t0
  li t0, FS_CLEAN
  csrs mstatus, t0
  feq.d a0, f1, f1
  CHECK(12, a0, 1)
  csrr a0, mstatus
  li t0, MSTATUS_FS
  and a1, a0, t0
  CHECK(13, a1, FS_CLEAN)
  # ... but an fflags write by an instruction makes it Dirty
  fmv.d.x f2, zero
  li t0, MSTATUS_FS
  csrc mstatus, t0
  li t0, FS_CLEAN
  csrs mstatus, t0
  fdiv.d f3, f1, f2          # 1/0: DZ
  csrr a0, fflags
  CHECK(14, a0, 8)
  csrr a0, mstatus
  li t0, MSTATUS_FS
  and a1, a0, t0
  CHECK(15, a1, MSTATUS_FS)

  # --- fcsr layout: frm in bits 7:5, fflags in 4:0
  csrw fcsr, 0
  li t0, 0xff
  csrw fcsr, t0
  csrr a0, frm
  CHECK(20, a0, 7)
  csrr a0, fflags
  CHECK(21, a0, 0x1f)
  csrr a0, fcsr
  CHECK(22, a0, 0xff)
  csrwi fcsr, 0

  # --- reserved rounding modes: static 5/6 and dynamic with frm >= 5 are illegal
  li s1, 0
  li TESTNUM, 30
  .insn r 0x53, 5, 0x01, f1, f1, f1    # fadd.d rm=5
  li TESTNUM, 31
  .insn r 0x53, 6, 0x01, f1, f1, f1    # fadd.d rm=6
  li TESTNUM, 32
  csrwi frm, 5
  fadd.d f1, f1, f1, dyn
  li TESTNUM, 33
  csrwi frm, 7
  fcvt.w.d a0, f1, dyn
  li t0, 4
  bne s1, t0, fail
  csrwi frm, 0
  # ... while fsgnj, fmv and compares have no rounding mode to check
  fsgnj.d f4, f1, f1
  fmv.x.d a0, f4
  CHECK(34, a0, 0x3ff0000000000000)
  .option pop

  # --- loads and stores, NaN-boxing
  la s2, buffer
  li t0, 0x40490fdb          # pi as a single
  sw t0, 0(s2)
  flw f5, 0(s2)
  fmv.x.d a0, f5
  CHECK(40, a0, 0xffffffff40490fdb)
  fsw f5, 8(s2)
  lwu a0, 8(s2)
  CHECK(41, a0, 0x40490fdb)
  li t0, 0x123456789abcdef0
  sd t0, 16(s2)
  fld f6, 16(s2)
  fsd f6, 24(s2)
  ld a0, 24(s2)
  CHECK(42, a0, 0x123456789abcdef0)
  # fsw of an unboxed register stores its low 32 bits unchanged
  fsw f6, 32(s2)
  lwu a0, 32(s2)
  CHECK(43, a0, 0x9abcdef0)
  # a single-precision op on an unboxed register sees the canonical NaN
  fadd.s f7, f6, f5
  fmv.x.d a0, f7
  CHECK(44, a0, 0xffffffff7fc00000)
  # fmv.w.x boxes, fmv.x.w sign-extends bit 31
  li t0, 0x80000001
  fmv.w.x f8, t0
  fmv.x.d a0, f8
  CHECK(45, a0, 0xffffffff80000001)
  fmv.x.w a0, f8
  CHECK(46, a0, 0xffffffff80000001)
  # compressed forms: c.fld / c.fsd (x8-x15, f8-f15) and c.fldsp / c.fsdsp
  mv s0, s2
  c.fld f9, 16(s0)
  c.fsd f9, 40(s0)
  ld a0, 40(s2)
  CHECK(47, a0, 0x123456789abcdef0)
  mv t5, sp
  mv sp, s2
  c.fldsp f10, 16(sp)
  c.fsdsp f10, 48(sp)
  mv sp, t5
  ld a0, 48(s2)
  CHECK(48, a0, 0x123456789abcdef0)
  j pass

  # Illegal-instruction handler for the expected traps: counts, checks the
  # cause and that mtval holds the instruction, and skips the instruction.
  .align 2
expect_illegal:
  csrr t0, mcause
  li t1, 2
  bne t0, t1, fail
  csrr t0, mepc
  lwu t1, 0(t0)
  csrr t2, mtval
  bne t1, t2, fail
  addi t0, t0, 4
  csrw mepc, t0
  addi s1, s1, 1
  mret

  .data
  .align 3
buffer: .space 64
TEST_END
