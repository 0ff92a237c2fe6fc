"""Sources of the objects to compile: finds their code and their dependencies,
and computes the program key the cache is addressed by. This is all a cache hit
needs, so it imports nothing of the later stages."""
from __future__ import annotations

import ast
import importlib
import hashlib
import inspect
import linecache
import re
import textwrap
import types as pytypes
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from . import modules
from .diagnostics import DiagnosticSink, Span

CONST_TYPES = (int, float, bool, str, bytes, type(None))


@dataclass
class Source:
    """The source of one top-level function or class, dedented and parsed."""
    obj: Any
    name: str
    file: str
    first_line: int
    indent: int
    text: str
    tree: ast.AST  # the FunctionDef or ClassDef node
    globals: Dict[str, Any]
    lines: List[str] = field(default_factory=list)

    def span(self, node: ast.AST) -> Span:
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", line) or line
        col = getattr(node, "col_offset", 0)
        end_col = getattr(node, "end_col_offset", col) or col
        return Span(self.file, self.first_line + line - 1, col + self.indent,
                    self.first_line + end_line - 1, end_col + self.indent)

    def line_text(self, abs_line: int) -> str:
        i = abs_line - self.first_line
        if 0 <= i < len(self.lines):
            return " " * self.indent + self.lines[i]
        return linecache.getline(self.file, abs_line)

    def normalized(self) -> str:
        """What the cache key sees: the AST with positions relative to the object."""
        return dump_tree(self.tree)


def dump_tree(tree: ast.AST) -> str:
    """Like ast.dump(tree, include_attributes=True), without recursion: a
    400-branch elif chain nests deeper than ast.dump's recursion allows. Leaves
    (constants, names) take one step each, so a 100,000-item literal is quick."""
    out: List[str] = []
    append = out.append
    stack: List[Any] = [tree]
    pop, push = stack.pop, stack.append
    close, comma = _Raw(")"), _Raw(",")
    while stack:
        x = pop()
        cls = type(x)
        if cls is _Raw:
            append(x)
        elif cls is ast.Constant:
            append(f"Constant({x.value!r},{x.kind!r},{x.lineno},{x.col_offset},{x.end_lineno},{x.end_col_offset})")
        elif cls is ast.Name:
            append(f"Name({x.id!r},{type(x.ctx).__name__},{x.lineno},{x.col_offset},{x.end_lineno},"
                   f"{x.end_col_offset})")
        elif isinstance(x, ast.AST):
            names = _FIELDS.get(cls)
            if names is None:
                names = _FIELDS[cls] = [(name, _Raw(name + "=")) for name in cls._fields + cls._attributes]
            append(cls.__name__ + "(")
            push(close)
            for name, label in reversed(names):
                push(comma)
                push(getattr(x, name, None))
                push(label)
        elif cls is list:
            append("[")
            push(_Raw("]"))
            for v in reversed(x):
                push(comma)
                push(v)
        else:
            append(repr(x))
    return "".join(out)


class _Raw(str):
    """Text of the dump itself, as opposed to a value in the tree."""


_FIELDS: Dict[type, List[Tuple[str, "_Raw"]]] = {}


class SourceUnavailable(Exception):
    pass


def source_lines(obj: Any) -> Tuple[List[str], int]:
    """inspect.getsourcelines(obj), without its tokenizer where the block is plain:
    a cache hit spends most of its time there otherwise."""
    try:
        found = _block_by_indentation(obj)
    except Exception:  # noqa: BLE001 - the exact way below says what is wrong
        found = None
    return found if found is not None else inspect.getsourcelines(obj)


def _block_by_indentation(obj: Any):
    """The lines of obj's def or class (decorators included) and its first line
    number, ending before the first later line that is indented no deeper than
    its header; None where that is not sure. It is sure when those lines parse
    alone as one definition of obj's name: a cut inside a string, brackets or a
    backslash continuation leaves them unparsable."""
    file = inspect.getsourcefile(obj)
    lines = linecache.getlines(file) if file else []
    if not lines:
        return None
    if isinstance(obj, type):
        starts = [f.__code__.co_firstlineno - 1 for f in vars(obj).values()
                  if isinstance(f, pytypes.FunctionType) and f.__code__.co_filename == file]
        if not starts:
            return None
        method = min(starts)
        inner = len(lines[method]) - len(lines[method].lstrip())
        header = re.compile(rf"\s*class\s+{re.escape(obj.__name__)}\b")
        start = next((i for i in range(method - 1, -1, -1) if header.match(lines[i]) and
                      len(lines[i]) - len(lines[i].lstrip()) < inner), None)
        if start is None:
            return None
        while start > 0 and lines[start - 1].lstrip().startswith("@"):
            start -= 1
    else:
        start = obj.__code__.co_firstlineno - 1
    if not 0 <= start < len(lines):
        return None
    base = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines):
        line = lines[end]
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and len(line) - len(line.lstrip()) <= base:
            break
        end += 1
    # as inspect's block: without the blank lines and the comments of the outer level after it
    while end > start + 1 and (not lines[end - 1].strip() or (
            lines[end - 1].lstrip().startswith("#") and
            len(lines[end - 1]) - len(lines[end - 1].lstrip()) <= base)):
        end -= 1
    block = lines[start:end]
    try:
        tree = ast.parse(textwrap.dedent("".join(block)))
    except SyntaxError:
        return None
    if len(tree.body) != 1 or getattr(tree.body[0], "name", None) != obj.__name__ or \
            not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return None
    return block, start + 1


def get_source(obj: Any) -> Source:
    try:
        lines, first = source_lines(obj)
        file = inspect.getsourcefile(obj) or inspect.getfile(obj)
    except (OSError, TypeError) as e:
        raise SourceUnavailable(
            f"cannot read the source of {getattr(obj, '__qualname__', obj)!r}: {e}. "
            "matx_nb compiles functions and classes defined in a file or a notebook cell") from e
    raw = "".join(lines)
    text = textwrap.dedent(raw)
    indent = 0
    for a, b in zip(python_lines(raw), python_lines(text)):
        if b.strip():
            indent = len(a) - len(b)
            break
    tree = ast.parse(text)
    node = tree.body[0]
    if isinstance(obj, type):
        g = dict(vars(inspect.getmodule(obj))) if inspect.getmodule(obj) else {}
        for v in vars(obj).values():
            if isinstance(v, pytypes.FunctionType):
                g = v.__globals__
                break
    else:
        g = obj.__globals__
    return Source(obj, obj.__name__, file, first, indent, text, node, g, python_lines(text))


def python_lines(text: str) -> List[str]:
    """The lines as Python's tokenizer counts them: str.splitlines() also breaks
    at form feeds, \\x1c-\\x1e and U+2028, which Python keeps inside a line."""
    lines = re.split(r"\r\n|\r|\n", text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def unwrap(obj: Any) -> Any:
    """The Python object behind a compiled wrapper (script() results)."""
    return getattr(obj, "__matx_py__", obj)


def _is_user_function(v: Any) -> bool:
    return isinstance(v, pytypes.FunctionType) and not _from_library(v)


def _is_user_class(v: Any) -> bool:
    return isinstance(v, type) and not _from_library(v) and v.__module__ != "builtins"


def _from_library(v: Any) -> bool:
    mod = getattr(v, "__module__", "") or ""
    if mod.startswith(("matx_nb.text.", "matx_nb.vision.")):  # our own ops, in the subset: compiled like user code
        return False
    root = mod.split(".")[0]
    return root in ("typing", "builtins", "matx_nb", "collections", "abc", "enum",
                    "dataclasses", "functools")


class Collector:
    """Finds the objects a compilation needs: the entry and what it calls."""

    def __init__(self, sink: DiagnosticSink):
        self.sink = sink
        self.sources: Dict[str, Source] = {}  # name -> source, in discovery order
        self.constants: Dict[Tuple[str, str], Any] = {}  # (object name, global name) -> value
        # (object name, global name) -> "module" name, or ("module", function name)
        self.modules: Dict[Tuple[str, str], Any] = {}
        self.order: List[str] = []

    def add(self, obj: Any) -> Source:
        obj = unwrap(obj)
        name = obj.__name__
        if name in self.sources:
            if unwrap(self.sources[name].obj) is not obj:
                raise SourceUnavailable(f"two different objects named {name!r} in one program")
            return self.sources[name]
        src = get_source(obj)
        self.sources[name] = src
        self.order.append(name)
        for member in _resolve_module_members(src):
            try:
                self.add(member)
            except SourceUnavailable:
                pass
        for gname in sorted(self._global_names(src.tree)):
            if gname not in src.globals:
                continue
            v = unwrap(src.globals[gname])
            if modules.function_key(v) is None and (_is_user_function(v) or _is_user_class(v)):
                if v.__name__ != gname:
                    continue
                try:
                    self.add(v)
                except SourceUnavailable:
                    pass
            else:
                self._bind(name, gname, v)
        self._local_imports(name, src.tree)
        return src

    def _bind(self, name: str, gname: str, v: Any) -> None:
        """Records what the name gname means in object name's code: a module, a
        module's function, or a constant captured by value."""
        if modules.function_key(v) is not None:  # `from json import dumps`: the module's, not user code
            self.modules[(name, gname)] = modules.function_key(v)
        elif is_constant(v):
            # an int subclass (re.IGNORECASE is an IntFlag) is captured as its int value
            self.constants[(name, gname)] = int(v) if isinstance(v, int) and type(v) not in (int, bool) else v
        elif isinstance(v, pytypes.ModuleType):
            self.modules[(name, gname)] = v.__name__
        elif callable(v) and getattr(v, "__module__", None) and getattr(v, "__name__", None):
            self.modules[(name, gname)] = (v.__module__, v.__name__)

    def _local_imports(self, name: str, tree: ast.AST) -> None:
        """`import json` / `from re import findall as fa` inside a function or method:
        the names it binds resolve like the same import at module level."""
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    root = a.name.split(".")[0]
                    mod = _import(a.name if a.asname else root)
                    if mod is not None and root not in ("typing", "matx_nb"):
                        self.modules.setdefault((name, a.asname or root), mod.__name__)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mod = _import(node.module)
                if mod is None or node.module.split(".")[0] in ("typing", "matx_nb"):
                    continue
                for a in node.names:
                    alias = a.asname or a.name
                    v = unwrap(getattr(mod, a.name, None))
                    if v is not None and (name, alias) not in self.modules and (name, alias) not in self.constants:
                        self._bind(name, alias, v)

    @staticmethod
    def _global_names(tree: ast.AST) -> set:
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.add(node.id)
        return names


def _module_value(src: Source, e: ast.expr):
    """The module an expression names in src (`vision`, `matx.vision`), or None."""
    if isinstance(e, ast.Name):
        v = src.globals.get(e.id)
        return v if isinstance(v, pytypes.ModuleType) else None
    if isinstance(e, ast.Attribute):
        m = _module_value(src, e.value)
        if m is not None and m.__name__.split(".")[0] == "matx_nb":
            try:
                v = importlib.import_module(f"{m.__name__}.{e.attr}")
            except ImportError:
                return None
            return v
    return None


def _resolve_module_members(src: Source) -> List[Any]:
    """Rewrites src's tree where it names a member of one of our modules that is
    compiled code or a constant, and returns the objects to compile with it:
      - `vision.ResizeOp` (a module with a `__matx_source__` hook: matx_nb.vision)
        becomes the name `ResizeOp`, and that class joins the program;
      - `vision.SYNC`, a constant of such a module, becomes its value;
      - `matx.script(X)` (matx_nb.script) becomes `X`: compiled code is compiled already.
    The hook gives the Python object without compiling it (the module's own
    attribute is the compiled op)."""
    found: List[Any] = []

    class Rewrite(ast.NodeTransformer):
        def visit_Call(self, node):
            node = self.generic_visit(node)
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "script" and len(node.args) == 1 and \
                    not node.keywords and getattr(_module_value(src, f.value), "__name__", "") == "matx_nb":
                return node.args[0]
            return node

        def visit_Attribute(self, node):
            node = self.generic_visit(node)
            mod = _module_value(src, node.value) if isinstance(node, ast.Attribute) else None
            hook = getattr(mod, "__matx_source__", None)
            if hook is None:
                return node
            obj = hook(node.attr)
            if obj is not None:
                found.append(obj)
                return ast.copy_location(ast.Name(id=obj.__name__, ctx=node.ctx), node)
            v = getattr(mod, node.attr, None)
            if isinstance(node.ctx, ast.Load) and v is not None and is_constant(v) and \
                    isinstance(v, (int, float, str, bool)):
                return ast.copy_location(ast.Constant(value=v), node)
            return node

    src.tree = Rewrite().visit(src.tree)
    ast.fix_missing_locations(src.tree)
    return found


def _import(name: str):
    try:
        return importlib.import_module(name)
    except Exception:  # not installed, or fails to import: the names stay unknown
        return None


def is_constant(v: Any, depth: int = 0) -> bool:
    """Module-level values compiled code captures by value: scalars and containers of them."""
    if isinstance(v, CONST_TYPES):
        return True
    if depth > 8 or not isinstance(v, (tuple, list, set, frozenset, dict)):
        return False
    # No limit on size: a large constant compiles to a data table (emit/emitter.py), and
    # one that was left out only made its name "not defined".
    if isinstance(v, dict):
        return all(is_constant(k, depth + 1) and is_constant(x, depth + 1) for k, x in v.items())
    return all(is_constant(x, depth + 1) for x in v)


def program_key(col: Collector) -> str:
    """Hash of everything in the program that changes the generated code."""
    h = hashlib.sha256()
    for name in sorted(col.sources):
        h.update(name.encode())
        h.update(col.sources[name].normalized().encode())
    for k in sorted(col.constants):
        v = col.constants[k]
        h.update(repr((k, type(v).__name__, v)).encode())
    for k in sorted(col.modules):
        h.update(repr((k, col.modules[k])).encode())
    return h.hexdigest()
