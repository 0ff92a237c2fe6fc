"""One compile or one import, timed in a fresh process (run by bench/run.py).

    python latency.py import MODULE
    python latency.py compile matx_nb|matxscript OBJECT     # cache dir from the env
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    what = sys.argv[1]
    if what == "import":
        t = time.perf_counter()
        __import__(sys.argv[2])
        print(json.dumps({"import": time.perf_counter() - t}))
        return
    system, name = sys.argv[2], sys.argv[3]
    t0 = time.perf_counter()
    if system == "matx_nb":
        import matx_nb as m
    else:
        import logging
        logging.disable(logging.WARNING)
        import matx as m
    t1 = time.perf_counter()
    import workloads
    obj = getattr(workloads, name)
    t2 = time.perf_counter()
    c = m.script(obj)
    t3 = time.perf_counter()
    hit = getattr(getattr(c, "matx", None), "cache_hit", None) if system == "matx_nb" else None
    print(json.dumps({"import": t1 - t0, "script": t3 - t2, "hit": hit}))


if __name__ == "__main__":
    main()
