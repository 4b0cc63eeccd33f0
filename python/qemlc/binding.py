"""`qemlc.load(bundle_dir)`: an exported bundle's shared library (`lib<model>.so`, from
`qemlc export … --shared`) through ctypes, with NumPy in and out.

The C API is the bundle's header (`<model>.h`); its macros (sample rate, input shape, classes)
are read from that header, so the header stays the one source of those facts. A context is the
runtime's unit of reentrancy: each call borrows one from a small pool, so threads never share
one, and ctypes releases the GIL while the C code runs. The weights are read once into one
64-byte-aligned buffer that every context uses in place.
"""
from __future__ import annotations

import ctypes
import os
import queue
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from .errors import QemlcError
from .signals import PathLike, read_signal

_STATUS = ["OK", "ERROR_ARGUMENT", "ERROR_IO", "ERROR_WEIGHTS_FORMAT", "ERROR_WEIGHTS_MODEL", "ERROR_WEIGHTS_SIZE",
           "ERROR_WEIGHTS_CHECKSUM", "ERROR_WEIGHTS_ALIGNMENT", "ERROR_NO_WEIGHTS", "ERROR_NO_FRONTEND",
           "ERROR_MEMORY", "ERROR_NONFINITE"]

_F32P = ctypes.POINTER(ctypes.c_float)


@dataclass(frozen=True)
class Prediction:
    """One classification: the most probable class and every class's probability."""

    label: str
    index: int
    probabilities: np.ndarray  # float32 [classes], in the order of Model.labels


@dataclass(frozen=True)
class Predictions:
    """A batch's classifications: `probabilities` [N, classes] float32 and `top` [N] int32."""

    probabilities: np.ndarray
    top: np.ndarray
    class_labels: Sequence[str]

    @property
    def labels(self) -> List[str]:
        """The top class's label for each input."""
        return [self.class_labels[i] for i in self.top]

    def __len__(self) -> int:
        return len(self.top)


def _header_facts(text: str) -> Dict[str, str]:
    """`#define PREFIX_NAME value` lines of the bundle header, by NAME (unprefixed)."""
    m = re.search(r"^#define QEML_PREFIX (\w+)\s*$", text, re.M)
    if not m:
        raise QemlcError("the header defines no `QEML_PREFIX`: not a qemlc bundle header", status="ERROR_ARGUMENT")
    upper = m.group(1).upper()
    facts = {"prefix": m.group(1)}
    for name, value in re.findall(rf"^#define {upper}_(\w+) +(.+?)\s*$", text, re.M):
        facts[name] = value.strip('"') if value.startswith('"') else value.rstrip("u")
    name = re.search(r'for the QEML-Net model "([^"]*)"', text)
    facts["name"] = name.group(1) if name else facts["prefix"]
    return facts


class Model:
    """A loaded bundle. Use `qemlc.load(bundle_dir)`.

    Attributes: `labels` (class names in output order), `sample_rate` (Hz the front end expects,
    0 without a front end), `signal_length` (samples per window), `input_shape`
    ((channels, height, width) of the network input), `precision` ("f32", or the bundle's
    declared precision), `name`, `target`, `model_hash`.
    """

    def __init__(self, bundle_dir: PathLike, library: Optional[PathLike] = None, max_contexts: Optional[int] = None):
        folder = Path(bundle_dir)
        if not folder.is_dir():
            raise QemlcError(f"{folder}: no such bundle folder (write one with `qemlc export MODEL -o DIR --shared`)",
                             status="ERROR_IO")
        if library is None:
            found = sorted(folder.glob("lib*.so"))
            if len(found) != 1:
                what = "no lib<model>.so" if not found else f"{len(found)} shared libraries ({', '.join(p.name for p in found)})"
                raise QemlcError(f"{folder}: {what}; pass library=… or build one: `qemlc export MODEL -o {folder} --shared --force`"
                                 f" or `make -C {folder} lib<model>.so`", status="ERROR_IO")
            library = found[0]
        self.library_path = Path(library)
        self.stem = self.library_path.name[3:-3]
        header = folder / f"{self.stem}.h"
        if not header.is_file():
            raise QemlcError(f"{header}: missing; the bundle's header says what the library computes", status="ERROR_IO")
        facts = _header_facts(header.read_text())
        self._p = facts["prefix"]
        try:
            self._lib = ctypes.CDLL(str(self.library_path.resolve()))
        except OSError as e:
            raise QemlcError(f"{self.library_path}: cannot be loaded: {e}", status="ERROR_IO") from None
        self._declare()
        self.sample_rate = int(facts.get("SAMPLE_RATE", "0"))
        self.signal_length = int(facts.get("SIGNAL_LENGTH", "0"))
        self.input_shape = (int(facts["INPUT_CHANNELS"]), int(facts["INPUT_HEIGHT"]), int(facts["INPUT_WIDTH"]))
        self.classes = int(facts["CLASSES"])
        self.precision = facts.get("PRECISION", "f32").lower()
        self.labels = [self._fn("label")(i).decode() for i in range(self.classes)]
        self.name = facts["name"]
        self.target = self._fn("target")().decode()
        self.model_hash = self._fn("model_hash")().decode()
        self._weights = self._read_weights(folder, facts.get("EMBEDDED_WEIGHTS", "0") == "1")
        self._max = max(1, max_contexts or os.cpu_count() or 1)
        self._idle: "queue.LifoQueue[int]" = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()
        self._all: List[int] = []
        self._destroy = self._fn("destroy")
        # Create one context now: a bad weights file fails here, not at the first call.
        self._created = 1
        self._idle.put(self._new_context())

    @property
    def bundle_files(self) -> List[str]:
        """The bundle's files this binding reads: the library, the header, the weights (unless embedded)."""
        return [self.library_path.name, f"{self.stem}.h"] + ([] if self._weights is None else [f"{self.stem}.weights"])

    # --- the C API ---------------------------------------------------------------------------

    def _fn(self, name: str):
        return getattr(self._lib, f"{self._p}_{name}")

    def _declare(self) -> None:
        c = ctypes
        sig = {
            "version": ([], c.c_char_p), "model_hash": ([], c.c_char_p), "target": ([], c.c_char_p),
            "context_bytes": ([], c.c_size_t),
            "create": ([c.c_void_p, c.c_size_t], c.c_void_p), "destroy": ([c.c_void_p], None),
            "load_weights_file": ([c.c_void_p, c.c_char_p], c.c_int),
            "load_weights": ([c.c_void_p, c.c_void_p, c.c_size_t], c.c_int),
            "load_embedded_weights": ([c.c_void_p], c.c_int),
            "run_signal": ([c.c_void_p, _F32P, c.c_size_t], c.c_int),
            "run_spectrogram": ([c.c_void_p, _F32P], c.c_int),
            "probabilities": ([c.c_void_p], _F32P), "top_class": ([c.c_void_p], c.c_int),
            "label": ([c.c_int], c.c_char_p),
            "output": ([c.c_void_p, c.c_int, c.POINTER(c.c_size_t)], _F32P), "output_name": ([c.c_int], c.c_char_p),
            "spectrogram": ([c.c_void_p], _F32P),
            "error": ([c.c_void_p], c.c_char_p), "status_string": ([c.c_int], c.c_char_p),
        }
        for name, (args, res) in sig.items():
            try:
                f = self._fn(name)
            except AttributeError:
                raise QemlcError(f"{self.library_path}: does not export {self._p}_{name}; export the bundle again "
                                 "with this qemlc", status="ERROR_ARGUMENT") from None
            f.argtypes, f.restype = args, res

    def _check(self, ctx: int, status: int, what: str) -> None:
        if status != 0:
            name = _STATUS[status] if 0 <= status < len(_STATUS) else f"status {status}"
            message = (self._fn("error")(ctx) or b"").decode(errors="replace")
            raise QemlcError(f"{what}: {message} ({name})", status=name)

    def _read_weights(self, folder: Path, embedded: bool) -> Optional[np.ndarray]:
        """The weights file in one 64-byte-aligned buffer that every context shares (None: embedded)."""
        if embedded:
            return None
        path = folder / f"{self.stem}.weights"
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise QemlcError(f"{path}: cannot be read: {e}", status="ERROR_IO") from None
        buffer = np.empty(len(raw) + 64, dtype=np.uint8)
        offset = -buffer.ctypes.data % 64
        aligned = buffer[offset:offset + len(raw)]
        aligned[:] = np.frombuffer(raw, dtype=np.uint8)
        self._weights_path = path
        return aligned

    def _new_context(self) -> int:
        ctx = self._fn("create")(None, 0)
        if not ctx:
            raise QemlcError(f"cannot allocate a context ({self._fn('context_bytes')()} bytes)", status="ERROR_MEMORY")
        if self._weights is None:
            status = self._fn("load_embedded_weights")(ctx)
            what = f"{self.library_path}: embedded weights"
        else:
            status = self._fn("load_weights")(ctx, self._weights.ctypes.data, self._weights.size)
            what = str(self._weights_path)
        try:
            self._check(ctx, status, what)
        except QemlcError:
            self._destroy(ctx)
            raise
        with self._lock:
            self._all.append(ctx)
        return ctx

    @contextmanager
    def _context(self) -> Iterator[int]:
        """A context for this thread alone: an idle one, a new one below the pool's size, or wait."""
        try:
            ctx = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:  # reserve the new context's place, so that racing threads stay within the pool's size
                grow = self._created < self._max
                self._created += grow
            if not grow:
                ctx = self._idle.get()
            else:
                try:
                    ctx = self._new_context()
                except BaseException:
                    with self._lock:
                        self._created -= 1
                    raise
        try:
            yield ctx
        finally:
            self._idle.put(ctx)

    def close(self) -> None:
        """Frees every context (the model is unusable afterwards)."""
        with self._lock:
            contexts, self._all = self._all, []
        for ctx in contexts:
            self._destroy(ctx)
        self._idle = queue.LifoQueue()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"<qemlc.Model {self.name!r} {self.target} {self.precision}: {self.sample_rate} Hz, "
                f"input {self.input_shape}, {self.classes} classes>")

    # --- running ------------------------------------------------------------------------------

    def _signal(self, x: Union[np.ndarray, PathLike]) -> tuple:
        """(float32 contiguous samples, the name used in errors); a path is read, an array is used in place."""
        if isinstance(x, (str, os.PathLike)):
            samples, rate = read_signal(x)
            if rate and self.sample_rate and rate != self.sample_rate:
                raise QemlcError(f"{os.fspath(x)} is sampled at {rate} Hz; the model expects {self.sample_rate} Hz "
                                 "(resample it first)", status="ERROR_ARGUMENT")
            return samples, os.fspath(x)
        a = np.ascontiguousarray(x, dtype=np.float32)  # no copy when it already is
        if a.ndim != 1:
            raise QemlcError(f"a signal is 1-D; got shape {a.shape} (use classify_batch for several)", status="ERROR_ARGUMENT")
        return a, "signal"

    def _result(self, ctx: int, out: np.ndarray) -> int:
        """Copies the context's probabilities into `out` (the context is reused) and returns the top class."""
        ctypes.memmove(out.ctypes.data, self._fn("probabilities")(ctx), 4 * self.classes)
        return int(self._fn("top_class")(ctx))

    def _classify_into(self, x: Union[np.ndarray, PathLike], out: np.ndarray) -> int:
        samples, what = self._signal(x)
        with self._context() as ctx:
            self._check(ctx, self._fn("run_signal")(ctx, samples.ctypes.data_as(_F32P), samples.size), what)
            return self._result(ctx, out)

    def classify(self, x: Union[np.ndarray, PathLike]) -> Prediction:
        """Classifies a 1-D signal (any float array, used in place when it is float32 and contiguous)
        or a recording's path (.wav, .f32/.raw, .npy) through the front end and the network.

        Raises QemlcError with the runtime's message (a NaN sample: status "ERROR_NONFINITE").
        """
        probs = np.empty(self.classes, dtype=np.float32)
        top = self._classify_into(x, probs)
        return Prediction(self.labels[top], top, probs)

    def run_spectrogram(self, x: np.ndarray) -> Prediction:
        """Runs the network on its input (a spectrogram) of shape `input_shape`, skipping the front end."""
        a = np.ascontiguousarray(x, dtype=np.float32)
        if a.size != int(np.prod(self.input_shape)):
            raise QemlcError(f"the network input is {self.input_shape} (channels, height, width); got shape {a.shape}",
                             status="ERROR_ARGUMENT")
        probs = np.empty(self.classes, dtype=np.float32)
        with self._context() as ctx:
            self._check(ctx, self._fn("run_spectrogram")(ctx, a.ctypes.data_as(_F32P)), "spectrogram")
            top = self._result(ctx, probs)
        return Prediction(self.labels[top], top, probs)

    def spectrogram(self, x: Union[np.ndarray, PathLike]) -> np.ndarray:
        """The front end's output for a signal or path: the network input, shape `input_shape`."""
        samples, what = self._signal(x)
        with self._context() as ctx:
            self._check(ctx, self._fn("run_signal")(ctx, samples.ctypes.data_as(_F32P), samples.size), what)
            p = self._fn("spectrogram")(ctx)
            if not p:
                raise QemlcError("this model has no frontend section", status="ERROR_NO_FRONTEND")
            return np.ctypeslib.as_array(p, shape=self.input_shape).copy()

    def classify_batch(self, xs: Union[np.ndarray, Sequence[Union[np.ndarray, PathLike]]],
                       threads: int = 1) -> Predictions:
        """Classifies several signals: a 2-D array [N, samples] (rows used in place) or a sequence of
        arrays and paths. `threads` > 1 runs them on that many threads, each with its own context.

        The first error raises (QemlcError naming the item); results are in input order.
        """
        items = list(xs) if not isinstance(xs, np.ndarray) else (list(xs) if xs.ndim == 2 else [xs])
        probs = np.empty((len(items), self.classes), dtype=np.float32)
        top = np.empty(len(items), dtype=np.int32)

        def one(i: int) -> None:
            try:
                top[i] = self._classify_into(items[i], probs[i])
            except QemlcError as e:
                raise QemlcError(f"item {i}: {e}", status=e.status) from None

        if threads <= 1 or len(items) <= 1:
            for i in range(len(items)):
                one(i)
        else:
            with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
                for f in [pool.submit(one, i) for i in range(len(items))]:
                    f.result()
        return Predictions(probs, top, self.labels)


def load(bundle_dir: PathLike, library: Optional[PathLike] = None, max_contexts: Optional[int] = None) -> Model:
    """Loads an exported bundle built with `qemlc export MODEL --weights W -o DIR --shared`.

    `max_contexts` bounds the context pool (default: the number of CPUs); a thread that finds every
    context busy waits for one.
    """
    return Model(bundle_dir, library=library, max_contexts=max_contexts)
