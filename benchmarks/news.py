"""News: ingest throughput (pages, exports, feeds), and duplicate detection quality and cost.

Ingest. Benchmark passages are wrapped as news pages (cookie banner, navigation, byline, related links,
comments, footer), as one JSONL export and as one RSS feed, written under the cache, and read back by
the project's readers (`ingest.read_file`). Besides articles per second, a page counts as extracted
exactly when its body is the passage and nothing else (no furniture kept, no sentence lost).

Duplicates. Each of N originals gets one copy at a known similarity level s, made one of four ways:
syndicated (the body whole, with a headline, byline and boilerplate added so that s of the copy is the
original), words (a share 1 - s of the words replaced), sentences (a share 1 - s of the text replaced by
sentences of another document) and truncated (the first s of the words). A pair is a copy when s >= 0.8
("at least ~80% the same text"), not one when s <= 0.6; s = 0.7 is reported but counted neither way.
The threshold is chosen on SciFact abstracts (the tuning split) and reported on SQuAD paragraphs
(held out), where paragraphs of the same Wikipedia article are the "same event, different story" pairs.
Cost: signatures and grouping of 10k and 100k articles recombined from real sentences, 5% of them with
a planted near copy.
"""

from __future__ import annotations

import html
import json
import os
import random
import resource
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import DuplicateSettings
from assistant.index.duplicates import groups, signature
from assistant.ingest import read_file

from .data import read_jsonl
from .speed import _SENTENCE_END, sentence_pool

LEVELS = (1.0, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.3)
KINDS = ("syndicated", "words", "sentences", "truncated")
COPY_FROM = 0.8  # s at or above: a copy
DISTINCT_BELOW = 0.7  # s below: a different text (0.7 itself is the grey zone)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
SHINGLE_WORDS = (3, 4, 5)
_BOILERPLATE = [
    "This story was distributed by a news agency and is republished with permission.",
    "Follow us on social media for the latest local headlines and updates.",
    "Reporting by the regional desk; additional reporting by staff writers; editing by the night desk.",
    "Copyright the wire service. All rights reserved. This material may not be redistributed.",
    "Sign up for the morning newsletter to get stories like this one delivered to your inbox.",
    "Correction: an earlier version of this article misstated a detail in the third paragraph.",
]


# ---- data --------------------------------------------------------------------------------------------------------

def texts(path: Path, limit: int, min_words: int = 60, seed: int = 0) -> list[dict[str, str]]:
    """Up to `limit` documents of at least `min_words` words ({_id, title, text}), a fixed random sample."""
    rows = [{"_id": str(r["_id"]), "title": str(r.get("title") or ""), "text": str(r["text"])}
            for r in read_jsonl(path) if len(str(r["text"]).split()) >= min_words]
    random.Random(seed).shuffle(rows)
    return rows[:limit]


# ---- ingest --------------------------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} | The Benchmark Herald</title>
<meta property="og:site_name" content="The Benchmark Herald"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="2022-06-{day:02d}T08:00:00-04:00">
<script>var analytics = {{"page": "{n}", "section": "news"}};</script></head>
<body><div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/science">Science</a>
</li><li><a href="/sport">Sport</a></li><li><a href="/subscribe">Subscribe today</a></li></ul></nav></header>
<main><article><h1>{title}</h1><p class="byline">By Staff Writer · June {day}, 2022</p>
{paragraphs}
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a></div></article>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/a">Council approves new budget</a></li>
<li><a href="/b">Weekend weather: rain expected</a></li></ul></aside>
<section id="comments"><h3>12 Comments</h3><div class="comment"><p class="author">reader{n}</p>
<p>Interesting piece, thanks for covering this topic in such depth.</p></div></section></main>
<footer><p>© 2022 The Benchmark Herald. All rights reserved.</p></footer></body></html>
"""
_FURNITURE = ("We use cookies", "Subscribe today", "Related stories", "Share on Facebook", "Interesting piece",
              "All rights reserved", "Council approves", "By Staff Writer")


def write_ingest_data(docs: Sequence[dict[str, str]], folder: Path, pages: int, records: int) -> dict[str, Any]:
    """The pages, the export and the feed under `folder` (rewritten each run: the data is small)."""
    folder.mkdir(parents=True, exist_ok=True)
    page_dir = folder / "pages"
    page_dir.mkdir(exist_ok=True)
    for old in page_dir.glob("*.html"):
        old.unlink()
    for n, doc in enumerate(docs[:pages]):
        sentences = _SENTENCE_END.split(doc["text"])
        paragraphs: list[str] = []
        for i in range(0, len(sentences), 3):
            paragraphs.append("<p>" + html.escape(" ".join(sentences[i : i + 3])) + "</p>")
        (page_dir / f"page-{n:05d}.html").write_text(
            PAGE.format(title=html.escape(doc["title"] or f"Story {n}"), n=n, day=n % 28 + 1,
                        paragraphs="\n".join(paragraphs)), encoding="utf-8")
    with (folder / "export.jsonl").open("w", encoding="utf-8") as out:
        for n, doc in enumerate(docs[:records]):
            out.write(json.dumps({"id": doc["_id"], "title": doc["title"], "text": doc["text"],
                                  "date": f"2022-06-{n % 28 + 1:02d}", "source": "Benchmark Wire"}) + "\n")
    items = "".join(
        f"<item><title>{html.escape(d['title'])}</title><guid>{html.escape(d['_id'])}</guid>"
        f"<pubDate>Tue, 14 Jun 2022 09:00:00 -0400</pubDate><description>{html.escape(html.escape(d['text']))}"
        "</description></item>" for d in docs[:records])
    (folder / "feed.rss").write_text('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                                     f"<title>Benchmark Feed</title>{items}</channel></rss>", encoding="utf-8")
    return {"pages": min(pages, len(docs)), "records": min(records, len(docs))}


def ingest_throughput(docs: Sequence[dict[str, str]], folder: Path, pages: int = 300,
                      records: int = 5000) -> dict[str, Any]:
    """Articles per second read by each reader, and how exactly pages were extracted."""
    sizes = write_ingest_data(docs, folder, pages, records)
    by_id = {d["_id"]: d for d in docs}
    out: dict[str, Any] = {"load_1m": os.getloadavg()[0]}
    page_files = sorted((folder / "pages").glob("*.html"))
    start = time.perf_counter()
    articles = [a for path in page_files for a in read_file(folder, path)]
    seconds = time.perf_counter() - start
    exact = leaked = 0
    for n, article in enumerate(articles):
        body = " ".join(article.text[s:e] for s, e in article.body)
        original = " ".join(docs[n]["text"].split())
        exact += " ".join(body.split()) == original
        leaked += any(f in body for f in _FURNITURE)
    mb = sum(p.stat().st_size for p in page_files) / 1e6
    out["html"] = {"articles": len(articles), "seconds": seconds, "per_s": len(articles) / seconds,
                   "mb_per_s": mb / seconds, "exact": exact / max(len(articles), 1),
                   "furniture_leaked": leaked / max(len(articles), 1)}
    for name, kind in (("export.jsonl", "jsonl"), ("feed.rss", "rss")):
        path = folder / name
        start = time.perf_counter()
        read = read_file(folder, path)
        seconds = time.perf_counter() - start
        same = sum(" ".join(a.text.split()) == " ".join(by_id[a.source.split("#", 1)[1]]["text"].split())
                   for a in read)
        out[kind] = {"articles": len(read), "seconds": seconds, "per_s": len(read) / seconds,
                     "mb_per_s": path.stat().st_size / 1e6 / seconds, "exact": same / max(len(read), 1)}
    out["sizes"] = sizes
    return out


# ---- near copies ---------------------------------------------------------------------------------------------------

def make_copy(text: str, level: float, kind: str, donor: str, rnd: random.Random) -> tuple[str, float]:
    """A copy of `text` sharing about `level` of it, made the way `kind` says (see the module docstring), and
    the share it really keeps: of the copy's words for a syndicated copy (what was added dilutes it), else of
    the original's words (kept in place, or before the cut)."""
    words = text.split()
    n = len(words)
    if level >= 1.0:
        return text, 1.0
    if kind == "syndicated":
        extra_words = round(n * (1 / level - 1))
        added: list[str] = []
        pool = _BOILERPLATE + _SENTENCE_END.split(donor)
        while sum(len(s.split()) for s in added) < extra_words:
            added.append(rnd.choice(pool))
        cut = rnd.randrange(len(added) + 1)
        copy = "\n".join([*added[:cut], text, *added[cut:]])
        return copy, n / len(copy.split())
    if kind == "words":
        donor_words = donor.split()
        for i in rnd.sample(range(n), round(n * (1 - level))):
            words[i] = rnd.choice(donor_words)
        original = text.split()
        return " ".join(words), sum(a == b for a, b in zip(words, original, strict=True)) / n
    if kind == "sentences":
        sentences = _SENTENCE_END.split(text)
        donors = _SENTENCE_END.split(donor)
        order = list(range(len(sentences)))
        rnd.shuffle(order)
        target, replaced = n * (1 - level), 0
        for i in order:  # replace whole sentences while that brings the share nearer the target
            size = len(sentences[i].split())
            if abs(replaced + size - target) >= abs(replaced - target):
                continue
            replaced += size
            sentences[i] = rnd.choice(donors)
        return " ".join(sentences), 1 - replaced / n
    if kind == "truncated":
        kept = max(round(n * level), 1)
        return " ".join(words[:kept]), kept / n
    raise ValueError(kind)


def nearest_level(share: float) -> float:
    return min(LEVELS, key=lambda level: abs(level - share))


def copy_set(docs: Sequence[dict[str, str]], seed: int = 0) -> tuple[list[str], list[tuple[int, int, float, str]]]:
    """Texts (originals then copies) and (original row, copy row, level, kind) for every pair made; the
    level is the share the copy really keeps, rounded to the nearest of LEVELS."""
    rnd = random.Random(seed)
    originals = [d["text"] for d in docs]
    copies: list[str] = []
    pairs: list[tuple[int, int, float, str]] = []
    for i, text in enumerate(originals):
        level = LEVELS[i % len(LEVELS)]
        kind = "exact" if level >= 1.0 else KINDS[(i // len(LEVELS)) % len(KINDS)]
        donor = originals[(i + 1 + rnd.randrange(len(originals) - 1)) % len(originals)]
        copy, share = make_copy(text, level, kind, donor, rnd)
        copies.append(copy)
        pairs.append((i, len(originals) + i, nearest_level(share), kind))
    return originals + copies, pairs


def evaluate(signatures: np.ndarray, pairs: Sequence[tuple[int, int, float, str]],
             settings: DuplicateSettings, topics: Sequence[str] | None = None) -> dict[str, Any]:
    """Pairwise precision and recall of `groups` against the planted pairs, detection per level and kind,
    and the share of same-topic different texts grouped."""
    start = time.perf_counter()
    found = groups(signatures, settings)
    seconds = time.perf_counter() - start
    group_of = {row: g for g, members in enumerate(found) for row in members}
    together = {(a, b) for members in found for i, a in enumerate(members) for b in members[i + 1 :]}
    positive = {(a, b) for a, b, level, _ in pairs if level >= COPY_FROM}
    grey = {(a, b) for a, b, level, _ in pairs if DISTINCT_BELOW <= level < COPY_FROM}
    tp = len(together & positive)
    fp = len(together - positive - grey)
    detected: dict[str, dict[str, float]] = {}
    for level in LEVELS:
        for kind in ("exact", *KINDS):
            rows = [(a, b) for a, b, lv, k in pairs if lv == level and k == kind]
            if rows:
                hit = sum(group_of.get(a, -1) == group_of.get(b, -2) for a, b in rows)
                detected.setdefault(kind, {})[f"{level:.2f}"] = hit / len(rows)
    out: dict[str, Any] = {
        "threshold": settings.threshold, "pairs": len(pairs), "positive_pairs": len(positive),
        "precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / len(positive) if positive else 1.0,
        "false_pairs": fp, "groups": len(found), "group_seconds": seconds, "detected": detected,
    }
    out["f1"] = (2 * out["precision"] * out["recall"] / (out["precision"] + out["recall"])
                 if out["precision"] + out["recall"] else 0.0)
    if topics is not None:
        same_topic = [(a, b) for a in range(len(topics)) for b in range(a + 1, len(topics))
                      if topics[a] and topics[a] == topics[b]] if len(topics) < 20_000 else []
        grouped = sum(group_of.get(a, -1) == group_of.get(b, -2) for a, b in same_topic)
        out["same_topic_pairs"] = len(same_topic)
        out["same_topic_grouped"] = grouped / len(same_topic) if same_topic else 0.0
    return out


def duplicate_quality(tune_docs: Sequence[dict[str, str]], test_docs: Sequence[dict[str, str]],
                      settings: DuplicateSettings) -> dict[str, Any]:
    """Choose the shingle size and threshold on the tuning documents (best F1), and report them and the
    shipped ones on the test documents."""
    out: dict[str, Any] = {"load_1m": os.getloadavg()[0], "shipped": {"shingle_words": settings.shingle_words,
                                                                    "threshold": settings.threshold}}
    tune_texts, tune_pairs = copy_set(tune_docs, seed=1)
    test_texts, test_pairs = copy_set(test_docs, seed=2)
    grid = []
    for size in SHINGLE_WORDS:
        sized = replace(settings, shingle_words=size)
        start = time.perf_counter()
        tune_sigs = np.stack([signature(t, sized) for t in tune_texts])
        if size == settings.shingle_words:
            out["signature_ms"] = 1000 * (time.perf_counter() - start) / len(tune_texts)
        for threshold in THRESHOLDS:
            r = evaluate(tune_sigs, tune_pairs, replace(sized, threshold=threshold))
            grid.append({"shingle_words": size, **{k: r[k] for k in ("threshold", "precision", "recall", "f1")}})
    best = max(grid, key=lambda r: (round(r["f1"], 3), r["precision"]))
    out["tuning"] = {"documents": len(tune_docs), "grid": grid,
                     "chosen": {"shingle_words": best["shingle_words"], "threshold": best["threshold"]}}
    topics = [d["title"] for d in test_docs] + [""] * len(test_docs)
    out["test"] = {"documents": len(test_docs)}
    for name, choice in (("chosen", out["tuning"]["chosen"]), ("shipped", out["shipped"])):
        chosen = replace(settings, **choice)
        test_sigs = np.stack([signature(t, chosen) for t in test_texts])
        out["test"][name] = evaluate(test_sigs, test_pairs, chosen, topics) | {"shingle_words": chosen.shingle_words}
    return out


# ---- cost at scale ---------------------------------------------------------------------------------------------------

def synthetic_articles(pool: Sequence[str], count: int, copies: float = 0.05, sentences: int = 10,
                       seed: int = 0) -> tuple[list[str], set[tuple[int, int]]]:
    """`count` articles of recombined real sentences; a share `copies` of them re-posted (syndicated at 0.9)."""
    rnd = random.Random(seed)
    planted = round(count * copies)
    originals = [" ".join(rnd.choice(pool) for _ in range(sentences)) for _ in range(count - planted)]
    texts_ = list(originals)
    pairs: set[tuple[int, int]] = set()
    for i in rnd.sample(range(len(originals)), planted):
        pairs.add((i, len(texts_)))
        texts_.append(make_copy(originals[i], 0.9, "syndicated", rnd.choice(originals), rnd)[0])
    return texts_, pairs


def duplicate_cost(pool: Sequence[str], sizes: Sequence[int], settings: DuplicateSettings) -> list[dict[str, Any]]:
    """Time and memory of signing and grouping `size` articles, and how many planted copies were found."""
    rows = []
    for size in sizes:
        docs, planted = synthetic_articles(pool, size)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        signatures = np.stack([signature(t, settings) for t in docs])
        signed = time.perf_counter() - start
        start = time.perf_counter()
        found = groups(signatures, settings)
        grouped = time.perf_counter() - start
        together = {(a, b) for members in found for i, a in enumerate(members) for b in members[i + 1 :]}
        rows.append({
            "articles": size, "words_mean": float(np.mean([len(t.split()) for t in docs[:2000]])),
            "signature_s": signed, "signature_ms": 1000 * signed / size, "group_s": grouped,
            "peak_rss_growth_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before,
            "signature_mb": signatures.nbytes / 1e6, "planted": len(planted),
            "planted_found": len(together & planted) / len(planted) if planted else 1.0,
            "other_pairs": len(together - planted), "load_1m": os.getloadavg()[0],
        })
    return rows


def run(scifact: Path, squad: Path, cache: Path, copies_docs: int, scale_sizes: Sequence[int],
        settings: DuplicateSettings) -> dict[str, Any]:
    """The whole `news` section."""
    squad_docs = texts(squad / "dev-v1.1.passages.jsonl", 10_000, min_words=60)
    scifact_docs = texts(scifact / "corpus.jsonl", copies_docs, min_words=60)
    out: dict[str, Any] = {"ingest": ingest_throughput(squad_docs, cache / "news" / "ingest")}
    out["duplicates"] = duplicate_quality(scifact_docs, squad_docs[:copies_docs], settings)
    if scale_sizes:
        out["scale"] = duplicate_cost(sentence_pool(scifact, squad), scale_sizes, settings)
    return out


# ---- report ----------------------------------------------------------------------------------------------------------

def news_md(r: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md."""
    from .report import _f, _pct, _table

    ingest = r["ingest"]
    rows = [[name, f"{ingest[key]['articles']:,}", f"{ingest[key]['per_s']:,.0f}", _f(ingest[key]["mb_per_s"], 2),
             _pct(ingest[key]["exact"]), _pct(ingest[key].get("furniture_leaked"))]
            for name, key in (("web pages (.html, trafilatura)", "html"), ("JSONL export, one file", "jsonl"),
                              ("RSS feed, one file", "rss")) if key in ingest]
    text = (f"**Ingest** (`ingest.read_file`, one process, load average {ingest['load_1m']:.1f} at the start): SQuAD "
            "v1.1 dev paragraphs wrapped as news pages (cookie banner, navigation, byline, related links, comments, "
            "footer), as one JSONL export and as one RSS feed. *Exact*: the article text read is the paragraph, "
            "word for word, and nothing else.\n\n"
            + _table(["format", "articles", "articles/s", "MB/s", "exact", "furniture kept"], rows) + "\n")
    d = r["duplicates"]
    sizes = sorted({g["shingle_words"] for g in d["tuning"]["grid"]})
    by = {(g["shingle_words"], g["threshold"]): g for g in d["tuning"]["grid"]}
    grid = [[_f(th, 2)] + [f"{_pct(by[(k, th)]['precision'])} / {_pct(by[(k, th)]['recall'])} / "
                           f"{_f(by[(k, th)]['f1'], 3)}" for k in sizes]
            for th in sorted({g["threshold"] for g in d["tuning"]["grid"]})]
    chosen, shipped = d["tuning"]["chosen"], d["shipped"]
    text += (f"\n**Duplicate copies** (`index/duplicates.py`: MinHash, {DuplicateSettings().num_perm} permutations "
             "over word shingles, LSH): each original gets one copy made by one of four edits (see "
             "`benchmarks/news.py`); its level s is the share of text it really keeps, rounded to the nearest of "
             "the levels below. Copies are pairs with s ≥ 0.8; pairs with s ≤ 0.6 and all other pairs must not be "
             f"grouped; s = 0.7 counts neither way. Signing costs {d['signature_ms']:.2f} ms per text.\n\n"
             f"Chosen on the tuning split (SciFact abstracts, {d['tuning']['documents']:,} originals, best F1): "
             f"**{chosen['shingle_words']}-word shingles, threshold {chosen['threshold']}** (shipped: "
             f"{shipped['shingle_words']}-word, {shipped['threshold']}). Precision / recall / F1:\n\n"
             + _table(["threshold", *[f"{k}-word shingles" for k in sizes]], grid) + "\n")
    test = d["test"]
    for name in ("chosen", "shipped"):
        row = test[name]
        if name == "shipped" and (row["threshold"], row["shingle_words"]) == (
                test["chosen"]["threshold"], test["chosen"]["shingle_words"]):
            continue
        text += (f"\nHeld out (SQuAD paragraphs, {test['documents']:,} originals), {row['shingle_words']}-word "
                 f"shingles, threshold {row['threshold']}: precision **{_pct(row['precision'])}**, recall "
                 f"**{_pct(row['recall'])}** over {row['positive_pairs']:,} copy pairs; {row['false_pairs']} wrong "
                 "pairs; paragraphs of the same Wikipedia article (same topic, different text) grouped: "
                 f"{_pct(row.get('same_topic_grouped'))} of {row.get('same_topic_pairs', 0):,} pairs.\n")
    chosen = test["chosen"]["detected"]
    levels = [f"{lv:.2f}" for lv in LEVELS]
    det_rows = [[kind] + [_pct(chosen.get(kind, {}).get(lv)) if lv in chosen.get(kind, {}) else "–"
                          for lv in levels] for kind in ("exact", *KINDS)]
    text += ("\nShare of copies found, by edit and similarity level (held out, chosen threshold):\n\n"
             + _table(["edit", *[f"s={lv}" for lv in levels]], det_rows) + "\n")
    if r.get("scale"):
        srows = [[f"{s['articles']:,}", _f(s["words_mean"], 0), _f(s["signature_s"], 1), _f(s["signature_ms"], 2),
                  _f(s["group_s"], 1), _f(s["signature_mb"], 1), _f(s["peak_rss_growth_mb"], 0),
                  _pct(s["planted_found"]), str(s["other_pairs"]), _f(s["load_1m"], 1)] for s in r["scale"]]
        text += ("\n**Cost at scale**: articles recombined from real SciFact and SQuAD sentences, 5% of them with a "
                 "re-posted copy (s = 0.9). Signing is per article and parallel-friendly; grouping is one LSH pass.\n\n"
                 + _table(["articles", "words", "signing s", "ms/article", "grouping s", "signatures MB",
                           "peak RSS growth MB", "planted copies found", "other pairs grouped", "load"], srows)
                 + "\n")
    return text
