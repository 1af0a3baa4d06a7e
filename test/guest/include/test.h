/*
 * Macros for tsxi's guest test programs (assembled with Debian's
 * binutils-riscv64-linux-gnu at test time). A program starts in M-mode at
 * _start, keeps the current test number in gp (x3), and ends with PASS or
 * FAIL, which report through HTIF: exit status 0, or the failing test number.
 * An unexpected trap lands in `trap_unexpected`, which fails with
 * 1000 + mcause so the cause is visible in the exit status.
 */
#define TESTNUM gp

#define HTIF_EXIT(code_reg)      \
  slli code_reg, code_reg, 1;    \
  ori code_reg, code_reg, 1;     \
  la t6, tohost;                 \
  sd code_reg, 0(t6);            \
1: j 1b

#define PASS                     \
  li a0, 0;                      \
  HTIF_EXIT(a0)

#define FAIL                     \
  mv a0, TESTNUM;                \
  HTIF_EXIT(a0)

/* Fails unless register `reg` equals the 64-bit constant `val`; sets TESTNUM first. */
#define CHECK(n, reg, val)       \
  li TESTNUM, n;                 \
  li t6, val;                    \
  bne reg, t6, fail

/* Program prologue: entry, a default M-mode trap vector, then the body at `main`. */
#define TEST_BEGIN               \
  .section .text.init;           \
  .globl _start;                 \
_start:                          \
  la t0, trap_unexpected;        \
  csrw mtvec, t0;                \
  li TESTNUM, 0;                 \
  j main;                        \
  .align 2;                      \
trap_unexpected:                 \
  csrr a0, mcause;               \
  bltz a0, 2f;                   \
  addi a0, a0, 1000;             \
  HTIF_EXIT(a0);                 \
2: slli a0, a0, 1;               \
  srli a0, a0, 1;                \
  addi a0, a0, 1100;             \
  HTIF_EXIT(a0);                 \
fail:                            \
  FAIL;                          \
pass:                            \
  PASS;                          \
main:

#define TEST_END                 \
  .section .tohost, "aw", @progbits; \
  .align 6;                      \
  .globl tohost;                 \
tohost: .dword 0;                \
  .align 6;                      \
  .globl fromhost;               \
fromhost: .dword 0

/* Fails unless register `reg` equals register `expected`; sets TESTNUM first. */
#define CHECK_REG(n, reg, expected) \
  li TESTNUM, n;                 \
  bne reg, expected, fail
