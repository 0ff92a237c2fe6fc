"""matx_nb.trace fuses ImdecodeOp -> ResizeOp -> CenterCropOp -> TransposeNormalizeOp
into one EvalChainOp (matx_nb/vision/fusion.py, mod/vision_chain_impl.h): its
results must be the four ops' own, bit for bit, and its errors their errors;
runs that others can see into stay apart."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

cv2 = pytest.importorskip("cv2")
vision = pytest.importorskip("matx_nb.vision")
import matx_nb  # noqa: E402
import vision_seed  # noqa: E402

DEV = matx_nb.Device("cpu")
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def photo(name, h, w, ext=".jpg", grey=False, params=()):
    from skimage import data
    im = getattr(data, name)()
    im = cv2.resize(im if im.ndim == 3 else cv2.cvtColor(im, cv2.COLOR_GRAY2RGB), (w, h), interpolation=cv2.INTER_AREA)
    if grey:
        im = cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)
    return cv2.imencode(ext, im, list(params))[1].tobytes()


def exif_rotated(jpeg: bytes, orientation: int = 6) -> bytes:
    """jpeg with an APP1 EXIF block whose Orientation tag is `orientation`
    (OpenCV's decoder rotates by it)."""
    tiff = (b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\x01\x12\x00\x03\x00\x00\x00\x01"
            + orientation.to_bytes(2, "big") + b"\x00\x00" + b"\x00\x00\x00\x00")
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + (len(app1) + 2).to_bytes(2, "big") + app1 + jpeg[2:]


def ops(fmt="RGB", size=(256, 256), mode=vision.RESIZE_NOT_SMALLER, max_size=0, interp=vision.INTER_LINEAR,
        crop=(224, 224), mean=MEAN, std=STD, layout=vision.NCHW, dtype="float32", shift=0.0, scale=1.0):
    return (vision.ImdecodeOp(DEV, fmt),
            vision.ResizeOp(DEV, size, max_size=max_size, interp=interp, mode=mode),
            vision.CenterCropOp(DEV, crop),
            vision.TransposeNormalizeOp(DEV, mean, std, vision.NHWC, layout, dtype, shift, scale))


def steps(four, images):
    dec, rs, cc, tn = four
    return tn(cc(rs(dec(images))))


def outcome(fn):
    try:
        return "ok", fn().numpy()
    except Exception as e:  # noqa: BLE001 - the class and message are what is compared
        return type(e).__name__, str(e).replace("EvalChainOp", "")


def assert_same(four, images):
    want = outcome(lambda: steps(four, images))
    got = outcome(lambda: vision.EvalChainOp(*four)(images))
    assert got[0] == want[0], (got, want)
    if want[0] == "ok":
        assert got[1].dtype == want[1].dtype and np.array_equal(got[1], want[1])
    else:
        assert got[1] == want[1]


MIXED = [photo("astronaut", 375, 500), photo("chelsea", 500, 375), photo("coffee", 300, 301, grey=True),
         photo("rocket", 260, 340, ".png"), exif_rotated(photo("astronaut", 300, 420)),
         photo("coffee", 240, 320, params=(cv2.IMWRITE_JPEG_PROGRESSIVE, 1))]


def test_the_chain_equals_the_steps_on_mixed_images():
    """Landscape, portrait, grey, PNG, an EXIF-rotated JPEG (OpenCV rotates it),
    a progressive JPEG: one batch, bit-exact."""
    four = ops()
    out = vision.EvalChainOp(*four)(MIXED)
    assert out.shape == [len(MIXED), 3, 224, 224]
    assert np.array_equal(out.numpy(), steps(four, MIXED).numpy())


@pytest.mark.parametrize("options, images, message", [
    ({}, [MIXED[0], b"not an image"], r"ImdecodeOp: image 1 cannot be decoded"),
    ({}, [MIXED[0], b""], r"ImdecodeOp: image 1 is empty bytes"),
    ({"size": (100, 150), "mode": vision.RESIZE_DEFAULT}, [MIXED[0]], r"CenterCropOp: image 0 is 150x100"),
    ({}, [], r"ImdecodeOp: the batch is empty"),
    ({"std": [1.0, 0.0, 1.0]}, [MIXED[0]], r"std is 0 for channel 1"),
])
def test_errors_are_the_steps_errors(options, images, message):
    four = ops(**options)
    with pytest.raises(Exception, match=message):
        vision.EvalChainOp(*four)(images)
    assert_same(four, images)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_chain_equals_the_steps_with_any_options(data):
    mode = data.draw(st.sampled_from([vision.RESIZE_DEFAULT, vision.RESIZE_NOT_LARGER, vision.RESIZE_NOT_SMALLER]))
    size = (data.draw(st.integers(1, 300)), data.draw(st.integers(1, 300)))
    crop = (data.draw(st.integers(1, 200)), data.draw(st.integers(1, 200)))
    four = ops(fmt=data.draw(st.sampled_from(["RGB", "BGR"])), size=size, mode=mode,
               max_size=data.draw(st.sampled_from([0, 0, 150, 400])),
               interp=data.draw(st.sampled_from([vision.INTER_LINEAR, vision.INTER_LINEAR, vision.INTER_NEAREST,
                                                 vision.INTER_CUBIC, vision.INTER_AREA])),
               crop=crop, layout=data.draw(st.sampled_from([vision.NCHW, vision.NHWC])),
               dtype=data.draw(st.sampled_from(["float32", "float64"])),
               mean=data.draw(st.sampled_from([MEAN, [0.0], [127.5, 127.5, 127.5]])),
               std=data.draw(st.sampled_from([STD, [1.0], [255.0, 128.0, 64.0]])),
               shift=data.draw(st.sampled_from([0.0, -1.5])), scale=data.draw(st.sampled_from([1.0, 2.0])))
    names = ["astronaut", "chelsea", "coffee", "rocket"]
    images = [photo(data.draw(st.sampled_from(names)), data.draw(st.integers(8, 400)), data.draw(st.integers(8, 400)),
                    data.draw(st.sampled_from([".jpg", ".jpg", ".png"])), grey=data.draw(st.booleans()))
              for _ in range(data.draw(st.integers(1, 5)))]
    assert_same(four, images)


def test_trace_fuses_the_seed_pipeline_and_keeps_its_results():
    pipe = vision_seed.VisionPipeline(mode="trace")
    mod = matx_nb.trace(pipe.process, MIXED[:3])
    classes = {i["id"]: i["class"] for i in mod.spec["instances"]}
    assert [classes[n["op"]["instance"]] for n in mod.spec["nodes"]] == ["EvalChainOp"]
    unfused = steps((pipe.decode, pipe.resize, pipe.center_crop, pipe.transpose_norm), MIXED)
    assert np.array_equal(np.asarray(mod.run({"image": MIXED})), unfused.numpy())
    np.testing.assert_allclose(np.asarray(mod.run({"image": MIXED[:2]})), vision_seed.reference(MIXED[:2]),
                               rtol=1e-5, atol=1e-5)


def test_runs_that_others_see_into_are_not_fused():
    dec, rs, cc, tn = ops()

    def also_returns_the_resized(images):
        resized = rs(dec(images))
        return tn(cc(resized)), resized

    def per_call_sizes(images):
        imgs = dec(images)
        return tn(cc(rs(imgs, [(256, 300)] * 2)))

    def no_crop(images):
        return tn(vision.ResizeOp(DEV, (224, 224))(dec(images)))

    for fn in (also_returns_the_resized, per_call_sizes, no_crop):
        mod = matx_nb.trace(fn, MIXED[:2])
        classes = {i["id"]: i["class"] for i in mod.spec["instances"]}
        assert "EvalChainOp" not in [classes[n["op"]["instance"]] for n in mod.spec["nodes"]], fn.__name__


def test_threads_share_the_fused_op():
    """Its calls only read it, so threads sharing one (a server's instances, a
    DataLoader's threads) run it at the same time (runtime lock.h)."""
    from concurrent.futures import ThreadPoolExecutor
    from test_threads import wrapper_locks
    from matx_nb.vision import fused
    assert wrapper_locks(fused.EvalChainOp)["__call__"] == "shared"
    op = vision.EvalChainOp(*ops())
    ref = op(MIXED).numpy()
    with ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(lambda _: op(MIXED).numpy(), range(8)))
    assert all(np.array_equal(o, ref) for o in outs)
