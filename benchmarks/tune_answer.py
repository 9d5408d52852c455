"""Fit answer selection, re-ranking and answerability (config.AnswerSettings.weights, rerank_weights, calibration)
on SQuAD tuning slices.

Everything is fitted on tuning slices that never overlap the report samples (benchmarks.squad):

1. Selection. Every candidate sentence of the top chunks of a SQuAD v1.1 tuning question is labelled
   by whether it holds an accepted answer; a conditional logit (softmax over one question's candidates,
   L2) is fitted by L-BFGS on the first half, so the best-scored sentence is the one most likely to
   hold the answer. The second half reports it.
2. Answerability: P(the articles answer the question) from answer.ANSWERABLE_FEATURES, on three kinds of
   question (selection weights were fitted without any of them), each split in halves (fit, report):
   - v1.1 questions (answerable),
   - the same questions with their gold paragraph taken out of the hits (the answer is not in the
     articles: the common case of a question the corpus does not cover),
   - SQuAD v2.0 questions, half of them unanswerable by design (on topic, the text does not say).
   One logistic model over the mixture is shipped (config.AnswerSettings.calibration). Reported beside it,
   not shipped: two experts, `covered` fitted on the first two kinds and `stated` on the third, whose
   smaller log-odds is calibrated on all three (`Experts`; docs/answers.md says why it is not shipped).
3. Re-ranking: the best few sentences by selection read again for their answer phrase (answer.rerank;
   config.AnswerSettings.rerank_weights), a conditional logit over answer.RERANK_FEATURES fitted on the
   same first half on top of the selection weights, reported on the second.
4. The abstention threshold is reported, not chosen here: each row shows what answering above it
   keeps and catches on the held-out halves.

    python -m benchmarks.tune_answer [--squad ../shared/bench/squad] [--cache benchmarks/.cache]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize

from assistant import Assistant, Settings
from assistant.answer import (
    ANSWERABLE_FEATURES,
    FEATURES,
    RERANK_FEATURES,
    Candidate,
    Question,
    answerable_features,
    candidates,
    logistic,
    rerank_features,
)
from assistant.core import clean_question
from assistant.types import Hit

from .cli import BENCH
from .common import cached_encoder, open_assistant, prime_questions
from .data import DEFAULT_CACHE, Documents, article_folder
from .metrics import roc_auc
from .squad import Question as SquadQuestion
from .squad import contains_answer, load_questions, tuning_slice, v2_tuning_slice

DROP_DEPTH = 20  # hits fetched before the gold paragraph's chunks are taken out


@dataclass
class Case:
    """One question's candidates through the real retrieval and candidate code, labelled."""

    question: Question
    hits: list[Hit]
    rows: list[Candidate]
    labels: np.ndarray  # per candidate: holds an accepted answer
    words: list[int]
    answerable: float  # 1: the corpus (as searched) holds the answer

    @property
    def x(self) -> np.ndarray:
        return np.asarray([c.features for c in self.rows], dtype=np.float64).reshape(len(self.rows), len(FEATURES))


def read(assistant: Assistant, question: str, depth: int, drop: Callable[[Hit], bool] | None = None
         ) -> tuple[Question, list[Hit], list[Candidate]]:
    """What answer selection sees for a question: the real retrieval's `depth` hits (less those `drop`
    names) and the candidate sentences of their chunks with their features."""
    loaded = assistant.loaded
    text = clean_question(question)
    vector, tokens = assistant._query(text)
    hits = loaded.retriever.search(vector, tokens, depth)
    if drop is not None:
        hits = [h for h in hits if not drop(h)]
    q = Question(text, tokens, vector, loaded.evidence, assistant.settings.answer.soft_match)
    return q, hits, candidates(q, hits, assistant.settings.answer)


def cases(assistant: Assistant, docs: Documents, questions: list[SquadQuestion], drop_gold: bool = False) -> list[Case]:
    """Each question's Case; `drop_gold` takes the gold paragraph out of the hits (answer not in the corpus)."""
    loaded = assistant.loaded
    prime_questions(assistant, [q["question"] for q in questions])
    depth = DROP_DEPTH if drop_gold else assistant.settings.answer.read_chunks
    out: list[Case] = []
    for sq in questions:
        def gold(hit: Hit, passage: str = sq["gold_passage"]) -> bool:
            return docs.doc_of[hit.chunk.source] == passage

        q, hits, rows = read(assistant, sq["question"], depth, gold if drop_gold else None)
        sentences = [loaded.articles[c.source].text[c.start : c.end] for c in rows]
        labels = np.asarray([float(not sq["is_impossible"] and contains_answer(t, sq["answers"])) for t in sentences])
        answerable = float(not sq["is_impossible"] and not drop_gold)
        out.append(Case(q, hits, rows, labels, [len(t.split()) for t in sentences], answerable))
    return out


def fit_selection(data: list[Case], l2: float) -> np.ndarray:
    """Conditional logit over each question's candidate sentences."""
    return conditional_logit([(c.x, c.labels) for c in data if len(c.labels)], len(FEATURES), l2)


def conditional_logit(groups: list[tuple[np.ndarray, np.ndarray]], dims: int, l2: float,
                      group_weights: Sequence[float] | None = None) -> np.ndarray:
    """Weights maximising log(sum of softmax over the positives) per group (candidate rows `x`, 0/1 labels
    `y`), with an L2 penalty; groups without a positive are left out. `group_weights` (one per group,
    default 1) weigh each group's term, e.g. to count two tuning sources equally (scifact_rationale.py).
    Shared by sentence selection and the answer phrase (tune_phrase.py)."""
    weights = [1.0] * len(groups) if group_weights is None else list(group_weights)
    usable = [(x, y, g) for (x, y), g in zip(groups, weights, strict=True) if y.max() > 0]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(w @ w), l2 * w
        for x, y, g in usable:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            pos = p * y
            mass = pos.sum()
            total -= g * math.log(mass)
            grad = grad - g * (x.T @ (pos / mass - p))
        return total, grad

    return np.asarray(minimize(loss, np.zeros(dims), jac=True, method="L-BFGS-B").x)


def top1_holds(data: list[Case], w: np.ndarray) -> float:
    """Share of questions whose best-scored candidate holds an answer."""
    return top1_of(data, [c.x @ w for c in data])


def top1_of(data: list[Case], scores: list[np.ndarray]) -> float:
    """Share of questions whose best candidate by `scores` (one array per case) holds an answer."""
    return float(np.mean([c.labels[int(np.argmax(z))] if len(c.rows) else 0.0 for c, z in zip(data, scores,
                                                                                               strict=True)]))


def answer_stats(data: list[Case], w: np.ndarray, margin: float, max_quotes: int = 2) -> tuple[float, float]:
    """(share of questions whose quotes hold an answer, mean words), second quotes within `margin` (as choose())."""
    return answer_stats_of(data, [c.x @ w for c in data], margin, max_quotes)


def answer_stats_of(data: list[Case], scores: list[np.ndarray], margin: float, max_quotes: int = 2
                    ) -> tuple[float, float]:
    """answer_stats with the candidates scored by `scores` (one array per case)."""
    held, words = 0.0, []
    for c, z in zip(data, scores, strict=True):
        if not len(c.rows):
            words.append(0)
            continue
        order = list(np.argsort(-z, kind="stable"))
        chosen = [i for i in order[:max_quotes] if z[i] >= z[order[0]] - margin]
        held += float(max(c.labels[i] for i in chosen) > 0)
        words.append(sum(c.words[i] for i in chosen))
    return held / len(data), float(np.mean(words))


def rerank_rows(data: list[Case], weights: np.ndarray, settings: Settings) -> list[np.ndarray]:
    """answer.RERANK_FEATURES of each case's candidates, on top of selection `weights`."""
    top, phrase = settings.answer.rerank_top, dict(settings.answer.phrase_weights)
    return [rerank_features(c.question, c.rows, c.x @ weights, top, phrase) if len(c.rows)
            else np.zeros((0, len(RERANK_FEATURES))) for c in data]


def fit_rerank(fit: list[Case], held: list[Case], weights: np.ndarray, settings: Settings,
               margin: float) -> np.ndarray:
    """The re-ranking weights (a conditional logit over RERANK_FEATURES) fitted on `fit` at the L2 best on
    `held`, printed with what the answer holds on `held` beside the first look alone."""
    xf, xh = rerank_rows(fit, weights, settings), rerank_rows(held, weights, settings)
    best, chosen = -1.0, np.zeros(len(RERANK_FEATURES))
    for l2 in (0.01, 0.1, 1.0):
        w = conditional_logit([(x, c.labels) for c, x in zip(fit, xf, strict=True) if len(c.labels)],
                              len(RERANK_FEATURES), l2)
        z = [x @ w for x in xh]
        acc, (holds, words) = top1_of(held, z), answer_stats_of(held, z, margin)
        print(f"  l2={l2:<5} held-out top-1 {acc:.3f}; answers hold {holds:.3f}, mean {words:.1f} words")
        if acc > best:
            best, chosen = acc, w
    holds, words = answer_stats(held, weights, margin)
    print(f"  first look alone: top-1 {top1_holds(held, weights):.3f}; answers hold {holds:.3f}, mean {words:.1f}"
          " words")
    return chosen


def answerable_rows(data: list[Case], w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ANSWERABLE_FEATURES, answerable, winner holds an answer) per question with candidates."""
    feats, answerable, right = [], [], []
    for c in data:
        if not c.rows:
            continue
        selection = c.x @ w
        feats.append(answerable_features(c.question, c.rows, selection, c.hits))
        answerable.append(c.answerable)
        right.append(c.answerable * c.labels[int(np.argmax(selection))])
    return np.asarray(feats), np.asarray(answerable), np.asarray(right)


def fit_logistic(f: np.ndarray, t: np.ndarray, l2: float = 1e-2,
                 sample_weights: np.ndarray | None = None) -> np.ndarray:
    """Logistic regression of `t` on `f` (L2, bias not penalised), by L-BFGS; `sample_weights` (default 1 each)
    weigh each row's loss, e.g. to count two tuning sources equally."""
    g = np.ones(len(t)) if sample_weights is None else np.asarray(sample_weights, dtype=np.float64)

    def loss(c: np.ndarray) -> tuple[float, np.ndarray]:
        z = f @ c
        p = logistic(z)
        penalty = np.concatenate([[0.0], c[1:]])
        log_loss = np.logaddexp(0, z) - t * z  # -log p(t), stable for large |z|
        return float(g @ log_loss + 0.5 * l2 * penalty @ penalty), f.T @ (g * (p - t)) + l2 * penalty

    return np.asarray(minimize(loss, np.zeros(f.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 5000}).x)


@dataclass(frozen=True)
class V1Tuning:
    """The SQuAD v1.1 tuning questions through the real retrieval, split as selection is fitted (first
    half) and reported (second half); the assistant and questions for what is asked of them next."""

    assistant: Assistant
    docs: Documents
    questions: list[SquadQuestion]
    fit: list[Case]
    held: list[Case]


def v1_tuning(squad: Path, cache: Path, settings: Settings, encoder: Any, count: int) -> V1Tuning:
    docs = article_folder(squad / "dev-v1.1.passages.jsonl", cache, "squad")
    assistant = open_assistant(docs.folder, cache, settings, encoder)
    questions = tuning_slice(load_questions(squad / "dev-v1.1.questions.jsonl"), count)
    data = cases(assistant, docs, questions)
    half = len(data) // 2
    return V1Tuning(assistant, docs, questions, data[:half], data[half:])


def ceiling(data: Sequence[Case]) -> float:
    """The share of questions where some candidate is labelled right: what top-1 could reach."""
    return float(np.mean([c.labels.max() if len(c.labels) else 0.0 for c in data]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--squad", type=Path, default=BENCH / "squad")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--questions", type=int, default=3000, help="v1.1 tuning questions (default 3000)")
    parser.add_argument("--v2-questions", type=int, default=2000, help="v2.0 tuning questions (default 2000)")
    args = parser.parse_args()
    encoder = cached_encoder(args.cache)
    settings = Settings()

    tuning = v1_tuning(args.squad, args.cache, settings, encoder, args.questions)
    fit, held = tuning.fit, tuning.held
    print(f"v1.1 tuning: {len(fit) + len(held)} questions; held-out ceiling (some candidate holds an answer) "
          f"{ceiling(held):.3f}")
    shipped = np.asarray(settings.answer.weights)
    if len(shipped) == len(FEATURES):
        print(f"shipped weights: held-out top-1 holds an answer {top1_holds(held, shipped):.3f}")
    weights, best = np.zeros(len(FEATURES)), -1.0
    for l2 in (0.01, 0.1, 1.0, 10.0):
        w = fit_selection(fit, l2)
        acc = top1_holds(held, w)
        print(f"  l2={l2:<5} fit {top1_holds(fit, w):.3f}  held-out {acc:.3f}")
        if acc > best:
            weights, best = w, acc
    for margin in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
        acc, words = answer_stats(held, weights, margin)
        print(f"  second-quote margin {margin:<4}: answers hold {acc:.3f}, mean {words:.1f} words")
    print(f"re-ranking the best {settings.answer.rerank_top} by their answer phrase (answer.rerank):")
    rerank_weights = fit_rerank(fit, held, weights, settings, settings.answer.second_quote_margin)

    # Answerability, on cases whose selection scores come from weights fitted without them.
    train, test = answerability_halves(
        answerability_sets(tuning, args.squad, args.cache, settings, encoder, args.v2_questions), weights)
    calibration = fit_logistic(*stack_rows(train.values()))
    experts = fit_experts(train)
    print("\nanswerability on the held-out halves, one logistic model over the three kinds (shipped):")
    report_answerability({name: logistic(f @ calibration) for name, (f, _, _) in test.items()}, test, thresholds=True)
    print("two experts, `covered` and `stated`, the smaller log-odds calibrated (not shipped, docs/answers.md):")
    report_answerability({name: experts.confidence(f) for name, (f, _, _) in test.items()}, test, thresholds=True)
    print("\nweights=(" + ", ".join(f"{v:.3f}" for v in weights) + ")")
    print("calibration=(" + ", ".join(f"{v:.3f}" for v in calibration) + ")")
    print("rerank_weights=(" + ", ".join(f"{v:.3f}" for v in rerank_weights) + ")")
    for name, v in zip(FEATURES, weights, strict=True):
        print(f"  {name:18s} {v:+.3f}")
    print(f"  {'':18s} {'shipped':>8s} {'covered':>8s} {'stated':>8s}")
    for name, a, b, c in zip(ANSWERABLE_FEATURES, calibration, experts.covered, experts.stated, strict=True):
        print(f"  {name:18s} {a:+8.3f} {b:+8.3f} {c:+8.3f}")


def answerability_sets(tuning: V1Tuning, squad: Path, cache: Path, settings: Settings, encoder: Any,
                       v2_questions: int) -> dict[str, list[Case]]:
    """The three kinds of question answerability is fitted and reported on (each to be split in halves):
    held-out v1.1 tuning questions, the same with their paragraph taken out of the hits, and v2.0."""
    dropped = cases(tuning.assistant, tuning.docs, tuning.questions[len(tuning.fit):], drop_gold=True)
    v2_docs = article_folder(squad / "dev-v2.0.passages.jsonl", cache, "squad2")
    v2 = open_assistant(v2_docs.folder, cache, settings, encoder)
    v2_data = cases(v2, v2_docs, v2_tuning_slice(load_questions(squad / "dev-v2.0.questions.jsonl"), v2_questions))
    return {"v1.1 answerable": tuning.held, "v1.1 paragraph removed": dropped, "v2.0": v2_data}


Rows = tuple[np.ndarray, np.ndarray, np.ndarray]  # answerable_rows: features, answerable, right


def answerability_halves(kinds: dict[str, list[Case]], weights: np.ndarray
                         ) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """Each kind's answerable_rows under selection `weights`, first half (fit) and second half (report)."""
    return ({name: answerable_rows(d[: len(d) // 2], weights) for name, d in kinds.items()},
            {name: answerable_rows(d[len(d) // 2 :], weights) for name, d in kinds.items()})


def stack_rows(parts: Iterable[Rows]) -> tuple[np.ndarray, np.ndarray]:
    """The features and answerable labels of several answerable_rows results, one below the other."""
    chosen = list(parts)
    return np.concatenate([f for f, _, _ in chosen]), np.concatenate([a for _, a, _ in chosen])


@dataclass(frozen=True)
class Experts:
    """An alternative to the one calibration, measured and not shipped: a question goes unanswered either
    because the articles do not cover it or because they cover its topic and never say the asked thing, so
    one logistic expert is fitted on each kind (`covered`: v1.1 against paragraph removed; `stated`: v2.0
    possible against impossible) and the smaller log-odds, calibrated by `combine`, is the confidence."""

    covered: np.ndarray
    stated: np.ndarray
    combine: np.ndarray  # bias, scale

    def confidence(self, features: np.ndarray) -> np.ndarray:
        z = np.minimum(features @ self.covered, features @ self.stated)
        return np.asarray(logistic(self.combine[0] + self.combine[1] * z))


def fit_experts(train: dict[str, Rows]) -> Experts:
    covered = fit_logistic(*stack_rows([train["v1.1 answerable"], train["v1.1 paragraph removed"]]))
    stated = fit_logistic(*stack_rows([train["v2.0"]]))
    f, answerable = stack_rows(train.values())
    z = np.minimum(f @ covered, f @ stated)
    return Experts(covered, stated, fit_logistic(np.column_stack([np.ones_like(z), z]), answerable, l2=0.0))


def report_answerability(p: dict[str, np.ndarray], test: dict[str, Rows], thresholds: bool = False) -> None:
    """ROC AUCs of confidences `p` on the held-out halves, and (`thresholds`) what each threshold keeps."""
    v2_answerable, v1_right = test["v2.0"][1], test["v1.1 answerable"][2]
    present, removed = p["v1.1 answerable"], p["v1.1 paragraph removed"]
    print(f"  ROC AUC: v2.0 possible vs impossible {roc_auc(list(p['v2.0']), list(v2_answerable > 0)):.3f};"
          " v1.1 vs the same with the paragraph removed "
          f"{roc_auc([*present, *removed], [True] * len(present) + [False] * len(removed)):.3f};"
          f" v1.1 right vs wrong answer {roc_auc(list(present), list(v1_right > 0)):.3f}")
    if not thresholds:
        return
    print("  abstain below | v1.1: answered right, abstained | removed: abstained | v2.0: impossible abstained, "
          "possible abstained")
    impossible = v2_answerable == 0
    for t in np.arange(0.1, 0.75, 0.05):
        kept = present >= t
        print(f"  {t:13.2f} | {float((kept * v1_right).mean()):.3f}, {float((~kept).mean()):.3f}"
              f" | {float((removed < t).mean()):.3f}"
              f" | {float((p['v2.0'][impossible] < t).mean()):.3f}, {float((p['v2.0'][~impossible] < t).mean()):.3f}")


if __name__ == "__main__":
    main()
