"""TorchScript (torch.jit.script) on bench/runners/torch_workloads.py; one thread."""
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import harness as h  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
# The default (profiling, optimizing) graph executor slows the scripted
# BertTokenizer down call after call (each call slower than the one before: 320
# sentences 6 s, 640 sentences 34 s); without its optimizations the time is
# linear. So the wordpiece cell runs with them off (said so in RESULTS.md), every
# other cell with the default, which is faster there (class_method 3x).
# BENCH_TORCH_OPTIMIZE=1 keeps the default for wordpiece too (takes minutes).
KEEP_OPT = os.environ.get("BENCH_TORCH_OPTIMIZE") == "1"


def optimize(on: bool) -> None:
    torch._C._get_graph_executor_optimize(on or KEEP_OPT)
import torch_workloads as tw  # noqa: E402


def main() -> None:
    compiled, compile_s = {}, {}

    def comp(name, make):
        t = time.perf_counter()
        try:
            compiled[name] = make()
        except Exception as e:
            compiled[name] = e
        compile_s[name] = time.perf_counter() - t

    def get(name):
        c = compiled[name]
        if isinstance(c, Exception):
            raise c
        return c

    s = torch.jit.script
    comp("fib", lambda: s(tw.fib))
    comp("int_loop", lambda: s(tw.int_loop))
    comp("str_pipeline", lambda: s(tw.str_pipeline))
    comp("inverted_index", lambda: s(tw.inverted_index))
    comp("class_method", lambda: s(tw.lcg_run))
    comp("add", lambda: s(tw.add))
    comp("list_len", lambda: s(tw.list_len))
    d0 = __import__("data").load()
    comp("text2ids", lambda: s(tw.Text2Ids(d0["t2i_vocab"], d0["t2i_unk"])))
    comp("wordpiece", lambda: s(tw.BertTokenizer(
        d0["bert_vocab"], d0["accents"], {c: True for c in d0["spaces"]},
        {c: True for c in d0["punct"]}, d0["bert_unk"], h.MAX_CHARS)))
    ident = lambda r: r  # noqa: E731

    builders = {
        "fib": lambda d: ((lambda f: (lambda: f(h.FIB_N)))(get("fib")), ident),
        "int_loop": lambda d: ((lambda f: (lambda: f(h.LOOP_N)))(get("int_loop")), ident),
        "text2ids": lambda d: ((lambda m, x: (lambda: m(x)))(get("text2ids"), d["words"]), ident),
        "wordpiece": lambda d: ((lambda m, x: (lambda: m(x)))(get("wordpiece"), d["sentences"]), ident),
        "str_pipeline": lambda d: ((lambda f, x: (lambda: f(x)))(get("str_pipeline"), d["lines"]), ident),
        "inverted_index": lambda d: ((lambda f, x: (lambda: f(x)))(get("inverted_index"), d["docs"]), ident),
        "class_method": lambda d: ((lambda f: (lambda: f(h.LCG_SEED, h.LCG_N)))(get("class_method")), ident),
        "add": lambda d: ((get("add"), (1, 2)), ident),
        "list_len": lambda d: ((get("list_len"), (d["list1000"],)), ident),
    }
    notes = {"text2ids": "nn.Module",
             "wordpiece": "nn.Module; Set -> Dict[str, bool]; graph executor optimizations off",
             "class_method": "scripted class run by a scripted function"}
    def opt(name, b):
        def build(d):
            optimize(name != "wordpiece")
            return b(d)
        return build

    builders = {k: opt(k, b) for k, b in builders.items()}
    only = set(os.environ["BENCH_ONLY"].split(",")) if os.environ.get("BENCH_ONLY") else None
    h.run_all("torchscript", torch.__version__, builders, notes, only=only,
              extra={"compile_s": compile_s})


if __name__ == "__main__":
    main()
