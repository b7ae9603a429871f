"""The features of the heat estimate, defined once for scoring (state.py, batch.py) and training
(tools/build_heat_model.py): the names of a comment's signals (counted by signals.py) and of a thread's
features, what a comment's logit becomes in the thread (its heat and sharpness), and a thread's feature
vector, read from its state (state.py).

The functions take the model (model.py) as an argument: training passes the model it is fitting."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Model

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
CIVILITY_TALK = COMMENT_FEATURES.index("civility_talk")
LENGTH = COMMENT_FEATURES.index("length")
MILD_FRUSTRATION = COMMENT_FEATURES.index("mild_frustration")

CALM_H = 0.1           # comment heat up to this is calm: it adds nothing to the thread's sum
RECENT_ALPHA = 0.3     # weight of the newest comment in the recency-weighted mean of comment sharpness
RECENT_RAMP = 8        # comments of history after the first before recent_heat counts in full
RECENT_LEN_CAP = math.log1p(60) / 5   # length signal of a 60-word comment: longer is not sharper
Z_CLIP = 6.0           # comment sharpness is clipped to +-Z_CLIP before averaging
MAX_Z = 8.0            # the hottest comment's logit is clipped to +-MAX_Z


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def excess(h: float) -> float:
    """A comment's heat above the calm level: what it adds to the thread's sum."""
    return h - CALM_H if h > CALM_H else 0.0


def sharpness(z: float, x: list[float], model: Model) -> float:
    """A comment's logit as recent_heat averages it: without the mild
    frustration words ("still", "again": common in calm threads) and with the
    length control capped at RECENT_LEN_CAP (a thread of long calm comments is
    not heated), clipped to +-Z_CLIP."""
    if x[MILD_FRUSTRATION]:
        z -= model.comment_w[MILD_FRUSTRATION] * x[MILD_FRUSTRATION]
    if x[LENGTH] > RECENT_LEN_CAP:
        z -= model.comment_w[LENGTH] * (x[LENGTH] - RECENT_LEN_CAP)
    return min(max(z, -Z_CLIP), Z_CLIP)


def thread_features(st: dict, model: Model) -> list[float]:
    """Feature vector (see THREAD_FEATURES) of a thread state."""
    mz = min(max(st["max_z"], -MAX_Z), MAX_Z)
    gate = sigmoid(mz)                  # dynamics count only as far as hostility was seen
    beyond_hottest = st["sum_h"] - excess(gate)
    return [
        mz,
        math.log1p(beyond_hottest) if beyond_hottest > 0.0 else 0.0,
        _log1p_above(st["n_hot"], 1),
        gate * _log1p_above(st["burst"], 1),
        gate * st["pace"],
        gate * _log1p_above(st["n"], 1),
        gate * _log1p_above(st["n_authors"], 2),
        gate * math.log1p(st["n_new"]),
        math.log1p(2.0 * st["abab_h"]) if st["abab_h"] else 0.0,
        gate * math.log1p(st["edits"] + st["deletes"]),
        math.log1p(st["neg"]),
        gate * math.log1p(st["civil"]),
        recent_heat(st, model.calm_z),
    ]


def _log1p_above(count: int, base: int) -> float:
    """log1p(count - base), 0.0 when count is base or less."""
    return math.log1p(count - base) if count > base else 0.0


def recent_heat(st: dict, calm_z: float) -> float:
    """recent_heat: the recency-weighted mean comment sharpness above a
    typical comment's, ramped in over the first RECENT_RAMP replies (zero for
    a thread of one comment, whose heat is its hottest comment)."""
    n = st["n"]
    ew = st["ew"]
    if n < 2 or ew <= 0.0:
        return 0.0
    ramp = (n - 1) / RECENT_RAMP if n <= RECENT_RAMP else 1.0
    return ramp * (st["ez"] / ew - calm_z)
