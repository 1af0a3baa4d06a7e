# Memory copy: 64 KiB copied 200 times with unrolled ld/sd.
#include "test.h"
TEST_BEGIN
  li s0, 200
1:
  la a0, src
  la a1, dst
  li a2, 65536/32
2:
  ld t0, 0(a0)
  ld t1, 8(a0)
  ld t2, 16(a0)
  ld t3, 24(a0)
  sd t0, 0(a1)
  sd t1, 8(a1)
  sd t2, 16(a1)
  sd t3, 24(a1)
  addi a0, a0, 32
  addi a1, a1, 32
  addi a2, a2, -1
  bnez a2, 2b
  addi s0, s0, -1
  bnez s0, 1b
  j pass
  .bss
  .align 12
src: .space 65536
dst: .space 65536
TEST_END
