"""The benchmark suite: metric functions against hand-computed values, and a smoke run on a tiny slice."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_news_benchmark import NEWS_RESULT

from benchmarks import report
from benchmarks.cli import BENCH, main
from benchmarks.metrics import (
    max_pool,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
    roc_auc,
    squad_exact,
    squad_f1,
    squad_normalize,
    squad_scores,
)
from benchmarks.squad import (
    Question,
    contains_answer,
    report_sample,
    sample_ids,
    tuning_slice,
    v2_sample,
    withheld_paragraphs,
)
from benchmarks.tune_answer import fit_logistic


def test_ndcg_by_hand() -> None:
    # relevant a (rel 1) at rank 2 and b (rel 1) at rank 3: DCG = 1/log2(3) + 1/log2(4); IDCG = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 0.5) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["x", "a", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(expected)
    assert ndcg_at_k(["a", "b"], {"a": 1, "b": 1}) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "y"], {"a": 1}) == 0.0
    assert ndcg_at_k(["x", "a"], {"a": 1}, k=1) == 0.0  # only the first k count
    # graded: c (2) at rank 1, a (1) at rank 2 is ideal; swapped gives (1 + 2/log2 3) / (2 + 1/log2 3)
    assert ndcg_at_k(["a", "c"], {"a": 1, "c": 2}) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))


def test_recall_and_mrr_by_hand() -> None:
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1, "c": 1}, 100) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "x", "b"], {"a": 1, "b": 1}, 2) == pytest.approx(1 / 2)
    assert mrr_at_k(["x", "y", "a"], {"a": 1}) == pytest.approx(1 / 3)
    assert mrr_at_k(["x"] * 10 + ["a"], {"a": 1}, 10) == 0.0
    assert recall_at_k(["a"], {}) == 0.0


def test_roc_auc_by_hand() -> None:
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs won 0.9>0.5, 0.9>0.1, 0.4>0.1; lost 0.4<0.5 -> 3/4
    assert roc_auc([0.9, 0.4, 0.5, 0.1], [True, True, False, False]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [True, False]) == pytest.approx(0.5)  # a tie counts half
    assert roc_auc([1.0, 0.0], [False, True]) == 0.0
    assert math.isnan(roc_auc([0.3], [True]))


def test_a_logistic_sample_weight_counts_a_row_as_that_many_copies() -> None:
    rng = np.random.default_rng(0)
    f = np.column_stack([np.ones(40), rng.normal(size=(40, 2))])
    t = (f[:, 1] + 0.5 * rng.normal(size=40) > 0).astype(float)
    doubled = fit_logistic(np.concatenate([f, f[:10]]), np.concatenate([t, t[:10]]))
    weighted = fit_logistic(f, t, sample_weights=np.concatenate([np.full(10, 2.0), np.ones(30)]))
    assert np.allclose(doubled, weighted, atol=1e-4)
    assert not np.allclose(weighted, fit_logistic(f, t), atol=1e-3)


def test_squad_scores_as_the_official_script_by_hand() -> None:
    """evaluate-v1.1.py: lower, drop punctuation and a/an/the, fix spaces; token F1; max over accepted answers."""
    assert squad_normalize("The  Denver Broncos!") == "denver broncos"
    assert squad_normalize("an apple, a pear") == "apple pear"
    assert squad_exact("the Denver Broncos.", "Denver Broncos") == 1.0
    assert squad_f1("Denver Broncos", "the Denver Broncos team") == pytest.approx(0.8)  # P 2/2, R 2/3
    assert squad_f1("Carolina", "Denver Broncos") == 0.0
    assert squad_scores("Broncos", ["Carolina Panthers", "Denver Broncos"]) == (0.0, pytest.approx(2 / 3))
    assert squad_scores("Denver Broncos", ["Carolina Panthers", "Denver Broncos"]) == (1.0, 1.0)


def test_max_pool_scores_a_document_by_its_best_chunk() -> None:
    assert max_pool([("d1", 0.5), ("d2", 0.9), ("d1", 0.95), ("d3", 0.1)]) == ["d1", "d2", "d3"]
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)


def _questions(n: int) -> list[Question]:
    return [Question(id=str(i), question=f"q{i}", gold_passage="p", answers=["a"], is_impossible=i % 3 == 0)
            for i in range(n)]


def test_report_sample_is_fixed_and_tuning_never_overlaps_it() -> None:
    qs = _questions(5000)
    assert [q["id"] for q in report_sample(qs)] == [q["id"] for q in report_sample(list(qs))]
    assert len(sample_ids(qs)) == 2000
    assert not sample_ids(qs) & {q["id"] for q in tuning_slice(qs, 1000)}
    v2 = v2_sample(qs, 100)
    assert sum(q["is_impossible"] for q in v2) == 100 and len(v2) == 200


def test_withheld_split_leaves_no_asked_paragraph_on_both_sides() -> None:
    qs = [Question(id=str(i), question=f"q{i}", gold_passage=f"p{i % 7}", answers=["a"], is_impossible=False)
          for i in range(40)]
    split = withheld_paragraphs(qs, 3)
    assert split.paragraphs == ["p0", "p1", "p2"]  # the first 3 questions' paragraphs, in order
    assert {q["gold_passage"] for q in split.withheld} == {"p0", "p1", "p2"}
    assert not {q["gold_passage"] for q in split.kept} & set(split.paragraphs)
    assert len(split.withheld) == len(split.kept) > 0
    assert split == withheld_paragraphs(list(qs), 3)  # fixed


def test_contains_answer_is_case_and_space_insensitive() -> None:
    assert contains_answer("It was in  the 10th Century.", ["10th century"])
    assert not contains_answer("", ["x"])


def _results() -> dict[str, Any]:
    """Fixture results for every section, built anew on each call because tests add to them."""
    m = {"queries": 3, "ndcg@10": 0.7, "recall@100": 0.9, "mrr@10": 0.6}
    settings = {"max_words": 120, "fusion": "rrf", "dense_weight": 0.5, "candidates": 100, "rrf_k": 60}
    scale = {"chunks": 10, "ask_p50_ms": 20.0, "ask_p95_ms": 30.0, "bm25_p50_ms": 0.1, "open_s": 1.0,
             "first_answer_s": 4.0, "peak_rss_mb": 600.0, "articles": 5, "corpus": "seeds"}
    build = {"corpus": "seeds", "articles": 5, "chunks": 10, "sentences": 40, "build_chunks_per_s": 5.0,
             "build_texts_per_s": 25.0, "bare_texts_per_s": 27.0, "overhead": 0.08,
             "build_s": 2.0, "encode_in_build_s": 1.9}
    variant = {"variant": "rrf w=0.5 depth=100", "ndcg@10": 0.7, "recall@100": 0.9}
    return {
        "retrieval": {"dataset": "scifact", "split": "test", "documents": 20, "chunks": 40, "settings": settings,
                      "scores": {"bm25": m, "dense": m, "hybrid": m},
                      "published": {"bm25": ["BM25", 0.679], "dense": None, "hybrid": None}},
        "squad": {"paragraphs": 10, "v1": {"questions": 10, "gold_top1": 0.8, "gold_top5": 0.9,
                                           "answer_contains": 0.7, "answered": 0.9, "answer_words_mean": 30.0}},
        "answers": {"v1": {"answer_contains": 0.8, "answer_words_mean": 36.0, "phrase_em": 0.25, "phrase_f1": 0.34,
                           "phrase_marked": 0.9},
                    "v2": {"auc": 0.7}, "withheld": {"auc": 0.89, "kept_abstained": 0.03},
                    "seeds": {"answerable": 34, "answered_right": 33, "phrase_right": 18, "on_topic": 11,
                              "on_topic_abstained": 5, "out_of_corpus": 7, "out_of_corpus_abstained": 7},
                    "load_1m": 2.0},
        "speed": {"build": [build], "scales": [scale, scale | {"chunks": 1000, "corpus": "big"}]},
        "tune": {"beir_split": "train", "beir_queries": 3, "squad_questions": 4,
                 "fusion": {"beir": [variant], "squad": [variant | {"gold_top1": 0.8, "gold_top5": 0.9}]}},
        "chunks": {"beir_split": "train", "beir_queries": 3, "squad_questions": 4, "chunk_docs": 20,
                 "chunk_sizes": [{"max_words": 120, "chunks": 40, "ndcg@10": 0.7, "recall@100": 0.9,
                                  "squad_gold_top1": 0.8, "squad_answer_contains": 0.7,
                                  "squad_answer_words_mean": 30.0}]},
        "serve": SERVE_RESULT,
        "store": {"build": [{"corpus": "seeds", "modes": [
                      {"mode": m, "articles": 5, "chunks": 38, "texts": t, "build_s": s, "encode_s": s, "load_1m": 1.0,
                       "questions": 4, "answer_contains": c, "answered": 1.0, "quotes": q}
                      for m, t, s, c, q in (("build", 157, 9.0, 0.75, ["a", "b", "c", ""]),
                                            ("lazy", 38, 3.0, 0.5, ["a", "x", "c", "y"]))]}],
                  "bare": [{"kind": "chunks", "texts": 38, "words_mean": 110.0, "texts_per_s": 17.0,
                            "engine": "torch", "load_1m": 1.0}],
                  "update": {"articles_changed": 10, "index_bytes": 1000, "written_bytes": 10, "written_share": 0.01,
                             "update_s": 1.0, "encoded_texts": 20, "chunks": 100},
                  "ann": [{"chunks": 100, "sq8_recall@100": 0.99, "sq8_p50_ms": 1.0, "exact_p50_ms": 2.0,
                           "sq8_build_s": 0.1, "sq8_bytes": 2**20, "vectors_bytes": 2**22, "hnsw_recall@100": 0.4,
                           "hnsw_rows": 100, "hnsw_build_s": 1.0, "load_1m": 1.0}]},
        "news": NEWS_RESULT,
        "scale": SCALE_RESULT,
    }


def test_report_renders_every_section_with_plots(tmp_path: Path) -> None:
    results = _results()
    path = report.write(results, tmp_path)
    text = path.read_text()
    for title in report.TITLES.values():
        assert title in text
    assert "do not cover" not in text  # results from before the withheld measure still render
    assert "answer phrase, official F1" in text and "| 34.0 | ≥ 51 ❌ |" in text and "33 / 34" in text
    # build side by side: each index's answers beside today's (contains / answered / same first quote)
    assert "| 75.0% / 100.0% / 100.0% (4) |" in text and "| 3.00× | 50.0% / 100.0% / 50.0% (4) |" in text
    results["squad"]["withheld"] = {"withheld_paragraphs": 4, "first_questions": 5, "paragraphs": 6,
                                    "withheld_questions": 5, "kept_questions": 5, "withheld_abstained": 0.8,
                                    "kept_abstained": 0.2, "auc": 0.9, "withheld_answered": 1,
                                    "withheld_answered_contains": 1.0}
    text = report.write(results, tmp_path, plots=False).read_text()
    assert "do not cover" in text and "kept vs withheld" in text and "sibling paragraph" in text
    assert (tmp_path / "benchmarks-latency.png").stat().st_size > 1000
    assert (tmp_path / "benchmarks-memory.png").stat().st_size > 1000


@pytest.mark.slow
@pytest.mark.skipif(not (BENCH / "scifact" / "corpus.jsonl").exists(), reason="benchmark data not present")
def test_smoke_run_on_a_tiny_slice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, cache = tmp_path / "docs", tmp_path / "cache"
    code = main(["run", "--scifact", str(BENCH / "scifact"), "--squad", str(BENCH / "squad"), "--out", str(out),
                 "--cache", str(cache), "--sections", "retrieval,squad", "--limit-docs", "20",
                 "--limit-queries", "5", "--squad-questions", "10", "--no-plots"])
    assert code == 0
    results = json.loads((cache / "results.json").read_text())
    scores = results["retrieval"]["scores"]
    assert set(scores) == {"bm25", "dense", "hybrid"}
    for mode in scores.values():
        assert mode["queries"] == 5
        for name in ("ndcg@10", "recall@100", "mrr@10"):
            assert 0.0 <= mode[name] <= 1.0
    assert scores["dense"]["recall@100"] == 1.0  # 20 documents: dense ranks them all (BM25 only those matching)
    assert scores["hybrid"]["recall@100"] == 1.0
    assert scores["hybrid"]["ndcg@10"] > 0.5  # judged documents among 20: easy, and a regression alarm
    v1 = results["squad"]["v1"]
    assert v1["questions"] == 10 and v1["gold_top5"] >= 0.8
    assert 0.0 <= v1["answer_contains"] <= 1.0
    assert 0.0 <= results["squad"]["v2"]["auc"] <= 1.0
    withheld = results["squad"]["withheld"]
    assert withheld["withheld_paragraphs"] > 0 and withheld["paragraphs"] > 0
    assert withheld["withheld_questions"] == withheld["kept_questions"] > 0
    for name in ("withheld_abstained", "kept_abstained", "auc"):
        assert 0.0 <= withheld[name] <= 1.0
    assert withheld["withheld_answered"] == 0 or 0.0 <= withheld["withheld_answered_contains"] <= 1.0
    md = (out / "benchmarks.md").read_text()
    assert "nDCG@10" in md and "SQuAD v1.1" in md and "do not cover" in md
    assert "hybrid (shipped)" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not (BENCH / "squad" / "dev-v1.1.passages.jsonl").exists(), reason="benchmark data not present")
def test_answers_section_on_a_tiny_slice(tmp_path: Path) -> None:
    """The answers section end to end: phrase EM/F1 from real answers, and the seed files counted."""
    out, cache = tmp_path / "docs", tmp_path / "cache"
    code = main(["run", "--squad", str(BENCH / "squad"), "--out", str(out), "--cache", str(cache),
                 "--sections", "answers", "--limit-docs", "20", "--limit-queries", "5", "--squad-questions", "10",
                 "--no-plots"])
    assert code == 0
    r = json.loads((cache / "results.json").read_text())["answers"]
    assert 0.0 <= r["v1"]["phrase_em"] <= r["v1"]["phrase_f1"] <= 1.0
    assert r["seeds"]["answerable"] >= 25 and r["seeds"]["answered_right"] >= 25
    assert r["rephrased"]["answerable"] >= 10
    assert "answer phrase, official F1" in (out / "benchmarks.md").read_text()


@pytest.mark.skipif(not (BENCH / "scifact" / "corpus.jsonl").exists(), reason="benchmark data not present")
def test_scale_section_on_a_tiny_slice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pymilvus")
    pytest.importorskip("ray")
    out, cache = tmp_path / "docs", tmp_path / "cache"
    code = main(["run", "--scifact", str(BENCH / "scifact"), "--out", str(out), "--cache", str(cache),
                 "--sections", "scale", "--scale-docs", "30", "--scale-ray-texts", "70", "--no-plots"])
    assert code == 0
    r = json.loads((cache / "results.json").read_text())["scale"]
    assert r["documents"] == 30 and r["chunks"] >= 30
    for backend in ("local", "milvus"):
        for mode in ("hybrid", "dense", "bm25"):
            assert 0.0 <= r["scores"][backend][mode]["ndcg@10"] <= 1.0
        assert r["ask"][backend]["p50_ms"] > 0
    assert r["scores"]["milvus"]["dense"]["queries"] == r["scores"]["local"]["dense"]["queries"] > 0
    assert [x["actors"] for x in r["ray"]] == [0, 1, 2] and all(x["texts"] == 70 for x in r["ray"])
    assert "Retrieval through Milvus" in capsys.readouterr().out


SCALE_RESULT = {"dataset": "scifact", "split": "test", "documents": 30, "chunks": 40, "fusion": "convex",
                "insert_s": 1.0, "load_insert": 1.0, "load_ndcg": 1.0,
                "scores": {b: {m: {"queries": 3, "ndcg@10": 0.7, "recall@100": 0.9, "mrr@10": 0.6}
                               for m in ("bm25", "dense", "hybrid")} for b in ("local", "milvus")},
                "ask": {"questions": 41, "local": {"p50_ms": 30.0, "p90_ms": 50.0},
                        "milvus": {"p50_ms": 40.0, "p90_ms": 60.0}, "load": 1.0},
                "ray": [{"engine": "local SentenceEncoder", "actors": 0, "texts": 70, "seconds": 4.0,
                         "texts_per_s": 17.5, "load": 1.0},
                        {"engine": "Ray Data map_batches", "actors": 2, "texts": 70, "seconds": 9.0,
                         "texts_per_s": 7.8, "load": 1.0}]}

SERVE_RESULT = {"questions": 52, "rounds": 3,
                "in_process": {"requests": 156, "p50_ms": 31.25, "p95_ms": 48.5, "load_1m": 1.2},
                "http": [{"clients": 1, "requests": 156, "errors": 0, "p50_ms": 35.75, "p95_ms": 52.5,
                          "per_s": 27.5, "load_1m": 1.3},
                         {"clients": 8, "requests": 416, "errors": 0, "p50_ms": 140.25, "p95_ms": 210.5,
                          "per_s": 55.5, "load_1m": 2.5}],
                "cli": {"ask_server_s": 0.345, "ask_cold_s": 7.5, "runs": 3, "load_1m": 1.5}}


def test_serve_section_renders_every_measure() -> None:
    """The serve section's table shows each figure it was given (in-process, 1 and 8 clients, the CLI)."""
    text = report.section_text("serve", {"serve": SERVE_RESULT})
    for figure in ("31.2", "48.5", "35.8", "52.5", "140.2", "210.5", "55.5", "0.345", "7.50", "| 8 |"):
        assert figure in text, figure


REPO_PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
ANSWERS, STORE = report.TITLES["answers"], report.TITLES["store"]


def _fenced(name: str, *lines: str) -> str:
    return "\n".join([report.HAND_BEGIN.format(name=name), *lines, report.HAND_END]) + "\n"


def _section(text: str, title: str) -> str:
    """The text under `## title`, up to the next section heading."""
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start: end if end >= 0 else len(text)]


def _old_page(*blocks: tuple[str, str]) -> str:
    """A page as an earlier run left it: stale generated text, and (section title, block) pairs by hand."""
    sections: dict[str, list[str]] = {}
    for title, block in blocks:
        sections.setdefault(title, []).append(block)
    return "# Benchmarks\n\nA stale header line.\n" + "".join(
        f"\n## {title}\n\nA stale generated figure of {title}.\n\n" + "\n".join(texts)
        for title, texts in sections.items())


def test_regeneration_keeps_fenced_blocks_in_their_sections_and_drops_stale_text(tmp_path: Path) -> None:
    """A hand-measured block comes back after its section's generated text, in order; unfenced text goes."""
    first = _fenced("first", "**By hand**: 12.5 s on a quiet machine.")
    second = _fenced("second", "", "A second paragraph, 3 runs.", "")
    store = _fenced("store-side", "| a | b |", "|---|---|", "| 1 | 2 |")
    (tmp_path / "benchmarks.md").write_text(_old_page((ANSWERS, first), (ANSWERS, second), (STORE, store)))
    text = report.write(_results(), tmp_path, plots=False).read_text()
    answers = _section(text, ANSWERS)
    assert first in answers and second in answers and store in _section(text, STORE)
    assert answers.index("_Measured") < answers.index(first) < answers.index(second)
    assert "stale" not in text
    assert "<!-- by hand: NAME -->" in text.split("\n## ")[0]  # the header states the rule


def test_a_block_whose_section_is_not_rendered_keeps_its_heading(tmp_path: Path) -> None:
    """No answers results: the block stays under its heading in place; an unknown section's goes last."""
    kept = _fenced("kept", "Measured by hand, 2 runs.")
    gone = _fenced("gone", "From a section since renamed.")
    (tmp_path / "benchmarks.md").write_text(_old_page((ANSWERS, kept), ("An old section", gone)))
    results = _results()
    del results["answers"]
    text = report.write(results, tmp_path, plots=False).read_text()
    assert _section(text, ANSWERS) == f"\n## {ANSWERS}\n\n{kept}"
    assert text.index(report.TITLES["squad"]) < text.index(ANSWERS) < text.index(report.TITLES["speed"])
    assert text.endswith(f"\n## An old section\n\n{gone}")


def test_writing_twice_is_idempotent(tmp_path: Path) -> None:
    """A second regeneration from the same results writes the same page: no block is duplicated."""
    block = _fenced("once", "Hand figure: 42 ms.")
    (tmp_path / "benchmarks.md").write_text(_old_page((STORE, block), ("Renamed", _fenced("other", "x"))))
    once = report.write(_results(), tmp_path, plots=False).read_text()
    twice = report.write(_results(), tmp_path, plots=False).read_text()
    assert twice == once and once.count(block) == 1 and once.count("## Renamed") == 1


@pytest.mark.parametrize(("lines", "bad_line"), [
    (["<!-- by hand: open -->", "never closed"], 4),
    (["closed, never opened", "<!-- /by hand -->"], 5),
    (["<!-- by hand: a -->", "<!-- by hand: b -->", "<!-- /by hand -->"], 5),
    (["<!-- by hand: a -->", "x", "<!-- /by hand -->", "<!-- by hand: a -->", "y", "<!-- /by hand -->"], 7),
    (["<!-- by hand -->", "no name", "<!-- /by hand -->"], 4),
])
def test_a_malformed_fence_raises_and_leaves_the_page_untouched(tmp_path: Path, lines: list[str],
                                                               bad_line: int) -> None:
    """A fence that would lose or mix up hand text is refused, naming its line, before anything is written."""
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n## " + ANSWERS + "\n" + "\n".join(lines) + "\n")
    before = page.read_bytes()
    with pytest.raises(report.HandTextError, match=f"line {bad_line}:"):
        report.write(_results(), tmp_path)
    assert page.read_bytes() == before
    assert not list(tmp_path.glob("*.png"))


def test_the_shipped_page_keeps_its_hand_measured_blocks(tmp_path: Path) -> None:
    """docs/benchmarks.md regenerated (from fixture results): each fenced block survives in its section."""
    shutil.copy(REPO_PAGE, tmp_path / "benchmarks.md")
    blocks = report.hand_blocks(REPO_PAGE.read_text(encoding="utf-8"))
    assert {"answers-scifact-rationale", "store-by-hand", "news-reruns"} <= {b.name for b in blocks}
    text = report.write(_results(), tmp_path, plots=False).read_text()
    for block in blocks:
        assert text.count(block.text) == 1, block.name
        assert block.text in (_section(text, block.section) if block.section else text), block.name
    assert "### Second tuning source: SciFact rationale sentences" in _section(text, ANSWERS)
