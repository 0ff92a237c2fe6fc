"""The %%matx output: a status line updated in place, the tabs, and the Export
row (ipywidgets). Widgets are updated from the build thread; ipykernel sends
those updates on the IOPub channel, so they show while other cells run.

The output is one display bundle: the widget view and, next to it, a static
HTML copy of the output (``render.static_html``) that is replaced, through the
bundle's display id, whenever the build moves on. A front end with the live
widgets shows them; a notebook saved without widget state (nbconvert, GitHub,
a reopened notebook) shows the static copy. The bundle also carries
MATX_OUTPUT, read by the JupyterLab extension (labextension/): it shows the
widgets only while the notebook runs the kernel that made them, else the static
copy, and finds the output by its display id to keep the saved copy final."""
from __future__ import annotations

import threading
import uuid
from typing import Callable, Dict, Optional

from . import render
from .export import examples as export_targets

TABS = render.TABS  # (title, body renderer)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MATX_OUTPUT = "application/vnd.matx-nb.output+json"  # {display_id, kernel_session}
TICK_S = 0.5  # the status line's live timer


def kernel_session() -> str:
    """The running kernel's session id: the `session` field in the header of
    every message it sends, new at each kernel start. "" outside a kernel."""
    try:
        from IPython import get_ipython
        return str(get_ipython().kernel.session.session)
    except Exception:
        return ""


class CellView:
    def __init__(self, build, export: Callable[[str, str, str, str], str]):
        import ipywidgets as W
        self.build, self.export = build, export
        self.lock = threading.RLock()  # the build thread, the ticker and the kernel all refresh
        self.status = W.HTML(render.status_html(build))
        tabs = [t for t in TABS if build.options.show_cpp or t[0] != "C++"]
        self.bodies: Dict[str, str] = {title: fn(build) for title, fn in tabs}
        self.panes = {title: W.HTML(render.page(body)) for title, body in self.bodies.items()}
        self.renderers = dict(tabs)
        self.tabs = W.Tab(children=list(self.panes.values()), titles=list(self.panes))
        first = "Timing" if build.options.bench else "Check" if build.options.check else tabs[0][0]
        self.tabs.selected_index = list(self.panes).index(first)
        # Export targets: each function, and each class as Cls (its __call__) or Cls.method,
        # with example (and constructor) arguments from the first --check/--bench call.
        self.targets = export_targets(build)
        names = list(self.targets)
        first = self.targets.get(names[0], {}) if names else {}
        self.fn = W.Dropdown(options=names, description="Export", layout=W.Layout(width="240px"))
        self.init = W.Text(value=first.get("init", ""), placeholder="constructor arguments",
                           layout=W.Layout(width="160px"))
        self.args = W.Text(value=first.get("args", ""),
                           placeholder="example arguments, e.g. 25", layout=W.Layout(width="220px"))
        self.out = W.Text(value=f"out/{names[0]}" if names else "out/pipeline",
                          placeholder="folder", layout=W.Layout(width="180px"))
        self.button = W.Button(description="Export pipeline", icon="download", disabled=not names,
                               tooltip="matx_nb.trace(function, *example args).save(folder)")
        self._show_init(names[0] if names else "")
        self.result = W.HTML()
        self.fn.observe(self._pick, names="value")
        self.button.on_click(self._export)
        row = W.HBox([self.fn, self.init, self.args, self.out, self.button])
        self.widget = W.VBox([self.status, self.tabs, row, self.result])
        self._final, self._closed = set(), False
        self.handle = None  # the display handle, once shown
        self._published: Optional[str] = None  # the static copy last sent
        build.subscribe(self.refresh)
        self._ticker: Optional[threading.Thread] = None
        if not build.done:
            self._ticker = threading.Thread(target=self._tick, name=f"matx-view-{build.cell.number}", daemon=True)
            self._ticker.start()

    # ---- the output bundle
    display_id = ""  # set by display()

    def bundle(self) -> dict:
        """The widget view, the static HTML copy, a plain-text status line, and
        for the JupyterLab extension the display id and the kernel's session."""
        data = {k: v for k, v in self.widget._repr_mimebundle_().items() if k == WIDGET_VIEW}
        data["text/html"] = render.static_html(self.build, self.bodies)
        data["text/plain"] = render.status_text(self.build)
        data[MATX_OUTPUT] = {"display_id": self.display_id, "kernel_session": kernel_session()}
        return data

    def display(self) -> None:
        """Shows the output (one bundle with a display id, updated as the build goes on)."""
        from IPython.display import display
        with self.lock:
            self.display_id = uuid.uuid4().hex
            data = self.bundle()
            self.handle = display(data, raw=True, display_id=self.display_id)
            self._published = data["text/html"]

    def _publish(self) -> None:
        """Replaces the displayed bundle when the static copy changed."""
        if self.handle is None:
            return
        data = self.bundle()
        if data["text/html"] != self._published:
            self._published = data["text/html"]
            self.handle.update(data, raw=True)

    def _tick(self) -> None:
        """Refreshes the status line every TICK_S while the build runs (its elapsed time is live)."""
        finished = getattr(self.build, "finished", None) or threading.Event()
        try:
            while not finished.wait(TICK_S) and not self.build.done:
                with self.lock:
                    if not self.build.done:  # else refresh() has shown (or shows) the final state
                        self.status.value = render.status_html(self.build)
        except Exception:  # a closed widget or a kernel going down: the timer only stops
            pass

    def _show_init(self, name: str) -> None:
        """The constructor's arguments are asked for a class target only."""
        head = name.split(".")[0]
        b = self.build.objects.get(head)
        self.init.layout.display = "" if b is not None and isinstance(b.py_obj, type) else "none"

    def _pick(self, change) -> None:
        name = change["new"]
        target = self.targets.get(name, {})
        self.args.value, self.init.value = target.get("args", ""), target.get("init", "")
        self.out.value = f"out/{name}"
        self._show_init(name)

    def _export(self, _button=None) -> None:
        self.button.disabled = True
        try:
            self.result.value = self.export(self.fn.value, self.args.value, self.out.value, self.init.value)
        finally:
            self.button.disabled = bool(self.build.failed)

    def refresh(self, build) -> None:
        with self.lock:
            self._refresh(build)
            self._publish()

    def _refresh(self, build) -> None:
        self.status.value = render.status_html(build)
        done = build.done
        if build.state == "compiling" and not done:
            return
        for title in [t for t in self.panes if t not in self._final]:
            self.bodies[title] = self.renderers[title](build)
            self.panes[title].value = render.page(self.bodies[title])
        self._final |= {"C++", "Annotate"}  # fixed once the objects are built
        if done and not self._closed:
            self._closed = True
            self._final |= set(self.panes)
            if build.failed or build.measure_error:
                self.tabs.selected_index = list(self.panes).index("Diagnostics")
            if build.failed:  # nothing compiled to export
                self.button.disabled = True
                self.button.tooltip = "the build failed (see Diagnostics): nothing to export"
