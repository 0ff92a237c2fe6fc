"""Quick A/B of the str pipeline and inverted index cells: CPython vs matx_nb in one
process on the bench data (medians of 9). `make bench` is the full, recorded run."""
import sys, time, statistics, gc
sys.path.insert(0, "bench")
import data, workloads, matx_nb
d = data.load()
docs, lines = d["docs"], d["lines"]
fi = matx_nb.script(workloads.inverted_index); fs = matx_nb.script(workloads.str_pipeline)
def med(f, a, n=9):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); f(a); ts.append(time.perf_counter() - t)
    return statistics.median(ts)
for name, py, c, a in (("index", workloads.inverted_index, fi, docs), ("pipeline", workloads.str_pipeline, fs, lines)):
    tp, tc = med(py, a), med(c, a)
    print(name, f"py {tp*1e3:.1f} ms  compiled {tc*1e3:.1f} ms  ratio {tp/tc:.2f}x")
