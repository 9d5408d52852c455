"""The core on the shipped articles, the shipped model and (a copy of) the shipped index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEEDS, assert_citation_contract, seed_cases

from assistant import Assistant, QuestionError
from assistant.chunking import chunk_articles
from assistant.config import ChunkSettings
from assistant.ingest import read_corpus

DATA = json.loads((Path(__file__).parent / "data" / "seed_questions.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("item", seed_cases(DATA["answerable"]))
def test_answers_with_the_right_quote_and_source(assistant: Assistant, item: dict) -> None:  # type: ignore[type-arg]
    answer = assistant.ask(item["q"])
    assert answer.found, answer.reason
    assert any(expected in answer.text for expected in item["a"]), answer.text
    assert answer.citations[0].source in item["src"]
    assert_citation_contract(answer.to_dict(), SEEDS)


@pytest.mark.parametrize("question", DATA["out_of_corpus"])
def test_out_of_corpus_questions_abstain(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert not answer.found, answer.text
    assert answer.reason
    assert_citation_contract(answer.to_dict(), SEEDS)


def _unanswerable_cases() -> list[object]:
    return [
        pytest.param(item["q"], id=item["q"][:60],
                     marks=[pytest.mark.xfail(strict=True, reason=item["known_miss"])] if "known_miss" in item else [])
        for item in DATA["on_topic_unanswerable"]
    ]


@pytest.mark.parametrize("question", _unanswerable_cases())
def test_on_topic_questions_the_articles_do_not_answer_abstain(assistant: Assistant, question: str) -> None:
    """Harder than out-of-corpus: the articles discuss the subject but never state the asked-for fact."""
    answer = assistant.ask(question)
    assert not answer.found, answer.text
    assert_citation_contract(answer.to_dict(), SEEDS)


def test_seed_question_set_is_large_enough() -> None:
    assert len(DATA["answerable"]) >= 25 and len(DATA["out_of_corpus"]) >= 5


def test_json_contract_fields(assistant: Assistant) -> None:
    data = assistant.ask("Who is the Afghan foreign minister?").to_dict()
    assert set(data) >= {"question", "found", "answer", "citations"}
    citation = data["citations"][0]
    assert set(citation) == {"source", "title", "quote", "start", "end", "score", "date", "outlet", "url", "author",
                             "also_in", "answer_start", "answer_end", "newest", "disagrees"}
    assert citation["title"] == "Russia Hosts Taliban at Regional Threat Talks and Affirms Support for Kabul"
    assert isinstance(citation["start"], int) and isinstance(citation["score"], float)


def test_search_ranks_chunks_with_both_components(assistant: Assistant) -> None:
    hits = assistant.search("Taliban mining contracts with Chinese companies", k=5)
    assert len(hits) == 5
    assert hits[0].chunk.source == "003_235230f9dad3526e.txt"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    top = hits[0]
    assert top.dense_score is not None and -1.0 <= top.dense_score <= 1.0
    assert top.bm25_score is not None and top.bm25_score > 0
    text = (SEEDS / top.chunk.source).read_text(encoding="utf-8")
    for start, end in top.chunk.sentences:
        assert text[start:end] in top.chunk.text
    assert text[top.chunk.start : top.chunk.start + 20] == top.chunk.text[:20]


def test_search_modes_differ_and_respect_k(assistant: Assistant) -> None:
    dense = assistant.search("envoy", k=3, mode="dense")
    bm25 = assistant.search("envoy", k=3, mode="bm25")
    assert len(dense) == len(bm25) == 3
    assert all(h.bm25_score is None for h in dense) and all(h.dense_score is None for h in bm25)


def test_empty_question_is_an_error(assistant: Assistant) -> None:
    for question in ("", "   \n\t"):
        with pytest.raises(QuestionError, match="empty"):
            assistant.ask(question)


def test_stop_words_only_question_abstains(assistant: Assistant) -> None:
    answer = assistant.ask("what is the of and?")
    assert not answer.found and "no words" in answer.reason


def test_follow_up_uses_the_conversation(assistant: Assistant) -> None:
    chat = assistant.session()
    first = chat.ask("Who is the Afghan foreign minister?")
    assert "Amir Khan Muttaqi" in first.text
    follow = chat.ask("Where did he speak on Friday?")
    assert follow.found and "Kazan" in follow.text, follow
    assert follow.citations[0].quote not in first.text  # something new, not the last quote again
    alone = assistant.ask("Where did he speak on Friday?")
    assert "Kazan" not in alone.text  # "he" alone does not say who
    assert [t.question for t in chat.turns] == ["Who is the Afghan foreign minister?", "Where did he speak on Friday?"]
    chat.clear()
    assert chat.turns == ()


def test_follow_up_about_a_subject_the_articles_never_mention_abstains(assistant: Assistant) -> None:
    chat = assistant.session()
    assert chat.ask("How much has Russia committed to train and equip the Tajik army?").found
    follow = chat.ask("What about Japan?")
    assert not follow.found and "Japan" in follow.reason
    assert_citation_contract(follow.to_dict(), SEEDS)


def test_opening_the_shipped_index_embeds_nothing(assistant: Assistant) -> None:
    """embeddings/ is in step with seeds/, the model and the chunk settings: a fresh clone re-embeds nothing."""
    report = assistant.open()
    assert report.encoded_texts == 0 and report.articles == 5 and not report.rebuilt


def test_page_furniture_is_never_indexed() -> None:
    articles, skipped = read_corpus(SEEDS)
    assert not skipped
    chunks = chunk_articles(articles, ChunkSettings())
    furniture = ["Leave a Reply", "Leave A Reply", "Powered by WordPress", "Your email address", "Getty Images",
                 "Read More", "What's Your Reaction", "Share with your friends", "uses cookies", "Check Also",
                 "Image result for", "Be the first to comment", "Source Article from", "REUTERS/", "Shutterstock"]
    for chunk in chunks:
        for phrase in furniture:
            assert phrase not in chunk.text, (phrase, chunk.source)


def test_titles_are_the_first_line_without_breadcrumbs() -> None:
    articles, _ = read_corpus(SEEDS)
    titles = {a.source: a.title for a in articles}
    assert titles["004_eef8e3a72f05d887.txt"] == "Russia Disengaging With U.S On Afghanistan"
    assert titles["002_4bda70b94468d220.txt"] == "China presses Russia in Central Asia"


def test_sentences_keep_abbreviations_and_decimals_whole() -> None:
    articles, _ = read_corpus(SEEDS)
    chunks = chunk_articles(articles, ChunkSettings())
    text = {a.source: a.text for a in articles}
    sentences = {text[c.source][s:e] for c in chunks for s, e in c.sentences}
    assert ("It went on to state that Putin’s government has committed $1.2 billion USD to train and equip the "
            "Tajik Army.") in sentences
    assert any(s.startswith("Russia is entering a security vacuum created by the withdrawal of U.S. troops")
               for s in sentences)


def test_chunks_fit_the_model_window(encoder) -> None:  # type: ignore[no-untyped-def]
    """all-MiniLM-L6-v2 truncates at 256 word pieces: no chunk may lose its end."""
    articles, _ = read_corpus(SEEDS)
    settings = ChunkSettings()
    tokenizer = encoder.model.tokenizer
    for chunk in chunk_articles(articles, settings):
        pieces = tokenizer(chunk.indexed_text(settings.title_in_text))["input_ids"]
        assert len(pieces) <= encoder.model.max_seq_length, chunk.text[:80]


def test_threads_share_one_assistant(assistant: Assistant) -> None:
    from concurrent.futures import ThreadPoolExecutor

    questions = [item["q"] for item in DATA["answerable"][:8]]
    alone = [assistant.ask(q).to_dict() for q in questions]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda q: assistant.ask(q).to_dict(), questions * 3))
    assert together == alone * 3
