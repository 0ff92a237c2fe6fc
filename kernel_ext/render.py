"""HTML for the %%matx output: pure functions of a build, no widgets, so tests
read them directly. Colours come from JupyterLab's theme CSS variables (with
fallbacks for other front ends), so every view reads in light and dark themes."""
from __future__ import annotations

import base64
import html
import io
import re
from typing import Dict, List, Optional

from .cell import caret_lines, where
from .measure import seconds

# Pygments token classes (prefix mx-) -> JupyterLab editor colours.
_TOKEN_VARS = {
    "keyword": (("k", "kd", "kn", "kr", "kc", "kp"), "--jp-mirror-editor-keyword-color", "#008000"),
    "type": (("kt",), "--jp-mirror-editor-variable-2-color", "#05a"),
    "comment": (("c", "c1", "cm", "cs"), "--jp-mirror-editor-comment-color", "#408080"),
    "meta": (("cp", "cpf"), "--jp-mirror-editor-meta-color", "#a2f"),
    "string": (("s", "s1", "s2", "sc", "se", "sa", "sb", "sd", "sh", "si", "sx", "sr", "ss"),
               "--jp-mirror-editor-string-color", "#ba2121"),
    "number": (("m", "mi", "mf", "mh", "mo", "mb", "il"), "--jp-mirror-editor-number-color", "#080"),
    "def": (("nf", "nc", "nn"), "--jp-mirror-editor-def-color", "#00f"),
    "operator": (("o", "ow", "p"), "--jp-mirror-editor-operator-color", "#a2f"),
    "builtin": (("nb", "bp"), "--jp-mirror-editor-builtin-color", "#008000"),
}

CSS = """
.matx-out { font-family: var(--jp-ui-font-family, sans-serif); color: var(--jp-content-font-color1, inherit);
  font-size: var(--jp-ui-font-size1, 13px); }
.matx-out table { border-collapse: collapse; margin: 4px 0; }
.matx-out th, .matx-out td { border-bottom: 1px solid var(--jp-border-color2, #ddd); padding: 2px 10px;
  text-align: left; vertical-align: top; }
.matx-out td.num { text-align: right; font-family: var(--jp-code-font-family, monospace); }
.matx-out .muted { color: var(--jp-content-font-color2, #777); }
.matx-code { font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 13px);
  background: var(--jp-cell-editor-background, #f7f7f7); color: var(--jp-content-font-color1, #111);
  border: 1px solid var(--jp-border-color2, #ddd); border-radius: 3px; padding: 4px 0;
  max-height: 460px; overflow: auto; white-space: pre; line-height: 1.4; }
.matx-code .l { padding: 0 8px; }
.matx-code .n { display: inline-block; width: 3.5em; color: var(--jp-content-font-color3, #999);
  user-select: none; text-align: right; margin-right: 1em; }
.matx-code .mark { border-top: 1px solid var(--jp-border-color1, #bbb); margin-top: 2px; padding-top: 1px; }
.matx-badge { display: inline-block; font-family: var(--jp-ui-font-family, sans-serif); font-size: 11px;
  padding: 0 5px; margin-right: 6px; border-radius: 3px; color: var(--jp-ui-inverse-font-color0, #fff);
  background: var(--jp-brand-color1, #1976d2); }
.matx-typed { background: rgba(46, 160, 67, 0.15); }
.matx-dynamic { background: rgba(230, 150, 0, 0.30); }
.matx-swatch { display: inline-block; width: 1em; height: 1em; vertical-align: middle; margin: 0 4px 0 10px;
  border: 1px solid var(--jp-border-color2, #ccc); }
.matx-diag { margin: 6px 0; }
.matx-diag .loc { font-weight: bold; }
.matx-diag .err { color: var(--jp-error-color1, #d32f2f); font-weight: bold; }
.matx-diag .hint { color: var(--jp-content-font-color2, #666); }
.matx-diff td { background: rgba(211, 47, 47, 0.15); }
.matx-ok { color: var(--jp-success-color1, #388e3c); font-weight: bold; }
.matx-bad { color: var(--jp-error-color1, #d32f2f); font-weight: bold; }
.matx-chart { max-width: 640px; display: block; margin-top: 6px; }
""" + "".join(
    ", ".join(f".matx-code .mx-{c}" for c in classes) + f" {{ color: var({var}, {fallback}); }}\n"
    for classes, var, fallback in _TOKEN_VARS.values())

esc = html.escape


def page(body: str) -> str:
    return f'<style>{CSS}</style><div class="matx-out">{body}</div>'


def highlight_lines(code: str, lexer: str = "cpp") -> List[str]:
    """One HTML fragment per source line (pygments closes its spans per line)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    out = highlight(code, get_lexer_by_name(lexer), HtmlFormatter(nowrap=True, classprefix="mx-"))
    lines = out.split("\n")
    n = len(code.split("\n"))
    return (lines + [""] * n)[:n]


def code_html(code: str, lexer: str = "cpp", marks: Optional[Dict[int, str]] = None,
              numbers: bool = False) -> str:
    """Highlighted code; a line in ``marks`` starts a block and carries a badge
    (the C++ view names each block's Python line this way)."""
    marks = marks or {}
    rows = []
    for i, frag in enumerate(highlight_lines(code.rstrip("\n"), lexer), 1):
        badge = f'<span class="matx-badge">{esc(marks[i])}</span>' if i in marks else ""
        num = f'<span class="n">{i}</span>' if numbers else ""
        rows.append(f'<div class="{"l mark" if i in marks else "l"}">{num}{badge}{frag}</div>')
    return f'<div class="matx-code matx-{lexer}">{"".join(rows)}</div>'


def cpp_tab(build) -> str:
    parts = []
    for b in build.objects.values():
        if b.result is None or not b.result.cpp:
            continue
        r = b.result
        marks = {n: where(file, line, build.places) for n, file, line in r.line_map}
        how = "from the cache" if r.cache_hit else f"built in {b.seconds:.2f} s"
        parts.append(f'<p><b>{esc(b.name)}</b> <span class="muted">— {how}; {esc(str(r.library))}</span></p>'
                     + code_html(r.cpp, "cpp", marks, numbers=True))
    if not parts:
        return page('<p class="muted">No C++ yet.</p>' if not build.done
                    else '<p class="muted">No C++: the build failed (see Diagnostics).</p>')
    return page("".join(parts))


def diagnostic_html(d, places: Dict[str, str]) -> str:
    out = [f'<div class="matx-diag"><span class="loc">{esc(where(d.file, d.line, places))}, col {d.col + 1}</span>: '
           f'<span class="err">{esc(d.severity)}</span>: {esc(d.message)}']
    if d.source_line:
        code = "\n".join(caret_lines(d))
        out.append(f'<div class="matx-code"><div class="l">{esc(code)}</div></div>')
    if d.hint:
        out.append(f'<div class="hint">hint: {esc(d.hint)}</div>')
    return "".join(out) + "</div>"


def diagnostics_tab(build) -> str:
    from matx_nb.compiler.diagnostics import CompileError
    from .builds import error_text
    parts = []
    for b in build.failed:
        parts.append(f'<p><span class="matx-bad">✘</span> <b>{esc(b.name)}</b> '
                     f'(line {b.line}) did not compile:</p>')
        if isinstance(b.error, CompileError):
            parts += [diagnostic_html(d, build.places) for d in b.error.diagnostics]
            if b.error.log:
                parts.append(f'<details open><summary>C++ compiler output</summary>'
                             f'<div class="matx-code"><div class="l">{esc(b.error.log)}</div></div></details>')
        else:
            parts.append(f'<div class="matx-code"><div class="l">{esc(error_text(b.error))}</div></div>')
    if build.measure_error:
        parts.append(f'<p class="matx-bad">--check / --bench failed:</p>'
                     f'<div class="matx-code"><div class="l">{esc(build.measure_error)}</div></div>')
    if not parts:
        if not build.done:
            return page('<p class="muted">Type check passed; compiling…</p>')
        parts.append('<p><span class="matx-ok">✔</span> No problems.</p>')
    rows = "".join(
        f"<tr><td>{esc(b.name)}</td><td>{'cache hit' if b.result and b.result.cache_hit else 'built' if b.result else '–'}</td>"
        + "".join(f'<td class="num">{esc(seconds(b.result.seconds.get(k)) if b.result else "–")}</td>'
                  for k in ("collect", "check", "codegen", "cxx", "total")) + "</tr>"
        for b in build.objects.values())
    parts.append("<p><b>Stage times</b> (per object)</p><table><tr><th>object</th><th></th><th>sources</th>"
                 "<th>type check</th><th>codegen</th><th>g++</th><th>total</th></tr>" + rows + "</table>")
    return page("".join(parts))


def annotate_tab(build) -> str:
    kinds: Dict[int, str] = {}
    for b in build.objects.values():
        for file, line, kind in (b.result.annotate if b.result else []):
            if file == build.cell.filename and kinds.get(line) != "dynamic":
                kinds[line] = kind
    lines = build.cell.text.split("\n")
    frags = highlight_lines("\n".join(lines), "python")
    rows = []
    for i, frag in enumerate(frags, 1):
        if i == 1:
            frag = '<span class="muted">%%matx</span>'
        kind = kinds.get(i)
        cls = f"l matx-{kind}" if kind else "l"
        title = {"typed": "compiled to typed C++", "dynamic": "dynamic: some value is an Any"}.get(kind, "")
        rows.append(f'<div class="{cls}" title="{title}"><span class="n">{i}</span>{frag}</div>')
    n_typed = sum(1 for k in kinds.values() if k == "typed")
    n_dyn = len(kinds) - n_typed
    legend = (f'<p><span class="matx-swatch matx-typed"></span>typed C++ ({n_typed} lines)'
              f'<span class="matx-swatch matx-dynamic"></span>dynamic <code>Any</code> ({n_dyn} lines)</p>')
    if not kinds:
        legend = '<p class="muted">Shown once the cell has compiled.</p>'
    return page(legend + f'<div class="matx-code">{"".join(rows)}</div>')


def chart_png(rows: List[dict]) -> Optional[bytes]:
    """Python vs compiled bars per --bench expression (log scale), as a PNG."""
    rows = [r for r in rows if r["python_s"] and r["compiled_s"]]
    if not rows:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    grey = "#888888"
    fig = Figure(figsize=(6.4, 0.9 + 0.7 * len(rows)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(111)
    ys = range(len(rows))
    h = 0.38
    # log scale: bars start at a floor below the fastest time, not at 0
    floor = min(min(r["python_s"], r["compiled_s"]) for r in rows) / 4
    for dy, key, label, color in ((-h / 2, "python_s", "Python", "#4c78a8"),
                                  (h / 2, "compiled_s", "compiled", "#f58518")):
        ax.barh([y + dy for y in ys], [r[key] - floor for r in rows], h, left=floor, label=label, color=color)
    for y, r in zip(ys, rows):
        ax.text(r["python_s"], y - h / 2, f"  ×{r['speedup']:.1f}", va="center", color=grey, fontsize=9)
    ax.set_yticks(list(ys), [r["expr"] for r in rows])
    ax.set_xscale("log")
    ax.set_xlim(floor, max(r["python_s"] for r in rows) * 6)  # room for the speedup label
    ax.set_xlabel("seconds per call (log scale; median)")
    ax.invert_yaxis()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for item in [ax.xaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()]:
        item.set_color(grey)
    ax.tick_params(colors=grey)
    for s in ax.spines.values():
        s.set_color(grey)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False, labelcolor=grey, fontsize=9)
    fig.patch.set_alpha(0)
    ax.patch.set_alpha(0)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True)
    return buf.getvalue()


def _not_yet(build, asked, rows, how: str, coming: str, missing: str) -> Optional[str]:
    """A tab's text until it has rows: how to ask for it, that it is coming, or why there is none."""
    if not asked:
        return page(f'<p class="muted">{how}</p>')
    if not rows:
        return page(f'<p class="muted">{missing if build.done else coming}</p>')
    return None


def timing_tab(build) -> str:
    empty = _not_yet(build, build.options.bench, build.timing,
                     'Time expressions with <code>--bench "fib(25)"</code>: Python and compiled, medians per call.',
                     "Timing…", "No timing: the build failed.")
    if empty:
        return empty
    rows = "".join(
        f"<tr><td><code>{esc(r['expr'])}</code></td><td class='num'>{seconds(r['python_s'])}</td>"
        f"<td class='num'>{seconds(r['compiled_s'])}</td>"
        f"<td class='num'>{'×%.1f' % r['speedup'] if r['speedup'] else esc(r['error'])}</td></tr>"
        for r in build.timing)
    png = chart_png(build.timing)
    img = (f'<img class="matx-chart" alt="Python vs compiled timing chart" '
           f'src="data:image/png;base64,{base64.b64encode(png).decode()}"/>') if png else ""
    return page("<table><tr><th>expression</th><th>Python</th><th>compiled</th><th>speedup</th></tr>"
                + rows + "</table>" + img)


def check_tab(build) -> str:
    empty = _not_yet(build, build.options.check, build.checks,
                     'Compare Python and compiled results with <code>--check "fib(10), fib(20)"</code>.',
                     "Checking…", "No check: the build failed.")
    if empty:
        return empty
    bad = [r for r in build.checks if not r["same"]]
    head = (f'<p><span class="matx-bad">✘ {len(bad)} of {len(build.checks)} differ</span></p>' if bad
            else f'<p><span class="matx-ok">✔ all {len(build.checks)} agree</span></p>')
    rows = "".join(
        f'<tr class="{"" if r["same"] else "matx-diff"}"><td><code>{esc(r["expr"])}</code></td>'
        f'<td><code>{esc(r["python"])}</code></td><td><code>{esc(r["compiled"])}</code></td>'
        f'<td>{"<span class=matx-ok>✔ same</span>" if r["same"] else "<span class=matx-bad>✘ differs</span>"}</td></tr>'
        for r in build.checks)
    return page(head + "<table><tr><th>expression</th><th>Python</th><th>compiled</th><th></th></tr>"
                + rows + "</table>")


def status_fragment(build) -> str:
    """The status line's HTML, without the style sheet."""
    name = esc(build.name)
    if not build.done and build.state == "compiling":
        return f"⏳ compiling <b>{name}</b>…"
    if build.state == "failed" or build.failed:
        what = ", ".join(f"{b.name} (line {b.line})" for b in build.failed) or "the measurements"
        return f'<span class="matx-bad">✘ build failed</span>: {esc(what)} — see Diagnostics'
    how = "from the cache" if build.cache_hits else f"in {build.build_seconds:.2f} s"
    text = f'<span class="matx-ok">✔</span> <b>{name}</b> compiled {how}'
    if build.state == "measuring":
        text += " · checking and timing…"
    bad = sum(1 for r in build.checks if not r["same"])
    if bad:
        text += f' · <span class="matx-bad">⚠ {bad} check{"s" if bad > 1 else ""} differ{"" if bad > 1 else "s"}</span>'
    elif build.checks:
        text += f" · {len(build.checks)} checks agree"
    if build.timing and build.timing[0]["speedup"]:
        text += f" · ×{build.timing[0]['speedup']:.1f} on <code>{esc(build.timing[0]['expr'])}</code>"
    return text


def status_html(build) -> str:
    return page(status_fragment(build))


def status_text(build) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", status_fragment(build)))
