# Branch-heavy code: Collatz sequence lengths for 1..150000, data-dependent branches.
#include "test.h"
TEST_BEGIN
  li s0, 1
  li s1, 150000
  li s2, 0
1:
  mv t0, s0
2:
  li t1, 1
  beq t0, t1, 4f
  andi t2, t0, 1
  bnez t2, 3f
  srli t0, t0, 1
  addi s2, s2, 1
  j 2b
3:
  slli t3, t0, 1
  add t0, t0, t3
  addi t0, t0, 1
  addi s2, s2, 1
  j 2b
4:
  addi s0, s0, 1
  ble s0, s1, 1b
  j pass
TEST_END
