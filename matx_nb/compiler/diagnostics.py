"""Compile errors as data: a Diagnostic per problem, rendered only at the end."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional


def a_or_an(thing) -> str:
    """A type (or word) with its article, for messages: 'an int', 'a str',
    'an Optional[int]', 'an NDArray' (an acronym is read letter by letter)."""
    text = str(thing)
    word = text.lstrip("'\"([")
    if len(word) >= 2 and word[0].isupper() and word[1].isupper():
        vowel = word[0] in "AEFHILMNORSX"
    else:
        w = word.lower()
        vowel = w[:1] in ("a", "e", "i", "o") or (w[:1] == "u" and not w.startswith(("uni", "use", "usu", "uti")))
    return ("an " if vowel else "a ") + text


def count_of(n: int, noun: str, plural: str = "") -> str:
    """'1 value', '2 values' (plural: when not noun + 's')."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


@dataclass(frozen=True)
class Span:
    """A position in the user's file: 1-based line, 0-based column."""
    file: str
    line: int
    col: int
    end_line: int = 0
    end_col: int = 0


@dataclass
class Diagnostic:
    span: Span
    message: str
    hint: str = ""
    severity: str = "error"
    source_line: str = ""  # the text of span.line, filled when known

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def col(self) -> int:
        return self.span.col

    @property
    def file(self) -> str:
        return self.span.file

    def render(self) -> str:
        s = self.span
        out = [f'{s.file}:{s.line}:{s.col + 1}: {self.severity}: {self.message}']
        if self.source_line:
            text = self.source_line.rstrip("\n")
            out.append("    " + text)
            width = 1
            if s.end_line == s.line and s.end_col > s.col:
                width = s.end_col - s.col
            out.append("    " + " " * s.col + "^" + "~" * (width - 1))
        if self.hint:
            out.append(f"    hint: {self.hint}")
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"file": self.span.file, "line": self.span.line, "col": self.span.col,
                "end_line": self.span.end_line, "end_col": self.span.end_col,
                "message": self.message, "hint": self.hint, "severity": self.severity,
                "source_line": self.source_line}


class CompileError(Exception):
    """Everything wrong with the compiled object, reported at once."""

    def __init__(self, diagnostics: List[Diagnostic], log: str = ""):
        self.diagnostics = list(diagnostics)
        self.log = log  # the C++ compiler's output, for toolchain failures
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.diagnostics)
        head = f"{n} error{'s' if n != 1 else ''} in compiled code"
        body = "\n".join(d.render() for d in self.diagnostics)
        text = head + "\n" + body
        if self.log:
            text += "\n--- C++ compiler output ---\n" + self.log
        return text


class DiagnosticSink:
    """Collects diagnostics during a compilation; sources fill in source_line."""

    def __init__(self):
        self.items: List[Diagnostic] = []
        self._seen = set()

    def error(self, span: Span, message: str, hint: str = "", source_line: Optional[str] = None):
        key = (span.file, span.line, span.col, message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(Diagnostic(span, message, hint, "error", source_line or ""))

    def __bool__(self):
        return bool(self.items)

    def raise_if_any(self):
        if self.items:
            self.items.sort(key=lambda d: (d.span.file, d.span.line, d.span.col))
            raise CompileError(self.items)
