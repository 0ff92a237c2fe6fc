"""The baseline of bench/bench_serve.py: what a team writes today to serve the
seed's text pipeline: a FastAPI app on uvicorn written the idiomatic way
(pydantic models for the KServe v2 request, as KServe's own Python server
declares them; a dict returned as JSON), the pipeline in CPython (the same
TextPipeline class, over matx_nb.text.bert's Python originals of the text
ops), answering the same requests with the same JSON.

    python bench/serve_baseline.py VOCAB MAX_LEN PORT [WORKERS]
"""
# (no `from __future__ import annotations`: FastAPI reads the annotations at run time)
import os
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples" / "multimodal"))
sys.path.insert(0, str(ROOT / "bench"))


def app():
    """The app (a factory, so that uvicorn's --workers can build one per process)."""
    from fastapi import FastAPI
    from pydantic import BaseModel

    import pipelines
    from matx_nb.text import bert
    pipelines.text = bert  # the seed's TextPipeline, its ops run by CPython
    pipe = pipelines.TextPipeline(os.environ["BASELINE_VOCAB"], int(os.environ["BASELINE_MAX_LEN"]))
    names = ("input_ids", "segment_ids", "mask")

    class InferInput(BaseModel):
        name: str
        shape: List[int]
        datatype: str
        parameters: Optional[Dict[str, Any]] = None
        data: List[Any]

    class InferRequest(BaseModel):
        id: Optional[str] = None
        parameters: Optional[Dict[str, Any]] = None
        inputs: List[InferInput]

    api = FastAPI()

    @api.post("/v2/models/text/infer")
    async def infer(request: InferRequest):
        texts = [s.encode("utf-8") for s in request.inputs[0].data]
        outs = pipe.process(texts)
        return {"id": request.id, "model_name": "text", "model_version": "1",
                "outputs": [{"name": n, "datatype": "INT64", "shape": list(o.shape),
                             "data": o.numpy().reshape(-1).tolist()} for n, o in zip(names, outs)]}

    return api


def main():
    import uvicorn
    vocab, max_len, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    workers = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.environ["BASELINE_VOCAB"], os.environ["BASELINE_MAX_LEN"] = vocab, max_len
    uvicorn.run("serve_baseline:app", factory=True, host="127.0.0.1", port=port, workers=workers,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
