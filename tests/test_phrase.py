"""The answer phrase: the words inside a quote that answer, per kind of question, on the seed articles
(through the real assistant, CLI and JSON) and on sentences written here."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import SEEDS, assert_citation_contract

from assistant import Assistant
from assistant.config import AnswerSettings
from assistant.fronts import cli
from assistant.grammar import tag
from assistant.index.encoder import SentenceEncoder
from assistant.index.lexical import tokenize
from assistant.phrase import answer_phrase, asked_head, asked_kind, unstated, with_phrases
from assistant.types import Answer, Article, Citation

WEIGHTS = dict(AnswerSettings().phrase_weights)


@pytest.mark.parametrize(("question", "kind"), [
    ("Who founded the company?", "person"),
    ("Whose letter was read at the meeting?", "person"),
    ("Which newspaper reported it?", "person"),
    ("Where was the summit held?", "place"),
    ("From which city did he speak?", "place"),
    ("When did the factory close?", "date"),
    ("In what year did Russia host the delegation?", "date"),
    ("In which years did the festival move abroad?", "date"),  # a plural asks for dates too (was "thing")
    ("How many workers lost their jobs?", "number"),
    ("How much did the city spend?", "number"),
    ("What is the population of the province?", "number"),
    ("Which fruit grows there?", "thing"),
    ("What did the minister promise?", "other"),
    ("Name the agency that sent the aid.", "person"),  # a request to name reads as "which agency"
    ("List the countries that signed the pact.", "thing"),  # a list: as "which countries"
    ("Why did the talks fail?", None),
    ("Has the council approved the budget?", None),  # yes or no: the quote answers, no phrase does
    ("Did the mayor say how many homes flooded?", "number"),
    ("Is the river rising or falling?", "other"),  # a choice: the phrase is one of the two
    ("How did the army respond?", None),
])
def test_the_kind_of_answer_a_question_asks_for(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def _phrase(question: str, sentence: str) -> str | None:
    found = answer_phrase(question, sentence, 0, len(sentence), WEIGHTS)
    return sentence[found[0] : found[1]] if found else None


@pytest.mark.parametrize(("question", "sentence", "phrase"), [
    ("Who founded the bakery?", "The bakery was founded in 1998 by Maria Lopez, a former teacher.", "Maria Lopez"),
    ("Where was the summit held?", "The summit was held in Geneva last week, officials said.", "Geneva"),
    ("When did the factory close?", "The factory closed in 2019 after years of losses.", "2019"),
    ("How many workers lost their jobs?", "About 1,200 workers lost their jobs when the plant shut.", "1,200"),
    ("How much did the city spend on the bridge?", "The city spent $4.5 million on the bridge.", "$4.5 million"),
    ("Which agency will deliver the food?", "The food will be delivered by the World Food Program next month.",
     "World Food Program"),
    ("How tall is the new tower?", "The new tower rises 330 metres above the harbour.", "330 metres"),
    ("How fast was the train going?", "Investigators said the train was going 92 km/h when it left the rails.",
     "92 km/h"),
    # a middle initial belongs to the name; a span of time keeps its unit, spaced or hyphenated
    ("Who chaired the inquiry?", "The inquiry was chaired by Helen R. Moss, a retired judge.", "Helen R. Moss"),
    ("How long did the strike last?", "The strike lasted 11 days before the union accepted the offer.", "11 days"),
    ("How long was the lease?", "The council signed a 25-year lease for the old harbour warehouse.", "25-year"),
    # a question about money asks for the amount of money, not the span of time beside it
    ("How much did the repairs cost?",
     "The pier reopened after eight months of repairs that cost the council $3.1 million, officials said.",
     "$3.1 million"),
    ("How big is the new battery?", "The town installed a 40-megawatt battery beside the substation.", "40-megawatt"),
    # a share written as a ratio keeps its second number
    ("What share of the seedlings survived?", "Only about one in four seedlings survived the dry summer.",
     "one in four"),
    ("What proportion of the voters backed the plan?", "Three out of 10 voters backed the plan.", "Three out of 10"),
    ("What share of the homes flooded?", "About one in every five homes flooded in the storm.", "one in every five"),
    # a range keeps both ends and its unit
    ("How deep is the reservoir?", "Divers said the reservoir is 30-35 metres deep near the dam.", "30-35 metres"),
    ("At what temperature is the cheese stored?", "The cheese is stored between four and nine degrees Celsius.",
     "four and nine degrees Celsius"),
    # a number written in words before a hyphen is a number, with its unit ("three-year")
    ("How long is the contract?", "The club handed the coach a three-year contract worth $2 million.", "three-year"),
    ("How many engines does the jet have?", "The four-engine jet can carry 300 passengers.", "four-engine"),
    # a time of day answers "when" ("5 a.m." had no candidate: "a.m." was cut into letters)
    ("When did the trawler leave port?", "The trawler had left port at 5 a.m. with four crew aboard.", "5 a.m."),
    ("When does the fish market open?", "The fish market opens at noon on weekdays.", "noon"),
    # a decade keeps its "s" ("1990s" was cut to "1990")
    ("When did the band form?", "The band formed in the early 1990s in a garage in Leeds.", "early 1990s"),
    # "how old" is answered by the year a thing was made; "one of" is no count
    ("How old is the mill?", "The mill, built in 1790, lost one of its wheels in the storm.", "1790"),
    # "how long has" is answered by the date it has run since; a unit beats a count of other things
    ("How long has the ferry run between the islands?", "The ferry has run between the two islands since 1987.",
     "1987"),
    # an ordinal before "century" is a date, though "century" is the question's word
    ("In which century was the chapel built?", "The chapel was built in the 14th century by local masons.", "14th"),
    # "three years ago" is a date, though it holds a count
    ("When did the plant close?", "The plant, which once employed 900 people, closed three years ago.",
     "three years ago"),
    # a time told from now is a date; a dateline dates the report, not the event
    ("When will the ferry service resume?",
     "PORTVALE, June 3 — The ferry service will resume next month, once the new pier is finished.", "next month"),
    ("When will the council review the scheme?", "The council plans to review the scheme after 18 months.",
     "18 months"),
    ("When will the plant open?", "The plant will open this year, the company said.", "this year"),
    ("When did the Kelso museum reopen?",
     "KELSO, Aug. 20 — The Kelso museum reopened to visitors on Saturday after a two-year refit.", "Saturday"),
    # a score is two numbers
    ("What was the final score?", "The Rovers won 3-1 in front of 12,000 fans, their first title in 31 years.",
     "3-1"),
    # a range of money is one phrase
    ("How much do the tickets cost?", "Tickets cost from £35 to £120, depending on the seat.", "£35 to £120"),
    # "twice" is a count; a range written with an en dash is one number
    ("How many times did the river flood the town?", "The river flooded the town twice last winter.", "twice"),
    ("How large are the hailstones?", "Hailstones about 30–40 millimetres across fell on the farms.",
     "30–40 millimetres"),
])
def test_the_phrase_of_each_kind_in_sentences_written_here(question: str, sentence: str, phrase: str) -> None:
    assert _phrase(question, sentence) == phrase


# Each of these was missed before the grammar features (phrase._Grammar): "3 March" without its year, "Porto"
# for the instrument, "Adige" for the capital, the first of two demands only.
@pytest.mark.parametrize(("question", "sentence", "phrase"), [
    ("When did the museum reopen?", "After four years of repairs, the museum reopened on 3 March 2021 to large crowds.",
     "3 March 2021"),
    ("What instrument did she play?", "As a child in Porto she played the cello, and later she taught music.", "cello"),
    ("What is the capital of the province?", "Trento, the capital of the province, lies on the Adige river.",
     "Trento"),
    ("What did the farmers demand?",
     "Hundreds of farmers blocked the road, demanding lower fuel prices and fair contracts.",
     "lower fuel prices and fair contracts"),
])
def test_the_phrase_is_a_whole_phrase_where_the_grammar_puts_the_answer(question: str, sentence: str,
                                                                        phrase: str) -> None:
    assert _phrase(question, sentence) == phrase


@pytest.mark.parametrize(("question", "sentence", "phrase"), [
    ("Who is Maria Lopez?", "The bakery was founded in 1998 by Maria Lopez, a former teacher.", "former teacher"),
    ("Who was Otto II?", "In 1310 Otto II, Count of Lindau, signed the charter.", "Count of Lindau"),  # no article
    ("Who was Kasimir?", "Kasimir was a 14th-century merchant who built the first bridge.", "14th-century merchant"),
    ("Who is Nora Vik?", "In May, the head of the harbour authority, Nora Vik, closed the pier.",
     "head of the harbour authority"),
    ("Who is Anna Berg?", "The bridge was designed by the Swedish engineer Anna Berg and opened in 2004.",
     "Swedish engineer"),
    ("Who is Anna Berg?", "The bridge was designed by Anna Berg and opened in 2004.", None),  # it never says
    ("Who is Lars Eng?", "Lars Eng, said the mayor, would lead the inquiry.", None),  # a verb, not an apposition
    # "What is (the) <Name>?" asks the same of a thing; an abbreviation is answered by the words it stands for
    ("What is the NRWA?", "Farmers joined the Northern Rural Water Association (NRWA) in 2019.",
     "Northern Rural Water Association"),
    ("What is Tessafold?", "The plant is run by Tessafold, a Danish packaging firm.", "Danish packaging firm"),
    ("What is the NRWA?", "We have plans in the framework of the NRWA.", None),  # a mention says nothing of it
    # an apposition holding a list of names goes to the list's end; a place and its country are no list
    ("What is the Tarn Pact?", "Both joined the Tarn Pact, a trade club of Vell, Ostby, Marrow and Upper Kell, in May.",
     "trade club of Vell, Ostby, Marrow and Upper Kell"),
    ("Who is Lars Eng?", "Lars Eng, a teacher from Ostby, Vellmark, said the school would shut.", "teacher from Ostby"),
])
def test_who_is_a_name_asks_what_the_person_is(question: str, sentence: str, phrase: str | None) -> None:
    assert _phrase(question, sentence) == phrase


def test_who_is_a_name_in_a_seed_answer(assistant: Assistant) -> None:
    answer = assistant.ask("Who is Arkady Dubnov?")
    assert answer.found and answer.citations[0].phrase == "Russian political scientist and expert on Central Asia"


@pytest.mark.parametrize(("question", "head"), [
    ("Which newspaper reported it?", "newspaper"),
    ("How many workers lost their jobs?", "workers"),
    ("Who is the Taliban spokesman who repeated the preconditions?", "spokesman"),  # the role asked about
    ("Who was the head coach of the Broncos?", "coach"),
    ("Who is Arkady Dubnov?", None),  # a name, not a role
    ("Who founded the company?", None),
])
def test_the_noun_a_question_names_as_its_answer_s_head(question: str, head: str | None) -> None:
    assert asked_head(question) == (tokenize(head)[0] if head else None)


def test_the_tagger_gives_one_tag_per_word_with_its_noun_phrase() -> None:
    words = "The bakery was founded in 1998 by Maria Lopez , a former teacher .".split()
    tags = tag(words)
    assert len(tags) == len(words)
    maria, lopez = tags[words.index("Maria")], tags[words.index("Lopez")]
    assert (maria.pos, lopez.pos) == ("NNP", "NNP")
    assert maria.kind == "NP" and maria.chunk == lopez.chunk >= 0 and maria.in_pnp  # "by | Maria Lopez"
    assert tags[words.index("founded")].pos.startswith("VB")
    assert tags[words.index(",")].chunk == -1
    assert tag([]) == []


# A quote often holds several dates or counts; the one beside the question's words answers, whatever its form
# (SQuAD's dates are nearly all years, so the fitted weights alone marked the year wherever it stood).
@pytest.mark.parametrize(("question", "sentence", "phrase"), [
    ("When did the regulator fine the airline?",
     "The regulator fined the airline on Wednesday over delays that began in the summer of 2022.", "Wednesday"),
    ("When was the ferry service suspended?",
     "The ferry service, launched in 2009, was suspended on 14 June after a collision in the harbour.", "14 June"),
    # a count is no part of a date ("12,000 loaves on Monday")
    ("When did the bakery recall the loaves?",
     "The bakery recalled 12,000 loaves on Monday, a week after the first complaints.", "Monday"),
    ("How many flights were cancelled?",
     "The airline cancelled 86 flights on Monday, and 12 more were delayed by the 2 a.m. storm.", "86"),
])
def test_the_date_or_count_beside_the_question_s_words_answers(question: str, sentence: str, phrase: str) -> None:
    assert _phrase(question, sentence) == phrase


def test_no_phrase_when_the_quote_holds_nothing_of_the_asked_kind() -> None:
    assert _phrase("Who won the vote?", "the vote was close and the count went on all night.") is None
    assert _phrase("When did the talks start?", "The talks started after the ministers arrived.") is None
    assert _phrase("Why did the talks fail?", "The talks failed because neither side would move.") is None


@pytest.mark.parametrize(("question", "sentence"), [
    # a date is no one's name and no place
    ("Who repainted the lighthouse?", "The lighthouse, repainted in May, reopened to visitors on Sunday."),
    ("Where will the fair be held?", "The fair will be held next September, the organisers said."),
    # the day or year of a date, and an ordinal, are no count
    ("What is the population of Vell?", "VELL, April 9 - The council approved a second ferry route in early 2023."),
    # a function word or quantifier opening the sentence is capitalised, yet names no one
    ("Who opposed the plan?", "Many opposed the plan, saying it would harm the bay."),
    ("Which group backed the plan?", "However, most residents backed the plan at the meeting."),
    # a measure is a number with its unit, not a count of something else
    ("How long will the tunnel stay shut?",
     "The tunnel, dug in 1911, will stay shut after one of its walls cracked, engineers said."),
    # a score is two numbers, not a minute or a count of anything else
    ("What was the score?", "Leo Marsh scored the winner in the 112th minute, three minutes after coming on."),
    # "how many troops" counts troops: a span of time is no such count
    ("How many soldiers does the garrison hold?", "The garrison was set up at the end of a 20-year border dispute."),
    # nor is an amount of money
    ("How many soldiers does the garrison hold?", "The ministry has spent $40 million on the garrison's barracks."),
])
def test_no_phrase_of_the_wrong_kind(question: str, sentence: str) -> None:
    assert _phrase(question, sentence) is None


def test_a_measure_may_be_counted_in_any_plural_noun() -> None:
    assert _phrase("How long did the coach stay?", "The coach, who stayed four seasons, left in June.") == "four"


def test_how_many_of_a_currency_is_answered_by_money() -> None:
    assert _phrase("How many dollars did the ministry spend on the barracks?",
                   "The ministry has spent $40 million on the garrison's barracks.") == "$40 million"


def test_a_quote_widened_for_context_is_read_from_the_chosen_sentence_first() -> None:
    """The sentence before was quoted only to say who "the club" is; a name it holds is not the answer when the
    chosen sentence has one of the asked kind, and is when the chosen sentence has none ("it became the first")."""
    text = ("Harbour Town's manager, Ines Roth, who took over in May, called the win a relief. "
            "The club last won the cup in 1993, when it beat Castleton 3-0. "
            "Valdoria reopened its consulate on Monday. Last week, it became the first country to do so.")
    article = Article("report.txt", "Report", text, (), "")
    club_at, country_at = text.index("The club"), text.index("Last week")
    club = Citation.of(article, 0, text.index(" Valdoria"), 1.0)
    country = Citation.of(article, text.index("Valdoria"), len(text), 1.0)

    def marked(question: str, quote: Citation, chosen: int | None) -> str | None:
        found = with_phrases(question, [quote], {"report.txt": text}, WEIGHTS,
                             None if chosen is None else [chosen])[0]
        return found.phrase

    assert marked("Who did Harbour Town beat in 1993?", club, club_at) == "Castleton"
    assert marked("Which country was the first to reopen its consulate?", country, country_at) == "Valdoria"


def test_the_question_s_own_words_are_not_the_answer() -> None:
    sentence = "Afghan Foreign Minister Amir Khan Muttaqi spoke from Kazan."
    assert _phrase("Who is the Afghan foreign minister?", sentence) == "Amir Khan Muttaqi"


@pytest.mark.parametrize(("question", "phrase"), [
    ("Who is the Afghan foreign minister?", "Amir Khan Muttaqi"),  # person
    ("Who is Putin's special envoy to Afghanistan?", "Zamir Kabulov"),
    ("Where is Russia's largest foreign military base?", "Tajikistan"),  # place
    ("When did Soviet troops withdraw from Afghanistan?", "1989"),  # date
    ("On what date did Kabulov and the Chinese special envoy Deng Setsunan hold talks in Moscow?", "March 15"),
    # number with its unit; read in the chosen sentence alone (its context sentence before it is not read when it
    # offers a number) the two spans score within 0.002, and both say the amount with its currency
    ("How much has Russia committed to train and equip the Tajik army?", ("$1.2 billion", "$1.2 billion USD")),
    ("Which newspaper reported that Russia is pulling back from cooperating with the U.S.?", "New York Times"),
    ("Which UN food agency will Moscow use to assist Kabul?", "World Food Program"),  # which X
])
def test_the_phrase_in_seed_answers(assistant: Assistant, question: str, phrase: str | tuple[str, ...]) -> None:
    accepted = (phrase,) if isinstance(phrase, str) else phrase
    answer = assistant.ask(question)
    marked = [c.phrase for c in answer.citations if c.phrase]
    assert marked and marked[0] in accepted, (marked, answer.text)
    data = answer.to_dict()
    assert_citation_contract(data, assistant)
    first = next(c for c in data["citations"] if c["answer_start"] is not None)
    assert assistant.article(first["source"]).text[first["answer_start"] : first["answer_end"]] == marked[0]


@pytest.fixture
def ask_cli(encoder: SentenceEncoder, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
            seeds_index: Any) -> Callable[..., str]:
    """`assistant ask` on the seed articles through the real CLI (the session's encoder): its printed output."""
    monkeypatch.setattr("assistant.core.SentenceEncoder", lambda *args, **kwargs: encoder)

    def run(*args: str) -> str:
        assert cli.main(["ask", "--corpus", str(SEEDS), "--index", str(seeds_index), *args]) == 0
        return capsys.readouterr().out

    return run


def test_the_cli_prints_the_phrase_before_the_quote_and_json_has_its_offsets(ask_cli: Callable[..., str]) -> None:
    out = ask_cli("When did Soviet troops withdraw from Afghanistan?")
    assert out.startswith("Answer: 1989\n"), out
    data = json.loads(ask_cli("--json", "When did Soviet troops withdraw from Afghanistan?"))
    assert_citation_contract(data, SEEDS)
    marked = [c for c in data["citations"] if c["answer_start"] is not None]
    assert marked and marked[0]["quote"][marked[0]["answer_start"] - marked[0]["start"]:][:4] == "1989"
    assert all(c["answer_end"] is None for c in data["citations"] if c["answer_start"] is None)


def test_a_number_no_quote_gives_is_said_by_the_cli(ask_cli: Callable[..., str]) -> None:
    # on topic, and no article says it: the nearest quote holds only "a 20-year … mission", no count of troops
    out = ask_cli("How many troops does Russia keep in Tajikistan?")
    assert not out.startswith("Answer:") and "Note: no quote gives a number" in out, out
    assert "no quote gives a number" not in ask_cli("How much has Russia committed to train and equip the Tajik army?")


def test_unstated_is_only_for_numbers_left_unmarked() -> None:
    sentence = "The council met on Tuesday and debated the ferry timetable."
    source = "ferry.txt"

    def answer(question: str, phrase: tuple[int, int] | None) -> Answer:
        citation = Citation(source, "Ferry", sentence, 0, len(sentence), 0.5,
                            answer_start=phrase[0] if phrase else None, answer_end=phrase[1] if phrase else None)
        return Answer(question, True, sentence, (citation,), 0.5, "quoted from 1 article(s)")

    assert unstated(answer("How many ferries run each day?", None))
    assert unstated(answer("How many ferries run each day?", (0, 3))) is None  # a phrase is marked
    assert unstated(answer("When did the council meet?", None)) is None  # a "when" may be a condition
    assert unstated(Answer("How many ferries?", False, "", (), 0.1, "no article mentions “ferries”")) is None


def test_why_questions_get_no_phrase(assistant: Assistant) -> None:
    answer = assistant.ask("Why is Russia pulling back from cooperating with the U.S. on Afghanistan?")
    assert all(c.answer_start is None and c.answer_end is None for c in answer.citations)
