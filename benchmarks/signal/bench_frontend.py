#!/usr/bin/env python3
"""Front-end speed, side by side in one run: the log1p-magnitude STFT of one 12,000-sample
signal and of a batch of 256 (n_fft 256, hop 64, periodic Hann, centred with reflect padding),
one thread, with qemlc, SciPy, librosa, NumPy and pyFFTW (FFTW_MEASURE plan made once, reused).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
        python3 benchmarks/signal/bench_frontend.py --qemlc "qemlc bench-frontend"

Every tool computes the same numbers (checked against librosa before timing). Times are the
fastest of many runs in CPU time of the calling thread (time.thread_time / CLOCK_THREAD_CPUTIME_ID),
so time spent descheduled on a shared machine does not count; qemlc's bench measures the same way.
"""
import argparse
import os
import platform
import shlex
import subprocess
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np
import scipy
import scipy.signal
import librosa
import pyfftw

N, NFFT, HOP, BATCH = 12_000, 256, 64, 256
PAD = NFFT // 2
FRAMES = 1 + N // HOP
WIN32 = scipy.signal.get_window("hann", NFFT).astype(np.float32)
WIN64 = WIN32.astype(np.float64)


def fastest(f, repeats):
    f()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.thread_time_ns()
        f()
        best = min(best, time.thread_time_ns() - t0)
    return best / 1e3


def scipy_stft(x):
    _, _, z = scipy.signal.stft(x, window=WIN32, nperseg=NFFT, noverlap=NFFT - HOP, boundary="even", padded=False)
    return np.log1p(np.abs(z) * WIN32.sum())   # scipy scales by 1/sum(window): undo it


def librosa_stft(x):
    return np.log1p(np.abs(librosa.stft(x, n_fft=NFFT, hop_length=HOP, window="hann", center=True, pad_mode="reflect")))


def numpy_stft(x):
    xp = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(PAD, PAD)], mode="reflect")
    frames = np.lib.stride_tricks.sliding_window_view(xp, NFFT, axis=-1)[..., ::HOP, :] * WIN32
    return np.log1p(np.abs(np.fft.rfft(frames, axis=-1))).swapaxes(-1, -2)


class PyFFTW:
    """A reused FFTW_MEASURE plan over all frames of `count` signals, in `dtype`."""

    def __init__(self, count, dtype):
        self.win = WIN32.astype(dtype)
        cdt = np.complex64 if dtype == np.float32 else np.complex128
        self.a = pyfftw.empty_aligned((count, FRAMES, NFFT), dtype=dtype)
        self.b = pyfftw.empty_aligned((count, FRAMES, NFFT // 2 + 1), dtype=cdt)
        self.plan = pyfftw.FFTW(self.a, self.b, axes=(-1,), flags=("FFTW_MEASURE",), threads=1)
        self.count = count

    def __call__(self, x):
        xp = np.pad(x.reshape(self.count, -1), [(0, 0), (PAD, PAD)], mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(xp, NFFT, axis=-1)[:, ::HOP, :]
        np.multiply(frames, self.win, out=self.a)
        self.plan()
        return np.log1p(np.abs(self.b)).swapaxes(-1, -2)


def run_qemlc(command):
    out = subprocess.run(shlex.split(command), check=True, capture_output=True, text=True).stdout
    return {k: float(v) for k, v in (line.split() for line in out.splitlines() if line.strip())}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--qemlc", default="qemlc bench-frontend", help="command printing FrontEndBenchmark.report")
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--batch-repeats", type=int, default=10)
    args = ap.parse_args()

    rng = np.random.default_rng(1)
    batch = rng.uniform(-1, 1, (BATCH, N)).astype(np.float32)
    one = batch[0].copy()
    one64, batch64 = one.astype(np.float64), batch.astype(np.float64)

    f32_1, f32_b = PyFFTW(1, np.float32), PyFFTW(BATCH, np.float32)
    f64_1, f64_b = PyFFTW(1, np.float64), PyFFTW(BATCH, np.float64)
    tools = [
        ("SciPy (scipy.signal.stft)", scipy_stft, one, batch),
        ("librosa (librosa.stft)", librosa_stft, one, batch),
        ("NumPy (np.fft.rfft)", numpy_stft, one, batch),
        ("pyFFTW float32, reused plan", lambda x: f32_1(x) if x.ndim == 1 else f32_b(x), one, batch),
        ("pyFFTW float64, reused plan", lambda x: f64_1(x) if x.ndim == 1 else f64_b(x), one64, batch64),
    ]
    ref = librosa_stft(one)
    for name, f, x, _ in tools:
        y = np.asarray(f(x)).reshape(ref.shape)
        err = np.max(np.abs(y - ref) / (np.abs(ref) + 1e-3))
        assert err < 1e-4, (name, err)

    rows = []
    for name, f, x, xb in tools:
        single = fastest(lambda: f(x), args.repeats)
        per = fastest(lambda: f(xb), args.batch_repeats) / BATCH
        rows.append((name, single, per))
    fft_only = fastest(f32_1.plan, args.repeats)

    q = None
    try:
        q = run_qemlc(args.qemlc)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"qemlc not run ({e}); pass --qemlc", file=sys.stderr)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    print(f"# log1p-magnitude STFT, {N} samples, n_fft {NFFT}, hop {HOP}, hann, centred (reflect); one thread")
    print(f"# {cpu}; numpy {np.__version__}, scipy {scipy.__version__}, librosa {librosa.__version__}, pyfftw {pyfftw.__version__}")
    print(f"# fastest of {args.repeats} runs (single) / {args.batch_repeats} runs (batch of {BATCH}), thread CPU time, µs per signal")
    print()
    qs, qb = (q["stft_log1p_single"], q[f"stft_log1p_batch{BATCH}"]) if q else (None, None)
    print("| tool | one signal (µs) | batch of 256 (µs/signal) | batch/one | qemlc speed-up (one) | qemlc speed-up (batch) |")
    print("|---|---:|---:|---:|---:|---:|")
    if q:
        print(f"| **qemlc** (FFTW r2c, fused) | {qs:.1f} | {qb:.1f} | {qb / qs:.2f} | 1.00 | 1.00 |")
    for name, s, b in rows:
        su = f"{s / qs:.2f}×" if q else "—"
        sb = f"{b / qb:.2f}×" if q else "—"
        print(f"| {name} | {s:.1f} | {b:.1f} | {b / s:.2f} | {su} | {sb} |")
    print()
    print(f"FFT alone (pyFFTW float32 plan, 188 frames): {fft_only:.1f} µs"
          + (f"; qemlc's FFTW calls alone: {q['fftw_r2c_only']:.1f} µs" if q and "fftw_r2c_only" in q else ""))


if __name__ == "__main__":
    main()
