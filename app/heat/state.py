"""A thread's heat: its small JSON state, updated in constant time per comment event (`observe`), and the
result read from it (score, reasons, hot comments)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import model
from .features import (
    CALM_H,
    CIVILITY_TALK,
    COMMENT_FEATURES,
    RECENT_ALPHA,
    excess,
    sharpness,
    sigmoid,
    thread_features,
)
from .model import NOT_REASONS, Model, reasons
from .signals import comment_signals

STATE_VERSION = 1
MAX_AUTHORS = 50       # LRU cap of the per-author map
MAX_SEEN = 60          # LRU cap of per-comment memory (for edits/reactions)
MAX_TIMES = 30         # recent timestamps kept for the busiest-hour window
MAX_HOT = 5            # evidence comment ids kept
NOTABLE_H = 0.3        # comment heat from which the comment is evidence and its signals can be reasons
SIGNAL_MIN = 0.05      # a signal's contribution to a notable comment's logit kept for the reasons from this
ABAB_CALM = 0.05       # pair heat below this is a calm exchange
NEWCOMER_ASSOC = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE", "MANNEQUIN"})


@dataclass(frozen=True)
class HeatEvent:
    """One comment event of a thread (an opening post counts as a comment)."""
    kind: str = "created"          # "created" | "edited" | "deleted"
    body: str | None = ""
    author: str | None = None
    author_association: str | None = None
    created_at: str | datetime | None = None
    comment_id: str | int | None = None
    reactions: dict | None = None


@dataclass(frozen=True)
class HeatResult:
    """A thread's score (0 to 1), the signals that raised it most, and the ids of its hottest comments."""
    score: float
    reasons: list[dict] = field(default_factory=list)
    hot_comments: list = field(default_factory=list)


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


def observe(state: dict | None, event: HeatEvent) -> tuple[dict, HeatResult]:
    """Fold one comment event into the thread state; constant work per event.

    The state passed in is not modified; the new state is returned."""
    st = _fresh(state)
    mdl = model.current()
    update(st, event, mdl)
    return st, result(st, mdl)


def update(st: dict, event: HeatEvent, mdl: Model, remember: bool = True) -> None:
    """Fold one comment event into the state, in place. With `remember`, the comment's heat and reactions
    are kept under its id (the last MAX_SEEN of them), so that a later edit or reaction replaces them."""
    kind = (event.kind or "created").lower()
    cid = event.comment_id
    key = None if cid is None or not remember else str(cid)
    seen = st["seen"]
    neg = _neg_reactions(event.reactions) if event.reactions else 0
    if neg:
        prev = seen.get(key) if key is not None else None
        old_neg = prev[1] if prev else 0
        if neg > old_neg:
            st["neg"] += neg - old_neg
    if kind == "deleted":
        st["deletes"] += 1
        return

    x = comment_signals(event.body, mdl.lexicon)
    z = mdl.comment_logit(x)
    h = sigmoid(z)
    if h >= NOTABLE_H:   # remember which signals made a comment hot, for the reasons
        sig = st["sig"]
        for name, w, v in zip(COMMENT_FEATURES, mdl.comment_w, x):
            c = w * v
            if c > SIGNAL_MIN and name not in NOT_REASONS and c > sig.get(name, 0.0):
                sig[name] = round(c, 4)

    if kind == "edited" and key is not None and key in seen:
        old_h = seen[key][0]
        st["edits"] += 1
        st["sum_h"] = max(0.0, st["sum_h"] + excess(h) - excess(old_h))
        if h >= mdl.hot_level > old_h:
            st["n_hot"] += 1
        _lru_put(seen, key, [round(h, 4), max(neg, seen[key][1])], MAX_SEEN)
        st["max_z"] = max(st["max_z"], z)
        _note_hot(st, cid, h)
        return
    if kind == "edited":
        st["edits"] += 1   # an edit of a comment we never saw: score its text as new

    st["n"] += 1
    keep = 1.0 - RECENT_ALPHA
    st["ez"] = keep * st["ez"] + RECENT_ALPHA * sharpness(z, x, mdl)
    st["ew"] = keep * st["ew"] + RECENT_ALPHA
    if x[CIVILITY_TALK] > 0.0:
        st["civil"] += 1
    if h > CALM_H:
        st["sum_h"] += h - CALM_H
    if h >= mdl.hot_level:
        st["n_hot"] += 1
    if z > st["max_z"]:
        st["max_z"] = z
    if key is not None:
        _lru_put(seen, key, [h, neg], MAX_SEEN)
    _note_hot(st, cid, h)
    if event.created_at is not None:
        t = _to_epoch(event.created_at)
        if t is not None:
            _note_time(st, t)
    _note_author(st, event.author, event.author_association, h)


def _note_time(st: dict, t: float) -> None:
    """The busiest hour so far, and how much faster it ran than the thread's own pace."""
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


def _note_author(st: dict, author: str | None, association: str | None, h: float) -> None:
    """Participants, newcomers among them, and two accounts trading hostile replies."""
    last = st["last"]
    if author:
        authors = st["authors"]
        rec = authors.get(author)
        if rec is None:
            newcomer = 1 if (association or "").upper() in NEWCOMER_ASSOC else 0
            rec = [0, newcomer]
            st["n_authors"] += 1
            st["n_new"] += newcomer
        _lru_put(authors, author, [rec[0] + 1, rec[1]], MAX_AUTHORS)
        # A-B-A-B: this author also wrote two comments back and someone else
        # in between; the exchange counts by its heat above a calm baseline
        if len(last) == 2 and last[0][0] == author and last[1][0] not in (author, None):
            pair = (h + last[1][1]) / 2 - ABAB_CALM
            if pair > 0:
                st["abab"] += 1
                st["abab_h"] += pair
    last.append([author or None, h])
    if len(last) > 2:
        del last[0]


def _note_hot(st: dict, cid: Any, h: float) -> None:
    """Keep the comment among the MAX_HOT hottest (the evidence of an alert)."""
    if cid is None or h < NOTABLE_H:
        return
    hot = [e for e in st["hot"] if e[0] != cid]
    hot.append([cid, round(h, 4)])
    hot.sort(key=lambda e: -e[1])
    st["hot"] = hot[:MAX_HOT]


def result(st: dict, mdl: Model) -> HeatResult:
    """The thread's score, its reasons and its hot comments, read from its state."""
    if st["n"] == 0 and not st["deletes"]:
        return HeatResult(0.0, [], [])
    f = thread_features(st, mdl)
    score = sigmoid(mdl.thread_logit(f))
    return HeatResult(round(score, 4), reasons(st, f, mdl), [e[0] for e in st["hot"]])


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
