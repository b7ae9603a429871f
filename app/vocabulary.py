"""The product's vocabulary, spelled once: incident kinds, statuses, outcomes and their labels."""
from __future__ import annotations

KINDS = ("report", "heated", "action")            # most serious first

STATUS_NAMES = ("new", "triaged", "resolved")   # in lifecycle order
STATUSES = tuple(f"status:{s}" for s in STATUS_NAMES)

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
