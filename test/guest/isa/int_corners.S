# Integer corner cases of RV64IM (Unprivileged ISA ch. 4, 13): division by
# zero and overflow (table 13.1), sign extension of every W result,
# shift amounts, and the high halves of products.
#include "test.h"
TEST_BEGIN
  li s0, 0x8000000000000000   # INT64_MIN
  li s1, -1
  li s2, 0x80000000           # zero-extended INT32_MIN bit pattern

  # division by zero: quotient all ones, remainder the dividend
  li a1, 7
  div a0, a1, zero;   CHECK(1, a0, -1)
  divu a0, a1, zero;  CHECK(2, a0, -1)
  rem a0, a1, zero;   CHECK(3, a0, 7)
  remu a0, a1, zero;  CHECK(4, a0, 7)
  li a1, -7
  divw a0, a1, zero;  CHECK(5, a0, -1)
  divuw a0, a1, zero; CHECK(6, a0, -1)
  remw a0, a1, zero;  CHECK(7, a0, -7)
  remuw a0, a1, zero; CHECK(8, a0, -7)    # remainder of the 32-bit value, sign-extended
  # overflow: INT_MIN / -1 = INT_MIN, remainder 0
  div a0, s0, s1;     CHECK(10, a0, 0x8000000000000000)
  rem a0, s0, s1;     CHECK(11, a0, 0)
  divw a0, s2, s1;    CHECK(12, a0, 0xffffffff80000000)
  remw a0, s2, s1;    CHECK(13, a0, 0)
  # signs of quotient and remainder (round toward zero)
  li a1, -7
  li a2, 2
  div a0, a1, a2;     CHECK(14, a0, -3)
  rem a0, a1, a2;     CHECK(15, a0, -1)
  divu a0, a1, a2;    CHECK(16, a0, 0x7ffffffffffffffc)
  remu a0, a1, a2;    CHECK(17, a0, 1)
  # W forms ignore the upper 32 bits of their operands
  li a1, 0x1234567800000010
  li a2, 0xfedcba9800000004
  divw a0, a1, a2;    CHECK(18, a0, 4)
  mulw a0, a1, a2;    CHECK(19, a0, 64)

  # sign extension of W results
  li a1, 0x7fffffff
  addiw a0, a1, 1;    CHECK(20, a0, 0xffffffff80000000)
  addw a0, a1, a1;    CHECK(21, a0, -2)
  li a2, 0xffffffff
  subw a0, zero, a2;  CHECK(22, a0, 1)
  slliw a0, a1, 1;    CHECK(23, a0, -2)
  srliw a0, s2, 0;    CHECK(24, a0, 0xffffffff80000000)
  srliw a0, s2, 1;    CHECK(25, a0, 0x40000000)
  sraiw a0, s2, 31;   CHECK(26, a0, -1)
  li a3, 33           # shift amounts use the low 5 bits for W ops
  sllw a0, a1, a3;    CHECK(27, a0, 0xfffffffffffffffe)
  srlw a0, s2, a3;    CHECK(28, a0, 0x40000000)
  sraw a0, s2, a3;    CHECK(29, a0, 0xffffffffc0000000)
  mulw a0, a1, a1;    CHECK(30, a0, 1)
  addiw a0, s0, 0;    CHECK(31, a0, 0)   # sext.w of a value with zero low half

  # 64-bit shifts use the low 6 bits
  li a3, 65
  sll a0, s1, a3;     CHECK(40, a0, -2)
  srl a0, s0, a3;     CHECK(41, a0, 0x4000000000000000)
  sra a0, s0, a3;     CHECK(42, a0, 0xc000000000000000)
  srai a0, s0, 63;    CHECK(43, a0, -1)
  srli a0, s0, 63;    CHECK(44, a0, 1)

  # high halves of products
  mulh a0, s0, s0;    CHECK(50, a0, 0x4000000000000000)
  mulhu a0, s1, s1;   CHECK(51, a0, 0xfffffffffffffffe)
  mulhsu a0, s1, s1;  CHECK(52, a0, -1)   # -1 * (2^64 - 1)
  mulh a0, s1, s1;    CHECK(53, a0, 0)
  li a1, 0x123456789abcdef1
  li a2, 0x0fedcba987654321
  mulhu a0, a1, a2;   CHECK(54, a0, 0x0121fa00ad77d742)
  mul a0, a1, a2;     CHECK(55, a0, 0x3224a4396cc6d011)

  # comparisons at the extremes
  slt a0, s0, zero;   CHECK(60, a0, 1)
  sltu a0, s0, zero;  CHECK(61, a0, 0)
  sltiu a0, zero, -1; CHECK(62, a0, 1)   # the immediate is sign-extended, then compared unsigned
  slti a0, s1, 0;     CHECK(63, a0, 1)
  lui a0, 0x80000;    CHECK(64, a0, 0xffffffff80000000)
  j pass
TEST_END
