"""`matx-run DIR --feed JSON [--bench N]`: runs a saved pipeline and prints JSON.

The pipeline runs in the C++ Session (the same code a C++ program uses).
A folder is code: it is checked and its checksums verified before it runs; a
library built for another platform is compiled from the folder's source only
with --rebuild, and --trusted-key PEM (repeatable) refuses folders not signed
by one of those keys. Bad input is a one-line message and exit status 1 or 2,
never a Python traceback.
JSON has no bytes or arrays, so the feed and the output use two conventions:
`{"$bytes": "text"}` is the text's UTF-8 bytes (`{"$b64": "..."}` any bytes),
and an array (NDArray, numpy, torch) prints as
`{"dtype": "float32", "shape": [2, 3], "data": [[...], [...]]}`, which the feed
takes as an NDArray too (an output fed back in is the same array).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from .pipeline.tensors import from_json as decode_feed, to_json as encode_output  # the feed's JSON forms


def main(argv=None) -> int:
    try:
        return run(argv)
    except KeyboardInterrupt as e:  # Ctrl-C stops the pipeline's loops at once (runtime interrupt.h)
        where = f" at {e.matx_file}:{e.matx_line}" if hasattr(e, "matx_line") else ""
        print(f"matx-run: interrupted{where}", file=sys.stderr)
        return 130
    except RecursionError:
        print("matx-run: a value is nested too deeply", file=sys.stderr)
        return 1
    except Exception as e:  # never a traceback: one line that says what failed
        print(f"matx-run: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1


def _one_line(e: BaseException) -> str:
    text = str(e)
    return text if len(text) < 4000 else text[:4000] + "..."


def read_feed(text: str) -> str:
    """--feed's JSON: inline, @FILE, or a path to a file. Raises ValueError with
    the message to print."""
    if text.startswith("@"):
        path = text[1:]
    elif not text.lstrip().startswith("{") and os.path.isfile(text):
        path = text
    else:
        return text
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ValueError(f"cannot read the feed file {path}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"the feed file {path} is not UTF-8: {e}") from None


def run(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="matx-run", description="Run a saved matx_nb pipeline on a JSON feed.")
    ap.add_argument("directory", help="the folder written by TracedModule.save()")
    ap.add_argument("--feed", required=True,
                    help="the inputs as a JSON object, inline or @FILE (or a path to a .json file)")
    ap.add_argument("--device", type=int, default=-1, help="-1 for the CPU (default), N for cuda:N")
    ap.add_argument("--bench", type=int, default=0, metavar="N",
                    help="also run N more times and print latency percentiles and throughput")
    ap.add_argument("--rebuild", action="store_true",
                    help="compile libraries built for another platform from the folder's sources "
                         "(that runs the folder's code through the compiler; refused without it)")
    ap.add_argument("--trusted-key", action="append", default=None, metavar="PEM",
                    help="an Ed25519 public key (PEM file); the folder must be signed by one of them")
    args = ap.parse_args(argv)
    from .pipeline import export
    try:
        text = read_feed(args.feed)
    except ValueError as e:
        print(f"matx-run: {e}", file=sys.stderr)
        return 2
    try:
        feeds = json.loads(text)
    except ValueError as e:
        print(f"matx-run: the feed is not valid JSON: {e}", file=sys.stderr)
        return 2
    except RecursionError:
        print("matx-run: the feed is nested too deeply", file=sys.stderr)
        return 2
    if not isinstance(feeds, dict):
        print("matx-run: the feed must be a JSON object of input names", file=sys.stderr)
        return 2
    try:
        feeds = decode_feed(feeds)
    except (ValueError, RecursionError) as e:  # a $b64 that is not base64, an array that is not one
        print(f"matx-run: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 2
    try:
        keys = None
        if args.trusted_key is not None:
            keys = []
            for k in args.trusted_key:
                try:
                    keys.append(Path(k).read_bytes())
                except OSError as e:
                    raise export.PipelineError(f"cannot read the trusted key {k}: {e.strerror or e}") from None
        pipe = export.load(args.directory, args.device, rebuild=args.rebuild, trusted_keys=keys)
        out = encode_output(pipe.run(feeds))
    except RecursionError:
        print("matx-run: a value is nested too deeply", file=sys.stderr)
        return 1
    except Exception as e:  # a clear message, never a traceback for bad input
        print(f"matx-run: {type(e).__name__}: {_one_line(e)}", file=sys.stderr)
        return 1
    try:
        print(json.dumps(out, ensure_ascii=False))
    except UnicodeEncodeError:  # lone surrogates, or a terminal that is not UTF-8
        print(json.dumps(out, ensure_ascii=True))
    if args.bench > 0:
        ts = []
        t_all = time.perf_counter()
        for _ in range(args.bench):
            t = time.perf_counter()
            pipe.run(feeds)
            ts.append(time.perf_counter() - t)
        total = time.perf_counter() - t_all
        ts.sort()

        def pct(p):
            return ts[min(len(ts) - 1, int(p * len(ts)))] * 1e6

        print(f"runs {args.bench}: p50 {pct(0.5):.1f} us, p90 {pct(0.9):.1f} us, p99 {pct(0.99):.1f} us, "
              f"mean {statistics.fmean(ts) * 1e6:.1f} us, throughput {args.bench / total:.0f} runs/s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
