#!/usr/bin/env python3
"""Reference vectors for QEMLSignal's tests, from SciPy, librosa and soundfile.

Writes Tests/QEMLSignalTests/Fixtures/{stft,ops,resample,frontend,scaling,envelope}.json and a few small WAV
files. Run from the repository root:  python3 scripts/signal_reference.py

How the `.qir` front end's STFT maps onto the references (tested both ways):
  librosa: librosa.stft(y, n_fft, hop_length=hop, win_length, window, center=center != "none",
           pad_mode="reflect" | "constant")  (librosa >= 0.10 pads with zeros unless told
           pad_mode="reflect"; our default `center = "reflect"` must be asked for explicitly)
  scipy:   scipy.signal.stft(x, window=w, nperseg=n_fft, noverlap=n_fft-hop,
           boundary="even" (reflect) | "zeros" (constant) | None (none), padded=False)
           * sum(w)   (scipy scales by 1/sum(window); our STFT is unscaled like librosa)
           scipy.signal.spectrogram(..., detrend=False, scaling="spectrum", mode="magnitude")
           * sum(w) with center = "none".
  Symmetric windows are scipy.signal.get_window(name, N, fftbins=False), passed as arrays.
"""
import json
import os
import sys

import numpy as np
import scipy.signal
import librosa
import soundfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "QEMLSignalTests", "Fixtures")
SR = 12000


def f32(a):
    """Floats as short JSON numbers (float32 precision is all the tests compare)."""
    return [float("%.8g" % v) for v in np.asarray(a, dtype=np.float64).ravel()]


def test_signal(n, seed):
    """Two tones, a decaying burst and noise: broadband content with near-zero bins."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    x = 0.6 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 2750.5 * t + 0.3)
    x += 0.8 * np.exp(-np.maximum(t - 0.03, 0) * 300) * np.sin(2 * np.pi * 3100 * t) * (t >= 0.03)
    x += 0.05 * rng.standard_normal(n)
    return x.astype(np.float32)


def window(name, n, periodic):
    w = {"rectangular": "boxcar"}.get(name, name)
    return scipy.signal.get_window(w, n, fftbins=periodic)


def stft_cases():
    cases = []
    def add(name, x, n_fft, hop, win_length, win, periodic, center, expected, scale="magnitude", **extra):
        c = dict(name=name, signal=f32(x), n_fft=n_fft, hop=hop, win_length=win_length, window=win,
                 periodic=periodic, center=center, scale=scale, shape=list(expected.shape), expected=f32(expected))
        c.update(extra)
        cases.append(c)

    x = test_signal(700, 1)
    # librosa, both padding modes.
    for center, pad in [("reflect", "reflect"), ("constant", "constant")]:
        S = librosa.stft(x.astype(np.float64), n_fft=256, hop_length=64, window="hann", center=True, pad_mode=pad)
        add(f"librosa_hann_{center}", x, 256, 64, None, "hann", True, center, np.abs(S))
    # librosa, no centring, shorter hamming window centred in the frame.
    S = librosa.stft(x.astype(np.float64), n_fft=256, hop_length=100, win_length=200, window="hamming", center=False)
    add("librosa_hamming_win200_none", x, 256, 100, 200, "hamming", True, "none", np.abs(S))
    # Symmetric blackman, odd-length signal, power.
    y = test_signal(601, 2)
    S = librosa.stft(y.astype(np.float64), n_fft=128, hop_length=32, window=window("blackman", 128, False),
                     center=True, pad_mode="reflect")
    add("librosa_blackman_symmetric_power", y, 128, 32, None, "blackman", False, "reflect", np.abs(S) ** 2, scale="power")
    # Rectangular, log1p.
    S = librosa.stft(y.astype(np.float64), n_fft=64, hop_length=16, window="boxcar", center=True, pad_mode="constant")
    add("librosa_rect_log1p", y, 64, 16, None, "rectangular", True, "constant", np.log1p(np.abs(S)), scale="log1p")
    # dB with librosa.power_to_db (ref, amin, top_db).
    S = np.abs(librosa.stft(x.astype(np.float64), n_fft=256, hop_length=64, center=True, pad_mode="reflect")) ** 2
    add("librosa_power_to_db", x, 256, 64, None, "hann", True, "reflect",
        librosa.power_to_db(S, ref=2.0, amin=1e-10, top_db=60.0), scale="db", ref=2.0, amin=1e-10, top_db=60.0)
    # scipy.signal.stft: multiply by sum(window) to undo its scaling.
    for center, boundary in [("reflect", "even"), ("constant", "zeros"), ("none", None)]:
        w = window("hann", 256, True)
        _, _, Z = scipy.signal.stft(x.astype(np.float64), fs=SR, window=w, nperseg=256, noverlap=256 - 64,
                                    boundary=boundary, padded=False)
        add(f"scipy_stft_hann_{center}", x, 256, 64, None, "hann", True, center, np.abs(Z) * w.sum())
    # scipy.signal.spectrogram (magnitude, no detrend), hamming symmetric, no centring.
    w = window("hamming", 128, False)
    _, _, Sxx = scipy.signal.spectrogram(x.astype(np.float64), fs=SR, window=w, nperseg=128, noverlap=128 - 48,
                                         detrend=False, scaling="spectrum", mode="magnitude")
    add("scipy_spectrogram_hamming_symmetric", x, 128, 48, None, "hamming", False, "none", Sxx * w.sum())
    return cases


def ops_cases():
    out = {}
    # Mel filter bank (Slaney, htk=False) and a mel power spectrogram in dB.
    out["mel_bank"] = dict(sample_rate=SR, n_fft=256, n_mels=32, fmin=50.0, fmax=5000.0,
                           expected=f32(librosa.filters.mel(sr=SR, n_fft=256, n_mels=32, fmin=50.0, fmax=5000.0)))
    out["mel_bank_default"] = dict(sample_rate=SR, n_fft=512, n_mels=40, fmin=0.0, fmax=None,
                                   expected=f32(librosa.filters.mel(sr=SR, n_fft=512, n_mels=40)))
    # Hilbert envelope, even and odd length.
    for n in (600, 601):
        x = test_signal(n, 3)
        out[f"hilbert_{n}"] = dict(signal=f32(x), expected=f32(np.abs(scipy.signal.hilbert(x.astype(np.float64)))))
    # Bilinear resize, torch align_corners=False semantics in numpy (torch is not installed here;
    # the formula is torch's area_pixel_compute_source_index + linear weights).
    rng = np.random.default_rng(4)
    for (h, w, oh, ow) in [(20, 30, 8, 12), (9, 7, 16, 20), (5, 6, 5, 6), (65, 40, 32, 32)]:
        a = rng.standard_normal((h, w)).astype(np.float32)
        out[f"resize_{h}x{w}_to_{oh}x{ow}"] = dict(h=h, w=w, oh=oh, ow=ow, input=f32(a), expected=f32(bilinear(a, oh, ow)))
    return out


def source_index(n_in, n_out):
    scale = np.float32(n_in) / np.float32(n_out)
    src = np.maximum((np.arange(n_out, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5), 0)
    lo = np.minimum(np.floor(src).astype(int), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo).astype(np.float64)


def bilinear(a, oh, ow):
    """torch.nn.functional.interpolate(mode='bilinear', align_corners=False) on one channel."""
    r0, r1, fr = source_index(a.shape[0], oh)
    c0, c1, fc = source_index(a.shape[1], ow)
    a = a.astype(np.float64)
    top = a[r0][:, c0] * (1 - fc) + a[r0][:, c1] * fc
    bot = a[r1][:, c0] * (1 - fc) + a[r1][:, c1] * fc
    return top * (1 - fr[:, None]) + bot * fr[:, None]


def resample_cases():
    out = []
    for (n, rin, rout) in [(800, 48000, 12000), (441, 44100, 12000), (300, 8000, 12000), (500, 12000, 11025)]:
        t = np.arange(n) / rin
        x = (np.sin(2 * np.pi * 500 * t) + 0.3 * np.sin(2 * np.pi * 3000 * t)
             + 0.1 * np.random.default_rng(n).standard_normal(n)).astype(np.float32)
        y = scipy.signal.resample_poly(x.astype(np.float64), rout // np.gcd(rin, rout), rin // np.gcd(rin, rout))
        out.append(dict(rate_in=rin, rate_out=rout, signal=f32(x), expected=f32(y)))
    return out


def frontend_cases():
    """Whole front ends, computed step by step with librosa/scipy/numpy."""
    out = []
    x = test_signal(1500, 5)
    # log1p magnitude, resize, standardize.
    S = np.log1p(np.abs(librosa.stft(x.astype(np.float64), n_fft=128, hop_length=32, center=True, pad_mode="reflect")))
    R = bilinear(S.astype(np.float32), 32, 32)
    R = (R - R.mean()) / R.std()
    out.append(dict(name="log1p_resize_standardize",
                    settings=dict(sample_rate=SR, n_fft=128, hop=32, scale="log1p", resize=[32, 32], standardize=True),
                    signal=f32(x), shape=[1, 1, 32, 32], expected=f32(R)))
    # Envelope, then power → mel → dB.
    env = np.abs(scipy.signal.hilbert(x.astype(np.float64)))
    M = librosa.feature.melspectrogram(y=env, sr=SR, n_fft=256, hop_length=64, window="hann", center=True,
                                       pad_mode="constant", power=2.0, n_mels=24, fmin=0.0, fmax=6000.0)
    D = librosa.power_to_db(M, ref=1.0, amin=1e-10, top_db=80.0)
    out.append(dict(name="envelope_mel_db",
                    settings=dict(sample_rate=SR, envelope=True, n_fft=256, hop=64, center="constant", scale="db",
                                  n_mels=24, fmin=0.0, fmax=6000.0, top_db=80.0),
                    signal=f32(x), shape=[1, 1, 24, D.shape[1]], expected=f32(D)))
    # Mel magnitude with log1p; length crop.
    y = x[:1000]
    M = librosa.feature.melspectrogram(y=y.astype(np.float64), sr=SR, n_fft=256, hop_length=64, window="hann",
                                       center=True, pad_mode="reflect", power=1.0, n_mels=16)
    out.append(dict(name="mel_log1p_length", settings=dict(sample_rate=SR, length=1000, n_fft=256, hop=64, n_mels=16, scale="log1p"),
                    signal=f32(x), shape=[1, 1, 16, M.shape[1]], expected=f32(np.log1p(M))))
    return out


def scaling_cases():
    """SciPy's STFT scaling and librosa's amplitude_to_db, as whole front ends (qemlc's
    `scaling`, `ref`, `amin`, `top_db` settings and `spectrogram --scaling/--ref/--amin/--top-db`)."""
    out = []
    x = test_signal(1200, 7)
    x[300:700] = 0.0  # a silent stretch, so the amin floor shows
    for scaling, scale in [("spectrum", "log1p"), ("psd", "magnitude"), ("spectrum", "power")]:
        _, _, Z = scipy.signal.stft(x.astype(np.float64), fs=SR, window="hann", nperseg=256, noverlap=256 - 64,
                                    boundary="zeros", padded=False, scaling=scaling)
        A = np.abs(Z)
        E = {"log1p": np.log1p(A), "magnitude": A, "power": A ** 2}[scale]
        out.append(dict(name=f"scipy_stft_{scaling}_{scale}",
                        settings=dict(sample_rate=SR, n_fft=256, hop=64, center="constant", scaling=scaling, scale=scale),
                        signal=f32(x), shape=[1, 1] + list(E.shape), expected=f32(E)))
    S = np.abs(librosa.stft(x.astype(np.float64), n_fft=256, hop_length=64, center=True, pad_mode="reflect"))
    for ref, amin, top_db in [(1.0, 1e-5, None), (2.0, 1e-3, 60.0)]:
        D = librosa.amplitude_to_db(S, ref=ref, amin=amin, top_db=top_db)
        settings = dict(sample_rate=SR, n_fft=256, hop=64, scale="db", ref=ref, amin=amin)
        if top_db is not None:
            settings["top_db"] = top_db
        out.append(dict(name=f"librosa_amplitude_to_db_ref{ref:g}_amin{amin:g}_top{top_db}",
                        settings=settings, signal=f32(x), shape=[1, 1] + list(D.shape), expected=f32(D)))
    # The spectrum scaling with dB: scipy's |Z| through amplitude_to_db.
    _, _, Z = scipy.signal.stft(x.astype(np.float64), fs=SR, window="hann", nperseg=256, noverlap=256 - 64,
                                boundary="zeros", padded=False, scaling="spectrum")
    D = librosa.amplitude_to_db(np.abs(Z), ref=1.0, amin=1e-4, top_db=80.0)
    out.append(dict(name="scipy_spectrum_amplitude_to_db",
                    settings=dict(sample_rate=SR, n_fft=256, hop=64, center="constant", scaling="spectrum", scale="db",
                                  ref=1.0, amin=1e-4, top_db=80.0),
                    signal=f32(x), shape=[1, 1] + list(D.shape), expected=f32(D)))
    return out


def envelope_cases():
    """The envelope spectrum (`qemlc envelope`, QEMLSignal.envelopeSpectrum): the signal band-passed
    to [lo, hi] Hz by zeroing FFT bins (an ideal band-pass), scipy.signal.hilbert's envelope, the
    magnitude of its real FFT — the mean is kept, as SciPy keeps it."""
    out = []
    n, fs = 4096, 12000
    t = np.arange(n) / fs
    rng = np.random.default_rng(11)
    carrier = np.sin(2 * np.pi * 3000 * t)
    x = (1 + 0.8 * np.cos(2 * np.pi * 107.4 * t)) * carrier + 0.2 * rng.standard_normal(n)
    for band in [None, (2000.0, 4000.0)]:
        y = x.astype(np.float32).astype(np.float64)
        if band is not None:
            X = np.fft.fft(y)
            f = np.abs(np.fft.fftfreq(n, 1 / fs))
            X[(f < band[0]) | (f > band[1])] = 0
            y = np.real(np.fft.ifft(X))
        env = np.abs(scipy.signal.hilbert(y))
        spec = np.abs(np.fft.rfft(env))
        out.append(dict(name=f"envelope_{'full' if band is None else 'band'}", sample_rate=fs,
                        band=None if band is None else list(band), signal=f32(x), envelope=f32(env), spectrum=f32(spec)))
    return out


def wav_files():
    """Small WAVs in every supported encoding, decoded by soundfile (librosa's reader)."""
    out = []
    rng = np.random.default_rng(6)
    data = np.clip(np.stack([np.sin(np.arange(37) * 0.3), rng.uniform(-1, 1, 37)], axis=1), -1, 0.999)
    for fmt, sub, ch in [("WAV", "PCM_U8", 1), ("WAV", "PCM_16", 2), ("WAV", "PCM_24", 1), ("WAV", "PCM_32", 2),
                         ("WAV", "FLOAT", 2), ("WAV", "DOUBLE", 1), ("WAVEX", "PCM_16", 2), ("WAVEX", "FLOAT", 1)]:
        name = f"{fmt.lower()}_{sub.lower()}_{ch}ch.wav"
        path = os.path.join(OUT, name)
        soundfile.write(path, data[:, :ch], 8000 if ch == 1 else 16000, subtype=sub, format=fmt)
        decoded, sr = soundfile.read(path, dtype="float64", always_2d=True)
        out.append(dict(file=name, sample_rate=sr, channels=[f32(decoded[:, c]) for c in range(ch)]))
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    def dump(name, obj):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(obj, f, separators=(",", ":"))
    dump("stft.json", stft_cases())
    dump("ops.json", ops_cases())
    dump("resample.json", resample_cases())
    dump("frontend.json", frontend_cases())
    dump("wav.json", wav_files())
    dump("scaling.json", scaling_cases())
    dump("envelope.json", envelope_cases())
    print("versions: numpy", np.__version__, "scipy", scipy.__version__, "librosa", librosa.__version__,
          "soundfile", soundfile.__version__, file=sys.stderr)


if __name__ == "__main__":
    main()
