"""Fit the answer-selection weights (config.AnswerSettings.weights) and the abstention threshold.

Tuning data: SQuAD v1.1 dev questions outside the fixed 2,000-question test sample (the sample is for
reporting only), asked against an index of all 2,067 dev paragraphs through the real retrieval and
candidate code. Each candidate sentence is labelled by whether it contains an accepted answer, and a
logistic regression (L2, Newton's method) is fitted on answer.FEATURES. The abstention threshold is
then chosen on SQuAD v2.0 dev questions (also outside the v2 report sample).

    python -m benchmarks.tune_answer --squad ../shared/bench/squad --work /tmp/squad-tune
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from assistant import Assistant
from assistant.answer import FEATURES, candidates, probabilities
from assistant.core import clean_question


def write_corpus(passages: Path, folder: Path) -> Path:
    """One article file per SQuAD paragraph: title line, blank line, paragraph."""
    folder.mkdir(parents=True, exist_ok=True)
    for line in passages.open(encoding="utf-8"):
        row = json.loads(line)
        path = folder / f"{row['_id']}.txt"
        text = f"{row['title'].replace('_', ' ')}\n\n{row['text']}\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return folder


def load_questions(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.open(encoding="utf-8")]


def tuning_slice(questions: list[dict], size: int, seed: int = 1) -> list[dict]:  # type: ignore[type-arg]
    """Questions outside the report sample `random.Random(0).sample(questions, 2000)`."""
    test_ids = {q["id"] for q in random.Random(0).sample(questions, 2000)}
    rest = [q for q in questions if q["id"] not in test_ids]
    return random.Random(seed).sample(rest, min(size, len(rest)))


def feature_rows(assistant: Assistant, questions: list[dict]) -> list[tuple[np.ndarray, np.ndarray]]:  # type: ignore[type-arg]
    """(features, labels) per question: label 1 where the candidate sentence holds an accepted answer."""
    loaded = assistant.loaded
    s = assistant.settings.answer
    out = []
    for q in questions:
        text = clean_question(q["question"])
        vector, tokens = assistant._query(text)
        hits = loaded.retriever.search(vector, tokens, s.read_chunks)
        rows = candidates(text, tokens, vector, hits, loaded.evidence, s)
        if not rows:
            out.append((np.zeros((0, len(FEATURES))), np.zeros(0)))
            continue
        answers = [a.lower() for a in q["answers"]]
        labels = []
        for c in rows:
            sentence = loaded.articles[c.source].text[c.start : c.end].lower()
            labels.append(float(any(a in sentence for a in answers)))
        out.append((np.asarray([c.features for c in rows]), np.asarray(labels)))
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (the bias, column 0, is not penalised)."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def selection_accuracy(data: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray) -> float:
    """Share of questions whose best-scored candidate holds an answer."""
    hits = 0
    for x, y in data:
        if len(y):
            hits += int(y[int(np.argmax(x @ w))] > 0)
    return hits / len(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=Path("../shared/bench/squad"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/squad-tune"))
    parser.add_argument("--questions", type=int, default=3000)
    args = parser.parse_args()
    corpus = write_corpus(args.squad / "dev-v1.1.passages.jsonl", args.work / "v1-corpus")
    assistant = Assistant(corpus=corpus, index=args.work / "v1-index")
    print(assistant.open(progress=True))
    questions = tuning_slice(load_questions(args.squad / "dev-v1.1.questions.jsonl"), args.questions)
    data = feature_rows(assistant, questions)
    half = len(data) // 2
    train, held = data[:half], data[half:]
    x = np.concatenate([d[0] for d in train])
    y = np.concatenate([d[1] for d in train])
    current = np.asarray(assistant.settings.answer.weights)
    print(f"candidates {len(y)}, positive {y.mean():.3f}; ceiling (any candidate holds an answer): "
          f"{np.mean([d[1].max() if len(d[1]) else 0 for d in held]):.3f}")
    print(f"current weights: held-out selection {selection_accuracy(held, current):.3f}")
    for l2 in (0.1, 1.0, 10.0):
        w = fit_logistic(x, y, l2)
        print(f"l2={l2}: train {selection_accuracy(train, w):.3f} held-out {selection_accuracy(held, w):.3f}")
    w = fit_logistic(np.concatenate([d[0] for d in data]), np.concatenate([d[1] for d in data]), 1.0)
    print("weights = (" + ", ".join(f"{v:.3f}" for v in w) + ")")
    for name, v in zip(FEATURES, w, strict=True):
        print(f"  {name:18s} {v:+.3f}")
    np.save(args.work / "weights.npy", w)
    _ = probabilities


if __name__ == "__main__":
    main()
