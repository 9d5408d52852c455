"""`python -m benchmarks`: measure the assistant on your own data and write docs/benchmarks.md.

    python -m benchmarks run --scifact ../shared/bench/scifact --squad ../shared/bench/squad --out docs/
    python -m benchmarks run --sections retrieval --scifact ~/my-beir-folder --name mydata
    python -m benchmarks report --out docs/           # re-render the page from the last measured results

Any BEIR-layout folder works for retrieval (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), any folder
with SQuAD-shaped dev-v1.1/dev-v2.0 `*.passages.jsonl` + `*.questions.jsonl` for answers. Documents become
article files (first line the title) and indexes under --cache, reused while the data is unchanged.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.config import DEFAULT_CORPUS, ENGINES

from . import report
from .data import DEFAULT_CACHE, Beir, article_folder

log = logging.getLogger("benchmarks")
SECTIONS = ("retrieval", "squad", "answers", "speed", "tune", "chunks", "serve", "store", "news", "scale")
REPO = Path(__file__).resolve().parent.parent

def _bench() -> Path:
    """Where the benchmark data lies: $ASSISTANT_BENCH, else `../shared/bench` beside the checkout, else this
    workplace's /work/shared/bench (so a clone elsewhere, as CI's, still finds it and runs its tests)."""
    if os.environ.get("ASSISTANT_BENCH"):
        return Path(os.environ["ASSISTANT_BENCH"])
    beside = REPO.parent / "shared" / "bench"
    return beside if beside.exists() or not Path("/work/shared/bench").exists() else Path("/work/shared/bench")


BENCH = _bench()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="measure, print the tables and write OUT/benchmarks.md with plots")
    run.add_argument("--scifact", type=Path, default=BENCH / "scifact", metavar="DIR",
                     help="a BEIR-layout folder (default: %(default)s)")
    run.add_argument("--name", default=None, help="the BEIR data set's name in the report (default: folder name)")
    run.add_argument("--split", default="test", help="qrels split to report (default: test)")
    run.add_argument("--tune-split", default="train", help="qrels split for tuning (default: train)")
    run.add_argument("--squad", type=Path, default=BENCH / "squad", metavar="DIR",
                     help="folder with dev-v1.1.* and dev-v2.0.* passages/questions jsonl (default: %(default)s)")
    run.add_argument("--out", type=Path, default=REPO / "docs", metavar="DIR",
                     help="where benchmarks.md and the plots go (default: docs/)")
    run.add_argument("--cache", type=Path, default=DEFAULT_CACHE, metavar="DIR",
                     help="article folders, indexes, cached vectors, results (default: benchmarks/.cache)")
    run.add_argument("--sections", default=",".join(SECTIONS),
                     help=f"comma-separated subset of {','.join(SECTIONS)} (default: all); "
                          "sections not run keep their last results in the report")
    run.add_argument("--squad-questions", type=int, default=2000, metavar="N",
                     help="size of the SQuAD v1.1 report sample (default 2000; v2.0 uses N/2 of each kind)")
    run.add_argument("--squad-withheld", type=int, default=500, metavar="N",
                     help="abstention on uncovered questions: leave out the gold paragraphs of the first N report "
                          "questions (default 500; at most a quarter of the sample)")
    run.add_argument("--tune-questions", type=int, default=1000, metavar="N",
                     help="SQuAD questions in the tuning slice (default 1000)")
    run.add_argument("--chunk-sizes", default="80,120,200", help="ChunkSettings.max_words to compare in tuning")
    run.add_argument("--chunks-beir-only", action="store_true",
                     help="compare chunk sizes on the BEIR sub-corpus only (skips re-indexing SQuAD per size)")
    run.add_argument("--tune-docs", type=int, default=1200, metavar="N",
                     help="chunk sizes are compared on a BEIR sub-corpus: the documents judged in the tuning "
                          "split plus others up to N (default 1200; 0: the whole corpus)")
    run.add_argument("--synthetic-chunks", default="100000,1000000", metavar="N[,N...]",
                     help="sizes of the synthetic corpora in the speed and store sections "
                          "(default 100000,1000000; 0 skips them)")
    run.add_argument("--no-hnsw", action="store_true",
                     help="store section: skip building an HNSW index beside the quantized one (minutes)")
    run.add_argument("--store-docs", type=int, default=2000, metavar="N",
                     help="store section: build this many SQuAD+SciFact documents (half each) with today's and "
                          "the shipped sentence vectors, side by side (default 2000)")
    run.add_argument("--store-questions", type=int, default=200, metavar="N",
                     help="store section: SQuAD questions on the mix's paragraphs (report sample first) asked of "
                          "each index built side by side (default 200)")
    run.add_argument("--news-copies", type=int, default=1200, metavar="N",
                     help="news section: originals given a near copy, per split (default 1200)")
    run.add_argument("--news-scale", default="10000,100000",
                     help="news section: corpus sizes for the cost of duplicate detection (default 10000,100000; "
                          "empty skips it)")
    run.add_argument("--limit-docs", type=int, default=0, metavar="N",
                     help="smoke runs: keep only N documents (all judged ones first) and their queries")
    run.add_argument("--limit-queries", type=int, default=0, metavar="N", help="smoke runs: at most N queries")
    run.add_argument("--fusion", choices=("rrf", "convex"), default=None,
                     help="try another fusion than the shipped one (retrieval and squad sections; use with "
                          "--results NAME to keep the shipped figures)")
    run.add_argument("--dense-weight", type=float, default=None, help="try another dense weight")
    run.add_argument("--candidates", type=int, default=None, help="try another candidate depth")
    run.add_argument("--results", default="results.json", help="results file name under --cache")
    run.add_argument("--engine", choices=ENGINES, default="sentence-transformers",
                     help="encoder engine of the retrieval and squad sections (default: %(default)s, the "
                          "reference); onnx-int8 gets indexes of its own under --cache. Use with --results NAME "
                          "to keep the reference's figures")
    run.add_argument("--scale-docs", type=int, default=1000, metavar="N",
                     help="scale section: SciFact abstracts indexed (the split's judged ones first; 0: all)")
    run.add_argument("--scale-ray-texts", type=int, default=800, metavar="N",
                     help="scale section: chunk texts embedded locally and by Ray with 1 and 2 actors")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    rep = sub.add_parser("report", help="re-render OUT/benchmarks.md and plots from the last results in --cache")
    rep.add_argument("--out", type=Path, default=REPO / "docs", metavar="DIR")
    rep.add_argument("--cache", type=Path, default=DEFAULT_CACHE, metavar="DIR")
    rep.add_argument("--results", default="results.json", help="results file name under --cache")
    child = sub.add_parser("speed-scale", help=argparse.SUPPRESS)  # one corpus size, in a fresh process
    child.add_argument("--corpus", type=Path, required=True)
    child.add_argument("--index", type=Path, required=True)
    child.add_argument("--questions", type=Path, required=True)
    child.add_argument("--rank-bm25", action="store_true")
    child.add_argument("--build", action="store_true", help="measure a build from scratch instead")
    child.add_argument("--engine", choices=ENGINES, default=None,
                       help="encoder engine to ask with (default: Settings.encoder_engine)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
    if args.command == "speed-scale":
        return _speed_scale(args)
    results_file = args.cache / getattr(args, "results", "results.json")
    results: dict[str, Any] = json.loads(results_file.read_text()) if results_file.exists() else {}
    if args.command == "run":
        sections = [s.strip() for s in args.sections.split(",") if s.strip()]
        unknown = set(sections) - set(SECTIONS)
        if unknown:
            build_parser().error(f"unknown sections: {', '.join(sorted(unknown))}")
        args.cache.mkdir(parents=True, exist_ok=True)
        for section in sections:
            start = time.perf_counter()
            measured = globals()[f"_run_{section}"](args)
            measured["seconds"] = round(time.perf_counter() - start, 1)
            measured["measured"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
            # Re-read before writing: another run may have stored other sections meanwhile.
            results = json.loads(results_file.read_text()) if results_file.exists() else {}
            measured["code"] = _machine()["code"]  # the commit measured (-dirty: with uncommitted edits)
            results[section] = measured
            results["machine"] = _machine()
            results_file.write_text(json.dumps(results, indent=1))
            print(report.section_text(section, results), flush=True)
    report.write(results, args.out, plots=not getattr(args, "no_plots", False))
    print(f"wrote {args.out / 'benchmarks.md'}")
    return 0


def _machine() -> dict[str, Any]:
    import subprocess

    import torch

    try:
        code = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"], capture_output=True,
                              text=True, check=False).stdout.strip()
    except OSError:
        code = "?"
    return {"code": code,"cpus": os.cpu_count(), "python": platform.python_version(), "torch": torch.__version__,
            "platform": platform.platform(), "torch_threads": torch.get_num_threads()}


def _beir(args: argparse.Namespace) -> tuple[Beir, str, Any]:
    beir = Beir(args.scifact)
    name = args.name or args.scifact.name
    keep = None
    if args.limit_docs:
        judged = [d for split in (args.split, args.tune_split) if (beir.root / "qrels" / f"{split}.tsv").exists()
                  for rel in list(beir.qrels(split).values())[: args.limit_queries or None] for d in rel]
        keep = list(dict.fromkeys(judged))[: args.limit_docs]
        from .data import read_jsonl

        for row in read_jsonl(beir.corpus):
            if len(keep) >= args.limit_docs:
                break
            if row["_id"] not in keep:
                keep.append(str(row["_id"]))
    docs = article_folder(beir.corpus, args.cache, name, keep)
    return beir, name, docs


def _limit(qrels: dict[str, dict[str, int]], args: argparse.Namespace, doc_ids: set[str]) -> dict[str, dict[str, int]]:
    kept = {q: {d: r for d, r in rel.items() if d in doc_ids} for q, rel in qrels.items()}
    kept = {q: rel for q, rel in kept.items() if rel}
    return dict(list(kept.items())[: args.limit_queries]) if args.limit_queries else kept


def _run_retrieval(args: argparse.Namespace) -> dict[str, Any]:
    from .common import cached_encoder, open_assistant
    from .retrieval import MODES, PUBLISHED, evaluate

    beir, name, docs = _beir(args)
    assistant = open_assistant(docs.folder, args.cache, _settings(args), cached_encoder(args.cache, args.engine),
                               chunks_only=True)
    qrels = _limit(beir.qrels(args.split), args, set(docs.doc_of.values()))
    scores = evaluate(assistant, docs, beir.queries(), qrels)
    published = {m: PUBLISHED.get(name.lower(), {}).get(m) for m in MODES}
    return {"dataset": name, "split": args.split, "documents": len(docs.doc_of),
            "chunks": assistant.open().chunks, "scores": scores, "published": published,
            "settings": _retrieval_settings(_settings(args))}


def _settings(args: argparse.Namespace) -> Settings:
    """The shipped settings, or with the retrieval values given on the command line (to try a candidate)."""
    from .common import with_settings

    settings = Settings(encoder_engine=getattr(args, "engine", None) or Settings().encoder_engine)
    return with_settings(settings, fusion=args.fusion, dense_weight=args.dense_weight, candidates=args.candidates)


def _retrieval_settings(s: Settings) -> dict[str, Any]:
    r = s.retrieval
    return {"max_words": s.chunk.max_words, "fusion": r.fusion, "dense_weight": r.dense_weight,
            "candidates": r.candidates, "rrf_k": r.rrf_k, "read_chunks": s.answer.read_chunks,
            "engine": s.encoder_engine}


def _squad_docs(args: argparse.Namespace, version: str, questions: list[Any]) -> Any:
    keep = None
    if args.limit_docs:
        keep = list(dict.fromkeys(q["gold_passage"] for q in questions))[: args.limit_docs]
    name = "squad" if version == "1.1" else "squad2"
    return article_folder(args.squad / f"dev-v{version}.passages.jsonl", args.cache, name, keep)


def _run_squad(args: argparse.Namespace) -> dict[str, Any]:
    from .common import cached_encoder, open_assistant
    from .squad import (
        abstention_v2,
        abstention_withheld,
        answers_v1,
        load_questions,
        report_sample,
        v2_sample,
        withheld_paragraphs,
    )

    encoder = cached_encoder(args.cache, args.engine)
    questions = load_questions(args.squad / "dev-v1.1.questions.jsonl")
    sample = report_sample(questions, args.squad_questions)
    docs = _squad_docs(args, "1.1", sample)
    if args.limit_docs:
        sample = [q for q in sample if q["gold_passage"] in set(docs.doc_of.values())]
    assistant = open_assistant(docs.folder, args.cache, _settings(args), encoder)
    out: dict[str, Any] = {"v1": answers_v1(assistant, docs, sample), "paragraphs": len(docs.doc_of),
                           "settings": _retrieval_settings(_settings(args))}
    v2_file = args.squad / "dev-v2.0.questions.jsonl"
    if v2_file.exists():
        v2 = v2_sample(load_questions(v2_file), args.squad_questions // 2)
        docs2 = _squad_docs(args, "2.0", v2)
        if args.limit_docs:
            v2 = [q for q in v2 if q["gold_passage"] in set(docs2.doc_of.values())]
        assistant2 = open_assistant(docs2.folder, args.cache, _settings(args), encoder)
        out["v2"] = abstention_v2(assistant2, v2) | {"paragraphs": len(docs2.doc_of)}
    # Questions the articles do not cover: the same corpus without some report questions' gold paragraphs.
    size = min(args.squad_withheld, len(sample) // 4, args.limit_queries or len(sample))
    split = withheld_paragraphs(sample, size)
    if split.withheld:
        gone = set(split.paragraphs)
        docs3 = article_folder(args.squad / "dev-v1.1.passages.jsonl", args.cache, "squad-withheld",
                               [d for d in docs.doc_of.values() if d not in gone])
        assistant3 = open_assistant(docs3.folder, args.cache, _settings(args), encoder)
        out["withheld"] = abstention_withheld(assistant3, split) | {"paragraphs": len(docs3.doc_of),
                                                                    "first_questions": size}
    return out


def _run_answers(args: argparse.Namespace) -> dict[str, Any]:
    """Issue 12's goals in one place: the SQuAD measures (with the answer phrase's official EM/F1), and the
    seed questions, as written and asked in other words, on a copy of the shipped index."""
    from .seeds import seed_counts

    out = _run_squad(args)
    from .common import real_encoder, shipped_index_copy

    seeds = Assistant(DEFAULT_CORPUS, shipped_index_copy(args.cache / "answers" / "seeds-index"),
                      encoder=real_encoder())
    data = REPO / "tests" / "data"
    out["seeds"] = seed_counts(seeds, data / "seed_questions.json")
    out["rephrased"] = seed_counts(seeds, data / "seed_questions_rephrased.json")
    out["load_1m"] = os.getloadavg()[0]
    return out


def _run_speed(args: argparse.Namespace) -> dict[str, Any]:
    from .common import index_dir, real_encoder, seed_questions, shipped_index_copy
    from .speed import first_answer_seconds, run_child, sentence_pool, synthetic_index

    speed_dir = args.cache / "speed"
    speed_dir.mkdir(parents=True, exist_ok=True)
    seeds_index = shipped_index_copy(speed_dir / "seeds-index")
    seeds_q = seed_questions()
    beir, name, docs = _beir(args)
    beir_q = list(beir.queries().values())
    squad_q = [q["question"] for q in _load_squad_questions(args)]
    qfile = speed_dir / "questions.json"
    out: dict[str, Any] = {"build": [], "scales": []}
    # Build throughput: the shipped articles and a 100-document slice of the BEIR corpus, from scratch.
    slice_docs = article_folder(beir.corpus, args.cache, f"{name}-slice100", list(docs.doc_of.values())[:100])
    for label, corpus in (("seeds", DEFAULT_CORPUS), (f"{name} (100 docs)", slice_docs.folder)):
        qfile.write_text(json.dumps(seeds_q))
        row = run_child(["--build", "--corpus", str(corpus), "--index", str(speed_dir / "unused"),
                         "--questions", str(qfile)])
        out["build"].append({"corpus": label, **row})
    scales: list[tuple[str, Path, Path, list[str], list[str]]] = [
        ("seeds", DEFAULT_CORPUS, seeds_index, seeds_q, []),
        (name, docs.folder, index_dir(docs.folder, args.cache, Settings(), chunks_only=True), beir_q[:200],
         ["--rank-bm25"]),
    ]
    pool = sentence_pool(args.scifact, args.squad)
    for size in _synthetic_sizes(args):
        folder, index = synthetic_index(args.cache, pool, size, real_encoder().model_id)
        scales.append((f"synthetic {size // 1000}k", folder, index, beir_q[:100] + squad_q[:100],
                       ["--rank-bm25"] if size <= 100_000 else []))
    for label, corpus, index, qs, extra in scales:
        qfile.write_text(json.dumps(qs))
        log.info("speed: %s", label)
        row = run_child(["--corpus", str(corpus), "--index", str(index), "--questions", str(qfile), *extra])
        row["first_answer_s"] = first_answer_seconds(corpus, index, qs[0])
        out["scales"].append({"corpus": label, **row})
    return out


def _synthetic_sizes(args: argparse.Namespace) -> list[int]:
    return [int(x) for x in str(args.synthetic_chunks).split(",") if x.strip() and int(x)]


def _run_store(args: argparse.Namespace) -> dict[str, Any]:
    """Build time against today's, bare encode speed, update writes, approximate against exact search."""
    import numpy as np

    from .common import real_encoder
    from .speed import sentence_pool, synthetic_index
    from .store import (
        ann_against_exact,
        bare_encode,
        build_side_by_side,
        encoders,
        squad_questions_in,
        update_cost,
    )

    encoder = real_encoder()
    engines = encoders()
    _, name, docs = _beir(args)
    half = args.store_docs // 2
    squad = article_folder(args.squad / "dev-v1.1.passages.jsonl", args.cache, "squad", None)
    mix = args.cache / "articles" / f"mix-{name}-squad-{args.store_docs}"
    if not mix.exists():
        mix.mkdir(parents=True)
        for prefix, folder in (("scifact", docs.folder), ("squad", squad.folder)):
            for path in sorted(folder.iterdir())[:half]:
                shutil.copy(path, mix / f"{prefix}-{path.name}")
    out: dict[str, Any] = {"build": []}
    asked = squad_questions_in(mix, squad, _squad_report_first(args), args.store_questions)
    for label, corpus, questions in (("seeds", DEFAULT_CORPUS, []),
                                     (f"{name} + SQuAD ({args.store_docs} docs)", mix, asked)):
        log.info("store: building %s side by side", label)
        out["build"].append({"corpus": label, "modes": build_side_by_side(corpus, engines, questions=questions)})
        print(out["build"][-1], flush=True)
    out["bare"] = bare_encode(mix, engines)
    sizes = _synthetic_sizes(args)
    pool = sentence_pool(args.scifact, args.squad)
    if sizes:
        small = min(sizes, key=lambda n: abs(n - 100_000))
        folder, index = synthetic_index(args.cache, pool, small, encoder.model_id)
        out["update"] = update_cost(folder, index, encoder)
        print(out["update"], flush=True)
        questions = [q["question"] for q in _load_squad_questions(args)][:100]
        vectors = np.asarray(encoder.encode(questions))
        out["ann"] = []
        for n, size in enumerate(sizes):
            _, index = synthetic_index(args.cache, pool, size, encoder.model_id)
            out["ann"].append(ann_against_exact(index, vectors, hnsw=n == 0 and not args.no_hnsw))
            print(out["ann"][-1], flush=True)
    return out


def _squad_report_first(args: argparse.Namespace) -> list[Any]:
    """Every SQuAD v1.1 dev question, those of the report sample first."""
    from .squad import load_questions, report_sample

    questions = load_questions(args.squad / "dev-v1.1.questions.jsonl")
    sample = report_sample(questions, args.squad_questions)
    chosen = {q["id"] for q in sample}
    return sample + [q for q in questions if q["id"] not in chosen]


def _load_squad_questions(args: argparse.Namespace) -> list[Any]:
    from .squad import load_questions, report_sample

    path = args.squad / "dev-v1.1.questions.jsonl"
    return report_sample(load_questions(path), 200) if path.exists() else []


def _speed_scale(args: argparse.Namespace) -> int:
    """Child process: measure one corpus size and print one JSON line."""
    from .common import real_encoder
    from .speed import (
        ask_latency,
        build_throughput,
        peak_rss_mb,
        rank_bm25_latency,
    )

    questions: list[str] = json.loads(args.questions.read_text())
    encoder = real_encoder()
    if args.build:
        built = build_throughput(args.corpus, encoder) | {"peak_rss_mb": peak_rss_mb(), "load_1m": os.getloadavg()[0]}
        print(json.dumps(built))
        return 0
    from assistant import Assistant
    from assistant.index.encoder import make_encoder

    settings = Settings()  # asking is measured with the default engine (Settings.encoder_engine) unless told
    engine = args.engine or settings.encoder_engine
    encoder = make_encoder(settings.model_path, settings.batch_size, engine)  # type: ignore[assignment]
    encoder.encode(["load the model before the clock starts"])
    start = time.perf_counter()
    assistant = Assistant(corpus=args.corpus, index=args.index, encoder=encoder)
    assistant.open()
    opened = time.perf_counter() - start
    loaded = assistant.loaded
    row: dict[str, Any] = {"chunks": len(loaded.retriever.chunks), "open_s": opened,  # type: ignore[attr-defined]
                           "articles": len(loaded.articles), "engine": engine}
    row |= ask_latency(assistant, questions)
    row["peak_rss_mb"] = peak_rss_mb()
    row["load_1m"] = os.getloadavg()[0]  # other processes on the machine slow the model down
    if args.rank_bm25:
        row |= rank_bm25_latency(assistant, questions[:20])
    print(json.dumps(row))
    return 0


def _run_serve(args: argparse.Namespace) -> dict[str, Any]:
    """HTTP /ask over loopback (1 and 8 clients) next to in-process ask; ask --server next to a cold ask."""
    from .common import real_encoder, seed_questions, shipped_index_copy
    from .serve import measure

    work = args.cache / "serve"
    work.mkdir(parents=True, exist_ok=True)
    index = shipped_index_copy(work / "seeds-index")
    questions = seed_questions()
    assistant = Assistant(corpus=DEFAULT_CORPUS, index=index, encoder=real_encoder())
    assistant.open()
    return measure(DEFAULT_CORPUS, index, work, assistant, questions)


def _run_tune(args: argparse.Namespace) -> dict[str, Any]:
    from .common import cached_encoder, open_assistant
    from .squad import load_questions, tuning_slice
    from .tune import Searcher, beir_variants, squad_variants, variants

    encoder = cached_encoder(args.cache)
    beir, _, docs = _beir(args)
    tune_qrels = beir.qrels(args.tune_split)
    qrels = _limit(tune_qrels, args, set(docs.doc_of.values()))
    queries = beir.queries()
    tune_q = tuning_slice(load_questions(args.squad / "dev-v1.1.questions.jsonl"), args.tune_questions)
    sdocs = _squad_docs(args, "1.1", tune_q)
    if args.limit_docs:
        tune_q = [q for q in tune_q if q["gold_passage"] in set(sdocs.doc_of.values())]
    shipped = Settings()
    out: dict[str, Any] = {"beir_split": args.tune_split, "beir_queries": len(qrels), "squad_questions": len(tune_q),
                           "fusion": {}}
    # Fusion, weight and depth: the whole corpus at the shipped chunk size.
    a = open_assistant(docs.folder, args.cache, shipped, encoder, chunks_only=True)
    s = open_assistant(sdocs.folder, args.cache, shipped, encoder)
    grid = variants()
    out["fusion"]["beir"] = beir_variants(Searcher(a), docs, queries, qrels, grid)
    out["fusion"]["squad"] = squad_variants(Searcher(s), sdocs, tune_q, grid)
    return out


def _run_chunks(args: argparse.Namespace) -> dict[str, Any]:
    """Chunk size on the tuning splits: a BEIR sub-corpus (judged documents first) and the whole SQuAD corpus."""
    from .common import cached_encoder, open_assistant, with_settings
    from .squad import answers_v1, load_questions, tuning_slice
    from .tune import Searcher, beir_variants

    encoder = cached_encoder(args.cache)
    beir, name, docs = _beir(args)
    tune_qrels = beir.qrels(args.tune_split)
    queries = beir.queries()
    tune_q = tuning_slice(load_questions(args.squad / "dev-v1.1.questions.jsonl"), args.tune_questions)
    sdocs = _squad_docs(args, "1.1", tune_q)
    if args.limit_docs:
        tune_q = [q for q in tune_q if q["gold_passage"] in set(sdocs.doc_of.values())]
    sub = docs
    if args.tune_docs and not args.limit_docs and args.tune_docs < len(docs.doc_of):
        judged = list(dict.fromkeys(d for rel in tune_qrels.values() for d in rel if d in set(docs.doc_of.values())))
        rest = [d for d in docs.doc_of.values() if d not in set(judged)]
        keep = (judged + rest)[: max(args.tune_docs, len(judged))]
        sub = article_folder(beir.corpus, args.cache, f"{name}-tune{len(keep)}", keep)
    sub_qrels = _limit(tune_qrels, args, set(sub.doc_of.values()))
    out: dict[str, Any] = {"beir_split": args.tune_split, "beir_queries": len(sub_qrels),
                           "squad_questions": 0 if args.chunks_beir_only else len(tune_q),
                           "chunk_docs": len(sub.doc_of), "chunk_sizes": []}
    for size in [int(x) for x in args.chunk_sizes.split(",") if x.strip()]:
        settings = with_settings(Settings(), max_words=size)
        a = open_assistant(sub.folder, args.cache, settings, encoder, chunks_only=True)
        row: dict[str, Any] = {"max_words": size, "chunks": a.open().chunks}
        row |= beir_variants(Searcher(a), sub, queries, sub_qrels, [settings.retrieval])[0]
        if not args.chunks_beir_only:
            s = open_assistant(sdocs.folder, args.cache, settings, encoder)
            row |= {f"squad_{k}": v for k, v in answers_v1(s, sdocs, tune_q).items()}
        out["chunk_sizes"].append(row)
        print(row, flush=True)
    return out


def _run_news(args: argparse.Namespace) -> dict[str, Any]:
    """Ingest throughput and duplicate detection (benchmarks/news.py)."""
    from . import news

    sizes = [int(x) for x in args.news_scale.split(",") if x.strip()]
    return news.run(args.scifact, args.squad, args.cache, args.news_copies, sizes, Settings().duplicates)


def _run_scale(args: argparse.Namespace) -> dict[str, Any]:
    """The Milvus backend beside the local one, and Ray Data encoding (benchmarks/scale.py)."""
    from . import scale

    return scale.run(args.scifact, args.cache, args.split, args.scale_docs, args.scale_ray_texts)


if __name__ == "__main__":
    sys.exit(main())
