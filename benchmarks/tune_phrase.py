"""Fit the answer-phrase weights (config.AnswerSettings.phrase_weights) on SQuAD v1.1 tuning questions, per asked kind.

Each tuning question's gold paragraph is cut into sentences (the index's own splitter); the sentence
holding the first accepted answer is the quote. Every candidate span of it (phrase.spans) is labelled by
the official exact match with an accepted answer, and a conditional logit (softmax over one question's
spans, L2) is fitted per kind (phrase.KINDS) by L-BFGS on the first half. The second half reports the
official EM/F1 of the best span, given the right sentence (retrieval and selection are measured by the
`answers` benchmark section, which asks through `Assistant.ask`).

With `--token-features` it also measures whether MiniLM's token embeddings help (issue 12): four features
per span from one `encode_spans` pass over the quote and one over the question (the span's pooled vector
against the question word's ("who", "which", ...) pooled vector in the question, against each question
word's (max and mean), and against the question's vector), appended to phrase.PHRASE_FEATURES and fitted
the same way; it prints both, per kind. Not shipped (docs/answers.md).

    python -m benchmarks.tune_phrase [--squad ../shared/bench/squad] [--questions 4000] [--token-features]
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.chunking import split_sentences
from assistant.config import AnswerSettings
from assistant.phrase import KINDS, PHRASE_FEATURES, asked_kind, best_phrase, spans

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
        cands = spans(q["question"], text, *sentence)  # none: kept, scored 0 (a rule that rules out every span)
        x = np.asarray([c.features for c in cands], dtype=np.float64).reshape(len(cands), len(PHRASE_FEATURES))
        y = np.asarray([squad_scores(text[c.start : c.end], q["answers"])[0] for c in cands])
        out[kind].append((q, text, cands, x, y))
    return out


def fit(data: list, l2: float) -> np.ndarray:  # type: ignore[type-arg]
    """Conditional logit over each question's candidate spans (positives: the exact-match spans)."""
    return conditional_logit([(x, y) for _, _, _, x, y in data if len(y)], len(PHRASE_FEATURES), l2)


TOKEN_FEATURES = ("cos_asked_word", "cos_question_word_max", "cos_question_word_mean", "cos_question")
_ASKED_WORD = re.compile(r"\b(who|whom|whose|where|when|what|which|how)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")


def with_token_features(rows: list, encoder: Any) -> list:  # type: ignore[type-arg]
    """The same examples with TOKEN_FEATURES appended to every span's features (encoder.encode_spans)."""
    out = []
    for q, text, cands, x, y in rows:
        start, end = min(c.start for c in cands), max(c.end for c in cands)
        _, (pooled,) = encoder.encode_spans([text[start:end]], [[(c.start - start, c.end - start) for c in cands]])
        question = q["question"]
        asked = _ASKED_WORD.search(question)
        words = [(m.start(), m.end()) for m in _WORD.finditer(question)]
        (vector,), (parts,) = encoder.encode_spans([question], [[asked.span() if asked else (0, 0), *words]])
        word_vectors = np.stack([v for v in parts[1:] if v is not None] or [np.zeros_like(vector)])
        extra = np.zeros((len(cands), len(TOKEN_FEATURES)))
        for i, v in enumerate(pooled):
            if v is not None:
                sims = word_vectors @ v
                extra[i] = (float(v @ parts[0]) if parts[0] is not None else 0.0, sims.max(), sims.mean(), v @ vector)
        out.append((q, text, [replace(c, features=(*c.features, *e)) for c, e in zip(cands, extra, strict=True)],
                    np.hstack([x, extra]), y))
    return out


def evaluate(kind: str, data: list, w: np.ndarray) -> tuple[float, float]:  # type: ignore[type-arg]
    """Mean official (EM, F1) of the best span; no phrase scores 0."""
    em = f1 = 0.0
    for q, text, cands, _, _ in data:
        found = best_phrase(kind, text, cands, list(w), max(c.end for c in cands)) if cands else None
        if found is not None:
            e, f = squad_scores(text[found[0] : found[1]], q["answers"])
            em, f1 = em + e, f1 + f
    return em / max(len(data), 1), f1 / max(len(data), 1)


def overall(parts: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """(questions, EM, F1) over kinds scored as (questions, EM, F1) each: the means weighted by questions."""
    n = sum(p[0] for p in parts)
    return n, sum(p[0] * p[1] for p in parts) / n, sum(p[0] * p[2] for p in parts) / n


def fit_kinds(data: dict[str, list], label: str) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    """Per kind: weights fitted on the first half at the L2 best on the second, printed with the second's
    EM/F1 (given the sentence that holds the answer)."""
    weights: dict[str, np.ndarray] = {}
    parts: list[tuple[int, float, float]] = []
    for kind in KINDS:
        rows = data.get(kind, [])
        half = len(rows) // 2
        if not rows[:half]:
            continue
        fits = [fit(rows[:half], l2) for l2 in (0.1, 1.0, 10.0)]
        scored = [(evaluate(kind, rows[half:], w), w) for w in fits]
        (em, f1), weights[kind] = max(scored, key=lambda s: s[0][1])
        parts.append((len(rows) - half, em, f1))
        print(f"{label} {kind:7s} fit {half:5d} held-out {parts[-1][0]:5d}: EM {100 * em:.1f} F1 {100 * f1:.1f}")
    n, em, f1 = overall(parts)
    print(f"{label} all     held-out {n}: EM {100 * em:.1f} F1 {100 * f1:.1f}"
          " (given the sentence that holds the answer)")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=BENCH / "squad")
    parser.add_argument("--questions", type=int, default=4000)
    parser.add_argument("--token-features", action="store_true",
                        help="also fit and report with MiniLM token-embedding features (loads the model)")
    args = parser.parse_args()
    data = examples(args.squad, args.questions)
    weights = fit_kinds(data, "phrase features")
    shipped = dict(AnswerSettings().phrase_weights)
    parts = []
    for kind in KINDS:
        held = data.get(kind, [])[len(data.get(kind, [])) // 2 :]
        if kind in shipped and held:
            parts.append((len(held), *evaluate(kind, held, np.asarray(shipped[kind]))))
            print(f"shipped weights {kind:7s} held-out {len(held):5d}: EM {100 * parts[-1][1]:.1f} "
                  f"F1 {100 * parts[-1][2]:.1f}")
    _, em, f1 = overall(parts)
    print(f"shipped weights, same held-out half: EM {100 * em:.1f} F1 {100 * f1:.1f}")
    print("weights = {")
    for kind, w in weights.items():
        print(f'    "{kind}": (' + ", ".join(f"{v:.3f}" for v in w) + "),")
    print("}")
    if args.token_features:
        from assistant.config import default_model_path
        from assistant.index.encoder import SentenceEncoder

        encoder = SentenceEncoder(default_model_path())
        fit_kinds({kind: with_token_features(rows, encoder) for kind, rows in data.items()}, "+ token features")


if __name__ == "__main__":
    main()
