"""`%matx_export FUNC EXAMPLE_ARGS --out DIR` and the Export button: trace the
pipeline on the example, save the folder, load it back in the C++ Session to
check it, and show its files with the snippets that run it elsewhere."""
from __future__ import annotations

import html
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Tuple

from . import render

esc = html.escape


def parse_line(line: str) -> Tuple[str, str, str]:
    """'fib 25 --out out/fib' -> ('fib', '25', 'out/fib')."""
    m = re.search(r"(?:^|\s)--out(?:=|\s+)(\"[^\"]*\"|'[^']*'|\S+)", line)
    if not m:
        raise ValueError("usage: %matx_export FUNC EXAMPLE_ARGS --out DIR")
    out = shlex.split(m.group(1))[0]
    rest = (line[:m.start()] + " " + line[m.end():]).strip()
    if not rest:
        raise ValueError("usage: %matx_export FUNC EXAMPLE_ARGS --out DIR (FUNC is missing)")
    func, _, args = rest.partition(" ")
    return func, args.strip(), out


def eval_args(text: str, ns: Dict[str, Any]) -> tuple:
    """'25' -> (25,); '["a", "b"], 3' -> (["a", "b"], 3); '' -> ()."""
    return eval(f"({text},)", ns) if text.strip() else ()


@dataclass
class Exported:
    """What an export produced; shown as HTML in the notebook, text elsewhere."""
    directory: Path
    name: str
    feeds: Dict[str, Any]
    expected: Any
    loaded_result: Any
    files: List[Tuple[str, int]] = field(default_factory=list)

    @property
    def round_trip_ok(self) -> bool:
        return self.loaded_result == self.expected

    def feed_json(self) -> str:
        try:
            return json.dumps(self.feeds, ensure_ascii=False)
        except (TypeError, ValueError):
            return "{...}"

    def snippets(self) -> Dict[str, str]:
        d = str(self.directory)
        feeds = self.feed_json()
        return {
            "shell": f"matx-run {shlex.quote(d)} --feed {shlex.quote(feeds)}",
            "python": f"import matx_nb\npipe = matx_nb.load({d!r}, device=-1)\npipe.run({feeds})",
            "cpp": ("// g++ -std=c++17 $(python -m matx_nb --includes) run.cc -o run -ldl -lpthread\n"
                    "#include <matx_nb/session.h>\n#include <iostream>\n\nint main() {\n"
                    f"  auto sess = matx_nb::Session::Load({json.dumps(d)}, \"model.spec.json\", -1);\n"
                    "  matx_nb::Feeds feeds;\n"
                    f"  mx::Any feed = mx::json::loads(R\"json({feeds})json\");\n"
                    "  for (auto& e : feed.dict().table().entries())\n"
                    "    if (e.live) feeds[mx::utf8_encode(e.key.str())] = e.value;\n"
                    "  std::cout << mx::json::dumps(sess->Run(feeds), false) << std::endl;\n}\n"),
        }

    def __repr__(self) -> str:
        ok = "ok" if self.round_trip_ok else "MISMATCH"
        files = "\n".join(f"  {p}  ({n} bytes)" for p, n in self.files)
        return (f"exported {self.name} to {self.directory} (loaded back: {ok})\n{files}\n"
                f"run it: {self.snippets()['shell']}")

    def _repr_html_(self) -> str:
        s = self.snippets()
        ok = (f'<span class="matx-ok">✔ loaded back and ran: {esc(repr(self.loaded_result)[:200])}</span>'
              if self.round_trip_ok else
              f'<span class="matx-bad">✘ loaded back but returned {esc(repr(self.loaded_result)[:200])}, '
              f'expected {esc(repr(self.expected)[:200])}</span>')
        rows = "".join(f"<tr><td><code>{esc(p)}</code></td><td class='num'>{n:,}</td></tr>" for p, n in self.files)
        return render.page(
            f"<p><b>Exported <code>{esc(self.name)}</code></b> to <code>{esc(str(self.directory))}</code> · {ok}</p>"
            f"<table><tr><th>file</th><th>bytes</th></tr>{rows}</table>"
            f"<p><b>From the shell</b></p>{render.code_html(s['shell'], 'bash')}"
            f"<p><b>From Python</b></p>{render.code_html(s['python'], 'python')}"
            f"<p><b>From C++</b> (no Python in the process)</p>{render.code_html(s['cpp'], 'cpp')}")


def export(fn, args: tuple, out) -> Exported:
    import matx_nb
    mod = matx_nb.trace(fn, *args)
    feeds = dict(zip(mod.input_names, args))
    expected = mod.run(feeds)
    directory = Path(out)
    mod.save(directory)
    loaded = matx_nb.load(directory, device=-1).run(feeds)
    files = sorted((str(p.relative_to(directory)), p.stat().st_size)
                   for p in directory.rglob("*") if p.is_file())
    return Exported(directory, getattr(fn, "__qualname__", str(fn)), feeds, expected, loaded, files)
