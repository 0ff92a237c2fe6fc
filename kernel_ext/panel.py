"""The comm channel to the JupyterLab side panel (labextension/): the kernel's
%%matx cells as plain data, pushed on every change, and the panel's "Export
pipeline" command run here.

One entry per notebook cell: JupyterLab sends the running cell's id with each
execute request, so a re-run of a cell replaces its entry and a click on the
entry goes back to the cell. Type-check failures, which never start a build,
are entries too. Running builds carry their phase and when it began (epoch
seconds); the panel ticks the elapsed time itself.
"""
from __future__ import annotations

import threading
import time
import weakref
from typing import Dict, Iterable, List, Optional

from .cell import where
from .render import status_text
from .export import examples

TARGET = "matx_nb.panel"
MAX_ENTRIES = 50


def _phase(build) -> str:
    phase = getattr(build, "phase", None)
    if isinstance(phase, str):
        return phase
    return ("failed" if build.failed else "done") if build.done else "compiling"


def _since(obj, default: float) -> float:
    since = getattr(obj, "phase_since", None)
    return float(since) if isinstance(since, (int, float)) else default


def _phase_words(phase: str) -> str:
    from . import render
    return getattr(render, "PHASE_WORDS", {}).get(phase, phase)


def diagnostic_rows(diagnostics: Iterable, places: Dict[str, str]) -> List[dict]:
    """Each diagnostic as {where, line, col, message, hint, here}; here: in this cell."""
    rows = []
    for d in diagnostics:
        here = places.get(d.file) == "this cell"
        rows.append({"where": where(d.file, d.line, places), "line": d.line, "col": d.col + 1,
                     "message": d.message, "hint": d.hint or "", "here": here})
    return rows


def _export_fields(build) -> dict:
    """"examples": FUNC -> example arguments; "init": FUNC -> constructor arguments (classes)."""
    if build.failed:  # nothing to export from a failed build
        return {"examples": {}, "init": {}}
    ex = examples(build)
    return {"examples": {k: v["args"] for k, v in ex.items()},
            "init": {k: v["init"] for k, v in ex.items()
                     if isinstance(getattr(build.objects.get(k.split(".")[0]), "py_obj", None), type)}}


def summary(build, key: str = "", cell_id: str = "") -> dict:
    now = time.time()
    phase = _phase(build)
    started = now - (time.perf_counter() - build.started)
    diags = []
    for b in build.failed:
        diags += diagnostic_rows(getattr(b.error, "diagnostics", None) or [], {**build.places,
                                                                              build.cell.filename: "this cell"})
    return {
        "key": key or build.cell.label, "cell_id": cell_id, "cell": build.cell.label, "name": build.name,
        "state": build.state, "status": status_text(build), "done": build.done,
        "phase": phase, "phase_words": _phase_words(phase), "phase_since": _since(build, started),
        "started": started, "seconds": build.build_seconds,
        "objects": [{"name": n, "line": b.line, "kind": "class" if isinstance(b.py_obj, type) else "function",
                     "cache_hit": bool(b.result and b.result.cache_hit), "failed": b.error is not None,
                     "phase": getattr(b, "phase", None) or ("done" if b.done.is_set() else "compiling")}
                    for n, b in build.objects.items()],
        **_export_fields(build),
        "diagnostics": diags,
    }


class Panel:
    """Keeps the open comms of side panels, the entry of each cell, and answers
    the panels' requests."""

    def __init__(self, magics):
        self.magics = magics
        self.comms: List = []
        self.entries: Dict[str, dict] = {}  # key -> {"build": CellBuild} or {"failure": summary}; oldest first
        self.keys = weakref.WeakKeyDictionary()  # CellBuild -> (key, cell id), also for replaced ones
        self.lock = threading.RLock()

    def register(self) -> bool:
        try:
            from comm import get_comm_manager
            get_comm_manager().register_target(TARGET, self.opened)
            return True
        except Exception:  # no kernel (plain IPython): no panel
            return False

    # ---- entries
    def running_cell_id(self) -> str:
        """The id JupyterLab gave the running cell (execute_request metadata), or "".
        Only meaningful on the kernel's main thread, while the cell runs."""
        if threading.current_thread() is not threading.main_thread():
            return ""
        try:
            parent = self.magics.shell.kernel.get_parent()
            return str((parent.get("metadata") or {}).get("cellId") or "")
        except Exception:  # plain IPython, or an old kernel
            return ""

    @staticmethod
    def _key(cell_id: str, names: Iterable[str], label: str) -> str:
        if cell_id:
            return f"id:{cell_id}"
        names = list(names)
        return "names:" + ",".join(names) if names else label

    def _put(self, key: str, entry: dict) -> None:
        with self.lock:
            self.entries.pop(key, None)  # a re-run: its entry moves to the end
            self.entries[key] = entry
            while len(self.entries) > MAX_ENTRIES:
                self.entries.pop(next(iter(self.entries)))

    def track(self, build) -> None:
        """Gives a new build its cell's entry (replacing the cell's earlier one)."""
        with self.lock:
            if build in self.keys:
                return
            cell_id = self.running_cell_id()
            key = self._key(cell_id, build.cell.names, build.cell.label)
            self.keys[build] = (key, cell_id)
            self._put(key, {"build": build})

    def type_check_failed(self, label: str, diagnostics: Iterable, places: Optional[Dict[str, str]] = None,
                          names: Iterable[str] = ()) -> None:
        """A %%matx cell that failed its type check (no build started): listed
        with its diagnostics. Called by the magic before it raises; never raises."""
        try:
            places = dict(places or {})
            rows = diagnostic_rows(diagnostics, places)
            cell_id = self.running_cell_id()
            n = len(rows)
            key = self._key(cell_id, names, label)
            now = time.time()
            self._put(key, {"failure": {
                "key": key, "cell_id": cell_id, "cell": label, "name": ", ".join(names) or label,
                "state": "failed", "done": True, "phase": "failed", "phase_words": "type check failed",
                "phase_since": now, "started": now, "seconds": None,
                "status": f"✗ {n} error{'s' if n != 1 else ''} in the type check",
                "objects": [], "examples": {}, "init": {}, "diagnostics": rows}})
            self.publish()
        except Exception:  # the panel must never hide the cell's own error
            pass

    def state(self) -> dict:
        with self.lock:
            items = list(self.entries.items())
            keys = dict(self.keys.items())
        out = []
        for key, entry in items:
            if "failure" in entry:
                out.append(entry["failure"])
            else:
                build = entry["build"]
                out.append(summary(build, key, keys.get(build, ("", ""))[1]))
        return {"type": "builds", "now": time.time(), "builds": out}

    # ---- the comm
    def opened(self, comm, _msg=None) -> None:
        self.comms.append(comm)
        comm.on_msg(lambda msg: self.received(comm, msg))
        comm.on_close(lambda _msg: self.comms.remove(comm) if comm in self.comms else None)
        comm.send(self.state())

    def publish(self, build=None) -> None:
        """A build changed (or a new one was subscribed, on the main thread while
        its cell runs: that is when its cell id is known)."""
        if build is not None and build not in self.keys:
            self.track(build)
        if not self.comms:
            return
        state = self.state()
        for comm in list(self.comms):
            try:
                comm.send(state)
            except Exception:  # a closed front end must not disturb the build
                if comm in self.comms:
                    self.comms.remove(comm)

    def received(self, comm, msg) -> None:
        data = msg["content"]["data"]
        if data.get("action") == "export":
            html = self.magics.export_from_widget(data.get("function", ""), data.get("args", ""),
                                                  data.get("out", ""), data.get("init", ""))
            comm.send({"type": "exported", "request": data.get("request"), "html": html})
        else:
            comm.send(self.state())
