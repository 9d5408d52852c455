"""Extractive answers on SQuAD: the fixed report samples (one place), and the benchmark over Assistant.ask.

The report samples are fixed here and nowhere else; tuning code takes its questions from
`tuning_slice()`, which never overlaps them:

    from benchmarks.squad import load_questions, sample_ids, tuning_slice
    questions = load_questions(squad / "dev-v1.1.questions.jsonl")
    tune = tuning_slice(questions, 1000)          # disjoint from the 2,000 report questions

The paragraphs withheld from the corpus for abstention on uncovered questions are also fixed here
(`withheld_paragraphs`), from the report sample.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypedDict

from assistant import Assistant

from .common import prime_questions
from .data import Documents, read_jsonl
from .metrics import max_pool, mean, roc_auc, squad_scores

TEST_SIZE = 2000  # SQuAD v1.1 dev questions asked for the report
TEST_SEED = 0
V2_SIZE = 1000  # of each kind (impossible, possible) from SQuAD v2.0 dev
WITHHELD_SIZE = 500  # report-sample questions whose gold paragraphs are left out of the corpus


class Question(TypedDict):
    id: str
    question: str
    gold_passage: str
    answers: list[str]
    is_impossible: bool


def load_questions(path: Path) -> list[Question]:
    """All questions of a `dev-v*.questions.jsonl` file, in file order (the samples depend on it)."""
    out: list[Question] = []
    for row in read_jsonl(path):
        out.append(Question(id=str(row["id"]), question=str(row["question"]),
                            gold_passage=str(row["gold_passage"]), answers=[str(a) for a in row["answers"]],
                            is_impossible=bool(row.get("is_impossible", False))))
    return out


def report_sample(questions: Sequence[Question], size: int = TEST_SIZE) -> list[Question]:
    """The report sample: `random.Random(0).sample(questions, 2000)`, in file order as loaded."""
    return random.Random(TEST_SEED).sample(list(questions), min(size, len(questions)))


def sample_ids(questions: Sequence[Question], size: int = TEST_SIZE) -> set[str]:
    """Ids of the report sample; tuning must leave these out."""
    return {q["id"] for q in report_sample(questions, size)}


def tuning_slice(questions: Sequence[Question], size: int, seed: int = 1) -> list[Question]:
    """A fixed sample of questions outside the report sample (for fitting and choosing defaults)."""
    test = sample_ids(questions)
    rest = [q for q in questions if q["id"] not in test]
    return random.Random(seed).sample(rest, min(size, len(rest)))


def v2_sample(questions: Sequence[Question], size: int = V2_SIZE) -> list[Question]:
    """The v2.0 report sample: `size` impossible and `size` possible questions, each drawn with seed 0."""
    impossible = [q for q in questions if q["is_impossible"]]
    possible = [q for q in questions if not q["is_impossible"]]
    return (random.Random(TEST_SEED).sample(impossible, min(size, len(impossible)))
            + random.Random(TEST_SEED).sample(possible, min(size, len(possible))))


def v2_tuning_slice(questions: Sequence[Question], size: int, seed: int = 1) -> list[Question]:
    """v2.0 questions outside the v2 report sample, half impossible where there are enough."""
    test = {q["id"] for q in v2_sample(questions)}
    rest = [q for q in questions if q["id"] not in test]
    return random.Random(seed).sample(rest, min(size, len(rest)))


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """The returned answer contains an accepted answer string (case-insensitive, spaces normalised)."""
    hay = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in hay for a in answers if a.strip())


def answers_v1(assistant: Assistant, docs: Documents, questions: Sequence[Question]) -> dict[str, Any]:
    """Gold paragraph at top-1/top-5 of search, answer-contains rate and answer length, over `questions`."""
    prime_questions(assistant, [q["question"] for q in questions])
    top1 = top5 = contains = found = marked = 0
    words: list[float] = []
    em: list[float] = []
    f1: list[float] = []
    for q in questions:
        hits = assistant.search(q["question"], k=assistant.settings.retrieval.candidates)
        ranking = max_pool((docs.doc_of[h.chunk.source], h.score) for h in hits)
        top1 += ranking[:1] == [q["gold_passage"]]
        top5 += q["gold_passage"] in ranking[:5]
        answer = assistant.ask(q["question"])
        if answer.found:
            found += 1
            words.append(len(answer.text.split()))
            contains += contains_answer(answer.text, q["answers"])
        phrase = next((c.phrase for c in answer.citations if c.phrase), None)
        marked += phrase is not None
        e, f = squad_scores(phrase, q["answers"]) if phrase is not None else (0.0, 0.0)
        em.append(e)
        f1.append(f)
    n = len(questions)
    return {
        "questions": n,
        "gold_top1": top1 / n,
        "gold_top5": top5 / n,
        "answer_contains": contains / n,  # abstentions count as misses
        "answered": found / n,
        "answer_words_mean": mean(words),
        # The answer phrase, scored by the official SQuAD v1.1 EM/F1 (max over accepted answers); an abstention
        # or an answer without a marked phrase scores 0.
        "phrase_em": mean(em),
        "phrase_f1": mean(f1),
        "phrase_marked": marked / n,
    }


def abstention_v2(assistant: Assistant, questions: Sequence[Question]) -> dict[str, Any]:
    """Abstention on SQuAD v2.0: precision/recall of abstaining on impossible questions, and the ROC AUC
    of answer.confidence separating possible (answerable) from impossible questions."""
    prime_questions(assistant, [q["question"] for q in questions])
    confidences: list[float] = []
    answerable: list[bool] = []
    abstained: list[bool] = []
    contains = 0
    for q in questions:
        answer = assistant.ask(q["question"])
        confidences.append(answer.confidence)
        answerable.append(not q["is_impossible"])
        abstained.append(not answer.found)
        if not q["is_impossible"] and answer.found:
            contains += contains_answer(answer.text, q["answers"])
    impossible = [not a for a in answerable]
    hits = sum(1 for ab, imp in zip(abstained, impossible, strict=True) if ab and imp)
    n_possible = sum(answerable)
    return {
        "questions": len(questions),
        "impossible": sum(impossible),
        "abstain_precision": hits / sum(abstained) if any(abstained) else float("nan"),
        "abstain_recall": hits / sum(impossible) if any(impossible) else float("nan"),
        "auc": roc_auc(confidences, answerable),
        "possible_answer_contains": contains / n_possible if n_possible else float("nan"),
    }


class Withheld(NamedTuple):
    paragraphs: list[str]  # paragraph ids left out of the corpus
    withheld: list[Question]  # questions on those paragraphs: the assistant should abstain
    kept: list[Question]  # as many questions whose paragraph is in the corpus: it should answer


def withheld_paragraphs(sample: Sequence[Question], size: int = WITHHELD_SIZE) -> Withheld:
    """The fixed split for abstention on questions the articles do not cover (one place).

    Withheld: the gold paragraphs of the first `size` questions of `sample` (the report sample,
    `report_sample`). Asked: every sample question on a withheld paragraph, and as many sample questions
    on kept paragraphs, the first in sample order (both cut to the shorter list if kept ones run out)."""
    paragraphs = list(dict.fromkeys(q["gold_passage"] for q in sample[:size]))
    gone = set(paragraphs)
    withheld = [q for q in sample if q["gold_passage"] in gone]
    kept = [q for q in sample if q["gold_passage"] not in gone]
    n = min(len(withheld), len(kept))
    return Withheld(paragraphs, withheld[:n], kept[:n])


def abstention_withheld(assistant: Assistant, split: Withheld) -> dict[str, Any]:
    """Abstention when the answer's paragraph is not in the corpus: abstain rates on withheld and kept
    questions, the ROC AUC of answer.confidence separating kept from withheld, and how often an answer
    given anyway to a withheld question still contains an accepted answer (a sibling paragraph of the
    same Wikipedia article can hold it)."""
    questions = split.withheld + split.kept
    prime_questions(assistant, [q["question"] for q in questions])
    confidences: list[float] = []
    abstained = {"withheld": 0, "kept": 0}
    answered_withheld = contains = 0
    for kind, group in (("withheld", split.withheld), ("kept", split.kept)):
        for q in group:
            answer = assistant.ask(q["question"])
            confidences.append(answer.confidence)
            if not answer.found:
                abstained[kind] += 1
            elif kind == "withheld":
                answered_withheld += 1
                contains += contains_answer(answer.text, q["answers"])
    n_withheld, n_kept = len(split.withheld), len(split.kept)
    return {
        "withheld_paragraphs": len(split.paragraphs),
        "withheld_questions": n_withheld,
        "kept_questions": n_kept,
        "withheld_abstained": abstained["withheld"] / n_withheld if n_withheld else float("nan"),
        "kept_abstained": abstained["kept"] / n_kept if n_kept else float("nan"),
        "auc": roc_auc(confidences, [False] * n_withheld + [True] * n_kept),
        "withheld_answered": answered_withheld,
        "withheld_answered_contains": contains / answered_withheld if answered_withheld else float("nan"),
    }
