"""The errors a front end turns into messages.

    AssistantError            anything the user can fix; str() is the message to show
    ├── QuestionError         an empty or unusable question
    │   └── FilterError       a date or source filter that cannot be read (--since after --until...)
    ├── CorpusError           missing, empty or unreadable articles folder
    ├── ModelError            the embedding model cannot be found or loaded
    ├── IndexStoreError       the index folder cannot be read or written
    │   ├── IndexLockedError  another process is building the same index
    │   └── BackendError      the retrieval backend (Milvus) is not installed, unreachable, or holds another index
    └── HistoryError          the saved conversations cannot be read or written, or one is unknown
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error whose message is meant for the user, not a traceback."""


class QuestionError(AssistantError):
    """The question is empty or has nothing to search for."""


class FilterError(QuestionError):
    """A filter that cannot be used: a malformed date, or `since` after `until`."""


class CorpusError(AssistantError):
    """The corpus folder is missing, empty, or has no readable article."""


class ModelError(AssistantError):
    """The sentence-transformers model is missing or broken."""


class IndexStoreError(AssistantError):
    """The index folder is damaged, unreadable or unwritable."""


class IndexLockedError(IndexStoreError):
    """Another process holds the build lock of this index."""


class BackendError(IndexStoreError):
    """The retrieval backend cannot be used: its extra is missing, its server is unreachable, or its
    collection was built with another model or settings (never rebuilt silently)."""


class HistoryError(AssistantError):
    """The history file is unreadable or unwritable, or a conversation id matches nothing."""
