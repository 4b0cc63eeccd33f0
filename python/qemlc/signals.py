"""Reading recordings as the exported `classify` program reads them: WAV (PCM 16-bit or float
32-bit, the first channel), raw little-endian float32 (.f32/.raw), and NumPy .npy."""
from __future__ import annotations

import os
import struct
from typing import Optional, Tuple, Union

import numpy as np

from .errors import QemlcError

PathLike = Union[str, "os.PathLike[str]"]


def read_signal(path: PathLike) -> Tuple[np.ndarray, Optional[int]]:
    """The recording at `path` as float32 samples and its sample rate (None when the file has none).

    Raises QemlcError naming the file and what is wrong (unknown format, truncated WAV, …).
    """
    name = os.fspath(path)
    lower = name.lower()
    if not lower.endswith((".npy", ".wav", ".wave", ".f32", ".raw")):
        ext = os.path.splitext(name)[1] or "(no extension)"
        raise QemlcError(f"{name}: file name: unknown signal format '{ext}' (give a .wav, .f32/.raw or .npy file)",
                         status="ERROR_ARGUMENT")
    try:
        if lower.endswith(".npy"):
            x = np.load(name, allow_pickle=False)
            if x.ndim != 1:
                raise QemlcError(f"{name}: the array has shape {x.shape}; a signal is 1-D", status="ERROR_ARGUMENT")
            return np.ascontiguousarray(x, dtype=np.float32), None
        with open(name, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise QemlcError(f"{name}: no such file", status="ERROR_IO") from None
    except (OSError, ValueError) as e:
        raise QemlcError(f"{name}: cannot be read: {e}", status="ERROR_IO") from None
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return _wav(name, data)
    if lower.endswith((".wav", ".wave")):
        raise QemlcError(f"{name}: byte 0: not a WAV file (expected 'RIFF' … 'WAVE')", status="ERROR_ARGUMENT")
    if len(data) % 4:
        raise QemlcError(f"{name}: {len(data)} bytes is not a whole number of float32 samples (a multiple of 4)",
                         status="ERROR_ARGUMENT")
    return np.frombuffer(data, dtype="<f4").astype(np.float32, copy=False), None


def _wav(name: str, d: bytes) -> Tuple[np.ndarray, int]:
    fmt = channels = bits = rate = 0
    body: Optional[memoryview] = None
    at = 12
    view = memoryview(d)
    while at + 8 <= len(d):
        tag, length = d[at:at + 4], struct.unpack_from("<I", d, at + 4)[0]
        remaining = len(d) - at - 8
        if length > remaining:
            raise QemlcError(f"{name}: byte {at}: chunk {tag!r} says {length} bytes but only {remaining} follow "
                             "(the file is truncated or corrupt)", status="ERROR_ARGUMENT")
        if tag == b"fmt " and length >= 16:
            fmt, channels, rate = struct.unpack_from("<HHI", d, at + 8)
            bits = struct.unpack_from("<H", d, at + 22)[0]
            if fmt == 0xFFFE and length >= 26:  # WAVE_FORMAT_EXTENSIBLE
                fmt = struct.unpack_from("<H", d, at + 32)[0]
        elif tag == b"data":
            body = view[at + 8:at + 8 + length]
        at += 8 + length + (length & 1)
    if body is None or fmt == 0:
        raise QemlcError(f"{name}: the WAV file has no {'fmt' if fmt == 0 else 'data'} chunk "
                         "(truncated or not a recording?)", status="ERROR_ARGUMENT")
    if channels < 1 or not ((fmt == 1 and bits == 16) or (fmt == 3 and bits == 32)):
        raise QemlcError(f"{name}: only PCM 16-bit and float 32-bit WAV files are read "
                         f"(format {fmt}, {bits} bits, {channels} channels)", status="ERROR_ARGUMENT")
    frame = channels * bits // 8
    if len(body) % frame:
        raise QemlcError(f"{name}: the data chunk ({len(body)} bytes) is not a whole number of {frame}-byte frames "
                         "(the file is truncated)", status="ERROR_ARGUMENT")
    if fmt == 1:
        x = np.frombuffer(body, dtype="<i2").reshape(-1, channels)[:, 0].astype(np.float32) / np.float32(32768)
    else:
        x = np.ascontiguousarray(np.frombuffer(body, dtype="<f4").reshape(-1, channels)[:, 0], dtype=np.float32)
    return x, rate
