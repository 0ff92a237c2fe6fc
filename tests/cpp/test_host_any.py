"""The host ABI over mx::Any (runtime/include/matx_nb/host_any.h).

The functions and the class below are compiled with matx_nb.script; a C++
driver with no Python loads each compiled library through mx::CompiledLibrary,
calls it with mx::Any arguments and prints every result as mx::repr (Python's
repr). The same calls made here in CPython must print the same lines; errors
must carry the exception class, the message of the compiled function called
from Python (file, line and source text included), and the location. Under
valgrind, a loop of calls must show no memory errors and no definite leaks.
"""

import inspect
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "runtime" / "include"


# ---- the compiled code ----------------------------------------------------------

class Text2Ids:
    def __init__(self) -> None:
        self.table: Dict[str, int] = {"hello": 0, "world": 1, "[UNK]": 2}

    def lookup(self, word: str) -> int:
        return self.table.get(word, 2)

    def __call__(self, words: List[str]) -> List[int]:
        return [self.lookup(w) for w in words]


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def shout(words: List[str]) -> List[str]:
    return [w.upper() + "!" for w in words]


def stats(d: Dict[str, List[int]]) -> Dict[str, List[int]]:
    out: Dict[str, List[int]] = {}
    for k, v in d.items():
        out[k + k] = sorted(v) + [len(v), sum(v)]
    return out


def swap(t: Tuple[int, str]) -> Tuple[str, int]:
    a, b = t
    return (b * a, a + 1)


def evens(s: Set[int]) -> Set[int]:
    return {x * 10 for x in s if x % 2 == 0}


def hyp(a: float, b: float) -> float:
    return (a * a + b * b) ** 0.5


def flip(b: bytes) -> bytes:
    return b[::-1] + b"\x00\xff"


def is_pal(s: str) -> bool:
    return s == s[::-1]


def say(n: int) -> None:
    print("n is", n)


def ident(x: Any) -> Any:
    return x


def pair(x: Any) -> List[Any]:
    return [x, x]


def get_item(xs: List[int], i: int) -> int:
    return xs[i]  # IndexError here


def lookup_with(t: Text2Ids, w: str) -> int:
    return t.lookup(w)


def make_many(n: int) -> List[Text2Ids]:
    return [Text2Ids() for _ in range(n)]


def count_all(ts: List[Text2Ids], words: List[str]) -> int:
    total = 0
    for t in ts:
        for w in words:
            total += t.lookup(w)
    return total


FUNCS = [fib, shout, stats, swap, evens, hyp, flip, is_pal, say, ident, pair, get_item,
         lookup_with, make_many, count_all]


# ---- the C++ driver ----------------------------------------------------------------

DRIVER = r"""
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "matx_nb/host_any.h"

using mx::Any;

static std::map<std::string, std::unique_ptr<mx::CompiledLibrary>> libs;
static bool quiet = false;

static mx::CompiledLibrary& L(const std::string& name) { return *libs.at(name); }
static Any S(const std::u32string& s) { return Any(mx::str_from_u32(s)); }
static Any B(const std::string& s) { return Any(mx::Bytes(s.data(), s.size())); }
static Any I(int64_t v) { return Any(v); }
static Any F(double v) { return Any(v); }
static Any list(std::vector<Any> items) {
  mx::List<Any> l;
  for (auto& x : items) l.push_back(x);
  return Any(l);
}
static Any tuple(std::vector<Any> items) {
  mx::List<Any> l;
  for (auto& x : items) l.push_back(x);
  return Any::tuple_of(l);
}
static Any dict(std::vector<std::pair<Any, Any>> items) {
  mx::Dict<Any, Any> d;
  for (auto& kv : items) d.set(kv.first, kv.second);
  return Any(d);
}
static Any set(std::vector<Any> items) {
  mx::Set<Any> s;
  for (auto& x : items) s.add(x);
  return Any(s);
}

static std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}
static std::string R(const Any& a) { return mx::utf8_encode(mx::repr(a)); }
// A set of ints, sorted: set order is an implementation detail.
static std::string sorted_set(const Any& a) {
  if (a.tag() != mx::TypeTag::Set) return "not a set: " + R(a);
  std::vector<int64_t> v;
  for (auto& e : a.set().table().entries()) if (e.live) v.push_back(e.key.i());
  std::sort(v.begin(), v.end());
  std::string s = "{";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "}";
}
static void line(const std::string& label, const std::string& text) {
  if (!quiet) std::printf("%s: %s\n", label.c_str(), escape(text).c_str());
}
static void out(const std::string& label, const Any& a) { line(label, R(a)); }
static void err(const std::string& label, const std::function<void()>& f) {
  try {
    f();
    line(label, "no error");
  } catch (const mx::Error& e) {
    line(label, std::string("!") + mx::errkind_name(e.kind()) + ": " + e.message());
    if (e.has_loc()) line(label + ".loc", e.file() + ":" + std::to_string(e.line()) + " in " + e.func());
  }
}

static void run_all() {
  out("fib", L("fib").call("fib", {I(20)}));
  out("fib0", L("fib").call("fib", {I(0)}));
  out("shout", L("shout").call("shout", {list({S(U"hello"), S(U"stra\u00dfe"), S(U"caf\u00e9"),
                                              S(U"\u65e5\u672c"), S(U"emoji\U0001F600"), S(U"")})}));
  out("stats", L("stats").call("stats", {dict({{S(U"a"), list({I(3), I(1), I(2)})},
                                              {S(U"\u00e9"), list({})},
                                              {S(U"\u65e5"), list({I(5)})}})}));
  out("swap", L("swap").call("swap", {tuple({I(3), S(U"ab")})}));
  line("evens", sorted_set(L("evens").call("evens", {set({I(1), I(2), I(3), I(4), I(5), I(6)})})));
  out("hyp", L("hyp").call("hyp", {F(3.0), F(4.0)}));
  out("hyp_int", L("hyp").call("hyp", {I(1), I(2)}));
  out("flip", L("flip").call("flip", {B(std::string("ab\x01", 3))}));
  out("is_pal", L("is_pal").call("is_pal", {S(U"abba")}));
  out("is_pal2", L("is_pal").call("is_pal", {S(U"abc")}));
  Any r = L("say").call("say", {I(42)});
  std::fflush(stdout);
  out("say", r);
  out("ident", L("ident").call("ident", {list({I(1), S(U"a"), tuple({F(2.5), Any()}),
                                               dict({{S(U"k"), B("v")}, {I(3), list({Any(true)})}}),
                                               I(-7)})}));
  out("ident1", L("ident").call("ident", {tuple({I(1)})}));
  out("ident_str", L("ident").call("ident", {S(U"\u00e9\U0001F600")}));
  out("pair", L("pair").call("pair", {S(U"x")}));

  mx::CompiledLibrary& T = L("Text2Ids");
  Any t = T.construct("Text2Ids", {});
  out("t_call", T.call_method(t, "__call__", {list({S(U"hello"), S(U"world"), S(U"unknown")})}));
  out("t_lookup", T.call_method(t, "lookup", {S(U"world")}));
  out("t_table", T.get_attr(t, "table"));
  T.set_attr(t, "table", dict({{S(U"a"), I(5)}}));
  out("t_table2", T.get_attr(t, "table"));
  out("t_lookup2", T.call_method(t, "lookup", {S(U"a")}));
  out("lookup_with", L("lookup_with").call("lookup_with", {t, S(U"a")}));
  Any many = L("make_many").call("make_many", {I(3)});
  line("make_many", std::to_string(many.list().size()) + " " +
                    (mx::class_of(many.list()[0]) ? mx::class_of(many.list()[0])->name : "?"));
  // Instances made by make_many's library, used by count_all's and Text2Ids' libraries.
  out("count_all", L("count_all").call("count_all", {many, list({S(U"hello"), S(U"world"), S(U"zz")})}));
  out("t_many", T.call_method(many.list()[1], "lookup", {S(U"world")}));

  err("get_item", [] { L("get_item").call("get_item", {list({I(1), I(2), I(3)}), I(5)}); });
  err("fib_str", [] { L("fib").call("fib", {S(U"x")}); });
  err("fib_tuple", [] { L("fib").call("fib", {tuple({I(1)})}); });
  err("fib_none", [] { L("fib").call("fib", {}); });
  err("fib_two", [] { L("fib").call("fib", {I(1), I(2)}); });
  err("shout_bad", [] { L("shout").call("shout", {tuple({S(U"a"), I(1)})}); });
  err("stats_bad", [] { L("stats").call("stats", {dict({{S(U"k"), list({I(1), S(U"z")})}})}); });
  err("init_args", [&] { T.construct("Text2Ids", {I(1)}); });
  err("lookup_with_bad", [] { L("lookup_with").call("lookup_with", {S(U"t"), S(U"a")}); });
  err("hyp_str", [] { L("hyp").call("hyp", {S(U"1"), F(1.0)}); });
  err("set_bad", [&] { T.set_attr(t, "table", I(1)); });
  err("no_attr", [&] { T.get_attr(t, "nope"); });
  err("not_instance", [&] { T.call_method(I(1), "lookup", {S(U"a")}); });
}

// The callback table itself, as compiled code sees it.
static void host_checks() {
  const mx_host_api* h = mx::any_host();
  Any l = list({I(7), S(U"a\u00e9"), tuple({Any(true)})});
  mx_host_obj lh = mx::handle_of(l);
  mx_host_obj it0 = h->seq_item(lh, 0), it1 = h->seq_item(lh, 1), it2 = h->seq_item(lh, 2);
  int64_t v = 0;
  int unit = 0;
  int64_t n = 0;
  const void* d = h->str_data(it1, &unit, &n);
  int rc = h->as_int(it0, &v);
  line("h_list", std::to_string(h->kind(lh)) + " " + std::to_string(h->seq_len(lh)) + " " +
                 std::to_string(rc) + "/" + std::to_string(v) + " " + std::to_string(unit) + "/" +
                 std::to_string(n) + "/" +
                 std::to_string(unit == 1 ? int(static_cast<const uint8_t*>(d)[1]) : int(static_cast<const char32_t*>(d)[1])) + " " +
                 h->type_name(it2) + " " + std::to_string(h->kind(it2)) + " " + h->type_name(lh));
  // Borrowed items are the list's own values.
  line("h_borrowed", std::string(it0 == &l.list()[0] ? "same" : "copy"));
  h->decref(lh);

  mx_host_obj s1 = h->new_str(1, "\xe9t\xe9", 3);
  const uint16_t u2[] = {0x65e5, 0x672c, 0x61};
  mx_host_obj s2 = h->new_str(2, u2, 3);
  const char32_t u4[] = {0x1F600, 0x41};
  mx_host_obj s4 = h->new_str(4, u4, 2);
  const char32_t ascii4[] = {0x61, 0x62};
  mx_host_obj sa = h->new_str(4, ascii4, 2);
  mx_host_obj s0 = h->new_str(1, "", 0);
  line("h_new_str", R(mx::handle_value(s1)) + R(mx::handle_value(s2)) + R(mx::handle_value(s4)) +
                    R(mx::handle_value(sa)) + R(mx::handle_value(s0)) + " widths " +
                    std::to_string(mx::handle_value(s1).str().width()) +
                    std::to_string(mx::handle_value(s2).str().width()) +
                    std::to_string(mx::handle_value(s4).str().width()) +
                    std::to_string(mx::handle_value(sa).str().width()));
  for (mx_host_obj x : {s1, s2, s4, sa, s0}) h->decref(x);

  // dict_next skips deleted entries; keys and values are borrowed.
  Any dd = dict({{S(U"a"), I(1)}, {S(U"b"), I(2)}, {S(U"c"), I(3)}});
  dd.dict().table().erase(Any(mx::str_from_u32(U"b")));
  mx_host_obj dh = mx::handle_of(dd);
  int64_t pos = 0;
  mx_host_obj k, val;
  std::string items;
  while (h->dict_next(dh, &pos, &k, &val)) items += R(mx::handle_value(k)) + "=" + R(mx::handle_value(val)) + " ";
  line("h_dict_next", items + std::to_string(h->seq_len(dh)));
  h->decref(dh);

  // iter/iter_next give new references.
  mx_host_obj sh = mx::handle_of(set({I(1), I(2), I(3)}));
  mx_host_obj iter = h->iter(sh);
  int64_t total = 0;
  while (mx_host_obj x = h->iter_next(iter)) {
    int64_t xv = 0;
    h->as_int(x, &xv);
    total += xv;
    h->decref(x);
  }
  h->decref(iter);
  h->decref(sh);
  mx_host_obj ih0 = mx::handle_of(I(3));
  line("h_iter", std::to_string(total) + " " + (h->iter(ih0) ? "iter" : "null") + " " +
                 (h->iter_next(nullptr) ? "item" : "null"));
  h->decref(ih0);

  // Building: *_set steal their items.
  mx_host_obj nl = h->new_list(2);
  h->list_set(nl, 0, h->new_int(1));
  h->list_set(nl, 1, h->new_bytes("x\0y", 3));
  mx_host_obj nt = h->new_tuple(2);
  h->tuple_set(nt, 0, h->new_float(0.5));
  h->tuple_set(nt, 1, h->new_none());
  mx_host_obj nd = h->new_dict();
  h->dict_set(nd, h->new_str(1, "k", 1), nl);
  h->dict_set(nd, h->new_bool(1), nt);
  mx_host_obj ns = h->new_set();
  h->set_add(ns, h->new_int(5));
  h->set_add(ns, h->new_int(5));
  h->dict_set(nd, h->new_int(9), ns);
  line("h_build", R(mx::take_handle(nd)));

  // Instances: object_ptr checks the class by layout id.
  mx::CompiledLibrary& T = L("Text2Ids");
  Any t = T.construct("Text2Ids", {});
  const mx_class_desc* cls = mx::class_of(t);
  mx_class_desc other = *cls;
  other.layout_id = "Text2Ids-000000000000";
  mx_class_desc copy = *cls;  // another library's desc of the same layout
  mx_host_obj th = mx::handle_of(t);
  line("h_object", std::string(cls == T.find_class("Text2Ids") ? "own " : "foreign ") +
                   std::to_string(h->kind(th)) + " " + h->type_name(th) + " " +
                   (h->object_ptr(th, cls) == t.obj() ? "match " : "nomatch ") +
                   (h->object_ptr(th, &copy) == t.obj() ? "match " : "nomatch ") +
                   (h->object_ptr(th, &other) ? "match" : "nomatch"));
  h->decref(th);
  mx_host_obj ih = mx::handle_of(I(1));
  line("h_object_int", std::string(h->object_ptr(ih, cls) ? "match" : "nomatch"));
  h->decref(ih);
}

// The calls again, many times, silently: for valgrind.
static void loop(int n) {
  quiet = true;
  for (int i = 0; i < n; ++i) {
    run_all();
    host_checks();
  }
  quiet = false;
  std::printf("loop: ok\n");
}

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  std::ifstream cfg(argv[2]);
  std::string kind;
  while (cfg >> kind) {
    if (kind == "lib") {
      std::string name, path;
      cfg >> name;
      cfg.get();
      std::getline(cfg, path);
      libs[name] = std::make_unique<mx::CompiledLibrary>(path);
    } else if (kind == "origin") {
      std::string name, file;
      int index, first_line;
      cfg >> name >> index >> first_line;
      cfg.get();
      std::getline(cfg, file);
      libs.at(name)->set_origin(index, file, first_line);
    }
  }
  std::string mode = argv[1];
  try {
    if (mode == "run") run_all();
    else if (mode == "host") host_checks();
    else if (mode == "loop") loop(argc > 3 ? std::atoi(argv[3]) : 100);
    else if (mode == "origins") {
      for (auto& kv : libs) {
        std::string names;
        for (auto& n : kv.second->origin_names()) names += n + " ";
        std::printf("%s: %s\n", kv.first.c_str(), names.c_str());
      }
    }
  } catch (const mx::Error& e) {
    std::printf("uncaught %s: %s\n", mx::errkind_name(e.kind()), e.what());
    return 1;
  }
  return 0;
}
"""


# ---- the same calls in CPython -------------------------------------------------------

def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n")


def _expected_results(capsys) -> List[str]:
    lines = []

    def out(label, value):
        lines.append(f"{label}: {_esc(repr(value))}")

    out("fib", fib(20))
    out("fib0", fib(0))
    out("shout", shout(["hello", "stra\u00dfe", "caf\u00e9", "\u65e5\u672c", "emoji\U0001F600", ""]))
    out("stats", stats({"a": [3, 1, 2], "\u00e9": [], "\u65e5": [5]}))
    out("swap", swap((3, "ab")))
    r = evens({1, 2, 3, 4, 5, 6})
    lines.append("evens: {" + ", ".join(str(x) for x in sorted(r)) + "}")
    out("hyp", hyp(3.0, 4.0))
    out("hyp_int", hyp(1, 2))
    out("flip", flip(b"ab\x01"))
    out("is_pal", is_pal("abba"))
    out("is_pal2", is_pal("abc"))
    r = say(42)
    lines.append(capsys.readouterr().out.rstrip("\n"))
    out("say", r)
    out("ident", ident([1, "a", (2.5, None), {"k": b"v", 3: [True]}, -7]))
    out("ident1", ident((1,)))
    out("ident_str", ident("\u00e9\U0001F600"))
    out("pair", pair("x"))
    t = Text2Ids()
    out("t_call", t(["hello", "world", "unknown"]))
    out("t_lookup", t.lookup("world"))
    out("t_table", t.table)
    t.table = {"a": 5}
    out("t_table2", t.table)
    out("t_lookup2", t.lookup("a"))
    out("lookup_with", lookup_with(t, "a"))
    many = make_many(3)
    lines.append(f"make_many: {len(many)} {type(many[0]).__name__}")
    out("count_all", count_all(many, ["hello", "world", "zz"]))
    out("t_many", many[1].lookup("world"))
    return lines


# Labels of the driver's error lines (err(...) in DRIVER).
ERROR_LABELS = ["get_item", "fib_str", "fib_tuple", "fib_none", "fib_two", "shout_bad", "stats_bad", "init_args",
                "lookup_with_bad", "hyp_str", "set_bad", "no_attr", "not_instance"]


def _expected_errors(compiled) -> Dict[str, str]:
    """label -> '!Kind: message' from the compiled code called from Python."""
    c = compiled
    calls = {
        "get_item": lambda: c["get_item"]([1, 2, 3], 5),
        "fib_str": lambda: c["fib"]("x"),
        "fib_tuple": lambda: c["fib"]((1,)),
        "fib_none": lambda: c["fib"](),
        "fib_two": lambda: c["fib"](1, 2),
        "shout_bad": lambda: c["shout"](("a", 1)),
        "stats_bad": lambda: c["stats"]({"k": [1, "z"]}),
        "init_args": lambda: c["Text2Ids"](1),
        "lookup_with_bad": lambda: c["lookup_with"]("t", "a"),
        "hyp_str": lambda: c["hyp"]("1", 1.0),
        "set_bad": lambda: setattr(c["Text2Ids"](), "table", 1),
    }
    out = {}
    for label, f in calls.items():
        try:
            f()
            out[label] = "no error"
        except Exception as e:  # noqa: BLE001 - any class: compared by name
            out[label] = f"!{type(e).__name__}: {_esc(str(e))}"
    return out


# ---- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if shutil.which("g++") is None:
        pytest.skip("g++ not available")
    import matx_nb
    from matx_nb.compiler.diagnostics import DiagnosticSink
    from matx_nb.compiler.driver import collect

    old_cache = os.environ.get("MATX_NB_CACHE")
    os.environ["MATX_NB_CACHE"] = tempfile.mkdtemp(prefix="matx_nb_host_any_")
    try:
        compiled = {f.__name__: matx_nb.script(f) for f in FUNCS}
        compiled["Text2Ids"] = matx_nb.script(Text2Ids)
    finally:
        if old_cache is None:
            os.environ.pop("MATX_NB_CACHE", None)
        else:
            os.environ["MATX_NB_CACHE"] = old_cache

    d = tmp_path_factory.mktemp("host_any")
    cfg = []
    origins = {}
    for name, c in compiled.items():
        lib = Path(c.matx.library)
        assert lib.exists(), lib
        cfg.append(f"lib {name} {lib}")
        col = collect(c.__matx_py__, DiagnosticSink())
        origins[name] = list(col.order)
        for i, oname in enumerate(col.order):
            src = col.sources[oname]
            cfg.append(f"origin {name} {i} {src.first_line} {src.file}")
    config = d / "libs.txt"
    config.write_text("\n".join(cfg) + "\n")

    src = d / "driver.cc"
    src.write_text(DRIVER, encoding="utf-8")
    exe = d / "driver"
    cmd = ["g++", "-std=c++17", "-O1", "-g", "-Wall", "-Wextra", "-I", str(INCLUDE), str(src),
           "-o", str(exe), "-ldl"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, "driver build failed:\n%s\n%s" % (" ".join(cmd), r.stderr)
    # The header itself must compile without warnings (any.h has its own).
    assert not re.search(r"host_any\.h:\d+:\d+: warning", r.stderr), r.stderr
    return exe, config, compiled, origins


def _run(exe, config, *args, prefix=(), timeout=600):
    r = subprocess.run([*prefix, str(exe), args[0], str(config), *args[1:]], capture_output=True,
                       timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8"), r.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def driver_output(built):
    exe, config, _, _ = built
    rc, out, err = _run(exe, config, "run")
    assert rc == 0, out + err
    return out.splitlines()


# ---- tests ------------------------------------------------------------------------------

def test_origins_match_the_collector(built):
    exe, config, _, origins = built
    rc, out, err = _run(exe, config, "origins")
    assert rc == 0, out + err
    got = dict(line.split(": ", 1) for line in out.splitlines())
    for name, order in origins.items():
        assert got[name].split() == order, name


def test_results_match_cpython(driver_output, capsys):
    expected = _expected_results(capsys)
    errors = set(ERROR_LABELS) | {label + ".loc" for label in ERROR_LABELS}
    got = [line for line in driver_output if line.split(": ", 1)[0] not in errors]
    assert got == expected


def test_errors_match_the_python_binding(built, driver_output):
    _, _, compiled, _ = built
    got = dict(line.split(": ", 1) for line in driver_output if ": " in line)
    for label, want in _expected_errors(compiled).items():
        assert got.get(label) == want, label


def test_error_location(driver_output):
    got = dict(line.split(": ", 1) for line in driver_output if ": " in line)
    lines, first = inspect.getsourcelines(get_item)
    line = first + next(i for i, text in enumerate(lines) if "xs[i]" in text)
    assert got["get_item"].startswith("!IndexError: list index out of range")
    assert f'File "{__file__}", line {line}, in get_item' in got["get_item"]
    assert "return xs[i]  # IndexError here" in got["get_item"]
    assert got["get_item.loc"] == f"{__file__}:{line} in get_item"


def test_host_only_errors(driver_output):
    got = dict(line.split(": ", 1) for line in driver_output if ": " in line)
    assert got["no_attr"] == "!AttributeError: 'Text2Ids' object has no attribute 'nope'"
    assert got["not_instance"].startswith("!TypeError: expected an instance of a class compiled in ")
    assert got["not_instance"].endswith(", got int")


def test_host_table(built):
    exe, config, _, _ = built
    rc, out, err = _run(exe, config, "host")
    assert rc == 0, out + err
    got = dict(line.split(": ", 1) for line in out.splitlines())
    # kind 6 = MX_HK_LIST, 7 = MX_HK_TUPLE, 10 = MX_HK_OBJECT
    assert got["h_list"] == "6 3 0/7 1/2/233 tuple 7 list"  # "aé" is Latin-1: unit 1
    assert got["h_borrowed"] == "same"
    assert got["h_new_str"] == "'été''日本a''😀A''ab''' widths 1241"
    assert got["h_dict_next"] == "'a'=1 'c'=3 2"
    assert got["h_iter"] == "6 null null"
    assert got["h_build"] == _esc(repr({"k": [1, b"x\x00y"], True: (0.5, None), 9: {5}}))
    assert got["h_object"] == "own 10 Text2Ids match match nomatch"
    assert got["h_object_int"] == "nomatch"


def test_valgrind_clean(built):
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind not available")
    exe, config, _, _ = built
    rc, out, err = _run(exe, config, "loop", "100",
                        prefix=("valgrind", "--leak-check=full", "--error-exitcode=3",
                                "--errors-for-leak-kinds=definite"))
    assert rc == 0, err[-6000:]
    assert "loop: ok" in out
    assert "ERROR SUMMARY: 0 errors" in err, err[-6000:]
    assert "definitely lost: 0 bytes" in err or "All heap blocks were freed" in err, err[-6000:]
