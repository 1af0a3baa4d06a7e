# Floating point: fused multiply-add, multiply and add over doubles.
#include "test.h"
TEST_BEGIN
  li t0, 1 << 13
  csrs mstatus, t0
  li t0, 5000000
  li t1, 1
  fcvt.d.l f0, t1
  li t1, 3
  fcvt.d.l f1, t1
  fdiv.d f1, f0, f1
  fmv.d f2, f0
  fmv.d f3, f0
1:
  fmadd.d f2, f1, f2, f0
  fmul.d f3, f3, f1
  fadd.d f3, f3, f0
  addi t0, t0, -1
  bnez t0, 1b
  j pass
TEST_END
