"""Past one machine, measured on one: the Milvus backend beside the local one, and Ray Data encoding.

    python -m benchmarks run --sections scale                      # SciFact test, --scale-docs abstracts
    python -m benchmarks run --sections scale --scale-docs 0       # the whole corpus (slow on 2 cores)

Milvus is a real `milvus-lite server` on a free loopback port (started here, stopped by PID), reached
through the same pymilvus client and calls a cluster gets. nDCG@10 of both backends is over the same
local index (chunk vectors; sentence vectors are not used by retrieval), on the test queries judged
against the documents indexed. Ask latency is over the shipped seeds and their questions. Ray throughput
is wall time of `RayEncoder.encode` (an in-process Ray on 127.0.0.1, actors started and the model
loaded in each per call, as in a build batch) beside `SentenceEncoder.encode` on the same texts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.config import DEFAULT_CORPUS, RaySettings

from .common import SEED_QUESTIONS, shipped_index_copy
from .data import Beir, article_folder, read_jsonl
from .metrics import percentile


@contextmanager
def milvus_lite(data: Path) -> Iterator[str]:
    """A `milvus-lite server` on a free 127.0.0.1 port; its URI. Stopped with SIGKILL (it ignores SIGTERM)."""
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    exe = shutil.which("milvus-lite") or str(Path(sys.executable).with_name("milvus-lite"))
    with (data / "server.log").open("wb") as log:
        proc = subprocess.Popen([exe, "server", "--data-dir", str(data / "db"), "--host", "127.0.0.1",
                                 "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        uri = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    MilvusClient(uri=uri, timeout=2).list_collections()
                    break
                except MilvusException as exc:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        tail = (data / "server.log").read_text()[-500:]
                        raise RuntimeError(f"milvus-lite did not start: {tail}") from exc
                    time.sleep(0.3)
            yield uri
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _documents(beir: Beir, split: str, limit: int) -> list[str] | None:
    """The judged documents of `split` first, then the corpus in order, up to `limit` (0: all)."""
    if not limit:
        return None
    keep = list(dict.fromkeys(d for rel in beir.qrels(split).values() for d in rel))[:limit]
    for row in read_jsonl(beir.corpus):
        if len(keep) >= limit:
            break
        if str(row["_id"]) not in keep:
            keep.append(str(row["_id"]))
    return keep


def run(scifact: Path, cache: Path, split: str, docs_limit: int, ray_texts: int) -> dict[str, Any]:
    from assistant.index.encoder import SentenceEncoder
    from assistant.index.milvus import MilvusBackend

    from .common import cached_encoder, index_dir, open_assistant
    from .retrieval import evaluate

    settings = Settings()
    beir = Beir(scifact)
    docs = article_folder(beir.corpus, cache, scifact.name, _documents(beir, split, docs_limit))
    encoder = cached_encoder(cache)
    local = open_assistant(docs.folder, cache, settings, encoder, chunks_only=True)
    indexed = set(docs.doc_of.values())
    qrels = {q: {d: r for d, r in rel.items() if d in indexed} for q, rel in beir.qrels(split).items()}
    qrels = {q: rel for q, rel in qrels.items() if rel}
    out: dict[str, Any] = {"dataset": scifact.name, "split": split, "documents": len(docs.doc_of),
                           "chunks": local.open().chunks, "fusion": settings.retrieval.fusion}
    seeds = json.loads(SEED_QUESTIONS.read_text(encoding="utf-8"))
    questions = [item["q"] for item in seeds["answerable"]] + list(seeds["out_of_corpus"])
    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as tmp, milvus_lite(Path(tmp)) as uri:
        remote = Assistant(corpus=docs.folder, index=index_dir(docs.folder, cache, settings, chunks_only=True),
                           settings=settings, encoder=encoder, backend=MilvusBackend(uri, collection="bench"))
        start = time.perf_counter()
        remote.open()
        out["insert_s"] = round(time.perf_counter() - start, 2)
        out["load_insert"] = os.getloadavg()[0]
        out["scores"] = {"local": evaluate(local, docs, beir.queries(), qrels),
                         "milvus": evaluate(remote, docs, beir.queries(), qrels)}
        out["load_ndcg"] = os.getloadavg()[0]
        shipped = shipped_index_copy(Path(tmp) / "seeds-index")
        seed_local = Assistant(corpus=DEFAULT_CORPUS, index=shipped, encoder=encoder.encoder)
        seed_remote = Assistant(corpus=DEFAULT_CORPUS, index=shipped, encoder=encoder.encoder,
                                backend=MilvusBackend(uri, collection="seeds"))
        out["ask"] = {"questions": len(questions)}
        for name, a in (("local", seed_local), ("milvus", seed_remote)):
            a.ask(questions[0])  # warm: open the index, fill the collection
            times = []
            for q in questions:
                t = time.perf_counter()
                a.ask(q)
                times.append((time.perf_counter() - t) * 1000)
            out["ask"][name] = {"p50_ms": statistics.median(times), "p90_ms": percentile(times, 90)}
        out["ask"]["load"] = os.getloadavg()[0]
    out["ray"] = ray_throughput(local, ray_texts, SentenceEncoder(settings.model_path, settings.batch_size))
    return out


def ray_throughput(assistant: Assistant, count: int, encoder: Any) -> list[dict[str, Any]]:
    """Texts per second embedding `count` chunk texts: in-process, then Ray with 1 and 2 actors."""
    from assistant.index import ray_encoder
    from assistant.index.store import load

    settings = assistant.settings
    stored = load(assistant.index_dir)
    texts = [stored.chunk(i).indexed_text(settings.chunk.title_in_text) for i in range(min(count, stored.n_chunks))]
    rows = []
    encoder.encode(texts[:8])  # load the model before timing
    t = time.perf_counter()
    encoder.encode(texts)
    rows.append({"engine": "local SentenceEncoder", "actors": 0, "texts": len(texts),
                 "seconds": time.perf_counter() - t, "load": os.getloadavg()[0]})
    ray_encoder.start(None, cpus=os.cpu_count())
    try:
        for actors in (1, 2):
            remote = ray_encoder.RayEncoder(settings.model_path, settings.batch_size, RaySettings(actors=actors))
            t = time.perf_counter()
            remote.encode(texts)
            rows.append({"engine": "Ray Data map_batches", "actors": actors, "texts": len(texts),
                         "seconds": time.perf_counter() - t, "load": os.getloadavg()[0]})
    finally:
        ray_encoder.stop()
    for r in rows:
        r["texts_per_s"] = r["texts"] / r["seconds"]
    return rows


def scale_md(r: dict[str, Any]) -> str:
    from .report import _f, _table

    s = r["scores"]
    rows = [[backend, mode, str(s[backend][mode]["queries"]), _f(s[backend][mode]["ndcg@10"]),
             _f(s[backend][mode]["recall@100"])]
            for mode in ("hybrid", "dense", "bm25") for backend in ("local", "milvus")]
    a = r["ask"]
    text = (f"**Retrieval through Milvus** ({r['dataset']} {r['split']} queries judged against the {r['documents']:,} "
            f"documents indexed, {r['chunks']:,} chunks; the same local index behind both; milvus-lite on 127.0.0.1; "
            f"filling the collection took {r['insert_s']} s, load avg {r['load_insert']:.1f}; scores at load "
            f"{r['load_ndcg']:.1f}). Hybrid: local {r['fusion']} fusion vs Milvus's "
            f"{'RRFRanker' if r['fusion'] == 'rrf' else 'WeightedRanker (arctan-normalised)'} in one hybrid_search.\n\n"
            + _table(["backend", "mode", "queries", "nDCG@10", "Recall@100"], rows)
            + f"\n\n**Ask latency** over the shipped seeds, {a['questions']} seed questions, warm (load avg "
              f"{a['load']:.1f}):\n\n"
            + _table(["backend", "p50 ms", "p90 ms"], [[b, _f(a[b]["p50_ms"], 0), _f(a[b]["p90_ms"], 0)]
                                                       for b in ("local", "milvus")])
            + "\n\n**Encoding throughput** (the same chunk texts; Ray: an in-process Ray, wall time of one "
              "`RayEncoder.encode` including starting the actors and loading the model in each):\n\n"
            + _table(["engine", "actors", "texts", "seconds", "texts/s", "load avg"],
                     [[x["engine"], str(x["actors"] or "–"), str(x["texts"]), _f(x["seconds"], 1),
                       _f(x["texts_per_s"], 1), _f(x["load"], 1)] for x in r["ray"]]))
    return text + "\n"
