# Integer ALU loop: adds, xors, shifts and a counted branch.
#include "test.h"
TEST_BEGIN
  li t0, 20000000
  li t1, 0
  li t2, 0x12345
1:
  addi t1, t1, 3
  xor t2, t2, t1
  slli t3, t2, 3
  add t1, t1, t3
  srli t2, t2, 1
  addi t0, t0, -1
  bnez t0, 1b
  j pass
TEST_END
