# A jump to the far end of the 64-bit address space (jalr to
# 0x7ffffffffffffffe, beyond what a double holds exactly) is an instruction
# access fault for the guest, never an error of the host: translated code and
# its dispatch loop must take any pc a guest can make. Done 3 times so the
# jumping block runs translated too.
#include "test.h"
TEST_BEGIN
  la t0, handler
  csrw mtvec, t0
  li s0, 3
again:
  li t1, 0x7fffffffffffffff
  la ra, back
  jalr zero, 0(t1)
  j fail
back:
  addi s0, s0, -1
  bnez s0, again
  j pass
  .align 2
handler:
  csrr t2, mcause
  CHECK(1, t2, 1)           # instruction access fault
  jr ra
TEST_END
