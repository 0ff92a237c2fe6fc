"""Fault injection in a real ipykernel: whatever fails while a %%matx cell is
parsed, checked, generated, compiled, loaded or shown, the kernel stays
responsive, and the next cell's call of a name of that cell returns within
seconds, with its value or with BuildFailed saying why. Never a hang."""
import pytest

pytest.importorskip("ipykernel")
pytest.importorskip("jupyter_client")

from kernelutil import execute, fake_cxx, start_kernel, stop_kernel, timed, use_cxx  # noqa: E402

RESPONSIVE_S = 20  # a call after a fault answers well within this (compiles included)


@pytest.fixture(scope="module")
def kc(tmp_path_factory):
    client = start_kernel(str(tmp_path_factory.mktemp("faults")))
    execute(client, "%load_ext matx_nb")
    execute(client, "%%matx --sync\ndef healthy(n: int) -> int:\n    return n * 2\n")
    yield client
    stop_kernel(client)


def cell(name: str, body: str = "return n + 1", flags: str = "--force") -> str:
    return f"%%matx {flags}\ndef {name}(n: int) -> int:\n    {body}\n"


def assert_alive(kc):
    """The kernel answers, and a name compiled before the fault still runs."""
    content, out, s = timed(kc, "print(healthy(21))", timeout=RESPONSIVE_S)
    assert out.strip() == "42" and s < 5


def call_fails(kc, name: str, *needles: str):
    content, out, s = timed(kc, f"{name}(1)", ok=False, timeout=RESPONSIVE_S)
    assert content["status"] == "error" and content["ename"] == "BuildFailed", out
    assert "did not compile" in out
    for n in needles:
        assert n in out, out
    assert s < RESPONSIVE_S
    assert_alive(kc)


def patched(kc, target: str, replacement: str):
    """Replaces `target` (module.attr path) in the kernel; returns the undo code."""
    mod, _, attr = target.rpartition(".")
    execute(kc, f"import {mod.split('.')[0]}\n"
                f"_faults_saved = globals().setdefault('_faults_saved', {{}})\n"
                f"_faults_saved[{target!r}] = {mod}.{attr}\n"
                f"{mod}.{attr} = {replacement}")
    return f"import {mod.split('.')[0]}\n{mod}.{attr} = _faults_saved.pop({target!r})"


def test_syntax_error_fails_the_cell_only(kc):
    content, out, s = timed(kc, "%%matx\ndef broken(n: int) -> int:\n    return n +\n", ok=False)
    assert content["ename"] == "CellCompileError" and "syntax error" in out and "line 3" in out
    assert_alive(kc)


def test_type_error_fails_the_cell_only(kc):
    content, out, _ = timed(kc, cell("badtype", "return n + 'x'"), ok=False)
    assert content["ename"] == "CellCompileError" and "line 3" in out
    assert execute(kc, "'badtype' in dir()")[1].strip() == "False"
    assert_alive(kc)


def test_codegen_crash(kc):
    execute(kc, "import matx_nb.compiler.emit.emitter")
    undo = patched(kc, "matx_nb.compiler.emit.emitter.emit",
                   "lambda em: (_ for _ in ()).throw(RuntimeError('planted codegen fault'))")
    try:
        execute(kc, cell("kgen"))
        call_fails(kc, "kgen", "planted codegen fault", "line 2")
    finally:
        execute(kc, undo)


@pytest.mark.parametrize("how,script,needle", [
    ("crash", "kill -SEGV $$", "C++ compiler crashed: SIGSEGV"),
    ("killed", "kill -KILL $$", "C++ compiler was killed (out of memory?)"),
    ("missing", None, "not usable"),
])
def test_gxx_fault(kc, tmp_path, how, script, needle):
    cxx = fake_cxx(tmp_path, f"{how}-g++", script) if script else str(tmp_path / "no-such-g++")
    use_cxx(kc, cxx)
    try:
        execute(kc, cell(f"kgxx_{how}"))
        call_fails(kc, f"kgxx_{how}", needle)
    finally:
        use_cxx(kc, None)


def test_gxx_that_hangs_is_stopped(kc, tmp_path):
    use_cxx(kc, fake_cxx(tmp_path, "hung-g++", "sleep 60"))
    execute(kc, "os.environ['MATX_NB_CXX_TIMEOUT'] = '1'")
    try:
        execute(kc, cell("khang"))
        call_fails(kc, "khang", "did not finish in 1 s")
    finally:
        execute(kc, "os.environ.pop('MATX_NB_CXX_TIMEOUT', None)")
        use_cxx(kc, None)


def test_library_that_does_not_load(kc, tmp_path):
    # g++ "succeeds" but writes garbage: dlopen fails.
    script = 'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done; ' \
             'echo "not an ELF file" > "$out"'
    use_cxx(kc, fake_cxx(tmp_path, "garbage-g++", script))
    try:
        execute(kc, cell("kload"))
        call_fails(kc, "kload")
    finally:
        use_cxx(kc, None)


def test_build_that_never_runs(kc):
    undo = patched(kc, "kernel_ext.builds.build_group",
                   "lambda *a: (_ for _ in ()).throw(RuntimeError('planted worker fault'))")
    try:
        execute(kc, cell("knever"))
        call_fails(kc, "knever")
    finally:
        execute(kc, undo)


def test_widgets_missing_at_run_time(kc):
    execute(kc, "import sys; _saved_w = sys.modules.pop('ipywidgets', None); sys.modules['ipywidgets'] = None\n"
                "import kernel_ext.view")
    try:
        content, out, s = timed(kc, cell("kwidget", "return n * 7"))
        assert "cannot be shown" in out and "ipywidgets" in out
        content, out, s = timed(kc, "print(kwidget(6))", timeout=RESPONSIVE_S)
        assert out.strip() == "42"
    finally:
        execute(kc, "import sys; sys.modules['ipywidgets'] = _saved_w")
    assert_alive(kc)


def test_view_crash(kc):
    undo = patched(kc, "kernel_ext.view.CellView.__init__",
                   "lambda self, *a, **k: (_ for _ in ()).throw(ValueError('planted view fault'))")
    try:
        content, out, _ = timed(kc, cell("kview", "return n * 5"))
        assert "planted view fault" in out
        assert execute(kc, "print(kview(2))", timeout=RESPONSIVE_S)[1].strip() == "10"
    finally:
        execute(kc, undo)


def test_comm_fault(kc):
    undo = patched(kc, "kernel_ext.panel.Panel.publish",
                   "lambda self, *a: (_ for _ in ()).throw(OSError('planted comm fault'))")
    try:
        execute(kc, cell("kcomm", "return n * 3"))
        assert execute(kc, "print(kcomm(3))", timeout=RESPONSIVE_S)[1].strip() == "9"
    finally:
        execute(kc, undo)
    assert_alive(kc)


def test_sync_cell_with_failed_build_fails_the_cell(kc, tmp_path):
    use_cxx(kc, fake_cxx(tmp_path, "broken-g++", 'echo "planted g++ error" >&2; exit 1'))
    try:
        content, out, s = timed(kc, cell("ksync", flags="--sync --force"), ok=False, timeout=RESPONSIVE_S)
        assert content["status"] == "error" and "planted g++ error" in out
    finally:
        use_cxx(kc, None)
    assert_alive(kc)
