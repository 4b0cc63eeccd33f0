// The STFT's framing and epilogue in AVX2+FMA, chosen at run time. Swift cannot compile one function for a
// wider ISA than the rest of the module, so this one kernel is C with a target attribute.
#ifndef CQEML_SIGNAL_KERNELS_H
#define CQEML_SIGNAL_KERNELS_H

/// 1 when the CPU runs AVX2 and FMA (x86-64 only), else 0.
int qeml_signal_avx2_available(void);

/// For each of `bins` rows of `tile` interleaved complex numbers in `spectrum`, writes the first
/// `valid` values of |X|² (mode 0), |X| (mode 1) or log(1 + |X|) (mode 2) to
/// `out[bin * stride + j]`. `tile` must be a multiple of 8. Only call when available.
void qeml_stft_epilogue_avx2(const float *spectrum, long tile, long valid, long bins,
                             float *out, long stride, int mode);

/// Frames `count` windows: `frames[j * n + k] = signal[j * hop + k] * window[k]`.
void qeml_stft_frames_avx2(const float *signal, long hop, long count, const float *window, long n, float *frames);

#endif
