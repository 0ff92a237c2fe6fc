"""`import matx` for MATXScript's code where MATXScript is not installed.

MATXScript's programs say `import matx`, `from matx import vision` and
`from matx.vision import ResizeOp`. Where no package named `matx` is installed,
importing matx_nb makes `matx` and `matx.<sub>` the same module objects as
`matx_nb` and `matx_nb.<sub>` (never second copies), so those programs run
after `import matx_nb` (or `import matx_nb as matx`) unchanged. Nothing is
looked up until something imports `matx`.
"""
import sys


class _Loader:
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        import importlib
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _Finder:
    """First on sys.meta_path: the path finder would load second copies of our
    submodules under the name matx.<sub>."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "matx" and not fullname.startswith("matx."):
            return None
        import importlib.machinery
        if fullname == "matx":  # a real matx package (MATXScript) wins
            for f in sys.meta_path:
                if f is not self and hasattr(f, "find_spec") and f.find_spec(fullname, path, target) is not None:
                    return None
        real = "matx_nb" + fullname[len("matx"):]
        if fullname != "matx" and sys.modules.get("matx") is not sys.modules.get("matx_nb"):
            return None
        return importlib.machinery.ModuleSpec(fullname, _Loader(real), is_package=True)


def install() -> None:
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
