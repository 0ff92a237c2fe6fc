"""Numba on bench/runners/numba_workloads.py (compiled at the first call)."""
import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import harness as h  # noqa: E402
import numba  # noqa: E402
from numba.core.errors import NumbaPendingDeprecationWarning  # noqa: E402

warnings.simplefilter("ignore", category=NumbaPendingDeprecationWarning)  # reflected lists
import numba_workloads as nw  # noqa: E402


def main() -> None:
    ident = lambda r: r  # noqa: E731
    lst = lambda r: list(r)  # noqa: E731

    def text2ids(d):
        from numba import types
        from numba.typed import Dict
        vocab = Dict.empty(key_type=types.unicode_type, value_type=types.int64)
        for k, v in d["t2i_vocab"].items():
            vocab[k] = v
        words, unk, f = d["words"], d["t2i_unk"], nw.text2ids
        return (lambda: f(vocab, unk, words)), lst

    builders = {
        "fib": lambda d: ((lambda: nw.fib(h.FIB_N)), ident),
        "int_loop": lambda d: ((lambda: nw.int_loop(h.LOOP_N)), ident),
        "text2ids": text2ids,
        "wordpiece": None, "str_pipeline": None, "inverted_index": None,
        "class_method": lambda d: ((lambda: nw.lcg_run(h.LCG_SEED, h.LCG_N)), ident),
        "add": lambda d: ((nw.add, (1, 2)), ident),
        "list_len": lambda d: ((nw.list_len, (d["list1000"],)), ident),
    }
    na = "not adapted (str building, Set/Dict[str, List[int]] need numba.typed rewrites)"
    notes = {"wordpiece": na, "str_pipeline": na, "inverted_index": na,
             "class_method": "@jitclass run by an @njit function",
             "text2ids": "vocab as numba.typed.Dict; words as a reflected list",
             "list_len": "reflected list"}
    only = set(os.environ["BENCH_ONLY"].split(",")) if os.environ.get("BENCH_ONLY") else None
    h.run_all("numba", numba.__version__, builders, notes, only=only)


if __name__ == "__main__":
    main()
