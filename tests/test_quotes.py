"""Self-contained quotes: a sentence that leans on its neighbour is quoted with it, as one verbatim span."""

from __future__ import annotations

import pytest
from conftest import SEEDS, assert_citation_contract

from assistant import Assistant
from assistant.answer import FEATURES, Question, candidates
from assistant.index.encoder import SentenceEncoder
from assistant.quotes import leans_back

EMBASSY = """Ruritania Returns to the Capital

Ruritania announced on Monday that its diplomats would return to the capital after two years away.

Last week, it became the first country to reopen its embassy there, officials said.

Flights between the two cities resumed in March, and trade has grown by a third since then.

The harbour of Port Valen handles most of that trade, with grain and timber the largest cargoes.

The Valen Weather Service issued a flood warning for the river towns on Tuesday evening.

According to the agency, the Ostby river crested at 6.2 metres overnight, its highest level in forty years.

Mayor Dana Whitlock opened the rebuilt Ostby library on Saturday.

She said the building had cost less than the council had planned.

She added that the reading rooms would stay open until 10 p.m. on weekdays.
"""

SHIELD = """Rovers Take the Valen Shield

Port Valen Rovers won the Valen Shield on Sunday, beating Ostby Town 2-1 in front of 9,000 supporters.

Midfielder Anya Brandt scored both goals, the second from a free kick in the final minute.

Port Valen Rovers' manager, Ilse Varga, who took over in March, called it the proudest day of her career.

The club last won the shield in 1987, when it beat Karsa Athletic 4-0 at the old harbour ground.

Ostby Town have now lost four finals in a row.
"""


@pytest.mark.parametrize(("sentence", "leans"), [
    ("Last week, it became the first country to reopen its embassy there.", True),
    ("They signed the agreement in Moscow.", True),
    ("The newspaper reported that talks had stalled.", True),
    ("“We will not negotiate,” he said on Friday.", True),
    ("Zamir Kabulov, his special envoy for Afghanistan, described the advance.", False),
    ("Ruritania announced on Monday that its diplomats would return.", False),
    ("The harbour of Port Valen handles most of that trade.", False),
    ("According to the agency, the death toll rose to 40 by Sunday.", True),
    ("The death toll rose to 40 by Sunday, the ministry said.", True),
    ("The death toll rose to 40, according to them.", True),
    ("According to the World Health Organization, the death toll rose to 40.", False),
    ("The death toll rose to 40, Ruritania's health ministry said.", False),
    ("According to the head of the agency's office in Valen, the toll rose.", False),
    # "said he" leans back only as an inverted attribution, not as "<Name> said he …"
    ("“The talks are over,” said he, leaving the room.", True),
    ("Ms Arden, who led the union for a decade, said she had resigned.", False),
])
def test_which_sentences_lean_on_the_one_before(sentence: str, leans: bool) -> None:
    assert leans_back(sentence) is leans


@pytest.fixture(scope="module")
def embassy(tmp_path_factory: pytest.TempPathFactory, encoder: SentenceEncoder) -> Assistant:
    corpus = tmp_path_factory.mktemp("embassy")
    (corpus / "embassy.txt").write_text(EMBASSY, encoding="utf-8")
    (corpus / "shield.txt").write_text(SHIELD, encoding="utf-8")
    assistant = Assistant(corpus, tmp_path_factory.mktemp("embassy-index"), encoder=encoder)
    assistant.open()
    return assistant


def test_a_pronoun_subject_is_quoted_with_the_sentence_that_names_it(embassy: Assistant) -> None:
    answer = embassy.ask("Which country was the first to reopen its embassy?")
    assert answer.found, answer.reason
    first = answer.citations[0]
    assert "Ruritania announced on Monday" in first.quote and "Last week, it became" in first.quote
    assert first.phrase == "Ruritania"
    assert_citation_contract(answer.to_dict(), embassy)


def test_a_remark_attributed_to_the_agency_is_quoted_with_the_sentence_that_names_it(embassy: Assistant) -> None:
    """ "According to the agency, …" never says which agency: the sentence before does, and is quoted with it."""
    answer = embassy.ask("How high did the Ostby river crest?")
    assert answer.found, answer.reason
    first = answer.citations[0]
    assert first.quote.startswith("The Valen Weather Service issued") and "6.2 metres" in first.quote
    assert first.phrase == "6.2 metres"  # the number asked for, with its unit
    assert_citation_contract(answer.to_dict(), embassy)


def test_a_chain_of_pronouns_is_quoted_back_to_the_sentence_that_names_them(embassy: Assistant) -> None:
    """ "She added …" after "She said …": the quote reaches back two sentences, to the one naming the mayor."""
    answer = embassy.ask("Until what time will the reading rooms stay open on weekdays?")
    assert answer.found, answer.reason
    first = answer.citations[0]
    assert first.quote.startswith("Mayor Dana Whitlock opened") and first.quote.endswith("on weekdays.")
    assert_citation_contract(answer.to_dict(), embassy)


def test_a_sentence_is_chosen_for_what_the_sentence_it_leans_on_names(embassy: Assistant) -> None:
    """ "The club … when it beat Karsa Athletic" never names the club; the sentence before does. Selection counts
    the question's words that sentence holds ("coverage_leaned_on"), so it is quoted beside the first sentence,
    which names the club and says "beating" but not the match asked about."""
    answer = embassy.ask("Who did Port Valen Rovers beat in 1987?")
    assert answer.found, answer.reason
    quoted = [c for c in answer.citations if "Karsa Athletic 4-0" in c.quote]
    assert quoted, [c.quote for c in answer.citations]
    assert quoted[0].quote.startswith("Port Valen Rovers' manager")  # widened to the sentence naming the club
    assert quoted[0].phrase == "Karsa Athletic"  # read in the chosen sentence, not the manager's name before it
    assert_citation_contract(answer.to_dict(), embassy)


def test_only_a_sentence_that_leans_back_gains_from_the_one_before(embassy: Assistant) -> None:
    loaded = embassy.loaded
    text = loaded.articles["shield.txt"].text
    question = "Who did Port Valen Rovers beat in 1987?"
    vector, tokens = embassy._query(question)
    q = Question(question, tokens, vector, loaded.evidence)
    hits = loaded.retriever.search(vector, tokens, 5)
    gained = {text[c.start : c.end][:16]: c.features[FEATURES.index("coverage_leaned_on")]
              for c in candidates(q, hits, embassy.settings.answer) if c.source == "shield.txt"}
    assert gained["The club last wo"] > 0.3  # "Port", "Valen", "Rovers" are in the sentence before
    assert gained["Port Valen Rover"] == 0.0 and gained["Midfielder Anya "] == 0.0  # these stand alone


def test_a_following_sentence_with_the_asked_fact_is_quoted_as_one_span(assistant: Assistant) -> None:
    """The Kazan seed: the minister is named in one sentence, the city in the next ("he said Friday from Kazan")."""
    answer = assistant.ask("From which city did the Afghan foreign minister speak on Friday?")
    assert answer.found, answer.reason
    first = answer.citations[0]
    assert "Amir Khan Muttaqi called on other countries" in first.quote and "from Kazan" in first.quote
    text = (SEEDS / first.source).read_text(encoding="utf-8")
    assert text[first.start : first.end] == first.quote  # one contiguous span, verbatim
    assert_citation_contract(answer.to_dict(), SEEDS)


def test_a_sentence_that_stands_alone_is_not_widened(assistant: Assistant, embassy: Assistant) -> None:
    answer = embassy.ask("Which harbour handles most of the trade?")
    assert answer.citations[0].quote == ("The harbour of Port Valen handles most of that trade, with grain and timber "
                                         "the largest cargoes.")
    seed = assistant.ask("Who is the Taliban spokesman who repeated the preconditions for dialogue?")
    quote = seed.citations[0].quote
    assert "Zabihullah Mujahid" in quote and "\n" not in quote


def test_no_text_is_quoted_twice(assistant: Assistant) -> None:
    for question in ("From which city did the Afghan foreign minister speak on Friday?",
                     "Who is Putin's special envoy to Afghanistan?"):
        spans = [(c.source, c.start, c.end) for c in assistant.ask(question).citations]
        for i, (source, start, end) in enumerate(spans):
            assert not any(s == source and a < end and start < b for s, a, b in spans[i + 1 :])
