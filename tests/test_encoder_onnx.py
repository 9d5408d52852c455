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
from assistant.index.encoder import SentenceEncoder, make_encoder
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
    assert [p.name for p in onnx_cache.iterdir()] == [graph.name]  # no temporary leftovers
    stamp = graph.stat().st_mtime_ns
    again = OnnxEncoder(Settings().model_path, cache=onnx_cache)
    again.encode(["a second encoder loads the same graph"])
    assert graph.stat().st_mtime_ns == stamp


def test_the_setting_chooses_the_engine(onnx_cache: Path) -> None:
    path = Settings().model_path
    assert isinstance(make_encoder(path, 32, "onnx"), OnnxEncoder)
    assert isinstance(make_encoder(path, 32, "sentence-transformers"), SentenceEncoder)
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
