#!/usr/bin/env python3
"""Writes the .npy and .safetensors files the QEMLTensor tests read (Tests/QEMLTensorTests/Fixtures).

NumPy and the safetensors package write them, so the Swift readers are checked against the
reference writers, not against themselves. Every good file holds the same values,
`VALUES` (2x3), in its own dtype; `expected_<dtype>.npy` (<f4) holds what each should decode to.
Run: python3 scripts/tensor_io_fixtures.py
"""
import json, os, struct
import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "QEMLTensorTests", "Fixtures")
os.makedirs(OUT, exist_ok=True)
VALUES = np.array([[-1.5, 0.1, 2.0], [3.25, -0.333, 65504.0]])
INTS = np.array([[-3, 0, 7], [100, -128, 127]])


def path(name):
    return os.path.join(OUT, name)


def npy(name, arr, version=None):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=True)


# Good .npy files, one per supported dtype and version.
npy("f4.npy", VALUES.astype("<f4"))
npy("f8.npy", VALUES.astype("<f8"))
npy("f2.npy", VALUES.astype("<f2"))
np.save(path("expected_f2.npy"), VALUES.astype("<f2").astype("<f4"))
for t in ["<i2", "<i4", "<i8", "|i1"]:
    npy(f"{t[1:]}.npy", INTS.astype(t))
npy("u1.npy", np.array([[0, 1, 2], [128, 254, 255]], dtype="|u1"))
npy("f4_v2.npy", VALUES.astype("<f4"), version=(2, 0))
npy("f4_v3.npy", VALUES.astype("<f4"), version=(3, 0))
npy("scalar.npy", np.array(2.5, dtype="<f4"))
npy("vector.npy", np.arange(5, dtype="<f4"))
npy("empty.npy", np.zeros((0, 3), dtype="<f4"))
# Bad .npy files.
npy("bad_bigendian.npy", VALUES.astype(">f4"))
npy("bad_fortran.npy", np.asfortranarray(VALUES.astype("<f4")))
npy("bad_object.npy", np.array([1, "a", None], dtype=object))
npy("bad_structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))
npy("bad_complex.npy", np.zeros(2, dtype="<c8"))
good = open(path("f4.npy"), "rb").read()
open(path("bad_truncated.npy"), "wb").write(good[:-5])
open(path("bad_extra.npy"), "wb").write(good + b"\0\0\0\0")
open(path("bad_magic.npy"), "wb").write(b"NOTNUMPY" + good[8:])
lie = good.replace(b"(2, 3)", b"(3, 3)")
open(path("bad_shape_lie.npy"), "wb").write(lie)

# Good .safetensors files: F32, F16, F64 by the reference writer; BF16 by hand (NumPy has no bfloat16).
save_file({"w": VALUES.astype(np.float32), "b": np.array([1.0, 2.0], dtype=np.float32)}, path("f32.safetensors"),
          metadata={"format": "pt", "note": "qemlc test"})
save_file({"w": VALUES.astype(np.float16)}, path("f16.safetensors"))
save_file({"w": VALUES.astype(np.float64)}, path("f64.safetensors"))
save_file({"w": INTS.astype(np.int64)}, path("bad_i64.safetensors"))


def raw_safetensors(name, header, data):
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    open(path(name), "wb").write(struct.pack("<Q", len(h)) + h + data)


f32 = VALUES.astype("<f4")
bf16 = (f32.view("<u4") >> 16).astype("<u2")  # truncation, exactly representable below
np.save(path("expected_bf16.npy"), (bf16.astype("<u4") << 16).view("<f4"))
raw_safetensors("bf16.safetensors", {"w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}}, bf16.tobytes())
print("wrote fixtures to", os.path.normpath(OUT))
