"""Fleet scoring on Ray: `python -m qemlc.fleet score BUNDLE INPUTS -o results.parquet`.

Ray Data reads the list of recordings, `map_batches` runs it through a pool of actors (each
loads the bundle once and reuses it for every batch), and the driver writes the rows to
Parquet as they arrive:

    path, label (if known), top, p_<class> for every class, latency_ms, error, worker (host:pid)

A recording that cannot be read or classified is a row with `error` set, never a failed job.
An actor that dies is restarted by Ray and its batch retried (max_restarts / max_task_retries);
the batch's rows come back once. Each finished batch is written at once to
`<output>.parts/`, so a run that stops loses no finished work: running the same command again
skips every recording already scored without error, retries the errors, and writes the merged
`<output>`.

INPUTS is a folder (its manifest.csv when there is one, as `qemlc synth --dataset` writes it,
else every .wav/.f32/.raw/.npy under it), a glob, a manifest CSV (columns `path`, relative to
the CSV, and optionally `label`), or a Parquet file with a `signal` column (float lists; `path`
or `id` names the rows, `label` is optional). On a real cluster (`--address ray://…`), the
recordings must be readable at the same paths on every node; the bundle itself travels with the
job (its files are sent to the actors).
"""
from __future__ import annotations

import argparse
import glob as globbing
import hashlib
import logging
import math
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from .binding import load
from .cli import ArgumentParser
from .errors import QemlcError

SIGNAL_SUFFIXES = (".wav", ".wave", ".f32", ".raw", ".npy")


# --- the inputs ------------------------------------------------------------------------------

def list_inputs(inputs: str):
    """The recordings named by INPUTS as an Arrow table: path, label (may be null), and signal for Parquet inputs."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    source = Path(inputs)
    if source.is_dir() and (source / "manifest.csv").is_file():
        source = source / "manifest.csv"
    if source.is_dir():
        paths = sorted(str(p) for p in source.rglob("*") if p.suffix.lower() in SIGNAL_SUFFIXES)
        table = pa.table({"path": paths, "label": pa.nulls(len(paths), pa.string())})
    elif source.suffix.lower() == ".csv" and source.is_file():
        t = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(column_types={"path": pa.string(), "label": pa.string()}))
        if "path" not in t.column_names:
            raise QemlcError(f"{source}: a manifest needs a `path` column; it has {', '.join(t.column_names)}")
        base = source.parent
        paths = [p if os.path.isabs(p) else str(base / p) for p in t.column("path").to_pylist()]
        labels = t.column("label") if "label" in t.column_names else pa.nulls(len(paths), pa.string())
        table = pa.table({"path": paths, "label": labels})
    elif source.suffix.lower() == ".parquet" and source.is_file():
        t = pq.read_table(source)
        if "signal" not in t.column_names:
            if "path" not in t.column_names:
                raise QemlcError(f"{source}: needs a `signal` column (float lists) or a `path` column")
            t = t.select(["path"] + (["label"] if "label" in t.column_names else []))
        names = t.column("path") if "path" in t.column_names else (
            t.column("id").cast(pa.string()) if "id" in t.column_names else pa.array([f"{source.name}#{i}" for i in range(len(t))]))
        labels = t.column("label").cast(pa.string()) if "label" in t.column_names else pa.nulls(len(t), pa.string())
        columns = {"path": names, "label": labels}
        if "signal" in t.column_names:
            columns["signal"] = t.column("signal")
        table = pa.table(columns)
    else:
        paths = sorted(p for p in globbing.glob(inputs, recursive=True) if p.lower().endswith(SIGNAL_SUFFIXES))
        if not paths:
            raise QemlcError(f"{inputs}: no recordings: give a folder, a glob, a manifest .csv or a .parquet "
                             f"(recordings end in {', '.join(SIGNAL_SUFFIXES)})")
        table = pa.table({"path": paths, "label": pa.nulls(len(paths), pa.string())})
    if len(set(table.column("path").to_pylist())) != len(table):
        raise QemlcError(f"{inputs}: the same path is listed twice; each recording is scored once, by path")
    return table


# --- the actors ------------------------------------------------------------------------------

def _unpack(files: Dict[str, bytes]) -> Path:
    """The bundle's files in a folder named by their content, shared by the actors of a node (Ray
    ends actors without running their destructors, so one folder per actor would pile up)."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    folder = Path(tempfile.gettempdir()) / f"qemlc-bundle-{digest.hexdigest()[:16]}"
    if not folder.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        for name, data in files.items():
            (staging / name).write_bytes(data)
        try:
            staging.rename(folder)  # whole or not at all; another actor may have won the race
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return folder


class Scorer:
    """One actor: the bundle loaded once, one context, every batch it is given."""

    def __init__(self, files: Dict[str, bytes]):
        self.model = load(_unpack(files), max_contexts=1)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, batch):
        import pandas as pd

        m = self.model
        n = len(batch)
        probs = np.full((n, m.classes), np.nan, dtype=np.float32)
        top: List[Optional[str]] = [None] * n
        errors: List[Optional[str]] = [None] * n
        latency = np.zeros(n)
        signals = batch["signal"] if "signal" in batch.columns else None
        for i, path in enumerate(batch["path"]):
            start = time.perf_counter()
            try:
                x = np.asarray(signals.iloc[i], dtype=np.float32) if signals is not None else path
                k = m._classify_into(x, probs[i])
                top[i] = m.labels[k]
            except (QemlcError, ValueError, TypeError) as e:
                errors[i] = str(e)
                probs[i] = np.nan
            latency[i] = (time.perf_counter() - start) * 1e3
        out = {"path": batch["path"].astype(object), "label": batch["label"].astype(object), "top": top}
        for c, label in enumerate(m.labels):
            out[f"p_{label}"] = probs[:, c]
        out["latency_ms"] = latency
        out["error"] = errors
        out["worker"] = [self.worker] * n
        return pd.DataFrame(out)


# --- the run ---------------------------------------------------------------------------------

def _parts(output: Path) -> Path:
    return output.with_name(output.name + ".parts")


def _scored(output: Path, model_hash: str):
    """The rows already written (merged output and finished parts), checked to be from this model."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = ([output] if output.exists() else []) + sorted(_parts(output).glob("*.parquet"))
    tables = []
    for f in files:
        t = pq.read_table(f)
        meta = (t.schema.metadata or {}).get(b"qemlc_model_hash", b"").decode()
        if meta != model_hash:
            raise QemlcError(f"{f} holds results of another model (hash {meta or 'none'}; this bundle is {model_hash})",
                             status="ERROR_ARGUMENT")
        tables.append(t)
    return pa.concat_tables(tables) if tables else None


def score(bundle: str, inputs: str, output: str, num_actors: int = 2, batch_size: int = 16, actor_cpus: float = 0.5,
          progress: bool = False) -> Dict[str, int]:
    """Scores every recording of `inputs` with `bundle` on the running Ray cluster into `output`
    (Parquet), resuming from what `output` already holds. Returns counts: scored now, skipped, errors, total."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    import ray

    out = Path(output)
    with load(bundle, max_contexts=1) as model:  # a bad bundle fails here, on the driver
        # The files the actors load, sent with the job so that they reach every node.
        files = {n: (Path(bundle) / n).read_bytes() for n in model.bundle_files}
        model_hash, classes = model.model_hash, model.labels
    table = list_inputs(inputs)
    order = table.column("path")  # the results are written in the input's order
    done = _scored(out, model_hash)
    keep = None
    if done is not None:  # resume: keep the successful rows, score the rest (errors are retried)
        keep = done.filter(pc.is_null(done.column("error")))
        already = pc.is_in(table.column("path"), value_set=keep.column("path"))
        table = table.filter(pc.invert(already))
    skipped = 0 if keep is None else len(keep)
    todo = len(table)
    parts = _parts(out)
    parts.mkdir(parents=True, exist_ok=True)
    metadata = {b"qemlc_model_hash": model_hash.encode(), b"qemlc_labels": ",".join(classes).encode()}
    schema = _schema(classes, metadata)
    written, errors = 0, 0
    if todo:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        rows = table.to_pylist()
        ds = ray.data.from_items(rows, override_num_blocks=max(1, math.ceil(todo / batch_size)))
        # Ray Data restarts a dead actor and retries its batch by default (max_restarts=-1,
        # max_task_retries=-1 for actor pools); the test kills one to hold it to that.
        scored = ds.map_batches(Scorer, fn_constructor_args=(files,), batch_size=batch_size, batch_format="pandas",
                                compute=ray.data.ActorPoolStrategy(size=num_actors), num_cpus=actor_cpus)
        for batch in scored.iter_batches(batch_size=None, batch_format="pyarrow"):
            batch = batch.select(schema.names).cast(schema)
            name = parts / f"part-{uuid.uuid4().hex}.parquet"
            pq.write_table(batch, name.with_suffix(".tmp"))
            os.replace(name.with_suffix(".tmp"), name)  # a part is there whole or not at all
            written += len(batch)
            errors += len(batch) - batch.column("error").null_count
            if progress:
                print(f"\rscored {written}/{todo} ({errors} errors)", end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
    merged = [t.select(schema.names).cast(schema) for t in ([keep] if keep is not None else [])]
    merged += [pq.read_table(f).select(schema.names).cast(schema) for f in sorted(parts.glob("*.parquet"))]
    result = pa.concat_tables(merged) if merged else None
    if result is not None:
        result = result.take(pc.sort_indices(pc.index_in(result.column("path"), value_set=order)))
        tmp = out.with_name(out.name + ".tmp")
        pq.write_table(result, tmp)
        os.replace(tmp, out)
    for f in parts.glob("*"):
        f.unlink()
    parts.rmdir()
    total_errors = 0 if result is None else len(result) - result.column("error").null_count
    return {"scored": written, "skipped": skipped, "errors": total_errors, "rows": 0 if result is None else len(result)}


def _schema(classes: List[str], metadata: Dict[bytes, bytes]):
    """The results' columns and types, whatever a batch's values (an all-null error column stays a string)."""
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("label", pa.string()), ("top", pa.string())]
                     + [(f"p_{c}", pa.float32()) for c in classes]
                     + [("latency_ms", pa.float64()), ("error", pa.string()), ("worker", pa.string())], metadata=metadata)


def _connect(address: str) -> bool:
    """Starts or joins Ray; True when this process started it (and so shuts it down)."""
    import ray

    if ray.is_initialized():
        return False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if address == "local":
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    return True


def main(argv: Optional[List[str]] = None) -> int:
    parser = ArgumentParser(prog="python -m qemlc.fleet", description="Score recordings with a qemlc bundle on Ray.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score INPUTS with BUNDLE into a Parquet file (resumable)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("bundle", help="a bundle folder from `qemlc export MODEL --weights W -o DIR --shared`")
    s.add_argument("inputs", help="a folder, a glob, a manifest .csv, or a .parquet with a signal column")
    s.add_argument("-o", "--output", required=True, help="results .parquet (a re-run resumes it)")
    s.add_argument("--address", default="local", help="local (start Ray here), auto (the running cluster) or ray://HOST:PORT")
    s.add_argument("--num-actors", type=int, default=2, help="actors, each with the bundle loaded once (default 2)")
    s.add_argument("--batch-size", type=int, default=16, help="recordings per batch (default 16)")
    s.add_argument("--actor-cpus", type=float, default=0.5,
                   help="CPUs reserved per actor (default 0.5, so Ray's own tasks keep a CPU on small machines)")
    a = parser.parse_args(argv)
    if a.num_actors < 1 or a.batch_size < 1 or not a.actor_cpus > 0:
        parser.error("--num-actors and --batch-size must be at least 1, --actor-cpus above 0")
    started = False
    try:
        started = _connect(a.address)
        start = time.perf_counter()
        counts = score(a.bundle, a.inputs, a.output, num_actors=a.num_actors, batch_size=a.batch_size,
                       actor_cpus=a.actor_cpus, progress=sys.stderr.isatty())
        seconds = time.perf_counter() - start
        print(f"{a.output}: {counts['rows']} rows ({counts['scored']} scored now in {seconds:.1f} s, "
              f"{counts['skipped']} already scored, {counts['errors']} with errors)")
        return 0
    except QemlcError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if started:
            import ray
            ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
