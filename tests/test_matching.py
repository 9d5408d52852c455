"""Question terms matched in other words (matching.py), with the real model: a term a passage lacks by stem
is partly present when a word of the passage means about the same, and not when it only shares a topic."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from assistant.config import AnswerSettings
from assistant.index.encoder import SentenceEncoder
from assistant.index.lexical import tokenize_words
from assistant.matching import TermMatcher, WordVectors, form_terms, verb_forms

SOFT = AnswerSettings().soft_match


class _Counting:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return self.encoder.encode(texts)


def _matcher(question: str, vectors: WordVectors, soft: tuple[float, float] = SOFT) -> TermMatcher:
    pairs = list({term: (word, term) for word, term in reversed(tokenize_words(question))}.values())[::-1]
    return TermMatcher([t for _, t in pairs], [w for w, _ in pairs], vectors, soft)


def _presence(matcher: TermMatcher, passage: str) -> dict[str, float]:
    return dict(zip(matcher.terms, matcher.presence(tokenize_words(passage)).tolist(), strict=True))


def test_tokenize_words_pairs_each_term_with_its_word() -> None:
    assert tokenize_words("The countries' soldiers, and the U.S. troops") == [
        ("countries", "countri"), ("soldiers", "soldier"), ("us", "us"), ("troops", "troop")]


def test_a_term_with_the_same_stem_is_present(encoder: SentenceEncoder) -> None:
    m = _matcher("Which countries sent soldiers?", WordVectors(encoder))
    p = _presence(m, "Two country sent a soldier each.")
    assert p["countri"] == 1.0 and p["soldier"] == 1.0 and p["sent"] == 1.0


def test_a_word_of_the_same_meaning_counts_and_one_of_the_same_topic_does_not(encoder: SentenceEncoder) -> None:
    m = _matcher("Where is the biggest base?", WordVectors(encoder))
    assert _presence(m, "It is the largest base in the region.")["biggest"] > 0.5
    assert _presence(m, "It is the smallest base in the region.")["biggest"] == 0.0
    assert _presence(m, "It is a base with an airfield.")["biggest"] == 0.0
    troops = _matcher("How many soldiers died?", WordVectors(encoder))
    assert _presence(troops, "Forty troops were killed.")["soldier"] > 0.5


def test_stems_alone_when_soft_matching_is_off(encoder: SentenceEncoder) -> None:
    counting = _Counting(encoder)
    m = _matcher("Where is the biggest base?", WordVectors(counting), soft=(1.0, 1.0))
    p = _presence(m, "It is the largest base in the region.")
    assert p == {"biggest": 0.0, "base": 1.0}
    assert counting.texts == []  # nothing is embedded


def test_each_word_is_embedded_once(encoder: SentenceEncoder) -> None:
    counting = _Counting(encoder)
    vectors = WordVectors(counting)
    m = _matcher("Where is the biggest base?", vectors)
    _presence(m, "It is the largest base, the largest.")
    _presence(_matcher("Is it the biggest?", vectors), "The largest one.")
    assert sorted(counting.texts) == sorted(["biggest", "base", "largest", "one"])
    assert len(counting.texts) == len(set(counting.texts))


@pytest.mark.parametrize("limit", [2])
def test_the_word_cache_is_bounded(encoder: SentenceEncoder, limit: int) -> None:
    vectors = WordVectors(encoder, limit=limit)
    rows = vectors.get(["alpha", "beta", "gamma"])
    assert rows.shape == (3, 384)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    assert len(vectors._cache) == limit


def test_words_that_shape_the_question_count_by_stem_alone(encoder: SentenceEncoder) -> None:
    m = _matcher("How many firefighters were hurt?", WordVectors(encoder))
    p = _presence(m, "Several firefighters were injured, and many more were treated.")
    assert p["mani"] == 1.0  # the same word still counts
    p = _presence(m, "Several firefighters were injured.")
    assert p["mani"] == 0.0 and p["firefight"] == 1.0


def test_another_form_of_the_same_verb_is_present_with_the_word_vectors_off() -> None:
    """"said" is a form of "say" and "led" of "lead" by lemminflect's dictionary, not by the stemmer or the
    vectors; a word that is no verb has no other forms, and a word of another verb stays absent."""
    assert {"say", "said"} <= verb_forms("say") and verb_forms("led") == verb_forms("leads") >= {"lead", "led"}
    assert verb_forms("yesterday") == frozenset()
    m = _matcher("What did the mayor say, and who led the talks?", WordVectors(None), soft=(1.0, 1.0))
    p = _presence(m, "The mayor said the talks, which she leads, went well.")
    assert p["say"] == 1.0 and p["led"] == 1.0 and p["talk"] == 1.0
    p = _presence(m, "The mayor wrote that the talks went well.")
    assert p["say"] == 0.0 and p["led"] == 0.0


@pytest.mark.parametrize(("question", "form"), [
    ("How long did the legal fight last?", {"long"}),
    ("How many people work at the quarry?", {"mani"}),
    ("How much did the residents raise?", {"much"}),
    ("What kind of ship sank off the cape?", {"kind"}),
    ("What happened to the old ferry?", {"happen"}),
    ("Why was the fight so long?", set()),  # "long" is what is asked about here
    ("Which long-distance runner won?", set()),
    ("How did the council react?", set()),
])
def test_words_only_shaping_the_question_carry_no_weight(question: str, form: set[str]) -> None:
    assert form_terms(question) == form
