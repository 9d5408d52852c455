"""SciFact rationale labels (benchmarks.scifact_rationale): candidate sentence spans mapped back to the abstract's
sentence indices, on a synthetic article and on a tiny real slice through the real retrieval and candidate code."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answer import Candidate
from assistant.index.encoder import SentenceEncoder
from benchmarks.cli import BENCH
from benchmarks.data import Beir
from benchmarks.scifact_rationale import Rationales, corpus_ids, load_claims, rationale_of, sentence_spans

SCIFACT = BENCH / "scifact"


def test_spans_and_labels_on_a_synthetic_abstract() -> None:
    sentences = ["Alpha is high.", "Beta rises in mice.", "Gamma falls."]
    text = "Alpha is high in a title\n\n" + " ".join(sentences) + "\n"
    spans = sentence_spans(text, sentences)
    assert [text[a:b] for a, b in spans] == sentences  # the title's "Alpha is high" is not taken for sentence 0

    def row(start: int, end: int) -> Candidate:
        return Candidate("x.txt", start, end, ())

    assert rationale_of(row(*spans[1]), spans, frozenset({1, 2})) == [1]
    assert rationale_of(row(*spans[0]), spans, frozenset({1, 2})) == []
    assert rationale_of(row(spans[1][0], spans[2][1]), spans, frozenset({2})) == [2]  # a candidate of two sentences


@pytest.mark.slow
@pytest.mark.skipif(not (SCIFACT / "corpus_sentences.jsonl").exists(), reason="benchmark data not present")
def test_labels_match_gold_sentences_on_three_real_claims(tmp_path: Path, encoder: SentenceEncoder) -> None:
    claims = load_claims(SCIFACT, "train")[:3]
    evidence = sorted({doc for c in claims for doc in c.evidence})
    keep = sorted(set(evidence) | set(corpus_ids(SCIFACT)[:8]))  # the gold abstracts and a few others
    rationales = Rationales(SCIFACT, tmp_path / "cache", keep)
    assistant = Assistant(corpus=rationales.docs.folder, index=tmp_path / "index", encoder=encoder)
    assistant.open()
    positives = 0
    for claim, case in zip(claims, rationales.cases(assistant, claims), strict=True):
        covered = rationales.labels(assistant, claim, case.rows)
        for c, label, indices in zip(case.rows, case.labels, covered, strict=True):
            doc = rationales.docs.doc_of[c.source]
            gold = claim.evidence.get(doc, frozenset())
            assert set(indices) <= gold and label == float(bool(indices))
            quote = assistant.loaded.articles[c.source].text[c.start : c.end].strip()
            for i, sentence in enumerate(rationales.sentences[doc]):
                if sentence.strip() == quote:  # the candidate is exactly SciFact's sentence i
                    assert label == float(i in gold), (claim.id, doc, i)
        positives += int(case.labels.sum())
        assert case.answerable == 1.0
    assert positives > 0  # the gold abstracts are in the corpus: some rationale sentence is among the candidates
    unsupported = load_claims(SCIFACT, "train", supported=False)[:2]
    for case in rationales.cases(assistant, unsupported):
        assert case.answerable == 0.0 and not case.labels.any()


@pytest.mark.skipif(not (SCIFACT / "corpus_sentences.jsonl").exists(), reason="benchmark data not present")
def test_unsupported_claims_are_the_rest_of_the_split_and_their_abstracts_are_in_the_corpus() -> None:
    supported, unsupported = load_claims(SCIFACT, "test"), load_claims(SCIFACT, "test", supported=False)
    assert supported and unsupported and all(not c.evidence for c in unsupported)
    assert {c.id for c in supported} | {c.id for c in unsupported} == set(Beir(SCIFACT).qrels("test"))
    assert not {c.id for c in supported} & {c.id for c in unsupported}
    cited = {doc for c in unsupported for doc in Beir(SCIFACT).qrels("test")[c.id]}
    assert cited <= set(corpus_ids(SCIFACT))  # on topic: the abstract each one cites is searched
