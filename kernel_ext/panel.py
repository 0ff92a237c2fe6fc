"""The comm channel to the JupyterLab side panel (labextension/): the kernel's
%%matx builds as plain data, pushed on every change, and the panel's
"Export pipeline" command run here."""
from __future__ import annotations

from typing import List

from .render import status_text
from .view import example_args

TARGET = "matx_nb.panel"


def summary(build) -> dict:
    functions = [n for n, b in build.objects.items() if not isinstance(b.py_obj, type)]
    exprs = build.options.check + build.options.bench
    return {
        "cell": build.cell.label, "name": build.name, "state": build.state, "status": status_text(build),
        "seconds": build.build_seconds,
        "objects": [{"name": n, "line": b.line, "kind": "class" if isinstance(b.py_obj, type) else "function",
                     "cache_hit": bool(b.result and b.result.cache_hit), "failed": b.error is not None}
                    for n, b in build.objects.items()],
        "examples": {f: example_args(f, exprs) for f in functions},
    }


class Panel:
    """Keeps the open comms of side panels and answers their requests."""

    def __init__(self, magics):
        self.magics = magics
        self.comms: List = []

    def register(self) -> bool:
        try:
            from comm import get_comm_manager
            get_comm_manager().register_target(TARGET, self.opened)
            return True
        except Exception:  # no kernel (plain IPython): no panel
            return False

    def state(self) -> dict:
        return {"type": "builds", "builds": [summary(b) for b in self.magics.manager.builds]}

    def opened(self, comm, _msg=None) -> None:
        self.comms.append(comm)
        comm.on_msg(lambda msg: self.received(comm, msg))
        comm.on_close(lambda _msg: self.comms.remove(comm) if comm in self.comms else None)
        comm.send(self.state())

    def publish(self, _build=None) -> None:
        if not self.comms:
            return
        state = self.state()
        for comm in list(self.comms):
            try:
                comm.send(state)
            except Exception:  # a closed front end must not disturb the build
                self.comms.remove(comm)

    def received(self, comm, msg) -> None:
        data = msg["content"]["data"]
        if data.get("action") == "export":
            html = self.magics.export_from_widget(data.get("function", ""), data.get("args", ""),
                                                  data.get("out", ""))
            comm.send({"type": "exported", "request": data.get("request"), "html": html})
        else:
            comm.send(self.state())
