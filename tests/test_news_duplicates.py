"""Copies of one story: MinHash signatures and LSH grouping, both ways (copies grouped, different stories not)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import NEWS, SEEDS

from assistant.collection import Collection, Passages
from assistant.config import DuplicateSettings
from assistant.filters import Filter
from assistant.index import duplicates
from assistant.index.duplicates import body_text, canonical, groups, signature, similarity
from assistant.ingest import read_corpus
from assistant.types import Article, Chunk

SETTINGS = DuplicateSettings()


@pytest.fixture(scope="module")
def news() -> dict[str, Article]:
    articles, _ = read_corpus(NEWS)
    return {a.source: a for a in articles}


def seed_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir())]


def article(source: str, text: str, date: str | None = None, outlet: str | None = None) -> Article:
    return Article(source, source, text, ((0, len(text)),), source, date=date, outlet=outlet)


def test_the_syndicated_pair_is_one_group_and_the_same_event_pair_is_not(news: dict[str, Article]) -> None:
    collection = Collection.build(news, [], SETTINGS)
    assert collection.groups() == [("pages/northbay-storm.html", "pages/valleygazette-storm.html")]
    storm = [signature(body_text(news[s])) for s in collection.groups()[0]]
    assert similarity(*storm) >= SETTINGS.threshold
    # two independent reports of the Dunmore Street fire share names and the event, not their text
    reports = ("feeds/harbor-times.rss#ht-201", "feeds/metro-dispatch.atom#md-301")
    fire = [signature(body_text(news[s])) for s in reports]
    assert similarity(*fire) < 0.2


def test_copies_list_the_others_and_the_earliest_dated_is_shown(news: dict[str, Article]) -> None:
    collection = Collection.build(news, [], SETTINGS)
    [copy] = collection.copies_of("pages/northbay-storm.html")
    assert (copy.source, copy.outlet, copy.date) == ("pages/valleygazette-storm.html", "Valley Gazette", "2022-06-16")
    [original] = collection.copies_of("pages/valleygazette-storm.html")
    assert original.source == "pages/northbay-storm.html"
    shown = collection.shown(Filter())
    assert "pages/northbay-storm.html" in shown and "pages/valleygazette-storm.html" not in shown
    # a filter that leaves out the first copy shows the other
    assert "pages/valleygazette-storm.html" in collection.shown(Filter(sources=("Valley Gazette",)))
    assert collection.copies_of("pages/dailyledger-reyes-primary.html") == ()


def test_exact_and_near_copies_are_grouped_and_unrelated_texts_are_not() -> None:
    texts = seed_texts()
    base = texts[0].split("\n", 1)[1]
    words = base.split()
    rnd = random.Random(5)
    edited = list(words)
    for i in rnd.sample(range(len(words)), len(words) // 20):  # 5% of the words changed
        edited[i] = "zzz"
    copies = [
        base,
        base,  # exact copy
        "By Wire Staff\nUpdated 9:41 a.m.\n" + base + "\nReporting by the wire desk; editing by the night desk.",
        " ".join(edited),
        " ".join(words[: int(len(words) * 0.9)]),  # cut short by a tenth
    ]
    others = [t.split("\n", 1)[1] for t in texts[1:]]
    signatures = np.stack([signature(t) for t in copies + others])
    assert groups(signatures) == [[0, 1, 2, 3, 4]]


def test_canonical_is_the_earliest_dated_else_the_first_by_name() -> None:
    undated_a, undated_b = article("a.html", "x"), article("b.html", "x")
    early, late = article("z.html", "x", "2022-06-15"), article("y.html", "x", "2022-06-16T08:00:00-04:00")
    assert canonical([late, undated_a, early, undated_b]) is early
    assert canonical([undated_b, undated_a]) is undated_a
    same_day = article("c.html", "x", "2022-06-15")
    assert canonical([early, same_day]) is same_day  # same date: by name


def test_texts_without_words_are_never_copies_of_each_other() -> None:
    signatures = np.stack([signature(""), signature("— … ·"), signature("real words here for once")])
    assert groups(signatures) == []


def test_grouping_uses_lsh_candidates_not_all_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """n distinct texts: similarity is estimated only for LSH candidates (a few), never for n^2/2 pairs."""
    rnd = random.Random(9)
    vocabulary = [f"w{i}" for i in range(5000)]
    texts = [" ".join(rnd.choice(vocabulary) for _ in range(150)) for _ in range(400)]
    texts.append(texts[17] + " with a short tail added by the re-poster")
    signatures = np.stack([signature(t) for t in texts])
    compared = []
    real = duplicates.similarity

    def counting(a: np.ndarray, b: np.ndarray) -> float:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(duplicates, "similarity", counting)
    assert groups(signatures) == [[17, 400]]
    assert len(compared) < 100  # all pairs would be 80,200


def test_a_long_article_is_signed_by_its_first_shingles() -> None:
    words = " ".join(f"w{i % 997} x{i}" for i in range(200_000))
    assert len(duplicates.shingles(words, 5, SETTINGS.max_shingles)) == SETTINGS.max_shingles
    assert signature(words).shape == (SETTINGS.num_perm,) and signature(words).dtype == np.uint32


def test_shown_rows_leave_out_the_other_copies(tmp_path: Path) -> None:
    a, b, c = (article("a.txt", "one two three four five six seven", "2022-01-02"),
               article("b.txt", "one two three four five six seven", "2022-01-01"),
               article("c.txt", "eight nine ten eleven twelve", None))
    chunks = [Chunk(i, s, s, 0, 1, ((0, 1),), "t") for i, s in enumerate(["a.txt", "a.txt", "b.txt", "c.txt"])]
    collection = Collection.build({x.source: x for x in (a, b, c)}, chunks, SETTINGS)
    assert collection.groups() == [("a.txt", "b.txt")]
    allowed = collection.allowed(Filter())
    assert allowed is not None and allowed.tolist() == [2, 3]  # b is the earlier copy; a's rows are left out
    assert collection.allowed(Filter(sources=("a.txt",))).tolist() == [0, 1]  # type: ignore[union-attr]
    assert collection.allowed(Filter(since="2023-01-01")).tolist() == []  # type: ignore[union-attr]
    # no copies and no filter: every row, without building a list of them
    alone = Collection.build({c.source: c}, chunks[3:], SETTINGS)
    assert alone.allowed(Filter()) is None


def test_a_copy_s_own_passages_are_allowed_beside_the_shown_copy() -> None:
    shared = "The ferry to Ostby was cancelled on Friday because of high winds. Passengers were offered refunds."
    short_note = " This story first appeared in the Ostby Post."
    added = (" The operator later said a replacement boat would sail on Sunday morning from the north pier, and that "
             "tickets bought for Friday would be honoured on any crossing this month without a new booking.")
    first = article("first.txt", shared, "2024-01-01")
    note = article("note.txt", shared + short_note, "2024-01-02")
    update = article("update.txt", shared + added, "2024-01-03")
    texts = {a.source: a.text for a in (first, note, update)}

    def chunk(i: int, source: str, start: int, end: int) -> Chunk:
        return Chunk(i, source, source, start, end, ((start, end),), texts[source][start:end])

    cut = shared.index(" Passengers") + 1
    chunks = [chunk(0, "first.txt", 0, len(shared)),
              chunk(1, "note.txt", 0, len(shared)), chunk(2, "note.txt", len(shared) + 1, len(texts["note.txt"])),
              chunk(3, "update.txt", 0, cut - 1), chunk(4, "update.txt", cut, len(texts["update.txt"]))]
    # chunk 4 spans one shared sentence and the added one: in a real chunk they are separate sentences
    chunks[4] = Chunk(4, "update.txt", "update.txt", cut, len(texts["update.txt"]),
                      ((cut, len(shared)), (len(shared) + 1, len(texts["update.txt"]))),
                      texts["update.txt"][cut:])
    rows = {s: np.asarray([c.id for c in chunks if c.source == s], dtype=np.int64) for s in texts}
    collection = Collection({a.source: a for a in (first, note, update)}, rows,
                            [["first.txt", "note.txt", "update.txt"]], Passages(chunks.__getitem__, texts.__getitem__),
                            SETTINGS)
    own = collection.own_rows()
    assert set(own) == {"update.txt"} and own["update.txt"].tolist() == [4]  # 34 new words; the note's 9 are not
    allowed = collection.allowed(Filter())
    assert allowed is not None and allowed.tolist() == [0, 4]  # the first copy, and what only the update says
    assert collection.allowed(Filter(since="2024-01-03")).tolist() == [3, 4]  # type: ignore[union-attr]


def test_the_groups_are_kept_beside_the_index_and_recomputed_only_when_unusable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LSH over every signature runs once per generation of the index: later opens read the groups kept
    beside it; a damaged file, other settings or a rebuilt index group again."""
    from conftest import FakeEncoder

    from assistant.collection import copies_annotator
    from assistant.config import Settings
    from assistant.index.build import open_index

    index, settings = tmp_path / "index", Settings()
    stored, _, _ = open_index(NEWS, index, settings, FakeEncoder(), annotate=copies_annotator(settings.duplicates))
    first = Collection.of_index(stored, settings.duplicates)
    [kept] = index.glob("derived-*-copies-*.json")
    assert first.groups() == [("pages/northbay-storm.html", "pages/valleygazette-storm.html")]

    calls: list[int] = []
    real = duplicates.groups
    monkeypatch.setattr("assistant.collection.groups", lambda *a, **k: calls.append(1) or real(*a, **k))
    again, _, _ = open_index(NEWS, index, settings, FakeEncoder(), annotate=copies_annotator(settings.duplicates))
    assert Collection.of_index(again, settings.duplicates).groups() == first.groups() and calls == []

    kept.write_bytes(b"[[\"not an article\"]]")  # damaged or stale: grouped again, and kept again
    assert Collection.of_index(again, settings.duplicates).groups() == first.groups() and calls == [1]
    looser = DuplicateSettings(threshold=0.05)  # another threshold is another file
    Collection.of_index(again, looser)
    assert calls == [1, 1] and len(list(index.glob("derived-*-copies-*.json"))) == 2

    corpus = tmp_path / "news"
    shutil.copytree(NEWS, corpus)
    with (corpus / "notes" / "council-briefing.md").open("a", encoding="utf-8") as note:
        note.write("\nThe council meets again in July.\n")  # one article changed: a new generation
    rebuilt, _, _ = open_index(corpus, index, settings, FakeEncoder(), annotate=copies_annotator(settings.duplicates))
    assert not list(index.glob("derived-*"))  # a new generation: what was kept for the old one is gone
    assert Collection.of_index(rebuilt, settings.duplicates).groups() == first.groups() and calls == [1, 1, 1]
