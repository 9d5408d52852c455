"""Render measured results as text tables (terminal) and docs/benchmarks.md with PNG plots."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOALS = {
    "hybrid_ndcg": 0.72, "gold_top1": 0.80, "answer_contains": 0.70, "answer_words": 40, "v2_auc": 0.70,
    "ask_p50_seeds_ms": 50, "ask_p50_100k_ms": 250, "build_overhead": 0.15,
}


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _ok(value: float | None, goal: float, below: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return "✅" if (value < goal if below else value >= goal) else "❌"


def retrieval_md(r: dict[str, Any]) -> str:
    rows = []
    names = {"bm25": "BM25 alone", "dense": "dense alone (all-MiniLM-L6-v2)", "hybrid": "hybrid (shipped)"}
    for mode, m in r["scores"].items():
        pub = r["published"].get(mode)
        rows.append([names.get(mode, mode), _f(m["ndcg@10"]), _f(m["recall@100"]), _f(m["mrr@10"]),
                     f"{pub[1]:.3f} ({pub[0]})" if pub else "–"])
    hybrid = r["scores"].get("hybrid", {}).get("ndcg@10")
    s = r["settings"]
    return (f"**{r['dataset']}**, {r['split']} split: {r['scores']['hybrid']['queries']} queries, "
            f"{r['documents']:,} documents in {r['chunks']:,} chunks ({s['max_words']} words, fusion {s['fusion']}, "
            f"dense weight {s['dense_weight']}, {s['candidates']} candidates per side). A document scores its best "
            "chunk.\n\n"
            + _table(["system", "nDCG@10", "Recall@100", "MRR@10", "published nDCG@10"], rows)
            + f"\n\nGoal: hybrid nDCG@10 ≥ {GOALS['hybrid_ndcg']} and ahead of both sides alone: "
            + _ok(hybrid, GOALS["hybrid_ndcg"]) + "\n")


def squad_md(r: dict[str, Any]) -> str:
    v1 = r["v1"]
    rows = [
        ["gold paragraph at top-1 of search", _pct(v1["gold_top1"]), f"≥ 80% {_ok(v1['gold_top1'], 0.80)}"],
        ["gold paragraph in top-5 of search", _pct(v1["gold_top5"]), ""],
        ["answer contains an accepted answer (abstentions are misses)", _pct(v1["answer_contains"]),
         f"≥ 70% {_ok(v1['answer_contains'], 0.70)}"],
        ["answered (did not abstain)", _pct(v1["answered"]), ""],
        ["mean answer length, words (answered only)", _f(v1["answer_words_mean"], 1),
         f"< 40 {_ok(v1['answer_words_mean'], 40, below=True)}"],
    ]
    text = (f"**SQuAD v1.1 dev**: {v1['questions']:,} questions (`random.Random(0).sample(questions, 2000)`, "
            f"`benchmarks/squad.py`) over one corpus of all {r['paragraphs']:,} dev paragraphs.\n\n"
            + _table(["measure", "value", "goal"], rows) + "\n")
    v2 = r.get("v2")
    if v2:
        rows2 = [
            ["abstention precision (abstained on an impossible question)", _pct(v2["abstain_precision"]), ""],
            ["abstention recall (impossible questions abstained on)", _pct(v2["abstain_recall"]), ""],
            ["ROC AUC of answer.confidence, possible vs impossible", _f(v2["auc"]),
             f"≥ 0.70 {_ok(v2['auc'], 0.70)}"],
            ["possible questions: answer contains an accepted answer", _pct(v2["possible_answer_contains"]), ""],
        ]
        text += (f"\n**SQuAD v2.0 dev**: {v2['questions']:,} questions ({v2['impossible']:,} impossible, the rest "
                 f"possible; each drawn with `random.Random(0)`) over all {v2['paragraphs']:,} v2.0 dev paragraphs.\n\n"
                 + _table(["measure", "value", "goal"], rows2) + "\n")
    w = r.get("withheld")
    if w:
        rows3 = [
            ["withheld-paragraph questions abstained on", _pct(w["withheld_abstained"]), ""],
            ["kept-paragraph questions abstained on", _pct(w["kept_abstained"]), ""],
            ["ROC AUC of answer.confidence, kept vs withheld", _f(w["auc"]), ""],
            [f"withheld questions answered anyway ({w['withheld_answered']:,}): answer contains an accepted answer",
             _pct(w["withheld_answered_contains"]), ""],
        ]
        text += (f"\n**Questions the articles do not cover** (SQuAD v1.1 dev): the gold paragraphs of the first "
                 f"{w['first_questions']:,} report-sample questions ({w['withheld_paragraphs']:,} distinct "
                 f"paragraphs) are left out of the corpus (`benchmarks.squad.withheld_paragraphs`), which keeps "
                 f"the other {w['paragraphs']:,}. Asked: the {w['withheld_questions']:,} report-sample questions on "
                 f"a withheld paragraph (should abstain) and the first {w['kept_questions']:,} on a kept one "
                 "(should answer), same sample as above (`random.Random(0)`). A sibling paragraph of the same "
                 "Wikipedia article can still hold the answer, so an answer to a withheld question is not always "
                 "wrong: the last row counts those that contain an accepted answer string.\n\n"
                 + _table(["measure", "value", "goal"], rows3) + "\n")
    return text


def answers_md(r: dict[str, Any]) -> str:
    """Issue 12's goals: the quote holds the answer, the phrase that answers, abstention, seeds."""
    v1, v2, w = r["v1"], r.get("v2", {}), r.get("withheld", {})
    rows = [
        ["SQuAD v1.1: answer contains an accepted answer (abstentions are misses)", _pct(v1["answer_contains"]),
         f"≥ 85% {_ok(v1['answer_contains'], 0.85)}"],
        ["SQuAD v1.1: mean answer length, words (answered only)", _f(v1["answer_words_mean"], 1),
         f"≤ 35 {_ok(v1['answer_words_mean'], 35.0, below=True)}"],
        ["SQuAD v1.1: answer phrase, official EM", _f(100 * v1.get("phrase_em", float("nan")), 1), ""],
        ["SQuAD v1.1: answer phrase, official F1 (LR reader given the paragraph: 51.0; sliding window: ~20)",
         _f(100 * v1.get("phrase_f1", float("nan")), 1), f"≥ 51 {_ok(100 * v1.get('phrase_f1', 0.0), 51.0)}"],
        ["SQuAD v1.1: answers with a marked phrase", _pct(v1.get("phrase_marked", float("nan"))), ""],
        ["SQuAD v2.0: ROC AUC of answer.confidence, possible vs impossible", _f(v2.get("auc", float("nan"))),
         f"≥ 0.72 {_ok(v2.get('auc', 0.0), 0.72)}"],
        ["withheld paragraphs: ROC AUC, kept vs withheld", _f(w.get("auc", float("nan"))),
         f"≥ 0.90 {_ok(w.get('auc', 0.0), 0.90)}"],
        ["withheld paragraphs: kept (answerable) questions abstained on", _pct(w.get("kept_abstained", float("nan"))),
         f"≤ 5% {_ok(w.get('kept_abstained', 1.0), 0.05, below=True)}"],
    ]
    for key, label in (("seeds", "seed questions"), ("rephrased", "seed questions asked in other words")):
        s = r.get(key)
        if s:
            rows.append([f"{label}: right quote from the right article", f"{s['answered_right']} / {s['answerable']}",
                         ""])
            rows.append([f"{label}: answer phrase equal to an expected answer", f"{s['phrase_right']} / "
                         f"{s['answerable']}", ""])
            if s["on_topic"]:
                rows.append([f"{label}: on-topic unanswerable abstained on", f"{s['on_topic_abstained']} / "
                             f"{s['on_topic']}", ""])
            if s["out_of_corpus"]:
                rows.append([f"{label}: out-of-corpus abstained on", f"{s['out_of_corpus_abstained']} / "
                             f"{s['out_of_corpus']}", ""])
    return ("The goals of issue 12, on the report samples (held out: no weight was fitted on them) of the SQuAD "
            "section above, retrieval included: the answer phrase is the first marked phrase of the answer "
            "(`Citation.answer_start`–`answer_end`), scored by the official SQuAD v1.1 normalisation and "
            "max-over-gold EM/F1 (`benchmarks/metrics.py`); an abstention or an answer without a phrase scores 0. "
            "Seeds: `tests/data/seed_questions*.json` on the shipped articles and index. "
            f"Load average at the end: {_f(r.get('load_1m', float('nan')), 1)}.\n\n"
            + _table(["measure", "value", "goal"], rows) + "\n")


def speed_md(r: dict[str, Any]) -> str:
    build_rows = [[b["corpus"], f"{b['articles']:,}", f"{b['chunks']:,} + {b['sentences']:,}",
                   _f(b["build_chunks_per_s"], 1), _f(b["build_texts_per_s"], 1), _f(b["bare_texts_per_s"], 1),
                   f"{100 * b['overhead']:.1f}% {_ok(b['overhead'], 0.15, below=True)}",
                   f"{100 * (1 - b['encode_in_build_s'] / b['build_s']):.1f}%", _f(b.get("load_1m"), 1)]
                  for b in r["build"]]
    scale_rows = []
    for s in r["scales"]:
        scale_rows.append([s["corpus"], f"{s['chunks']:,}", _f(s["ask_p50_ms"], 1), _f(s["ask_p95_ms"], 1),
                           _f(s.get("encode_p50_ms"), 1), _f(s["bm25_p50_ms"], 2), _f(s.get("rank_bm25_p50_ms"), 1),
                           _f(s["open_s"], 1),
                           _f(s["first_answer_s"], 1), _f(s["peak_rss_mb"], 0), _f(s.get("load_1m"), 1)])
    return (
        "**Index build** from scratch (chunk, tokenize, embed, save). The index embeds every chunk *and* every "
        "distinct sentence (answers are picked per sentence), so the work is chunks + sentences; the bare "
        "figure is `model.encode` alone on exactly those texts, same batch size. Overhead = build time / bare "
        "encode time - 1 (goal < 15%); the last column is the share of the build spent outside the model "
        "(reading, sentence splitting, BM25 tokens, saving), which does not depend on how busy the CPU is.\n\n"
        + _table(["corpus", "articles", "chunks + sentences", "build chunks/s", "build texts/s",
                  "bare encode texts/s", "overhead", "build time not in model.encode",
                  "load avg"], build_rows)
        + "\n\n**Asking**, warm (model loaded, index open; p50/p95 over the listed questions, after 3 warm-up asks). "
        "BM25 is the postings implementation in `assistant/index/lexical.py`; rank-bm25 (the reference it matches to "
        "1e-9) is shown for comparison. First answer = wall time of `python -m assistant ask` from launch to "
        "exit with the index already built (median of 3). Peak memory = the measuring process's max RSS "
        "(model + index + queries). The synthetic corpus is recombined SciFact and SQuAD sentences with random "
        "unit vectors for chunks and sentences (real chunking and BM25; questions are encoded by the real "
        "model). Load avg = the machine's 1-minute load average when measured (on 2 cores, above 2 means other "
        "processes were competing for the CPU, which slows the model most).\n\n"
        + _table(["corpus", "chunks", "ask p50 ms", "ask p95 ms", "embed question p50 ms", "BM25 p50 ms",
                  "rank-bm25 p50 ms", "open s", "first answer s", "peak MB", "load avg"], scale_rows)
        + "\n\nGoals: ask p50 < 50 ms at seeds scale "
        + _ok(r["scales"][0]["ask_p50_ms"], 50, below=True)
        + (", < 250 ms at 100k chunks " + _ok(r["scales"][-1]["ask_p50_ms"], 250, below=True)
           if len(r["scales"]) > 2 else "")
        + "\n"
    )


def chunks_md(r: dict[str, Any]) -> str:
    rows = [[str(c["max_words"]), f"{c['chunks']:,}", _f(c["ndcg@10"]), _f(c["recall@100"]),
             _pct(c.get("squad_gold_top1")), _pct(c.get("squad_answer_contains")),
             _f(c.get("squad_answer_words_mean"), 1)]
            for c in r["chunk_sizes"]]
    return (f"Shipped retrieval settings; BEIR `{r['beir_split']}` queries ({r['beir_queries']}) on a sub-corpus of "
            f"{r['chunk_docs']:,} documents (every judged one plus others), and {r['squad_questions']} SQuAD v1.1 "
            "tuning questions over all dev paragraphs.\n\n"
            + _table(["max words", "chunks", "nDCG@10", "Recall@100", "SQuAD gold@1", "SQuAD contains",
                      "answer words"], rows) + "\n")


def tune_md(r: dict[str, Any]) -> str:
    text = (f"Tuning splits only: {r['beir_queries']} BEIR `{r['beir_split']}` queries and {r['squad_questions']} "
            "SQuAD v1.1 questions outside the report sample (`benchmarks.squad.tuning_slice`).\n")
    fusion = r.get("fusion", {})
    if fusion.get("beir"):
        squad = {row["variant"]: row for row in fusion.get("squad", [])}
        ranked = sorted(fusion["beir"], key=lambda row: -(row["ndcg@10"] + squad.get(row["variant"], {})
                                                         .get("gold_top1", 0)))
        rows2 = [[row["variant"], _f(row["ndcg@10"]), _f(row["recall@100"]),
                  _pct(squad.get(row["variant"], {}).get("gold_top1")),
                  _pct(squad.get(row["variant"], {}).get("gold_top5"))] for row in ranked]
        text += ("\n**Fusion, dense weight and candidate depth** (hybrid), best first by BEIR nDCG@10 + SQuAD "
                 "gold@1:\n\n"
                 + _table(["variant", "nDCG@10", "Recall@100", "SQuAD gold@1", "SQuAD gold@5"], rows2) + "\n")
    return text


def serve_md(r: dict[str, Any]) -> str:
    local = r["in_process"]
    rows = [["in-process `Assistant.ask`", "1", f"{local['requests']:,}", _f(local["p50_ms"], 1),
             _f(local["p95_ms"], 1), "–", "–", _f(local.get("load_1m"), 1)]]
    rows += [[f"`POST /ask` over loopback, {h['clients']} client{'s' if h['clients'] > 1 else ''}", str(h["clients"]),
              f"{h['requests']:,}", _f(h["p50_ms"], 1), _f(h["p95_ms"], 1), _f(h["per_s"], 1), str(h["errors"]),
              _f(h.get("load_1m"), 1)] for h in r["http"]]
    cli = r["cli"]
    cli_rows = [["`assistant ask --server URL`", _f(cli["ask_server_s"], 3)],
                ["`assistant ask` (cold: loads torch, the model and the index)", _f(cli["ask_cold_s"], 2)]]
    return (f"A real `assistant serve` process (uvicorn, shipped defaults: 2 workers, a queue of 64) on the shipped "
            f"articles, asked the {r['questions']} seed questions (`tests/data/seed_questions.json`): one client "
            f"{r['rounds']} times over, eight clients once each at the same time, every client on its own keep-alive "
            "connection; in-process `ask` on the same questions in the measuring process. Latency is per request, "
            "from send to the whole JSON answer.\n\n"
            + _table(["", "clients", "requests", "p50 ms", "p95 ms", "answers/s", "errors", "load avg"], rows)
            + f"\n\nWall time of one question from the shell (launch to exit, median of {cli['runs']}, `-k 0`; "
            f"load avg {_f(cli.get('load_1m'), 1)}):\n\n"
            + _table(["command", "seconds"], cli_rows) + "\n")


def store_md(r: dict[str, Any]) -> str:
    """Build against today's build, bare encode speed, update writes, approximate against exact search."""
    names = {"build": "build: every sentence embedded alone (today's)",
             "pooled": "pooled: sentences pooled from the chunk pass", "lazy": "lazy: sentences embedded when read"}
    rows, ratios = [], []
    for b in r["build"]:
        today = b["modes"][0]  # the first combination built is today's (sentence-transformers, "build")
        for m in b["modes"]:
            asked = "–"
            if m.get("questions"):
                same = sum(a == t for a, t in zip(m["quotes"], today["quotes"], strict=True)) / m["questions"]
                asked = f"{_pct(m['answer_contains'])} / {_pct(m['answered'])} / {_pct(same)} ({m['questions']})"
            rows.append([b["corpus"], names.get(m["mode"], m["mode"]), m.get("engine", "sentence-transformers"),
                         f"{m['articles']:,}", f"{m['chunks']:,}", f"{m['texts']:,}", _f(m["build_s"], 1),
                         _f(m["texts"] / m["build_s"], 1), f"{today['build_s'] / m['build_s']:.2f}×", asked,
                         _f(m.get("load_1m"), 1)])
        best = max(b["modes"][1:], key=lambda m: today["build_s"] / m["build_s"], default=None)
        if best is not None:
            ratios.append((b["corpus"], f"{best['mode']} + {best.get('engine', 'sentence-transformers')}",
                           today["build_s"] / best["build_s"]))
    text = ("**Build from scratch, side by side** (one process, one after the other, the real model; wall time "
            "of `Assistant.open` on an empty index folder). Today's build (`sentence_vectors=\"build\"`, "
            "sentence-transformers) embeds every chunk and every distinct sentence; `\"pooled\"` embeds the "
            "chunks only and pools each sentence's vector from its tokens' embeddings in the chunk pass. The "
            "engine is `Settings.encoder_engine` (`onnx-int8`: the int8-quantized graph, vectors of its own). "
            "Each index of the mix is then asked the same SQuAD v1.1 dev questions on its SQuAD paragraphs "
            "(report sample first): answer contains an accepted answer / answered / first quote the same as "
            "today's build.\n\n"
            + _table(["corpus", "sentence vectors", "engine", "articles", "chunks", "texts embedded", "build s",
                      "texts/s", "speed-up", "contains / answered / same quote", "load avg"], rows)
            + "\n\nBest speed-up against today's build: "
            + ", ".join(f"{c}: {x:.2f}× ({how})" for c, how, x in ratios)
            + f" (goal ≥ 3× {_ok(min((x for _, _, x in ratios), default=None), 3.0)}).\n")
    if r.get("bare"):
        text += ("\n**Bare encode** (the encoder's `encode`, batch 32, texts sorted by length), per engine and "
                 "kind of text:\n\n"
                 + _table(["engine", "texts", "mean words", "texts/s", "load avg"],
                          [[b["engine"], f"{b['kind']} ({b['texts']})", _f(b["words_mean"], 1),
                            _f(b["texts_per_s"], 1), _f(b.get("load_1m"), 1)] for b in r["bare"]]) + "\n")
    u = r.get("update")
    if u:
        text += (f"\n**Update**: {u['articles_changed']} articles edited in a {u['chunks']:,}-chunk synthetic index: "
                 f"wrote {u['written_bytes']:,} bytes of {u['index_bytes']:,} ({100 * u['written_share']:.2f}%, goal "
                 f"< 5% {_ok(u['written_share'], 0.05, below=True)}) in {u['update_s']:.1f} s, embedding "
                 f"{u['encoded_texts']} texts.\n")
    if r.get("ann"):
        rows = [[f"{a['chunks']:,}", _f(a["sq8_recall@100"]), _f(a["sq8_p50_ms"], 1), _f(a["exact_p50_ms"], 1),
                 _f(a["sq8_build_s"], 1), f"{a['sq8_bytes'] / 2**20:,.0f} / {a['vectors_bytes'] / 2**20:,.0f}",
                 f"{_f(a['hnsw_recall@100'])} ({a['hnsw_rows']:,} rows, built in {a['hnsw_build_s']:.0f} s)"
                 if "hnsw_rows" in a else "–",
                 _f(a.get("load_1m"), 1)] for a in r["ann"]]
        text += ("\n**Approximate dense search** against exact search on the same vectors (synthetic indexes, "
                 "random unit vectors, real SQuAD questions embedded by the model): 8-bit quantized codes "
                 "(FAISS IndexScalarQuantizer, memory-mapped), the best 2k re-scored with the float32 vectors. "
                 "HNSW (M=32, efConstruction=80, efSearch=256) is measured beside it on the first 100,000 rows.\n\n"
                 + _table(["chunks", "recall@100", "approx p50 ms", "exact p50 ms", "build s", "codes / vectors MB",
                           "HNSW recall@100", "load avg"], rows)
                 + f"\n\nGoal: recall@100 ≥ 0.98 {_ok(min(a['sq8_recall@100'] for a in r['ann']), 0.98)}\n")
    return text


def news_md(r: dict[str, Any]) -> str:
    from .news import news_md as render

    return render(r)


def scale_md(r: dict[str, Any]) -> str:
    from .scale import scale_md as render

    return render(r)


RENDER = {"retrieval": retrieval_md, "squad": squad_md, "answers": answers_md, "speed": speed_md, "tune": tune_md,
          "chunks": chunks_md, "serve": serve_md, "store": store_md, "news": news_md, "scale": scale_md}
TITLES = {"retrieval": "Retrieval (BEIR)", "squad": "Extractive answers (SQuAD)",
          "answers": "Answers: the phrase, self-contained quotes, abstention, seeds", "speed": "Speed and memory",
          "tune": "Tuning: fusion (tuning splits only, never test)",
          "chunks": "Tuning: chunk size (tuning splits only)", "serve": "Serving (HTTP and the CLI client)",
          "store": "Big collections: build, update, approximate search",
          "news": "News: ingest throughput and duplicate copies",
          "scale": "Past one machine: Milvus retrieval, Ray Data encoding"}


def section_text(section: str, results: dict[str, Any]) -> str:
    return f"\n## {TITLES[section]}\n\n{RENDER[section](results[section])}"


# Hand-measured text in docs/benchmarks.md: the one place for the rule that keeps it through a regeneration.
HAND_BEGIN = "<!-- by hand: {name} -->"
HAND_END = "<!-- /by hand -->"
_HAND_BEGIN = re.compile(r"<!-- by hand: ([A-Za-z0-9_.-]+) -->")
_HAND_LIKE = re.compile(r"<!--\s*/?\s*by hand")  # any line meant as a fence, well formed or not
HAND_RULE = (f"Text measured by hand goes between a `{HAND_BEGIN.format(name='NAME')}` line (NAME unique) and a "
             f"`{HAND_END}` line: a regeneration puts each such block back at the end of the section it sat in "
             "(under its old heading if that section is no longer rendered) and drops every other line that the "
             "results do not render.")


class HandTextError(ValueError):
    """A fence in benchmarks.md is malformed; raised before anything is written, so no hand text is lost."""


@dataclass(frozen=True)
class HandBlock:
    """A fenced hand-written block: its text (fence lines included) and the `## ` section title it sat under."""

    name: str
    section: str  # "" for the text before the first section
    text: str
    line: int  # 1-based line of the opening fence, for error messages


def hand_blocks(text: str, source: str = "benchmarks.md") -> list[HandBlock]:
    """The fenced blocks of a rendered page, in order; a fence that would lose text raises HandTextError."""
    blocks: list[HandBlock] = []
    section = ""
    opened: tuple[str, int] | None = None  # name and line of the block being read
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = line.strip()
        if opened is not None:
            body.append(line)
            if fence == HAND_END:
                blocks.append(HandBlock(opened[0], section, "\n".join(body) + "\n", opened[1]))
                opened, body = None, []
            elif _HAND_LIKE.match(fence):
                raise HandTextError(f"{source} line {number}: {fence!r} inside the block {opened[0]!r} opened at "
                                    f"line {opened[1]}, which needs {HAND_END!r} first; nothing written")
            continue
        begin = _HAND_BEGIN.fullmatch(fence)
        if begin:
            _check_new_name(begin.group(1), blocks, source, number)
            opened, body = (begin.group(1), number), [line]
        elif _HAND_LIKE.match(fence):
            raise HandTextError(f"{source} line {number}: {fence!r} is not {HAND_BEGIN.format(name='NAME')!r} "
                                f"opening a block, nor {HAND_END!r} closing one; nothing written")
        elif line.startswith("## "):
            section = line[3:].strip()
    if opened is not None:
        raise HandTextError(f"{source} line {opened[1]}: the block {opened[0]!r} is never closed by {HAND_END!r}; "
                            "nothing written")
    return blocks


def _check_new_name(name: str, blocks: list[HandBlock], source: str, number: int) -> None:
    """Names are unique so that a writer can find a block again and a duplicated block shows up."""
    for block in blocks:
        if block.name == name:
            raise HandTextError(f"{source} line {number}: the name {name!r} is already used by the block at line "
                                f"{block.line}; nothing written")


def _kept_blocks(path: Path) -> list[HandBlock]:
    """Read before overwriting: the hand-measured blocks of the page about to be replaced."""
    return hand_blocks(path.read_text(encoding="utf-8"), str(path)) if path.exists() else []


def _blocks_under(section: str, blocks: list[HandBlock]) -> list[str]:
    return [b.text for b in blocks if b.section == section]


def _header(results: dict[str, Any]) -> list[str]:
    m = results.get("machine", {})
    return [
        "# Benchmarks\n",
        "Generated by `python -m benchmarks run` (see `python -m benchmarks run --help`); every figure below "
        "was measured by that command on the machine described here, except the blocks written by hand. "
        "Point it at your own data: any BEIR-layout folder (`--scifact DIR`) and any SQuAD-shaped folder "
        f"(`--squad DIR`). {HAND_RULE}\n",
        f"Machine: {m.get('cpus', '?')} CPU cores, Python {m.get('python', '?')}, torch {m.get('torch', '?')} "
        f"({m.get('torch_threads', '?')} threads), {m.get('platform', '?')}.\n",
        "How it runs: documents become article files (first line the title) under `benchmarks/.cache/` "
        "(never in the repo), indexed by the project's own code (`Assistant.open`), queried through "
        "`Assistant.search(q, k, mode)` and `Assistant.ask(q)`. Embeddings are cached by text, so a rerun or a "
        "chunk-size variant embeds only new texts. Retrieval-only corpora (BEIR) are indexed with real chunk "
        "vectors and zero sentence vectors (search never reads sentence vectors); SQuAD indexes are complete.\n\n"
        "```bash\npython -m benchmarks run --scifact ../shared/bench/scifact --squad ../shared/bench/squad "
        "--out docs/\n"
        "python -m benchmarks run --sections retrieval --scifact ~/my-beir-folder   # your own data\n```\n",
    ]


def _section_parts(section: str, results: dict[str, Any], out: Path, plots: bool) -> list[str]:
    """One measured section: its text, when and at which code it was measured, and the speed plots."""
    r = results[section]
    parts = [section_text(section, results).strip() + "\n",
             f"_Measured {r.get('measured', '?')} in {r.get('seconds', '?')} s, code `{r.get('code', '?')}`._\n"]
    if section == "speed" and plots:
        parts += [f"![{name}]({name})\n" for name in _speed_plots(r, out)]
    return parts


def write(results: dict[str, Any], out: Path, plots: bool = True) -> Path:
    """docs/benchmarks.md from the results, plus the plots it links, keeping the hand-measured blocks.

    Every block fenced as HAND_RULE says goes back at the end of its section, after the generated text, in
    its old order; a block whose section is not rendered keeps its heading there (or at the end of the page
    if no section has that title any more). A malformed fence raises HandTextError before anything is written.
    """
    path = out / "benchmarks.md"
    kept = _kept_blocks(path)
    out.mkdir(parents=True, exist_ok=True)
    parts = _header(results) + _blocks_under("", kept)
    for section in RENDER:
        title = TITLES[section]
        hand = _blocks_under(title, kept)
        if section in results:
            parts += _section_parts(section, results, out, plots)
        elif hand:
            parts.append(f"## {title}\n")
        parts += hand
    for title in dict.fromkeys(b.section for b in kept if b.section and b.section not in TITLES.values()):
        parts += [f"## {title}\n", *_blocks_under(title, kept)]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _speed_plots(r: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted(r["scales"], key=lambda s: s["chunks"])
    chunks = [s["chunks"] for s in scales]
    names = []
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(chunks, [s["ask_p50_ms"] for s in scales], "o-", label="ask p50")
    ax.plot(chunks, [s["ask_p95_ms"] for s in scales], "s--", label="ask p95")
    ax.plot(chunks, [s["bm25_p50_ms"] for s in scales], "^:", label="BM25 part p50")
    if all("encode_p50_ms" in s for s in scales):
        ax.plot(chunks, [s["encode_p50_ms"] for s in scales], "v-.", label="question embedding p50")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("ms per question (warm)")
    ax.set_title("Ask latency against corpus size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "benchmarks-latency.png", dpi=110)
    plt.close(fig)
    names.append("benchmarks-latency.png")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(chunks, [s["peak_rss_mb"] for s in scales], "o-")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("peak resident memory, MB")
    ax.set_title("Memory against corpus size (model + index)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "benchmarks-memory.png", dpi=110)
    plt.close(fig)
    names.append("benchmarks-memory.png")
    return names
