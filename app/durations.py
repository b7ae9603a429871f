"""DURATION grammar (SPEC.md, Commands): parsing, wording, and GitHub's interaction-limit expiries."""

from __future__ import annotations

import re

from app.text import code_span

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = 365 * 86400
_DURATION = re.compile(r"([0-9]+)([a-z])")
_HINT = "a whole number and a unit s, m, h, d or w, for example 30m, 24h, 7d or 2w"

# GitHub's interaction-limit expiries (REST `interaction-limits`, field `expiry`).
# SPEC.md: "24h/1d, 3d, 1w, 1m, 6m" (`m` means months here, as GitHub defines it).
LIMIT_EXPIRIES = {
    "24h": "one_day",
    "1d": "one_day",
    "3d": "three_days",
    "1w": "one_week",
    "7d": "one_week",
    "1m": "one_month",
    "6m": "six_months",
}
LIMIT_EXPIRY_TEXT = {
    "one_day": "24 hours",
    "three_days": "3 days",
    "one_week": "1 week",
    "one_month": "1 month",
    "six_months": "6 months",
}
LIMIT_CHOICES = "24h/1d, 3d, 1w, 1m, 6m"


def _shown(text: str) -> str:
    """The user's text, shortened and inert (a code span), for an error message."""
    text = text.strip()
    return code_span(text if len(text) <= 20 else text[:19] + "…")


def looks_like_duration(text: str) -> bool:
    """True for a token meant as a DURATION (starts with a digit), valid or not."""
    return text[:1].isdigit()


def parse_duration(text: str) -> int:
    """Seconds in a DURATION such as `30m`, `24h`, `7d`, `2w`; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip().lower())
    if not match or match.group(2) not in UNITS:
        raise ValueError(f"{_shown(text)} is not a duration: use {_HINT}")
    number = int(match.group(1))
    if number < 1:
        raise ValueError(f"{_shown(text)} is not a duration: it must be at least 1")
    seconds = number * UNITS[match.group(2)]
    if seconds > MAX_DURATION:
        raise ValueError(f"{_shown(text)} is too long: the longest duration is 365d")
    return seconds


def format_duration(seconds: int) -> str:
    """Plain words for a number of seconds: '24 hours', '3 days', '1 week', '90 minutes'."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds and seconds % UNITS["w"] == 0:
        number, unit = seconds // UNITS["w"], "week"
    elif seconds >= 2 * UNITS["d"] and seconds % UNITS["d"] == 0:
        number, unit = seconds // UNITS["d"], "day"  # one day reads better as 24 hours
    elif seconds and seconds % UNITS["h"] == 0:
        number, unit = seconds // UNITS["h"], "hour"
    elif seconds and seconds % UNITS["m"] == 0:
        number, unit = seconds // UNITS["m"], "minute"
    else:
        number, unit = seconds, "second"
    return f"{number} {unit}{'' if number == 1 else 's'}"


def parse_limit_expiry(text: str) -> str:
    """GitHub's `expiry` value for a /coc-limit DURATION; ValueError naming the allowed ones."""
    expiry = LIMIT_EXPIRIES.get(text.strip().lower())
    if expiry is None:
        raise ValueError(
            f"{_shown(text)} is not an interaction-limit duration: use {LIMIT_CHOICES}"
        )
    return expiry
