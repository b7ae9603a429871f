"""Heat estimate for discussion threads: a small, transparent, offline model.

Pure computation: no I/O beyond reading the bundled model file once, no
third-party imports (the ``heat`` command line must start fast).

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

Weights and word lists live in ``heat_model.json`` next to this file, rebuilt by
``tools/build_heat_model.py``; ``bench/heat_eval.py`` measures them.

One room per idea; each module may use the ones above it:

- ``clean``: the author's own prose (code, quotes, e-mail tails and URLs removed)
- ``lexicon``: the word lists and phrase patterns of the model file, compiled
- ``features``: the one definition of the features, shared by scoring and training
- ``model``: the model file (lexicon, weights, calibration) and the reasons for a score
- ``signals``: a comment's signals
- ``state``: a thread's state, updated per comment event (``observe``) and scored
- ``batch``: whole threads (``score_thread``), for the command line and training
- ``cli``: ``python -m app heat`` (or ``python -m app.heat.cli``)
"""
from __future__ import annotations

from typing import Any

from . import model
from .batch import score_thread
from .clean import MAX_BODY, clean_text
from .features import COMMENT_FEATURES, THREAD_FEATURES, thread_features
from .model import MODEL_PATH, is_heated, use_model
from .signals import MAX_TEXT, comment_signals
from .state import MAX_AUTHORS, MAX_HOT, MAX_SEEN, MAX_TIMES, HeatEvent, HeatResult, new_state, observe

__all__ = [  # noqa: F822 (DEFAULT_THRESHOLD comes from the module's __getattr__, read from the model file)
    "DEFAULT_THRESHOLD",
    "COMMENT_FEATURES",
    "MAX_AUTHORS",
    "MAX_BODY",
    "MAX_HOT",
    "MAX_SEEN",
    "MAX_TEXT",
    "MAX_TIMES",
    "MODEL_PATH",
    "THREAD_FEATURES",
    "HeatEvent",
    "HeatResult",
    "clean_text",
    "comment_signals",
    "is_heated",
    "new_state",
    "observe",
    "score_thread",
    "thread_features",
    "use_model",
]


def __getattr__(name: str) -> Any:   # DEFAULT_THRESHOLD is read from the model file when first asked for
    if name == "DEFAULT_THRESHOLD":
        return model.bundled().threshold
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
