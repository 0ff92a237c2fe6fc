"""The seed's VisionPipeline: compiled as written, traced, saved, loaded, and run
by matx-run and by the C++ Session, with equal outputs."""
import base64
import json
import subprocess
import sys

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")
pytest.importorskip("matx_nb.vision")
import matx_nb  # noqa: E402
import vision_seed  # noqa: E402
from test_export import cpp_run, run_pipeline  # noqa: E402,F401  (the C++ host, built once)


def jpegs(side=None):
    from skimage import data
    out = []
    for name in ("astronaut", "chelsea", "coffee"):
        im = cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR)
        if side:
            im = cv2.resize(im, (side, side * im.shape[0] // im.shape[1]))
        out.append(cv2.imencode(".jpg", im)[1].tobytes())
    return out


def test_seed_pipeline_compiles_as_written_and_matches_cv2():
    VP = matx_nb.script(vision_seed.VisionPipeline)
    imgs = jpegs()
    out = VP(mode="trace").process(imgs)
    assert isinstance(out, matx_nb.NDArray) and out.shape == [3, 3, 224, 224]
    np.testing.assert_allclose(out.numpy(), vision_seed.reference(imgs), rtol=1e-5, atol=1e-5)
    ev = VP(mode="eval").process(imgs)  # .torch() in compiled code: the array, shared with torch
    assert np.array_equal(np.asarray(ev), out.numpy())
    tr = VP(mode="train").process(imgs)
    assert tr.shape == [3, 3, 224, 224]
    torch = pytest.importorskip("torch")
    py = vision_seed.VisionPipeline(mode="eval").process(imgs)  # as Python: ops compiled, glue not
    assert isinstance(py, torch.Tensor) and np.array_equal(py.numpy(), out.numpy())


@pytest.mark.parametrize("compiled", [False, True], ids=["python-glue", "compiled-class"])
def test_trace_save_load_matx_run_and_cpp_session(tmp_path, compiled, run_pipeline):  # noqa: F811
    cls = matx_nb.script(vision_seed.VisionPipeline) if compiled else vision_seed.VisionPipeline
    pipe = cls(mode="trace")
    imgs = jpegs(side=160)
    mod = matx_nb.trace(pipe.process, imgs)
    assert mod.input_names == ["image"]
    expected = vision_seed.reference(imgs)
    np.testing.assert_allclose(np.asarray(mod.run({"image": imgs})), expected, rtol=1e-5, atol=1e-5)
    folder = tmp_path / "vision"
    mod.save(folder)
    loaded = matx_nb.load(folder)
    got = np.asarray(loaded.run({"image": imgs}))
    assert np.array_equal(got, np.asarray(mod.run({"image": imgs})))
    feed = {"image": [{"$b64": base64.b64encode(b).decode()} for b in imgs]}
    (tmp_path / "feed.json").write_text(json.dumps(feed))
    r = subprocess.run([sys.executable, "-m", "matx_nb.cli", str(folder), "--feed", f"@{tmp_path / 'feed.json'}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    res = res if "dtype" in res else next(iter(res.values()))
    assert res["shape"] == [3, 3, 224, 224] and np.array_equal(np.array(res["data"], np.float32), got)
    rc, out, err = cpp_run(run_pipeline, folder, feed)
    assert rc == 0, err
    cpp = json.loads(out)
    assert np.array_equal(np.array(cpp["data"], np.float32), got)
    # a damaged image is an error naming the op and the image, from every host
    bad = {"image": [feed["image"][0], {"$b64": base64.b64encode(b"not a jpeg").decode()}]}
    with pytest.raises(ValueError, match="image 1 cannot be decoded"):
        loaded.run({"image": [imgs[0], b"not a jpeg"]})
    rc, out, err = cpp_run(run_pipeline, folder, bad)
    assert rc != 0 and "image 1 cannot be decoded" in err


def test_a_vision_folder_from_another_platform_rebuilds_in_python_and_in_cpp(tmp_path, run_pipeline):  # noqa: F811
    """The saved library is replaced by one "for another platform": load(...,
    rebuild=True) and the C++ Session's --rebuild compile the folder's source
    again, with the vision ops' runtime object (`// matx_nb-object: vision`), and
    give the same pixels."""
    import os
    from test_export import mark_foreign
    imgs = jpegs(side=96)
    mod = matx_nb.trace(vision_seed.VisionPipeline(mode="trace").process, imgs)
    expected = np.asarray(mod.run({"image": imgs}))
    folder = tmp_path / "vision"
    mod.save(folder)
    mark_foreign(folder)
    with pytest.raises(matx_nb.PipelineError, match="rebuild=True"):
        matx_nb.load(folder)
    assert np.array_equal(np.asarray(matx_nb.load(folder, rebuild=True).run({"image": imgs})), expected)
    root = __import__("pathlib").Path(__file__).resolve().parent.parent
    env = dict(os.environ, MATX_NB_INCLUDE=str(root / "runtime" / "include"), MATX_NB_CACHE=str(tmp_path / "c"))
    feed = {"image": [{"$b64": base64.b64encode(b).decode()} for b in imgs]}
    r = subprocess.run([str(run_pipeline), str(folder), json.dumps(feed), "--rebuild"], capture_output=True,
                       text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.array(json.loads(r.stdout)["data"], np.float32).reshape(expected.shape), expected)
