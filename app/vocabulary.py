"""The product's vocabulary, spelled once: incident kinds, statuses, outcomes and their labels; the words
commands take (lock reasons, interaction limits, hiding classifiers) and GitHub's values for them."""
from __future__ import annotations

KINDS = ("report", "heated", "action")            # most serious first

STATUS_NAMES = ("new", "triaged", "resolved")   # in lifecycle order
STATUSES = tuple(f"status:{s}" for s in STATUS_NAMES)

# The PSF's consequence ladder (/coc-resolve).
OUTCOMES = ("no-action", "reminder", "warning", "final-warning", "temporary-ban", "permanent-ban")

LABELS = {
    "coc:report": ("b60205", "Code of Conduct report"),
    "coc:heated": ("d93f0b", "Heated thread noticed by conduct-bot"),
    "coc:action": ("5319e7", "Moderation action taken"),
    "coc:config": ("bfd4f2", "Invalid conduct-bot configuration"),
    "status:new": ("fbca04", "Not yet triaged by the working group"),
    "status:triaged": ("0e8a16", "Triaged by the working group"),
    "status:resolved": ("c2e0c6", "Resolved"),
    **{f"outcome:{o}": ("ededed", f"Outcome: {o}") for o in OUTCOMES},
}


def kind_of(labels) -> str | None:
    names = {l if isinstance(l, str) else l.get("name") for l in labels}
    for kind in KINDS:
        if f"coc:{kind}" in names:
            return kind
    return None


# GitHub's REST lock reasons (`lock_reason`), keyed by the word typed.
LOCK_REASONS = {
    "too-heated": "too heated",
    "off-topic": "off-topic",
    "resolved": "resolved",
    "spam": "spam",
}
# GitHub's REST interaction-limit values (`limit`).
LIMITS = {
    "existing-users": "existing_users",
    "contributors-only": "contributors_only",
    "collaborators-only": "collaborators_only",
}
# GitHub's GraphQL ReportedContentClassifiers for minimizeComment.
CLASSIFIERS = {
    "abuse": "ABUSE",
    "off-topic": "OFF_TOPIC",
    "spam": "SPAM",
    "outdated": "OUTDATED",
    "resolved": "RESOLVED",
    "duplicate": "DUPLICATE",
}
# How a limit reads in a sentence ("limited interactions to …").
LIMIT_TEXT = {
    "existing_users": "existing users",
    "contributors_only": "prior contributors",
    "collaborators_only": "collaborators",
}
