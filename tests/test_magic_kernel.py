"""%%matx in a real ipykernel (one kernel for the module, driven by jupyter_client):
the cell returns while g++ runs, a call waits, a type error fails the cell, and a
kernel interrupt or a failed g++ leaves the kernel alive and usable."""
import time

import pytest

pytest.importorskip("ipykernel")
jupyter_client = pytest.importorskip("jupyter_client")

from kernelutil import execute, fake_cxx, start_kernel, stop_kernel, use_cxx  # noqa: E402


@pytest.fixture(scope="module")
def kc(tmp_path_factory):
    client = start_kernel(str(tmp_path_factory.mktemp("kernel")))
    execute(client, "%load_ext matx_nb")
    yield client
    stop_kernel(client)


def test_cell_returns_while_gxx_runs_and_a_call_waits(kc, tmp_path):
    use_cxx(kc, fake_cxx(tmp_path, "slow-g++", 'sleep 2; exec g++ "$@"'))
    try:
        t = time.perf_counter()
        execute(kc, "%%matx --force\ndef kslow(n: int) -> int:\n    return n * 3\n")
        assert time.perf_counter() - t < 1.5  # g++ alone takes 2 s here
        assert "compiling" in execute(kc, "print(repr(kslow))")[1]
        assert execute(kc, "kslow(5)")[1].strip() == "15"
        assert "compiled" in execute(kc, "print(repr(kslow), kslow.py_func(2))")[1]
    finally:
        use_cxx(kc, None)


def test_type_error_fails_the_cell(kc):
    content, out = execute(kc, '%%matx\ndef kbad(s: str) -> int:\n    return s * 1.5\n', ok=False)
    assert content["status"] == "error" and content["ename"] == "CellCompileError"
    assert "line 3, col 12" in out and "^" in content["evalue"]
    assert execute(kc, "'kbad' in dir()")[1].strip() == "False"


def test_interrupt_while_waiting_leaves_the_kernel_usable(kc, tmp_path):
    use_cxx(kc, fake_cxx(tmp_path, "slow-g++", 'sleep 3; exec g++ "$@"'))
    try:
        execute(kc, "%%matx --force\ndef kint(n: int) -> int:\n    return n + 100\n")
        msg_id = kc.execute("kint(1)")
        time.sleep(1.0)
        kc.km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=30)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=30)
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        for _ in range(20):  # ipykernel aborts requests arriving right after an interrupted one
            content, out = execute(kc, "1 + 1", ok=False)
            if content["status"] != "aborted":
                break
            time.sleep(0.1)
        assert content["status"] == "ok" and out.strip() == "2"
        assert execute(kc, "kint(1)")[1].strip() == "101"  # g++ got no SIGINT: the build went on
    finally:
        use_cxx(kc, None)


def test_failed_gxx_leaves_the_kernel_usable(kc, tmp_path):
    use_cxx(kc, fake_cxx(tmp_path, "broken-g++", 'echo "broken-g++: planted failure" >&2; exit 1'))
    try:
        execute(kc, "%%matx --force\ndef kfail(n: int) -> int:\n    return n - 100\n")
        content, out = execute(kc, "kfail(1)", ok=False)
        assert content["ename"] == "BuildFailed" and "planted failure" in out and "line 2" in out
        assert "build failed" in execute(kc, "%matx_status --wait")[1]
    finally:
        use_cxx(kc, None)
    assert execute(kc, "%%matx --sync --force\ndef kfail(n: int) -> int:\n    return n - 100\n")
    assert execute(kc, "kfail(1)")[1].strip() == "-99"
