"""Heat estimate for discussion threads: a small, transparent, offline model.

Pure computation: no I/O beyond reading the bundled model file once, no
third-party imports (the ``heat`` CLI must start fast).

How it works
------------
Each comment is reduced to a handful of countable *signals* (insults and
profanity aimed at a person, hostile phrases, talk about rudeness or
moderation, shouting, politeness, ...).  Text inside fenced or indented
code, inline code, ``>`` quotes and e-mail reply tails is ignored, and
software vocabulary ("kill the process", "garbage collection", "dumb
terminal", ...) is masked before the lexicon is consulted.  A comment's heat
is a logistic function of its signals.

The thread keeps a small JSON state updated in constant time per event:
the hottest comment, the sum of comment heat, the number of hot comments,
the busiest hour against the thread's own pace, participants piling in,
two accounts trading hostile replies (A-B-A-B), comments about rudeness or
moderation, edits, deletions and negative reactions, and the *recent heat*: a
recency-weighted mean of the comments' sharpness (their logit without the
mild-frustration words and with length capped; each new comment weighs
RECENT_ALPHA), relative to a typical comment's and ramped in over the first
RECENT_RAMP replies, so a thread whose latest comments stay sharp scores
higher than one with a single old outburst.  The thread score is a second logistic function of
those features.  Dynamics only count in proportion to the hostility seen
so far, so a busy but calm thread stays calm.

Every result names its top signals: ``{"signal", "weight", "detail"}`` where
weight is the signal's contribution to the score's log-odds and detail is a
fixed description (never comment text, never a login).

Weights and word lists live in ``app/data/heat_model.json``, rebuilt by
``tools/build_heat_model.py``; ``bench/heat_eval.py`` measures them.
"""
from __future__ import annotations

import json
import math
import operator
import re
from collections import _count_elements  # Counter's C helper: counts an iterable into a dict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import compress, repeat
from itertools import count as _naturals
from pathlib import Path
from typing import Any

__all__ = [  # noqa: F822 (DEFAULT_THRESHOLD comes from the module's __getattr__, read from the model file)
    "DEFAULT_THRESHOLD",
    "HeatEvent",
    "HeatResult",
    "new_state",
    "observe",
    "score_thread",
    "is_heated",
    "comment_signals",
]

MODEL_PATH = Path(__file__).resolve().parent / "data" / "heat_model.json"
STATE_VERSION = 1
MAX_AUTHORS = 50       # LRU cap of the per-author map
MAX_SEEN = 60          # LRU cap of per-comment memory (for edits/reactions)
MAX_TIMES = 30         # recent timestamps kept for the busiest-hour window
MAX_HOT = 5            # evidence comment ids kept
MAX_BODY = 20000       # characters of a comment body cleaned
MAX_TEXT = 5000        # characters of cleaned prose analysed
ABAB_CALM = 0.05       # pair heat below this is a calm exchange
CALM_H = 0.1           # comment heat up to this is calm: it adds nothing to the thread's sum
RECENT_ALPHA = 0.3     # weight of the newest comment in the recency-weighted mean of comment sharpness
RECENT_RAMP = 8        # comments of history after the first before recent_heat counts in full
RECENT_LEN_CAP = math.log1p(60) / 5   # length signal of a 60-word comment: longer is not sharper
Z_CLIP = 6.0           # comment sharpness is clipped to +-Z_CLIP before averaging
NEWCOMER_ASSOC = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE", "MANNEQUIN"})

# Comment-level signals, in the order of the comment weight vector.
COMMENT_FEATURES = (
    "insult_at_person",      # insult word with "you"/@mention nearby
    "profanity_at_person",   # profanity with "you"/@mention nearby
    "insult",                # insult word, nobody addressed
    "profanity",             # profanity, nobody addressed
    "disparaging",           # "garbage", "useless", "pathetic" about things
    "hostile_phrase",        # "shut up", "what is wrong with you", ...
    "civility_talk",         # "rude", "attitude", "locking this thread", ...
    "frustration",           # "seriously", "ridiculous", "waste of time", ...
    "shouting",              # long ALL CAPS runs
    "exclamations",          # !!! / ??? runs
    "second_person",         # density of "you"
    "politeness",            # thanks, please, sorry, apologies
    "length",                # log length: a control, never a reason
    "mild_frustration",      # "still", "again", "obviously", ...: weak alone, never a reason
)
# Thread-level features, in the order of the thread weight vector.
THREAD_FEATURES = (
    "hottest_comment",       # max comment logit
    "overall_heat",          # log1p(sum of comment heat above calm, beyond the hottest comment)
    "hot_comments",          # log1p(number of comments with heat >= 0.5, beyond the first)
    "burst",                 # heat-gated log1p(comments in the busiest hour - 1)
    "pace_change",           # heat-gated log(busiest-hour rate / thread pace)
    "volume",                # heat-gated log1p(comments after the first)
    "participants",          # heat-gated log1p(distinct authors - 2)
    "newcomers_piling_in",   # heat-gated log1p(first-time / NONE authors)
    "back_and_forth",        # log1p(2 x heat of A-B-A-B replies above a calm baseline)
    "edits_deletions",       # heat-gated log1p(edits + deletions)
    "negative_reactions",    # log1p(-1 and confused reactions)
    "moderation_talk",       # heat-gated log1p(comments about rudeness, tone, locking, banning)
    "recent_heat",           # recency-weighted mean comment sharpness above a typical comment's, ramped in with history
)
NOT_REASONS = frozenset({"length", "second_person", "politeness", "volume", "mild_frustration"})

DETAILS = {
    "insult_at_person": "insulting words addressed to a person",
    "profanity_at_person": "profanity addressed to a person",
    "insult": "insulting words",
    "profanity": "profanity",
    "disparaging": "disparaging words about the work",
    "hostile_phrase": "hostile phrases",
    "civility_talk": "talk of rudeness, tone or moderation",
    "frustration": "expressions of frustration",
    "shouting": "shouting (long all-caps runs)",
    "exclamations": "runs of exclamation or question marks",
    "hottest_comment": "one comment is strongly hostile",
    "overall_heat": "hostility spread over other comments too",
    "hot_comments": "several hostile comments",
    "burst": "many comments within one hour",
    "pace_change": "comments much faster than the thread's usual pace",
    "participants": "many participants",
    "newcomers_piling_in": "first-time or unaffiliated participants piling in",
    "back_and_forth": "two accounts trading hostile replies",
    "edits_deletions": "comments edited or deleted",
    "negative_reactions": "negative reactions",
    "moderation_talk": "comments about rudeness, tone or moderation",
    "recent_heat": "the latest comments are sharper than usual",
}


# --------------------------------------------------------------------------
# Public data types

@dataclass(frozen=True)
class HeatEvent:
    kind: str = "created"          # "created" | "edited" | "deleted"
    body: str | None = ""
    author: str | None = None
    author_association: str | None = None
    created_at: str | datetime | None = None
    comment_id: str | int | None = None
    reactions: dict | None = None


@dataclass(frozen=True)
class HeatResult:
    score: float
    reasons: list[dict] = field(default_factory=list)
    hot_comments: list = field(default_factory=list)


# --------------------------------------------------------------------------
# Model loading

@dataclass(frozen=True)
class _Phrases:
    """Patterns that run only when one of their triggers occurs.

    A trigger is a word (seen as a token) or a substring; a substring is
    only looked for when its longest word is among the tokens, and a
    substring without letters (such as "*") is always looked for."""
    patterns: tuple                 # compiled patterns
    by_needle: dict                 # gate token (bytes) -> ((needle str, pattern indexes), ...)
    always: tuple                   # ((needle str, pattern indexes), ...)
    tokens: frozenset               # all gate tokens
    groups: tuple = ()              # group index of each pattern

    def _scan(self, low: str, present) -> set:
        """{(pattern index, match start)} of word-start matches near the needles."""
        found: set = set()
        patterns = self.patterns
        by_needle = self.by_needle
        todo = [pair for t in present for pair in by_needle[t]]
        for needle, idxs in self.always:
            if needle in low:
                todo.append((needle, idxs))
        find = low.find
        for needle, idxs in todo:
            p = find(needle)
            if p < 0:
                continue
            ln = len(needle)
            while p >= 0:
                lo = p - _WINDOW if p > _WINDOW else 0
                win = low[lo: p + ln + _WINDOW]
                for i in idxs:
                    pat = patterns[i]
                    if pat.search(win) is None:     # the usual case: cheaper than an empty finditer
                        continue
                    for m in pat.finditer(win):
                        st = lo + m.start()
                        if st == 0 or not low[st - 1].isalnum():
                            found.add((i, st))
                p = find(needle, p + ln)
        return found

    def needs_always(self, text: str) -> bool:
        for needle, _ in self.always:  # noqa: SIM110 (a loop: cheaper than any() over a generator, per comment)
            if needle in text:
                return True
        return False

    def count(self, low: str, tokset) -> list[int]:
        """Matches per group (hostile, civility, frustration).

        Each pattern is tried only in a window around the occurrences of its
        triggers, which keeps the cost independent of the text length."""
        return self.count_present(low, self.tokens.intersection(tokset))

    def count_present(self, low: str, present) -> list[int]:
        """count() given the gate tokens present (tokens & the text's tokens)."""
        n = [0, 0, 0]
        if not present:
            for needle, _ in self.always:
                if needle in low:
                    break
            else:
                return n
        groups = self.groups
        for i, _ in self._scan(low, present):
            n[groups[i]] += 1
        return n

    def sub(self, low: str, tokset) -> str:
        present = self.tokens.intersection(tokset)
        for i in sorted({i for i, _ in self._scan(low, present)}):
            low = self.patterns[i].sub(_blank_at_word_start, low)
        return low


def _blank_at_word_start(m: re.Match) -> str:
    s = m.start()
    if s == 0 or not m.string[s - 1].isalnum():
        return " "
    return m.group(0)


_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_WINDOW = 90   # characters around a trigger word in which its patterns are tried


# A leading \b defeats the regex engine's literal-prefix search (20x slower);
# patterns are compiled without it and the word start is checked per match.
_LEADING_B = re.compile(r"(^|\|)\\b")


def _phrases(*lists: list) -> _Phrases:
    pats, groups = [], []
    needles: dict[tuple[bytes | None, str], list[int]] = {}
    pairs = [(g, p) for g, lst in enumerate(lists) for p in lst]
    for i, (g, (triggers, pattern)) in enumerate(pairs):
        groups.append(g)
        pats.append(re.compile(_LEADING_B.sub(r"\1", pattern)))
        for t in triggers.split():
            if _WORD_RE.fullmatch(t):
                key = (t.encode(), t)
            else:                       # a substring; "_" stands for a space
                sub = t.replace("_", " ")
                words = re.findall(r"[a-z]+", sub)
                key = (max(words, key=len).encode() if words else None, sub)
            needles.setdefault(key, []).append(i)
    by_needle: dict[bytes, list] = {}
    always = []
    for (gate, needle), idxs in needles.items():
        if gate is None:
            always.append((needle, tuple(idxs)))
        else:
            by_needle.setdefault(gate, []).append((needle, tuple(idxs)))
    return _Phrases(tuple(pats), {k: tuple(v) for k, v in by_needle.items()}, tuple(always),
                    frozenset(by_needle), tuple(groups))


_CATEGORIES = ("insult", "profanity", "disparaging", "civility_talk", "frustration", "politeness",
               "mild_frustration")


@dataclass(frozen=True)
class _Model:
    threshold: float
    comment_bias: float
    comment_w: tuple
    thread_bias: float
    thread_w: tuple
    cats: dict             # category -> frozenset of tokens (bytes)
    lex: frozenset         # union of the category sets
    ins_prof: frozenset    # insults and profanity: the words that can be aimed at a person
    interesting: frozenset  # every token any rule looks at
    you: frozenset
    self_words: frozenset
    word_cat: dict         # token -> category index in _CATEGORIES
    phrases: _Phrases      # groups: hostile, civility, frustration
    masks: _Phrases
    foreign_re: re.Pattern | None
    hot_level: float
    calm_z: float          # sharpness of a typical comment: the zero of recent_heat
    window_before: int
    window_after: int


def _load_model(raw: dict) -> _Model:
    lex = raw["lexicon"]
    cats = {}
    seen: set = set()
    for cat in _CATEGORIES:
        ws = frozenset(w.encode() for w in lex.get(cat, ())) - seen
        seen |= ws
        cats[cat] = ws
    cw = raw["comment_weights"]
    tw = raw["thread_weights"]
    foreign = lex.get("other_language_profanity", [])
    you = frozenset(w.encode() for w in lex.get("second_person", ()))
    self_words = frozenset(w.encode() for w in lex.get("first_person", ()))
    phrases = _phrases(lex.get("hostile_phrases", []), lex.get("civility_phrases", []),
                       lex.get("frustration_phrases", []))
    masks = _phrases(lex.get("technical_masks", []))
    return _Model(
        threshold=float(raw["default_threshold"]),
        comment_bias=float(cw["bias"]),
        comment_w=tuple(float(cw.get(k, 0.0)) for k in COMMENT_FEATURES),
        thread_bias=float(tw["bias"]),
        thread_w=tuple(float(tw.get(k, 0.0)) for k in THREAD_FEATURES),
        cats=cats,
        lex=frozenset(seen),
        ins_prof=cats["insult"] | cats["profanity"],
        interesting=frozenset(seen) | you | self_words | phrases.tokens | masks.tokens,
        you=you,
        self_words=self_words,
        word_cat={w: _CATEGORIES.index(c) for c, ws in cats.items() for w in ws},
        phrases=phrases,
        masks=masks,
        foreign_re=_foreign_re(foreign) if foreign else None,
        hot_level=float(raw.get("hot_level", 0.5)),
        calm_z=float(raw.get("recent_calm_z", -3.5)),
        window_before=int(raw.get("target_window", [4, 2])[0]),
        window_after=int(raw.get("target_window", [4, 2])[1]),
    )


def _foreign_re(pats: list) -> re.Pattern:
    """The alternation of the patterns, "(?:p1)|(?:p2)|...", compiled as
    "p1|p2|...": the same matches, and the regex engine runs one flat
    alternation of literals several times faster.  Patterns that are not
    whole regexes on their own, or set flags, keep the grouped form."""
    try:
        for p in pats:
            if p.startswith("(?") and not p.startswith(("(?:", "(?P", "(?=", "(?!", "(?<")):
                raise re.error("inline flags")
            re.compile(p)
        return re.compile("|".join(pats))
    except re.error:
        return re.compile("|".join(f"(?:{p})" for p in pats))


@cache
def _model() -> _Model:
    with open(MODEL_PATH, encoding="utf-8") as fh:
        return _load_model(json.load(fh))


_override: _Model | None = None


def _m() -> _Model:
    return _override if _override is not None else _model()


def use_model(raw: dict | None) -> None:
    """Use another model dict (for the offline build script); None restores the bundled one."""
    global _override
    _override = None if raw is None else _load_model(raw)


def __getattr__(name: str) -> Any:   # DEFAULT_THRESHOLD is read lazily from the model file
    if name == "DEFAULT_THRESHOLD":
        return _model().threshold
    raise AttributeError(name)


# --------------------------------------------------------------------------
# Text cleaning

_INDENTED_RE = re.compile(r"(?m)(?:(?<=\n\n)|\A)(?:(?: {4}|\t)[^\n]*(?:\n|\Z))+")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
# e-mail replies: everything from "On <date> ... wrote:" or an Outlook header on is the quoted tail
_OUTLOOK_RE = re.compile(r"(?m)^-{2,} ?Original Message|^From: [^\n]*\n(?:[^\n]*\n)?Sent: ")
_FOREIGN_GATE = re.compile("[\u00c0-\u024f\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_CAPS_RUN_RE = re.compile(r"[A-Z][A-Z']+[!?.,]*(?:\s+[A-Z][A-Z']*[!?.,]*){3,}")
_PUNCT_RE = re.compile(r"[!?]{3,}|!!")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"), ("&quot;", '"'), ("&#39;", "'"))
# bytes.translate table: ASCII letters (lower-cased), apostrophe and @ stay;
# everything else, non-ASCII bytes included, splits tokens
_TOKEN_TABLE = bytes(c if (97 <= c <= 122 or c in b"'@") else c + 32 if 65 <= c <= 90 else 32
                     for c in range(256))

# What clean_text() and comment_signals() remove or count is defined by these
# patterns; they run in the faster forms below, with the same results
# (tests/test_heat.py checks each form against its definition).
REFERENCE_PATTERNS = {
    "fence": r"(?ms)^ {0,3}(```+|~~~+)[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)",   # sub("\n")
    "inline_code": r"``[^`]+``|`[^`]+`",                 # sub(" ")
    "quote": r"(?m)^ {0,3}>.*$",                         # sub("")
    "html": r"(?s)<!--.*?-->|<(?:pre|code)\b.*?</(?:pre|code)>|</?[a-zA-Z][^>\n]{0,200}>",   # sub(" ")
    "wrote": r"\bOn\b[^\n]{0,200}?\bwrote\b",             # the text is cut at search()
    "punct_pair": r"[!?][!?]",                          # punct is counted once search() finds one
}
# The regex engine scans fast for a literal first character but tries a
# pattern at every position when it starts with ^, \b or an alternation: the
# fast forms start with a literal (a "\n" stands for ^ after the first line),
# and clean_text() deals with the first line and the leading \b itself.
# fence: the lazy ".*?" up to the closing fence (which starts a line) or the
# end steps a line at a time, not a character at a time; the fence's run of
# backticks or tildes is possessive (a shorter run never helps the match, and
# giving it back one character at a time is quadratic on a long run)
_FENCE_TAIL = r" {0,3}(`{3,}+|~{3,}+)[^\n]*\n(?:[^\n]*\n)*?(?:^ {0,3}\1[ \t]*$|[^\n]*\Z)"
_FENCE_FIRST_RE = re.compile(_FENCE_TAIL, re.M)             # fence, at the start of the text
_FENCE_NL_RE = re.compile("\n" + _FENCE_TAIL, re.M)        # "\n" + fence, after the first line
_QUOTE_NL_RE = re.compile(r"\n {0,3}>[^\n]*")            # "\n" + quote
_QUOTE_FIRST_RE = re.compile(r" {0,3}>[^\n]*")            # quote, on the first line
_INLINE_CODE_FAST_RE = re.compile(r"`(?:`[^`]+``|[^`]+`)")
_HTML_FAST_RE = re.compile(r"<(?:!--.*?-->|(?:pre|code)\b.*?</(?:pre|code)>|/?[a-zA-Z][^>\n]{0,200}>)", re.S)
_PRE_OPEN_RE = re.compile(r"<(?:pre|code)\b")
_PRE_CLOSE_RE = re.compile(r"</(?:pre|code)>")
_TAG_RE = re.compile(r"</?[a-zA-Z][^>\n]{0,200}>")
_CAPS_WORD_RE = re.compile(r"[A-Z']+")
_WROTE_NOB_RE = re.compile(r"On\b[^\n]{0,200}?\bwrote\b")  # wrote, less its leading \b
# bytes.translate table for the shouting pre-check: the characters a caps run
# can hold ([A-Z'!?.,], whitespace, any non-ASCII byte) become "a", others "."
_RUN_TABLE = bytes(97 if (c >= 128 or chr(c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZ'!?.," or chr(c).isspace()) else 46
                   for c in range(256))
_RUN_MIN = b"a" * 14      # a run counts as shouting from 14 characters other than spaces


def _fence_sub(text: str) -> str:
    """re.sub(REFERENCE_PATTERNS["fence"], "\n", text)."""
    m = _FENCE_FIRST_RE.match(text)
    if m is None:
        return _FENCE_NL_RE.sub("\n\n", text)
    return "\n" + _FENCE_NL_RE.sub("\n\n", text[m.end():])


def _html_sub(text: str) -> str:
    """re.sub(REFERENCE_PATTERNS["html"], " ", text), in linear time.

    The regex looks for the end of a comment (or of a <pre>/<code> block) from
    every `<!--` (or `<pre`) again, to the end of the text when there is none:
    quadratic on `"<!--" * 5000`. Here the next end is found once and reused."""
    if "<" not in text:
        return text
    pieces = []
    done = 0                    # text[:done] is handled
    comment_end = pre_end = -2  # next "-->" / "</pre>|</code>" after the last place looked (-1: none left)
    at = text.find("<")
    while at >= 0:
        end = -1
        if text.startswith("<!--", at):
            if comment_end != -1 and comment_end < at + 4:
                comment_end = text.find("-->", at + 4)
            if comment_end >= 0:
                end = comment_end + 3
        else:
            opening = _PRE_OPEN_RE.match(text, at)
            if opening is not None:
                if pre_end != -1 and pre_end < opening.end():
                    close = _PRE_CLOSE_RE.search(text, opening.end())
                    pre_end = -1 if close is None else close.start()
                if pre_end >= 0:
                    end = _PRE_CLOSE_RE.match(text, pre_end).end()
            if end < 0:
                tag = _TAG_RE.match(text, at)
                if tag is not None:
                    end = tag.end()
        if end < 0:
            at = text.find("<", at + 1)
            continue
        pieces.append(text[done:at])
        pieces.append(" ")
        done = end
        at = text.find("<", end)
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


def _caps_runs(text: str) -> list[str]:
    """_CAPS_RUN_RE.findall(text), in linear time.

    The regex tries a match at every capital of a long run of capitals, each
    try reading the rest of the run: quadratic on `"A" * 5000`. A match that
    starts inside a run of [A-Z'] ends where one from the run's first capital
    ends, so only that capital is tried, and a run that fails is skipped."""
    runs = []
    end = 0
    for word in _CAPS_WORD_RE.finditer(text):
        if word.start() < end:
            continue            # inside the previous match
        first = word.start() + len(word.group()) - len(word.group().lstrip("'"))
        if first == word.end():
            continue            # apostrophes only
        m = _CAPS_RUN_RE.match(text, first)
        if m is not None:
            runs.append(m.group())
            end = m.end()
    return runs


def _quote_sub(text: str) -> str:
    """re.sub(REFERENCE_PATTERNS["quote"], "", text)."""
    m = _QUOTE_FIRST_RE.match(text)
    if m is not None:
        text = text[m.end():]
    return _QUOTE_NL_RE.sub("\n", text) if "\n" in text else text


def _wrote_search(text: str) -> int:
    """re.search(REFERENCE_PATTERNS["wrote"], text).start(), or -1."""
    pos = 0
    while True:
        m = _WROTE_NOB_RE.search(text, pos)
        if m is None:
            return -1
        st = m.start()
        if st == 0:
            return 0
        c = text[st - 1]
        if not (c.isalnum() or c == "_"):
            return st
        pos = st + 1


def clean_text(body: str) -> str:
    """The author's own prose: code, quotes, quoted e-mail tails and URLs removed."""
    if not body:
        return ""
    text = body[:MAX_BODY]
    if "&" in text:
        for a, b in _ENTITIES:
            if a in text:
                text = text.replace(a, b)
    if not text.isascii():
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A one-character test (memchr) gates each longer substring test: most
    # bodies lack the rare character, and the outcome is the same.
    if ("`" in text and "```" in text) or ("~" in text and "~~~" in text):
        text = _fence_sub(text)
    if "<" in text:
        text = _html_sub(text)
    if "`" in text:
        text = _INLINE_CODE_FAST_RE.sub(" ", text)
    if ">" in text:
        text = _quote_sub(text)
    if "\n" in text and ("\n    " in text or ("\t" in text and "\n\t" in text) or text.startswith(("    ", "\t"))):
        # indented code blocks (CommonMark: they cannot interrupt a paragraph);
        # a body without line breaks is prose even if it starts with spaces
        text = _INDENTED_RE.sub("", text)
    if "O" in text and "wrote" in text:      # the pattern needs "On"
        i = _wrote_search(text)
        if i >= 0:
            text = text[:i]
    if ("F" in text and "From: " in text) or ("O" in text and "Original Message" in text):
        m = _OUTLOOK_RE.search(text)
        if m:
            text = text[: m.start()]
    if "R" in text:
        i = text.find("Reply to this email directly")
        if i >= 0:
            text = text[:i]
    if (":" in text and "://" in text) or "www." in text:
        text = _URL_RE.sub(" ", text)
    return text


# --------------------------------------------------------------------------
# Comment signals

_LOWER_BYTES = bytes(range(97, 123))
_UPPER_BYTES = bytes(range(65, 91))


def comment_signals(body: str | None, model: _Model | None = None) -> list[float]:
    """Feature vector (see COMMENT_FEATURES) of one comment body."""
    mdl = model or _m()
    text = clean_text(body or "")
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    if not text or text.isspace():
        return [0.0] * len(COMMENT_FEATURES)
    # shouting and punctuation, on the original case
    enc = text.encode("utf-8", "ignore")
    shout = 0
    n_up = len(enc) - len(enc.translate(None, _UPPER_BYTES))
    if n_up >= 12:
        # a run of 14 characters other than spaces needs as many bytes of its
        # kind in a row once spaces are dropped: most texts have none
        if enc.translate(_RUN_TABLE, b" ").find(_RUN_MIN) >= 0:
            for run in _caps_runs(text):
                if len(run) - run.count(" ") >= 14:
                    shout += 1
        if not shout and n_up >= 20:
            n_low = len(enc) - len(enc.translate(None, _LOWER_BYTES))
            if n_up > 2.3 * n_low:
                shout = 1
    # runs of ! and ?, once there is a pair (REFERENCE_PATTERNS["punct_pair"]; substring tests, gated by memchr)
    q = "?" in text
    if ("!" in text and ("!!" in text or (q and ("!?" in text or "?!" in text)))) or (q and "??" in text):
        punct = len(_PUNCT_RE.findall(text))
    else:
        punct = 0
    # tokens: lower-cased ASCII words (the table lower-cases), apostrophes and @mentions kept
    spaced = enc.translate(_TOKEN_TABLE)
    toks = spaced.split()
    # one pass over the tokens: every word any rule cares about (a small set)
    found = mdl.interesting.intersection(toks)
    low = None                      # the lower-cased text, only made when a rule needs it
    phrases = mdl.phrases
    present = phrases.tokens.intersection(found)
    if present or phrases.needs_always(text):
        low = text.lower()
        hostile, civil, frus = phrases.count_present(low, present)
    else:
        hostile = civil = frus = 0
    foreign = 0
    if mdl.foreign_re is not None and not text.isascii() and _FOREIGN_GATE.search(text):
        if low is None:
            low = text.lower()
        foreign = len(mdl.foreign_re.findall(low))
    hits = mdl.lex.intersection(found)
    tok_src = spaced                # the bytes toks were split from
    if hits and not mdl.masks.tokens.isdisjoint(hits):
        if low is None:
            low = text.lower()
        masked = mdl.masks.sub(low, found)
        if masked is not low:
            tok_src = masked.encode("utf-8", "ignore").translate(_TOKEN_TABLE)
            toks = tok_src.split()
            found = mdl.interesting.intersection(toks)
            hits = mdl.lex.intersection(found)
    you = mdl.you
    n_you = 0
    ys = you.intersection(found)
    if len(ys) + len(hits) < 3:
        count = toks.count
    else:   # several words to count: one pass over the tokens instead of one per word
        tally: dict = {}
        _count_elements(tally, filter(found.__contains__, toks))
        count = tally.__getitem__
    for w in ys:
        n_you += count(w)
    # (bytes.find, not "in": `bytes in bytes` first tries the operand as an int and raises inside)
    if spaced.find(b"@") >= 0:   # @mentions address people too (not e-mail addresses: no space before @)
        n_you += spaced.count(b" @") + spaced.startswith(b"@") - spaced.count(b" @ ") - spaced.endswith(b" @")
    # 0 insult, 1 profanity, 2 disparaging, 3 civility_talk, 4 frustration, 5 politeness, 6 mild frustration
    counts = [0, 0, 0, 0, 0, 0, 0]
    word_cat = mdl.word_cat
    for w in hits:
        counts[word_cat[w]] += count(w)
    ins_t = prof_t = ins = prof = 0
    if counts[0] or counts[1]:
        insults = mdl.cats["insult"]
        targeted = hits & mdl.ins_prof
        selfw = mdl.self_words
        you_pos: list[int] = []
        self_pos: list[int] = []
        at: list[tuple[int, bool]] = []
        # token positions by word (C-level list scans), each token classed as
        # "you" (or an @mention), else first person, else a targeted word
        words = ys | selfw.intersection(found) | targeted
        index = toks.index
        for w in words:
            if w in you or (w[:1] == b"@" and len(w) > 1):
                dest = you_pos
            elif w in selfw:
                dest = self_pos
            else:
                dest = None
                is_insult = w in insults
            i = -1
            for _ in range(count(w)):
                i = index(w, i + 1)
                if dest is None:
                    at.append((i, is_insult))
                else:
                    dest.append(i)
        if tok_src.find(b"@") >= 0:
            for i in compress(_naturals(), map(bytes.startswith, toks, repeat(b"@"))):
                t = toks[i]
                if len(t) > 1 and t not in words:
                    you_pos.append(i)
        wb, wa = mdl.window_before, mdl.window_after
        for i, is_insult in at:
            near_you = _near(you_pos, i, wb, wa)
            if near_you and not _closer(self_pos, i, near_you):
                if is_insult:
                    ins_t += 1
                else:
                    prof_t += 1
            elif is_insult:
                if not _near(self_pos, i, 3, 1):   # "I'm an idiot" is no insult to others
                    ins += 1
            else:
                prof += 1
    prof += foreign
    L = _LOG1P
    c2, c3, c4, c5, c6 = counts[2], counts[3] + civil, counts[4] + frus, counts[5], counts[6]
    n = len(toks)
    if ins_t | prof_t | ins | prof | c2 | hostile | c3 | c4 | shout | punct | c5 | c6 < 64:
        return [L[ins_t], L[prof_t], L[ins], L[prof], L[c2], L[hostile], L[c3], L[c4], L[shout],
                L[punct], n_you / (n + 5.0) * 10.0, L[c5], math.log1p(n) / 5.0, L[c6]]
    log1p = math.log1p
    return [log1p(ins_t), log1p(prof_t), log1p(ins), log1p(prof), log1p(c2), log1p(hostile),
            log1p(c3), log1p(c4), log1p(shout), log1p(punct), n_you / (n + 5.0) * 10.0,
            log1p(c5), log1p(n) / 5.0, log1p(c6)]


def _near(pos: list[int], i: int, before: int, after: int) -> int:
    """Distance+1 of the nearest position within the window around i, else 0."""
    best = 0
    for p in pos:
        d = i - p
        if -after <= d <= before:
            dd = abs(d) + 1
            if best == 0 or dd < best:
                best = dd
    return best


def _closer(pos: list[int], i: int, dist: int) -> bool:
    for p in pos:  # noqa: SIM110 (a loop: cheaper than any() over a generator, per comment)
        if abs(i - p) + 1 < dist and p < i:
            return True
    return False


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


# --------------------------------------------------------------------------
# Thread state

def new_state() -> dict:
    return {
        "v": STATE_VERSION,
        "n": 0,             # comments created
        "edits": 0,
        "deletes": 0,
        "max_z": -99.0,     # max comment logit
        "sum_h": 0.0,       # sum of comment heat above CALM_H
        "n_hot": 0,
        "hot": [],          # [[comment_id, heat], ...], hottest first
        "sig": {},          # lexical signal -> max weighted contribution
        "t0": None,         # first timestamp (epoch seconds)
        "times": [],        # recent timestamps
        "burst": 1,         # comments in the busiest hour
        "pace": 0.0,        # max log ratio of busiest-hour rate to thread pace
        "authors": {},      # login -> [comments, newcomer 0/1]; LRU, capped
        "n_authors": 0,
        "n_new": 0,
        "last": [],         # [[author, heat], [author, heat]] of the last two comments
        "abab": 0,          # A-B-A-B replies with some heat
        "abab_h": 0.0,      # their heat above the calm baseline
        "neg": 0,
        "seen": {},         # comment_id -> [heat, negative reactions]; LRU, capped
        "n_timed": 0,
        "civil": 0,         # comments talking about civility or moderation
        "ez": 0.0,          # recency-weighted sum of comment sharpness (weight RECENT_ALPHA per comment)
        "ew": 0.0,          # the same sum of the weights (the mean is ez / ew)
    }


def _to_epoch(v: Any) -> float | None:
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        dt = v
    elif isinstance(v, (int, float)):
        return float(v)
    else:
        s = str(v).strip()
        try:
            dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
        except ValueError:
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def _neg_reactions(r: Any) -> int:
    if not isinstance(r, dict):
        return 0
    total = 0
    for k in ("-1", "confused"):
        v = r.get(k)
        if isinstance(v, int) and v > 0:
            total += v
    return total


def _lru_put(d: dict, key: str, value: Any, cap: int) -> None:
    if key in d:
        del d[key]
    d[key] = value
    while len(d) > cap:
        del d[next(iter(d))]


def observe(state: dict | None, event: HeatEvent) -> tuple[dict, HeatResult]:
    """Fold one comment event into the thread state; constant work per event.

    The state passed in is not modified; the new state is returned."""
    st = _fresh(state)
    mdl = _m()
    _update(st, event, mdl)
    return st, _result(st, mdl)


def _update(st: dict, event: HeatEvent, mdl: _Model) -> None:
    _update_fields(st, mdl, event.kind, event.body, event.author, event.author_association,
                   event.created_at, event.comment_id, event.reactions)


def _update_fields(st: dict, mdl: _Model, kind: str | None, body: str | None, author: str | None,
                   association: str | None, created_at: Any, cid: Any, reactions: Any,
                   remember: bool = True) -> None:
    if kind != "created":
        kind = (kind or "created").lower()
    key = None if cid is None or not remember else str(cid)
    seen = st["seen"]
    neg = _neg_reactions(reactions) if reactions else 0
    if neg:
        prev = seen.get(key) if key is not None else None
        old_neg = prev[1] if prev else 0
        if neg > old_neg:
            st["neg"] += neg - old_neg
    if kind == "deleted":
        st["deletes"] += 1
        return

    x = comment_signals(body, mdl)
    z = mdl.comment_bias + sum(map(operator.mul, mdl.comment_w, x))
    h = _sigmoid(z)
    if h >= 0.3:   # remember which signals made a comment hot, for the reasons
        sig = st["sig"]
        for name, w, v in zip(COMMENT_FEATURES, mdl.comment_w, x):
            c = w * v
            if c > 0.05 and name not in NOT_REASONS and c > sig.get(name, 0.0):
                sig[name] = round(c, 4)

    if kind == "edited" and key is not None and key in seen:
        old_h = seen[key][0]
        st["edits"] += 1
        st["sum_h"] = max(0.0, st["sum_h"] + _excess(h) - _excess(old_h))
        if h >= mdl.hot_level > old_h:
            st["n_hot"] += 1
        _lru_put(seen, key, [round(h, 4), max(neg, seen[key][1])], MAX_SEEN)
        st["max_z"] = max(st["max_z"], z)
        _note_hot(st, cid, h, mdl)
        return
    if kind == "edited":
        st["edits"] += 1   # an edit of a comment we never saw: score its text as new

    st["n"] += 1
    zc = _sharpness(z, x, mdl)
    keep = 1.0 - RECENT_ALPHA
    st["ez"] = keep * st["ez"] + RECENT_ALPHA * zc
    st["ew"] = keep * st["ew"] + RECENT_ALPHA
    if x[6] > 0.0:
        st["civil"] += 1
    if h > CALM_H:
        st["sum_h"] += h - CALM_H
    if h >= mdl.hot_level:
        st["n_hot"] += 1
    if z > st["max_z"]:
        st["max_z"] = z
    if key is not None:
        _lru_put(seen, key, [h, neg], MAX_SEEN)
    if h >= 0.3 and cid is not None:
        _note_hot(st, cid, h, mdl)

    # timing against the thread's own pace
    t = _to_epoch(created_at) if created_at is not None else None
    if t is not None:
        times = st["times"]
        if st["t0"] is None or t < st["t0"]:
            st["t0"] = t
        times.append(t)
        if len(times) > MAX_TIMES:
            del times[0]
        in_hour = sum(1 for u in times if t - 3600 < u <= t)
        if in_hour > st["burst"]:
            st["burst"] = in_hour
        n_timed = st["n_timed"] + 1
        st["n_timed"] = n_timed
        # the thread's own pace before this hour, once it has an hour of history
        history = (t - 3600.0 - st["t0"]) / 3600.0
        if history >= 1.0 and in_hour > 1:
            expected = 1.0 + (n_timed - in_hour) / history
            if in_hour > expected:
                ratio = math.log(in_hour / expected)
                if ratio > st["pace"]:
                    st["pace"] = round(ratio, 4)

    # participants
    if author:
        authors = st["authors"]
        rec = authors.get(author)
        if rec is None:
            newcomer = 1 if (association or "").upper() in NEWCOMER_ASSOC else 0
            rec = [0, newcomer]
            st["n_authors"] += 1
            st["n_new"] += newcomer
        _lru_put(authors, author, [rec[0] + 1, rec[1]], MAX_AUTHORS)
        last = st["last"]
        # A-B-A-B: this author also wrote two comments back and someone else
        # in between; the exchange counts by its heat above a calm baseline
        if len(last) == 2 and last[0][0] == author and last[1][0] not in (author, None):
            pair = (h + last[1][1]) / 2 - ABAB_CALM
            if pair > 0:
                st["abab"] += 1
                st["abab_h"] += pair
        last.append([author, h])
        if len(last) > 2:
            del last[0]
    else:
        last = st["last"]
        last.append([None, h])
        if len(last) > 2:
            del last[0]


def _sharpness(z: float, x: list, mdl: _Model) -> float:
    """A comment's logit as recent_heat averages it: without the mild
    frustration words ("still", "again": common in calm threads) and with the
    length control capped at RECENT_LEN_CAP (a thread of long calm comments is
    not heated), clipped to +-Z_CLIP."""
    if x[13]:                       # mild_frustration
        z -= mdl.comment_w[13] * x[13]
    if x[12] > RECENT_LEN_CAP:      # length
        z -= mdl.comment_w[12] * (x[12] - RECENT_LEN_CAP)
    return -Z_CLIP if z < -Z_CLIP else Z_CLIP if z > Z_CLIP else z


def _fresh(state: dict | None) -> dict:
    """A working copy of a stored state (missing keys filled in); the
    caller's dict and its containers are never changed."""
    if not state or state.get("v") != STATE_VERSION:
        return new_state()
    st = new_state()
    st.update(state)
    # shallow copies suffice: the update replaces inner lists, never mutates them
    for k in ("hot", "times", "last"):
        st[k] = list(st[k]) if isinstance(st[k], list) else []
    for k in ("sig", "authors", "seen"):
        st[k] = dict(st[k]) if isinstance(st[k], dict) else {}
    return st


def _note_hot(st: dict, cid: Any, h: float, mdl: _Model) -> None:
    if cid is None or h < 0.3:
        return
    hot = [e for e in st["hot"] if e[0] != cid]
    hot.append([cid, round(h, 4)])
    hot.sort(key=lambda e: -e[1])
    st["hot"] = hot[:MAX_HOT]


_LOG1P = tuple(math.log1p(i) for i in range(64))
_exp = math.exp
_log1p = math.log1p


def _excess(h: float) -> float:
    return h - CALM_H if h > CALM_H else 0.0


def _l1p(n: int) -> float:
    return _LOG1P[n] if 0 <= n < 64 else math.log1p(n)


def thread_features(st: dict, model: _Model | None = None) -> list[float]:
    """Feature vector (see THREAD_FEATURES) of a thread state."""
    mz = st["max_z"]
    mz = -8.0 if mz < -8.0 else 8.0 if mz > 8.0 else mz
    gate = _sigmoid(mz)                 # dynamics count only as far as hostility was seen
    L = _l1p
    b = st["burst"]
    na = st["n_authors"]
    sh = st["sum_h"] - _excess(gate)
    return [
        mz,
        math.log1p(sh) if sh > 0.0 else 0.0,
        L(st["n_hot"] - 1) if st["n_hot"] > 1 else 0.0,
        gate * L(b - 1) if b > 1 else 0.0,
        gate * st["pace"],
        gate * L(st["n"] - 1) if st["n"] > 1 else 0.0,
        gate * L(na - 2) if na > 2 else 0.0,
        gate * L(st["n_new"]),
        math.log1p(2.0 * st["abab_h"]) if st["abab_h"] else 0.0,
        gate * L(st["edits"] + st["deletes"]),
        L(st["neg"]),
        gate * L(st["civil"]),
        _recent(st, (model or _m()).calm_z),
    ]


def _recent(st: dict, calm_z: float) -> float:
    """recent_heat: the recency-weighted mean comment sharpness above a
    typical comment's, ramped in over the first RECENT_RAMP replies (zero for
    a thread of one comment, whose heat is its hottest comment)."""
    n = st["n"]
    ew = st["ew"]
    if n < 2 or ew <= 0.0:
        return 0.0
    ramp = (n - 1) / RECENT_RAMP if n <= RECENT_RAMP else 1.0
    return ramp * (st["ez"] / ew - calm_z)


REASON_MIN = 0.25   # contributions (in logit units) smaller than this are not named


def _detail(name: str, st: dict) -> str:
    if name == "hot_comments":
        return f"{st['n_hot']} hostile comments"
    if name == "overall_heat":
        return f"hostility spread over {st['n']} comments"
    if name == "burst":
        return f"{st['burst']} comments within one hour"
    if name == "back_and_forth":
        return f"{st['abab']} hostile replies traded between two accounts"
    if name == "newcomers_piling_in":
        return f"{st['n_new']} first-time or unaffiliated participants"
    if name == "edits_deletions":
        return f"{st['edits']} edits, {st['deletes']} deletions"
    if name == "negative_reactions":
        return f"{st['neg']} negative reactions"
    if name == "participants":
        return f"{st['n_authors']} participants"
    if name == "moderation_talk":
        return f"{st['civil']} comments about rudeness, tone or moderation"
    return DETAILS.get(name, name)


def _result(st: dict, mdl: _Model) -> HeatResult:
    return _scored(mdl, st["n"], st["edits"], st["deletes"], st["max_z"], st["sum_h"], st["n_hot"], st["hot"],
                   st["sig"], st["burst"], st["pace"], st["n_authors"], st["n_new"], st["abab"], st["abab_h"],
                   st["neg"], st["civil"], st["ez"], st["ew"])


def _scored(mdl: _Model, n, edits, deletes, max_z, sum_h, n_hot, hot, sig, burst, pace, n_authors, n_new, abab,
            abab_h, neg, civil, ez, ew) -> HeatResult:
    """_result() of a state given by its fields."""
    if n == 0 and not deletes:
        return HeatResult(0.0, [], [])
    # thread_features(), inlined: the same operations in the same order
    mz = max_z
    mz = -8.0 if mz < -8.0 else 8.0 if mz > 8.0 else mz
    if mz >= 0:
        gate = 1.0 / (1.0 + _exp(-mz))
    else:
        e = _exp(mz)
        gate = e / (1.0 + e)
    L = _LOG1P
    sh = sum_h - (gate - CALM_H if gate > CALM_H else 0.0)
    f1 = _log1p(sh) if sh > 0.0 else 0.0
    v = n_hot - 1
    f2 = (L[v] if 0 <= v < 64 else _log1p(v)) if v > 0 else 0.0
    v = burst - 1
    f3 = gate * (L[v] if 0 <= v < 64 else _log1p(v)) if v > 0 else 0.0
    f4 = gate * pace
    v = n - 1
    f5 = gate * (L[v] if 0 <= v < 64 else _log1p(v)) if v > 0 else 0.0
    v = n_authors - 2
    f6 = gate * (L[v] if 0 <= v < 64 else _log1p(v)) if v > 0 else 0.0
    f7 = gate * (L[n_new] if 0 <= n_new < 64 else _log1p(n_new))
    f8 = _log1p(2.0 * abab_h) if abab_h else 0.0
    v = edits + deletes
    f9 = gate * (L[v] if 0 <= v < 64 else _log1p(v))
    f10 = L[neg] if 0 <= neg < 64 else _log1p(neg)
    f11 = gate * (L[civil] if 0 <= civil < 64 else _log1p(civil))
    f12 = 0.0                       # _recent()
    if not (n < 2 or ew <= 0.0):
        f12 = ((n - 1) / RECENT_RAMP if n <= RECENT_RAMP else 1.0) * (ez / ew - mdl.calm_z)
    w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12 = mdl.thread_w
    z = (mdl.thread_bias + w0 * mz + w1 * f1 + w2 * f2 + w3 * f3 + w4 * f4 + w5 * f5 + w6 * f6 + w7 * f7
         + w8 * f8 + w9 * f9 + w10 * f10 + w11 * f11 + w12 * f12)
    if z >= 0:
        score = 1.0 / (1.0 + _exp(-z))
    else:
        e = _exp(z)
        score = e / (1.0 + e)
    reasons: list[dict] = []
    if sig:
        for name, c in sig.items():
            c = w0 * c
            if c >= REASON_MIN:
                reasons.append({"signal": name, "weight": round(c, 3), "detail": DETAILS.get(name, name)})
    # the thread-level reasons (_REASON_FEATURES, in order); a zero feature
    # adds nothing (REASON_MIN > 0)
    found = None
    if f1 and w1 * f1 >= REASON_MIN:
        found = [(1, w1 * f1)]
    if f2 and w2 * f2 >= REASON_MIN:
        found = (found or []) + [(2, w2 * f2)]
    if f3 and w3 * f3 >= REASON_MIN:
        found = (found or []) + [(3, w3 * f3)]
    if f4 and w4 * f4 >= REASON_MIN:
        found = (found or []) + [(4, w4 * f4)]
    if f6 and w6 * f6 >= REASON_MIN:
        found = (found or []) + [(6, w6 * f6)]
    if f7 and w7 * f7 >= REASON_MIN:
        found = (found or []) + [(7, w7 * f7)]
    if f8 and w8 * f8 >= REASON_MIN:
        found = (found or []) + [(8, w8 * f8)]
    if f9 and w9 * f9 >= REASON_MIN:
        found = (found or []) + [(9, w9 * f9)]
    if f10 and w10 * f10 >= REASON_MIN:
        found = (found or []) + [(10, w10 * f10)]
    if f11 and w11 * f11 >= REASON_MIN:
        found = (found or []) + [(11, w11 * f11)]
    if f12 and w12 * f12 >= REASON_MIN:
        found = (found or []) + [(12, w12 * f12)]
    if found:
        st = {"n_hot": n_hot, "n": n, "burst": burst, "abab": abab, "n_new": n_new, "edits": edits,
              "deletes": deletes, "neg": neg, "n_authors": n_authors, "civil": civil}
        for k, c in found:
            name = THREAD_FEATURES[k]
            reasons.append({"signal": name, "weight": round(c, 3), "detail": _detail(name, st)})
    if len(reasons) > 1:
        reasons.sort(key=_by_weight)
        del reasons[5:]
    # HeatResult(...) without the frozen dataclass's __setattr__ detour: the same object
    res = _new_result(HeatResult)
    res.__dict__.update(score=round(score, 4), reasons=reasons, hot_comments=[e[0] for e in hot])
    return res


_new_result = object.__new__


_REASON_FEATURES = tuple(k for k, name in enumerate(THREAD_FEATURES) if k and name not in NOT_REASONS)
assert REASON_MIN > 0 and _REASON_FEATURES == (1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12)   # as _scored() has them


def _by_weight(r: dict) -> float:
    return -r["weight"]


def score_thread(comments: Iterable[dict | HeatEvent]) -> HeatResult:
    """Score a whole thread: observe() folded over its comments in order.

    Dicts use the CLI's comment keys (body, author, author_association,
    created_at; optionally reactions); the position is the comment id."""
    mdl = _m()
    # _update_fields() for dict comments, with the state (new_state()) held in
    # local variables: the same operations in the same order, the same floats
    cw = mdl.comment_w
    cb = mdl.comment_bias
    w12, w13 = cw[12], cw[13]
    hot_level = mdl.hot_level
    keep = 1.0 - RECENT_ALPHA
    n = edits = deletes = n_hot = n_authors = n_new = abab = neg = n_timed = civil = 0
    max_z = -99.0
    sum_h = pace = abab_h = ez = ew = 0.0
    t0 = None
    burst = 1
    hot: list = []
    sig: dict = {}
    times: list = []
    authors: dict = {}
    last: list = []
    seen: dict = {}
    for i, c in enumerate(comments):
        if type(c) is not dict and isinstance(c, HeatEvent):
            st = {"v": STATE_VERSION, "n": n, "edits": edits, "deletes": deletes, "max_z": max_z, "sum_h": sum_h,
                  "n_hot": n_hot, "hot": hot, "sig": sig, "t0": t0, "times": times, "burst": burst, "pace": pace,
                  "authors": authors, "n_authors": n_authors, "n_new": n_new, "last": last, "abab": abab,
                  "abab_h": abab_h, "neg": neg, "seen": seen, "n_timed": n_timed, "civil": civil, "ez": ez, "ew": ew}
            _update_fields(st, mdl, c.kind, c.body, c.author, c.author_association, c.created_at,
                           i if c.comment_id is None else c.comment_id, c.reactions)
            (n, edits, deletes, max_z, sum_h, n_hot, hot, sig, t0, times, burst, pace, authors, n_authors, n_new,
             last, abab, abab_h, neg, seen, n_timed, civil, ez, ew) = (
                st["n"], st["edits"], st["deletes"], st["max_z"], st["sum_h"], st["n_hot"], st["hot"], st["sig"],
                st["t0"], st["times"], st["burst"], st["pace"], st["authors"], st["n_authors"], st["n_new"],
                st["last"], st["abab"], st["abab_h"], st["neg"], st["seen"], st["n_timed"], st["civil"], st["ez"],
                st["ew"])
            continue
        get = c.get
        body = get("body")
        reactions = get("reactions")
        if isinstance(reactions, dict) and reactions:
            neg += _neg_reactions(reactions)
        x = comment_signals(body if isinstance(body, str) else "", mdl)
        z = cb + sum(map(operator.mul, cw, x))
        if z >= 0:
            h = 1.0 / (1.0 + _exp(-z))
        else:
            e = _exp(z)
            h = e / (1.0 + e)
        n += 1
        zc = z      # _sharpness()
        if x[13]:
            zc -= w13 * x[13]
        if x[12] > RECENT_LEN_CAP:
            zc -= w12 * (x[12] - RECENT_LEN_CAP)
        if zc < -Z_CLIP:
            zc = -Z_CLIP
        elif zc > Z_CLIP:
            zc = Z_CLIP
        ez = keep * ez + RECENT_ALPHA * zc
        ew = keep * ew + RECENT_ALPHA
        if x[6] > 0.0:
            civil += 1
        if h > CALM_H:
            sum_h += h - CALM_H
        if h >= hot_level:
            n_hot += 1
        if z > max_z:
            max_z = z
        if h >= 0.3:
            # remember which signals made a comment hot, for the reasons
            for name, w, v in zip(COMMENT_FEATURES, cw, x):
                cc = w * v
                if cc > 0.05 and name not in NOT_REASONS and cc > sig.get(name, 0.0):
                    sig[name] = round(cc, 4)
            # _note_hot()
            hot = [e for e in hot if e[0] != i]
            hot.append([i, round(h, 4)])
            hot.sort(key=_by_heat)
            hot = hot[:MAX_HOT]

        # timing against the thread's own pace
        created_at = get("created_at")
        if created_at is not None:
            t = _to_epoch(created_at)
            if t is not None:
                if t0 is None or t < t0:
                    t0 = t
                times.append(t)
                if len(times) > MAX_TIMES:
                    del times[0]
                lo = t - 3600
                in_hour = 0
                for u in times:
                    if lo < u <= t:
                        in_hour += 1
                if in_hour > burst:
                    burst = in_hour
                n_timed += 1
                # the thread's own pace before this hour, once it has an hour of history
                history = (t - 3600.0 - t0) / 3600.0
                if history >= 1.0 and in_hour > 1:
                    expected = 1.0 + (n_timed - in_hour) / history
                    if in_hour > expected:
                        ratio = math.log(in_hour / expected)
                        if ratio > pace:
                            pace = round(ratio, 4)

        # participants
        author = get("author")
        if isinstance(author, str) and author:
            rec = authors.get(author)
            if rec is None:
                association = get("author_association")
                if not isinstance(association, str):
                    association = None
                newcomer = 1 if (association or "").upper() in NEWCOMER_ASSOC else 0
                rec = [0, newcomer]
                n_authors += 1
                n_new += newcomer
            _lru_put(authors, author, [rec[0] + 1, rec[1]], MAX_AUTHORS)
            # A-B-A-B: this author also wrote two comments back and someone else
            # in between; the exchange counts by its heat above a calm baseline
            if len(last) == 2 and last[0][0] == author and last[1][0] not in (author, None):
                pair = (h + last[1][1]) / 2 - ABAB_CALM
                if pair > 0:
                    abab += 1
                    abab_h += pair
            last.append([author, h])
        else:
            last.append([None, h])
        if len(last) > 2:
            del last[0]
    return _scored(mdl, n, edits, deletes, max_z, sum_h, n_hot, hot, sig, burst, pace, n_authors, n_new, abab,
                   abab_h, neg, civil, ez, ew)


def _by_heat(e: list) -> float:
    return -e[1]


def is_heated(score: float, threshold: float | None = None) -> bool:
    return score >= (_m().threshold if threshold is None else threshold)
