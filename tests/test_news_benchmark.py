"""The news benchmark's parts: near copies are made at the level they claim, scoring is right, a tiny run renders."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SEEDS

from assistant.config import DuplicateSettings
from assistant.index.duplicates import signature
from benchmarks import news, report
from benchmarks.cli import BENCH, main

TEXT = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir())[:2])
DONOR = sorted(SEEDS.iterdir())[3].read_text(encoding="utf-8")


@pytest.mark.parametrize("level", [0.95, 0.8, 0.5])
def test_copies_share_the_level_they_are_made_at(level: float) -> None:
    rnd = random.Random(1)
    words = TEXT.split()
    truncated, share = news.make_copy(TEXT, level, "truncated", DONOR, rnd)
    assert truncated.split() == words[: round(len(words) * level)] and share == pytest.approx(level, abs=0.01)
    edited, share = news.make_copy(TEXT, level, "words", DONOR, rnd)
    same = sum(a == b for a, b in zip(edited.split(), words, strict=True)) / len(words)
    assert share == same and share >= level - 0.01
    syndicated, share = news.make_copy(TEXT, level, "syndicated", DONOR, rnd)
    assert TEXT in syndicated and share == len(words) / len(syndicated.split())
    assert share == pytest.approx(level, abs=0.05)
    replaced, share = news.make_copy(TEXT, level, "sentences", DONOR, rnd)
    kept = [s for s in news._SENTENCE_END.split(TEXT) if s in replaced]
    assert share == pytest.approx(level, abs=0.08)  # whole sentences: near the level, not on it
    assert sum(len(s.split()) for s in kept) >= share * len(words) - 1
    assert news.nearest_level(0.76) == 0.8 and news.nearest_level(0.74) == 0.7


def test_evaluate_counts_pairs_by_hand() -> None:
    base = [f"story {i} " + " ".join(f"w{i}x{j}" for j in range(80)) for i in range(4)]
    texts = [*base, base[0], base[1] + " tail", "unrelated " * 3 + base[2][:40], base[3]]
    pairs = [(0, 4, 1.0, "exact"), (1, 5, 0.9, "syndicated"), (2, 6, 0.5, "truncated"), (3, 7, 0.7, "words")]
    signatures = np.stack([signature(t) for t in texts])
    result = news.evaluate(signatures, pairs, DuplicateSettings(threshold=0.5))
    # found: (0,4) and (1,5) are copies; (3,7) is grey (counted neither way); (2,6) not grouped: no false pair
    assert result["positive_pairs"] == 2 and result["recall"] == 1.0 and result["precision"] == 1.0
    assert result["false_pairs"] == 0
    assert result["detected"]["exact"]["1.00"] == 1.0 and result["detected"]["truncated"]["0.50"] == 0.0


def test_report_renders_the_news_section(tmp_path: Path) -> None:
    results: dict[str, Any] = {"news": NEWS_RESULT}
    text = report.write(results, tmp_path, plots=False).read_text()
    assert "News: ingest throughput and duplicate copies" in text
    assert "| web pages (.html, trafilatura) | 3 | 30 |" in text and "Chosen on the tuning split" in text
    assert "| 10,000 |" in text


@pytest.mark.slow
@pytest.mark.skipif(not (BENCH / "squad" / "dev-v1.1.passages.jsonl").exists(), reason="benchmark data not present")
def test_a_tiny_news_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--sections", "news", "--scifact", str(BENCH / "scifact"), "--squad", str(BENCH / "squad"),
                 "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "docs"), "--no-plots",
                 "--news-copies", "40", "--news-scale", "500"])
    assert code == 0
    out = capsys.readouterr().out
    assert "News: ingest throughput" in out and "Cost at scale" in out
    import json

    r = json.loads((tmp_path / "cache" / "results.json").read_text())["news"]
    assert r["ingest"]["html"]["articles"] == 300 and r["ingest"]["html"]["furniture_leaked"] == 0.0
    assert r["ingest"]["jsonl"]["exact"] == 1.0
    assert 0.0 <= r["duplicates"]["test"]["chosen"]["precision"] <= 1.0
    assert r["scale"][0]["articles"] == 500 and r["scale"][0]["planted_found"] > 0.9


NEWS_RESULT: dict[str, Any] = {
    "ingest": {"load_1m": 1.0, "html": {"articles": 3, "seconds": 0.1, "per_s": 30.0, "mb_per_s": 1.0, "exact": 1.0,
                                        "furniture_leaked": 0.0},
               "jsonl": {"articles": 5, "seconds": 0.1, "per_s": 50.0, "mb_per_s": 1.0, "exact": 1.0},
               "rss": {"articles": 5, "seconds": 0.1, "per_s": 50.0, "mb_per_s": 1.0, "exact": 1.0}},
    "duplicates": {
        "load_1m": 1.0, "shipped": {"shingle_words": 5, "threshold": 0.5}, "signature_ms": 1.0,
        "tuning": {"documents": 10, "chosen": {"shingle_words": 5, "threshold": 0.5},
                   "grid": [{"shingle_words": 5, "threshold": 0.5, "precision": 1.0, "recall": 0.9, "f1": 0.95}]},
        "test": {"documents": 10, "chosen": {"threshold": 0.5, "shingle_words": 5, "precision": 1.0, "recall": 0.8,
                                             "positive_pairs": 5, "false_pairs": 0, "same_topic_grouped": 0.0,
                                             "same_topic_pairs": 4, "detected": {"exact": {"1.00": 1.0}}},
                 "shipped": {"threshold": 0.5, "shingle_words": 5}},
    },
    "scale": [{"articles": 10_000, "words_mean": 200.0, "signature_s": 10.0, "signature_ms": 1.0, "group_s": 5.0,
               "signature_mb": 5.0, "peak_rss_growth_mb": 50.0, "planted_found": 1.0, "other_pairs": 0,
               "load_1m": 1.0}],
}
