"""CPython, matx_nb and MATXScript on the very same source, bench/workloads.py.

    python script_runner.py cpython|matx_nb|matxscript   # prints one JSON object

Run by bench/run.py in the system's own venv. Every object is compiled first
(a compile error goes into its cells), then the cells are timed.
"""
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH))

import harness as h  # noqa: E402
import workloads as w  # noqa: E402

OBJECTS = {"fib": w.fib, "text2ids": w.Text2Ids, "wordpiece": w.BertTokenizer,
           "str_pipeline": w.str_pipeline, "inverted_index": w.inverted_index,
           "class_method": w.Lcg, "int_loop": w.int_loop, "gen_sum": w.gen_sum, "add": w.add, "list_len": w.list_len}


def main(system: str) -> None:
    extra = {}
    if system == "cpython":
        import platform
        script, version = (lambda o: o), platform.python_version()
    elif system == "matx_nb":
        import matx_nb
        script, version = matx_nb.script, matx_nb.__version__
    elif system == "matxscript":
        import logging
        logging.disable(logging.WARNING)  # "server gcc not found": only its CXX11-ABI twin is skipped
        import matx
        script, version = matx.script, matx.__version__
    else:
        raise SystemExit("unknown system " + system)

    compiled, compile_s = {}, {}
    for name, obj in OBJECTS.items():
        t = time.perf_counter()
        try:
            compiled[name] = script(obj)
        except BaseException as e:  # CompileError, or whatever the peer raises
            if isinstance(e, KeyboardInterrupt):
                raise
            compiled[name] = e
        compile_s[name] = time.perf_counter() - t
    if system == "matx_nb":
        # the first compile starts the precompiled header's build in the background:
        # let it finish so that it does not share the CPU with the timings
        from matx_nb.compiler.toolchain import Toolchain
        Toolchain().wait_for_pch()
    extra["compile_s"] = compile_s

    def get(name):
        c = compiled[name]
        if isinstance(c, BaseException):
            raise c
        return c

    tp = h.to_py if system == "matxscript" else (lambda r: r)

    def fib(d):
        f = get("fib")
        return (lambda: f(h.FIB_N)), tp

    def int_loop(d):
        f = get("int_loop")
        return (lambda: f(h.LOOP_N)), tp

    def text2ids(d):
        obj = get("text2ids")(d["t2i_vocab"], d["t2i_unk"])
        words = d["words"]
        return (lambda: obj(words)), tp

    def wordpiece(d):
        obj = get("wordpiece")(d["bert_vocab"], d["accents"], d["spaces"], d["punct"],
                               d["bert_unk"], h.MAX_CHARS)
        texts = d["sentences"]
        return (lambda: obj(texts)), tp

    def str_pipeline(d):
        f, lines = get("str_pipeline"), d["lines"]
        return (lambda: f(lines)), tp

    def inverted_index(d):
        f, docs = get("inverted_index"), d["docs"]
        return (lambda: f(docs)), tp

    def class_method(d):
        C = get("class_method")
        return (lambda: C(h.LCG_SEED).run(h.LCG_N)), tp

    def gen_sum(d):
        f = get("gen_sum")
        return (lambda: f(h.GEN_N)), tp

    def add(d):
        return (get("add"), (1, 2)), tp

    def list_len(d):
        return (get("list_len"), (d["list1000"],)), tp

    builders = {"fib": fib, "text2ids": text2ids, "wordpiece": wordpiece,
                "str_pipeline": str_pipeline, "inverted_index": inverted_index,
                "class_method": class_method, "int_loop": int_loop, "gen_sum": gen_sum, "add": add,
                "list_len": list_len}
    only = set(os.environ["BENCH_ONLY"].split(",")) if os.environ.get("BENCH_ONLY") else None
    h.run_all(system, version, builders, {}, only=only, extra=extra)


if __name__ == "__main__":
    main(sys.argv[1])
