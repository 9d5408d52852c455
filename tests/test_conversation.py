"""How a follow-up question is read in the light of the previous turn (pure text rules, no model)."""

from __future__ import annotations

from assistant import Answer, Citation
from assistant.conversation import read

RUSSIA = "How much has Russia committed to train and equip the Tajik army?"
QUOTE = "Meanwhile, Afghan Foreign Minister Amir Khan Muttaqi called on other countries to stop telling Afghanistan."


def turn(question: str, quote: str = "") -> Answer:
    citations = (Citation("003.txt", "Title", quote, 0, len(quote), 0.9),) if quote else ()
    return Answer(question, bool(quote), quote, citations, 0.9 if quote else 0.1, "")


def test_first_question_is_asked_as_it_is() -> None:
    reading = read("What about China?", None)
    assert reading.query == "What about China?" and not reading.follow_up and not reading.skip_quoted


def test_ellipsis_asks_the_previous_question_of_the_new_subject() -> None:
    reading = read("What about China?", turn(RUSSIA, "It went on to state ... $1.2 billion"))
    assert reading.follow_up and reading.skip_quoted
    assert reading.focus == ("China",)
    assert "Russia" not in reading.query and "Tajik" not in reading.query
    assert "committed to train and equip" in reading.query and reading.query.endswith("China")


def test_ellipsis_without_a_name_adds_the_previous_question() -> None:
    reading = read("Why?", turn(RUSSIA))
    assert reading.query == f"{RUSSIA} Why?" and reading.focus == ()


def test_pronoun_brings_the_names_of_the_previous_turn() -> None:
    reading = read("Where did he speak on Friday?", turn("Who is the Afghan foreign minister?", QUOTE))
    assert reading.follow_up and reading.skip_quoted
    assert reading.query.startswith("Where did he speak on Friday?")
    for name in ("Afghan", "Amir", "Khan", "Muttaqi"):
        assert name in reading.query


def test_a_new_question_that_stands_on_its_own_is_not_rewritten() -> None:
    question = "How much did the Chinese army promise to the Afghan forces?"
    reading = read(question, turn(RUSSIA, "quote"))
    assert reading.query == question and not reading.follow_up


def test_who_is_a_name_is_a_question_of_its_own_and_a_bare_name_is_an_ellipsis() -> None:
    reading = read("Who is Arkady Dubnov?", turn(RUSSIA, "quote"))
    assert reading.query == "Who is Arkady Dubnov?" and not reading.follow_up
    reading = read("Pakistan?", turn(RUSSIA, "quote"))
    assert reading.follow_up and reading.focus == ("Pakistan",)


def test_a_possessive_after_a_name_in_the_question_belongs_to_that_name() -> None:
    previous = turn("Which newspaper said Moscow is pulling back?", QUOTE)
    question = "In which country does Moscow keep its biggest military base?"
    reading = read(question, previous)
    assert reading.query == question and not reading.follow_up
    assert read("What did Lavrov say about it?", previous).follow_up  # "it": something said before
    assert read("Where is its biggest base?", previous).follow_up  # no name before the possessive
    assert read("Does Moscow keep its troops there?", previous).follow_up  # "there" points back
    assert read("Explain its role in the talks.", previous).follow_up  # a capitalised first word is no name
