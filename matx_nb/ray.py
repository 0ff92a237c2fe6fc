"""Running a saved pipeline folder over a Ray Data dataset, for batch
(offline) preprocessing and inference at cluster scale:

    ds = ray.data.read_parquet(...)
    ds = ds.map_batches(matx_nb.ray.BatchPipeline, fn_constructor_args=("out/text",),
                        compute=ray.data.ActorPoolStrategy(size=4), batch_size=256)

(`concurrency=4` does the same; Ray deprecates it since 2.51). Each actor
of the pool loads the folder once (from its path: on a cluster of several
machines it must be there on each) and runs the pipeline once per batch. The
batch's columns named like the pipeline's inputs feed it; its outputs come
back as columns by their served names (the spec's `serving` section:
TracedModule.save(..., output_names=...)), one row per input row, an output
of shape [n, k] as a 2-D array (a tensor column). The other columns pass
through unchanged (the input columns too with keep_inputs=True). This
module does not import Ray.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import numpy as np

from .serve.model import RequestError, ServedModel


class BatchPipeline:
    """A callable class for `Dataset.map_batches` (batch_format "numpy", the
    default): directory is a saved pipeline folder; device -1 the CPU, N
    cuda:N for torch models; keep_inputs keeps the input columns too."""

    def __init__(self, directory, device: int = -1, *, keep_inputs: bool = False, trusted_keys=None):
        directory = Path(directory)
        self.model = ServedModel(directory.name, directory, device=device, max_batch_size=1,
                                 trusted_keys=trusted_keys)
        self.input_names = [i["name"] for i in self.model.inputs]
        self.keep_inputs = keep_inputs

    def __repr__(self):
        return f"BatchPipeline({str(self.model.directory)!r})"

    def __call__(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        missing = [n for n in self.input_names if n not in batch]
        if missing:
            raise ValueError(f"BatchPipeline({self.model.directory.name}): the batch has no column '{missing[0]}'; "
                           f"the pipeline takes columns {', '.join(self.input_names)} (the batch has "
                           f"{', '.join(map(str, batch)) or 'no columns'})")
        n = len(next(iter(batch[k] for k in self.input_names))) if self.input_names else _rows(batch)
        out = {k: v for k, v in batch.items() if self.keep_inputs or k not in self.input_names}
        if n == 0:
            results = {o["name"]: _empty(o) for o in self.model.outputs}
        else:
            given = {i["name"]: _column(i, batch[i["name"]]) for i in self.model.inputs}
            try:
                feeds, _ = self.model.feeds(given)
            except RequestError as e:
                raise ValueError(f"BatchPipeline({self.model.directory.name}): {e}") from None
            results = self.model.run_now(feeds)
        for name, value in results.items():
            if value.ndim == 0 or len(value) != n:
                raise ValueError(f"BatchPipeline({self.model.directory.name}): output '{name}' has "
                                 f"{'no rows' if value.ndim == 0 else f'{len(value)} rows'} for a batch of {n}; "
                                 "Ray Data needs one output row per input row (a pipeline saved with "
                                 "batch_dim0)")
            if name in out:
                raise ValueError(f"BatchPipeline({self.model.directory.name}): output '{name}' would replace the "
                                 "batch's column of that name; rename the column")
            out[name] = value
        return out


def _rows(batch: Dict[str, Any]) -> int:
    return len(next(iter(batch.values()))) if batch else 0


def _column(desc: dict, column) -> Any:
    """A Ray Data column (numpy; object arrays for strings, bytes and ragged
    lists) as the served model's feeds() takes a decoded request tensor."""
    a = np.asarray(column) if not isinstance(column, np.ndarray) else column
    if desc["kind"] == "scalar":  # one value for the batch: the column must hold it in every row
        first = a.reshape(-1)[:1]
        if a.size and any(x != first[0] for x in a.reshape(-1)):
            raise ValueError(f"BatchPipeline: input '{desc['name']}' is one value per run, but the column holds "
                             "several different values")
        return list(first) if desc["datatype"] == "BYTES" else first
    if desc["datatype"] == "BYTES":
        return [x.tobytes() if isinstance(x, np.ndarray) else x for x in a.reshape(-1).tolist()]
    if a.dtype == object:  # rows of a list column: arrays (ragged or not) or lists
        rows = [np.asarray(r) for r in a]
        if desc["kind"] == "ndarray":
            return np.stack(rows)
        lists = np.empty(len(rows), dtype=object)
        lists[:] = [r.tolist() for r in rows]
        return lists
    return a


def _empty(desc: dict) -> np.ndarray:
    shape = [0] + [max(d, 0) for d in desc["shape"][1:]]
    from .pipeline.tensors import NUMPY_DTYPES
    return np.empty(shape, dtype=object if desc["datatype"] == "BYTES" else NUMPY_DTYPES[desc["datatype"]])


__all__ = ["BatchPipeline"]
