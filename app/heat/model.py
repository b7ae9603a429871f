"""The heat model: its lexicon, weights and calibration, read from heat_model.json (rebuilt by
tools/build_heat_model.py), and the reasons that explain a score."""
from __future__ import annotations

import json
import operator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .features import COMMENT_FEATURES, THREAD_FEATURES
from .lexicon import Lexicon, load_lexicon

MODEL_PATH = Path(__file__).resolve().parent / "heat_model.json"

# Reasons: the signals that raised a score most, each with a fixed description (never text, never a login).
NOT_REASONS = frozenset({"length", "second_person", "politeness", "volume", "mild_frustration"})   # controls
REASON_MIN = 0.25   # contributions (in logit units) smaller than this are not named
MAX_REASONS = 5

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
# The details of the thread features that count something, filled in from the thread's state.
COUNTED_DETAILS = {
    "hot_comments": "{n_hot} hostile comments",
    "overall_heat": "hostility spread over {n} comments",
    "burst": "{burst} comments within one hour",
    "back_and_forth": "{abab} hostile replies traded between two accounts",
    "newcomers_piling_in": "{n_new} first-time or unaffiliated participants",
    "edits_deletions": "{edits} edits, {deletes} deletions",
    "negative_reactions": "{neg} negative reactions",
    "participants": "{n_authors} participants",
    "moderation_talk": "{civil} comments about rudeness, tone or moderation",
}


@dataclass(frozen=True)
class Model:
    """The model file, compiled: its lexicon, its weights (in the order of COMMENT_FEATURES and
    THREAD_FEATURES) and its calibration."""
    threshold: float       # default score from which a thread is heated
    comment_bias: float
    comment_w: tuple
    thread_bias: float
    thread_w: tuple
    lexicon: Lexicon
    hot_level: float       # comment heat from which a comment counts as hot
    calm_z: float          # sharpness of a typical comment: the zero of recent_heat

    def comment_logit(self, x: list[float]) -> float:
        """The log-odds of a comment's heat, from its signals (COMMENT_FEATURES)."""
        return self.comment_bias + sum(map(operator.mul, self.comment_w, x))

    def thread_logit(self, f: list[float]) -> float:
        """The log-odds of a thread's score, from its features (THREAD_FEATURES)."""
        return sum(map(operator.mul, self.thread_w, f), self.thread_bias)


def load(raw: dict) -> Model:
    """The model of a model dict (the model file's contents)."""
    cw = raw["comment_weights"]
    tw = raw["thread_weights"]
    return Model(
        threshold=float(raw["default_threshold"]),
        comment_bias=float(cw["bias"]),
        comment_w=tuple(float(cw.get(k, 0.0)) for k in COMMENT_FEATURES),
        thread_bias=float(tw["bias"]),
        thread_w=tuple(float(tw.get(k, 0.0)) for k in THREAD_FEATURES),
        lexicon=load_lexicon(raw),
        hot_level=float(raw.get("hot_level", 0.5)),
        calm_z=float(raw.get("recent_calm_z", -3.5)),
    )


@cache
def bundled() -> Model:
    """The model shipped with the package (read once)."""
    with open(MODEL_PATH, encoding="utf-8") as fh:
        return load(json.load(fh))


_override: Model | None = None


def current() -> Model:
    """The model in use: the bundled one, unless use_model() set another."""
    return _override if _override is not None else bundled()


def use_model(raw: dict | None) -> None:
    """Use another model dict (for the offline build script); None restores the bundled one."""
    global _override
    _override = None if raw is None else load(raw)


def is_heated(score: float, threshold: float | None = None) -> bool:
    """Whether a score is heated at the threshold (the model's by default)."""
    return score >= (current().threshold if threshold is None else threshold)


# the thread features that can be named (the hottest comment is named by its signals instead)
_THREAD_REASONS = tuple((k, name) for k, name in enumerate(THREAD_FEATURES) if k and name not in NOT_REASONS)


def reasons(st: dict, f: list[float], model: Model) -> list[dict]:
    """The signals that raised a thread's score most, heaviest first: {"signal", "weight", "detail"}, where
    weight is the contribution to the score's log-odds. A comment signal counts through the hottest comment
    (st["sig"] holds its largest contribution to a comment's logit); f are the thread's features."""
    found = []
    hottest_w = model.thread_w[0]
    for name, c in st["sig"].items():
        weight = hottest_w * c
        if weight >= REASON_MIN:
            found.append({"signal": name, "weight": round(weight, 3), "detail": DETAILS.get(name, name)})
    w = model.thread_w
    for k, name in _THREAD_REASONS:
        weight = w[k] * f[k]
        if weight >= REASON_MIN:
            found.append({"signal": name, "weight": round(weight, 3), "detail": _detail(name, st)})
    found.sort(key=lambda r: -r["weight"])
    return found[:MAX_REASONS]


def _detail(name: str, st: dict) -> str:
    counted = COUNTED_DETAILS.get(name)
    return counted.format_map(st) if counted else DETAILS.get(name, name)
