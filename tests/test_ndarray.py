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
