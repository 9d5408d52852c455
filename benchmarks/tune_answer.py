"""Fit answer selection (config.AnswerSettings.weights, calibration, second_quote_margin, abstain_below).

Everything is fitted on tuning slices that never overlap the report samples (benchmarks.squad):
1. Selection: every candidate sentence of the top chunks is labelled by whether it holds an accepted
   SQuAD v1.1 answer; a conditional logit (softmax over one question's candidates, L2) is fitted by
   L-BFGS, so the best-scored sentence is the one most likely to hold the answer.
2. Calibration: P(the chosen sentence holds the answer) as a logistic function of the best score and
   its lead over the runner-up, fitted on the v1.1 slice (held-out half of step 1's questions).
3. Second quotes: the largest margin that keeps the mean answer under 40 words.
4. Abstention: on a SQuAD v2.0 slice, the threshold that maximises the F1 of "is abstention right"
   (abstain on impossible questions and on wrong answers), reported with what it costs on v1.1.

    python -m benchmarks.tune_answer [--squad ../shared/bench/squad] [--cache benchmarks/.cache]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from assistant import Assistant, Settings
from assistant.answer import FEATURES, MAX_LEAD, candidates
from assistant.core import clean_question

from .common import cached_encoder, open_assistant
from .data import DEFAULT_CACHE, article_folder
from .metrics import roc_auc
from .squad import Question, contains_answer, load_questions, tuning_slice, v2_tuning_slice

Rows = list[tuple[np.ndarray, np.ndarray, list[int]]]  # per question: features, labels, words per candidate


def feature_rows(assistant: Assistant, questions: list[Question]) -> Rows:
    """Candidates of each question through the real retrieval and candidate code, labelled."""
    loaded = assistant.loaded
    s = assistant.settings.answer
    prime = getattr(assistant.encoder, "prime", None)
    if prime is not None:  # one batched encoding of every question instead of thousands of single calls
        prime([clean_question(q["question"]) for q in questions])
    out: Rows = []
    for q in questions:
        text = clean_question(q["question"])
        vector, tokens = assistant._query(text)
        hits = loaded.retriever.search(vector, tokens, s.read_chunks)
        rows = candidates(text, tokens, vector, hits, loaded.evidence, s)
        sentences = [loaded.articles[c.source].text[c.start : c.end] for c in rows]
        labels = [float(not q["is_impossible"] and contains_answer(t, q["answers"])) for t in sentences]
        out.append((np.asarray([c.features for c in rows]).reshape(len(rows), len(FEATURES)),
                    np.asarray(labels), [len(t.split()) for t in sentences]))
    return out


def fit_selection(data: Rows, l2: float) -> np.ndarray:
    """Conditional logit: maximise log(sum of softmax over positives) per question with a positive."""
    usable = [(x, y) for x, y, _ in data if len(y) and y.max() > 0]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(w[1:] @ w[1:]), np.concatenate([[0.0], l2 * w[1:]])
        for x, y in usable:
            z = x @ w
            z = z - z.max()
            p = np.exp(z) / np.exp(z).sum()
            pos = p * y
            mass = pos.sum()
            total -= math.log(mass)
            grad -= x.T @ (pos / mass - p)
        return total, grad

    return np.asarray(minimize(loss, np.zeros(len(FEATURES)), jac=True, method="L-BFGS-B").x)


def best_and_lead(x: np.ndarray, w: np.ndarray) -> tuple[int, float, float]:
    z = x @ w
    order = np.argsort(-z)
    lead = float(z[order[0]] - z[order[1]]) if len(z) > 1 else MAX_LEAD
    return int(order[0]), float(z[order[0]]), min(lead, MAX_LEAD)


def fit_calibration(data: Rows, w: np.ndarray) -> np.ndarray:
    """Logistic P(best candidate right) on (1, best score, lead)."""
    feats, labels = [], []
    for x, y, _ in data:
        if not len(y):
            continue
        i, best, lead = best_and_lead(x, w)
        feats.append([1.0, best, lead])
        labels.append(y[i])
    f, t = np.asarray(feats), np.asarray(labels)

    def loss(c: np.ndarray) -> tuple[float, np.ndarray]:
        p = 1 / (1 + np.exp(-(f @ c)))
        eps = 1e-12
        return (float(-(t * np.log(p + eps) + (1 - t) * np.log(1 - p + eps)).sum() + 0.5 * c @ c * 1e-3),
                f.T @ (p - t) + 1e-3 * c)

    return np.asarray(minimize(loss, np.zeros(3), jac=True, method="L-BFGS-B").x)


def confidences(data: Rows, w: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, best candidate right) per question; no candidate: confidence 0, wrong."""
    conf, right = [], []
    for x, y, _ in data:
        if not len(y):
            conf.append(0.0)
            right.append(0.0)
            continue
        i, best, lead = best_and_lead(x, w)
        conf.append(1 / (1 + math.exp(-(c[0] + c[1] * best + c[2] * lead))))
        right.append(y[i])
    return np.asarray(conf), np.asarray(right)


def answer_stats(data: Rows, w: np.ndarray, margin: float, max_quotes: int = 2) -> tuple[float, float]:
    """(share of questions whose quotes hold an answer, mean words) with second quotes within `margin`.

    Approximates choose(): a second quote is the best other candidate within the margin."""
    hits, words = 0.0, []
    for x, y, n in data:
        if not len(y):
            words.append(0)
            continue
        z = x @ w
        order = list(np.argsort(-z))
        chosen = [order[0]] + [i for i in order[1:max_quotes] if z[i] >= z[order[0]] - margin]
        hits += float(max(y[i] for i in chosen) > 0)
        words.append(sum(n[i] for i in chosen))
    return hits / len(data), float(np.mean(words))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=Path(__file__).resolve().parents[2] / "shared/bench/squad")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--questions", type=int, default=3000, help="v1.1 tuning questions (default 3000)")
    parser.add_argument("--v2-questions", type=int, default=2000, help="v2.0 tuning questions (default 2000)")
    args = parser.parse_args()
    encoder = cached_encoder(args.cache)
    settings = Settings()
    v1 = open_assistant(article_folder(args.squad / "dev-v1.1.passages.jsonl", args.cache, "squad").folder,
                        args.cache, settings, encoder)
    questions = tuning_slice(load_questions(args.squad / "dev-v1.1.questions.jsonl"), args.questions)
    data = feature_rows(v1, questions)
    half = len(data) // 2
    fit, held = data[:half], data[half:]
    ceiling = np.mean([y.max() if len(y) else 0 for _, y, _ in held])
    print(f"v1.1 tuning: {len(data)} questions; held-out ceiling (some candidate holds an answer) {ceiling:.3f}")
    current = np.asarray(settings.answer.weights)
    print(f"shipped weights: held-out top-1 holds an answer {answer_stats(held, current, -1e9, 1)[0]:.3f}")
    best_w, best_acc = current, -1.0
    for l2 in (0.01, 0.1, 1.0, 10.0):
        w = fit_selection(fit, l2)
        acc = answer_stats(held, w, -1e9, 1)[0]
        print(f"  l2={l2:<5} fit {answer_stats(fit, w, -1e9, 1)[0]:.3f}  held-out {acc:.3f}")
        if acc > best_acc:
            best_w, best_acc, best_l2 = w, acc, l2
    weights = fit_selection(data, best_l2)
    calibration = fit_calibration(held, best_w)  # out-of-sample scores: in-sample ones are overconfident
    conf, right = confidences(held, best_w, calibration)
    print(f"calibration: mean confidence {conf.mean():.3f} vs accuracy {right.mean():.3f}; "
          f"AUC right-vs-wrong {roc_auc(conf, right):.3f}")
    for margin in (0.0, 0.25, 0.5, 1.0, 1.5, 2.0):
        acc, words = answer_stats(held, best_w, margin)
        print(f"  second-quote margin {margin:<4}: answers hold {acc:.3f}, mean {words:.1f} words")

    v2 = open_assistant(article_folder(args.squad / "dev-v2.0.passages.jsonl", args.cache, "squad2").folder,
                        args.cache, settings, encoder)
    v2_questions = v2_tuning_slice(load_questions(args.squad / "dev-v2.0.questions.jsonl"), args.v2_questions)
    v2_data = feature_rows(v2, v2_questions)
    v2_conf, v2_right = confidences(v2_data, weights, calibration)
    impossible = np.asarray([float(q["is_impossible"]) for q in v2_questions])
    print(f"v2.0 tuning: {len(v2_data)} questions, {impossible.mean():.2f} impossible; "
          f"AUC impossible-vs-possible {roc_auc(-v2_conf, impossible):.3f}")
    should_abstain = np.maximum(impossible, 1 - v2_right)
    v1_conf, v1_right = confidences(data, weights, calibration)
    best_t, best_f1 = 0.0, -1.0
    for t in np.arange(0.05, 0.80, 0.05):
        abstain = v2_conf < t
        tp = float((abstain * should_abstain).sum())
        precision = tp / max(abstain.sum(), 1)
        recall = tp / max(should_abstain.sum(), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        v1_kept = float(((v1_conf >= t) * v1_right).mean())
        print(f"  abstain below {t:.2f}: v2 abstention precision {precision:.3f} recall {recall:.3f} F1 {f1:.3f}; "
              f"v1.1 answered right {v1_kept:.3f}")
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    print(f"\nbest threshold by v2 F1: {best_t:.2f}")
    print("weights=(" + ", ".join(f"{v:.3f}" for v in weights) + ")")
    print("calibration=(" + ", ".join(f"{v:.3f}" for v in calibration) + ")")
    for name, v in zip(FEATURES, weights, strict=True):
        print(f"  {name:18s} {v:+.3f}")


if __name__ == "__main__":
    main()
