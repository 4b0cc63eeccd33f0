"""The `.qir` frontend in NumPy: raw signal -> network input [1, 1, H, W], as qemlc computes it.

    from frontend import Frontend, read_signal
    fe = Frontend.from_qir("examples/qemlnet-tiny.qir")   # follows the file's `frontend` block
    x, rate = read_signal("examples/signals/ball.wav")      # float32, qemlc's PCM scaling
    spec = fe(x, rate)                                       # float32 [1, 1, 32, 32]

Steps (ir/FRONTEND.md, Sources/QEMLSignal/FrontEnd.swift):
  channel -> (resample, only if asked) -> length (crop / zero-pad at the end) -> envelope
  (|scipy.signal.hilbert|) -> STFT (librosa framing: n_fft, hop, win_length centred in the
  frame, window hann/hamming/blackman/rectangular, periodic or symmetric, center
  reflect/constant/none) -> mel bank (librosa/Slaney, on |X| for magnitude/log1p, on |X|^2 for
  power/db) -> scale (magnitude, power, log1p, db with ref/amin/top_db) -> bilinear resize
  (torch interpolate, align_corners=False, no antialias) -> standardize (population std;
  a constant map becomes zeros).
There is no frequency-crop setting in qemlc's frontend (FrontendSpec.keys); an unknown key in
the .qir is an error here as it is there.

WAV scaling (Sources/QEMLSignal/WAVReader.swift): PCM 8-bit (v - 128)/128, 16-bit v/32768,
24-bit v/2^23, 32-bit v/2^31, float32/64 unchanged; all samples become float32.

`fe.torch(signals [N, samples], rate)` computes the same in torch (batched, differentiable,
on the signals' device); it equals the NumPy path to float32 rounding.

Computation runs in float64 (qemlc uses float32 with FFTW); results agree to ~1e-6 of the
largest value. `python frontend.py MODEL.qir FILE.wav -o spec.npy` writes what
`qemlc run MODEL.qir --input FILE.wav --output spectrogram=spec.npy` writes.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

# key -> (kind, default), as FrontendSpec.keys in Sources/QEMLIR/Frontend.swift
KEYS = {
    "sample_rate": ("int", None),
    "channel": ("int", 0),
    "length": ("int", None),
    "envelope": ("bool", False),
    "channels": ("strings", None),
    "n_fft": ("int", 256),
    "hop": ("int", 64),
    "win_length": ("int", None),
    "window": (("hann", "hamming", "blackman", "rectangular"), "hann"),
    "periodic": ("bool", True),
    "center": (("reflect", "constant", "none"), "reflect"),
    "scale": (("magnitude", "power", "log1p", "db"), "log1p"),
    "ref": ("float", 1.0),
    "amin": ("float", 1e-10),
    "top_db": ("float", None),
    "n_mels": ("int", None),
    "fmin": ("float", 0.0),
    "fmax": ("float", None),
    "standardize": ("bool", False),
    "resize": ("ints2", None),
}


# ---------------------------------------------------------------------------------------------
# .qir parsing: the frontend block, labels and input shapes


class _ConstEval(ast.NodeVisitor):
    """Compile-time expressions of the .qir language: numbers, strings, true/false, lists,
    + - * / % (integer / and % floor like Python), unary -, pi, inf, nan."""

    NAMES = {"true": True, "false": False, "pi": math.pi, "inf": math.inf, "nan": math.nan}

    def eval(self, node):
        if isinstance(node, ast.Expression):
            return self.eval(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in self.NAMES:
            return self.NAMES[node.id]
        if isinstance(node, ast.List):
            return [self.eval(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.eval(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = self.eval(node.left), self.eval(node.right)
            both_int = isinstance(a, int) and isinstance(b, int)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a // b if both_int else a / b
            if isinstance(node.op, ast.Mod):
                return a % b if both_int else math.fmod(a, b)
        raise ValueError(f"unsupported expression in frontend block: {ast.dump(node)}")


def _strip_comment(line: str) -> str:
    out, in_str, esc = [], False, False
    for ch in line:
        if in_str:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            out.append(ch)
        elif ch == "#":
            break
        else:
            out.append(ch)
    return "".join(out).strip()


def parse_value(text: str):
    return _ConstEval().eval(ast.parse(text.strip(), mode="eval"))


def _coerce(key: str, value):
    kind, _ = KEYS[key]
    if kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "ints2":
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        ok = isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    elif kind == "strings":
        ok = isinstance(value, list) and all(v in ("signal", "envelope", "rectified") for v in value) and 0 < len(value) == len(set(value))
    else:  # a choice
        ok = isinstance(value, str) and value in kind
    if not ok:
        raise ValueError(f"frontend: {key} has a bad value {value!r} (expected {kind})")
    return value


def parse_frontend_block(source: str) -> tuple[str, dict]:
    """(output name, {key: value}) of the `frontend %x { … }` block in .qir source text,
    with only the keys the block sets (the last assignment of a key wins)."""
    lines = source.splitlines()
    for i, raw in enumerate(lines):
        m = re.match(r"^\s*frontend\s+%([A-Za-z0-9_.]+)\s*\{(.*)$", _strip_comment(raw))
        if not m:
            continue
        name, settings = m.group(1), {}
        body = [m.group(2)] + lines[i + 1:]
        for line in body:
            line = _strip_comment(line)
            done = line.endswith("}")
            if done:
                line = line[:-1].strip()
            for stmt in filter(None, (s.strip() for s in line.split(";"))):
                km = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$", stmt)
                if not km:
                    raise ValueError(f"frontend: cannot read {stmt!r}")
                key = km.group(1)
                if key not in KEYS:
                    raise ValueError(f"frontend: unknown setting {key!r}; known: {', '.join(KEYS)}")
                settings[key] = _coerce(key, parse_value(km.group(2)))
            if done:
                return name, settings
        raise ValueError("frontend block not closed")
    raise ValueError("no frontend block")


def parse_labels(source: str) -> list[str] | None:
    m = re.search(r"^\s*labels\s*(\[[^\]]*\])", source, re.M)
    return parse_value(m.group(1)) if m else None


def parse_inputs(source: str) -> dict[str, list]:
    """{name: shape} of the `input %x: f32[…]` declarations (symbolic dims stay strings)."""
    out = {}
    for m in re.finditer(r"^\s*input\s+%([A-Za-z0-9_.]+)\s*:\s*f32\[([^\]]*)\]", source, re.M):
        out[m.group(1)] = [int(d) if d.strip().isdigit() else d.strip() for d in m.group(2).split(",") if d.strip()]
    return out


# ---------------------------------------------------------------------------------------------
# Reading signals


def pcm_to_float(data: np.ndarray) -> np.ndarray:
    """scipy.io.wavfile.read's array -> float32 samples exactly as qemlc's WAVReader."""
    if data.dtype == np.uint8:
        return ((data.astype(np.float32) - 128) / 128).astype(np.float32)
    if data.dtype == np.int16:
        return (data.astype(np.float32) / 32768).astype(np.float32)
    if data.dtype == np.int32:  # 32-bit PCM, and 24-bit (SciPy puts the 24 bits at the top)
        return (data.astype(np.float64) / 2147483648.0).astype(np.float32)
    if data.dtype in (np.float32, np.float64):
        return data.astype(np.float32)
    raise ValueError(f"unsupported WAV sample type {data.dtype}")


def read_signal(path: str, channel: int = 0, column: str | int | None = None) -> tuple[np.ndarray, int | None]:
    """(float32 samples of one channel, sample rate or None) for .wav, .npy or .csv files."""
    low = path.lower()
    if low.endswith((".wav", ".wave")):
        from scipy.io import wavfile
        rate, data = wavfile.read(path)
        x = pcm_to_float(data)
        if x.ndim == 2:
            if not 0 <= channel < x.shape[1]:
                raise ValueError(f"{path}: channel {channel} requested but the file has {x.shape[1]} channels")
            x = x[:, channel]
        elif channel != 0:
            raise ValueError(f"{path}: channel {channel} requested but the file has 1 channel")
        return np.ascontiguousarray(x), int(rate)
    if low.endswith(".npy"):
        x = np.load(path).astype(np.float32)
        return (x if x.ndim == 1 else x[:, channel]), None
    if low.endswith((".csv", ".txt", ".tsv")):
        import csv
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f, delimiter="\t" if low.endswith(".tsv") else ",") if r]
        try:
            float(rows[0][0])
            header = None
        except ValueError:
            header, rows = rows[0], rows[1:]
        col = channel if column is None else (header.index(column) if isinstance(column, str) and header else int(column))
        return np.array([float(r[col]) for r in rows], dtype=np.float32), None
    raise ValueError(f"unknown signal format: {path}")


def resample_poly(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """qemlc --resample: scipy.signal.resample_poly with its defaults (Kaiser beta 5)."""
    from scipy.signal import resample_poly as rp
    f = Fraction(target, rate)
    return rp(np.asarray(x, dtype=np.float64), f.numerator, f.denominator).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# The computation


def window_values(kind: str, n: int, periodic: bool) -> np.ndarray:
    if n <= 1:
        return np.ones(max(n, 0))
    x = 2 * np.pi * np.arange(n) / (n if periodic else n - 1)
    if kind == "hann":
        return 0.5 - 0.5 * np.cos(x)
    if kind == "hamming":
        return 0.54 - 0.46 * np.cos(x)
    if kind == "blackman":
        return 0.42 - 0.5 * np.cos(x) + 0.08 * np.cos(2 * x)
    if kind == "rectangular":
        return np.ones(n)
    raise ValueError(kind)


def frame_window(kind: str, n_fft: int, win_length: int, periodic: bool) -> np.ndarray:
    w = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    w[left:left + win_length] = window_values(kind, win_length, periodic)
    return w


def hz_to_mel(f):
    f = np.asarray(f, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, log_step = min_log_hz / f_sp, math.log(6.4) / 27
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-300) / min_log_hz) / log_step, f / f_sp)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, log_step = min_log_hz / f_sp, math.log(6.4) / 27
    return np.where(m >= min_log_mel, min_log_hz * np.exp(log_step * (m - min_log_mel)), f_sp * m)


def mel_bank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax) (Slaney scale and norm): [n_mels, bins]."""
    top = sample_rate / 2 if fmax is None else fmax
    if not (fmin >= 0 and top > fmin and top <= sample_rate / 2 + 1e-9):
        raise ValueError(f"mel range fmin={fmin}, fmax={top} does not fit 0…{sample_rate / 2}")
    bins = n_fft // 2 + 1
    fft = np.arange(bins) * sample_rate / n_fft
    lo, hi = hz_to_mel(fmin), hz_to_mel(top)
    mel_f = mel_to_hz(lo + (hi - lo) * np.arange(n_mels + 2) / (n_mels + 1))
    w = np.zeros((n_mels, bins))
    for m in range(n_mels):
        lower = (fft - mel_f[m]) / (mel_f[m + 1] - mel_f[m])
        upper = (mel_f[m + 2] - fft) / (mel_f[m + 2] - mel_f[m + 1])
        w[m] = np.maximum(0, np.minimum(lower, upper)) * (2 / (mel_f[m + 2] - mel_f[m]))
    return w


def reflect_pad(x: np.ndarray, pad: int) -> np.ndarray:
    """numpy 'reflect' for any pad (also longer than the signal), as qemlc's reflectIndex."""
    n = len(x)
    if n == 1:
        return np.full(n + 2 * pad, x[0])
    idx = np.arange(-pad, n + pad)
    period = 2 * n - 2
    k = np.mod(idx, period)
    k = np.where(k < n, k, period - k)
    return x[k]


def bilinear_resize(x: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """torch interpolate(mode="bilinear", align_corners=False, antialias=False) of a 2-D map:
    source coordinate (i + 0.5)·in/out − 0.5 clamped at 0, upper neighbour clamped to the edge;
    interpolate along columns in each of the two rows, then between the rows (qemlc's order)."""

    def taps(n, m):
        src = np.maximum(0.0, (np.arange(m) + 0.5) * (n / m) - 0.5)
        lo = np.minimum(src.astype(np.int64), n - 1)
        return lo, np.minimum(lo + 1, n - 1), src - lo

    h, w = x.shape
    rl, rh, rf = taps(h, out_h)
    cl, ch, cf = taps(w, out_w)
    cf = cf[None, :]
    top = (1 - cf) * x[rl][:, cl] + cf * x[rl][:, ch]
    bottom = (1 - cf) * x[rh][:, cl] + cf * x[rh][:, ch]
    return (1 - rf[:, None]) * top + rf[:, None] * bottom


@dataclass
class Frontend:
    settings: dict = field(default_factory=dict)
    name: str = "spectrogram"

    @classmethod
    def from_qir(cls, path: str) -> "Frontend":
        with open(path, encoding="utf-8") as f:
            name, settings = parse_frontend_block(f.read())
        return cls(settings, name)

    def __post_init__(self):
        for k, v in self.settings.items():
            if k not in KEYS:
                raise ValueError(f"frontend: unknown setting {k!r}")
            self.settings[k] = _coerce(k, v)
        g = self.get
        self.n_fft, self.hop = g("n_fft"), g("hop")
        self.win_length = self.n_fft if g("win_length") is None else g("win_length")
        if not (2 <= self.n_fft <= 1 << 20) or self.hop < 1 or not (1 <= self.win_length <= self.n_fft):
            raise ValueError(f"frontend: bad STFT n_fft={self.n_fft} hop={self.hop} win_length={self.win_length}")
        self.window = frame_window(g("window"), self.n_fft, self.win_length, g("periodic"))
        self.pad = 0 if g("center") == "none" else self.n_fft // 2

    def get(self, key):
        return self.settings.get(key, KEYS[key][1])

    def frames(self, n: int) -> int:
        padded = n + 2 * self.pad
        return 0 if padded < self.n_fft else 1 + (padded - self.n_fft) // self.hop

    @property
    def sources(self) -> list[str]:
        """What each input channel is a spectrogram of: "signal", "envelope" (Hilbert) or "rectified" (|x|)."""
        return list(self.get("channels") or ["envelope" if self.get("envelope") else "signal"])

    def kept_bins(self, rate: int | None = None) -> range:
        """Without mel bands, the FFT bins whose frequency k*sr/n_fft lies in [fmin, fmax]."""
        full = range(self.n_fft // 2 + 1)
        if self.get("n_mels") or (self.get("fmin") == 0 and self.get("fmax") is None):
            return full
        hz = (self.get("sample_rate") or rate) / self.n_fft
        lo = math.ceil(self.get("fmin") / hz - 1e-9)
        hi = full.stop - 1 if self.get("fmax") is None else math.floor(self.get("fmax") / hz + 1e-9)
        return range(max(0, lo), min(full.stop, hi + 1))

    def output_shape(self, samples: int) -> list[int]:
        n = self.get("length") or samples
        c = len(self.sources)
        if self.get("resize"):
            return [1, c, *self.get("resize")]
        return [1, c, self.get("n_mels") or len(self.kept_bins()), self.frames(n)]

    def prepare(self, x: np.ndarray, rate: int | None, resample: bool = False) -> tuple[np.ndarray, int]:
        sr = self.get("sample_rate")
        rate = rate if rate is not None else sr
        if rate is None:
            raise ValueError("the recording has no sample rate and the frontend sets no sample_rate")
        if sr is not None and rate != sr:
            if not resample:
                raise ValueError(f"the signal is sampled at {rate} Hz but the front end expects {sr} Hz (pass resample=True)")
            return resample_poly(x, rate, sr), sr
        return np.asarray(x, dtype=np.float32), rate

    def spectrogram(self, x: np.ndarray, rate: int | None = None) -> np.ndarray:
        """The scaled spectrogram before resize and standardize: float64 [channels, bins or n_mels, frames]."""
        g = self.get
        x = np.asarray(x, dtype=np.float64)
        n = g("length")
        if n is not None:
            x = x[:n] if len(x) >= n else np.concatenate([x, np.zeros(n - len(x))])
        if len(x) == 0:
            raise ValueError("the signal is empty")
        maps = []
        for source in self.sources:
            if source == "envelope":
                from scipy.signal import hilbert
                y = np.abs(hilbert(x))
            elif source == "rectified":
                y = np.abs(x)
            else:
                y = x
            maps.append(self._channel(y, rate))
        return np.stack(maps)

    def _channel(self, x: np.ndarray, rate: int | None) -> np.ndarray:
        g = self.get
        frames = self.frames(len(x))
        if frames == 0:
            raise ValueError(f"the signal has {len(x)} samples, fewer than n_fft = {self.n_fft} without centring")
        if self.pad:
            x = reflect_pad(x, self.pad) if g("center") == "reflect" else np.pad(x, self.pad)
        idx = np.arange(frames)[:, None] * self.hop + np.arange(self.n_fft)[None, :]
        spec = np.fft.rfft(x[idx] * self.window, axis=1).T  # [bins, frames]
        power = spec.real ** 2 + spec.imag ** 2
        scale = g("scale")
        uses_power = scale in ("power", "db")
        s = power if uses_power else np.sqrt(power)
        if g("n_mels"):
            sr = g("sample_rate") or rate
            s = mel_bank(sr, self.n_fft, g("n_mels"), g("fmin"), g("fmax")) @ s
        else:
            kept = self.kept_bins(rate)
            s = s[kept.start:kept.stop]
        if scale == "log1p":
            s = np.log1p(s)
        elif scale == "db":
            amin, ref, top_db = g("amin"), g("ref"), g("top_db")
            s = 10 * np.log10(np.maximum(amin, s)) - 10 * math.log10(max(amin, abs(ref)))
            if top_db is not None:
                s = np.maximum(s, s.max() - top_db)
        return s

    def __call__(self, x: np.ndarray, rate: int | None = None, resample: bool = False) -> np.ndarray:
        """The network input, float32 [1, C, H, W] (each channel resized and standardized on its own)."""
        x, rate = self.prepare(x, rate, resample)
        out = []
        for s in self.spectrogram(x, rate):
            if self.get("resize"):
                s = bilinear_resize(s, *self.get("resize"))
            if self.get("standardize"):
                std = s.std()
                s = (s - s.mean()) / std if std > 0 else np.zeros_like(s)
            out.append(s)
        return np.stack(out).astype(np.float32)[None]

    def torch(self, signals, rate: int | None = None):
        """The same computation in torch (float64 inside) on a batch [N, samples] of signals at
        the model's rate (resample first if needed): float32 tensor [N, 1, H, W], on the
        signals' device. Differentiable; usable for on-the-fly augmentation."""
        import torch
        import torch.nn.functional as F

        g = self.get
        x = torch.as_tensor(signals).to(torch.float64)
        if x.ndim == 1:
            x = x[None]
        sr = g("sample_rate") or rate
        if g("sample_rate") is not None and rate is not None and rate != g("sample_rate"):
            raise ValueError(f"the signals are sampled at {rate} Hz but the front end expects {g('sample_rate')} Hz")
        n = g("length")
        if n is not None:
            x = x[:, :n] if x.shape[1] >= n else F.pad(x, (0, n - x.shape[1]))
        if g("envelope"):  # |analytic signal|, as scipy.signal.hilbert
            m = x.shape[1]
            h = torch.zeros(m, dtype=torch.float64, device=x.device)
            h[0] = 1
            if m % 2 == 0:
                h[m // 2] = 1
                h[1:m // 2] = 2
            else:
                h[1:(m + 1) // 2] = 2
            x = torch.fft.ifft(torch.fft.fft(x) * h).abs()
        frames = self.frames(x.shape[1])
        if frames == 0:
            raise ValueError(f"the signal has {x.shape[1]} samples, fewer than n_fft = {self.n_fft} without centring")
        if self.pad:
            if g("center") == "reflect":
                idx = torch.from_numpy(reflect_pad(np.arange(x.shape[1]), self.pad)).to(x.device)
                x = x[:, idx]
            else:
                x = F.pad(x, (self.pad, self.pad))
        fr = x.unfold(1, self.n_fft, self.hop)[:, :frames]  # [N, frames, n_fft]
        spec = torch.fft.rfft(fr * torch.from_numpy(self.window).to(x.device), dim=2).transpose(1, 2)
        power = spec.real ** 2 + spec.imag ** 2
        scale = g("scale")
        s = power if scale in ("power", "db") else power.sqrt()
        if g("n_mels"):
            bank = torch.from_numpy(mel_bank(sr, self.n_fft, g("n_mels"), g("fmin"), g("fmax"))).to(x.device)
            s = bank @ s
        if scale == "log1p":
            s = torch.log1p(s)
        elif scale == "db":
            amin, ref, top_db = g("amin"), g("ref"), g("top_db")
            s = 10 * torch.log10(s.clamp(min=amin)) - 10 * math.log10(max(amin, abs(ref)))
            if top_db is not None:
                s = torch.maximum(s, s.amax(dim=(1, 2), keepdim=True) - top_db)
        s = s[:, None]
        if g("resize"):
            s = F.interpolate(s, size=tuple(g("resize")), mode="bilinear", align_corners=False)
        if g("standardize"):
            mean = s.mean(dim=(1, 2, 3), keepdim=True)
            std = s.std(dim=(1, 2, 3), keepdim=True, unbiased=False)
            s = torch.where(std > 0, (s - mean) / torch.where(std > 0, std, torch.ones_like(std)), torch.zeros_like(s))
        return s.to(torch.float32)

    def file(self, path: str, channel: int | None = None, resample: bool = False) -> np.ndarray:
        x, rate = read_signal(path, self.get("channel") if channel is None else channel)
        return self(x, rate, resample)

    def batch(self, signals, rate: int | None = None) -> np.ndarray:
        """[N, C, H, W] for a list (or [N, samples] array) of signals at one rate."""
        return np.concatenate([self(s, rate) for s in signals], axis=0)


if __name__ == "__main__":
    import argparse

    p = argparse.ArgumentParser(description="Run a .qir model's frontend on recordings (NumPy).")
    p.add_argument("model", help=".qir file with a frontend block")
    p.add_argument("signals", nargs="+")
    p.add_argument("--resample", action="store_true")
    p.add_argument("--channel", type=int)
    p.add_argument("-o", "--output", help=".npy: [N, 1, H, W] for all signals")
    a = p.parse_args()
    fe = Frontend.from_qir(a.model)
    print(f"frontend %{fe.name}: {fe.settings}")
    out = np.concatenate([fe.file(s, a.channel, a.resample) for s in a.signals], axis=0)
    print("shape", out.shape)
    if a.output:
        np.save(a.output, out)
