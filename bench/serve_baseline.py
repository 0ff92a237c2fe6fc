"""The baseline of bench/bench_serve.py: what a team writes today to serve the
seed's text pipeline: a FastAPI app on uvicorn, the pipeline in CPython (the
same TextPipeline class, over matx_nb.text.bert's Python originals of the
text ops), answering the same KServe v2 JSON requests with the same JSON.

    python bench/serve_baseline.py VOCAB MAX_LEN PORT
"""
# (no `from __future__ import annotations`: FastAPI reads the handler's annotations at run time)
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "multimodal"))


def make_app(vocab: str, max_len: int):
    import orjson
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

    import pipelines
    from matx_nb.text import bert
    pipelines.text = bert  # the seed's TextPipeline, its ops run by CPython
    pipe = pipelines.TextPipeline(vocab, max_len)
    names = ("input_ids", "segment_ids", "mask")
    app = FastAPI()

    @app.post("/v2/models/text/infer")
    async def infer(request: Request):
        doc = await request.json()
        texts = [s.encode("utf-8") for s in doc["inputs"][0]["data"]]
        outs = pipe.process(texts)
        body = {"model_name": "text", "model_version": "1",
                "outputs": [{"name": n, "datatype": "INT64", "shape": list(o.shape),
                             "data": o.numpy().reshape(-1)} for n, o in zip(names, outs)]}
        return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), media_type="application/json")

    return app


def main():
    import uvicorn
    vocab, max_len, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    app = make_app(vocab, max_len)
    print(f"baseline: ready at http://127.0.0.1:{port}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
