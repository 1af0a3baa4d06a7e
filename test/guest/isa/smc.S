# Self-modifying code (Zifencei): a routine is patched with a new immediate
# and called after FENCE.I, 300 times; every call must return the newest
# value, also once the routine has been decoded, cached and translated.
#include "test.h"
TEST_BEGIN
  li s0, 0                  # iteration = the immediate patched in
  li s1, 300
  la s2, slot
  li s3, 0x00000513         # addi a0, zero, 0
loop:
  slli t0, s0, 20           # immediate field
  or t0, t0, s3
  sw t0, 0(s2)
  fence.i
  jalr ra, 0(s2)
  li TESTNUM, 1
  bne a0, s0, fail
  addi s0, s0, 1
  blt s0, s1, loop
  # A compressed instruction patched in place of a 32-bit one: c.li a0, 7 ; c.nop.
  li t0, 0x0001451d
  sw t0, 0(s2)
  fence.i
  jalr ra, 0(s2)
  CHECK(2, a0, 7)
  j pass
  .align 2
  .option push
  .option norvc
slot:
  addi a0, zero, 0
  ret
  .option pop
TEST_END
