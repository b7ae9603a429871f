"""A comment's signals: the counts behind COMMENT_FEATURES (insults and profanity aimed at a person, hostile
phrases, talk of rudeness or moderation, shouting, politeness, ...) in the author's own prose (clean.py),
looked up in the model's lexicon (lexicon.py)."""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Set
from math import log1p

from . import model
from .clean import clean_text
from .features import COMMENT_FEATURES
from .lexicon import CATEGORIES, Lexicon

MAX_TEXT = 5000        # characters of cleaned prose analysed
SHOUT_MIN = 14         # characters of an all-caps run, spaces not counted, from which it is shouting

PUNCT_PAIR = r"[!?][!?]"                                   # a text with such a pair ...
_PUNCT_RE = re.compile(r"[!?]{3,}|!!")                     # ... counts these runs
_CAPS_RUN_RE = re.compile(r"[A-Z][A-Z']+[!?.,]*(?:\s+[A-Z][A-Z']*[!?.,]*){3,}")
_CAPS_WORD_RE = re.compile(r"[A-Z']+")
_FOREIGN_GATE = re.compile("[\u00c0-\u024f\u0400-\u04ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
# bytes.translate table: ASCII letters (lower-cased), apostrophe and @ stay;
# everything else, non-ASCII bytes included, splits tokens
_TOKEN_TABLE = bytes(c if (97 <= c <= 122 or c in b"'@") else c + 32 if 65 <= c <= 90 else 32
                     for c in range(256))
# bytes.translate table for the shouting pre-check: the characters a caps run
# can hold ([A-Z'!?.,], whitespace, any non-ASCII byte) become "a", others "."
_RUN_TABLE = bytes(97 if (c >= 128 or chr(c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZ'!?.," or chr(c).isspace()) else 46
                   for c in range(256))
_RUN_MIN = b"a" * SHOUT_MIN
_LOWER_BYTES = bytes(range(97, 123))
_UPPER_BYTES = bytes(range(65, 91))
# where each word category (lexicon.CATEGORIES) is counted
INSULT, PROFANITY, DISPARAGING, CIVILITY, FRUSTRATION, POLITENESS, MILD = (CATEGORIES.index(c) for c in (
    "insult", "profanity", "disparaging", "civility_talk", "frustration", "politeness", "mild_frustration"))


def comment_signals(body: str | None, lexicon: Lexicon | None = None) -> list[float]:
    """Feature vector (see COMMENT_FEATURES) of one comment body, with the lexicon of the model in use by
    default."""
    lex = lexicon or model.current().lexicon
    text = clean_text(body or "")[:MAX_TEXT]
    if not text or text.isspace():
        return [0.0] * len(COMMENT_FEATURES)
    enc = text.encode("utf-8", "ignore")
    shout = _shouting(text, enc)
    punct = _exclamations(text)
    # tokens: lower-cased ASCII words (the table lower-cases), apostrophes and @mentions kept
    spaced = enc.translate(_TOKEN_TABLE)
    toks = spaced.split()
    found = lex.interesting.intersection(toks)    # every word any rule cares about (a small set)
    low = text.lower()
    phrases = lex.phrases
    present = phrases.tokens.intersection(found)
    hostile, civil, frus = phrases.count(low, present) if phrases.needed(text, present) else (0, 0, 0)
    foreign = 0
    if lex.foreign_re is not None and not text.isascii() and _FOREIGN_GATE.search(text):
        foreign = len(lex.foreign_re.findall(low))
    hits = lex.lex.intersection(found)
    if hits and not lex.masks.tokens.isdisjoint(hits):     # a listed word in a technical sense: masked
        masked = lex.masks.sub(low, found)
        if masked != low:
            toks = masked.encode("utf-8", "ignore").translate(_TOKEN_TABLE).split()
            found = lex.interesting.intersection(toks)
            hits = lex.lex.intersection(found)
    yous = lex.you.intersection(found)
    # the occurrences of a word: for a few words, a scan of the tokens each; for more, one pass for all
    count = toks.count if len(yous) + len(hits) < 3 else Counter(filter(found.__contains__, toks)).__getitem__
    mentions = "@" in text
    n_you = sum(map(count, yous)) + (_mentions(spaced) if mentions else 0)
    counts = [0] * len(CATEGORIES)
    word_cat = lex.word_cat
    for w in hits:
        counts[word_cat[w]] += count(w)
    if counts[INSULT] or counts[PROFANITY]:
        ins_t, prof_t, ins, prof = _aimed(toks, found, hits, yous, count, lex, mentions)
    else:
        ins_t = prof_t = ins = prof = 0
    n = len(toks)
    return [log1p(ins_t), log1p(prof_t), log1p(ins), log1p(prof + foreign), log1p(counts[DISPARAGING]),
            log1p(hostile), log1p(counts[CIVILITY] + civil), log1p(counts[FRUSTRATION] + frus), log1p(shout),
            log1p(punct), n_you / (n + 5.0) * 10.0, log1p(counts[POLITENESS]), log1p(n) / 5.0,
            log1p(counts[MILD])]


def _shouting(text: str, enc: bytes) -> int:
    """Runs of SHOUT_MIN all-caps characters or more; failing those, 1 for a text mostly in capitals."""
    n_up = len(enc) - len(enc.translate(None, _UPPER_BYTES))
    if n_up < 12:
        return 0
    shout = 0
    # a run of SHOUT_MIN characters other than spaces needs as many bytes of its
    # kind in a row once spaces are dropped: most texts have none
    if enc.translate(_RUN_TABLE, b" ").find(_RUN_MIN) >= 0:
        for run in _caps_runs(text):
            if len(run) - run.count(" ") >= SHOUT_MIN:
                shout += 1
    if not shout and n_up >= 20:
        n_low = len(enc) - len(enc.translate(None, _LOWER_BYTES))
        if n_up > 2.3 * n_low:
            shout = 1
    return shout


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


def _exclamations(text: str) -> int:
    """Runs of ! and ?, counted once the text holds a pair of them (PUNCT_PAIR, here as substring tests; the
    one-character tests are much faster than the two-character ones, and most texts fail them)."""
    bang, question = "!" in text, "?" in text
    pair = ((bang and "!!" in text) or (question and "??" in text)
            or (bang and question and ("!?" in text or "?!" in text)))
    return len(_PUNCT_RE.findall(text)) if pair else 0


def _mentions(spaced: bytes) -> int:
    """@mentions in the tokens joined by spaces, which address people as "you" does (not e-mail addresses:
    no space before their @)."""
    return spaced.count(b" @") + spaced.startswith(b"@") - spaced.count(b" @ ") - spaced.endswith(b" @")


def _aimed(toks: list[bytes], found: Set[bytes], hits: Set[bytes], yous: Set[bytes], count: Callable[[bytes], int],
           lex: Lexicon, mentions: bool) -> tuple[int, int, int, int]:
    """(insults aimed at a person, profanity aimed at a person, other insults, other profanity): a word is
    aimed when "you" or an @mention (only looked for when `mentions`) is within the lexicon's window around it
    and no first-person word is closer; "I'm an idiot" is no insult to others."""
    you_pos: list[int] = []
    self_pos: list[int] = []
    at: list[tuple[int, bool]] = []     # (position, is an insult) of the insults and profanity
    you, self_words, insults = lex.you, lex.self_words, lex.cats["insult"]
    words = yous | self_words.intersection(found) | (hits & lex.ins_prof)
    for w in words:
        if w in you or (w[:1] == b"@" and len(w) > 1):
            dest = you_pos
        elif w in self_words:
            dest = self_pos
        else:
            dest = None
            is_insult = w in insults
        i = -1
        for _ in range(count(w)):
            i = toks.index(w, i + 1)
            if dest is None:
                at.append((i, is_insult))
            else:
                dest.append(i)
    if mentions:
        you_pos += [i for i, t in enumerate(toks) if t[:1] == b"@" and len(t) > 1 and t not in words]
    ins_t = prof_t = ins = prof = 0
    for i, is_insult in at:
        near_you = _near(you_pos, i, lex.window_before, lex.window_after)
        if near_you and not _closer(self_pos, i, near_you):
            if is_insult:
                ins_t += 1
            else:
                prof_t += 1
        elif is_insult:
            if not _near(self_pos, i, 3, 1):
                ins += 1
        else:
            prof += 1
    return ins_t, prof_t, ins, prof


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
    """A position before i closer to it than dist - 1."""
    return any(p < i and abs(i - p) + 1 < dist for p in pos)
