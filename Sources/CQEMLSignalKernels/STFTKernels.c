#include "CQEMLSignalKernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma")))

int qeml_signal_avx2_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* Natural log of positive normal floats: the same Cephes polynomial and musl range reduction
   as FastMath.swift's vectorLog, eight lanes, with fused multiply-adds. */
AVX2 static inline __m256 log_ps(__m256 u) {
    __m256i ix = _mm256_add_epi32(_mm256_castps_si256(u), _mm256_set1_epi32(0x3f800000 - 0x3f3504f3));
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srai_epi32(ix, 23), _mm256_set1_epi32(0x7f)));
    __m256 m = _mm256_castsi256_ps(_mm256_add_epi32(_mm256_and_si256(ix, _mm256_set1_epi32(0x007fffff)),
                                                    _mm256_set1_epi32(0x3f3504f3)));
    __m256 x = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    __m256 z = _mm256_mul_ps(x, x);
    __m256 y = _mm256_set1_ps(7.0376836292e-2f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.1514610310e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.1676998740e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.2420140846e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.4249322787e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-1.6668057665e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(2.0000714765e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(-2.4999993993e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(3.3333331174e-1f));
    y = _mm256_mul_ps(_mm256_mul_ps(y, x), z);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, y);
    return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), _mm256_add_ps(x, y));
}

/* log(1 + x), x >= 0: log(u) + (x - (u - 1)) / u with u = fl(1 + x). */
AVX2 static inline __m256 log1p_ps(__m256 x) {
    __m256 one = _mm256_set1_ps(1.0f);
    __m256 u = _mm256_add_ps(one, x);
    return _mm256_add_ps(log_ps(u), _mm256_div_ps(_mm256_sub_ps(x, _mm256_sub_ps(u, one)), u));
}

AVX2 void qeml_stft_epilogue_avx2(const float *spectrum, long tile, long valid, long bins,
                                  float *out, long stride, int mode) {
    for (long b = 0; b < bins; b++) {
        const float *row = spectrum + 2 * b * tile;
        float *dst = out + b * stride;
        for (long j = 0; j < valid; j += 8) {
            /* 8 complex numbers: square, add (re², im²) pairs; hadd leaves 128-bit halves
               interleaved (p0 p1 p4 p5 | p2 p3 p6 p7), the permute restores the order. */
            __m256 a = _mm256_loadu_ps(row + 2 * j), c = _mm256_loadu_ps(row + 2 * j + 8);
            __m256 p = _mm256_hadd_ps(_mm256_mul_ps(a, a), _mm256_mul_ps(c, c));
            p = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(p), 0xD8));
            __m256 r = mode == 0 ? p : mode == 1 ? _mm256_sqrt_ps(p) : log1p_ps(_mm256_sqrt_ps(p));
            if (j + 8 <= valid) {
                _mm256_storeu_ps(dst + j, r);
            } else {
                float tmp[8];
                _mm256_storeu_ps(tmp, r);
                for (long l = 0; l < valid - j; l++) dst[j + l] = tmp[l];
            }
        }
    }
}

AVX2 void qeml_stft_frames_avx2(const float *signal, long hop, long count, const float *window, long n, float *frames) {
    for (long j = 0; j < count; j++) {
        const float *src = signal + j * hop;
        float *dst = frames + j * n;
        long k = 0;
        for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, _mm256_mul_ps(_mm256_loadu_ps(src + k), _mm256_loadu_ps(window + k)));
        for (; k < n; k++) dst[k] = src[k] * window[k];
    }
}

#else

int qeml_signal_avx2_available(void) { return 0; }

void qeml_stft_frames_avx2(const float *signal, long hop, long count, const float *window, long n, float *frames) {
    (void)signal; (void)hop; (void)count; (void)window; (void)n; (void)frames;
}

void qeml_stft_epilogue_avx2(const float *spectrum, long tile, long valid, long bins,
                             float *out, long stride, int mode) {
    (void)spectrum; (void)tile; (void)valid; (void)bins; (void)out; (void)stride; (void)mode;
}

#endif
