"""Fit the answer-phrase weights (config.PhraseSettings) on SQuAD v1.1 tuning questions, per asked kind.

Each tuning question's gold paragraph is cut into sentences (the index's own splitter); the sentence
holding the first accepted answer is the quote. Every candidate span of it (phrase.spans) is labelled by
the official exact match with an accepted answer, and a conditional logit (softmax over one question's
spans, L2) is fitted per kind (phrase.KINDS) by L-BFGS on the first half. The second half reports the
official EM/F1 of the best span, given the right sentence (retrieval and selection are measured by the
`answers` benchmark section, which asks through `Assistant.ask`).

    python -m benchmarks.tune_phrase [--squad ../shared/bench/squad] [--questions 4000]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from assistant.chunking import split_sentences
from assistant.config import AnswerSettings
from assistant.phrase import KINDS, PHRASE_FEATURES, asked_kind, best_span, spans

from .cli import BENCH
from .data import read_jsonl
from .metrics import squad_scores
from .squad import Question, load_questions, tuning_slice
from .tune_answer import conditional_logit

Example = tuple[Question, str, list[tuple[int, int]], np.ndarray, np.ndarray, list]  # type: ignore[type-arg]


def examples(squad: Path, size: int) -> dict[str, list[tuple[Question, str, list, np.ndarray, np.ndarray]]]:  # type: ignore[type-arg]
    """Per kind: (question, paragraph, spans, features, exact-match labels) of tuning questions."""
    texts = {str(r["_id"]): str(r["text"]) for r in read_jsonl(squad / "dev-v1.1.passages.jsonl")}
    out: dict[str, list] = defaultdict(list)  # type: ignore[type-arg]
    for q in tuning_slice(load_questions(squad / "dev-v1.1.questions.jsonl"), size):
        kind = asked_kind(q["question"])
        text = texts[q["gold_passage"]]
        at = next((text.find(a) for a in q["answers"] if a and text.find(a) >= 0), -1)
        if kind is None or at < 0:
            continue
        sentence = next((s for s in split_sentences(text, (0, len(text)), 120) if s[0] <= at < s[1]), None)
        if sentence is None:
            continue
        cands = spans(q["question"], text, *sentence)
        if not cands:
            continue
        x = np.asarray([c.features for c in cands], dtype=np.float64)
        y = np.asarray([squad_scores(text[c.start : c.end], q["answers"])[0] for c in cands])
        out[kind].append((q, text, cands, x, y))
    return out


def fit(data: list, l2: float) -> np.ndarray:  # type: ignore[type-arg]
    """Conditional logit over each question's candidate spans (positives: the exact-match spans)."""
    return conditional_logit([(x, y) for _, _, _, x, y in data], len(PHRASE_FEATURES), l2)


def evaluate(kind: str, data: list, w: np.ndarray) -> tuple[float, float]:  # type: ignore[type-arg]
    """Mean official (EM, F1) of the best span; no phrase scores 0."""
    em = f1 = 0.0
    for q, text, cands, _, _ in data:
        found = best_span(kind, cands, list(w))
        if found is not None:
            e, f = squad_scores(text[found[0] : found[1]], q["answers"])
            em, f1 = em + e, f1 + f
    return em / max(len(data), 1), f1 / max(len(data), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=BENCH / "squad")
    parser.add_argument("--questions", type=int, default=4000)
    args = parser.parse_args()
    data = examples(args.squad, args.questions)
    weights: dict[str, np.ndarray] = {}
    total: dict[str, float] = {"n": 0, "em": 0.0, "f1": 0.0}
    for kind in KINDS:
        rows = data.get(kind, [])
        half = len(rows) // 2
        best, chosen = -1.0, np.zeros(len(PHRASE_FEATURES))
        for l2 in (0.1, 1.0, 10.0):
            w = fit(rows[:half], l2)
            em, f1 = evaluate(kind, rows[half:], w)
            if f1 > best:
                best, chosen = f1, w
        weights[kind] = chosen
        em, f1 = evaluate(kind, rows[half:], chosen)
        n = len(rows) - half
        total["n"] += n
        total["em"] += em * n
        total["f1"] += f1 * n
        print(f"{kind:7s} fit {half:5d} held-out {n:5d}: EM {100 * em:.1f} F1 {100 * f1:.1f}")
    n = int(total["n"])
    print(f"all     held-out {n}: EM {100 * total['em'] / n:.1f} F1 {100 * total['f1'] / n:.1f}"
          " (given the sentence that holds the answer)")
    shipped = dict(AnswerSettings().phrase_weights)
    em_sum = f1_sum = 0.0
    for kind in KINDS:
        rows = data.get(kind, [])
        if kind in shipped and rows[len(rows) // 2 :]:
            em, f1 = evaluate(kind, rows[len(rows) // 2 :], np.asarray(shipped[kind]))
            em_sum, f1_sum = em_sum + em * (len(rows) - len(rows) // 2), f1_sum + f1 * (len(rows) - len(rows) // 2)
    print(f"shipped weights, same held-out half: EM {100 * em_sum / n:.1f} F1 {100 * f1_sum / n:.1f}")
    print("weights = {")
    for kind, w in weights.items():
        print(f'    "{kind}": (' + ", ".join(f"{v:.3f}" for v in w) + "),")
    print("}")


if __name__ == "__main__":
    main()
