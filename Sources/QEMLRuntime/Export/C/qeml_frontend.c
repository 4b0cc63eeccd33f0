/*
 * qeml_frontend.c — the model's `frontend` section with the conventions of QEMLSignal's FrontEnd:
 * crop/zero-pad to FE_LENGTH, centre padding (reflect or zeros), window, a real FFT, the scale,
 * mel bands, bilinear resize, standardize. The same in every export; <model>_runtime.c defines
 * the FE_* constants and the tables (window, twiddles, mel bank, resize taps) before including it,
 * so every size is a compile-time constant.
 *
 * The FFT: for a power-of-two FE_NFFT (FE_RADIX2), the real transform as a complex radix-2 FFT of
 * FE_NFFT/2 points (even samples real, odd imaginary; split real/imaginary arrays and one
 * contiguous twiddle table per stage, so the butterflies vectorize) plus the split step, in float
 * like the host's FFTW plan; for any other length a direct DFT over one table of FE_NFFT cosines
 * and sines, accumulated in double (FE_NFFT^2 multiply-adds per frame: fine for short frames).
 * log1p is QEMLSignal's polynomial (Cephes logf with a first-order correction), so both front
 * ends round alike.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* FE_SCALE: what a bin's power p becomes. */
#define FE_SCALE_POWER 0
#define FE_SCALE_MAGNITUDE 1
#define FE_SCALE_LOG1P 2
#define FE_SCALE_DB 3

/* scratch floats: padded signal, network input, frame + FFT work */
#define FE_PADDED_FLOATS (FE_LENGTH + 2 * FE_PAD)
#define FE_MAP_FLOATS (FE_MAP_ROWS * FE_FRAMES)
#define FE_PLANE_FLOATS (FE_ROWS * FE_COLS) /* one channel */
#define FE_OUT_FLOATS (FE_CHANNELS * FE_PLANE_FLOATS)
/* Frames are transformed FE_TILE at a time, element k of frame f at [k * FE_TILE + f]: every
   butterfly is then a fixed-length loop over the tile, which compilers vectorize at -O2. */
#define FE_WORK_FLOATS (FE_TILE * (4 * FE_NFFT + 8))

#if FE_RADIX2
/* One radix-2 butterfly over a tile of frames (restrict parameters: the rows never overlap,
   which lets the compiler vectorize the tile loop). */
static inline void fe_butterfly(float *restrict ar, float *restrict ai, float *restrict br, float *restrict bi,
                                float wr, float wi) {
    for (int f = 0; f < FE_TILE; f++) {
        const float tr = br[f] * wr - bi[f] * wi, ti = br[f] * wi + bi[f] * wr;
        br[f] = ar[f] - tr; bi[f] = ai[f] - ti;
        ar[f] += tr; ai[f] += ti;
    }
}

/* X[k] = E[k] + w^k O[k] from Z[p = k mod m] and Z[q = (m - k) mod m], over a tile. */
static inline void fe_split(const float *restrict pr, const float *restrict pi, const float *restrict qr,
                            const float *restrict qi, float *restrict xr, float *restrict xi, float sr, float si) {
    for (int f = 0; f < FE_TILE; f++) {
        const float er = 0.5f * (pr[f] + qr[f]), ei = 0.5f * (pi[f] - qi[f]);
        const float odr = 0.5f * (pi[f] + qi[f]), odi = -0.5f * (pr[f] - qr[f]);
        xr[f] = er + sr * odr - si * odi;
        xi[f] = ei + sr * odi + si * odr;
    }
}

/* X[0..n/2] of FE_TILE real frames x[0..n)[tile]; work holds 2m * FE_TILE floats. */
static void fe_rfft(const float *x, float *xr, float *xi, float *work) {
    float *zr = work, *zi = work + FE_M * FE_TILE;
    for (int k = 0; k < FE_M; k++) {
        const float *se = x + 2 * k * FE_TILE, *so = se + FE_TILE;
        float *dr = zr + fe_bitrev[k] * FE_TILE, *di = zi + fe_bitrev[k] * FE_TILE;
        for (int f = 0; f < FE_TILE; f++) { dr[f] = se[f]; di[f] = so[f]; }
    }
    for (int half = 1; half < FE_M; half *= 2)
        for (int start = 0; start < FE_M; start += 2 * half)
            for (int j = 0; j < half; j++) {
                float *ar = zr + (start + j) * FE_TILE, *ai = zi + (start + j) * FE_TILE;
                fe_butterfly(ar, ai, ar + half * FE_TILE, ai + half * FE_TILE, fe_tw_re[half + j], fe_tw_im[half + j]);
            }
    for (int k = 0; k <= FE_M; k++) {
        const int p = k == FE_M ? 0 : k, q = k == 0 ? 0 : FE_M - k;
        fe_split(zr + p * FE_TILE, zi + p * FE_TILE, zr + q * FE_TILE, zi + q * FE_TILE,
                 xr + k * FE_TILE, xi + k * FE_TILE, fe_split_re[k], fe_split_im[k]);
    }
}
#else
/* FE_NFFT is not a power of two: a direct DFT over one table of e^(-2 pi i j / n). */
static void fe_rfft(const float *x, float *xr, float *xi, float *work) {
    (void)work;
    for (int k = 0; k < FE_BINS; k++) {
        double sr[FE_TILE] = {0}, si[FE_TILE] = {0};
        for (int j = 0; j < FE_NFFT; j++) {
            const int t = (int)(((long long)k * j) % FE_NFFT);
            for (int f = 0; f < FE_TILE; f++) {
                sr[f] += x[j * FE_TILE + f] * fe_dft_re[t];
                si[f] += x[j * FE_TILE + f] * fe_dft_im[t];
            }
        }
        for (int f = 0; f < FE_TILE; f++) { xr[k * FE_TILE + f] = (float)sr[f]; xi[k * FE_TILE + f] = (float)si[f]; }
    }
}
#endif

#if FE_SCALE == FE_SCALE_LOG1P && !FE_MEL
/* log(1 + x), x >= 0: QEMLSignal's vectorLog1p (Cephes logf, max relative error ~1e-7, with
   musl's range reduction; the rounding of 1 + x corrected to first order). */
static inline float fe_log1p(float x) {
    const float u = 1.0f + x;
    uint32_t ix;
    memcpy(&ix, &u, 4);
    ix += 0x3f800000u - 0x3f3504f3u;
    const float e = (float)((int32_t)(ix >> 23) - 0x7f);
    const uint32_t mb = (ix & 0x007fffffu) + 0x3f3504f3u;
    float mf;
    memcpy(&mf, &mb, 4);
    const float m = mf - 1.0f, z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m + -1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m + -1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m + -1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m + -2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y = y + e * -2.12194440e-4f;
    y = y - 0.5f * z;
    const float log_u = (m + y) + e * 0.693359375f;
    return log_u + (x - (u - 1.0f)) / u;
}
#endif

#if FE_REFLECT
/* numpy's `reflect` index (edge not repeated) for any distance past the ends. */
static long fe_reflect(long i, long n) {
    if (n <= 1) return 0;
    const long period = 2 * n - 2;
    long k = i % period;
    if (k < 0) k += period;
    return k < n ? k : period - k;
}
#endif

/* The scaled |X|^2 of one bin over a tile of frames (vectorizes with -fno-math-errno: p >= 0).
   With mel bands, log1p comes after the bank. */
static inline void fe_scale_tile(const float *restrict re, const float *restrict im, float *restrict out) {
    for (int f = 0; f < FE_TILE; f++) {
        const float p = re[f] * re[f] + im[f] * im[f];
#if FE_SCALE == FE_SCALE_MAGNITUDE || (FE_SCALE == FE_SCALE_LOG1P && FE_MEL)
        out[f] = sqrtf(p);
#elif FE_SCALE == FE_SCALE_LOG1P
        out[f] = fe_log1p(sqrtf(p));
#else
        out[f] = p; /* power, and db (converted after the map is complete) */
#endif
    }
}

/* signal (count samples), or |signal| -> spec [FE_BINS][FE_FRAMES], row 0 = 0 Hz: the frames t with
   need[t] (every frame when need is NULL; a stream keeps the others from its previous
   window). Returns how many frames it computed. */
static int fe_spectrogram(const float *signal, size_t count, int rectify, float *padded, float *work, float *spec,
                          const unsigned char *need) {
    const size_t n = count < FE_LENGTH ? count : FE_LENGTH;
    float *x = padded + FE_PAD;
    for (size_t i = 0; i < n; i++) x[i] = rectify ? fabsf(signal[i]) : signal[i];
    for (size_t i = n; i < FE_LENGTH; i++) x[i] = 0.0f;
    for (long i = 0; i < FE_PAD; i++) {
#if FE_REFLECT
        padded[FE_PAD - 1 - i] = x[fe_reflect(-1 - i, FE_LENGTH)];
        x[FE_LENGTH + i] = x[fe_reflect(FE_LENGTH + i, FE_LENGTH)];
#else
        padded[FE_PAD - 1 - i] = 0.0f;
        x[FE_LENGTH + i] = 0.0f;
#endif
    }
    float *frame = work, *xr = frame + FE_NFFT * FE_TILE, *xi = xr + (FE_BINS + 1) * FE_TILE, *fft = xi + (FE_BINS + 1) * FE_TILE;
    int computed = 0;
    for (int t = 0; t < FE_FRAMES;) {
        /* The next tile: up to FE_TILE frames that are needed. */
        int idx[FE_TILE], valid = 0;
        for (; t < FE_FRAMES && valid < FE_TILE; t++) if (!need || need[t]) idx[valid++] = t;
        if (valid == 0) break;
        for (int f = 0; f < FE_TILE; f++) {
            /* Past the last frame the tile repeats its first (computed, never stored). */
            const float *src = padded + (size_t)idx[f < valid ? f : 0] * FE_HOP;
            for (int k = 0; k < FE_NFFT; k++) frame[k * FE_TILE + f] = src[k] * fe_window[k];
        }
        fe_rfft(frame, xr, xi, fft);
        for (int b = 0; b < FE_BINS; b++) {
            float v[FE_TILE];
            fe_scale_tile(xr + b * FE_TILE, xi + b * FE_TILE, v);
            for (int f = 0; f < valid; f++) spec[b * FE_FRAMES + idx[f]] = v[f];
        }
        computed += valid;
    }
    return computed;
}

#if FE_MEL
/* Mel bands (Slaney, librosa's defaults): [FE_MAP_ROWS][FE_FRAMES] = bank . spec, band m over bins
   [first, first + count), the bank's weights from offset. */
static void fe_mel(const float *spec, float *out) {
    for (int m = 0; m < FE_MAP_ROWS; m++) {
        float *o = out + m * FE_FRAMES;
        for (int t = 0; t < FE_FRAMES; t++) o[t] = 0.0f;
        for (int i = 0; i < fe_mel_count[m]; i++) {
            const float w = fe_mel_w[fe_mel_offset[m] + i];
            const float *s = spec + (fe_mel_first[m] + i) * FE_FRAMES;
            for (int t = 0; t < FE_FRAMES; t++) o[t] += w * s[t];
        }
#if FE_SCALE == FE_SCALE_LOG1P
        for (int t = 0; t < FE_FRAMES; t++) o[t] = log1pf(o[t]);
#endif
    }
}
#endif

#if FE_SCALE == FE_SCALE_DB
/* librosa's power_to_db: 10 log10(max(amin, S)) - 10 log10(max(amin, ref)), floored at
   max - top_db when FE_TOP_DB is set. */
static void fe_db(float *s, size_t count) {
    double peak = -1.0 / 0.0;
    for (size_t i = 0; i < count; i++) {
        const double v = 10.0 * log10(s[i] > FE_DB_AMIN ? (double)s[i] : FE_DB_AMIN) - FE_DB_OFFSET;
        s[i] = (float)v;
        if (v > peak) peak = v;
    }
#ifdef FE_TOP_DB
    const float floor_ = (float)(peak - FE_TOP_DB);
    for (size_t i = 0; i < count; i++) if (s[i] < floor_) s[i] = floor_;
#else
    (void)peak;
#endif
}
#endif

#if FE_RESIZE
/* Bilinear resize [FE_MAP_ROWS][FE_FRAMES] -> [FE_ROWS][FE_COLS], half-pixel centres, no antialiasing
   (torch interpolate align_corners=False); the taps are QEMLSignal's. */
static void fe_resize(const float *x, float *out) {
    for (int i = 0; i < FE_ROWS; i++) {
        const float *lo = x + fe_row_lo[i] * FE_FRAMES, *hi = x + fe_row_hi[i] * FE_FRAMES;
        const float rf = fe_row_frac[i];
        for (int j = 0; j < FE_COLS; j++) {
            const float cf = fe_col_frac[j];
            const float top = (1 - cf) * lo[fe_col_lo[j]] + cf * lo[fe_col_hi[j]];
            const float bottom = (1 - cf) * hi[fe_col_lo[j]] + cf * hi[fe_col_hi[j]];
            out[i * FE_COLS + j] = (1 - rf) * top + rf * bottom;
        }
    }
}
#endif

#if FE_STANDARDIZE
/* (x - mean) / std, population std, accumulated in double; constant input -> zeros. */
static void fe_standardize(float *s, size_t count) {
    double sum = 0, sq = 0;
    for (size_t i = 0; i < count; i++) sum += s[i];
    const double mean = sum / (double)count;
    for (size_t i = 0; i < count; i++) { const double d = s[i] - mean; sq += d * d; }
    const double std_ = sqrt(sq / (double)count);
    for (size_t i = 0; i < count; i++) s[i] = std_ > 0 ? (float)((s[i] - mean) / std_) : 0.0f;
}
#endif

/* The network input [FE_CHANNELS][FE_ROWS][FE_COLS] for one signal, written to `resized`. A stream
   passes one spectrogram per channel (`stride` floats apart) and the frames to compute;
   a one-shot run passes one spectrogram for every channel (stride 0) and need NULL.
   Returns the frames computed over all channels. */
static int fe_frames(const float *signal, size_t count, float *padded, float *work, float *specs, size_t stride,
                     const unsigned char *need, float *resized) {
    int computed = 0;
    for (int ch = 0; ch < FE_CHANNELS; ch++) {
        float *spec = specs + (size_t)ch * stride;
        /* The map: mel bands after the STFT, or the STFT's rows from the first kept bin (fmin). */
        float *map = FE_MEL ? spec + FE_BINS * FE_FRAMES : spec + FE_BIN0 * FE_FRAMES, *out = resized + (size_t)ch * FE_PLANE_FLOATS;
        computed += fe_spectrogram(signal, count, fe_rectify[ch], padded, work, spec, need);
#if FE_MEL
        fe_mel(spec, map);
#endif
#if FE_SCALE == FE_SCALE_DB
        fe_db(map, FE_MAP_FLOATS);
#endif
#if FE_RESIZE
        fe_resize(map, out);
#else
        memcpy(out, map, sizeof(float) * FE_PLANE_FLOATS);
#endif
#if FE_STANDARDIZE
        fe_standardize(out, FE_PLANE_FLOATS);
#endif
    }
    return computed;
}

static float *fe_run(const float *signal, size_t count, float *padded, float *work, float *spec, float *resized) {
    fe_frames(signal, count, padded, work, spec, 0, NULL, resized);
    return resized;
}
