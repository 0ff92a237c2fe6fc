"""Driving a real ipykernel from tests (jupyter_client): start one, run code in
it with a timeout, collect what it printed, and plant a fake g++."""
import stat
import time


def start_kernel(cwd: str):
    from jupyter_client.manager import start_new_kernel
    km, client = start_new_kernel(kernel_name="python3", cwd=cwd)
    client.km = km
    return client


def stop_kernel(client) -> None:
    client.stop_channels()
    client.km.shutdown_kernel(now=True)


def collect(outputs):
    text = []
    for msg in outputs:
        c, kind = msg["content"], msg["msg_type"]
        if kind == "stream":
            text.append(c["text"])
        elif kind in ("execute_result", "display_data"):
            text.append(c["data"].get("text/plain", ""))
        elif kind == "error":
            text.append(f"{c['ename']}: {c['evalue']}")
    return "".join(text)


def execute(kc, code, ok=True, timeout=120):
    """(reply content, printed text); raises AssertionError if ok and the cell failed,
    TimeoutError if the kernel does not answer within timeout seconds."""
    outputs = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append, allow_stdin=False)
    content = reply["content"]
    if ok and content["status"] != "ok":
        raise AssertionError(f"{code!r} failed: {content.get('ename')}: {content.get('evalue')}")
    return content, collect(outputs)


def timed(kc, code, ok=True, timeout=60):
    """execute() and the seconds it took."""
    t = time.perf_counter()
    content, out = execute(kc, code, ok=ok, timeout=timeout)
    return content, out, time.perf_counter() - t


def fake_cxx(tmp_path, name, body):
    """A g++ stand-in; bash, not dash: dash clears the signal mask it inherits."""
    p = tmp_path / name
    p.write_text('#!/bin/bash\ncase "$1" in --version) exec g++ "$@";; esac\n' + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def use_cxx(kc, path):
    execute(kc, f"import os; os.environ['MATX_NB_CXX'] = {path!r}" if path
            else "import os; os.environ.pop('MATX_NB_CXX', None)")
