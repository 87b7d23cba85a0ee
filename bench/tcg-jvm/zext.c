/* Differential test of x86-64 32-bit-operand instructions: every 32-bit register write must
   zero the upper half. Run on the host (real CPU) and in the TCG guest; compare the output. */
#include <stdio.h>
#include <stdint.h>
typedef uint64_t u64;
static u64 seed = 88172645463325252ULL;
static u64 rnd(void) { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed; }
static u64 pick(int i) {
  static const u64 fixed[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfe096d89, 0xfffffffffe096d89ULL, 0xdeadbeeffe096d89ULL, 0xffffffff00000000ULL, 0x8000000000000000ULL};
  return i < 10 ? fixed[i] : rnd();
}
#define N 400
static u64 hs[128]; static int k; static void mix(u64 v) { hs[k] = (hs[k] ^ v) * 0x100000001b3ULL; k++; }
// #define REPORT(name) do { printf("%-28s %016llx\n", name, (unsigned long long)h); h = 1469598103934665603ULL; } while (0)

int main(void) {
  for (int i = 0; i < N; i++) for (int j = 0; j < 12; j++) { k = 0;
    u64 a = pick(i), b = pick(j < 10 ? j : i + j), flags;
    u64 r, m, x;
    uint32_t m32;
    /* cmpxchg r/m32 (memory) r32: eax compared with mem */
    m32 = (uint32_t)b; r = a; x = 0xdeadbeef00000000ULL | (uint32_t)(b ^ i);
    asm volatile("lock cmpxchgl %k2, %1" : "+a"(r), "+m"(m32) : "r"(x) : "cc", "memory"); mix(r); mix(m32);
    m32 = (uint32_t)a; r = a; x = b;
    asm volatile("lock cmpxchgl %k2, %1" : "+a"(r), "+m"(m32) : "r"(x) : "cc", "memory"); mix(r); mix(m32);
    m32 = (uint32_t)b; r = a;
    asm volatile("cmpxchgl %k2, %1" : "+a"(r), "+m"(m32) : "r"(x) : "cc", "memory"); mix(r); mix(m32);
    /* cmpxchg with register destination */
    r = a; m = b; x = a ^ b;
    asm volatile("cmpxchgl %k2, %k1" : "+a"(r), "+r"(m) : "r"(x) : "cc"); mix(r); mix(m);
    r = a; m = a | 0x1234567800000000ULL; x = b;
    asm volatile("cmpxchgl %k2, %k1" : "+a"(r), "+r"(m) : "r"(x) : "cc"); mix(r); mix(m);
    /* xchg / xadd memory and register */
    m32 = (uint32_t)b; r = a;
    asm volatile("xchgl %k0, %1" : "+r"(r), "+m"(m32) :: "memory"); mix(r); mix(m32);
    m32 = (uint32_t)b; r = a;
    asm volatile("lock xaddl %k0, %1" : "+r"(r), "+m"(m32) :: "cc", "memory"); mix(r); mix(m32);
    r = a; m = b;
    asm volatile("xaddl %k0, %k1" : "+r"(r), "+r"(m) :: "cc"); mix(r); mix(m);
    r = a; m = b;
    asm volatile("xchgl %k0, %k1" : "+r"(r), "+r"(m)); mix(r); mix(m);
    /* cmov taken and not taken (not taken still zero-extends in 64-bit mode) */
    r = a; m = b;
    asm volatile("cmpq %2, %2\n\tcmovel %k1, %k0" : "+r"(r) : "r"(m), "r"(a) : "cc"); mix(r);
    r = a; m = b;
    asm volatile("cmpq %2, %2\n\tcmovnel %k1, %k0" : "+r"(r) : "r"(m), "r"(a) : "cc"); mix(r);
    m32 = (uint32_t)b; r = a;
    asm volatile("cmpq %2, %2\n\tcmovnel %1, %k0" : "+r"(r) : "m"(m32), "r"(a) : "cc"); mix(r);
    /* bswap, shld/shrd, imul, neg/not, movsxd, lea, mov load, rotate, bt*, setcc, popcnt-free */
    r = a; asm volatile("bswapl %k0" : "+r"(r)); mix(r);
    r = a; m = b; asm volatile("shldl $5, %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; m = b; asm volatile("shrdl $7, %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; m = b; x = (b & 31) | 0xff00; asm volatile("shldl %%cl, %k1, %k0" : "+r"(r) : "r"(m), "c"(x) : "cc"); mix(r);
    r = a; m = b; x = (b & 31); asm volatile("shrdl %%cl, %k1, %k0" : "+r"(r) : "r"(m), "c"(x) : "cc"); mix(r);
    r = a; m = b; asm volatile("imull %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; asm volatile("imull $-3, %k0, %k0" : "+r"(r) :: "cc"); mix(r);
    r = a; asm volatile("negl %k0" : "+r"(r) :: "cc"); mix(r);
    r = a; asm volatile("notl %k0" : "+r"(r)); mix(r);
    r = a; asm volatile("movslq %k0, %0" : "+r"(r)); mix(r);
    r = a; m = b; asm volatile("leal 12(%0,%1,4), %k0" : "+r"(r) : "r"(m)); mix(r);
    m32 = (uint32_t)b; r = a; asm volatile("movl %1, %k0" : "+r"(r) : "m"(m32)); mix(r);
    r = a; m = b; asm volatile("movl %k1, %k0" : "+r"(r) : "r"(m)); mix(r);
    r = a; asm volatile("roll $3, %k0" : "+r"(r) :: "cc"); mix(r);
    r = a; x = b & 63; asm volatile("rorl %%cl, %k0" : "+r"(r) : "c"(x) : "cc"); mix(r);
    r = a; x = b & 63; asm volatile("sarl %%cl, %k0" : "+r"(r) : "c"(x) : "cc"); mix(r);
    r = a; x = b & 63; asm volatile("shrl %%cl, %k0" : "+r"(r) : "c"(x) : "cc"); mix(r);
    r = a; x = b & 63; asm volatile("shll %%cl, %k0" : "+r"(r) : "c"(x) : "cc"); mix(r);
    r = a; x = b & 31; asm volatile("btsl %k1, %k0" : "+r"(r) : "r"(x) : "cc"); mix(r);
    r = a; x = b & 31; asm volatile("btrl %k1, %k0" : "+r"(r) : "r"(x) : "cc"); mix(r);
    r = a; x = b & 31; asm volatile("btcl %k1, %k0" : "+r"(r) : "r"(x) : "cc"); mix(r);
    r = a; m = b; asm volatile("adcl %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; m = b; asm volatile("stc\n\tsbbl %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; m = b | 1; asm volatile("bsfl %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; m = b | 1; asm volatile("bsrl %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    r = a; m = b; asm volatile("movzwl %w1, %k0" : "+r"(r) : "r"(m)); mix(r);
    r = a; m = b; asm volatile("movsbl %b1, %k0" : "+r"(r) : "r"(m)); mix(r);
    r = a; m = b; asm volatile("movswl %w1, %k0" : "+r"(r) : "r"(m)); mix(r);
    r = a; asm volatile("xorl %k0, %k0" : "+r"(r) :: "cc"); mix(r);
    r = a; asm volatile("incl %k0" : "+r"(r) :: "cc"); mix(r);
    r = a; m = b; asm volatile("andl %k1, %k0" : "+r"(r) : "r"(m) : "cc"); mix(r);
    { u64 ra = a, rd = b; asm volatile("cltq" : "+a"(ra)); mix(ra); ra = a; asm volatile("cltd" : "+a"(ra), "=d"(rd)); mix(ra); mix(rd); }
    { u64 ra = a | 1, rd = 0; m = (b | 1) & 0x7fffffff; asm volatile("xorl %%edx,%%edx\n\tdivl %k2" : "+a"(ra), "=&d"(rd) : "r"(m) : "cc"); mix(ra); mix(rd); }
    { u64 ra = a, rd = b; m = b; asm volatile("mull %k2" : "+a"(ra), "+d"(rd) : "r"(m) : "cc"); mix(ra); mix(rd); }
    (void)flags;
  }
  for (int q = 0; q < k; q++) printf("mix%02d %016llx\n", q, (unsigned long long)hs[q]);
  /* per-op breakdown for diagnosis: rerun each group separately */
  return 0;
}
