"""The seed questions (tests/data/seed_questions*.json) asked of the shipped articles, counted for the report.

The same questions are asserted one by one in tests (test_core.py, test_rephrased_seeds.py); here they are
counted, so the report shows how many pass beside the SQuAD figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant import Assistant


def seed_counts(assistant: Assistant, path: Path) -> dict[str, Any]:
    """Answerable questions answered with an expected string from an expected article, and unanswerable
    ones (on topic, out of corpus) abstained on; the answer phrase is counted when it equals an expected
    string."""
    data = json.loads(path.read_text(encoding="utf-8"))
    right = phrase = 0
    answerable = data.get("answerable", [])
    for item in answerable:
        answer = assistant.ask(item["q"])
        right += bool(answer.found and any(a in answer.text for a in item["a"])
                      and answer.citations[0].source in item["src"])
        marked = next((c.phrase for c in answer.citations if c.phrase), None)
        phrase += marked is not None and marked in item["a"]
    on_topic = [item["q"] for item in data.get("on_topic_unanswerable", [])]
    out_of_corpus = list(data.get("out_of_corpus", []))
    return {
        "answerable": len(answerable),
        "answered_right": right,
        "phrase_right": phrase,
        "on_topic": len(on_topic),
        "on_topic_abstained": sum(not assistant.ask(q).found for q in on_topic),
        "out_of_corpus": len(out_of_corpus),
        "out_of_corpus_abstained": sum(not assistant.ask(q).found for q in out_of_corpus),
    }
