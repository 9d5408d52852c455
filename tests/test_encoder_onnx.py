"""The ONNX Runtime engine against sentence-transformers, the reference: same vectors (1e-4 cosine) on
the seeds' chunks and sentences, same pooled sentence vectors, the export cached, the same answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SEEDS, SHIPPED_INDEX

from assistant import Assistant, Settings
from assistant.chunking import chunk_article
from assistant.errors import ModelError
from assistant.index.build import StoredBuild, stored_build
from assistant.index.encoder import INT8_SUFFIX, SentenceEncoder, make_encoder
from assistant.index.onnx_encoder import OnnxEncoder
from assistant.ingest import read_corpus

pytestmark = pytest.mark.slow  # the export traces the model once (about 10 s)

QUESTIONS = json.loads((Path(__file__).parent / "data" / "seed_questions.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def onnx_encoder(onnx_cache: Path) -> OnnxEncoder:
    encoder = OnnxEncoder(Settings().model_path, cache=onnx_cache)
    encoder.encode(["warm up"])
    return encoder


@pytest.fixture(scope="module")
def seed_texts() -> tuple[list[str], list[str], list[list[tuple[int, int]]]]:
    """The seeds' chunk texts as the index embeds them, their sentences alone, and each chunk's sentence
    spans inside its indexed text (what a pooled build asks for)."""
    settings = Settings()
    articles, _ = read_corpus(SEEDS)
    chunks = [c for a in articles for c in chunk_article(a, settings.chunk, 0)]
    texts, sentences, spans = [], [], []
    for chunk in chunks:
        text = chunk.indexed_text(settings.chunk.title_in_text)
        shift = len(text) - len(chunk.text)  # the title prefix, if any
        texts.append(text)
        own, at = [], 0
        for start, end in chunk.sentences:
            sentences.append(chunk.text[at : at + end - start])
            own.append((shift + at, shift + at + end - start))
            at += end - start + 1
        spans.append(own)
    return texts, sentences, spans


def test_vectors_equal_the_reference_on_chunks_and_sentences(
        encoder: SentenceEncoder, onnx_encoder: OnnxEncoder, seed_texts: tuple[list[str], list[str], list]) -> None:  # type: ignore[type-arg]
    texts, sentences, _ = seed_texts
    assert len(texts) > 30 and len(sentences) > 100
    for batch in (texts, sentences, texts[:1]):
        want, got = encoder.encode(batch), onnx_encoder.encode(batch)
        assert got.shape == want.shape and got.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert float((want * got).sum(axis=1).min()) > 1 - 1e-4


def test_pooled_span_vectors_equal_the_reference(
        encoder: SentenceEncoder, onnx_encoder: OnnxEncoder, seed_texts: tuple[list[str], list[str], list]) -> None:  # type: ignore[type-arg]
    texts, _, spans = seed_texts
    want_vectors, want = encoder.encode_spans(texts, spans)
    got_vectors, got = onnx_encoder.encode_spans(texts, spans)
    assert float((want_vectors * got_vectors).sum(axis=1).min()) > 1 - 1e-4
    pairs = [(a, b) for rows_a, rows_b in zip(want, got, strict=True) for a, b in zip(rows_a, rows_b, strict=True)]
    assert len(pairs) == sum(len(s) for s in spans)
    for a, b in pairs:
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert float(a @ b) > 1 - 1e-4


def test_a_text_past_the_window_is_truncated_like_the_reference(
        encoder: SentenceEncoder, onnx_encoder: OnnxEncoder) -> None:
    long = " ".join(f"word{i} of a very long article" for i in range(300))  # far past 256 word pieces
    assert float(encoder.encode([long])[0] @ onnx_encoder.encode([long])[0]) > 1 - 1e-4


def test_the_export_is_cached_and_reused(onnx_encoder: OnnxEncoder, onnx_cache: Path) -> None:
    graph = onnx_encoder.graph
    assert graph.parent == onnx_cache and graph.exists()
    assert graph.name in [p.name for p in onnx_cache.iterdir()]
    assert not [p.name for p in onnx_cache.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    stamp = graph.stat().st_mtime_ns
    again = OnnxEncoder(Settings().model_path, cache=onnx_cache)
    again.encode(["a second encoder loads the same graph"])
    assert graph.stat().st_mtime_ns == stamp


def test_the_setting_chooses_the_engine(onnx_cache: Path) -> None:
    path = Settings().model_path
    assert isinstance(make_encoder(path, 32, "onnx"), OnnxEncoder)
    assert isinstance(make_encoder(path, 32, "sentence-transformers"), SentenceEncoder)
    int8 = make_encoder(path, 32, "onnx-int8")
    assert isinstance(int8, OnnxEncoder) and int8.int8
    with pytest.raises(ModelError):
        make_encoder(path, 32, "tensorflow")


def test_an_onnx_assistant_uses_the_shipped_index_and_answers_the_same(
        assistant: Assistant, onnx_encoder: OnnxEncoder, tmp_path: Path) -> None:
    """Both engines name the model alike, so the shipped index (built by torch) is used as it is."""
    index = tmp_path / "embeddings"
    shutil.copytree(SHIPPED_INDEX, index, ignore=shutil.ignore_patterns(".lock"))
    settings = Settings(encoder_engine="onnx")
    fast = Assistant(corpus=SEEDS, index=index, settings=settings, encoder=onnx_encoder)
    before = onnx_encoder.encoded_texts
    report = fast.open()
    assert report.encoded_texts == 0 and onnx_encoder.encoded_texts == before
    for item in QUESTIONS["answerable"]:
        want, got = assistant.ask(item["q"]), fast.ask(item["q"])
        assert [(c.source, c.quote) for c in got.citations] == [(c.source, c.quote) for c in want.citations]
        assert got.found == want.found


def test_the_cli_engine_flag_answers_through_onnx(
        assistant: Assistant, onnx_cache: Path, onnx_encoder: OnnxEncoder, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant ask --engine onnx` loads the ONNX graph, never sentence-transformers, and quotes what the
    reference engine quotes."""
    from assistant.fronts import cli

    def no_torch(*args: object, **kwargs: object) -> None:
        raise AssertionError("--engine onnx loaded sentence-transformers")

    monkeypatch.setattr("assistant.core.SentenceEncoder", no_torch)
    monkeypatch.setattr("assistant.index.onnx_encoder.default_cache", lambda: onnx_cache)  # exported above
    index = tmp_path / "embeddings"
    shutil.copytree(SHIPPED_INDEX, index, ignore=shutil.ignore_patterns(".lock"))
    question = QUESTIONS["answerable"][0]["q"]
    status = cli.main(["ask", "--engine", "onnx", "--corpus", str(SEEDS), "--index", str(index), "--json",
                       "--no-history", question])
    got = json.loads(capsys.readouterr().out)
    want = assistant.ask(question)
    assert status == 0 and got["found"] is True
    assert [(c["source"], c["quote"]) for c in got["citations"]] == [(c.source, c.quote) for c in want.citations]


@pytest.fixture(scope="module")
def int8_encoder(onnx_encoder: OnnxEncoder, onnx_cache: Path) -> OnnxEncoder:
    """The int8 graph, quantized from the fp32 export above (in the same cache)."""
    encoder = OnnxEncoder(Settings().model_path, cache=onnx_cache, int8=True)
    encoder.encode(["warm up"])
    return encoder


def test_int8_vectors_are_near_the_reference_but_named_as_their_own(
        encoder: SentenceEncoder, onnx_encoder: OnnxEncoder, int8_encoder: OnnxEncoder, onnx_cache: Path,
        seed_texts: tuple[list[str], list[str], list]) -> None:  # type: ignore[type-arg]
    """Quantized weights move the vectors (not within 1e-4), so the int8 engine must not pass for the
    reference: its model_id differs and an index records it."""
    texts, sentences, _ = seed_texts
    for batch in (texts, sentences):
        cosine = (encoder.encode(batch) * int8_encoder.encode(batch)).sum(axis=1)
        assert float(cosine.mean()) > 0.99 and float(cosine.min()) > 0.97
        assert float(cosine.min()) < 1 - 1e-4  # really another graph, not the fp32 one under a new name
    assert int8_encoder.model_id == onnx_encoder.model_id + INT8_SUFFIX
    assert int8_encoder.graph.parent == onnx_cache and int8_encoder.graph != onnx_encoder.graph
    assert not [p.name for p in onnx_cache.iterdir() if p.name.startswith(".")]


def test_an_int8_index_is_reopened_with_its_engine_not_rebuilt(
        assistant: Assistant, int8_encoder: OnnxEncoder, onnx_cache: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`assistant index --engine onnx-int8 --sentence-vectors lazy` (the fast build) indexes the seeds; a
    later `assistant ask` without either flag opens the index as built (no torch, no rebuild) and quotes
    the article the reference quotes on most answerable seed questions."""
    from assistant.fronts import cli

    monkeypatch.setattr("assistant.index.onnx_encoder.default_cache", lambda: onnx_cache)
    index = tmp_path / "int8-index"
    assert cli.main(["index", "--engine", "onnx-int8", "--sentence-vectors", "lazy", "--corpus", str(SEEDS),
                     "--index", str(index)]) == 0
    capsys.readouterr()
    assert stored_build(index) == StoredBuild("onnx-int8", "lazy")
    assert stored_build(SHIPPED_INDEX) == StoredBuild(None, "build")
    assert stored_build(tmp_path / "nothing here") == StoredBuild()
    manifest = (index / "manifest.json").stat().st_mtime_ns

    def no_torch(*args: object, **kwargs: object) -> None:
        raise AssertionError("an int8 index was opened with sentence-transformers")

    monkeypatch.setattr("assistant.core.SentenceEncoder", no_torch)
    answerable = [item["q"] for item in QUESTIONS["answerable"]]
    same = 0
    for question in answerable:
        status = cli.main(["ask", "--corpus", str(SEEDS), "--index", str(index), "--json", "--no-history", question])
        got = json.loads(capsys.readouterr().out)
        want = assistant.ask(question)
        assert status == (0 if got["found"] else 1)
        same += bool(got["citations"]) and bool(want.citations) and \
            got["citations"][0]["source"] == want.citations[0].source
    assert (index / "manifest.json").stat().st_mtime_ns == manifest  # opened as built, not rebuilt
    print(f"int8 quotes the reference's article on {same} of {len(answerable)} answerable seed questions")
    assert same >= 0.9 * len(answerable)


def test_the_build_benchmark_builds_each_combination_and_asks_each_index(
        encoder: SentenceEncoder, int8_encoder: OnnxEncoder) -> None:
    """benchmarks.store.build_side_by_side on the seeds: today's build against lazy sentence vectors under
    int8, each index asked the seeds' answerable questions. Lazy embeds the chunks only; both answer."""
    from benchmarks.store import build_side_by_side

    questions = [{"id": str(i), "question": item["q"], "answers": item["a"], "gold_passage": ""}
                 for i, item in enumerate(QUESTIONS["answerable"])]
    today, fast = build_side_by_side(SEEDS, {"sentence-transformers": encoder, "onnx-int8": int8_encoder},
                                     (("build", "sentence-transformers"), ("lazy", "onnx-int8")),
                                     questions=questions)  # type: ignore[arg-type]
    assert (today["mode"], fast["mode"], fast["engine"]) == ("build", "lazy", "onnx-int8")
    assert today["chunks"] == fast["chunks"] and fast["texts"] == fast["chunks"] < today["texts"]
    assert today["questions"] == fast["questions"] == len(questions) == len(fast["quotes"])
    assert today["answer_contains"] >= 0.9 and fast["answer_contains"] >= today["answer_contains"] - 0.1
