"""matx_nb.Regex: MATXScript's regex class. In plain Python it runs on `re`;
in compiled code it is an opaque runtime type over PCRE2 (mod/re.h), with the
same results for patterns both engines read alike.

    r = matx_nb.Regex(r"(?<first>\\w+) are (?<second>\\w+)")
    r.match("Cats are smarter")   # (['Cats are smarter', 'Cats', 'smarter'], {'first': 'Cats', 'second': 'smarter'})
    r.split("a1b22c")             # pieces between matches, empty pieces left out
    r.replace("a1b", "<$0>")      # $1, ${1}, ${name} insert groups; $$ is a dollar
"""
from __future__ import annotations

import re
from typing import Dict, List, Tuple

# PCRE's (?<name>...) is Python's (?P<name>...); (?<= and (?<! are lookbehinds in both.
_NAMED_GROUP = re.compile(r"(?<!\\)\(\?<(?![=!])")
_DOLLAR = re.compile(r"\$(?:\$|(\d+)|\{(\w+)\})")


class Regex:
    def __init__(self, pattern: str, ignore_case: bool = False, dotall: bool = False,
                 extended: bool = False, anchored: bool = False, ucp: bool = True) -> None:
        flags = (re.I if ignore_case else 0) | (re.S if dotall else 0) | (re.X if extended else 0)
        flags |= 0 if ucp else re.A
        self.pattern = pattern
        self.anchored = anchored
        self._re = re.compile(_NAMED_GROUP.sub("(?P<", pattern), flags)

    def _find(self, s: str, pos: int):
        return self._re.match(s, pos) if self.anchored else self._re.search(s, pos)

    def _matches(self, s: str):
        """Successive matches with Python's empty-match rule (as mod/re.h's re_each)."""
        if self.anchored:
            m = self._re.match(s)
            return [m] if m else []
        return list(self._re.finditer(s))

    def split(self, input: str, offset: int = 0) -> List[str]:
        tail = input[max(offset, 0):]
        out, prev = [], 0
        for m in self._matches(tail):
            if m.start() > prev:
                out.append(tail[prev:m.start()])
            prev = m.end()
        if len(tail) > prev:
            out.append(tail[prev:])
        return out

    def replace(self, input: str, repl: str, offset: int = 0) -> str:
        start = max(offset, 0)
        tail = input[start:]

        def expand(m: re.Match) -> str:
            def one(d: re.Match) -> str:
                if d.group(0) == "$$":
                    return "$"
                key = d.group(1) or d.group(2)
                g = int(key) if key.isdigit() else key
                try:
                    return m.group(g) or ""
                except IndexError:
                    raise re.error("invalid group reference in replacement") from None
            return _DOLLAR.sub(one, repl)

        out, last = [], 0
        for m in self._matches(tail):
            out.append(tail[last:m.start()])
            out.append(expand(m))
            last = m.end()
        out.append(tail[last:])
        return input[:start] + "".join(out)

    def match(self, input: str, offset: int = 0) -> Tuple[List[str], Dict[str, str]]:
        m = self._find(input, max(offset, 0))
        if m is None:
            return [], {}
        groups = [m.group(0)] + [g or "" for g in m.groups()]
        named = {k: v or "" for k, v in m.groupdict().items()}
        return groups, named

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"
