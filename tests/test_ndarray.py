"""matx_nb.NDArray: compiled code against numpy (values, dtypes, errors), and
zero-copy exchange with numpy and torch through DLPack (same data pointer)."""
import itertools
from typing import Any, List, Tuple

import numpy as np
import pytest

import matx_nb
from matx_nb import NDArray

try:
    import torch  # noqa: F811
except ImportError:  # pragma: no cover
    torch = None


# ---- compiled functions under test -----------------------------------------------
def ident(a: NDArray) -> NDArray:
    return a


def build2(xs: List[List[int]], dtype: str) -> NDArray:
    return matx_nb.NDArray(xs, None, dtype)


def build_flat(xs: List[float], shape: List[int]) -> NDArray:
    return matx_nb.NDArray(xs, shape)


def build_default(xs: List[int]) -> NDArray:
    return matx_nb.NDArray(xs)


def describe(a: NDArray) -> Tuple[List[int], str, int, int, List[int], bool]:
    return a.shape(), a.dtype(), a.ndim(), a.size(), a.strides(), a.is_contiguous()


def reshape(a: NDArray, shape: List[int]) -> NDArray:
    return a.reshape(shape)


def tolist(a: NDArray) -> Any:
    return a.tolist()


def get1(a: NDArray, i: int) -> Any:
    return a.get(i)


def getn(a: NDArray, idx: List[int]) -> Any:
    return a.get(idx)


def set_item(a: NDArray, idx: List[int], v: float) -> None:
    a.set(idx, v)


def astype(a: NDArray, dtype: str) -> NDArray:
    return a.astype(dtype)


def add(a: NDArray, b: NDArray) -> NDArray:
    return a.add(b)


def sub(a: NDArray, b: NDArray) -> NDArray:
    return a.sub(b)


def mul(a: NDArray, b: NDArray) -> NDArray:
    return a.mul(b)


def div(a: NDArray, b: NDArray) -> NDArray:
    return a.truediv(b)


def add_int(a: NDArray, k: int) -> NDArray:
    return a.add(k)


def mul_float(a: NDArray, k: float) -> NDArray:
    return a.mul(k)


@pytest.fixture(scope="module")
def c():
    names = ["ident", "build2", "build_flat", "build_default", "describe", "reshape", "tolist", "get1", "getn",
             "set_item", "astype", "add", "sub", "mul", "div", "add_int", "mul_float"]
    return {n: matx_nb.script(globals()[n]) for n in names}


def same(nd, ref: np.ndarray):
    assert isinstance(nd, NDArray)
    got = nd.numpy()
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    assert got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)


# ---- construction ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["int8", "int32", "int64", "uint8", "float32", "float64", "bool"])
def test_construct_dtypes(c, dtype):
    xs = [[1, 0, 3], [4, 5, 0]]
    same(c["build2"](xs, dtype), np.array(xs, dtype=dtype))
    same(NDArray(xs, None, dtype), np.array(xs, dtype=dtype))  # the Python class agrees


def test_construct_shape_and_default_dtype(c):
    same(c["build_flat"]([1.5, 2.0, 3.25, 4.0, 5.0, 6.0], [3, 2]), np.array([1.5, 2, 3.25, 4, 5, 6]).reshape(3, 2))
    same(c["build_flat"]([1.5, 2.0, 3.25, 4.0], [-1, 2]), np.array([1.5, 2, 3.25, 4]).reshape(-1, 2))
    same(c["build_default"]([7, 8, 9]), np.array([7, 8, 9]))
    same(c["build2"]([[]], "int64"), np.array([[]], dtype=np.int64))


def test_construct_errors(c):
    with pytest.raises(ValueError, match="inhomogeneous"):
        c["build2"]([[1, 2], [3]], "int32")
    with pytest.raises(ValueError, match="cannot reshape array of size 3 into shape"):
        c["build_flat"]([1.0, 2.0, 3.0], [2, 2])
    with pytest.raises(TypeError, match="data type 'int12' not understood"):
        c["build2"]([[1]], "int12")


# ---- metadata, layout, indexing --------------------------------------------------
def test_describe_matches_numpy(c):
    for a in (np.zeros((2, 3, 4), np.float32), np.arange(10, dtype=np.int16), np.arange(12).reshape(3, 4).T,
              np.ones((), np.float64)):
        shape, dtype, ndim, size, strides, contig = c["describe"](a)
        assert shape == list(a.shape) and dtype == str(a.dtype) and ndim == a.ndim and size == a.size
        assert strides == list(a.strides) and contig == a.flags.c_contiguous


def test_reshape_is_a_view(c):
    a = np.arange(12, dtype=np.int32)
    r = c["reshape"](a, [3, -1])
    same(r, a.reshape(3, -1))
    assert r.numpy().ctypes.data == a.ctypes.data  # no copy
    t = np.arange(6).reshape(2, 3).T  # not contiguous: copied, like numpy
    same(c["reshape"](t, [6]), t.reshape(6))
    with pytest.raises(ValueError, match="can only specify one unknown dimension"):
        c["reshape"](a, [-1, -1])


def test_tolist_and_get_match_numpy(c):
    rng = np.random.default_rng(0)
    for a in (rng.integers(-50, 50, (3, 4)).astype(np.int32), rng.random((2, 3)).astype(np.float32),
              rng.random((4, 3)).T, np.array([True, False])):
        assert c["tolist"](a) == a.tolist()
        for i in range(-a.shape[0], a.shape[0]):
            g = c["get1"](a, i)
            if a.ndim == 1:
                assert g == a[i].item() and type(g) is type(a[i].item())
            else:
                same(g, a[i])
        idx = [s - 1 for s in a.shape]
        assert c["getn"](a, idx) == a[tuple(idx)].item()
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        c["get1"](np.zeros(3), 3)
    with pytest.raises(IndexError, match="too many indices for array"):
        c["getn"](np.zeros(3), [0, 0])


def test_set_writes_the_callers_memory(c):
    a = np.zeros((2, 2), np.float32)
    c["set_item"](a, [1, 0], 2.5)
    assert a[1, 0] == 2.5
    b = np.zeros(3, np.int64)
    c["set_item"](b, [-1], 7.9)  # truncated toward zero, as numpy
    assert b.tolist() == [0, 0, 7]


@pytest.mark.parametrize("src,dst", [("float64", "int32"), ("int64", "float32"), ("int32", "uint8"), ("float32", "bool")])
def test_astype(c, src, dst):
    a = np.array([[-3.7, 0.0, 2.5], [300.0, 1.0, -1.0]]).astype(src)
    same(c["astype"](a, dst), a.astype(dst))


# ---- arithmetic: numpy's broadcasting and promotion ---------------------------------------
_DTYPES = ["int8", "int32", "int64", "uint8", "uint32", "float32", "float64"]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_arith_promotion_matches_numpy(c, op):
    ref = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}[op]
    rng = np.random.default_rng(1)
    for da, db in itertools.product(_DTYPES, repeat=2):
        a = rng.integers(1, 9, (2, 3)).astype(da)
        b = rng.integers(1, 9, (3,)).astype(db)  # broadcast over rows
        got, want = c[op](a, b).numpy(), ref(a, b)
        assert got.dtype == want.dtype, (op, da, db, got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_arith_broadcasting_and_errors(c):
    a = np.arange(6, dtype=np.float64).reshape(2, 1, 3)
    b = np.arange(4, dtype=np.float64).reshape(4, 1)
    same(c["add"](a, b), a + b)
    t = np.arange(12, dtype=np.int64).reshape(3, 4).T  # strided operand
    same(c["mul"](t, t), t * t)
    same(c["add"](np.array([True, False]), np.array([True, True])), np.array([True, False]) + np.array([True, True]))
    with pytest.raises(ValueError, match=r"operands could not be broadcast together with shapes \(2,\) \(3,\)"):
        c["add"](np.zeros(2), np.zeros(3))


@pytest.mark.parametrize("dtype", ["int8", "int32", "float32", "float64"])
def test_scalar_operands_follow_nep50(c, dtype):
    a = np.array([1, 2, 3], dtype=dtype)
    same(c["add_int"](a, 5), a + 5)
    same(c["mul_float"](a, 0.5), a * 0.5)


def test_integer_arithmetic_wraps_like_numpy(c):
    a = np.array([120, -120], dtype=np.int8)
    same(c["add_int"](a, 10), a + np.int8(10))


# ---- DLPack exchange: zero copy both ways ----------------------------------------------------
def test_numpy_round_trip_shares_memory(c):
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    r = c["ident"](a)
    assert isinstance(r, NDArray)
    assert r.numpy().ctypes.data == a.ctypes.data
    r.numpy()[0, 0] = 42  # one buffer
    assert a[0, 0] == 42
    assert r.numpy().flags.writeable


def test_non_contiguous_numpy_view_is_shared(c):
    base = np.arange(20, dtype=np.int64).reshape(4, 5)
    v = base[::2, 1:4]
    r = c["ident"](v)
    assert r.numpy().ctypes.data == v.ctypes.data and r.numpy().strides == v.strides
    assert c["tolist"](v) == v.tolist()


def test_readonly_numpy_is_accepted_by_copy(c):
    a = np.arange(3)
    a.flags.writeable = False  # numpy refuses to export it through DLPack
    assert c["tolist"](a) == [0, 1, 2]


def test_matx_ndarray_in_and_out(c):
    nd = NDArray([[1, 2], [3, 4]], None, "int32")
    r = c["ident"](nd)
    assert r.numpy().ctypes.data == nd.numpy().ctypes.data
    assert r == nd


def test_wrong_argument_type(c):
    with pytest.raises(TypeError, match=r"ident\(\) argument 'a' must be NDArray"):
        c["ident"]([1, 2, 3])


def test_results_outlive_the_inputs(c):
    import gc
    r = c["add"](np.ones(1000), np.ones(1000))
    gc.collect()
    assert r.numpy().sum() == 2000.0


@pytest.mark.skipif(torch is None, reason="torch not installed")
def test_torch_round_trip_shares_memory(c):
    t = torch.arange(8, dtype=torch.int32).reshape(2, 4)
    r = c["ident"](t)
    assert r.torch().data_ptr() == t.data_ptr()
    assert r.numpy().ctypes.data == t.data_ptr()
    assert r.torch().dtype == torch.int32 and list(r.torch().shape) == [2, 4]
    made = c["build2"]([[1, 2], [3, 4]], "int64")
    tt = made.torch()
    assert tt.data_ptr() == made.numpy().ctypes.data
    tt[0, 0] = 9
    assert made.numpy()[0, 0] == 9
    g = torch.ones(3, requires_grad=True)  # detached on the way in
    assert c["tolist"](g) == [1.0, 1.0, 1.0]


def test_python_class_methods_match_compiled(c):
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    nd = NDArray(a)
    assert nd.shape() == c["describe"](a)[0] and nd.dtype() == "int32"
    assert nd.tolist() == c["tolist"](a)
    assert nd.add(np.ones(3, np.int32)) == c["add"](a, np.ones(3, np.int32))
    assert nd.reshape([3, 2]) == c["reshape"](a, [3, 2])


# ---- numpy-style syntax: attributes, a[i], a[i, j], slices, a[i] = v, len, for ------------
# One compiled class holds these functions (one g++ run for all of them).
class Syntax:
    def __init__(self) -> None:
        self.unused: int = 0

    def attrs(self, a: NDArray) -> Tuple[List[int], str, int, int, List[int]]:
        return a.shape, a.dtype, a.ndim, a.size, a.strides

    def both_spellings(self, a: NDArray) -> bool:
        return a.shape == a.shape() and a.dtype == a.dtype() and a.ndim == a.ndim() and a.size == a.size()

    def item1(self, a: NDArray, i: int) -> Any:
        return a[i]

    def item2(self, a: NDArray, i: int, j: int) -> Any:
        return a[i, j]

    def item_any(self, a: NDArray, i: Any) -> Any:
        return a[i]

    def slice2(self, a: NDArray, lo: int, hi: int) -> NDArray:
        return a[lo:hi]

    def slice3(self, a: NDArray, lo: int, hi: int, step: int) -> NDArray:
        return a[lo:hi:step]

    def open_slices(self, a: NDArray) -> List[NDArray]:
        return [a[:2], a[1:], a[::-1], a[::2], a[:]]

    def column(self, a: NDArray, j: int) -> NDArray:
        return a[:, j]

    def mixed(self, a: NDArray, i: int) -> NDArray:
        return a[i, ::-1]

    def markers(self, a: NDArray) -> List[NDArray]:
        return [a[..., -1], a[None], a[:, None], a[0, ...]]

    def set1(self, a: NDArray, i: int, v: float) -> None:
        a[i] = v

    def set1_int(self, a: NDArray, i: int, v: int) -> None:
        a[i] = v

    def set1_bool(self, a: NDArray, i: int, v: bool) -> None:
        a[i] = v

    def set2(self, a: NDArray, i: int, j: int, v: float) -> None:
        a[i, j] = v

    def set_slice(self, a: NDArray, lo: int, hi: int, v: int) -> None:
        a[lo:hi] = v

    def set_list(self, a: NDArray, i: int, xs: List[float]) -> None:
        a[i] = xs

    def set_array(self, a: NDArray, lo: int, b: NDArray) -> None:
        a[lo:] = b

    def set_any(self, a: NDArray, i: int, v: Any) -> None:
        a[i] = v

    def shift(self, a: NDArray) -> None:
        a[1:] = a[:-1]  # overlapping: numpy copies the source first

    def aug_item(self, a: NDArray, i: int, v: float) -> None:
        a[i] += v

    def aug_slice(self, a: NDArray, v: float) -> None:
        a[0:2] += v

    def aug_whole(self, a: NDArray, v: int) -> None:
        a *= v

    def aug_any(self, a: NDArray, b: NDArray) -> None:
        for i in range(len(a)):
            a[i] -= b[i]

    def length(self, a: NDArray) -> int:
        return len(a)

    def rows(self, a: NDArray) -> List[Any]:
        return [x for x in a]

    def total(self, a: NDArray) -> float:
        s = 0.0
        for row in a:
            for x in row:
                s += x
        return s

    def row_then_item(self, a: NDArray, i: int, j: int) -> Any:
        r = a[i]
        return r[j] * 2 + len(r)

    def listed(self, a: NDArray) -> List[Any]:
        return list(a)

    def reshapes(self, a: NDArray) -> List[List[int]]:
        t = (3, 2)
        return [a.reshape(2, 3).shape, a.reshape((3, 2)).shape, a.reshape([6]).shape, a.reshape(-1, 1).shape,
                a.reshape(6).shape, a.reshape(t).shape]

    def arith(self, a: NDArray, b: NDArray) -> List[NDArray]:
        return [a + b, a - 1, 2 * a, 1 - a, a / 2, 3 / b, a[1:] * b[1:]]

    def any_arith(self, a: NDArray) -> Any:
        return a[0] + 1  # a row (an Any holding an NDArray) + 1

    def truthy(self, a: NDArray) -> bool:
        if a:
            return True
        return False


@pytest.fixture(scope="module")
def s():
    return matx_nb.script(Syntax)()


def outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # compared by class
        return "raise", e


def same_value(got, want):
    """got: what compiled code returned; want: numpy's result for the same expression."""
    if isinstance(want, np.ndarray):
        same(got, want)
    else:
        want = want.item() if isinstance(want, np.generic) else want
        assert got == want and type(got) is type(want), (got, want)


def agree(got, want):
    """Compiled and numpy outcomes: the same value, or the same builtin exception
    class (numpy's own classes, e.g. UFuncTypeError, count as their builtin base)."""
    if want[0] == "raise":
        assert got[0] == "raise", (got, want)
        base = next(k for k in type(want[1]).__mro__ if k.__module__ == "builtins")
        assert type(got[1]) is base, (got, want)
    else:
        assert got[0] == "ok", (got, want)
        same_value(got[1], want[1])


_ARRAYS = [np.arange(12, dtype=np.int32).reshape(3, 4), np.linspace(0, 1, 6, dtype=np.float32),
           np.arange(24, dtype=np.float64).reshape(2, 3, 4)[:, ::2], np.array([True, False, True]),
           np.array(7, dtype=np.uint8), np.zeros((0, 3), np.int64)]


@pytest.mark.parametrize("a", _ARRAYS, ids=lambda a: f"{a.dtype}{list(a.shape)}")
def test_attributes_match_numpy(s, a):
    shape, dtype, ndim, size, strides = s.attrs(a)
    assert shape == list(a.shape) and dtype == str(a.dtype) and ndim == a.ndim and size == a.size
    assert strides == list(a.strides)
    assert s.both_spellings(a)
    nd = NDArray(a)  # the Python class: the same values, both spellings
    assert nd.shape == shape == nd.shape() and nd.dtype == dtype == nd.dtype() and nd.ndim == ndim == nd.ndim()
    assert nd.size == size == nd.size() and nd.strides == strides


from hypothesis import given, settings, strategies as st  # noqa: E402

SETTINGS = settings(max_examples=60, deadline=None)
_shapes = st.lists(st.integers(0, 4), min_size=1, max_size=3)
_dtypes = st.sampled_from(["int8", "int64", "uint16", "float32", "float64", "bool"])


def _array(shape, dtype):
    return (np.arange(int(np.prod(shape))) * 3 - 5).reshape(shape).astype(dtype)


@SETTINGS
@given(_shapes, _dtypes, st.integers(-6, 6))
def test_index_matches_numpy(s, shape, dtype, i):
    a = _array(shape, dtype)
    got, want = outcome(s.item1, a, i), outcome(lambda: a[i])
    agree(got, want)
    if got[0] == "ok" and a.ndim > 1 and a[i].size:
        assert got[1].numpy().ctypes.data == a[i].ctypes.data  # a view, not a copy


@SETTINGS
@given(_shapes, _dtypes, st.integers(-5, 5), st.integers(-5, 5))
def test_index2_matches_numpy(s, shape, dtype, i, j):
    a = _array(shape, dtype)
    agree(outcome(s.item2, a, i, j), outcome(lambda: a[i, j]))


@SETTINGS
@given(_shapes, st.integers(-7, 7), st.integers(-7, 7), st.integers(-3, 3))
def test_slices_are_views_like_numpy(s, shape, lo, hi, step):
    a = _array(shape, "int32")
    got, want = outcome(s.slice3, a, lo, hi, step), outcome(lambda: a[lo:hi:step])
    agree(got, want)
    if got[0] == "ok":
        agree(outcome(s.slice2, a, lo, hi), outcome(lambda: a[lo:hi]))
        v = got[1].numpy()
        assert v.strides == want[1].strides or v.size == 0
        if v.size:
            assert v.ctypes.data == want[1].ctypes.data
            v.flat[0] = 99  # same memory as the caller's array
            assert want[1].flat[0] == 99


def test_slices_columns_and_markers(s):
    a = np.arange(12).reshape(3, 4)
    for got, want in zip(s.open_slices(a), [a[:2], a[1:], a[::-1], a[::2], a[:]]):
        same(got, want)
    same(s.column(a, -1), a[:, -1])
    same(s.mixed(a, 1), a[1, ::-1])
    for got, want in zip(s.markers(a), [a[..., -1], a[None], a[:, None], a[0, ...]]):
        same(got, want)
    agree(outcome(s.column, a, 4), outcome(lambda: a[:, 4]))
    agree(outcome(s.mixed, np.arange(3), 0), outcome(lambda: np.arange(3)[0, ::-1]))
    assert s.item_any(a, 1).tolist() == a[1].tolist() and s.item_any(np.arange(3), -1) == 2
    agree(outcome(s.item_any, a, "x"), outcome(lambda: a["x"]))
    agree(outcome(s.item1, np.array(5), 0), outcome(lambda: np.array(5)[0]))


_VALUES = [3, -1, 300, 2.7, -2.7, 1e20, float("nan"), float("inf"), True]


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "uint64", "int64", "float32", "float64", "bool"])
def test_item_assignment_casts_like_numpy(s, dtype):
    for v in _VALUES:
        a, ref = np.zeros(3, dtype), np.zeros(3, dtype)
        fn = s.set1_bool if isinstance(v, bool) else s.set1_int if isinstance(v, int) else s.set1

        def numpy_set():
            ref[1] = v
        agree(outcome(fn, a, 1, v), outcome(numpy_set))
        np.testing.assert_array_equal(a, ref)  # nothing written when numpy raises either


def test_item_assignment_forms(s):
    a, ref = np.zeros((3, 4)), np.zeros((3, 4))
    s.set2(a, -1, 2, 1.5)
    ref[-1, 2] = 1.5
    s.set1(a, 0, 7.0)  # a row: broadcast
    ref[0] = 7.0
    s.set_list(a, 1, [1.0, 2.0, 3.0, 4.0])
    ref[1] = [1.0, 2.0, 3.0, 4.0]
    np.testing.assert_array_equal(a, ref)
    agree(outcome(s.set_list, a, 1, [1.0, 2.0]), outcome(lambda: ref.__setitem__(1, [1.0, 2.0])))
    agree(outcome(s.set2, a, 3, 0, 1.0), outcome(lambda: ref.__setitem__((3, 0), 1.0)))
    b, rb = np.arange(6, dtype=np.int16), np.arange(6, dtype=np.int16)
    s.set_slice(b, 1, 4, -9)
    rb[1:4] = -9
    s.set_array(b, 4, np.array([2.9, -2.9]))  # float array into int16: numpy's astype
    rb[4:] = np.array([2.9, -2.9])
    np.testing.assert_array_equal(b, rb)
    agree(outcome(s.set_array, b, 3, np.ones(2)), outcome(lambda: rb.__setitem__(slice(3, None), np.ones(2))))
    c, rc = np.arange(5), np.arange(5)
    s.shift(c)
    rc[1:] = rc[:-1]
    np.testing.assert_array_equal(c, rc)
    d = np.zeros(3, np.int32)
    s.set_any(d, 0, 4)
    s.set_any(d, 1, 2.5)
    s.set_any(d, 2, [7])
    assert d.tolist() == [4, 2, 7]
    agree(outcome(s.set_any, d, 0, None), outcome(lambda: np.zeros(3, np.int32).__setitem__(0, None)))


def test_augmented_assignment_like_numpy(s):
    a, ref = np.arange(4), np.arange(4)
    s.aug_item(a, 0, 1.5)  # an element takes the float result cast back (numpy: 1.5 -> 1)
    ref[0] += 1.5
    np.testing.assert_array_equal(a, ref)
    agree(outcome(s.aug_slice, a, 1.5), outcome(lambda: ref.__setitem__(slice(0, 2), ref[0:2].__iadd__(1.5))))
    f, rf = np.arange(4.0), np.arange(4.0)
    s.aug_slice(f, 0.5)
    rf[0:2] += 0.5
    np.testing.assert_array_equal(f, rf)
    w = np.array([100, 120], np.int8)
    s.aug_whole(w, 2)  # in place, wrapping in int8 as numpy does
    assert w.tolist() == (np.array([100, 120], np.int8) * np.int8(2)).tolist()
    agree(outcome(s.aug_whole, w, 300), outcome(lambda: w.__imul__(300)))
    x, y = np.array([5.0, 6.0]), np.array([1, 2])
    s.aug_any(x, y)
    assert x.tolist() == [4.0, 4.0]


def test_len_and_iteration(s):
    a = np.arange(6).reshape(2, 3)
    assert s.length(a) == 2 and s.length(np.zeros((0, 2))) == 0
    agree(outcome(s.length, np.array(1.5)), outcome(lambda: len(np.array(1.5))))
    rows = s.rows(a)
    assert [r.tolist() for r in rows] == a.tolist()
    assert s.rows(np.array([1.5, 2.5])) == [1.5, 2.5] and s.listed(np.arange(3)) == [0, 1, 2]
    agree(outcome(s.rows, np.array(3)), outcome(lambda: [x for x in np.array(3)]))
    assert s.total(np.arange(6, dtype=np.float32).reshape(3, 2)) == 15.0
    assert s.row_then_item(a, 1, -1) == a[1][-1] * 2 + 3
    agree(outcome(s.row_then_item, a, 1, 3), outcome(lambda: a[1][3]))
    assert NDArray(a).shape == [2, 3] and [r.tolist() for r in NDArray(a)] == a.tolist()  # the Python class


def test_reshape_spellings(s):
    a = np.arange(6)
    assert s.reshapes(a) == [[2, 3], [3, 2], [6], [6, 1], [6], [3, 2]]
    nd = NDArray(a)
    assert nd.reshape(2, 3).shape == nd.reshape((2, 3)).shape == nd.reshape([2, 3]).shape == [2, 3]


def test_arithmetic_operators_match_numpy(s):
    a, b = np.arange(1, 5, dtype=np.int32), np.array([0.5, 1.0, 2.0, 4.0], np.float32)
    want = [a + b, a - 1, 2 * a, 1 - a, a / 2, 3 / b, a[1:] * b[1:]]
    for got, w in zip(s.arith(a, b), want):
        same(got, w)
    same(s.any_arith(np.arange(6).reshape(2, 3)), np.arange(3) + 1)
    nd = NDArray(a)
    assert (1 - nd) == NDArray(1 - a) and (3 / nd) == NDArray(3 / a)


def test_truth_value_like_numpy(s):
    for a in (np.array([3]), np.array([[0.0]]), np.array(0), np.zeros(0), np.arange(2)):
        agree(outcome(s.truthy, a), outcome(bool, a))
        agree(outcome(bool, NDArray(a)), outcome(bool, a))


# An array that says its memory is on cuda:0 (DLPack, no GPU needed): compiled
# code must raise a Python exception where it would read or write the data.
class _FakeCuda:
    def __init__(self, a):
        import ctypes

        class Dev(ctypes.Structure):
            _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]

        class DType(ctypes.Structure):
            _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]

        class Tensor(ctypes.Structure):
            _fields_ = [("data", ctypes.c_void_p), ("device", Dev), ("ndim", ctypes.c_int32), ("dtype", DType),
                        ("shape", ctypes.POINTER(ctypes.c_int64)), ("strides", ctypes.POINTER(ctypes.c_int64)),
                        ("byte_offset", ctypes.c_uint64)]

        class Managed(ctypes.Structure):
            _fields_ = [("dl_tensor", Tensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]

        self.ctypes = ctypes
        self.a = np.ascontiguousarray(a, dtype=np.int64)  # host memory: a wrong read would not crash the test
        self.shape = (ctypes.c_int64 * a.ndim)(*a.shape)
        self.t = Managed()  # no deleter: this object owns everything
        self.t.dl_tensor.data = self.a.ctypes.data
        self.t.dl_tensor.device = Dev(2, 0)
        self.t.dl_tensor.ndim = a.ndim
        self.t.dl_tensor.dtype = DType(0, 64, 1)
        self.t.dl_tensor.shape = self.shape

    def __dlpack__(self, *args, **kwargs):
        new = self.ctypes.pythonapi.PyCapsule_New
        new.restype = self.ctypes.py_object
        new.argtypes = [self.ctypes.c_void_p, self.ctypes.c_char_p, self.ctypes.c_void_p]
        return new(self.ctypes.addressof(self.t), b"dltensor", None)

    def __dlpack_device__(self):
        return (2, 0)


def test_device_arrays_raise_instead_of_reading(s, c):
    gpu2, gpu1 = _FakeCuda(np.arange(6).reshape(2, 3)), _FakeCuda(np.arange(3))
    assert s.attrs(gpu2)[:4] == ([2, 3], "int64", 2, 6) and s.length(gpu2) == 2  # metadata only
    for fn, args in ((s.item1, (gpu1, 0)), (s.item2, (gpu2, 0, 0)), (s.set1, (gpu1, 0, 1.0)),
                     (s.set2, (gpu2, 1, 1, 2.0)), (s.rows, (gpu1,)), (s.total, (gpu2,)),
                     (s.aug_item, (gpu1, 0, 1.0)), (c["tolist"], (gpu2,)), (s.row_then_item, (gpu2, 0, 0))):
        with pytest.raises(TypeError, match="needs CPU memory, the array is on cuda:0"):
            fn(*args)
    assert gpu2.a.tolist() == [[0, 1, 2], [3, 4, 5]]  # nothing written


def test_compile_errors_name_the_construct():
    def bool_index(a: NDArray, f: bool) -> Any:
        return a[f]

    def float_index(a: NDArray, x: float) -> Any:
        return a[x]

    def store_str(a: NDArray) -> None:
        a[0] = "x"

    def floordiv_item(a: NDArray) -> None:
        a[0] //= 2

    def no_attr(a: NDArray) -> Any:
        return a.T

    def list_tuple_slice(xs: List[int]) -> Any:
        return xs[0, 1:]

    def compare(a: NDArray, b: NDArray) -> bool:
        return a == b

    def sort(a: NDArray) -> Any:
        return sorted(a)

    for fn, msg in ((bool_index, "boolean indexing of an NDArray is not supported"),
                    (float_index, "NDArray indices must be integers or slices, not float"),
                    (store_str, "cannot store a str in an NDArray"),
                    (floordiv_item, "'//=' on NDArray items is not supported"),
                    (no_attr, "'NDArray' object has no attribute 'T'"),
                    (list_tuple_slice, "indices cannot be tuples with slices"),
                    (compare, "'==' on NDArrays \\(numpy compares elementwise\\) is not supported yet"),
                    (sort, "sorted\\(\\) of an NDArray is not supported yet")):
        with pytest.raises(matx_nb.CompileError, match=msg):
            matx_nb.script(fn)
