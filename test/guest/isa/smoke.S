# Smallest end-to-end check: arithmetic, a load/store round trip and an HTIF exit.
#include "test.h"
TEST_BEGIN
  li a0, 40
  addi a0, a0, 2
  CHECK(1, a0, 42)
  la a1, scratch
  sd a0, 0(a1)
  ld a2, 0(a1)
  CHECK(2, a2, 42)
  j pass
  .data
scratch: .dword 0
TEST_END
