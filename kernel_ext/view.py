"""The %%matx output: a status line updated in place, the tabs, and the Export
row (ipywidgets). Widgets are updated from the build thread; ipykernel sends
those updates on the IOPub channel, so they show while other cells run."""
from __future__ import annotations

import ast
from typing import Callable, List

from . import render

TABS = [("C++", render.cpp_tab), ("Diagnostics", render.diagnostics_tab), ("Annotate", render.annotate_tab),
        ("Timing", render.timing_tab), ("Check", render.check_tab)]


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


class CellView:
    def __init__(self, build, export: Callable[[str, str, str], str]):
        import ipywidgets as W
        self.build, self.export = build, export
        self.status = W.HTML(render.status_html(build))
        tabs = [t for t in TABS if build.options.show_cpp or t[0] != "C++"]
        self.panes = {title: W.HTML(fn(build)) for title, fn in tabs}
        self.renderers = dict(tabs)
        self.tabs = W.Tab(children=list(self.panes.values()), titles=list(self.panes))
        first = "Timing" if build.options.bench else "Check" if build.options.check else tabs[0][0]
        self.tabs.selected_index = list(self.panes).index(first)
        functions = [n for n, b in build.objects.items() if not isinstance(b.py_obj, type)]
        exprs = build.options.check + build.options.bench
        self.fn = W.Dropdown(options=functions, description="Export", layout=W.Layout(width="220px"))
        self.args = W.Text(value=example_args(functions[0], exprs) if functions else "",
                           placeholder="example arguments, e.g. 25", layout=W.Layout(width="220px"))
        self.out = W.Text(value=f"out/{functions[0]}" if functions else "out/pipeline",
                          placeholder="folder", layout=W.Layout(width="180px"))
        self.button = W.Button(description="Export pipeline", icon="download", disabled=not functions,
                               tooltip="matx_nb.trace(function, *example args).save(folder)")
        self.result = W.HTML()
        self.fn.observe(self._pick, names="value")
        self.button.on_click(self._export)
        row = W.HBox([self.fn, self.args, self.out, self.button])
        self.widget = W.VBox([self.status, self.tabs, row, self.result])
        self._final, self._closed = set(), False
        build.subscribe(self.refresh)

    def _pick(self, change) -> None:
        name = change["new"]
        self.args.value = example_args(name, self.build.options.check + self.build.options.bench)
        self.out.value = f"out/{name}"

    def _export(self, _button=None) -> None:
        self.button.disabled = True
        try:
            self.result.value = self.export(self.fn.value, self.args.value, self.out.value)
        finally:
            self.button.disabled = False

    def refresh(self, build) -> None:
        self.status.value = render.status_html(build)
        done = build.done
        if build.state == "compiling" and not done:
            return
        for title in [t for t in self.panes if t not in self._final]:
            self.panes[title].value = self.renderers[title](build)
        self._final |= {"C++", "Annotate"}  # fixed once the objects are built
        if done and not self._closed:
            self._closed = True
            self._final |= set(self.panes)
            if build.failed or build.measure_error:
                self.tabs.selected_index = list(self.panes).index("Diagnostics")
