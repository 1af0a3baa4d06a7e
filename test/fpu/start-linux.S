/* Linux user-mode start for fpcheck.c under qemu-riscv64: write(2) and exit(2). */
  .text
  .globl _start
_start:
  call check
  .globl putch
putch:
  addi sp, sp, -16
  sb a0, 0(sp)
  li a0, 1
  mv a1, sp
  li a2, 1
  li a7, 64               /* write */
  ecall
  addi sp, sp, 16
  ret
  .globl finish
finish:
  li a0, 0
  li a7, 93               /* exit */
  ecall
