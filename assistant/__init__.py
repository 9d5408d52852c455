"""assistant: offline question answering over news articles, with verbatim quotes and citations."""

from .config import Settings
from .conversation import Session
from .core import Assistant
from .errors import (
    AssistantError,
    BackendError,
    CorpusError,
    IndexLockedError,
    IndexStoreError,
    ModelError,
    QuestionError,
)
from .types import Answer, Article, Chunk, Citation, Copy, Hit, IndexReport

__all__ = [
    "Answer",
    "Article",
    "Assistant",
    "AssistantError",
    "BackendError",
    "Chunk",
    "Citation",
    "Copy",
    "CorpusError",
    "Hit",
    "IndexLockedError",
    "IndexReport",
    "IndexStoreError",
    "ModelError",
    "QuestionError",
    "Session",
    "Settings",
]
