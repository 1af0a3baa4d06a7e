# The A extension (Unprivileged ISA ch. 14): every AMO in .w and .d forms
# (old value returned, .w results sign-extended), LR/SC success and failure
# rules, and the alignment fault of misaligned atomics (cause 6, or 4 for LR).
#include "test.h"
#define AMO_CHECK(n, op, init, operand, old, new) \
  li t0, init;                   \
  sd t0, 0(s0);                  \
  li t1, operand;                \
  op a0, t1, (s0);               \
  CHECK(n, a0, old);             \
  ld a1, 0(s0);                  \
  CHECK(n, a1, new)

TEST_BEGIN
  .option norvc
  la s0, word
  AMO_CHECK(1, amoswap.d, 5, 7, 5, 7)
  AMO_CHECK(2, amoadd.d, -1, 1, -1, 0)
  AMO_CHECK(3, amoxor.d, 0xff00, 0x0ff0, 0xff00, 0xf0f0)
  AMO_CHECK(4, amoand.d, 0xff00, 0x0ff0, 0xff00, 0x0f00)
  AMO_CHECK(5, amoor.d, 0xff00, 0x0ff0, 0xff00, 0xfff0)
  AMO_CHECK(6, amomin.d, -5, 3, -5, -5)
  AMO_CHECK(7, amomax.d, -5, 3, -5, 3)
  AMO_CHECK(8, amominu.d, -5, 3, -5, 3)
  AMO_CHECK(9, amomaxu.d, -5, 3, -5, -5)
  # .w forms operate on the low word, return it sign-extended, leave the high word alone
  AMO_CHECK(10, amoadd.w, 0x123456787fffffff, 1, 0x7fffffff, 0x1234567880000000)
  AMO_CHECK(11, amoswap.w, 0x1234567880000000, 1, 0xffffffff80000000, 0x1234567800000001)
  AMO_CHECK(12, amomin.w, 0x00000000ffffffff, 0, -1, 0x00000000ffffffff)
  AMO_CHECK(13, amominu.w, 0x00000000ffffffff, 0, -1, 0)
  AMO_CHECK(14, amomax.w, 0x0000000080000000, 0x7fffffff, 0xffffffff80000000, 0x7fffffff)
  AMO_CHECK(15, amomaxu.w, 0x0000000080000000, 0x7fffffff, 0xffffffff80000000, 0x80000000)
  AMO_CHECK(16, amoxor.w, 0, -1, 0, 0xffffffff)
  AMO_CHECK(17, amoand.w, -1, 0x0f0f0f0f, 0xffffffffffffffff, 0xffffffff0f0f0f0f)
  AMO_CHECK(18, amoor.w, 0, 0x80000000, 0, 0x80000000)
  # .w operands: the upper half of rs2 is ignored
  AMO_CHECK(19, amomin.w, 5, 0x00000001fffffffe, 5, 0x00000000fffffffe)
  AMO_CHECK(40, amomaxu.w, 0xffffffff00000001, 0x7fffffff00000002, 1, 0xffffffff00000002)
  AMO_CHECK(41, amomax.d, -3, -3, -3, -3)
  # rd = x0 discards the old value; rd = rs2 receives it after the operand was used
  li t0, 5
  sd t0, 0(s0)
  li t1, 7
  amoadd.d zero, t1, (s0)
  ld a1, 0(s0)
  CHECK(42, a1, 12)
  amoswap.d t1, t1, (s0)
  CHECK(43, t1, 12)
  ld a1, 0(s0)
  CHECK(44, a1, 7)
  # the first access to a page (a TLB miss), then a second one
  la s1, fresh
  li t1, 2
  amoadd.d a0, t1, (s1)
  CHECK(45, a0, 40)
  amoadd.d a0, t1, (s1)
  CHECK(46, a0, 42)
  # a loop of AMOs
  sd zero, 0(s0)
  li t0, 100
  li t1, 3
1: amoadd.w zero, t1, (s0)
  addi t0, t0, -1
  bnez t0, 1b
  ld a1, 0(s0)
  CHECK(47, a1, 300)
  # an AMO that rewrites code, on a page the read TLB maps: the write must
  # be noted, so that the instruction's new bits run after FENCE.I (the
  # first FENCE.I re-checks all code anyway; the second relies on the note)
  fence.i
  la s1, patched
  lw t0, 0(s1)
  jal patched
  CHECK(48, a0, 1)
  li t1, 0x00200513            # addi a0, zero, 2
  amoswap.w zero, t1, (s1)
  fence.i
  jal patched
  CHECK(49, a0, 2)

  # --- LR/SC: success writes and returns 0; a second SC without a new LR fails
  li t0, 10
  sd t0, 0(s0)
  lr.d a0, (s0)
  CHECK(20, a0, 10)
  li t1, 11
  sc.d a1, t1, (s0)
  CHECK(21, a1, 0)
  ld a0, 0(s0)
  CHECK(22, a0, 11)
  li t1, 12
  sc.d a1, t1, (s0)
  bnez a1, 1f
  j fail
1: ld a0, 0(s0)
  CHECK(23, a0, 11)
  # SC to a different address than the reservation fails and does not write
  lr.d a0, (s0)
  addi s1, s0, 8
  sd zero, 0(s1)
  sc.d a1, t1, (s1)
  li TESTNUM, 24
  beqz a1, fail
  ld a0, 0(s1)
  CHECK(25, a0, 0)
  # a trap between LR and SC (here an ECALL) clears the reservation (tsxi invalidates it on traps)
  la t0, skip
  csrw mtvec, t0
  lr.w a0, (s0)
  ecall
  sc.w a1, t1, (s0)
  li TESTNUM, 26
  beqz a1, fail
  # lr.w sign-extends
  li t0, 0x80000000
  sw t0, 0(s0)
  lr.w a0, (s0)
  CHECK(27, a0, 0xffffffff80000000)
  sc.w a1, zero, (s0)
  CHECK(28, a1, 0)

  # --- misaligned atomics: store/AMO address misaligned (6); LR: load address misaligned (4)
  la t0, record
  csrw mtvec, t0
  addi s1, s0, 4
  li s2, -1
  amoadd.d a0, t1, (s1)
  CHECK(30, s2, 6)
  CHECK_REG(31, s3, s1)
  addi s1, s0, 2
  amoswap.w a0, t1, (s1)
  CHECK(32, s2, 6)
  lr.w a0, (s1)
  CHECK(33, s2, 4)
  sc.w a0, t1, (s1)
  CHECK(34, s2, 6)
  j pass

  .align 2
skip:
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret
  .align 2
patched:
  addi a0, zero, 1
  ret
  .align 2
record:
  csrr s2, mcause
  csrr s3, mtval
  csrr t0, mepc
  addi t0, t0, 4
  csrw mepc, t0
  mret

  .data
  .align 4
word: .dword 0, 0
  .align 12
fresh: .dword 40
TEST_END
