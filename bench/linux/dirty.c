/*
 * dirty — the guest workload of the migration bench (bench/migrate.ts).
 *
 * usage: dirty MIB RATE
 *
 * Rewrites a MIB MiB anonymous buffer one 4 KiB page at a time, cycling
 * through it, at RATE MiB/s: a token bucket filled from CLOCK_MONOTONIC,
 * emptied every 5 ms, holding at most 50 ms of pages, so the rate is the
 * same whatever runs the guest as long as its hart keeps up (if it cannot,
 * the program writes flat out and its log shows the lower rate). Every page
 * gets a pattern of its number and its generation (how many times it was
 * written), which is checked before the page is written again: a page that
 * a migration lost or corrupted ends the program with a "CORRUPT" line.
 * Once a second it prints "dirty SECONDS MIBS PAGES": seconds since the
 * start, the MiB/s written in the last second (one decimal), pages written
 * in all.
 *
 * Freestanding (raw Linux syscalls, no libc): bench/migrate.ts builds it
 * with riscv64-linux-gnu-gcc and appends it to the default initramfs as
 * /bin/dirty.
 */
typedef unsigned long u64;

#define SYS_write 64
#define SYS_exit 93
#define SYS_nanosleep 101
#define SYS_clock_gettime 113
#define SYS_mmap 222
#define PAGE_WORDS 512

struct timespec { long sec, nsec; };

static long syscall6(long n, long a, long b, long c, long d, long e, long f) {
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a3 __asm__("a3") = d;
  register long a4 __asm__("a4") = e;
  register long a5 __asm__("a5") = f;
  register long a7 __asm__("a7") = n;
  __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
  return a0;
}

static void put(const char *s) {
  long n = 0;
  while (s[n] != 0) n++;
  syscall6(SYS_write, 1, (long)s, n, 0, 0, 0);
}

/* Appends the decimal digits of v to p; returns the new end. */
static char *num(char *p, u64 v) {
  char tmp[24];
  int k = 0;
  do tmp[k++] = (char)('0' + v % 10); while ((v /= 10) != 0);
  while (k > 0) *p++ = tmp[--k];
  return p;
}

static __attribute__((noreturn)) void quit(int code) {
  for (;;) syscall6(SYS_exit, code, 0, 0, 0, 0, 0);
}

static u64 now_ns(void) {
  struct timespec ts;
  syscall6(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, (long)&ts, 0, 0, 0, 0);
  return (u64)ts.sec * 1000000000ul + (u64)ts.nsec;
}

static u64 parse(const char *s) {
  u64 v = 0;
  if (s == 0 || *s == 0) return 0;
  for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (u64)(*s - '0');
  return *s == 0 ? v : 0;
}

/* The first word of page p in generation g; word i is that plus i. Never zero in practice. */
static u64 pattern(u64 p, u64 g) {
  return ((p + 1) * 0x9E3779B97F4A7C15ul) ^ ((g + 1) * 0xBF58476D1CE4E5B9ul);
}

static void corrupt(u64 p, u64 g, u64 i, u64 got, u64 want) {
  char line[160], *q = line;
  const char *a = "dirty CORRUPT page ", *b = " generation ", *c = " word ", *d = ": got ", *e = " want ";
  while (*a) *q++ = *a++;
  q = num(q, p);
  while (*b) *q++ = *b++;
  q = num(q, g);
  while (*c) *q++ = *c++;
  q = num(q, i);
  while (*d) *q++ = *d++;
  q = num(q, got);
  while (*e) *q++ = *e++;
  q = num(q, want);
  *q++ = '\n';
  *q = 0;
  put(line);
  quit(1);
}

static __attribute__((used)) void cmain(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  u64 mib = argc == 3 ? parse(argv[1]) : 0, rate = argc == 3 ? parse(argv[2]) : 0;
  if (mib == 0 || rate == 0) {
    put("usage: dirty MIB RATE (MiB to rewrite, MiB/s)\n");
    quit(2);
  }
  u64 pages = mib * 256;
  long m = syscall6(SYS_mmap, 0, (long)(pages * 4096), 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, -1, 0);
  if (m < 0 && m > -4096) {
    put("dirty: mmap failed\n");
    quit(1);
  }
  volatile u64 *buf = (volatile u64 *)m;
  u64 perSec = rate * 256;                 /* pages per second */
  u64 cap = perSec * 50000000ul;           /* 50 ms of pages, in page-nanoseconds */
  if (cap < 1000000000ul) cap = 1000000000ul;
  u64 tokens = 0, done = 0;
  u64 start = now_ns(), last = start, reportAt = start + 1000000000ul, reportDone = 0, reportT = start;
  struct timespec step = { 0, 5000000 };
  for (;;) {
    u64 t = now_ns();
    tokens += (t - last) * perSec;
    if (tokens > cap) tokens = cap;
    last = t;
    for (; tokens >= 1000000000ul; tokens -= 1000000000ul, done++) {
      u64 p = done % pages, g = done / pages;
      volatile u64 *w = buf + p * PAGE_WORDS;
      if (g > 0) {
        u64 want = pattern(p, g - 1);
        if (w[0] != want) corrupt(p, g, 0, w[0], want);
        if (w[PAGE_WORDS / 2] != want + PAGE_WORDS / 2) corrupt(p, g, PAGE_WORDS / 2, w[PAGE_WORDS / 2], want + PAGE_WORDS / 2);
        if (w[PAGE_WORDS - 1] != want + PAGE_WORDS - 1) corrupt(p, g, PAGE_WORDS - 1, w[PAGE_WORDS - 1], want + PAGE_WORDS - 1);
      }
      u64 v = pattern(p, g);
      for (u64 i = 0; i < PAGE_WORDS; i++) w[i] = v + i;
    }
    if (t >= reportAt) {
      /* MiB/s times 10 = pages * 10 / 256 per (t - reportT) ns */
      u64 tenths = (done - reportDone) * 10ul * 1000000000ul / 256ul / (t - reportT);
      char line[96], *q = line;
      const char *a = "dirty ";
      while (*a) *q++ = *a++;
      q = num(q, (t - start) / 1000000000ul);
      *q++ = ' ';
      q = num(q, tenths / 10);
      *q++ = '.';
      q = num(q, tenths % 10);
      *q++ = ' ';
      q = num(q, done);
      *q++ = '\n';
      *q = 0;
      put(line);
      reportAt = t + 1000000000ul;
      reportDone = done;
      reportT = t;
    }
    syscall6(SYS_nanosleep, (long)&step, 0, 0, 0, 0, 0);
  }
}

__asm__(".globl _start\n"
        "_start:\n"
        "  .option push\n"
        "  .option norelax\n"
        "  la gp, __global_pointer$\n"
        "  .option pop\n"
        "  mv a0, sp\n"
        "  call cmain\n");
