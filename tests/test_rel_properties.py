"""Property tests: for any file text, every sentence and chunk span is exactly its text in the file,
and no kept character is lost between sentences or chunks."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant import chunking
from assistant.chunking import chunk_article, split_sentences
from assistant.config import ChunkSettings
from assistant.index import store
from assistant.index.segment import Part
from assistant.ingest import parse_article
from assistant.types import Article

WORDS = ["U.S.", "$1.2", "billion", "Mr.", "Smith", "said", "the", "aid", "e.g.", "Dr.", "No.", "5",
         "“Yes,”", "(AFP)", "ok?!", "…", "—", "Kabul", "co-op", "i.e.", "3.5%", "'quoted'", "عربي", "日本語", "🙂"]
SEPARATORS = [" ", "  ", ". ", "! ", "? ", ".\u00a0", " \t", "... ", ".” ", ": "]
LINE_ENDS = ["\n", "\r\n", "\r", "\n\n", "\u2028", "\x85", "\x0c", "\n \n"]
FURNITURE = ["Read More", "Share this:", "© Getty Images", "Leave a Reply", "Advertisement"]

word_text = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), min_size=1, max_size=60).map(
    lambda pairs: "".join(w + s for w, s in pairs)
)
# Punctuation soup: where pysbd's own re-finding of its sentences used to drop text.
SYMBOLS = [*"abc ABC .!?;:,'\"()[]{}-*&%$#@/\\\t0123456789", "U.S.", "Mr.", "e.g.", "...", "\u2026", "\u201c",
           "\u201d", "\u00a0", "i.e.", "No.", "\u2022", "1.", "a)", "(i)", "\u00bb"]
soup = st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=60).map("".join)
line = st.one_of(word_text, word_text, soup, st.text(max_size=80), st.sampled_from(FURNITURE))
file_text = st.tuples(
    st.booleans(), st.lists(st.tuples(line, st.sampled_from(LINE_ENDS)), min_size=1, max_size=12)
).map(lambda t: ("\ufeff" if t[0] else "") + "".join(text + end for text, end in t[1]))


def check_article(article: Article, data: bytes, settings: ChunkSettings) -> None:
    """The invariants every chunk of every article must keep."""
    decoded = data.decode("utf-8")
    assert article.text == decoded
    chunks = chunk_article(article, settings, 0)
    covered = [False] * len(decoded)
    previous_end = -1
    for chunk in chunks:
        assert chunk.sentences
        assert chunk.text == " ".join(decoded[s:e] for s, e in chunk.sentences)
        assert (chunk.start, chunk.end) == (chunk.sentences[0][0], chunk.sentences[-1][1])
        if len(chunk.sentences) > 1:
            assert chunking.word_count(chunk.text) <= settings.max_words
        for start, end in chunk.sentences:
            sentence = decoded[start:end]
            assert sentence and sentence == sentence.strip()
            assert chunking.word_count(sentence) <= settings.max_words
            assert any(b_start <= start and end <= b_end for b_start, b_end in article.body)
            for i in range(start, end):
                covered[i] = True
        for (_, e1), (s2, _) in zip(chunk.sentences, chunk.sentences[1:], strict=False):
            assert e1 <= s2  # in order, never overlapping
        assert chunk.sentences[0][0] >= previous_end or previous_end == -1 or chunk.start < previous_end
        previous_end = chunk.end
    for b_start, b_end in article.body:
        lost = [decoded[i] for i in range(b_start, b_end) if not covered[i] and not decoded[i].isspace()]
        assert not lost, f"characters lost between sentences: {''.join(lost)!r}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_text, st.integers(min_value=3, max_value=40), st.integers(min_value=0, max_value=2))
@example("Title\nU.S. aid rose. It was $1.2 billion.\r\nMr. Smith said no.\n", 5, 1)
def test_chunk_spans_map_back_to_the_file(text: str, max_words: int, overlap: int) -> None:
    data = text.encode("utf-8")
    try:
        article = parse_article("a.txt", data)
    except ValueError:
        return  # not an article (empty, binary, or only a title): skipped with a warning instead
    check_article(article, data, ChunkSettings(max_words=max_words, overlap_sentences=overlap))


@settings(max_examples=100, deadline=None)
@given(file_text, st.integers(min_value=3, max_value=30), st.booleans())
def test_windowed_and_punctuation_splits_lose_nothing(text: str, max_words: int, fast: bool) -> None:
    """The paths for long paragraphs (pysbd windows) and huge articles (punctuation) keep every character."""
    data = text.encode("utf-8")
    try:
        article = parse_article("a.txt", data)
    except ValueError:
        return
    with mock.patch.object(chunking, "PYSBD_WINDOW", 40), \
         mock.patch.object(chunking, "PYSBD_ARTICLE_LIMIT", 0 if fast else 10**9):
        check_article(article, data, ChunkSettings(max_words=max_words))
        for span in article.body:
            sentences = split_sentences(article.text, span, max_words, fast)
            joined = "".join(article.text[s:e] for s, e in sentences)
            assert "".join(article.text[span[0] : span[1]].split()) == "".join(joined.split())


def test_text_pysbd_cannot_refind_is_kept() -> None:
    """pysbd's own segment() dropped "?!" here (found by fuzzing); our boundaries keep every character."""
    text = "(i)-:01.3i.e.?!\rb8\t21#\tC8\u201d]a)1\\[6.\u2022a#C#? [i.e.(i)(i)No.;*:[\u201c?BB 08e.g."
    sentences = split_sentences(text, (0, len(text)), 1000)
    assert "".join(text.split()) == "".join("".join(text[s:e] for s, e in sentences).split())


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_bom_and_crlf_offsets_point_at_the_right_characters(ending: str) -> None:
    lines = ["\ufeffTajik aid", "", "Russia pledged $1.2 billion. The U.S. said so.", "Mr. Smith left."]
    text = ending.join(lines) + ending
    data = text.encode("utf-8")
    article = parse_article("a.txt", data)
    assert article.title == "Tajik aid"
    check_article(article, data, ChunkSettings())
    sentences = [data.decode("utf-8")[s:e] for c in chunk_article(article, ChunkSettings(), 0) for s, e in c.sentences]
    assert sentences == ["Russia pledged $1.2 billion.", "The U.S. said so.", "Mr. Smith left."]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=5))
def test_store_round_trips_any_text(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> None:
    """Article text and metadata with U+2028, NEL, quotes or NUL survive save and load."""
    odd = "\u2028\x85\x00\""
    pieces = [t + odd for t in texts]
    text = " ".join(pieces)
    spans, pos = [], 0
    for piece in pieces:
        spans.append((pos, pos + len(piece)))
        pos += len(piece) + 1
    article = Article(f"a{odd}.txt", f"T{odd}", text, tuple(spans), "0" * 64, date="2024-01-02", outlet=odd)
    part = Part(4, with_sentence_vectors=True)
    vectors = np.eye(len(spans), 4, dtype=np.float32)
    part.add_fresh(article, spans, [(i, 1) for i in range(len(spans))], [[t] for t in texts], vectors, vectors)
    folder = tmp_path_factory.mktemp("store")
    entry = store.write_segment(folder, part)
    record = store.FileRecord(1, 1, "0" * 64, (article.source,))
    store.publish(folder, model="m", dimensions=4, identity={}, segments=[entry | {"dead": []}],
                  files={article.source: record}, chunks=len(spans), articles=1)
    loaded = store.load(folder)
    assert loaded.article(article.source) == article
    assert [c.text for c in loaded.chunks] == pieces
    assert loaded.files == {article.source: record}
