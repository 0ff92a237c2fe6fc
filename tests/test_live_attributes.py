"""A container attribute of a compiled instance read from Python is a live
handle on the instance's own container (matx_nb.List/Dict/Set), as a Python
attribute is the object itself: changes through it reach compiled methods,
and the same script of operations gives the same results on the Python class."""
import pickle
from typing import Dict, List, Set

import pytest

import matx_nb


class Bag:
    def __init__(self) -> None:
        self.d: Dict[str, int] = {"a": 1}
        self.xs: List[int] = [3, 1, 2]
        self.s: Set[str] = {"x"}

    def total(self) -> int:
        return sum(self.d.values()) + sum(self.xs) + len(self.s)


SCRIPT = [
    lambda b: b.d.__setitem__("b", 2),
    lambda b: b.xs.append(9),
    lambda b: b.s.add("y"),
    lambda b: b.d.update({"c": 5}),
    lambda b: b.d.pop("a"),
    lambda b: b.d.setdefault("z", 7),
    lambda b: b.xs.extend([4, 4]),
    lambda b: b.xs.sort(reverse=True),
    lambda b: b.xs.insert(1, 8),
    lambda b: b.xs.remove(4),
    lambda b: b.xs.pop(),
    lambda b: b.xs.__setitem__(0, 6),
    lambda b: b.xs.__delitem__(-1),
    lambda b: b.xs.__setitem__(slice(0, 2), [1, 1, 1]),
    lambda b: b.s.discard("x"),
    lambda b: b.s.update({"p", "q"}),
    lambda b: ("b" in b.d, 4 in b.xs, "q" in b.s, len(b.d), len(b.xs), len(b.s)),
    lambda b: (sorted(b.d.items()), list(b.xs), sorted(b.s), b.xs[1:3], b.d.get("nope", -1)),
    lambda b: b.total(),
]


def outcome(f, b):
    try:
        r = f(b)
        return "value", r if not hasattr(r, "copy") else r.copy()
    except Exception as e:  # noqa: BLE001 - compared by class
        return "raises", type(e)


@pytest.fixture(scope="module")
def Compiled():
    return matx_nb.script(Bag)


def test_a_script_of_operations_matches_python(Compiled):
    py, c = Bag(), Compiled()
    for i, step in enumerate(SCRIPT):
        assert outcome(step, c) == outcome(step, py), i
    assert c.total() == py.total()


def test_handles_share_the_instance_s_container(Compiled):
    c = Compiled()
    d = c.d
    d["k"] = 10
    assert c.d["k"] == 10 and c.total() == Bag().total() + 10
    assert type(c.d).__name__ == "Dict" and type(c.xs).__name__ == "List" and type(c.s).__name__ == "Set"
    c.d = {"new": 1}  # rebinding the attribute: the old handle keeps the old dict, as in Python
    d["k"] = 11
    assert dict(c.d) == {"new": 1}


def test_errors_are_python_s(Compiled):
    c = Compiled()
    with pytest.raises(KeyError, match="'missing'"):
        c.d["missing"]
    with pytest.raises(KeyError):
        del c.d["missing"]
    with pytest.raises(IndexError):
        c.xs[10]
    with pytest.raises(TypeError):
        c.d[1] = 2  # Dict[str, int]: an int key cannot go in
    with pytest.raises(TypeError):
        c.xs.append("x")
    with pytest.raises(TypeError):
        hash(c.d)


def test_handles_compare_copy_and_pickle_as_plain_containers(Compiled):
    c = Compiled()
    assert c.d == {"a": 1} and c.xs == [3, 1, 2] and c.s == {"x"}
    assert pickle.loads(pickle.dumps(c.d)) == {"a": 1} and type(pickle.loads(pickle.dumps(c.xs))) is list
    assert c.xs.copy() == [3, 1, 2] and repr(c.d) == "{'a': 1}"
    obj = pickle.loads(pickle.dumps(c))
    assert obj.d == {"a": 1}
