"""SciFact rationale sentences as a second (non-Wikipedia) tuning source for answer selection (issue 12).

A SciFact claim with evidence names, for each evidence abstract, the sentences that support or contradict
it (queries.jsonl `metadata`: doc id -> [{"sentences": [i, ...], "label": ...}], indices into
corpus_sentences.jsonl `sentences`). Each claim is asked through the real retrieval and candidate code
(as tune_answer.cases does for SQuAD), and each candidate sentence is labelled by whether it is a gold
rationale sentence of an evidence abstract: its character span in the article (title line, blank line,
abstract; data.article_folder) is mapped back to the abstract's sentence indices.

Splits: the claims of qrels/train.tsv tune, those of qrels/test.tsv report. The corpus is every abstract a
train or test claim cites (667: the evidence abstracts, and the one each unsupported claim cites) plus a fixed
sample of distractors (CORPUS_SIZE, 800, in all, not the full 5,183: a full build is slow on a small machine).
SQuAD v1.1 is split as tune_answer splits it (first half of `tuning_slice(questions, 3000)` fits, second half
reports).

The first table gives top-1 (the best-scored candidate is a rationale sentence / holds an accepted answer) on
both held-out sets for the shipped weights (alone and with the shipped re-ranking by the answer phrase,
answer.rerank) and for weights fitted on SQuAD only, SciFact only, and both (each source weighted equally),
at a few L2 penalties.

The second checks answerability off Wikipedia: the shipped model (fitted on SQuAD tuning halves) and two
alternatives, the two experts (tune_answer.Experts, on the same halves) and one logistic fitted on those
halves and SciFact's train claims (supported against "not enough info", each source weighing half), are
scored on SQuAD's held-out halves, SciFact's test claims and the seed questions (news: answerable against
on-topic unanswerable; nothing is fitted on them):

    python -m benchmarks.scifact_rationale [--scifact ../shared/bench/scifact] [--squad ../shared/bench/squad]
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant import Assistant, Settings
from assistant.answer import FEATURES, Candidate, logistic
from assistant.config import DEFAULT_CORPUS

from .cli import BENCH
from .common import SEED_QUESTIONS, cached_encoder, open_assistant, prime_questions, shipped_index_copy
from .data import DEFAULT_CACHE, Beir, Documents, article_folder, read_jsonl
from .metrics import roc_auc
from .tune_answer import (
    Case,
    V1Tuning,
    answerability_halves,
    answerability_sets,
    answerable_rows,
    ceiling,
    conditional_logit,
    fit_experts,
    fit_logistic,
    read,
    rerank_rows,
    stack_rows,
    top1_holds,
    top1_of,
    v1_tuning,
)

CORPUS_SIZE = 800  # every abstract a claim cites (667), the rest distractors
DISTRACTOR_SEED = 0
L2 = (0.1, 1.0, 10.0)


@dataclass(frozen=True)
class Claim:
    id: str
    text: str
    evidence: dict[str, frozenset[int]]  # doc id -> indices of its rationale sentences


def load_claims(root: Path, split: str, supported: bool = True) -> list[Claim]:
    """Claims of qrels/<split>.tsv that have rationale sentences, in queries.jsonl order; with `supported`
    False, those that have none instead (SciFact's "not enough info": the abstract they cite is on their
    topic and says nothing for or against them; `evidence` is then empty)."""
    wanted = set(Beir(root).qrels(split))
    out: list[Claim] = []
    for row in read_jsonl(root / "queries.jsonl"):
        qid = str(row["_id"])
        evidence = {str(doc): frozenset(i for e in rationales for i in e["sentences"])
                    for doc, rationales in (row.get("metadata") or {}).items()}
        evidence = {doc: s for doc, s in evidence.items() if s}
        if qid in wanted and bool(evidence) == supported:
            out.append(Claim(qid, str(row["text"]), evidence))
    return out


def corpus_ids(root: Path, size: int = CORPUS_SIZE, seed: int = DISTRACTOR_SEED) -> list[str]:
    """Every abstract a train or test claim cites (qrels: its evidence, or for an unsupported claim the
    abstract on its topic) plus distractors drawn at random, `size` in all."""
    beir = Beir(root)
    cited = {doc for split in ("train", "test") for docs in beir.qrels(split).values() for doc in docs}
    rest = sorted(str(row["_id"]) for row in read_jsonl(root / "corpus.jsonl") if str(row["_id"]) not in cited)
    extra = random.Random(seed).sample(rest, max(0, min(len(rest), size - len(cited))))
    return sorted(cited | set(extra))


def sentence_spans(text: str, sentences: Sequence[str]) -> list[tuple[int, int]]:
    """Character span of each abstract sentence in the article text (found in order after the title line)."""
    spans: list[tuple[int, int]] = []
    cursor = text.find("\n") + 1  # the title is the first line
    for sentence in sentences:
        s = sentence.strip()
        start = text.find(s, cursor) if s else -1
        if start < 0:
            spans.append((-1, -1))  # not found verbatim (should not happen: corpus text is the joined sentences)
            continue
        spans.append((start, start + len(s)))
        cursor = start + len(s)
    return spans


def rationale_of(candidate: Candidate, spans: Sequence[tuple[int, int]], gold: frozenset[int]) -> list[int]:
    """Gold sentence indices that `candidate` covers: overlap of more than half the shorter of the two spans
    (the project's splitter and SciFact's may cut a sentence differently)."""
    out = []
    for i in sorted(gold):
        if i >= len(spans) or spans[i][0] < 0:
            continue
        start, end = spans[i]
        overlap = min(end, candidate.end) - max(start, candidate.start)
        if overlap > 0.5 * min(end - start, candidate.end - candidate.start):
            out.append(i)
    return out


class Rationales:
    """The SciFact corpus as an article folder, and each article's sentence spans."""

    def __init__(self, root: Path, cache: Path, keep: Sequence[str]) -> None:
        self.docs: Documents = article_folder(root / "corpus.jsonl", cache, "scifact-rationale", keep)
        kept = set(keep)
        self.sentences = {str(r["_id"]): list(r["sentences"]) for r in read_jsonl(root / "corpus_sentences.jsonl")
                          if str(r["_id"]) in kept}

    def labels(self, assistant: Assistant, claim: Claim, rows: Sequence[Candidate]) -> list[list[int]]:
        """Per candidate: the gold rationale sentence indices it covers (empty: not a rationale)."""
        out: list[list[int]] = []
        spans: dict[str, list[tuple[int, int]]] = {}  # per article: several candidates share one
        for c in rows:
            doc = self.docs.doc_of[c.source]
            gold = claim.evidence.get(doc)
            if not gold:
                out.append([])
                continue
            if doc not in spans:
                spans[doc] = sentence_spans(assistant.loaded.articles[c.source].text, self.sentences[doc])
            out.append(rationale_of(c, spans[doc], gold))
        return out

    def cases(self, assistant: Assistant, claims: Sequence[Claim]) -> list[Case]:
        """Each claim's Case through the real retrieval and candidate code, labelled by rationale sentences;
        a claim the articles do not support (no evidence) is not answerable."""
        loaded = assistant.loaded
        prime_questions(assistant, [c.text for c in claims])
        out: list[Case] = []
        for claim in claims:
            q, hits, rows = read(assistant, claim.text, assistant.settings.answer.read_chunks)
            labels = np.asarray([float(bool(g)) for g in self.labels(assistant, claim, rows)])
            words = [len(loaded.articles[c.source].text[c.start : c.end].split()) for c in rows]
            out.append(Case(q, hits, rows, labels, words, float(bool(claim.evidence))))
        return out


def fit(sources: Sequence[list[Case]], l2: float) -> np.ndarray:
    """Conditional logit over the groups of every source, each source weighted equally."""
    groups = [[(c.x, c.labels) for c in data if len(c.labels) and c.labels.max() > 0] for data in sources]
    total = sum(len(g) for g in groups)
    weights = [total / (len(sources) * len(g)) for g in groups for _ in g]
    return conditional_logit([x for g in groups for x in g], len(FEATURES), l2, weights)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scifact", type=Path, default=BENCH / "scifact")
    parser.add_argument("--squad", type=Path, default=BENCH / "squad")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--questions", type=int, default=3000, help="SQuAD v1.1 tuning questions (as tune_answer)")
    parser.add_argument("--claims", type=int, default=0, help="at most this many claims per split (0: all)")
    parser.add_argument("--v2-questions", type=int, default=2000, help="SQuAD v2.0 tuning questions (as tune_answer)")
    args = parser.parse_args()
    encoder = cached_encoder(args.cache)
    settings = Settings()

    rationales = Rationales(args.scifact, args.cache, corpus_ids(args.scifact))
    sf = open_assistant(rationales.docs.folder, args.cache, settings, encoder)
    train, test = (load_claims(args.scifact, split) for split in ("train", "test"))
    if args.claims:
        train, test = train[: args.claims], test[: args.claims]
    sf_fit, sf_held = rationales.cases(sf, train), rationales.cases(sf, test)

    squad = v1_tuning(args.squad, args.cache, settings, encoder, args.questions)
    sq_fit, sq_held = squad.fit, squad.held

    print(f"SQuAD v1.1: fit {len(sq_fit)} / held-out {len(sq_held)} questions, held-out ceiling {ceiling(sq_held):.3f}")
    print(f"SciFact: {len(rationales.docs.doc_of)} abstracts; train {len(sf_fit)} / test {len(sf_held)} claims, "
          f"test ceiling (some candidate is a rationale) {ceiling(sf_held):.3f}")
    print("\n  weights                 |  l2  | SQuAD held-out | SciFact test | SciFact train")
    shipped = np.asarray(settings.answer.weights)
    print(f"  (a) shipped             |  -   | {top1_holds(sq_held, shipped):14.3f} |"
          f" {top1_holds(sf_held, shipped):12.3f} | {top1_holds(sf_fit, shipped):13.3f}")
    rerank = np.asarray(settings.answer.rerank_weights)
    after = [top1_of(d, [x @ rerank for x in rerank_rows(d, shipped, settings)]) for d in (sq_held, sf_held, sf_fit)]
    print(f"  (a) + re-ranking        |  -   | {after[0]:14.3f} | {after[1]:12.3f} | {after[2]:13.3f}")
    fitted: dict[tuple[str, float], np.ndarray] = {}
    for name, sources in (("(b) SQuAD only", [sq_fit]), ("(c) SciFact only", [sf_fit]),
                          ("(d) both, equal weight", [sq_fit, sf_fit])):
        for l2 in L2:
            w = fitted[name, l2] = fit(sources, l2)
            print(f"  {name:23s} | {l2:<4} | {top1_holds(sq_held, w):14.3f} | {top1_holds(sf_held, w):12.3f}"
                  f" | {top1_holds(sf_fit, w):13.3f}")
    print("\n  feature            shipped " + " ".join(f"{n.split()[0]:>8s}" for n in ("(b)", "(c)", "(d)"))
          + "   (l2=1.0)")
    columns = [shipped] + [fitted[n, 1.0] for n in ("(b) SQuAD only", "(c) SciFact only", "(d) both, equal weight")]
    for i, feature in enumerate(FEATURES):
        print(f"  {feature:18s} " + " ".join(f"{col[i]:+8.3f}" for col in columns))
    for (name, l2), w in fitted.items():
        print(f"{name} l2={l2}: weights=(" + ", ".join(f"{v:.3f}" for v in w) + ")")
    answerability(args, settings, encoder, squad, rationales, sf, sf_fit, sf_held)


def answerability(args: argparse.Namespace, settings: Settings, encoder: Any, squad: V1Tuning,
                  rationales: Rationales, sf: Assistant, sf_train: list[Case], sf_test: list[Case]) -> None:
    """The answerability model (shipped: one logistic on SQuAD) against two alternatives, the two experts
    (tune_answer.Experts) and one logistic fitted on SQuAD and SciFact train claims together (each source
    weighted equally), on SQuAD's held-out halves, on SciFact test claims (supported against not-enough-info:
    on topic, not said) and on the seed questions (news: answerable against on-topic unanswerable; nothing is
    fitted on them)."""
    weights = np.asarray(settings.answer.weights)
    train, test = answerability_halves(
        answerability_sets(squad, args.squad, args.cache, settings, encoder, args.v2_questions), weights)
    claims = {split: rationales.cases(sf, load_claims(args.scifact, split, supported=False))
              for split in ("train", "test")}
    scifact = answerable_rows(sf_test + claims["test"], weights)
    seeds = answerable_rows(seed_cases(encoder), weights)
    experts = fit_experts(train)
    squad_f, squad_a = stack_rows(train.values())
    sf_f, sf_a, _ = answerable_rows(sf_train + claims["train"], weights)
    rows = len(squad_a) + len(sf_a)  # each source weighs half, the mean row weight stays 1
    even = np.concatenate([np.full(len(squad_a), rows / (2 * len(squad_a))),
                           np.full(len(sf_a), rows / (2 * len(sf_a)))])
    both = fit_logistic(np.concatenate([squad_f, sf_f]), np.concatenate([squad_a, sf_a]), sample_weights=even)
    models: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "one logistic (shipped)": lambda f: np.asarray(logistic(f @ np.asarray(settings.answer.calibration))),
        "two experts (tune_answer.Experts)": experts.confidence,
        "one logistic, SQuAD + SciFact train": lambda f: np.asarray(logistic(f @ both)),
    }
    threshold = settings.answer.abstain_below
    print(f"\nanswerability, ROC AUC of the confidence (and at abstain_below {threshold}: share abstained on)")
    print("  model                             | SQuAD v2.0 held-out half   | SQuAD v1.1 kept vs removed | "
          f"SciFact test, supported {int(scifact[1].sum())} vs not-enough-info {int((scifact[1] == 0).sum())} | "
          f"seeds, answerable {int(seeds[1].sum())} vs on topic {int((seeds[1] == 0).sum())}")
    for name, model in models.items():
        cells = []
        for f, answerable in ((test["v2.0"][0], test["v2.0"][1]),
                              (np.concatenate([test["v1.1 answerable"][0], test["v1.1 paragraph removed"][0]]),
                               np.concatenate([test["v1.1 answerable"][1], test["v1.1 paragraph removed"][1]])),
                              scifact[:2], seeds[:2]):
            p = model(f)
            yes = answerable > 0
            cells.append(f"{roc_auc(list(p), list(yes)):.3f} ({float((p[yes] < threshold).mean()):.1%} / "
                         f"{float((p[~yes] < threshold).mean()):.1%})")
        print(f"  {name:33s} | " + " | ".join(cells))
    print("  (in brackets: answerable abstained on / unanswerable abstained on)")


def seed_cases(encoder: Any) -> list[Case]:
    """The seed questions' answerable (1) and on-topic unanswerable (0) ones as Cases, on a private copy of the
    shipped index."""
    data = json.loads(SEED_QUESTIONS.read_text(encoding="utf-8"))
    assistant = Assistant(DEFAULT_CORPUS, shipped_index_copy(DEFAULT_CACHE / "answers" / "seeds-index"),
                          encoder=encoder)
    out: list[Case] = []
    for item, answerable in [(i, 1.0) for i in data["answerable"]] + [(i, 0.0) for i in data["on_topic_unanswerable"]]:
        q, hits, rows = read(assistant, item["q"], assistant.settings.answer.read_chunks)
        out.append(Case(q, hits, rows, np.zeros(len(rows)), [0] * len(rows), answerable))
    return out


if __name__ == "__main__":
    main()
