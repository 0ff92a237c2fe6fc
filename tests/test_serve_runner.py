"""The native runner behind matx-serve's instances (LoadedPipeline.async_runner,
serve/model._Runner): runs on a thread that never takes the GIL, finished runs
signalled on an eventfd. The same outputs and the same errors as a run in the
caller's thread, in any order of completion, through merged batches, arrays
borrowed from numpy, and shutdown with work still queued."""
import asyncio
import select

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import matx_nb
import serve_ops
from matx_nb.serve import model as served


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    return serve_ops.save_all(tmp_path_factory.mktemp("serve_runner"))


def _outcome(fn):
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - the class and message are compared
        return type(e).__name__, str(e)


def _same(a, b):
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "numpy"):
        return np.array_equal(a.numpy(), b.numpy())
    return a == b


def _drain(runner, n):
    """Waits on the runner's eventfd until n runs have finished; their ids
    (ready() lists the finished runs not taken yet)."""
    ids = runner.ready()
    while len(ids) < n:
        readable, _, _ = select.select([runner.fd], [], [], 30)
        assert readable, "no run finished within 30 s"
        ids = runner.ready()
    return ids


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.integers(-3, 1000), max_size=20), min_size=1, max_size=12))
def test_runs_match_the_callers_thread(folders, batches):
    pipe = matx_nb.load(folders["checked"])
    runner = pipe.async_runner()
    try:
        ids = [runner.submit({"xs": xs}) for xs in batches]
        assert sorted(_drain(runner, len(ids))) == sorted(ids)
        for rid, xs in zip(ids, batches):
            want = _outcome(lambda: pipe.run({"xs": xs}))
            got = _outcome(lambda: runner.take(rid)[0])
            assert got[0] == want[0] and (got[1] == want[1] if got[0] != "ok" else _same(got[1], want[1])), \
                (xs, got, want)
    finally:
        runner.close()


def test_arrays_and_text(folders):
    pipe = matx_nb.load(folders["scale"])
    runner = pipe.async_runner()
    imgs = [np.random.default_rng(k).random((k + 1, 3, 4), dtype=np.float32) for k in range(6)]
    ids = [runner.submit({"images": matx_nb.NDArray(a)}) for a in imgs]
    del imgs[::2]  # the runs hold what they borrowed
    _drain(runner, len(ids))
    for k, rid in enumerate(ids):
        out, seconds = runner.take(rid)
        a = np.random.default_rng(k).random((k + 1, 3, 4), dtype=np.float32)
        assert np.allclose(out.numpy(), a * 2.0 + 1.0) and seconds >= 0
    runner.close()

    text = matx_nb.load(folders["text"])
    runner = text.async_runner()
    feeds = {text.input_names[0]: [t.encode() for t in serve_ops.TEXTS]}
    rid = runner.submit(feeds)
    _drain(runner, 1)
    assert _same(runner.take(rid)[0], text.run(feeds))
    runner.close()


def test_bad_input_is_refused_at_submit_and_unknown_ids_raise(folders):
    runner = matx_nb.load(folders["checked"]).async_runner()
    with pytest.raises(TypeError, match="pipeline input 'xs'"):
        runner.submit({"xs": [object()]})
    with pytest.raises(IndexError):
        runner.take(12345)
    rid = runner.submit({"xs": [1]})
    _drain(runner, 1)
    runner.take(rid)
    with pytest.raises(IndexError):  # once only
        runner.take(rid)
    runner.close()
    with pytest.raises(RuntimeError, match="closed"):
        runner.submit({"xs": [1]})


def test_close_finishes_queued_runs(folders):
    runner = matx_nb.load(folders["spin"]).async_runner()
    ids = [runner.submit({"xs": [0, 1]}) for _ in range(3)]
    runner.close()  # waits for the three
    assert runner.ready() == ids
    for rid in ids:
        assert list(runner.take(rid)[0]) == list(matx_nb.load(folders["spin"]).run({"xs": [0, 1]}))


def test_served_model_offloads_merged_batches(folders, monkeypatch):
    """Through ServedModel: batches go to the native thread (their expected time
    is set long), merge and split back, and a failing request in a merged batch
    fails alone."""
    used = []
    real_run = served._Runner.run

    async def counting(self, feeds):
        used.append(len(next(iter(feeds.values()))))
        return await real_run(self, feeds)

    monkeypatch.setattr(served._Runner, "run", counting)

    async def main():
        m = served.ServedModel("checked", folders["checked"], max_batch_size=64, max_queue_delay_us=20000)
        m.batch_dim0 = True
        m.max_batch_size = 64
        await m.start()
        try:
            m._row_seconds = 1.0  # every batch looks long: it goes to the native thread
            inputs = [[k, k + 1] for k in range(10)] + [[-1, 5]]
            outs = await asyncio.gather(*(m.infer(*m.feeds({"xs": np.array(x, dtype=np.int64)})) for x in inputs),
                                        return_exceptions=True)
        finally:
            await m.stop()
        return inputs, outs

    inputs, outs = asyncio.run(main())
    assert used and max(used) > 2, used  # merged batches ran natively
    for x, out in zip(inputs, outs):
        if min(x) < 0:
            assert isinstance(out, ValueError) and "negative input -1" in str(out)
        else:
            assert not isinstance(out, Exception), out
            assert list(next(iter(out.values()))) == [v * 10 for v in x]
