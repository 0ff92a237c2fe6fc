"""`python -m matx_nb --includes | --cmake-dir | --version`: build flags for C++ projects."""
import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m matx_nb")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--includes", action="store_true", help="compiler flags for the runtime headers")
    g.add_argument("--cmake-dir", action="store_true", help="directory of matx_nbConfig.cmake")
    g.add_argument("--version", action="store_true")
    args = ap.parse_args(argv)
    if args.version:
        from . import __version__
        print(__version__)
    elif args.includes:
        from .compiler.toolchain import include_dir
        print(f"-I{include_dir()}")
    else:
        print(Path(__file__).resolve().parent / "cmake")
    return 0


if __name__ == "__main__":
    sys.exit(main())
