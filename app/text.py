"""Pure text helpers for what the bot posts: templates, hidden markers, neutralised quotes, code names."""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from importlib import resources

ZWSP = "\u200b"

# Placeholders of each bundled template (templates/NAME.md). Values are inserted
# verbatim, so the caller prepares user text first: neutralise() for inline
# text, quote_block() for quoted comments/reasons/errors, code_span() for a
# command line; logins are written without "@" so nobody is notified.
# `$marker` is marker(KIND, KEY). Values marked "block" are Markdown blocks (may be "").
TEMPLATE_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "reminder": frozenset({"marker", "contact"}),
    # duration_text: "for 24 hours" or ""; note: block, e.g. "Note: …", or ""
    "lock": frozenset({"marker", "reason_text", "duration_text", "note"}),
    "help": frozenset({"marker", "contact"}),
    "usage": frozenset({"marker", "message", "usage"}),  # usage: plain command line
    "report_refused": frozenset({"marker", "contact"}),
    "command_failed": frozenset({"marker", "command", "message"}),  # message: why GitHub refused, Markdown
    "commands_ignored": frozenset({"marker", "limit", "ignored"}),  # ignored: "`/coc-x` (line N), …"
    "help_desk": frozenset({"marker", "commands"}),  # commands: block, one usage line each
    "desk_result": frozenset({"marker", "command", "actor", "result"}),  # actor: code_span; result: neutralised
    "resolve_note": frozenset({"marker", "outcome", "actor", "note"}),  # note: block ("\n\nNote: …") or ""
    "block_ended": frozenset({"marker", "login", "org"}),  # login: code_span
    "incident": frozenset(  # reason, accounts, history, evidence: blocks
        {"marker", "thread_url", "repository", "kind", "reporter", "reason",
         "accounts", "history", "evidence"}
    ),
    "incident_update": frozenset({"marker", "kind", "summary", "evidence"}),
    "nudge": frozenset({"marker", "age"}),
    "action_record": frozenset({"marker", "actor", "command", "result"}),  # command: code_span
    "config_error": frozenset({"marker", "repository", "path", "sha", "error"}),  # error: block
}


def bundled_template(name: str) -> str:
    """The text of templates/NAME.md shipped with the package."""
    if name not in TEMPLATE_PLACEHOLDERS:
        raise KeyError(f"no bundled template {name!r}")
    return resources.files("templates").joinpath(f"{name}.md").read_text(encoding="utf-8")


def render(template_text: str, **values: object) -> str:
    """Substitute `$name`/`${name}` with values verbatim; unknown placeholders stay as they are."""
    return string.Template(template_text).safe_substitute(
        {key: str(value) for key, value in values.items()}
    )


# Hidden markers: `<!-- conduct-bot:KIND KEY -->` lets the bot find its own comments.
# User text can never forge one: neutralise() breaks every `<!--` it quotes.
_KIND = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def marker(kind: str, key: str = "") -> str:
    """The hidden marker for KIND (and an optional KEY without spaces, `--` or `>`)."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"bad marker kind {kind!r}")
    if key and (re.search(r"\s", key) or "--" in key or ">" in key):
        raise ValueError(f"bad marker key {key!r}")
    return f"<!-- conduct-bot:{kind} {key} -->" if key else f"<!-- conduct-bot:{kind} -->"


def find_marker(body: str | None, kind: str) -> str | None:
    """The KEY of the first KIND marker in BODY ("" for a marker without key), else None."""
    match = re.search(
        rf"<!-- conduct-bot:{re.escape(kind)}(?: ([^\s>]+))? -->", body or ""
    )
    if match is None:
        return None
    return match.group(1) or ""


# GitHub autolinks `@login`, `@org/team`, `#12`, `GH-12`, `owner/repo#12`; a
# zero-width space after the sigil keeps the text readable and inert.
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_ISSUE_REF = re.compile(r"#(?=\d)")
_GH_REF = re.compile(r"(?i)\b(gh-)(?=\d)")


def neutralise(text: str) -> str:
    """User text that notifies no one and references nothing: mentions, issue refs, HTML comments broken."""
    text = _MENTION.sub("@" + ZWSP, text)
    text = _ISSUE_REF.sub("#" + ZWSP, text)
    text = _GH_REF.sub(r"\1" + ZWSP, text)
    return text.replace("<!--", "<" + ZWSP + "!--")


def _longest_run(text: str, char: str) -> int:
    return max((len(run) for run in re.findall(re.escape(char) + "+", text)), default=0)


def quote_block(text: str, indent: str = "") -> str:
    """Neutralised TEXT in a fenced code block no backtick run inside can close."""
    body = neutralise(text.replace("\r\n", "\n").replace("\r", "\n")).rstrip("\n")
    fence = "`" * max(3, _longest_run(body, "`") + 1)
    lines = [fence, *body.split("\n"), fence]
    return "\n".join(indent + line if line else line for line in lines)


def code_span(text: str) -> str:
    """TEXT (one line) as an inline code span that no backtick inside can close."""
    text = " ".join(text.split("\n"))
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


# Code names for incidents (SPEC.md: titles never name a person). Calm words only.
ADJECTIVES = (
    "agate", "alpine", "amber", "amethyst", "apricot", "aquamarine", "ashen", "autumn",
    "azure", "balmy", "basalt", "beryl", "birchen", "brass", "breezy", "bright",
    "bronze", "calm", "caramel", "celadon", "cerulean", "chalk", "cinnabar", "cinnamon",
    "citrine", "clay", "clear", "cloudy", "coastal", "cobalt", "cool", "copper",
    "coral", "crimson", "crisp", "crystal", "damask", "dawn", "dewy", "dusk",
    "early", "eastern", "emerald", "fawn", "flaxen", "flint", "foggy", "fresh",
    "frosty", "gentle", "gilded", "glacial", "glass", "golden", "granite", "hazy",
    "heather", "honey", "indigo", "iron", "ivory", "jade", "jasper", "lapis",
    "lilac", "linen", "lunar", "malachite", "marble", "mauve", "meadow", "mellow",
    "mild", "misty", "moonlit", "mossy", "nimbus", "northern", "oaken", "ochre",
    "olive", "onyx", "opal", "paper", "pastel", "patient", "pearl", "periwinkle",
    "pewter", "placid", "plum", "polar", "porcelain", "quartz", "quiet", "rainy",
    "river", "ruby", "russet", "saffron", "sandy", "sapphire", "satin", "scarlet",
    "serene", "shale", "silken", "silver", "slate", "snowy", "solar", "southern",
    "starry", "steady", "still", "stone", "summer", "sunlit", "sunny", "tawny",
    "tidal", "topaz", "tranquil", "turquoise", "twilight", "umber", "velvet", "vermilion",
    "vernal", "walnut", "western", "windy", "wintry", "woollen", "zephyr", "zircon",
)
NOUNS = (
    "acacia", "albatross", "alder", "alpaca", "anemone", "antelope", "aspen", "aster",
    "avocet", "axolotl", "badger", "bamboo", "baobab", "basil", "bison", "bluebell",
    "bunting", "butterfly", "camellia", "caribou", "cedar", "chamois", "cheetah", "chestnut",
    "chipmunk", "clover", "cormorant", "crane", "crocus", "curlew", "cyclamen", "cypress",
    "dahlia", "daisy", "dipper", "dolphin", "dove", "dragonfly", "dunlin", "edelweiss",
    "egret", "eider", "elk", "falcon", "fennel", "fern", "finch", "firefly",
    "flamingo", "foxglove", "fulmar", "gannet", "gazelle", "gecko", "gentian", "giraffe",
    "godwit", "goldcrest", "grebe", "hare", "hawthorn", "hedgehog", "heron", "holly",
    "ibex", "ibis", "iris", "jasmine", "juniper", "kestrel", "kingfisher", "kittiwake",
    "koala", "lapwing", "larch", "lark", "laurel", "linden", "linnet", "lotus",
    "lupin", "lynx", "magnolia", "mallard", "manatee", "marigold", "marmot", "marten",
    "meerkat", "merlin", "moose", "moth", "myrtle", "narwhal", "nautilus", "newt",
    "nightingale", "nuthatch", "ocelot", "okapi", "orchid", "oriole", "osprey", "otter",
    "owl", "panda", "partridge", "pelican", "peony", "petrel", "pika", "pipit",
    "plover", "poppy", "porpoise", "primrose", "puffin", "quail", "redwood", "reindeer",
    "robin", "rowan", "salamander", "salmon", "sandpiper", "seahorse", "sequoia", "siskin",
    "skylark", "snowdrop", "sorrel", "sparrow", "spruce", "starling", "stork", "sunflower",
    "swan", "swift", "tanager", "tapir", "tern", "thistle", "thrush", "thyme",
    "tortoise", "toucan", "trout", "tulip", "turtle", "wagtail", "wallaby", "warbler",
    "willow", "wombat", "wren", "yak", "yarrow", "zebra", "zinnia",
)


def code_name(seed: int | str | None = None) -> str:
    """A calm two-word code name, e.g. "amber-falcon": random, or the same for the same SEED."""
    if seed is None:
        return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}"
    digest = int.from_bytes(hashlib.sha256(str(seed).encode()).digest()[:8], "big")
    adjective, noun = divmod(digest % (len(ADJECTIVES) * len(NOUNS)), len(NOUNS))
    return f"{ADJECTIVES[adjective]}-{NOUNS[noun]}"
