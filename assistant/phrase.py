"""The answer phrase: the few words inside a quote that answer the question (a name, a place, a date, a number).

No reading model ships, so the phrase is found the way a reader skims: the question says what kind of
thing it asks for ("who": a name; "where": a place; "when": a date; "how many": a number with its unit;
"which newspaper": a name), every short span of the quote that could be such a thing is a candidate,
and each candidate is scored by a linear model over a few features (its kind, how close it stands to
the question's words found in the quote, its length, and how it sits in the sentence's grammar: a whole
noun phrase, a cut one, a verb inside; tags from grammar.py). The weights are fitted per asked kind on SQuAD
tuning questions (`benchmarks/tune_phrase.py`) and live in `config.AnswerSettings.phrase_weights`. Words the question
already contains are never the answer, so a span holding one is not a candidate. Questions that ask
"why" or "how" (a reason, a manner) get no phrase: the quote itself is the answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .grammar import Tag, tag
from .index.lexical import STOP_WORDS, tokenize
from .types import Answer, Citation

# Penn tags folded into a few groups, for the span's edges and its neighbours ("by | Maria Lopez |,").
_POS_GROUPS = ("noun", "proper", "verb", "adjective", "adverb", "determiner", "preposition", "by", "number",
               "conjunction", "punctuation", "edge", "other")
KINDS = ("person", "place", "date", "number", "thing", "other")
PHRASE_FEATURES = (
    "capitalised", "number", "date", "head_after", "head_before", "log_tokens", "near", "between", "after_matched",
    "before_matched", "stop_share", "lone_initial", "parenthesis", "sentence_share", "cuts_name",
    "asked_share", "near_mean", "plural_list",
    # from the sentence's part-of-speech tags and chunks (grammar.tag)
    "np_whole", "np_inside", "cuts_chunk", "has_verb", "in_prep_phrase", "ends_noun", "np_tail", "modifiers_only",
    "after_preposition", "before_break", "has_conjunction", "has_proper_noun", "log_chunks",
    "chunk_before_matched", "chunk_after_matched", "verb_before_matched", "verb_after_matched",
    # the coarse part of speech of the span's first and last word and of the words either side of it
    *(f"{where}_{group}" for where in ("first", "last", "before", "after") for group in _POS_GROUPS),
)
MAX_TOKENS = 7  # SQuAD v1.1 accepted answers average 3.2 words; 7 tokens also holds "Iran, Turkey and China"

_MONTHS = ("january february march april may june july august september october november december "
           "jan feb mar apr jun jul aug sep sept oct nov dec").split()
_SEASONS = frozenset("spring summer autumn fall winter".split())
_CLOCK = frozenset({"a.m.", "p.m."})
_DATE_WORDS = frozenset(_MONTHS) | _SEASONS | _CLOCK | frozenset(
    "monday tuesday wednesday thursday friday saturday sunday century centuries decade decades bc ad bce ce "
    "yesterday today tomorrow noon midnight".split())
_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million billion "
    "trillion dozen dozens half quarter percent first second third fourth fifth twice thrice".split())
_CARDINALS = _NUMBER_WORDS - {"first", "second", "third", "fourth", "fifth", "half", "quarter", "dozens", "twice",
                              "thrice"}
# "Last week", "Next year", "This month": a capitalised first word before these is a time, not a name.
_TIME_UNITS = frozenset("week weeks month months year years weekend night morning evening time".split())
_CONNECTORS = frozenset({"of", "the", "and", "de", "for", "van", "von", "da", "&", "-", "’s", "'s"})
_CURRENCY = "$£€¥"  # symbols written before an amount
_TOKEN = re.compile(
    r"(?:[A-Z]\.){2,}"  # U.S., D.C.
    r"|[A-Z]\.(?=[ \u00a0]+[A-Z])"  # a middle initial inside a name: "Harsh V. Pant", "John F. Kennedy"
    r"|[ap]\.m\.(?!\w)"  # a time of day: "5 a.m."
    rf"|[{_CURRENCY}]?\d[\d,.:]*\d(?:%|s\b|(?<=1)(?<!11)st\b|(?<=2)(?<!12)nd\b|(?<=3)(?<!13)rd\b|th\b)?"
    rf"|[{_CURRENCY}]?\d(?:%|s\b|(?<=1)st\b|(?<=2)nd\b|(?<=3)rd\b|th\b)?"  # 1,200 3.5% $6.5 10:30 1940s 13th
    r"|[^\W\d_][\w’'-]*[\w]|[^\W\d_]"  # words, mid-term, Kazan’s
    r"|[^\w\s]")
_YEAR = re.compile(r"^(1[0-9]{3}|20[0-9]{2})s?$")
_DIGIT = re.compile(r"\d")

# What the question asks for. Order matters: the first rule that matches decides. NUMBER_QUESTION and
# DATE_QUESTION are answer.question_type's too: one reading of what a question asks.
_REASON = re.compile(r"^(why|how (?!many|much|long|far|old|large|big|tall|high|often|fast|heavy|deep|wide|"
                     r"far|early|late|soon))\b|\bwhy\b", re.IGNORECASE)
# "Has the government responded?": a yes-or-no question names no phrase to mark (the quote answers it); a
# choice ("Is it rising or falling?") does
_YES_NO = re.compile(r"\s*(?:is|are|was|were|has|have|had|do|does|did|can|could|will|would|should|shall|might|must)"
                     r"\s+(?!.*\b(?:who|whom|whose|where|which|what|when|or)\b)", re.IGNORECASE)
_SCORE_ASKED = r"\b(?:what|which) (?:is|was|were) the (?:\w+ )?score\b"
NUMBER_QUESTION = re.compile(
    r"\bhow (many|much|long|far|old|large|big|tall|high|often|fast|heavy|deep|wide)\b"
    r"|\b(what|which) (percentage|percent|proportion|number|amount|size|population|price|cost|"
    r"speed|distance|temperature|rate|share|age|length|height|weight)\b"
    r"|\b(what|which) (is|was|are|were|will be) the (percentage|percent|proportion|number|amount|size|population|"
    r"price|cost|speed|distance|temperature|rate|share|age|length|height|weight|total|value|sum)\b"
    rf"|{_SCORE_ASKED}",  # "What was the final score?": "2-1", "24–10"
    re.IGNORECASE)
DATE_QUESTION = re.compile(r"^when\b|\bwhen (did|was|were|is|does|do|will|had|has)\b|\buntil when\b|\bsince when\b"
                           r"|\b(what|which) (years?|dates?|days?|months?|century|centuries|decades?|time|period|era|"
                           r"season)\b",
                           re.IGNORECASE)
# Singular only: "which countries" asks for a list, which the "thing" weights mark better (plural_list)
_PLACE_Q = re.compile(r"^where\b|\bwhere\b|\b(what|which) (city|country|state|place|town|region|continent|"
                      r"province|county|nation|island|river|capital|location|area|village|district|street)\b"
                      r"|\bfrom (what|which) (city|country|town|place)\b", re.IGNORECASE)
_PERSON_Q = re.compile(r"^(who|whom|whose)\b|\b(who|whom|whose)\b|\b(what|which) (person|man|woman|president|"
                       r"king|leader|player|author|writer|company|organi[sz]ation|group|team|newspaper|agency|"
                       r"party|minister|official)\b|\bname of\b|\bwhat is the name\b", re.IGNORECASE)
_THING_Q = re.compile(r"\b(?:what|which) (?:kind of |type of |sort of )?([a-z]+)\b", re.IGNORECASE)


# "Name the agency that …", "Identify the company …", "List the countries …": a request that reads as "which X"
_NAME_THE = re.compile(r"^\s*(?:please\s+)?(?:name|identify|list)\s+(?:the|a|an|all\s+the)\s+", re.IGNORECASE)


def as_question(question: str) -> str:
    """The question with a request to name something rewritten as "which X" ("Name the agency …")."""
    return _NAME_THE.sub("which ", question, count=1)


def asked_kind(question: str) -> str | None:
    """What the question asks for: one of KINDS, or None for a reason or manner ("why", "how did")."""
    question = as_question(question)
    if NUMBER_QUESTION.search(question):
        return "number"
    if DATE_QUESTION.search(question):
        return "date"
    if _REASON.search(question) or _YES_NO.match(question):
        return None
    if _PLACE_Q.search(question):
        return "place"
    if _PERSON_Q.search(question):
        return "person"
    match = _THING_Q.search(question)
    if match and match.group(1).lower() not in STOP_WORDS and match.group(1).lower() not in {"did", "does", "do"}:
        return "thing"
    return "other"


def asked_head(question: str) -> str | None:
    """The noun a "which X" / "what X" / "how many X" question names, or the role a "who is the X"
    question asks about ("Who is the Taliban spokesman who…": spokesman), stemmed; else None."""
    question = as_question(question)
    match = re.search(r"\b(?:what|which|how many|how much) (?:kind of |type of |sort of )?([a-z]+)", question,
                      re.IGNORECASE)
    if match and match.group(1).lower() not in STOP_WORDS:
        stems = tokenize(match.group(1))
        return stems[0] if stems else None
    role = _WHO_THE.match(question)
    if role is None:
        return None
    # the last common noun of the noun phrase after "who is": "the Afghan foreign [minister]", "the head
    # [coach] of …", read up to the first word that cannot be inside it (a preposition, a verb, "who")
    words = _TOKEN.findall(question)
    tags = tag(words)
    k = len(_TOKEN.findall(question, 0, role.end()))
    nouns = []
    while k < len(words) and tags[k].pos in _IN_NOUN_PHRASE:
        if tags[k].pos in {"NN", "NNS"}:
            nouns.append(k)
        k += 1
    stems = tokenize(words[nouns[-1]]) if nouns else []
    return stems[0] if stems else None


_IN_NOUN_PHRASE = frozenset({"DT", "PDT", "PRP$", "POS", "CD", "JJ", "JJR", "JJS", "NN", "NNS", "NNP", "NNPS",
                             "VBG", "VBN", "HYPH", "RB"})
_WHO_THE = re.compile(r"\s*who (?:is|was|are|were|will be|has been) (?=the |an? )", re.IGNORECASE)


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    stem: str  # "" for stop words and punctuation


def _tokens(text: str, start: int, end: int) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text, start, end):
        word = m.group(0)
        stems = tokenize(word)
        out.append(_Token(word, m.start(), m.end(), stems[0] if stems else ""))
    return out


def _is_number(word: str) -> bool:
    """A number in digits or words, also before a hyphen ("five-year", "ten-horsepower", "two-thirds")."""
    lower = word.lower()
    return bool(_DIGIT.search(word)) or lower in _NUMBER_WORDS or lower.partition("-")[0] in _CARDINALS


def _is_date(word: str) -> bool:
    return bool(_YEAR.match(word)) or word.lower() in _DATE_WORDS


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() or _is_number(word)


_SCALES = frozenset("hundred thousand million billion trillion percent % per cent".split())


def _amount(a: _Token, b: _Token) -> bool:
    """Are a and b one amount ("$ | 1.2", "1.2 | billion", "5 | %")?"""
    return (_is_number(a.text) and (b.text.lower() in _SCALES or b.text == "%")) or bool(
        _DIGIT.search(b.text) and a.text in _CURRENCY)


def _capital(t: _Token) -> bool:
    return bool(t.stem) and t.text[:1].isupper()


def _cuts_name(toks: list[_Token], i: int, j: int, asked: set[str]) -> bool:
    """Does toks[i:j] cut a name in two ("World | Food Program")? Capitalised question words beside it are
    not part of the answer ("Afghan Foreign Minister | Amir Khan Muttaqi" for "Who is the foreign minister?"),
    so the run of capitalised words on a side cuts only if it holds a word the question lacks."""
    def cut(side: range) -> bool:
        run = []
        for k in side:
            if not _capital(toks[k]):
                break
            run.append(toks[k])
        return any(t.stem not in asked for t in run)

    left = i > 0 and _capital(toks[i]) and cut(range(i - 1, -1, -1))
    right = j < len(toks) and _capital(toks[j - 1]) and cut(range(j, len(toks)))
    return bool(left or right)


def _cuts(toks: list[_Token], i: int, j: int) -> bool:
    """Would toks[i:j] cut an amount ("$1.2 | billion"), a ratio ("one | in six") or a range ("40 | -45") in
    two? Such a span is no candidate."""
    if (i > 0 and _amount(toks[i - 1], toks[i])) or (j < len(toks) and _amount(toks[j - 1], toks[j])):
        return True
    return any(k < i < e or k < j < e for k, e in _ratios(toks, max(0, i - 4), min(j + 1, len(toks))))


def _ratios(toks: list[_Token], lo: int, hi: int) -> list[tuple[int, int]]:
    """The ratios and ranges starting in toks[lo:hi], as token ranges: "one in six", "one in every five", "one
    in a hundred", "3 out of 10", "40-45", "10 to 12" (not "3 in 2019", nor "2019-2020")."""
    out = []
    for k in range(lo, hi):
        if not _is_number(toks[k].text) or _YEAR.match(toks[k].text):
            continue
        words = [t.text.lower() for t in toks[k + 1 : k + 4]]
        gap = 1 if words[:1] in (["in"], ["-"], ["–"], ["to"]) else 2 if words[:2] == ["out", "of"] else 0
        if gap and words[0] in ("in", "out") and words[gap : gap + 1] in (["every"], ["a"]):
            gap += 1
        if gap and k + gap + 1 < len(toks):
            second = toks[k + gap + 1].text
            if _is_number(second) and not _YEAR.match(second) and (words[0] in ("in", "out")
                                                                    or toks[k].text.lstrip(_CURRENCY)[:1].isdigit()):
                out.append((k, k + gap + 2))
    return out


@dataclass(frozen=True)
class Span:
    """A candidate phrase: offsets into the article text, and its feature row (PHRASE_FEATURES order)."""

    start: int
    end: int
    features: tuple[float, ...]


def spans(question: str, text: str, start: int, end: int) -> list[Span]:
    """Every candidate phrase of `text[start:end]` with its features, for the question."""
    asked = set(tokenize(question))
    head = asked_head(question)
    kind = asked_kind(question)
    since = bool(_SINCE_QUESTION.search(question))
    ages = since or bool(_AGE_QUESTION.search(question))
    plural = bool(re.search(r"\b(?:what|which) [a-z]+(?<!s)s\b", question, re.IGNORECASE))  # "which countries"
    toks = _tokens(text, start, end)
    matched = [i for i, t in enumerate(toks) if t.stem and t.stem in asked]
    n = len(toks)
    words = [t.text for t in toks]
    tags = tag(words)
    grammar = _Grammar(words, tags, matched)
    # each word's date reading, once per quote: a word is inside many spans
    relative = [_relative(toks, k) for k in range(n)]
    dated = [_is_date(t.text) or relative[k] or _ago(toks, k) for k, t in enumerate(toks)]
    out: list[Span] = []
    for i in range(n):
        for j in range(i + 1, min(i + MAX_TOKENS, n) + 1):
            span = toks[i:j]
            first, last = span[0], span[-1]
            if (not first.stem and not _is_number(first.text) and not first.text[:1].isupper()
                    and not (i + 1 < n and relative[i + 1])):
                continue  # a phrase does not begin with a stop word or punctuation ("this year" may) ...
            if not last.stem and not _is_number(last.text) and last.text.lower() not in _CLOCK:
                continue  # ... nor end with one (but "5 a.m." ends on its time)
            if not all(_inner_ok(toks, k) for k in range(i + 1, j - 1)):
                continue
            if "\n" in text[first.start : last.end]:
                continue  # a phrase stays inside one line (a caption, a heading and a paragraph are apart)
            if first.stem in asked or (last.stem in asked and not _century(toks, j - 1)):
                continue  # the question's own words are not its answer (inside a name they may be: "World Food
                # Program" for "Which food agency?")
            if _cuts(toks, i, j) or _not_of_kind(kind, toks, i, j, ages):
                continue
            if j == i + 1 and relative[i]:
                continue  # "year" of "this year", "months" of "after 18 months": the time is told by both
            if j == i + 1 and _opens_sentence(toks, i) and _function_word(toks[i].text, tags[i].pos):
                continue  # "However", "Many", "Instead" opening a sentence: capitalised, yet no answer
            out.append(Span(first.start, last.end, _features(span, toks, i, j, matched, head, asked, plural, dated)
                            + grammar.features(i, j)))
    if _MONEY_QUESTION.search(question):  # "How much did the repairs cost?" asks for an amount of money
        money = [s for s in out if _MONEY.search(text, s.start, s.end)]
        out = money or out
    if _SCORE_QUESTION.search(question):  # a score is two numbers ("2-1"), not "31 years" nor "61,000 fans"
        out = [s for s in out if _SCORE.search(text, s.start, s.end)]
    if _MEASURE_QUESTION.search(question):  # "How long …?" asks for a length of time or space, not a count
        measured = [s for s in out if _has_unit(text, s.start, s.end, end) or (since and _since_date(toks, s))]
        out = measured or [s for s in out if _counts_nouns(toks, tags, s)]  # "three terms", if nothing measured
    counted = _COUNT_QUESTION.search(question)
    if counted and not _DURATION_STEMS & set(tokenize(counted.group(1))):
        out = [s for s in out if not _durations(text, s, end)]  # "How many troops?" is no "20-year" mission
    if counted and not _MONEY.search(counted.group(1)):
        out = [s for s in out if not _MONEY.search(text, s.start, s.end)]  # nor "$1.2 billion" ("how many dollars")
    if kind == "date":
        out = _after_dateline(out, toks)
    if kind in ("date", "number") and matched:
        out = _nearest_of_kind(kind, out, toks, matched, ages)
    return out


_DASHES = frozenset({"—", "–", "-"})


def _dateline(toks: list[_Token]) -> int:
    """How many tokens a news dateline takes at the start of the quote ("LONDON, Aug. 20 —", "HARLOW, Oct. 14
    -"), or 0: a place in capitals, then within a few words a date and a dash."""
    if not toks or not (toks[0].text.isupper() and len(toks[0].text) > 1 and toks[0].text.isalpha()):
        return 0
    for k in range(1, min(len(toks), 10)):
        if toks[k].text in _DASHES:
            return k + 1 if any(_dated(toks, m) for m in range(1, k)) else 0
    return 0


def _after_dateline(candidates: list[Span], toks: list[_Token]) -> list[Span]:
    """For "when", the dates after a dateline, when the quote has any: the dateline dates the report, and the
    sentence says when the thing happened ("LONDON, Aug. 20 — … won the cup on Saturday")."""
    skip = _dateline(toks)
    if not skip:
        return candidates
    after = [c for c in candidates if c.start >= toks[skip - 1].end]
    column = PHRASE_FEATURES.index("date")
    return after if any(c.features[column] for c in after) else candidates


def _nearest_of_kind(kind: str, candidates: list[Span], toks: list[_Token], matched: list[int], ages: bool
                     ) -> list[Span]:
    """The candidates holding the date (for "when") or the count (for "how many") nearest to the question's
    words, when the quote holds several: "approved on Tuesday after a review that began in early 2024"
    answers "When did the authority approve …?" with "Tuesday". A rule, not a feature: SQuAD's dates are
    nearly all years and months, so a fitted weight learns to prefer a year wherever it stands. Given the
    sentence, on SQuAD's held-out tuning half the rule moved date F1 70.7 -> 71.2 and number F1 65.7 -> 66.4
    when it came (docs/answers.md)."""
    typed = [k for k in range(len(toks)) if k not in matched and (
        _dated(toks, k) if kind == "date" else _counted(toks, k, ages))]
    held = [k for k in typed if any(c.start <= toks[k].start < c.end for c in candidates)]
    if not held:
        return candidates
    distance = {k: min(abs(k - m) for m in matched) for k in held}
    least = min(distance.values())
    nearest = [k for k in held if distance[k] == least]
    return [c for c in candidates if any(c.start <= toks[k].start < c.end for k in nearest)] or candidates


_DATED_WORDS = frozenset("yesterday today tomorrow tonight century centuries decade decades noon midnight".split()
                           ) | _CLOCK
_BEFORE_A_SEASON = frozenset("the last next this early late".split())


def _dated(toks: list[_Token], k: int) -> bool:
    """Is toks[k] a word of a date: a year, a capitalised month or weekday, the day of a month ("14 June"),
    "yesterday", "the 1990s", "last spring" (not the verb "may", nor "prices fall")?"""
    word = toks[k].text
    lower = word.lower()
    if _YEAR.match(word) or lower in _DATED_WORDS or _in_date(toks, k) or _ago(toks, k) or _relative(toks, k):
        return True
    if lower in _SEASONS:
        return k > 0 and toks[k - 1].text.lower() in _BEFORE_A_SEASON
    return lower in _DATE_WORDS and word[:1].isupper()


def _counted(toks: list[_Token], k: int, ages: bool) -> bool:
    """Is toks[k] a number that counts (not the day or year of a date, nor "first", nor "one of")?"""
    word = toks[k].text
    if not _is_number(word) or word.lower() in _ORDINALS or _in_date(toks, k, years=not ages):
        return False
    return not (word.lower() == "one" and k + 1 < len(toks) and toks[k + 1].text.lower() == "of")


_FUNCTION_TAGS = frozenset("RB RBR RBS CC IN DT PDT PRP PRP$ MD WDT WP WP$ WRB EX TO UH".split())
_QUANTIFIERS = frozenset("many most several some few all both each such other another".split())


def _function_word(word: str, pos: str) -> bool:
    """Is the word a function word or a quantifier by its tag or itself, not a name or a noun?"""
    return pos in _FUNCTION_TAGS or pos.startswith("VB") or word.lower() in _QUANTIFIERS


def _counts_nouns(toks: list[_Token], tags: list[Tag], span: Span) -> bool:
    """Is the span's last word a number counting the plural noun right after it ("three terms")?"""
    last = next(k for k in range(len(toks) - 1, -1, -1) if toks[k].end <= span.end)
    return _is_number(toks[last].text) and last + 1 < len(toks) and tags[last + 1].pos == "NNS"


def _not_of_kind(kind: str | None, toks: list[_Token], i: int, j: int, ages: bool = False) -> bool:
    """Is toks[i:j] ruled out for the kind whatever its score? A date is no one's name and no place
    ("Friday", "June", "March 3" for "Who …?"); the day or year of a date, an ordinal and the pronoun "one of"
    are no count ("3" of "March 3", "second" of "a second terminal" for "What is the population …?")."""
    span = toks[i:j]
    if kind in ("person", "place"):
        return any(t.text.lower() in _DATE_WORDS for t in span) and all(
            _is_date(t.text) or _is_number(t.text) or not t.stem or t.text.lower() in _CONNECTORS for t in span)
    if kind == "date":  # "40,000 kettles on Thursday", "5 a.m. with four": a count is no part of a date
        return any(_counted(toks, k, ages=False) and not _YEAR.match(toks[k].text)
                   and not _ORDINAL_NUMBER.match(toks[k].text)
                   and not (k >= i + 2 and toks[k - 1].text in "-–" and _YEAR.match(toks[k - 2].text))  # 1759-60
                   and not (k + 1 < len(toks) and toks[k + 1].text.lower() in _CLOCK)  # 5 a.m.
                   and not _counts_time_of_date(toks, k)  # "2.5 billion years ago", "after 18 months"
                   for k in range(i, j))
    if kind == "number":
        if j == i + 1 and span[0].text.lower() == "one" and j < len(toks) and toks[j].text.lower() == "of":
            return True  # "one of its piers": a pronoun, not a count
        return all(not _is_number(t.text) or t.text.lower() in _ORDINALS or _in_date(toks, i + k, years=not ages)
                   for k, t in enumerate(span))
    return False


_ORDINAL_NUMBER = re.compile(r"^\d+(?:st|nd|rd|th)$")
_ORDINALS = frozenset({"first", "second"})  # "third", "fourth" and "fifth" are fractions too ("by a third")
# "How old is the bridge?": "built in 1842" answers, so a year after "in" stays a candidate
_AGE_QUESTION = re.compile(r"\bhow old\b|\bhow long ago\b", re.IGNORECASE)
_BEFORE_A_YEAR = frozenset({"in", "since", "until", "till", "early", "late", "before", "after", "during"})
# "How long has the ferry run?": "since 1987" answers it, though no number there has a unit
_SINCE_QUESTION = re.compile(r"\bhow long (?:has|have|had)\b", re.IGNORECASE)
# "How many troops …?" counts troops: a span of time ("a 20-year mission", "three days") is no such count
_COUNT_QUESTION = re.compile(r"\bhow many ((?:[a-z]+ ){0,2}[a-z]+)", re.IGNORECASE)  # "how many paid holiday days"
_TIME_UNIT_PATTERN = r"years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|century"
_DURATION_AFTER = re.compile(rf"[ \u00a0-](?:{_TIME_UNIT_PATTERN})(?![\w/])", re.IGNORECASE)
_DURATION_STEMS = frozenset(tokenize("year month week day hour minute second decade century times time"))
_CENTURY = frozenset({"century", "centuries"})
_ORDINAL_WORDS = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
                           "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
                           "twenty-first".split())


def _century(toks: list[_Token], k: int) -> bool:
    """Is toks[k] the "century" of "the 19th century" / "the fifth century" (a date though no date word
    stands before it)?"""
    return (0 < k < len(toks) and toks[k].text.lower() in _CENTURY
            and bool(_ORDINAL_NUMBER.match(toks[k - 1].text) or toks[k - 1].text.lower() in _ORDINAL_WORDS))


def _ago(toks: list[_Token], k: int) -> bool:
    """Is toks[k] the "ago" of "three years ago" (a date, though it holds a count)?"""
    return toks[k].text.lower() == "ago" and k > 0 and bool(re.fullmatch(_TIME_UNIT_PATTERN, toks[k - 1].text, re.I))


_FROM_NOW = frozenset("next last this coming past".split())
_AFTER = frozenset({"after", "within"})


def _relative(toks: list[_Token], k: int) -> bool:
    """Is toks[k] the unit of a time told from now: "next month", "last week", "this year", "after 18
    months", "within two weeks"?"""
    if not re.fullmatch(_TIME_UNIT_PATTERN + "|weekend", toks[k].text, re.I) or k == 0:
        return False
    before = toks[k - 1].text.lower()
    return before in _FROM_NOW or (k > 1 and _is_number(toks[k - 1].text) and toks[k - 2].text.lower() in _AFTER)


def _counts_time_of_date(toks: list[_Token], k: int) -> bool:
    """Is toks[k] the number of "three years ago", "2.5 billion years ago", "after 18 months"?"""
    m = k + 1
    while m < len(toks) and toks[m].text.lower() in _SCALES:
        m += 1
    return m < len(toks) and (_relative(toks, m) or (m + 1 < len(toks) and _ago(toks, m + 1)))


def _since_date(toks: list[_Token], span: Span) -> bool:
    """Does the span begin with a date right after "since" ("since 1951", "since March 2019", "since the
    1950s")?"""
    k = next(k for k, t in enumerate(toks) if t.start >= span.start)
    before = [t.text.lower() for t in toks[max(0, k - 2) : k]]
    return (before[-1:] == ["since"] or before == ["since", "the"]) and _dated(toks, k)


def _durations(text: str, span: Span, end: int) -> bool:
    """Is every number of the span a length of time ("20-year", "three days")?"""
    numbers = _number_ends(text, span.start, span.end)
    return bool(numbers) and all(_DURATION_AFTER.match(text, at, end) for at in numbers)


def _inner_ok(toks: list[_Token], k: int) -> bool:
    """May toks[k] stand inside a phrase: a word, or a hyphen, "&", an apostrophe, a comma, or the en dash of
    a range of numbers ("45–60 nanometers")?"""
    word = toks[k].text
    if toks[k].stem or word[:1].isalnum() or word in {"-", "&", "’", "'", ","}:
        return True
    return word == "–" and _is_number(toks[k - 1].text) and k + 1 < len(toks) and _is_number(toks[k + 1].text)


def _in_date(toks: list[_Token], k: int, years: bool = True) -> bool:
    """Is toks[k] the day or year of a written date ("March 3", "3 March", "March 3, 2024", "March 2024",
    and with `years` "in 2024", "early 2024")?"""
    def month(m: int) -> bool:  # capitalised: "May 3", not "may"
        return 0 <= m < len(toks) and toks[m].text[:1].isupper() and toks[m].text.lower() in _MONTHS

    word = toks[k].text
    if not word.isdigit():
        return False
    if month(k - 1) or (len(word) <= 2 and month(k + 1)):
        return True
    if k >= 2 and toks[k - 1].text == "." and month(k - 2):  # "Aug. 20"
        return True
    if years and _YEAR.match(word) and k > 0 and toks[k - 1].text.lower() in _BEFORE_A_YEAR:
        return True
    return (bool(_YEAR.match(word)) and k >= 3 and toks[k - 1].text == "," and toks[k - 2].text.isdigit()
            and month(k - 3))


# "How much did it cost / did they pay / was pledged": the answer is an amount of money, when the quote has one
# ("$12.4 million", not the "eight months" of repairs beside it).
_MONEY_QUESTION = re.compile(
    r"\bhow much\b.*\b(?:cost|costs|costing|pay|pays|paid|spend|spends|spent|worth|price|priced|budget|fund|funds|"
    r"funded|funding|raise|raised|earn|earns|earned|invest|invested|salary|wages?|revenue|fees?|money|profit|loans?|"
    r"grants?|donate|donated|pledge|pledged|owe|owed|fined|sell|sold|buy|bought|charge|charged)\b", re.IGNORECASE)
_MONEY = re.compile(rf"[{_CURRENCY}]|\b(?:dollars?|euros?|pounds|yen|yuan|rubles?|roubles?|rupees?|francs?|pesos?|"
                    r"USD|EUR|GBP)\b", re.IGNORECASE)


# "What was the final score?" asks for two numbers joined by a dash ("2-1", "24–10"), or nothing
_SCORE_QUESTION = re.compile(_SCORE_ASKED, re.IGNORECASE)
_SCORE = re.compile(r"(?<![\d,.])\d{1,3}[-–]\d{1,3}(?![\d,.])")
# "How long / far / tall / high / deep / wide / heavy / fast …?" asks for a measure: a number with its unit
# ("11 days", "3 metres"), never a bare count ("one" of "one of its piers"); without one nothing is marked.
_MEASURE_QUESTION = re.compile(r"\bhow (?:long|far|tall|high|deep|wide|heavy|fast)\b", re.IGNORECASE)

_BREAKS = frozenset({",", ".", ":", "CC", ")"})


class _Grammar:
    """The grammar features of spans of one quote, from its words' tags (grammar.tag)."""

    def __init__(self, words: list[str], tags: list[Tag], matched: Sequence[int]) -> None:
        self.tags, self.matched = tags, frozenset(matched)
        # each word's one-hot over _POS_GROUPS, computed once: a word is the edge of many spans
        self.groups = [_one_hot(_pos_group(t.pos, w.lower())) for t, w in zip(tags, words, strict=True)]
        # where each word's chunk begins and ends (the word itself when it is in none)
        self.first = list(range(len(tags)))
        self.last = list(range(len(tags)))
        for k in range(1, len(tags)):
            if tags[k].chunk >= 0 and tags[k].chunk == tags[k - 1].chunk:
                self.first[k] = self.first[k - 1]
        for k in range(len(tags) - 2, -1, -1):
            if tags[k].chunk >= 0 and tags[k].chunk == tags[k + 1].chunk:
                self.last[k] = self.last[k + 1]

    def features(self, i: int, j: int) -> tuple[float, ...]:
        """The grammar columns of PHRASE_FEATURES for the span of words [i, j)."""
        tags, n = self.tags, len(self.tags)
        span = tags[i:j]
        chunks = {t.chunk for t in span}
        noun_phrase = len(chunks) == 1 and span[0].chunk >= 0 and span[0].kind == "NP"
        first, last = self.first[i], self.last[j - 1]
        cut = first < i or last > j - 1
        return (
            float(noun_phrase and not cut),
            float(noun_phrase),
            float(cut),
            float(any(t.pos.startswith("VB") for t in span)),
            float(noun_phrase and span[0].in_pnp),
            float(span[-1].pos.startswith("NN") or span[-1].pos == "CD"),
            # "the [first quarterback]": a noun phrase without its determiner and modifiers
            float(noun_phrase and last == j - 1 and first < i
                  and all(tags[k].pos in {"DT", "PRP$", "JJ", "CD"} for k in range(first, i))),
            float(all(t.pos.startswith(("JJ", "RB")) for t in span)),
            float(first > 0 and tags[first - 1].pos in {"IN", "TO"}),
            float(last + 1 >= n or tags[last + 1].pos in _BREAKS),
            float(any(t.pos == "CC" for t in span)),
            float(any(t.pos.startswith("NNP") for t in span)),
            math.log(len(chunks)),
            float(first > 0 and self._chunk_matched(first - 1)),
            float(last + 1 < n and self._chunk_matched(last + 1)),
            float(first > 0 and self._verb_matched(first - 1, -1)),
            float(last + 1 < n and self._verb_matched(last + 1, 1)),
            *self._group(i), *self._group(j - 1), *self._group(i - 1), *self._group(j),
        )

    def _chunk_matched(self, k: int) -> bool:
        """Does the chunk of word k (the word alone outside chunks) hold a question word?"""
        return any(m in self.matched for m in range(self.first[k], self.last[k] + 1))

    def _verb_matched(self, k: int, step: int) -> bool:
        """Walking from word k away from the span (step -1 left, +1 right) over at most one chunk or
        preposition, is the first verb chunk met one holding a question word ("was founded by | X")?"""
        seen = 0
        while 0 <= k < len(self.tags) and seen < 3:
            if self.tags[k].kind == "VP":
                return self._chunk_matched(k)
            k = (self.first[k] if step < 0 else self.last[k]) + step
            seen += 1
        return False

    def _group(self, k: int) -> tuple[float, ...]:
        """One-hot over _POS_GROUPS for word k ("edge" past either end of the quote)."""
        return self.groups[k] if 0 <= k < len(self.groups) else _EDGE


def _pos_group(pos: str, word: str) -> str:
    """The _POS_GROUPS group of a word (lower-cased) with Penn tag `pos`."""
    if word == "by":
        return "by"
    if pos.startswith("NNP"):
        return "proper"
    if pos.startswith("NN"):
        return "noun"
    if pos.startswith(("VB", "MD")):
        return "verb"
    if pos.startswith("JJ"):
        return "adjective"
    if pos.startswith("RB"):
        return "adverb"
    if pos in {"DT", "PRP$", "PDT", "WDT"}:
        return "determiner"
    if pos in {"IN", "TO"}:
        return "preposition"
    if pos == "CD":
        return "number"
    if pos == "CC":
        return "conjunction"
    return "punctuation" if not word[:1].isalnum() else "other"


def _one_hot(group: str) -> tuple[float, ...]:
    return tuple(float(group == g) for g in _POS_GROUPS)


_EDGE = _one_hot("edge")


def _opens_sentence(toks: list[_Token], i: int) -> bool:
    """Is toks[i] the first word of a sentence (a quote may hold two)?"""
    return i == 0 or toks[i - 1].text in {".", "!", "?", "”", "\""} or toks[i - 1].end < toks[i].start - 1


def _features(span: list[_Token], toks: list[_Token], i: int, j: int, matched: list[int],
              head: str | None, asked: set[str], plural: bool, dated: Sequence[bool]) -> tuple[float, ...]:
    words = [t.text for t in span]
    content = [t for t in span if t.stem or _is_number(t.text)]
    capitalised = all(_is_capitalised(t.text) or t.text.lower() in _CONNECTORS for t in span) and any(
        t.text[:1].isupper() for t in span) and not (j < len(toks) and toks[j].text.lower() in _TIME_UNITS)
    before = [m for m in matched if m < i]
    after = [m for m in matched if m >= j]
    outside = before + after
    stems = [t.stem for t in span if t.stem]
    distance = min([i - m for m in before] + [m - j + 1 for m in after], default=len(toks))
    stop_share = 1.0 - len(content) / len(span)
    opens = sum(1 for t in toks[:i] if t.text == "(") - sum(1 for t in toks[:i] if t.text == ")")
    return (
        float(capitalised),
        float(any(_is_number(w) for w in words)),
        float(any(dated[i:j]) or _century(toks, j)),
        float(head is not None and (span[-1].stem == head or (j < len(toks) and toks[j].stem == head))),
        float(head is not None and i > 0 and toks[i - 1].stem == head),  # "spokesman | Zabihullah Mujahid"
        math.log(len(span)),
        1.0 / (1.0 + distance),
        float(bool(before) and bool(after)),
        float(bool(before) and i - before[-1] <= 3),
        float(bool(after) and after[0] - j <= 2),
        stop_share,
        float(j == i + 1 and _opens_sentence(toks, i)),  # a lone first word is capitalised as any first word is
        float(opens > 0),
        len(span) / max(len(toks), 1),
        float(_cuts_name(toks, i, j, asked)),
        sum(1 for stem in stems if stem in asked) / len(stems) if stems else 0.0,
        sum(1.0 / (1.0 + (i - m if m < i else m - j + 1)) for m in outside) / len(outside) if outside else 0.0,
        float(plural and span[0].text[:1].isupper() and any(t.text in {",", "and"} for t in span)
              and all(_is_capitalised(t.text) or t.text.lower() in _CONNECTORS or t.text == "," for t in span)),
    )


# A phrase of these kinds must be of that kind: a name for "who"/"where", a date for "when", a number
# for "how many". Without one in the quote there is no phrase to mark (the quote may still answer).
_REQUIRED = {"person": "capitalised", "place": "capitalised", "date": "date", "number": "number"}


# A unit of measure right after a number answers with it: "6.2 metres", "40 km/h", "300 tonnes", and a span
# of time: "20 years", "a 20-year mission" ("How long …?" is answered by "20-year", not "20").
_UNIT_AFTER = re.compile(
    rf"[ \u00a0-](?:square |cubic )?(?:{_TIME_UNIT_PATTERN}|km/h|kph|mph|kWh|MWh|metres?|meters?|km|kilomet(?:re|er)s?|"
    r"cm|mm|m|miles?|feet|foot|ft|inch(?:es)?|yards?|kg|kilograms?|grams?|g|tonnes?|tons?|pounds?|lbs?|ounces?|"
    r"lit(?:re|er)s?|gallons?|acres?|hectares?|degrees?(?: (?:Celsius|Fahrenheit|C|F))?|°[CF]|"
    r"(?:kilo|mega|giga|tera)?watt(?:-hours?|s)?|GWh|TWh|kW|MW|GW|volts?|Hz|kHz|MHz|barrels?|"
    r"GHz|bytes?|KB|MB|GB|TB)(?![\w/])", re.IGNORECASE)  # longer units first: "km/h" before "km"


_NUMBER_WORD = (r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                r"fifty|hundred|thousand|a hundred|a thousand)\b")
# A range keeps its second number when a unit follows it: "two and eight degrees Celsius", "10-12 km".
_RANGE_AFTER = re.compile(rf"[ \u00a0]*(?:-|–|to|and)[ \u00a0]*{_NUMBER_WORD}", re.IGNORECASE)


def _has_unit(text: str, start: int, end: int, quote_end: int) -> bool:
    """Does a number of `text[start:end]` have its unit right after it, inside the span or beyond it?"""
    return any(_unit_end(text, at, quote_end) is not None for at in _number_ends(text, start, end))


def _number_ends(text: str, start: int, end: int) -> list[int]:
    """Where each number of `text[start:end]` ends (_number_end), in order."""
    return [_number_end(m) for m in _TOKEN.finditer(text, start, end) if _is_number(m.group(0))]


def _number_end(m: re.Match[str]) -> int:
    """Where the number of a number token ends: before the hyphen of "three-year", else at the token's end."""
    word = m.group(0)
    head = word.partition("-")[0]
    return m.start() + len(head) if head != word and head.lower() in _CARDINALS else m.end()


def with_unit(kind: str, text: str, span: tuple[int, int] | None, end: int) -> tuple[int, int] | None:
    """A number phrase widened over the unit that follows it inside the quote (ending at `end`)."""
    if kind != "number" or span is None:
        return span
    # from the span's last number: the span may already hold part of the unit ("92 km" of "92 km/h")
    numbers = _number_ends(text, *span)
    if not numbers:
        return span
    unit = _unit_end(text, numbers[-1], end)  # a ratio needs no widening: it is one candidate whole (_cuts)
    return (span[0], unit) if unit is not None and unit > span[1] else span


def _unit_end(text: str, at: int, end: int) -> int | None:
    """Where the unit after the number ending at `at` ends ("6.2| metres", "two| and eight degrees"), if any
    before `end`."""
    unit = _UNIT_AFTER.match(text, at, end)
    if unit is None:
        second = _RANGE_AFTER.match(text, at, end)
        unit = _UNIT_AFTER.match(text, second.end(), end) if second else None
    return unit.end() if unit else None


# "Who is Arkady Dubnov?", "What is the CSTO?": a question naming someone or something asks what it is, not
# for a name ("Who was Guy's rival?" names no one: a possessive is not a name here).
_WHO_NAME = re.compile(r"\s*(?i:(?:who|what) (?:is|was|are|were))\s+(?i:the\s+)?"
                       r"(?P<name>[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){0,4})\s*\??\s*$")
_CLOSES = frozenset({",", ".", ";", ":", ")", "(", "—", "–", "”", "“", "\"", "?", "!"})
_ARTICLES = frozenset({"a", "an", "the"})
_COPULA = frozenset({"is", "was", "are", "were"})
# "Dubnov, said …", "Mir, speaking at …": a verb after the comma opens no apposition ("associate" may be
# tagged VBP, so the base and present forms are not among these)
_NOT_A_DESCRIPTION = frozenset({"VBD", "VBZ", "VBG", "VBN", "MD", "PRP", "CC", "IN", "TO"})
_MAX_DESCRIPTION = 20  # tokens


def described_name(question: str) -> list[str] | None:
    """The words of the name a "Who is <Name>?" or "What is (the) <Name>?" question asks about, else None."""
    match = _WHO_NAME.match(question)
    return match.group("name").split() if match else None


def description(name: Sequence[str], text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where the quote says what the named person or thing is, else None. In order: the words an abbreviation
    stands for ("the Collective Security Treaty Organization (CSTO)"), the apposition after the name
    ("Arkady Dubnov, a Russian political scientist, said"; "Philip I, Landgrave of Hesse, convoked"), the
    predicate ("Warsz was a nobleman who …"), the apposition before it ("the editor of the magazine,
    Thomas Martin, arranged"), the title before it in its noun phrase ("Russian political scientist Arkady
    Dubnov"); each without its article."""
    toks = _tokens(text, start, end)
    words = [t.text for t in toks]
    lowered = [w.lower() for w in words]
    wanted = [w.lower() for w in name]
    ends = [k for k, w in enumerate(lowered) if w == wanted[-1]]
    if not ends:
        return None
    tags = tag(words)
    n = len(toks)

    def phrase(a: int, forward: bool) -> tuple[int, int] | None:
        """The noun phrase from word a up to a closing mark (forward) or from one back to a (not forward)."""
        article = bool(a < n and lowered[a] in _ARTICLES)
        if forward:
            a += article
            b = a
            # to a closing mark, or to a relative clause after the noun ("a nobleman | who owned …")
            while b < n and words[b] not in _CLOSES and b - a < _MAX_DESCRIPTION \
                    and not (b > a and tags[b].pos in {"WP", "WDT"}):
                b += 1
            listed = _name_list_end(toks, b) if b > a and _capital(toks[b - 1]) else None
            if listed is not None and listed - a <= _MAX_DESCRIPTION:  # "a bloc of Brazil, Russia and India"
                b = listed
            if b == a or (b < n and words[b] not in _CLOSES and tags[b].pos not in {"WP", "WDT"}) \
                    or tags[a].pos in _NOT_A_DESCRIPTION:
                return None
            nouns = [t.pos for t in tags[a:b] if t.pos.startswith("NN")]
            ok = article or any(p in {"NN", "NNS"} for p in nouns) or (b < n and words[b] == "," and nouns)
            return (toks[a].start, toks[b - 1].end) if ok else None
        b = a  # backward: words (b, a] after the previous closing mark or the quote's start
        while b > 0 and words[b - 1] not in _CLOSES and a - b < _MAX_DESCRIPTION:
            b -= 1
        if b > 0 and words[b - 1] not in _CLOSES:
            return None
        b += lowered[b] in _ARTICLES
        if b > a:
            return None
        ok = any(t.pos in {"NN", "NNS"} for t in tags[b : a + 1]) and tags[b].pos not in _NOT_A_DESCRIPTION
        return (toks[b].start, toks[a].end) if ok else None

    for k in ends:  # an abbreviation spelled out before it: "the Collective Security Treaty Organization (CSTO)"
        if len(wanted) == 1 and k > 1 and words[k - 1] == "(" and k + 1 < n and words[k + 1] == ")":
            a = k - 1
            while a > 0 and k - 1 - a < _MAX_DESCRIPTION and (_capital(toks[a - 1]) or (
                    lowered[a - 1] in _CONNECTORS - {"the", "'s", "’s"} and a > 1 and _capital(toks[a - 2]))):
                a -= 1
            if a < k - 1:
                return toks[a].start, toks[k - 2].end
    for k in ends:
        if k + 2 < n and words[k + 1] == ",":
            found = phrase(k + 2, True)
            if found:
                return found
    for k in ends:
        if k + 2 < n and lowered[k + 1] in _COPULA and lowered[k + 2] in _ARTICLES:
            found = phrase(k + 2, True)  # "Warsz was a 12th/13th-century nobleman who owned …"
            if found:
                return found
    for k in ends:
        first = k - len(wanted) + 1 if lowered[max(k - len(wanted) + 1, 0) : k + 1] == wanted else k  # the whole name
        if first >= 2 and words[first - 1] == ",":
            found = phrase(first - 2, False)
            if found:
                return found
        chunk, a = tags[first].chunk, first  # the title: the nouns before the name inside its noun phrase
        while chunk >= 0 and a > 0 and tags[a - 1].chunk == chunk:
            a -= 1
        while a < first and lowered[a] in _ARTICLES | {"'s", "’s"}:
            a += 1
        if a < first and any(t.pos in {"NN", "NNS"} for t in tags[a:first]):  # a role, not a place
            return toks[a].start, toks[first - 1].end
    return None


def _name_list_end(toks: list[_Token], b: int) -> int | None:
    """Where a list of names that goes on at the comma toks[b] ends, if it is one: "Brazil|, Russia, India and
    South Africa|" (a comma then a name is not enough: "Oslo, Norway, said" is no list)."""
    n, k = len(toks), b
    while k < n and toks[k].text == ",":
        k += 1
        final = k < n and toks[k].text.lower() == "and"  # "…, India, and South Africa"
        k += final
        run = k
        while run < n and _capital(toks[run]):
            run += 1
        if run == k:
            return None
        k = run
        if final:
            return k
        if k < n and toks[k].text.lower() == "and":
            run = k = k + 1
            while run < n and _capital(toks[run]):
                run += 1
            return run if run > k else None
    return None


def answer_phrase(question: str, text: str, start: int, end: int,
                  weights: Mapping[str, Sequence[float]]) -> tuple[int, int] | None:
    """(start, end) of the phrase of `text[start:end]` that answers, or None: a why/how question, or no
    span of the asked kind in the quote ("Who is <Name>?" asks for a description: `description`)."""
    name = described_name(question)
    if name is not None:
        return description(name, text, start, end)
    kind = asked_kind(question)
    if kind is None or kind not in weights:
        return None
    return best_phrase(kind, text, spans(question, text, start, end), weights[kind], end)


def best_phrase(kind: str, text: str, candidates: Sequence[Span], weights: Sequence[float], end: int
                ) -> tuple[int, int] | None:
    """The phrase marked among `candidates` of a quote of `text` ending at `end`: the best span, with the
    unit after a number (what answer_phrase marks, and what tune_phrase scores)."""
    return with_unit(kind, text, best_span(kind, candidates, weights), end)


def best_span(kind: str, candidates: Sequence[Span], weights: Sequence[float]) -> tuple[int, int] | None:
    """The highest-scored candidate (linear in PHRASE_FEATURES) of the kind required, if any."""
    found = _best(kind, candidates, weights)
    return (found[1].start, found[1].end) if found else None


def _best(kind: str, candidates: Sequence[Span], weights: Sequence[float]) -> tuple[float, Span] | None:
    """(score, span) of the highest-scored candidate of the kind required (the first on a tie), if any."""
    required = _REQUIRED.get(kind)
    column = PHRASE_FEATURES.index(required) if required else None
    best: tuple[float, Span] | None = None
    for span in candidates:
        if column is not None and not span.features[column]:
            continue
        score = sum(a * b for a, b in zip(span.features, weights, strict=True))
        if best is None or score > best[0]:
            best = (score, span)
    return best


def phrase_evidence(question: str, text: str, start: int, end: int,
                    weights: Mapping[str, Sequence[float]]) -> tuple[float, float]:
    """How well `text[start:end]` offers an answer phrase, as evidence that the sentence answers (see
    answer.rerank): (the best candidate's score, 0.0) or, when the asked kind has no candidate in it,
    (0.0, 1.0); (0.0, 0.0) for a question that asks for no phrase ("why", "how") or for a description
    ("Who is <Name>?": answer_phrase marks no name there, so a name the person model likes is no evidence)."""
    kind = asked_kind(question)
    if kind is None or kind not in weights or described_name(question) is not None:
        return 0.0, 0.0
    found = _best(kind, spans(question, text, start, end), weights[kind])
    return (found[0], 0.0) if found else (0.0, 1.0)


def with_phrases(question: str, citations: Sequence[Citation], texts: Mapping[str, str],
                 weights: Mapping[str, Sequence[float]], chosen: Sequence[int] | None = None) -> list[Citation]:
    """The citations with `answer_start`/`answer_end` set where a phrase answers (None elsewhere).

    `chosen`: where in each quote the sentence chosen to answer begins (quotes.chosen_starts). A quote widened
    over the sentence before for who "it" is reads the phrase from the chosen sentence on, and the sentence
    before only when that has none: "The club last won the trophy in 1993, when it beat Castleford 3-0" answers
    "Who did Harbour City beat in 1993?" with "Castleford", not with the manager the sentence before names;
    "Last week, it became the first country to reopen its embassy" has no name, so the sentence before gives it."""
    out = []
    for i, c in enumerate(citations):
        text = texts[c.source]
        first = chosen[i] if chosen is not None else c.start
        found = answer_phrase(question, text, first, c.end, weights) if first > c.start else None
        if found is None:
            found = answer_phrase(question, text, c.start, c.end, weights)
        out.append(replace(c, answer_start=found[0], answer_end=found[1]) if found else c)
    return out


def unstated(answer: Answer) -> str | None:
    """A note when a "how many / how much" answer's quotes hold no number (none is marked): the quote is the
    nearest the articles come, and the reader should know it may not say. Only numbers: a "when" is often
    answered by a condition ("when the oxygen runs low") and a "who" by a common noun ("the council"), so
    a quote without a date or a name may still answer."""
    if not answer.found or any(c.answer_start is not None for c in answer.citations):
        return None
    if asked_kind(answer.standalone_query or answer.question) != "number":
        return None
    return "no quote gives a number, which the question asks for: the articles may not say."
