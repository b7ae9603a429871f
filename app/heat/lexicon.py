"""The lexicon of the heat estimate, compiled from the model file: words by category, the words that
address a person or the author, and phrase patterns that run only near their trigger words."""
from __future__ import annotations

import re
from collections.abc import Set
from dataclasses import dataclass

# Word categories, in the order of their indexes in Lexicon.word_cat; a word belongs to the first that lists it.
CATEGORIES = ("insult", "profanity", "disparaging", "civility_talk", "frustration", "politeness",
              "mild_frustration")
_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
_WINDOW = 90   # characters around a trigger word in which its patterns are tried
# A leading \b defeats the regex engine's literal-prefix search (20x slower);
# patterns are compiled without it and the word start is checked per match.
_LEADING_B = re.compile(r"(^|\|)\\b")


@dataclass(frozen=True)
class Lexicon:
    cats: dict             # category -> frozenset of tokens (bytes)
    lex: frozenset         # union of the category sets
    ins_prof: frozenset    # insults and profanity: the words that can be aimed at a person
    interesting: frozenset  # every token any rule looks at
    you: frozenset         # words that address a person ("you", "your", ...)
    self_words: frozenset  # first-person words ("i", "me", ...)
    word_cat: dict         # token -> its category's index in CATEGORIES
    phrases: Phrases       # groups: hostile, civility, frustration
    masks: Phrases         # technical senses of listed words ("garbage collection"), masked before counting
    foreign_re: re.Pattern | None   # profanity in other languages, on non-ASCII text
    window_before: int     # tokens before an insult in which "you" aims it at a person
    window_after: int      # ... and after it


def load_lexicon(raw: dict) -> Lexicon:
    """The lexicon of a model dict (the model file's "lexicon" and "target_window")."""
    lex = raw["lexicon"]
    cats = {}
    seen: set = set()
    for cat in CATEGORIES:
        ws = frozenset(w.encode() for w in lex.get(cat, ())) - seen
        seen |= ws
        cats[cat] = ws
    foreign = lex.get("other_language_profanity", [])
    you = frozenset(w.encode() for w in lex.get("second_person", ()))
    self_words = frozenset(w.encode() for w in lex.get("first_person", ()))
    phrases = compile_phrases(lex.get("hostile_phrases", []), lex.get("civility_phrases", []),
                              lex.get("frustration_phrases", []))
    masks = compile_phrases(lex.get("technical_masks", []))
    return Lexicon(
        cats=cats,
        lex=frozenset(seen),
        ins_prof=cats["insult"] | cats["profanity"],
        interesting=frozenset(seen) | you | self_words | phrases.tokens | masks.tokens,
        you=you,
        self_words=self_words,
        word_cat={w: CATEGORIES.index(c) for c, ws in cats.items() for w in ws},
        phrases=phrases,
        masks=masks,
        foreign_re=_foreign_re(foreign) if foreign else None,
        window_before=int(raw.get("target_window", [4, 2])[0]),
        window_after=int(raw.get("target_window", [4, 2])[1]),
    )


@dataclass(frozen=True)
class Phrases:
    """Patterns that run only when one of their triggers occurs.

    A trigger is a word (seen as a token) or a substring; a substring is
    only looked for when its longest word is among the tokens, and a
    substring without letters (such as "*") is always looked for."""
    patterns: tuple                 # compiled patterns
    by_needle: dict                 # gate token (bytes) -> ((needle str, pattern indexes), ...)
    always: tuple                   # ((needle str, pattern indexes), ...)
    tokens: frozenset               # all gate tokens
    groups: tuple                   # group index of each pattern
    n_groups: int                   # the number of groups

    def _scan(self, low: str, present: Set[bytes]) -> set[tuple[int, int]]:
        """{(pattern index, match start)} of word-start matches near the needles."""
        found: set[tuple[int, int]] = set()
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
                    for m in patterns[i].finditer(win):
                        st = lo + m.start()
                        if st == 0 or not low[st - 1].isalnum():
                            found.add((i, st))
                p = find(needle, p + ln)
        return found

    def needed(self, text: str, present: Set[bytes]) -> bool:
        """Whether any pattern may match: some gate token is present, or a substring looked for always is in
        the text."""
        return bool(present) or any(needle in text for needle, _ in self.always)

    def count(self, low: str, present: Set[bytes]) -> list[int]:
        """Matches per group (for the model's phrases: hostile, civility, frustration) in the lower-cased
        text, given the gate tokens present (self.tokens & the text's tokens).

        Each pattern is tried only in a window around the occurrences of its
        triggers, which keeps the cost independent of the text length."""
        n = [0] * self.n_groups
        for i, _ in self._scan(low, present):
            n[self.groups[i]] += 1
        return n

    def sub(self, low: str, tokset: Set[bytes]) -> str:
        """The lower-cased text with each match blanked out (a word-start match becomes a space)."""
        present = self.tokens.intersection(tokset)
        for i in sorted({i for i, _ in self._scan(low, present)}):
            low = self.patterns[i].sub(_blank_at_word_start, low)
        return low


def _blank_at_word_start(m: re.Match) -> str:
    s = m.start()
    if s == 0 or not m.string[s - 1].isalnum():
        return " "
    return m.group(0)



def compile_phrases(*lists: list) -> Phrases:
    """The phrase patterns of the lists ([triggers, pattern] pairs), each list a group."""
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
    return Phrases(tuple(pats), {k: tuple(v) for k, v in by_needle.items()}, tuple(always),
                   frozenset(by_needle), tuple(groups), len(lists))


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

