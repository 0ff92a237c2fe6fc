"""HTML for the %%matx output: pure functions of a build, no widgets, so tests
read them directly. Colours come from JupyterLab's theme CSS variables (with
fallbacks for other front ends), so every view reads in light and dark themes."""
from __future__ import annotations

import base64
import functools
import html
import io
import re
import threading
import time
from typing import Dict, List, Optional

from .cell import caret_lines, error_text, where
from . import measure
from .measure import ratio, seconds, slower

# Status glyphs that render as text everywhere (none has the Unicode
# Emoji_Presentation property, so no emoji font is needed and none turns into a
# colour picture): ✓ built, ✗ failed, ! a warning, ◐◓◑◒ busy (turning).
OK, BAD, WARN, SPIN = "✓", "✗", "!", "◐◓◑◒"

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
/* code is a <pre> (its spaces survive HTML clean-ups and style-less viewers); ".matx-out" outranks a
   host's "pre" rules such as nbconvert's .jp-RenderedHTMLCommon pre */
.matx-out .matx-code { font-family: var(--jp-code-font-family, monospace); font-size: var(--jp-code-font-size, 13px);
  background: var(--jp-cell-editor-background, #f7f7f7); color: var(--jp-content-font-color1, #111);
  border: 1px solid var(--jp-border-color2, #ddd); border-radius: 3px; padding: 4px 0; margin: 4px 0;
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
.matx-warn { color: var(--jp-warn-color1, #e65100); font-weight: bold; }
.matx-busy { color: var(--jp-brand-color1, #1976d2); font-weight: bold; }
.matx-static details { margin: 6px 0; }
.matx-static summary { cursor: pointer; font-weight: bold; padding: 2px 0; }
.matx-static .matx-status { margin-bottom: 4px; }
""" + "".join(
    ", ".join(f".matx-code .mx-{c}" for c in classes) + f" {{ color: var({var}, {fallback}); }}\n"
    for classes, var, fallback in _TOKEN_VARS.values())

esc = html.escape


def page(body: str) -> str:
    return f'<style>{CSS}</style><div class="matx-out">{body}</div>'


def highlight_lines(code: str, lexer: str = "cpp") -> List[str]:
    """One HTML fragment per source line (pygments closes its spans per line);
    fragment i is line i + 1 of ``code``, leading blank lines included (a cell's
    text starts with the blank line standing for its %%matx line). Remembered
    for the last few texts: a build's C++ is shown in the tab and in the static
    copy, and pre-rendered while g++ runs (prerender)."""
    return list(_highlight(code, lexer))


_PYGMENTS_IMPORT = threading.Lock()


def _pygments():
    """pygments' highlight, HtmlFormatter and get_lexer_by_name, imported under a
    lock: pygments.formatters and pygments.lexers replace themselves in
    sys.modules while they are first imported, and a second thread importing
    from them meanwhile gets the half-made module ("cannot import name
    'HtmlFormatter'"): the cell's C++ is highlighted on a thread of its own
    (prerender) while the cell's view highlights its Python."""
    with _PYGMENTS_IMPORT:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
    return highlight, HtmlFormatter, get_lexer_by_name


@functools.lru_cache(maxsize=16)
def _highlight(code: str, lexer: str) -> tuple:
    highlight, HtmlFormatter, get_lexer_by_name = _pygments()
    out = highlight(code, get_lexer_by_name(lexer, stripnl=False),  # stripnl would drop leading blank lines
                    HtmlFormatter(nowrap=True, classprefix="mx-"))
    lines = out.split("\n")
    n = len(code.split("\n"))
    return tuple((lines + [""] * n)[:n])


def prerender(cpp: str) -> None:
    """Highlights a build's C++ on a thread of its own while g++ compiles it, so
    that showing the finished build does not wait for pygments (tens of ms).
    It starts once g++ runs (at most 0.2 s later): highlighting is Python, and
    before g++ starts the build's thread still has Python to run (hashing,
    writing the units) that it would slow down."""
    from matx_nb.compiler.toolchain import compiler_starts, wait_for_compiler
    since = compiler_starts()

    def run():
        wait_for_compiler(since, 0.2)
        _highlight(cpp.rstrip("\n"), "cpp")
    threading.Thread(target=run, name="matx-highlight", daemon=True).start()


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
    return f'<pre class="matx-code matx-{lexer}">{"".join(rows)}</pre>'


def cpp_body(build) -> str:
    """The C++ of each library the cell built: objects compiled together share one."""
    parts = []
    libraries: Dict[str, list] = {}
    for b in build.objects.values():
        if b.result is not None and b.result.cpp:
            libraries.setdefault(str(b.result.library), []).append(b)
    for library, objects in libraries.items():
        b = objects[0]
        r = b.result
        marks = {n: where(file, line, build.places) for n, file, line in r.line_map}
        how = "from the cache" if r.cache_hit else f"built in {b.seconds:.2f} s"
        names = ", ".join(esc(o.name) for o in objects)
        parts.append(f'<p><b>{names}</b> <span class="muted">— {how}; {esc(library)}</span></p>'
                     + code_html(r.cpp, "cpp", marks, numbers=True))
    if not parts:
        return ('<p class="muted">No C++ yet.</p>' if not build.done
                else '<p class="muted">No C++: the build failed (see Diagnostics).</p>')
    return "".join(parts)


def diagnostic_html(d, places: Dict[str, str]) -> str:
    out = [f'<div class="matx-diag"><span class="loc">{esc(where(d.file, d.line, places))}, col {d.col + 1}</span>: '
           f'<span class="err">{esc(d.severity)}</span>: {esc(d.message)}']
    if d.source_line:
        code = "\n".join(caret_lines(d))
        out.append(f'<pre class="matx-code"><div class="l">{esc(code)}</div></pre>')
    if d.hint:
        out.append(f'<div class="hint">hint: {esc(d.hint)}</div>')
    return "".join(out) + "</div>"


def diagnostics_body(build) -> str:
    from matx_nb.compiler.diagnostics import CompileError
    parts = []
    for b in build.failed:
        parts.append(f'<p><span class="matx-bad">{BAD}</span> <b>{esc(b.name)}</b> '
                     f'(line {b.line}) did not compile:</p>')
        if isinstance(b.error, CompileError):
            parts += [diagnostic_html(d, build.places) for d in b.error.diagnostics]
            if b.error.log:
                parts.append(f'<details open><summary>C++ compiler output</summary>'
                             f'<pre class="matx-code"><div class="l">{esc(b.error.log)}</div></pre></details>')
        else:
            parts.append(f'<pre class="matx-code"><div class="l">{esc(error_text(b.error))}</div></pre>')
    if build.measure_error:
        parts.append(f'<p class="matx-bad">--check / --bench failed:</p>'
                     f'<pre class="matx-code"><div class="l">{esc(build.measure_error)}</div></pre>')
    if not parts:
        if not build.done:
            return '<p class="muted">Type check passed; compiling…</p>'
        parts.append(f'<p><span class="matx-ok">{OK}</span> No problems.</p>')
    def how(r) -> str:
        if r is None:
            return "–"
        if r.cache_hit:
            return "cache hit"
        units = r.seconds.get("units")  # one translation unit per function and class
        return f"built ({units[0]} of {units[1]} units compiled)" if units else "built"
    rows = "".join(
        f"<tr><td>{esc(b.name)}</td><td>{esc(how(b.result))}</td>"
        + "".join(f'<td class="num">{esc(seconds(b.result.seconds.get(k)) if b.result else "–")}</td>'
                  for k in ("collect", "check", "codegen", "cxx", "total")) + "</tr>"
        for b in build.objects.values())
    parts.append("<p><b>Stage times</b> (per object)</p><table><tr><th>object</th><th></th><th>sources</th>"
                 "<th>type check</th><th>codegen</th><th>g++</th><th>total</th></tr>" + rows + "</table>")
    return "".join(parts)


def annotate_body(build) -> str:
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
    lines_ = lambda n: f"{n} line{'' if n == 1 else 's'}"  # noqa: E731
    legend = (f'<p><span class="matx-swatch matx-typed"></span>typed C++ ({lines_(n_typed)})'
              f'<span class="matx-swatch matx-dynamic"></span>dynamic <code>Any</code> ({lines_(n_dyn)})</p>')
    if not kinds:
        legend = '<p class="muted">Shown once the cell has compiled.</p>'
    return legend + f'<pre class="matx-code matx-annotate">{"".join(rows)}</pre>'


def _spread(r: dict, side: str) -> tuple:
    """(median, min, max) seconds per call of one side of a --bench row."""
    med, s = r[f"{side}_s"], r.get(side)
    return (med, s["min"], s["max"]) if s else (med, med, med)


def _speedup_label(r: dict) -> str:
    text = ratio(r["speedup"]) + (" (slower)" if slower(r) else "")
    return text + (f" {WARN} noisy" if r.get("noisy") else "")


def chart_figure(rows: List[dict]):
    """Python vs compiled bars per --bench expression (log scale): medians, with
    min–max whiskers; the speedup on the right. None without timings."""
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
    spreads = [_spread(r, side) for r in rows for side in ("python", "compiled")]
    # log scale: bars start at a floor below every bar and whisker (not at 0), and
    # the axis ends past the longest whisker, whichever side it is on
    floor = min(lo for _, lo, _ in spreads) / 3
    top = max(hi for _, _, hi in spreads) * 1.6
    for dy, side, label, color in ((-h / 2, "python", "Python", "#4c78a8"),
                                   (h / 2, "compiled", "compiled", "#f58518")):
        meds, los, his = zip(*(_spread(r, side) for r in rows))
        ax.barh([y + dy for y in ys], [m - floor for m in meds], h, left=floor, label=label, color=color,
                xerr=[[m - lo for m, lo in zip(meds, los)], [hi - m for m, hi in zip(meds, his)]],
                error_kw={"ecolor": grey, "capsize": 3, "elinewidth": 1})
    ax.set_yticks(list(ys), [r["expr"] for r in rows])
    ax.set_xscale("log")
    ax.set_xlim(floor, top)
    ax.set_xlabel("seconds per call (log scale): bar median, whisker min–max")
    ax.invert_yaxis()
    speed = ax.twinx()  # the speedups as labels on the right, outside the plot
    speed.set_yscale(ax.get_yscale())
    speed.set_ylim(ax.get_ylim())
    speed.set_yticks(list(ys), [_speedup_label(r) for r in rows])
    for label, r in zip(speed.get_yticklabels(), rows):
        label.set_color("#e65100" if r.get("noisy") or slower(r) else grey)
    for a in (ax, speed):
        for side in ("top", "right") if a is ax else ("top", "left", "bottom", "right"):
            a.spines[side].set_visible(False)
        a.tick_params(colors=grey, length=0 if a is speed else 3.5)
        a.patch.set_alpha(0)
    for item in [ax.xaxis.label, *ax.get_xticklabels(), *ax.get_yticklabels()]:
        item.set_color(grey)
    for s in ax.spines.values():
        s.set_color(grey)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False, labelcolor=grey, fontsize=9)
    fig.patch.set_alpha(0)
    fig.tight_layout()
    return fig


def chart_png(rows: List[dict]) -> Optional[bytes]:
    """``chart_figure`` as a PNG."""
    fig = chart_figure(rows)
    if fig is None:
        return None
    buf = io.BytesIO()
    fig.savefig(buf, format="png", transparent=True)
    return buf.getvalue()


def _not_yet(build, asked, rows, how: str, coming: str, missing: str) -> Optional[str]:
    """A tab's text until it has rows: how to ask for it, that it is coming, or why there is none."""
    if not asked:
        return f'<p class="muted">{how}</p>'
    if not rows:
        return f'<p class="muted">{missing if build.done else coming}</p>'
    return None


def _time_cell(r: dict, side: str) -> str:
    """'2.10 ms' and, muted, its min–max range and IQR."""
    med = r[f"{side}_s"]
    s = r.get(side)
    if med is None:
        return "<td class='num'>–</td>"
    if not s:
        return f"<td class='num'>{seconds(med)}</td>"
    flag = f" <span class='matx-warn'>{WARN}</span>" if s["noisy"] else ""
    return (f"<td class='num' title='{s['n']} samples of {s['loops']:,} calls'>{seconds(med)}{flag}<br>"
            f"<span class='muted'>{seconds(s['min'])} – {seconds(s['max'])} · IQR {s['iqr'] * 100:.0f}%</span></td>")


def _speedup_cell(r: dict) -> str:
    if r["speedup"] is None:
        return f"<td>{esc(r['error']) or '–'}</td>"
    q = r.get("speedup_q")
    text = f"<b>{ratio(r['speedup'])}</b>"
    if slower(r):
        text = (f"<span class='matx-warn' title='{esc(r.get('why_detail', ''))}'>{ratio(r['speedup'])} "
                f"(slower: {esc(r.get('why') or 'Python is faster here')})</span>")
    if q:
        text += f"<br><span class='muted'>{ratio(q[0])} – {ratio(q[1])}</span>"
    if r.get("noisy"):
        text += (f"<br><span class='matx-warn' title='the IQR of a side is over 10% of its median, or its minimum "
                 f"is 20% under it: something else ran meanwhile; re-run on a quiet machine'>{WARN} noisy</span>")
    return f"<td class='num'>{text}</td>"


TIMING_NOTE = (
    f"Each side is sampled at least {measure.MIN_SAMPLES} times (a slow expression at least "
    f"{measure.MIN_SLOW_SAMPLES} times within {measure.BUDGET_S:g} s), each sample looping the expression for "
    f"at least {measure.SAMPLE_S * 1e3:g} ms; Python and compiled samples alternate, so background load hits "
    "both, and timing waits until no other build compiles. Shown: the median per call, min – max and the IQR "
    "(spread of the middle half); the speedup is median / median, under it the middle half of the paired "
    f"ratios. {WARN} noisy: an IQR over {measure.NOISY_IQR:.0%} of the median, or a minimum "
    f"{measure.NOISY_LOW:.0%} under it.")


def timing_body(build) -> str:
    empty = _not_yet(build, build.options.bench, build.timing,
                     'Time expressions with <code>--bench "fib(25)"</code>: Python and compiled, medians per call.',
                     "Timing…", "No timing: the build failed.")
    if empty:
        return empty
    rows = "".join(
        f"<tr class='{'matx-noisy' if r.get('noisy') else ''}'><td><code>{esc(r['expr'])}</code></td>"
        f"{_time_cell(r, 'python')}{_time_cell(r, 'compiled')}{_speedup_cell(r)}</tr>"
        for r in build.timing)
    png = chart_png(build.timing)
    img = (f'<img class="matx-chart" alt="Python vs compiled timing chart" '
           f'src="data:image/png;base64,{base64.b64encode(png).decode()}"/>') if png else ""
    tiers = getattr(build, "timing_tiers", None)
    measured = f'<p class="muted">Timed: the {esc(", ".join(tiers))} build.</p>' if tiers else ""
    return ("<table class='matx-timing'><tr><th>expression</th><th>Python</th><th>compiled</th><th>speedup</th></tr>"
            + rows + "</table>" + img + measured + f'<p class="muted">{esc(TIMING_NOTE)}</p>')


def _checks(n: int, verb: str) -> str:
    """'1 check agrees', '2 checks differ'."""
    return f"{n} check{'' if n == 1 else 's'} {verb if n == 1 else verb[:-1]}"


def check_body(build) -> str:
    empty = _not_yet(build, build.options.check, build.checks,
                     'Compare Python and compiled results with <code>--check "fib(10), fib(20)"</code>.',
                     "Checking…", "No check: the build failed.")
    if empty:
        return empty
    bad = [r for r in build.checks if not r["same"]]
    head = (f'<p><span class="matx-bad">{BAD} {len(bad)} of {len(build.checks)} '
            f'{"differs" if len(bad) == 1 else "differ"}</span></p>' if bad
            else f'<p><span class="matx-ok">{OK} {_checks(len(build.checks), "agrees")}</span></p>')
    rows = "".join(
        f'<tr class="{"" if r["same"] else "matx-diff"}"><td><code>{esc(r["expr"])}</code></td>'
        f'<td><code>{esc(r["python"])}</code></td><td><code>{esc(r["compiled"])}</code></td>'
        f'<td>{f"<span class=matx-ok>{OK} same</span>" if r["same"] else f"<span class=matx-bad>{BAD} differs</span>"}'
        f'</td></tr>'
        for r in build.checks)
    return head + "<table><tr><th>expression</th><th>Python</th><th>compiled</th><th></th></tr>" + rows + "</table>"


# The tabs of the output, in order: title -> HTML body (without the style sheet).
TABS = [("C++", cpp_body), ("Diagnostics", diagnostics_body), ("Annotate", annotate_body),
        ("Timing", timing_body), ("Check", check_body)]


def cpp_tab(build) -> str:
    return page(cpp_body(build))


def diagnostics_tab(build) -> str:
    return page(diagnostics_body(build))


def annotate_tab(build) -> str:
    return page(annotate_body(build))


def timing_tab(build) -> str:
    return page(timing_body(build))


def check_tab(build) -> str:
    return page(check_body(build))


# What a phase of builds.ObjectBuild is called in the status line.
PHASE_WORDS = {"queued": "waiting for a build thread", "checking": "type check", "generating": "generating C++",
               "compiling": "g++", "loading": "loading"}


def _busy(build, now: float) -> str:
    """The turning glyph: its position follows the time since the build started."""
    return f'<span class="matx-busy">{SPIN[int((now - build.started) * 2) % len(SPIN)]}</span>'


def _progress(build) -> str:
    """'◐ compiling fib · g++ 1.2 s': the least advanced phase of the objects still
    building and how long it has lasted (builds.py's phase/phase_since, if there)."""
    phase = getattr(build, "phase", None)
    since = getattr(build, "phase_since", None)
    text = f"{_busy(build, time.perf_counter())} compiling <b>{esc(build.name)}</b>"
    if phase in PHASE_WORDS:
        text += f" · {esc(PHASE_WORDS[phase])}"
        if isinstance(since, (int, float)):
            text += f" {max(time.time() - since, 0.0):.1f} s"
    else:
        text += f" · {time.perf_counter() - build.started:.1f} s"
    return text


def _measuring(build) -> str:
    """'◐ timing 1.3 s' while --check/--bench run, or that timing waits for other builds."""
    words = " and ".join(w for w, asked in (("checking", build.options.check), ("timing", build.options.bench))
                         if asked) or "measuring"
    now = time.perf_counter()
    elapsed = now - build.started - (build.build_seconds or 0.0)
    quiet = getattr(build, "quiet", None)
    try:
        waiting = bool(build.checks or not build.options.check) and quiet is not None and quiet.busy()
    except Exception:  # only a nicety of the status line
        waiting = False
    if waiting:
        words = "timing waits for other builds to finish"
    return f"{_busy(build, now)} {words} {max(elapsed, 0.0):.1f} s"


def _tier_fragment(build) -> str:
    """' (-Og; -O3 building…)' while the quick build is bound, ' (-O3 1.4 s later)'
    once the optimized one replaced it, or why it could not."""
    options = getattr(build, "options", None)
    if not getattr(options, "quick", "") or not hasattr(build, "optimizing"):
        return ""
    objects = list(build.objects.values())
    bound = ", ".join(build.tiers_bound) or options.quick
    if build.optimizing:
        return f" ({esc(bound)}; {esc(options.opt)} building…)"
    failed = [b for b in objects if b.final_error is not None]
    if failed:
        why = error_text(failed[0].final_error).splitlines()[0] if failed[0].final_error else ""
        return (f' ({esc(bound)}; <span class="matx-warn">{WARN} the {esc(options.opt)} build failed: '
                f'{esc(why)}</span>)')
    later = [b.final_seconds for b in objects if b.final_seconds is not None]
    return f" ({esc(bound)} {max(later):.2f} s later)" if later else f" ({esc(bound)})"


def status_fragment(build, final: bool = False) -> str:
    """The status line's HTML, without the style sheet. ``final``: for the static
    copy, without the live timers."""
    name = esc(build.name)
    if not build.done and build.state == "compiling":
        return f"○ compiling <b>{name}</b>… (saved while building)" if final else _progress(build)
    if build.failed:
        what = ", ".join(f"{b.name} (line {b.line})" for b in build.failed)
        return f'<span class="matx-bad">{BAD} build failed</span>: {esc(what)} — see Diagnostics'
    if build.state == "failed" and not build.measure_error:
        return f'<span class="matx-bad">{BAD} build failed</span> — see Diagnostics'
    how = "from the cache" if build.cache_hits else f"in {build.build_seconds:.2f} s"
    text = f'<span class="matx-ok">{OK}</span> <b>{name}</b> compiled {how}' + _tier_fragment(build)
    if build.state == "measuring":
        text += " · " + ("○ checking and timing… (saved meanwhile)" if final else _measuring(build))
    if build.measure_error:
        text += f' · <span class="matx-bad">{BAD} --check/--bench failed</span> — see Diagnostics'
    bad = sum(1 for r in build.checks if not r["same"])
    if bad:
        text += f' · <span class="matx-bad">{WARN} {_checks(bad, "differs")}</span>'
    elif build.checks:
        text += f" · {_checks(len(build.checks), 'agrees')}"
    first = build.timing[0] if build.timing else None
    if first and first["speedup"]:
        how = f"{ratio(first['speedup'])} on <code>{esc(first['expr'])}</code>"
        if slower(first):
            how = f'<span class="matx-warn">{how} (slower: {esc(first.get("why") or "see Timing")})</span>'
        if first.get("noisy"):
            how += f' <span class="matx-warn">({WARN} noisy)</span>'
        text += " · " + how
    return text


def status_html(build) -> str:
    return page(status_fragment(build))


def status_text(build) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", status_fragment(build)))


def static_html(build, bodies: Optional[Dict[str, str]] = None) -> str:
    """The whole output as one self-contained HTML page (inline style sheet, no
    script): the status line and every tab's content in a <details> section.
    It goes next to the widget in the output, so a notebook saved without its
    widget state (or rendered by nbconvert or GitHub) still shows the result.
    ``bodies``: tab bodies already rendered (title -> HTML), to reuse them."""
    bodies = dict(bodies or {})
    tabs = [(t, fn) for t, fn in TABS if build.options.show_cpp or t != "C++"]
    asked = {"Timing": build.options.bench, "Check": build.options.check}
    problem = bool(build.failed or build.measure_error)
    parts = [f'<div class="matx-status">{status_fragment(build, final=True)}</div>']
    for title, fn in tabs:
        if title in asked and not asked[title]:
            continue  # not asked for: the tab only says how to ask
        if title == "Diagnostics" and not build.done:
            continue
        body = bodies.get(title)
        if body is None:
            body = fn(build)
        opened = title in ("Timing", "Check", "Annotate") or (title == "Diagnostics" and problem)
        parts.append(f'<details class="matx-tab-{title.lower().replace("+", "p")}"{" open" if opened else ""}>'
                     f"<summary>{esc(title)}</summary>{body}</details>")
    if not build.done:
        parts.append('<p class="muted">Saved before the build finished: run the cell again for the full output.</p>')
    return f'<style>{CSS}</style><div class="matx-out matx-static">{"".join(parts)}</div>'
