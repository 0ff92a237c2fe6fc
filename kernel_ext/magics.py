"""The `%%matx` cell magic and the `%matx_export` line magic."""
from __future__ import annotations

import shlex
from typing import Dict, Tuple

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, kwds, magic_arguments, parse_argstring

from . import export as exporting
from .builds import QUICK_OPT, BuildFailed, BuildManager, CellBuild, Options, Pending
from .cell import CellCompileError, run_cell, type_check


@magics_class
class MatxMagics(Magics):
    def __init__(self, shell):
        super().__init__(shell)
        self.manager = BuildManager()
        self.places: Dict[str, str] = {}  # cell file -> "cell [3]"
        self.twins: Dict[int, Tuple[object, object]] = {}  # id(bound value) -> (value, Python original)
        self.cells = 0
        self.views = []
        from .panel import Panel
        self.panel = Panel(self)  # the JupyterLab side panel's comm (labextension/)
        self.panel.register()

    # ---- %%matx
    @magic_arguments("%matx")  # IPython prints it after a '%': the usage reads %%matx
    @argument("--bench", action="append", default=[], metavar="EXPR",
              help='time EXPR with the Python originals and the compiled objects (medians, speedup, chart); '
                   'repeatable; "f(1), g(2)" is two expressions')
    @argument("--check", action="append", default=[], metavar="EXPR",
              help="evaluate EXPR with Python and compiled, compare the results, flag differences; repeatable")
    @argument("--sync", action="store_true", help="block until the build (and --check/--bench) is done; "
                                                   "a failed build then fails the cell")
    @argument("--force", action="store_true", help="rebuild even if the compile cache has the code")
    @argument("--show-cpp", dest="show_cpp", action="store_true", default=True,
              help="show the generated C++ tab (default)")
    @argument("--hide-cpp", dest="show_cpp", action="store_false", help="leave the C++ tab out")
    @argument("-O", dest="level", default=None, choices=["0", "1", "2", "3", "s", "g"], metavar="LEVEL",
              help="g++ optimization level: 0, 1, 2, 3, s or g, one build at that level; by default a "
                   "quick -Og build is bound first and the -O3 build replaces it when ready")
    @argument("--name", default="", help="a name for this build in the status line and the side panel")
    @cell_magic
    def matx(self, line, cell):
        """Compile the functions and classes of the cell to C++ with matx_nb.

        The cell is parsed and type checked at once (a type error fails the cell,
        each diagnostic with its cell line, a caret and a hint); g++ then runs in
        the background while the kernel goes on. Each function and class of the
        cell is bound to its compiled version (calling it before the build is done
        waits for it); the Python original is `.py_func` (`.py_class`).

            %%matx --bench "fib(25)" --check "fib(10), fib(20)"
            def fib(n: int) -> int:
                return n if n < 2 else fib(n - 1) + fib(n - 2)
        """
        args = self.matx.parser.parse_args(shlex.split(line))  # shell quoting: --bench "fib(25)"
        options = Options(opt=f"-O{args.level or 3}", force=args.force, bench=args.bench, check=args.check,
                          show_cpp=args.show_cpp, sync=args.sync, name=args.name,
                          quick="" if args.level else QUICK_OPT)
        self.cells += 1
        # the running cell's In[] number (IPython stores the input before running it;
        # execution_count itself is already the next one in IPython 9)
        label = f"cell [{len(self.shell.history_manager.input_hist_raw) - 1}]"
        try:
            cell_ = run_cell(self.shell, cell, self.cells, label, self.twin_of)
        except CellCompileError as e:  # a syntax error: listed in the side panel too
            self.panel.type_check_failed(label, e.diagnostics, e.places, ())
            raise
        self.places[cell_.filename] = label
        places = {**self.places, cell_.filename: "this cell"}
        try:
            type_check(cell_, places)
        except CellCompileError as e:  # listed in the side panel too, then the cell fails
            self.panel.type_check_failed(label, e.diagnostics, places, cell_.names)
            raise
        if not cell_.names:
            print("%%matx: this cell defines no function or class to compile")
            return None
        if options.bench or options.check:
            from .measure import split_exprs
            split_exprs(options.bench + options.check)  # a syntax error fails the cell now
        build = CellBuild(cell_, options, places)
        pending = {n: Pending(b) for n, b in build.objects.items()}
        for name, p in pending.items():
            self.shell.user_ns[name] = p
            self.twins[id(p)] = (p, p.__matx_py__)
        # Started before anything is shown: whatever fails in the display, every
        # name bound above either runs or raises BuildFailed; none waits forever
        # (a build that cannot start fails its names at once).
        self.manager.start(build, lambda name, compiled: self._bind(name, compiled, pending[name]),
                           lambda: self._namespaces(build))
        build.subscribe(self.panel.publish)
        if options.sync:  # the view is made while g++ runs, not while the build's Python does
            build.wait_front(2.0)
        try:
            self._show(build)
        except Exception as e:  # no widgets: a plain status line, the build goes on
            print(f"%%matx: the output cannot be shown ({type(e).__name__}: {e}); "
                  f"{', '.join(cell_.names)} will still be compiled")
        if options.sync:
            build.wait()
            failed = build.failed
            if failed:
                diags = [d for b in failed for d in getattr(b.error, "diagnostics", [])]
                if diags:
                    raise CellCompileError(diags, places, "\n".join(getattr(b.error, "log", "") for b in failed))
                failed[0].wait()  # raises BuildFailed with the error
        return None

    def _show(self, build: CellBuild) -> None:
        from .view import CellView
        view = CellView(build, self.export_from_widget)
        self.views.append(view)
        del self.views[:-50]
        view.display()

    def _bind(self, name: str, compiled, pending: Pending) -> None:
        """Called from the build thread: the name now means the compiled object
        (the quick build's, then the optimized one's), unless the user rebound it
        meanwhile."""
        self.twins[id(compiled)] = (compiled, pending.__matx_py__)
        current = self.shell.user_ns.get(name)
        if current is pending or current is pending.__dict__.get("_matx_bound"):
            self.shell.user_ns[name] = compiled
        pending.__dict__["_matx_bound"] = compiled

    def twin_of(self, value):
        """The Python original of a value this extension bound, else the value."""
        twin = self.twins.get(id(value))
        return twin[1] if twin is not None and twin[0] is value else value

    def _namespaces(self, build: CellBuild):
        """(Python, compiled) namespaces for --check and --bench."""
        user = dict(self.shell.user_ns)
        py_ns = {k: self.twin_of(v) for k, v in user.items()}
        py_ns.update(build.cell.module.__dict__)
        c_ns = dict(user)
        c_ns.update({n: b.compiled for n, b in build.objects.items()})
        return py_ns, c_ns

    # `%%matx?` starts with the usage line, not IPython's reST "::" marker
    matx.__doc__ = matx.__doc__.replace("::\n\n  %%matx", "%%matx", 1)

    # ---- %matx_export
    @magic_arguments()
    @kwds(usage="matx_export FUNC [EXAMPLE ...] --out DIR [--init ARGS]")
    @argument("func", metavar="FUNC",
              help="what to trace: a function (fib), a method of an object (pipeline.process), a class "
                   "(Text2Ids: an instance's __call__) or a method of a class (Text2Ids.lookup)")
    @argument("example_args", nargs="*", metavar="EXAMPLE",
              help="the example arguments, a Python expression: 25  or  ['hello', 'x'], 3")
    @argument("--out", required=True, metavar="DIR", help="the folder to write")
    @argument("--init", default="", metavar="ARGS",
              help="when FUNC is a class or a method of one: the constructor's arguments, quoted "
                   "(--init 'VOCAB, 3'); none by default")
    @line_magic
    def matx_export(self, line):
        """Trace FUNC on the example arguments and save the pipeline folder:
        matx_nb.trace(FUNC, *EXAMPLE).save(DIR). Shows the folder's files, checks
        that matx_nb.load(DIR) gives the same result, and the snippets that run
        it from the shell (matx-run), Python and C++; example inputs longer than
        a line go to DIR/feed.json, which the snippets read.

            %matx_export fib 25 --out out/fib
            %matx_export pipeline.process ["hello", "world"] --out out/text2ids
            %matx_export Text2Ids ["hello"] --out out/t2i
        """
        try:
            args = parse_argstring(self.matx_export, line)
        except UsageError as e:
            hint = ("; an example starting with '-' after a space reads as an option: write [1,-2], not [1, -2]"
                    if "unrecognized arguments" in str(e) else "")
            raise UsageError(f"{e}{hint}\nusage: %matx_export FUNC [EXAMPLE ...] --out DIR [--init ARGS]") from None
        ns = self.shell.user_ns
        fn, name = exporting.resolve_target(args.func, ns, exporting.unquote(args.init), self._resolve)
        examples = exporting.eval_args(" ".join(args.example_args), ns)
        return exporting.export(fn, examples, exporting.unquote(args.out), name,
                                exporting.source_names(self.shell, self.places))

    matx_export.__doc__ = matx_export.__doc__.replace("::\n\n  %", "%", 1)  # IPython's reST marker

    def export_from_widget(self, func: str, args_text: str, out: str, init: str = "") -> str:
        """The Export button and the side panel: the same as %matx_export, errors shown in place."""
        from .render import esc, page
        try:
            ns = self.shell.user_ns
            fn, name = exporting.resolve_target(func, ns, init, self._resolve)
            return exporting.export(fn, exporting.eval_args(args_text, ns), out, name,
                                    exporting.source_names(self.shell, self.places))._repr_html_()
        except Exception as e:  # shown under the button; the kernel goes on
            return page(f'<p class="matx-bad">Export failed: {esc(type(e).__name__)}: {esc(str(e))}</p>')

    # ---- %matx_status
    @magic_arguments()
    @argument("--wait", action="store_true", help="first wait for the builds still running "
                                                   "(the optimized ones that replace quick builds too)")
    @line_magic
    def matx_status(self, line):
        """List this kernel's %%matx builds, most recent last: cell, state, times, checks."""
        from .render import status_text
        args = self.matx_status.parser.parse_args(shlex.split(line))
        for b in self.manager.builds:
            if args.wait:
                b.wait()
                b.wait_final()  # the -O3 build that replaces a quick one too
            print(f"{b.cell.label:>10}  {status_text(b)}")

    @staticmethod
    def _resolve(value):
        """The compiled object a %%matx name stands for, once built; a name whose
        build failed cannot be exported (BuildFailed says where and why)."""
        if not isinstance(value, Pending):
            return value
        try:
            return value._matx_build.wait()
        except BuildFailed as e:
            raise BuildFailed(f"cannot export: {e}") from e.__cause__
