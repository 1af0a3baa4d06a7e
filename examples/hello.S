# A bare-metal RV64 program: prints a greeting through the HTIF console
# (device 1, command 1) and exits with status 0 (tohost = 1).
  .section .text.init
  .globl _start
_start:
  la a0, message
  la a1, tohost
  la a2, fromhost
  li a3, (1 << 56) | (1 << 48)      # device 1 (console), command 1 (write)
print:
  lbu t0, 0(a0)
  beqz t0, done
  or t0, t0, a3
  sd t0, 0(a1)
wait:                               # the host acknowledges through fromhost
  ld t1, 0(a2)
  beqz t1, wait
  sd zero, 0(a2)
  addi a0, a0, 1
  j print
done:
  li t0, 1                          # exit status 0: (0 << 1) | 1
  sd t0, 0(a1)
1:j 1b

  .data
message: .asciz "Hello from a RISC-V guest on tsxi!\n"

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0
