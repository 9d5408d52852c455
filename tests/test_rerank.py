"""The second look at the best sentences (answer.rerank): a sentence that offers the asked-for phrase is
preferred, through the shipped phrase and re-ranking weights, and the first look is kept when it is off."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from assistant.answer import RERANK_FEATURES, Candidate, Question, rerank, rerank_features
from assistant.config import AnswerSettings
from assistant.phrase import phrase_evidence

SETTINGS = AnswerSettings()
WEIGHTS = dict(SETTINGS.phrase_weights)
TEXT = ("The plant, which opened in the spring, was the largest employer in the valley and its workers "
        "were proud of it. About 1,200 workers lost their jobs when the plant shut.")
QUESTION = "How many workers lost their jobs at the plant?"


class _Texts:
    """The one thing rerank reads from the evidence: an article's text."""

    def text(self, source: str) -> str:
        return TEXT


def _rows() -> tuple[Question, list[Candidate]]:
    q = Question(QUESTION, ["worker", "lost", "job", "plant"], np.zeros(3), _Texts())  # type: ignore[arg-type]
    split = TEXT.index("About")
    return q, [Candidate("a.txt", 0, split - 1, ()), Candidate("a.txt", split, len(TEXT), ())]


def test_the_phrase_evidence_of_a_sentence() -> None:
    first, second = TEXT.split(". ", 1)
    assert phrase_evidence(QUESTION, first, 0, len(first), WEIGHTS) == (0.0, 1.0)  # no number in it
    score, none = phrase_evidence(QUESTION, second, 0, len(second), WEIGHTS)
    assert none == 0.0 and score != 0.0
    assert phrase_evidence("Why did the plant shut?", second, 0, len(second), WEIGHTS) == (0.0, 0.0)


def test_who_is_a_name_asks_for_a_description_so_a_name_in_the_sentence_is_no_evidence() -> None:
    """"Who is <Name>?" is marked by the description rule (phrase.description), not the person model; the
    person model's liking for a name in the sentence must not re-rank it either."""
    sentence = "Mara Olsen, a marine biologist at the Bergen institute, said Tom Reyes had led the survey."
    assert phrase_evidence("Who led the survey?", sentence, 0, len(sentence), WEIGHTS)[0] != 0.0
    assert phrase_evidence("Who is Mara Olsen?", sentence, 0, len(sentence), WEIGHTS) == (0.0, 0.0)


def test_a_sentence_offering_the_asked_number_overtakes_one_just_ahead_without_it() -> None:
    q, rows = _rows()
    first_look = np.asarray([1.0, 0.8])
    assert int(np.argmax(rerank(q, rows, first_look, SETTINGS))) == 1
    off = replace(SETTINGS, rerank_top=0)
    assert rerank(q, rows, first_look, off) is first_look


def test_only_the_best_few_are_read_again() -> None:
    q, rows = _rows()
    x = rerank_features(q, rows, np.asarray([1.0, 0.8]), 1, WEIGHTS)
    assert x.shape == (2, len(RERANK_FEATURES))
    assert list(x[:, 0]) == [1.0, 0.8] and list(x[:, -1]) == [1.0, 0.0]
    assert list(x[1, 1:]) == [0.0, 0.0, 0.0]  # the second is outside the top one: not read
