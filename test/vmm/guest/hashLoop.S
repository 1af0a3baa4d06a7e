/*
 * A deterministic CPU, memory and floating-point workload for checkpoint
 * tests: an S-mode program for tsxi's built-in SBI (a kernel that needs no
 * kernel). It fills 2 MiB with a linear congruential sequence, then makes
 * ROUNDS passes that fold every doubleword into an FNV-1a style hash and
 * write the running hash back (so memory is rewritten all the time), while
 * summing the doublewords as doubles. It prints "hash=<16 hex digits>
 * fp=<16 hex digits>" through the SBI console and shuts down through SRST.
 */
#ifndef ROUNDS
#define ROUNDS 60
#endif
#define WORDS (2 * 1024 * 1024 / 8)

  .section .text.init
  .globl _start
_start:
  li t0, 1 << 13          /* sstatus.FS = Initial: the FP unit on */
  csrs sstatus, t0
  la s0, buf
  li s1, WORDS
  li t0, 0x9e3779b97f4a7c15
  li t1, 6364136223846793005
  li t2, 1442695040888963407
  mv t3, s0
  mv t4, s1
1:
  mul t0, t0, t1
  add t0, t0, t2
  sd t0, 0(t3)
  addi t3, t3, 8
  addi t4, t4, -1
  bnez t4, 1b

  li s2, ROUNDS
  li a5, 0xcbf29ce484222325
  li a6, 0x100000001b3
  fmv.d.x ft1, zero
2:
  mv t3, s0
  li t4, 0
3:
  ld t5, 0(t3)
  xor a5, a5, t5
  mul a5, a5, a6
  add t6, a5, t4
  sd t6, 0(t3)
  srli t5, t5, 12
  fcvt.d.lu ft0, t5
  fadd.d ft1, ft1, ft0
  addi t3, t3, 8
  addi t4, t4, 1
  bne t4, s1, 3b
  addi s2, s2, -1
  bnez s2, 2b

  la a0, hash_label
  call puts
  mv a0, a5
  call puthex
  la a0, fp_label
  call puts
  fmv.x.d a0, ft1
  call puthex
  li a0, '\n'
  call putc
  /* SBI SRST: shutdown, no reason */
  li a7, 0x53525354
  li a6, 0
  li a0, 0
  li a1, 0
  ecall
4:
  j 4b

/* a0: character, through the legacy SBI console putchar */
putc:
  li a7, 1
  ecall
  ret

/* a0: NUL-terminated string */
puts:
  mv s3, ra
  mv s4, a0
5:
  lbu a0, 0(s4)
  beqz a0, 6f
  call putc
  addi s4, s4, 1
  j 5b
6:
  mv ra, s3
  ret

/* a0: 64-bit value, as 16 hex digits */
puthex:
  mv s3, ra
  mv s4, a0
  li s5, 60
7:
  srl a0, s4, s5
  andi a0, a0, 15
  li t0, 10
  blt a0, t0, 8f
  addi a0, a0, 'a' - 10
  j 9f
8:
  addi a0, a0, '0'
9:
  call putc
  addi s5, s5, -4
  bgez s5, 7b
  mv ra, s3
  ret

  .section .data
hash_label: .string "hash="
fp_label: .string " fp="

  .section .bss
  .balign 4096
buf: .space WORDS * 8
