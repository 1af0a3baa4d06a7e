# Zba, Zbb and Zbs (Unprivileged ISA ch. 28) with known results: orc.b on
# mixes of zero and nonzero bytes, rev8, counts of zero and all-ones
# operands, the .uw forms (low word zero-extended), W forms (upper half of
# the operand ignored, result sign-extended), signed against unsigned
# min/max, rotates and bit operations with amounts taken modulo 64.
#include "test.h"

/* Test n: `op a0, a1` (a1 = a), or with a second operand: register a2 = b, or immediate b. */
#define R1(n, op, a, expected)   li a1, a; op a0, a1; CHECK(n, a0, expected)
#define RR(n, op, a, b, expected) li a1, a; li a2, b; op a0, a1, a2; CHECK(n, a0, expected)
#define RI(n, op, a, b, expected) li a1, a; op a0, a1, b; CHECK(n, a0, expected)

TEST_BEGIN
  # orc.b: each byte becomes 0xff when nonzero; rev8
  R1(1, orc.b, 0x00ff008000010000, 0x00ff00ff00ff0000)
  R1(2, orc.b, 0, 0)
  R1(3, orc.b, -1, -1)
  R1(4, orc.b, 0x8000000000000001, 0xff000000000000ff)
  R1(5, rev8, 0x0123456789abcdef, 0xefcdab8967452301)
  R1(6, rev8, 0x8000000000000000, 0x80)

  # counts
  R1(10, clz, 0x0123456789abcdef, 7)
  R1(11, clz, 0, 64)
  R1(12, clz, 0x8000000000000000, 0)
  R1(13, clz, 1, 63)
  R1(14, ctz, 0x8000000000000000, 63)
  R1(15, ctz, 0, 64)
  R1(16, ctz, 0x100, 8)
  R1(17, cpop, 0x0123456789abcdef, 32)
  R1(18, cpop, -1, 64)
  R1(19, cpop, 0, 0)
  R1(20, clzw, 0xffffffff00000001, 31)
  R1(21, clzw, 0xffffffff00000000, 32)
  R1(22, ctzw, 0xffffffff00000000, 32)
  R1(23, ctzw, 0x80000000, 31)
  R1(24, cpopw, 0x0123456789abcdef, 20)

  # Zba
  RR(30, sh1add, 3, 10, 16)
  RR(31, sh2add, 3, 10, 22)
  RR(32, sh3add, 3, 10, 34)
  RR(33, sh3add, -1, 0, -8)
  RR(34, sh1add.uw, 0xffffffff80000000, 1, 0x100000001)
  RR(35, add.uw, -1, 1, 0x100000000)
  RR(36, sh2add.uw, -1, 0, 0x3fffffffc)
  RR(37, sh3add.uw, -1, 0, 0x7fffffff8)
  RI(38, slli.uw, -1, 4, 0xffffffff0)

  # logic with negation, min/max, extensions
  RR(40, andn, 0xff, 0x0f, 0xf0)
  RR(41, orn, 0, 0xff, 0xffffffffffffff00)
  RR(42, xnor, 0x0123456789abcdef, 0x0123456789abcdef, -1)
  RR(43, min, -1, 1, -1)
  RR(44, max, -1, 1, 1)
  RR(45, minu, -1, 1, 1)
  RR(46, maxu, -1, 1, -1)
  RR(47, min, 0x8000000000000000, 0, 0x8000000000000000)
  RR(48, maxu, 0x8000000000000000, 0, 0x8000000000000000)
  R1(50, sext.b, 0x80, 0xffffffffffffff80)
  R1(51, sext.h, 0x12348000, 0xffffffffffff8000)
  R1(52, zext.h, -1, 0xffff)

  # rotates: 64-bit amounts modulo 64, W amounts modulo 32
  RR(60, rol, 0x0123456789abcdef, 4, 0x123456789abcdef0)
  RR(61, ror, 0x0123456789abcdef, 4, 0xf0123456789abcde)
  RI(62, rori, 0x0123456789abcdef, 8, 0xef0123456789abcd)
  RR(63, rol, 0x0123456789abcdef, 68, 0x123456789abcdef0)
  RR(64, rolw, 0x80000001, 1, 3)
  RR(65, rorw, 1, 1, 0xffffffff80000000)
  RI(66, roriw, 0x12345678, 4, 0xffffffff81234567)
  RR(67, rolw, 0xdeadbeef00000001, 63, 0xffffffff80000000)

  # single bits: register indices modulo 64
  RR(70, bset, 0, 63, 0x8000000000000000)
  RR(71, bclr, -1, 0, -2)
  RR(72, binv, 0x0123456789abcdef, 0, 0x0123456789abcdee)
  RR(73, bext, 0x8000000000000000, 63, 1)
  RR(74, bext, 0x0123456789abcdef, 65, 1)
  RI(75, bseti, 0, 32, 0x100000000)
  RI(76, bclri, -1, 63, 0x7fffffffffffffff)
  RI(77, binvi, 0x8000000000000000, 63, 0)
  RI(78, bexti, 0x0123456789abcdef, 4, 0)
  j pass
TEST_END
