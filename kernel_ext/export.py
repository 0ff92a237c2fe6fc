"""`%matx_export FUNC EXAMPLE_ARGS --out DIR` and the Export button: trace the
pipeline on the example, save the folder, load it back in the C++ Session to
check it, and show its files with the snippets that run it elsewhere.

FUNC is a Python expression: a function (`fib`), a method of an object
(`pipeline.process`), or a class (`Text2Ids`: an instance is constructed with
the --init arguments, none by default, and its `__call__` is traced) or one of
its methods (`Text2Ids.lookup`: the same instance, that method)."""
from __future__ import annotations

import ast
import html
import inspect
import json
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import render

esc = html.escape

FEED_FILE = "feed.json"  # the example inputs, written to the folder when too long to paste
INLINE_FEED_CHARS = 200


class ExportError(ValueError):
    """FUNC, --init or the examples of %matx_export do not fit: shown as one line."""

    def _render_traceback_(self):
        return [f"\x1b[31m\x1b[1mExportError\x1b[0m: {self}"]


def unquote(token: str) -> str:
    """IPython splits magic lines keeping quotes: '"my dir/x"' -> 'my dir/x'."""
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    return token


def eval_args(text: str, ns: Dict[str, Any]) -> tuple:
    """'25' -> (25,); '["a", "b"], 3' -> (["a", "b"], 3); '' -> ()."""
    return eval(f"({text},)", ns) if text.strip() else ()


def _is_class(value) -> bool:
    return isinstance(value, type)  # a compiled class too (a %%matx name is resolved first)


def _python_original(obj):
    """The Python class a compiled instance was built from, else None."""
    return getattr(type(obj), "py_class", None)


def _traceable(method, owner: str) -> Callable:
    """A bound method as a function matx_nb.trace can inspect: a compiled method
    has no signature of its own, so it takes the Python original's."""
    try:
        inspect.signature(method)
        return method
    except (TypeError, ValueError):
        pass
    name = getattr(method, "__name__", "__call__")
    py_cls = _python_original(method.__self__)
    original = getattr(py_cls, name, None) if py_cls is not None else None
    if original is None:
        raise ExportError(f"cannot find the parameters of {owner}.{name}")
    params = list(inspect.signature(original).parameters.values())[1:]  # without self
    sig = inspect.Signature(params)

    def call(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        return method(*bound.args, **bound.kwargs)
    call.__signature__ = sig
    call.__name__, call.__qualname__ = name, f"{owner}.{name}"
    return call


def resolve_target(expr: str, ns: Dict[str, Any], init_text: str = "",
                   resolve: Callable[[Any], Any] = lambda v: v) -> Tuple[Callable, str]:
    """FUNC of %matx_export -> (the function to trace, its name).

    `resolve` turns a value the extension bound (a build still running) into the
    compiled object, or raises a clear error when that build failed."""
    expr = unquote(expr.strip())
    try:
        tree = ast.parse(expr, mode="eval").body
    except SyntaxError:
        raise ExportError(f"FUNC must be a Python expression (a name such as fib or pipeline.process), "
                         f"got {expr!r}") from None
    init = eval_args(init_text, ns)
    if isinstance(tree, ast.Attribute):  # Cls.method: construct Cls, trace its method
        owner = resolve(eval(ast.unparse(tree.value), ns))
        if _is_class(owner):
            return _method_of(owner, tree.attr, init, expr)
    value = resolve(eval(expr, ns))
    if _is_class(value):  # Cls: construct it, trace __call__
        return _method_of(value, "__call__", init, expr)
    if init_text.strip():
        raise ExportError(f"--init is for a class (%matx_export Cls.method ... --init ARGS); {expr} is not one")
    if _python_original(value) is not None:  # a compiled instance: its __call__
        return _method_of(value, "__call__", (), expr, instance=value)
    if _python_original(getattr(value, "__self__", None)) is not None:  # obj.method of a compiled obj
        return _traceable(value, type(value.__self__).__name__), expr
    if not callable(value):
        raise ExportError(f"{expr} is not a function to trace (its type is {type(value).__name__})")
    return value, getattr(value, "__qualname__", expr)


def _method_of(cls_or_obj, name: str, init: tuple, expr: str, instance=None) -> Tuple[Callable, str]:
    cls = type(instance) if instance is not None else cls_or_obj
    py_cls = getattr(cls, "py_class", cls)
    cls_name = getattr(cls, "__name__", expr)
    if not callable(getattr(py_cls, name, None)) or (name == "__call__" and "__call__" not in dir(py_cls)):
        methods = [m for m in vars(py_cls) if callable(vars(py_cls)[m]) and not m.startswith("__")]
        hint = f": name a method, e.g. %matx_export {cls_name}.{methods[0]} ..." if methods else ""
        what = "no __call__" if name == "__call__" else f"no method {name}"
        raise ExportError(f"{cls_name} has {what}{hint}")
    if instance is None:
        try:
            instance = cls_or_obj(*init)
        except TypeError as e:
            raise ExportError(f"constructing {cls_name}({', '.join(map(repr, init))}) to export its {name} "
                            f"failed: {e}; give the constructor's arguments with --init") from None
    return _traceable(getattr(instance, name), cls_name), f"{cls_name}.{name}"


# ---- export targets a cell offers (the Export row, the side panel)

def example_args(fn_name: str, exprs: List[str]) -> str:
    """The arguments of the first call of fn_name in the --check/--bench
    expressions: the Export row's default example."""
    for text in exprs:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == fn_name:
                return ", ".join(ast.get_source_segment(text, a) for a in node.args)
    return ""


def class_examples(name: str, py_cls: type, exprs: List[str]) -> Dict[str, dict]:
    """Export targets of a class: `Cls` (its __call__) and `Cls.method`, with the
    example and constructor arguments of their first call in the --check/--bench
    expressions (`Cls(init)(args)`, `Cls(init).method(args)`)."""
    found: Dict[str, dict] = {}
    for text in exprs:
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            if isinstance(f, ast.Attribute) and not f.attr.startswith("_"):
                inner, target = f.value, f"{name}.{f.attr}"
            else:
                inner, target = f, name
            if (isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == name
                    and target not in found):
                seg = lambda nodes: ", ".join(ast.get_source_segment(text, a) for a in nodes)  # noqa: E731
                found[target] = {"args": seg(node.args), "init": seg(inner.args)}
    if "__call__" in vars(py_cls) and name not in found:
        found[name] = {"args": "", "init": ""}
    if not found:
        for m, v in vars(py_cls).items():
            if callable(v) and not m.startswith("_"):
                found[f"{name}.{m}"] = {"args": "", "init": ""}
    return found


def examples(build) -> Dict[str, dict]:
    """What the panel's Export command offers: FUNC -> {args, init}."""
    exprs = build.options.check + build.options.bench
    out: Dict[str, dict] = {}
    for n, b in build.objects.items():
        if isinstance(b.py_obj, type):
            out.update(class_examples(n, b.py_obj, exprs))
        else:
            out[n] = {"args": example_args(n, exprs), "init": ""}
    return out


def source_names(shell, places: Dict[str, str]) -> Dict[str, str]:
    """Cell files -> "cell [N]", for the spec (never a /tmp/ipykernel_... path)."""
    names = {}
    try:
        names.update({f: f"cell [{n}]" for f, n in shell.compile._filename_map.items()})
    except AttributeError:  # another shell: the spec records file names only
        pass
    names.update(places)
    return names


def matx_run_command() -> str:
    """How the shell snippet runs matx-run: the script next to this Python (a
    notebook server started from an unactivated venv does not have it on PATH)."""
    script = Path(sys.executable).with_name("matx-run")
    if script.exists():
        found = shutil.which("matx-run")
        if found and Path(found).resolve() == script.resolve():
            return "matx-run"
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m matx_nb.cli"


def feed_data(feeds: Dict[str, Any]) -> Optional[Any]:
    """The feed as JSON data, bytes as {"$b64": ...} (matx-run's convention), or
    None when it has values JSON cannot carry (arrays, objects)."""
    from matx_nb.cli import encode_output
    try:
        data = encode_output(feeds)
        json.dumps(data)
        if any(isinstance(v, dict) and "dtype" in v and "shape" in v for v in _walk(data)):
            return None  # an array: matx-run would read it as a dict
        return data
    except (TypeError, ValueError):
        return None


def _walk(v):
    yield v
    if isinstance(v, dict):
        for x in v.values():
            yield from _walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from _walk(x)


@dataclass
class Exported:
    """What an export produced; shown as HTML in the notebook, text elsewhere."""
    directory: Path
    name: str
    feeds: Dict[str, Any]
    expected: Any
    loaded_result: Any
    files: List[Tuple[str, int]] = field(default_factory=list)
    feed_file: Optional[Path] = None  # the example inputs, when too long to paste in the snippets

    @property
    def round_trip_ok(self) -> bool:
        return self.loaded_result == self.expected

    def feed_json(self) -> str:
        data = feed_data(self.feeds)
        return "{...}" if data is None else json.dumps(data, ensure_ascii=False)

    def snippets(self) -> Dict[str, str]:
        d = str(self.directory)
        python = shlex.quote(sys.executable)
        if self.feed_file is not None:
            feed = str(self.feed_file)
            shell_feed = shlex.quote("@" + feed)
            decode = "$b64" in self.feed_file.read_text(encoding="utf-8")
            py_feed = (f"with open({feed!r}, encoding='utf-8') as f:\n"
                       f"    feeds = {'decode_feed(json.load(f))' if decode else 'json.load(f)'}\n")
            py_head = "import json\n" + ("from matx_nb.cli import decode_feed  # {\"$b64\": ...} -> bytes\n"
                                         if decode else "")
            cpp_read = (f"  std::ifstream in({json.dumps(feed)});\n  std::stringstream text;\n  text << in.rdbuf();\n"
                        "  mx::Any feed = mx::json::loads(text.str());\n")
            cpp_includes = "#include <fstream>\n#include <iostream>\n#include <sstream>\n"
        else:
            feeds = self.feed_json()
            shell_feed = shlex.quote(feeds)
            py_head, py_feed = "", f"feeds = {self.feeds!r}\n"
            cpp_read = f"  mx::Any feed = mx::json::loads(R\"json({feeds})json\");\n"
            cpp_includes = "#include <iostream>\n"
        return {
            "shell": f"{matx_run_command()} {shlex.quote(d)} --feed {shell_feed}",
            "python": f"{py_head}import matx_nb\n\npipe = matx_nb.load({d!r}, device=-1)\n{py_feed}pipe.run(feeds)",
            "cpp": (f"// g++ -std=c++17 $({python} -m matx_nb --includes) run.cc -o run -ldl -lpthread\n"
                    f"#include <matx_nb/session.h>\n{cpp_includes}\nint main() {{\n"
                    f"  auto sess = matx_nb::Session::Load({json.dumps(d)}, \"model.spec.json\", -1);\n"
                    f"{cpp_read}"
                    "  matx_nb::Feeds feeds;\n"
                    "  for (auto& e : feed.dict().table().entries())\n"
                    "    if (e.live) feeds[mx::utf8_encode(e.key.str())] = e.value;\n"
                    "  std::cout << mx::json::dumps(sess->Run(feeds), false) << std::endl;\n}\n"),
        }

    def __repr__(self) -> str:
        ok = "ok" if self.round_trip_ok else "MISMATCH"
        files = "\n".join(f"  {p}  ({n:,} byte{'s' if n != 1 else ''})" for p, n in self.files)
        return (f"exported {self.name} to {self.directory} (loaded back: {ok})\n{files}\n"
                f"run it: {self.snippets()['shell']}")

    def _repr_html_(self) -> str:
        s = self.snippets()
        ok = (f'<span class="matx-ok">✔ loaded back and ran: {esc(repr(self.loaded_result)[:200])}</span>'
              if self.round_trip_ok else
              f'<span class="matx-bad">✘ loaded back but returned {esc(repr(self.loaded_result)[:200])}, '
              f'expected {esc(repr(self.expected)[:200])}</span>')
        rows = "".join(f"<tr><td><code>{esc(p)}</code></td><td class='num'>{n:,}</td></tr>" for p, n in self.files)
        feed = (f'<p class="muted">The example inputs are in <code>{esc(str(self.feed_file))}</code> '
                f'(not part of the pipeline: edit it to try other inputs).</p>' if self.feed_file else "")
        return render.page(
            f"<p><b>Exported <code>{esc(self.name)}</code></b> to <code>{esc(str(self.directory))}</code> · {ok}</p>"
            f"<table><tr><th>file</th><th>bytes</th></tr>{rows}</table>{feed}"
            f"<p><b>From the shell</b></p>{render.code_html(s['shell'], 'bash')}"
            f"<p><b>From Python</b></p>{render.code_html(s['python'], 'python')}"
            f"<p><b>From C++</b> (no Python in the process)</p>{render.code_html(s['cpp'], 'cpp')}")


def export(fn, args: tuple, out, name: str = "", sources: Optional[Dict[str, str]] = None) -> Exported:
    """Traces fn on args, saves the folder at out and runs it loaded back.

    sources: how the spec names source files (cell files -> "cell [3]"); other
    files are recorded by a relative path or their name (see matx_nb.export.save)."""
    import matx_nb
    mod = matx_nb.trace(fn, *args)
    feeds = dict(zip(mod.input_names, args))
    expected = mod.run(feeds)
    directory = Path(out)
    feed_path = directory / FEED_FILE
    if feed_path.is_file():  # from an earlier export to this folder: not part of the pipeline's checksums
        feed_path.unlink()
    mod.save(directory, source_names=sources or {})
    loaded = matx_nb.load(directory, device=-1).run(feeds)
    data = feed_data(feeds)
    feed_file = None
    if data is not None and len(json.dumps(data, ensure_ascii=False)) > INLINE_FEED_CHARS:
        feed_path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        feed_file = feed_path
    files = sorted((str(p.relative_to(directory)), p.stat().st_size)
                   for p in directory.rglob("*") if p.is_file())
    return Exported(directory, name or getattr(fn, "__qualname__", str(fn)), feeds, expected, loaded, files,
                    feed_file)
