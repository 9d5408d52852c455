"""Abstentions say why, in the question's own words, from the evidence the answer was looked for in."""

from __future__ import annotations

from conftest import SEEDS, assert_citation_contract

from assistant import Assistant


def test_a_subject_no_article_mentions_is_named(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of Australia?")
    assert not answer.found
    assert answer.reason.startswith("no article mentions “Australia”"), answer.reason
    assert "confidence" in answer.reason
    assert_citation_contract(answer.to_dict(), SEEDS)


def test_question_words_are_not_reported_as_missing(assistant: Assistant) -> None:
    answer = assistant.ask("How many moons does Jupiter have?")
    assert not answer.found
    assert "“moons”" in answer.reason and "“Jupiter”" in answer.reason and "“many”" not in answer.reason


def test_an_on_topic_question_says_what_the_articles_mention_and_what_they_never_say(assistant: Assistant) -> None:
    answer = assistant.ask("When will the next meeting in Moscow take place?")
    assert not answer.found
    assert answer.reason.startswith("the articles mention"), answer.reason
    assert "“Moscow”" in answer.reason and "never say when" in answer.reason


def test_a_word_no_article_uses_is_named_with_the_passages_own_word_for_it(assistant: Assistant) -> None:
    answer = assistant.ask("Which paper wrote about a typhoon near the Russian base?")
    assert not answer.found
    assert answer.reason.startswith("no article mentions “paper”"), answer.reason
    assert "the passages nearest the question say “newspaper”" in answer.reason
    # A name has no stand-in: "Australia" is close to "country" and to other countries' names.
    australia = assistant.ask("What is the capital of Australia?")
    assert "say" not in australia.reason, australia.reason


def test_a_verb_the_articles_use_in_another_form_is_not_reported_missing(assistant: Assistant) -> None:
    """The articles say "sold", never "sell", "sells" or "selling": a reason that no article mentions “sell”
    would be false."""
    answer = assistant.ask("What did Biden sell to the typhoon victims?")
    assert not answer.found
    assert "“Biden”" in answer.reason and "“typhoon”" in answer.reason, answer.reason
    assert "“sell”" not in answer.reason, answer.reason
