/*
 * IEEE-754 cross-check program for the F and D extensions. It runs every
 * FP operation over a few thousand operand sets (special values, boundary
 * values, random encodings, cancellation cases for fused multiply-add) in
 * all five rounding modes and prints one line per (operation, rounding mode)
 * with an FNV-1a hash of every result encoding and the fflags it raised.
 *
 * The same source is built twice: for Linux user mode (run by QEMU's
 * qemu-riscv64, whose softfloat is the reference) and bare-metal for tsxi
 * (HTIF console); the test compares the two outputs line by line.
 * Freestanding: no libc, output through putch() from the start file.
 */
typedef unsigned long u64;
typedef unsigned int u32;

void putch(int c);
void finish(void);

static void puts_(const char *s) { while (*s) putch(*s++); }
static void puthex(u64 v) {
  for (int i = 60; i >= 0; i -= 4) putch("0123456789abcdef"[(v >> i) & 15]);
}

static u64 rng = 0x9e3779b97f4a7c15ul;
static u64 next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return rng;
}

static const u64 SPECIAL_D[] = {
  0x0000000000000000ul, 0x8000000000000000ul, 0x7ff0000000000000ul, 0xfff0000000000000ul,
  0x7ff8000000000000ul, 0x7ff4000000000000ul, 0xfff8000000000001ul, 0x0000000000000001ul,
  0x800fffffffffffff, 0x0010000000000000ul, 0x8010000000000000ul, 0x7fefffffffffffff,
  0x3ff0000000000000ul, 0xbff0000000000000ul, 0x4000000000000000ul, 0x3ff0000000000001ul,
  0x3fe0000000000000ul, 0x43e0000000000000ul, 0xc3e0000000000000ul, 0x41e0000000000000ul,
  0x41dfffffffc00000ul, 0xc1e0000000000000ul, 0x43f0000000000000ul, 0x3fefffffffffffff,
  0x0008000000000000ul, 0x001fffffffffffff, 0x4330000000000000ul, 0x3ff8000000000000ul,
  0x4004000000000000ul, 0xc00c000000000000ul,
};
static const u32 SPECIAL_S[] = {
  0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000, 0xffc00001, 0x00000001,
  0x807fffff, 0x00800000, 0x80800000, 0x7f7fffff, 0x3f800000, 0xbf800000, 0x40000000, 0x3f800001,
  0x3f000000, 0x5f000000, 0xdf000000, 0x4f000000, 0x4effffff, 0xcf000000, 0x5f800000, 0x3f7fffff,
  0x00400000, 0x00ffffff, 0x4b000000, 0x3fc00000, 0x40200000, 0xc0600000,
};
#define NSPECIAL 30

/* Operands: specials, random encodings, and values with exponents near the edges. */
static u64 operand_d(void) {
  u64 r = next();
  switch (r & 7) {
    case 0: case 1: return SPECIAL_D[(r >> 8) % NSPECIAL];
    case 2: return (r & 0x800fffffffffffff) | ((u64)((r >> 20) % 60) << 52);            /* tiny and subnormal */
    case 3: return (r & 0x800fffffffffffff) | ((u64)(0x7ff - 1 - (r >> 20) % 60) << 52); /* huge */
    case 4: return (r & 0x800fffffffffffff) | ((u64)(1023 - 70 + (r >> 20) % 140) << 52); /* ordinary */
    case 5: return (r & 0x800fffffffffffff) | ((u64)(1023 + (r >> 20) % 64) << 52);       /* integer range */
    default: return next();
  }
}
static u64 operand_s(void) {
  u64 r = next();
  u32 v;
  switch (r & 7) {
    case 0: case 1: v = SPECIAL_S[(r >> 8) % NSPECIAL]; break;
    case 2: v = (u32)(r & 0x807fffff) | ((u32)((r >> 40) % 30) << 23); break;
    case 3: v = (u32)(r & 0x807fffff) | ((u32)(0xff - 1 - (r >> 40) % 30) << 23); break;
    case 4: v = (u32)(r & 0x807fffff) | ((u32)(127 - 30 + (r >> 40) % 60) << 23); break;
    case 5: v = (u32)(r & 0x807fffff) | ((u32)(127 + (r >> 40) % 64) << 23); break;
    default: v = (u32)(r >> 16); break;
  }
  return 0xffffffff00000000ul | v; /* NaN-boxed */
}
static u64 operand_int(void) {
  u64 r = next();
  switch (r & 3) {
    case 0: return (u64)(long)(int)(r >> 32);
    case 1: return r >> ((r >> 8) & 63);
    case 2: return -(r >> ((r >> 8) & 63));
    default: return r;
  }
}

static u64 hash;
static void mix(u64 v) {
  for (int i = 0; i < 8; i++) { hash ^= (v >> (8 * i)) & 0xff; hash *= 0x100000001b3ul; }
}

static void set_rm(u64 rm) { __asm__ volatile("fsrm %0" :: "r"(rm)); }
static u64 take_flags(void) { u64 f; __asm__ volatile("frflags %0\n\tfsflags x0" : "=r"(f)); return f; }

#define F3(NAME, INSN) static u64 NAME(u64 a, u64 b, u64 c) { u64 r; __asm__ volatile( \
  "fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfmv.d.x ft2, %3\n\t" INSN " ft3, ft0, ft1, ft2\n\tfmv.x.d %0, ft3" \
  : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); return r; }
#define F2(NAME, INSN) static u64 NAME(u64 a, u64 b, u64 c) { u64 r; (void)c; __asm__ volatile( \
  "fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" INSN " ft3, ft0, ft1\n\tfmv.x.d %0, ft3" \
  : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft3"); return r; }
#define F1(NAME, INSN) static u64 NAME(u64 a, u64 b, u64 c) { u64 r; (void)b; (void)c; __asm__ volatile( \
  "fmv.d.x ft0, %1\n\t" INSN " ft3, ft0\n\tfmv.x.d %0, ft3" : "=r"(r) : "r"(a) : "ft0", "ft3"); return r; }
#define X2(NAME, INSN) static u64 NAME(u64 a, u64 b, u64 c) { u64 r; (void)c; __asm__ volatile( \
  "fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" INSN " %0, ft0, ft1" : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1"); return r; }
#define X1(NAME, INSN) static u64 NAME(u64 a, u64 b, u64 c) { u64 r; (void)b; (void)c; __asm__ volatile( \
  "fmv.d.x ft0, %1\n\t" INSN " %0, ft0" : "=r"(r) : "r"(a) : "ft0"); return r; }
#define I1(NAME, INSN) static u64 NAME(u64 a, u64 b, u64 c) { u64 r; (void)b; (void)c; __asm__ volatile( \
  INSN " ft3, %1\n\tfmv.x.d %0, ft3" : "=r"(r) : "r"(a) : "ft3"); return r; }

F2(fadd_d, "fadd.d") F2(fsub_d, "fsub.d") F2(fmul_d, "fmul.d") F2(fdiv_d, "fdiv.d") F1(fsqrt_d, "fsqrt.d")
F3(fmadd_d, "fmadd.d") F3(fmsub_d, "fmsub.d") F3(fnmsub_d, "fnmsub.d") F3(fnmadd_d, "fnmadd.d")
F2(fmin_d, "fmin.d") F2(fmax_d, "fmax.d") F2(fsgnj_d, "fsgnj.d") F2(fsgnjn_d, "fsgnjn.d") F2(fsgnjx_d, "fsgnjx.d")
X2(feq_d, "feq.d") X2(flt_d, "flt.d") X2(fle_d, "fle.d") X1(fclass_d, "fclass.d")
X1(fcvt_w_d, "fcvt.w.d") X1(fcvt_wu_d, "fcvt.wu.d") X1(fcvt_l_d, "fcvt.l.d") X1(fcvt_lu_d, "fcvt.lu.d")
I1(fcvt_d_w, "fcvt.d.w") I1(fcvt_d_wu, "fcvt.d.wu") I1(fcvt_d_l, "fcvt.d.l") I1(fcvt_d_lu, "fcvt.d.lu")
F1(fcvt_s_d, "fcvt.s.d") F1(fcvt_d_s, "fcvt.d.s")
F2(fadd_s, "fadd.s") F2(fsub_s, "fsub.s") F2(fmul_s, "fmul.s") F2(fdiv_s, "fdiv.s") F1(fsqrt_s, "fsqrt.s")
F3(fmadd_s, "fmadd.s") F3(fmsub_s, "fmsub.s") F3(fnmsub_s, "fnmsub.s") F3(fnmadd_s, "fnmadd.s")
F2(fmin_s, "fmin.s") F2(fmax_s, "fmax.s") F2(fsgnj_s, "fsgnj.s") F2(fsgnjn_s, "fsgnjn.s") F2(fsgnjx_s, "fsgnjx.s")
X2(feq_s, "feq.s") X2(flt_s, "flt.s") X2(fle_s, "fle.s") X1(fclass_s, "fclass.s") X1(fmv_x_w, "fmv.x.w")
X1(fcvt_w_s, "fcvt.w.s") X1(fcvt_wu_s, "fcvt.wu.s") X1(fcvt_l_s, "fcvt.l.s") X1(fcvt_lu_s, "fcvt.lu.s")
I1(fcvt_s_w, "fcvt.s.w") I1(fcvt_s_wu, "fcvt.s.wu") I1(fcvt_s_l, "fcvt.s.l") I1(fcvt_s_lu, "fcvt.s.lu")

enum Kind { D, S, INT, RAW };
struct Op { const char *name; u64 (*fn)(u64, u64, u64); enum Kind kind; };
static const struct Op OPS[] = {
  {"fadd.d", fadd_d, D}, {"fsub.d", fsub_d, D}, {"fmul.d", fmul_d, D}, {"fdiv.d", fdiv_d, D},
  {"fsqrt.d", fsqrt_d, D}, {"fmadd.d", fmadd_d, D}, {"fmsub.d", fmsub_d, D}, {"fnmsub.d", fnmsub_d, D},
  {"fnmadd.d", fnmadd_d, D}, {"fmin.d", fmin_d, D}, {"fmax.d", fmax_d, D}, {"fsgnj.d", fsgnj_d, D},
  {"fsgnjn.d", fsgnjn_d, D}, {"fsgnjx.d", fsgnjx_d, D}, {"feq.d", feq_d, D}, {"flt.d", flt_d, D},
  {"fle.d", fle_d, D}, {"fclass.d", fclass_d, D}, {"fcvt.w.d", fcvt_w_d, D}, {"fcvt.wu.d", fcvt_wu_d, D},
  {"fcvt.l.d", fcvt_l_d, D}, {"fcvt.lu.d", fcvt_lu_d, D}, {"fcvt.d.w", fcvt_d_w, INT},
  {"fcvt.d.wu", fcvt_d_wu, INT}, {"fcvt.d.l", fcvt_d_l, INT}, {"fcvt.d.lu", fcvt_d_lu, INT},
  {"fcvt.s.d", fcvt_s_d, D}, {"fcvt.d.s", fcvt_d_s, S},
  {"fadd.s", fadd_s, S}, {"fsub.s", fsub_s, S}, {"fmul.s", fmul_s, S}, {"fdiv.s", fdiv_s, S},
  {"fsqrt.s", fsqrt_s, S}, {"fmadd.s", fmadd_s, S}, {"fmsub.s", fmsub_s, S}, {"fnmsub.s", fnmsub_s, S},
  {"fnmadd.s", fnmadd_s, S}, {"fmin.s", fmin_s, S}, {"fmax.s", fmax_s, S}, {"fsgnj.s", fsgnj_s, S},
  {"fsgnjn.s", fsgnjn_s, S}, {"fsgnjx.s", fsgnjx_s, S}, {"feq.s", feq_s, S}, {"flt.s", flt_s, S},
  {"fle.s", fle_s, S}, {"fclass.s", fclass_s, S}, {"fcvt.w.s", fcvt_w_s, S}, {"fcvt.wu.s", fcvt_wu_s, S},
  {"fcvt.l.s", fcvt_l_s, S}, {"fcvt.lu.s", fcvt_lu_s, S}, {"fcvt.s.w", fcvt_s_w, INT},
  {"fcvt.s.wu", fcvt_s_wu, INT}, {"fcvt.s.l", fcvt_s_l, INT}, {"fcvt.s.lu", fcvt_s_lu, INT},
  /* single-precision operations on improperly NaN-boxed inputs see the canonical NaN */
  {"fadd.s/unboxed", fadd_s, RAW}, {"fmv.x.w/unboxed", fmv_x_w, RAW}, {"fsgnj.s/unboxed", fsgnj_s, RAW},
};

#ifndef ITERATIONS
#define ITERATIONS 1500
#endif

void check(void) {
  for (unsigned k = 0; k < sizeof OPS / sizeof OPS[0]; k++) {
    const struct Op *op = &OPS[k];
    for (u64 rm = 0; rm < 5; rm++) {
      hash = 0xcbf29ce484222325ul;
      rng = 0x9e3779b97f4a7c15ul ^ (k * 0x10001 + rm);
      set_rm(rm);
      take_flags();
      for (int i = 0; i < ITERATIONS; i++) {
        u64 a, b, c;
        if (op->kind == D) { a = operand_d(); b = operand_d(); c = operand_d(); }
        else if (op->kind == S) { a = operand_s(); b = operand_s(); c = operand_s(); }
        else if (op->kind == INT) { a = operand_int(); b = c = 0; }
        else { a = next(); b = operand_s(); c = 0; }
        if ((i & 7) == 7 && op->kind != INT && op->kind != RAW) {
          /* cancellation: c = -(a*b) rounded, so a fused result is the product's rounding error */
          set_rm(0);
          c = (op->kind == D ? fmul_d(a, b, 0) : fmul_s(a, b, 0)) ^ (op->kind == D ? 1ul << 63 : 1ul << 31);
          set_rm(rm);
          mix(take_flags());
        }
        u64 r = op->fn(a, b, c);
        u64 flags = take_flags();
        mix(r);
        mix(flags);
#ifdef TRACE_OP
        /* -DTRACE_OP=k -DTRACE_RM=m prints every case of one line, to find a divergence */
        if (k == TRACE_OP && rm == TRACE_RM) {
          puthex(a); putch(' '); puthex(b); putch(' '); puthex(c); putch(' ');
          puthex(r); putch(' '); puthex(flags); putch('\n');
        }
#endif
      }
      puts_(op->name); putch(' '); putch('0' + (int)rm); putch(' '); puthex(hash); putch('\n');
    }
  }
  finish();
}
