/* Bare-metal start for fpcheck.c on tsxi: FP on, stack, HTIF console and exit. */
  .section .text.init
  .globl _start
_start:
  li t0, 1 << 13          /* mstatus.FS = Initial */
  csrs mstatus, t0
  la sp, stack_top
  call check
  .globl putch
putch:
  li t0, 0x0101000000000000 /* device 1 (console), command 1 (write) */
  or a0, a0, t0
  la t1, tohost
  sd a0, 0(t1)
1: ld t2, 0(t1)           /* the host clears tohost when it has taken the byte */
  bnez t2, 1b
  ret
  .globl finish
finish:
  li a0, 1
  la t1, tohost
  sd a0, 0(t1)
2: j 2b
  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0
  .bss
  .align 4
  .space 65536
stack_top:
