"""A %%matx cell as the compiler sees it: a source file registered in linecache,
a module namespace of its own, and the functions and classes it defines.

The cell runs in its own module so that the Python originals stay pure Python
(a recursive ``fib.py_func`` calls the Python ``fib``, not the compiled one) and
so that ``inspect`` finds the source of classes too (through ``__file__``).
"""
from __future__ import annotations

import ast
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Callable, Dict, List

from matx_nb.compiler.diagnostics import CompileError, Diagnostic, Span


ANNOTATIONS = {name: getattr(typing, name) for name in ("Any", "Dict", "List", "Optional", "Set", "Tuple")}


@dataclass
class Cell:
    number: int      # this extension's own counter: one module per cell run
    label: str       # how messages name the cell: "cell [3]"
    filename: str    # registered in linecache
    text: str        # starts with a blank line: line N is the notebook's line N (the magic is line 1)
    module: types.ModuleType
    names: List[str] = field(default_factory=list)  # top-level functions and classes, in order
    lines: Dict[str, int] = field(default_factory=dict)  # name -> its line in the cell

    def objects(self) -> Dict[str, object]:
        return {n: self.module.__dict__[n] for n in self.names}

    def line(self, n: int) -> str:
        lines = self.text.splitlines()
        return lines[n - 1] if 0 < n <= len(lines) else ""


def defined_names(tree: ast.Module) -> Dict[str, int]:
    """Top-level functions and classes of the cell and their lines, in order;
    a name defined twice counts once, last."""
    names: Dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.pop(node.name, None)
            names[node.name] = node.lineno
    return names


def parse(body: str, filename: str) -> ast.Module:
    text = "\n" + body
    try:
        return ast.parse(text, filename)
    except SyntaxError as e:
        d = Diagnostic(Span(filename, e.lineno or 0, max((e.offset or 1) - 1, 0)),
                       f"syntax error: {e.msg}", source_line=e.text or "")
        raise CellCompileError([d], {filename: "this cell"}) from None


def run_cell(shell, body: str, number: int, label: str,
             twin_of: Callable[[object], object]) -> Cell:
    """Executes the cell's Python in a fresh module seeded with the user namespace.

    ``twin_of`` maps a value bound by an earlier %%matx cell (compiled or
    pending) back to its Python original, so the originals only call Python.
    """
    text = "\n" + body
    filename = shell.compile.cache(text, shell.execution_count)
    tree = parse(body, filename)
    mod = types.ModuleType(f"_matx_cell_{number}")
    seed = dict(ANNOTATIONS)  # so cells can say List[int] without importing typing
    seed.update((k, twin_of(v)) for k, v in shell.user_ns.items() if not k.startswith("__"))
    mod.__dict__.update(seed)
    mod.__dict__.update(__file__=filename, __builtins__=shell.user_ns.get("__builtins__", __builtins__))
    sys.modules[mod.__name__] = mod
    exec(compile(tree, filename, "exec"), mod.__dict__)
    lines = defined_names(tree)
    cell = Cell(number, label, filename, text, mod, list(lines), lines)
    # Everything else the cell defined (constants, imports) lands in the user namespace.
    for k, v in mod.__dict__.items():
        if k.startswith("__") or k in cell.names:
            continue
        if k not in seed or seed[k] is not v:
            shell.user_ns[k] = v
    return cell


class CellCompileError(CompileError):
    """Type errors of a cell: raised by the magic so the cell fails (and nbclient
    stops), rendered with the cell's line numbers instead of a traceback."""

    def __init__(self, diagnostics: List[Diagnostic], places: Dict[str, str], log: str = ""):
        self.places = dict(places)  # file -> "this cell" / "cell [2]"
        super().__init__(diagnostics, log)

    def _text(self) -> str:
        n = len(self.diagnostics)
        head = f"{n} error{'s' if n != 1 else ''} in the %%matx cell"
        text = "\n".join([head] + [render_text(d, self.places) for d in self.diagnostics])
        return text + ("\n--- C++ compiler output ---\n" + self.log if self.log else "")

    def _render_traceback_(self) -> List[str]:
        red, bold, dim, reset = "\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m"
        out = [f"{red}{bold}CompileError{reset}: {self._text().splitlines()[0]}"]
        for d in self.diagnostics:
            for i, line in enumerate(render_text(d, self.places).splitlines()):
                if i == 0:
                    line = line.replace("error:", f"{red}error:{reset}", 1)
                elif "hint:" in line:
                    line = f"{dim}{line}{reset}"
                elif set(line.split("|")[-1].strip()) <= set("^~") and "|" in line:
                    line = f"{red}{line}{reset}"
                out.append(line)
        if self.log:
            out += ["", "--- C++ compiler output ---", self.log]
        return out


def where(file: str, line: int, places: Dict[str, str]) -> str:
    """'line 3' in this cell, 'cell [2] line 3' in another one, 'file.py:3' elsewhere."""
    place = places.get(file)
    if place == "this cell":
        return f"line {line}"
    if place:
        return f"{place} line {line}"
    return f"{file}:{line}"


def render_text(d: Diagnostic, places: Dict[str, str]) -> str:
    out = [f"{where(d.file, d.line, places)}, col {d.col + 1}: {d.severity}: {d.message}"]
    if d.source_line:
        out += ["  " + line for line in caret_lines(d)]
    if d.hint:
        out.append(f"  hint: {d.hint}")
    return "\n".join(out)


def caret_lines(d: Diagnostic) -> List[str]:
    """'  3 | source' and the caret under the span, numbered by cell line."""
    num, s = str(d.line), d.span
    width = s.end_col - s.col if s.end_line == s.line and s.end_col > s.col else 1
    return [f"{num} | {d.source_line.rstrip()}", f"{' ' * len(num)} | {' ' * s.col}^{'~' * (width - 1)}"]


def type_check(cell: Cell, places: Dict[str, str]) -> None:
    """Front end and type checker on every object of the cell (fast, no g++):
    raises CellCompileError with all diagnostics of the cell at once."""
    from matx_nb.compiler.driver import analyze
    diags, seen = [], set()
    for obj in cell.objects().values():
        try:
            analyze(obj)
        except CompileError as e:
            for d in e.diagnostics:
                key = (d.file, d.line, d.col, d.message)
                if key not in seen:
                    seen.add(key)
                    diags.append(d)
    if diags:
        diags.sort(key=lambda d: (d.file != cell.filename, d.file, d.line, d.col))
        raise CellCompileError(diags, places)


def error_text(e: BaseException) -> str:
    """What a failed build says: a compile error's full text, else the exception's line."""
    import traceback
    if isinstance(e, CompileError):
        return str(e)
    return "".join(traceback.format_exception_only(type(e), e)).strip()
