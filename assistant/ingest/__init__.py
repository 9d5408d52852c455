"""Reading article files of each format into `Article`s (text, title, body spans, metadata)."""

from .text import parse_article, read_corpus

__all__ = ["parse_article", "read_corpus"]
