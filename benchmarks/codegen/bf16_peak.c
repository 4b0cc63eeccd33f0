/* The core's peak for bf16 dot products (vdpbf16ps) and f32 FMAs (vfmadd) on zmm registers:
 * 12 independent accumulator chains, so neither is latency-bound. Measured once per machine to
 * say how close the generated bf16 convolutions run to what the CPU can do (benchmarks/RESULTS.md).
 *
 *   gcc -O2 -mavx512f -mavx512bf16 benchmarks/codegen/bf16_peak.c -o /tmp/bf16_peak && /tmp/bf16_peak
 *
 * Needs a CPU with AVX512_BF16 (grep avx512_bf16 /proc/cpuinfo). One vdpbf16ps on zmm does 32
 * bf16 multiply-adds into 16 f32 lanes (64 FLOP); one vfmadd231ps on zmm, 16 (32 FLOP). */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    __m512 a[12], f[12];
    for (int i = 0; i < 12; i++) { a[i] = _mm512_set1_ps(i * 1e-3f); f[i] = a[i]; }
    __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), y = (__m512bh)_mm512_set1_epi16(0x3f00);
    __m512 u = _mm512_set1_ps(1.0001f), v = _mm512_set1_ps(0.9999f);
    const long n = 100000000;
    for (int rep = 0; rep < 2; rep++) {
        double t = now();
        for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
            for (int i = 0; i < 12; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
        }
        double d = now() - t;
        printf("vdpbf16ps zmm: %.1f GFLOP/s\n", n * 12 * 64 / d / 1e9);
        t = now();
        for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
            for (int i = 0; i < 12; i++) f[i] = _mm512_fmadd_ps(f[i], u, v);
            __asm__ volatile("" : "+v"(x), "+v"(u));  /* keeps the loop from being folded */
        }
        d = now() - t;
        printf("vfmadd231ps zmm: %.1f GFLOP/s\n", n * 12 * 32 / d / 1e9);
    }
    float s = 0, o[16];
    for (int i = 0; i < 12; i++) { _mm512_storeu_ps(o, _mm512_add_ps(a[i], f[i])); s += o[0]; }
    printf("(checksum %g)\n", s);
    return 0;
}
