# Call-heavy code in the shape of kernel code: short blocks ending in calls,
# returns and branches, with loads and stores to a stack frame and a table.
#include "test.h"
TEST_BEGIN
  la sp, stack_top
  la s1, table
  li s0, 10000000
1:
  mv a0, s0
  call hash
  andi t0, a0, 63
  slli t0, t0, 3
  add t0, s1, t0
  ld t1, 0(t0)
  add t1, t1, a0
  sd t1, 0(t0)
  call bump
  addi s0, s0, -1
  bnez s0, 1b
  j pass

# a0 = mix of a0 (two blocks and a call)
hash:
  addi sp, sp, -16
  sd ra, 8(sp)
  sd a0, 0(sp)
  slli a1, a0, 5
  xor a0, a0, a1
  call rot
  ld a1, 0(sp)
  add a0, a0, a1
  ld ra, 8(sp)
  addi sp, sp, 16
  ret

rot:
  srli a2, a0, 7
  slli a3, a0, 57
  or a0, a2, a3
  andi a4, a0, 1
  beqz a4, 2f
  addi a0, a0, 1
2:
  ret

bump:
  la t2, counter
  lw t3, 0(t2)
  addiw t3, t3, 1
  sw t3, 0(t2)
  ret

  .data
  .align 3
counter: .word 0
  .bss
  .align 12
table: .space 512
  .space 4096
stack_top:
TEST_END
