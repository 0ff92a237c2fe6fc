"""Any valid Python identifier compiles, whatever C/C++ means by it: macros of the
C library and the compiler (INT_MAX, M_PI, __LINE__, unix...), C++ keywords and
the names the code generator makes itself (L0, S0, _mx_t1, h, args) are used as
locals, parameters, functions, classes, attributes and methods, and the compiled
code returns what CPython returns (issue 15). Names crossing the boundary
(parameters passed by keyword, attributes read from Python) keep their Python
spelling."""
import builtins
import keyword


import matx_nb
from difftest import load_source

MACROS = """L0 L1 S0 K0 INT_MAX INT_MIN M_PI M_E SIZE_MAX PATH_MAX BUFSIZ RAND_MAX HUGE_VAL
EXIT_SUCCESS EXIT_FAILURE __LINE__ __FILE__ __cplusplus __COUNTER__ __DATE__ __TIME__ __GNUC__
__STDC__ __x86_64__ MATX_NB_ABI_VERSION MATX_NB_RUNTIME_VERSION MX_FN_RELEASES_GIL NULL EOF errno
stdin stdout stderr assert unix linux i386 major minor offsetof alloca va_arg NAN INFINITY
INT64_MAX UINT64_MAX CHAR_BIT FLT_MAX DBL_EPSILON SEEK_SET EINTR SIGINT true false""".split()
CPP_WORDS = """auto bool char int long short double float signed unsigned void new delete this
template typename namespace using struct union virtual public private protected friend operator
static const volatile register extern inline goto switch case default do sizeof typedef enum
explicit export mutable throw catch nullptr constexpr decltype noexcept thread_local alignas
alignof static_assert char16_t char32_t wchar_t asm xor bitand bitor compl not_eq and_eq or_eq
xor_eq typeid dynamic_cast static_cast reinterpret_cast const_cast concept requires co_await
co_yield co_return main std mx""".split()
GENERATED = """h args result err self_ nogil a0 r p o v i g_origins k_funcs k_classes k_module
set_host _mx_t1 _mx_o1 gen_ keep_ new_ x__bound b_x v_x f_x C_x a_x m_x k_x s_x w_x
class_desc_X k_methods_X type_name py_repr incref get release self""".split()
UNICODE = ["é", "变量", "ñame"]

ALL = [n for n in dict.fromkeys(MACROS + CPP_WORDS + GENERATED + UNICODE)
       if n.isidentifier() and not keyword.iskeyword(n)]
# A class or function may not shadow what the annotations and calls below use.
DEFINABLE = [n for n in ALL if n not in dir(builtins) and n not in ("List", "Dict", "Optional", "self")]
# Classes and methods cost more to compile: the names of the issue and a sample of the others.
CORE = [n for n in ALL if n in MACROS[:40] or n in ("std", "mx", "auto", "this", "new", "delete",
                                                      "template", "namespace", "main", "true", "h", "args",
                                                      "result", "err", "_mx_t1", "x__bound", "b_x", "v_x",
                                                      "f_x", "C_x", "type_name", "é")]


def load(tmp_path, name, source):
    return load_source(tmp_path, name, source)


def names_as_locals(names):
    lines = ["def locals_(a: int) -> List[int]:", "    out: List[int] = []"]
    for k, n in enumerate(names):
        if k % 3 == 0:  # assigned on one branch only: the generated 'is bound' flag
            lines += [f"    if a > {k % 5}:", f"        {n} = a + {k}", "    try:",
                      f"        out.append({n})", "    except UnboundLocalError:", "        out.append(-1)"]
        elif k % 3 == 1:  # a loop variable, a comprehension variable, a lambda parameter
            lines += [f"    for {n} in range(a, a + 2):", f"        out.append({n} * {k})",
                      f"    out.extend([{n} + 1 for {n} in range({k % 4})])",
                      f"    fn{k}: Callable[[int], int] = lambda {n}: {n} + {k}", f"    out.append(fn{k}(a))"]
        else:  # a nested function, an except name
            lines += [f"    def {n}(q: int) -> int:", f"        return q * {k}", f"    out.append({n}(a))",
                      "    try:", "        raise ValueError('x')", f"    except ValueError as {n}_e:",
                      f"        out.append(len(str({n}_e)))"]
    lines.append("    return out")
    return "\n".join(lines) + "\n"


def names_as_params(names, per=20):
    """Functions taking the names as parameters (a few per function, under the
    host's argument limit), and an entry calling them by keyword."""
    out, calls = [], []
    for j in range(0, len(names), per):
        chunk = names[j:j + per]
        ps = ", ".join(f"{n}: int" for n in chunk)
        body = " + ".join(f"{n} * {k + 1}" for k, n in enumerate(chunk))
        out.append(f"def params_{j}({ps}, *, last: Optional[str] = None) -> int:\n    return {body}\n")
        kws = ", ".join(f"{n}=a + {k}" for k, n in enumerate(chunk))
        calls.append(f"params_{j}({kws})")
    out.append("def params_entry(a: int) -> List[int]:\n    return [" + ", ".join(calls) + "]\n")
    return "\n".join(out)


def names_as_functions(names):
    out = [f"def {n}(a: int) -> int:\n    return a * {k + 2}\n" for k, n in enumerate(names)]
    out.append("def functions_entry(a: int) -> List[int]:\n    return [" +
               ", ".join(f"{n}(a)" for n in names) + "]\n")
    return "\n".join(out)


def names_as_classes(names):
    out = [f"class {n}:\n    def __init__(self, x: int) -> None:\n        self.x: int = x + {k}\n"
           f"    def get(self) -> int:\n        return self.x\n" for k, n in enumerate(names)]
    out.append("def classes_entry(a: int) -> List[int]:\n    return [" +
               ", ".join(f"{n}(a).get()" for n in names) + "]\n")
    return "\n".join(out)


def names_as_attributes(names):
    public = [n for n in names if not n.startswith("__") or n.endswith("__")]  # no private-name mangling
    attrs = "\n".join(f"        self.{n}: int = x + {k}" for k, n in enumerate(public))
    reads = ", ".join(f"self.{n}" for n in public)
    return (f"class Members:\n    def __init__(self, x: int) -> None:\n{attrs}\n"
            f"    def read(self) -> List[int]:\n        return [{reads}]\n", public)


def names_as_method_only(names):
    """Methods named like C names on a class that has no attributes of those names."""
    methods = "\n".join(f"    def {n}(self, y: int) -> int:\n        return y * {k + 3}" for k, n in enumerate(names))
    calls = ", ".join(f"self.{n}(x)" for n in names)
    return (f"class Methods:\n    def __init__(self) -> None:\n        self.z: int = 0\n{methods}\n"
            f"    def call(self, x: int) -> List[int]:\n        return [{calls}]\n")


def test_names_as_locals(tmp_path):
    mod = load(tmp_path, "names_locals", names_as_locals(DEFINABLE))
    f = matx_nb.script(mod.locals_)
    for a in (0, 3, 7):
        assert f(a) == mod.locals_(a)


def test_names_as_parameters(tmp_path):
    mod = load(tmp_path, "names_params", names_as_params(ALL))
    assert matx_nb.script(mod.params_entry)(5) == mod.params_entry(5)
    # from Python by keyword: the parameter names keep their Python spelling
    first = matx_nb.script(mod.params_0)
    kws = {n: k for k, n in enumerate(ALL[:20])}
    assert first(**kws) == mod.params_0(**kws)


def test_names_as_functions(tmp_path):
    mod = load(tmp_path, "names_functions", names_as_functions(DEFINABLE))
    assert matx_nb.script(mod.functions_entry)(4) == mod.functions_entry(4)
    name = DEFINABLE[0]
    assert matx_nb.script(getattr(mod, name))(3) == getattr(mod, name)(3)


def test_names_as_classes(tmp_path):
    mod = load(tmp_path, "names_classes", names_as_classes([n for n in CORE if n in DEFINABLE]))
    assert matx_nb.script(mod.classes_entry)(4) == mod.classes_entry(4)
    for name in ("INT_MAX", "__LINE__", "L0"):
        assert matx_nb.script(getattr(mod, name))(2).get() == getattr(mod, name)(2).get()


def test_names_as_attributes_and_methods(tmp_path):
    src, public = names_as_attributes(CORE)
    mod = load(tmp_path, "names_members", src)
    C = matx_nb.script(mod.Members)
    c, py = C(6), mod.Members(6)
    assert c.read() == py.read()
    for n in public:  # attributes shown to Python under their Python names
        assert getattr(c, n) == getattr(py, n), n
    mod = load(tmp_path, "names_methods", names_as_method_only([n for n in CORE if n != "new"]))
    m, pm = matx_nb.script(mod.Methods)(), mod.Methods()
    assert m.call(3) == pm.call(3)
    assert m.INT_MAX(2) == pm.INT_MAX(2) and getattr(m, "__LINE__")(2) == getattr(pm, "__LINE__")(2)


def test_wrapper_names_do_not_collide(tmp_path):
    src = ("class A:\n    def __init__(self) -> None:\n        self.b_c: int = 1\n"
           "    def new(self) -> int:\n        return 2\n    def m(self) -> int:\n        return 3\n"
           "class A_b:\n    def __init__(self) -> None:\n        self.c: int = 4\n"
           "def A_m() -> int:\n    return 5\n"
           "def entry() -> List[int]:\n    a = A()\n    return [a.b_c, a.new(), a.m(), A_b().c, A_m()]\n")
    mod = load(tmp_path, "names_wrappers", src)
    assert matx_nb.script(mod.entry)() == [1, 2, 3, 4, 5]
