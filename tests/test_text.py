"""Text helpers and bundled templates, tested with plain strings."""

import re

import pytest

from app.commands import INCIDENT_COMMANDS, THREAD_COMMANDS, USAGE, parse_commands
from app.text import (
    ADJECTIVES,
    NOUNS,
    TEMPLATE_PLACEHOLDERS,
    ZWSP,
    bundled_template,
    code_name,
    code_span,
    find_marker,
    marker,
    neutralise,
    quote_block,
    render,
)

# --- render ---------------------------------------------------------------


def test_render_substitutes_and_keeps_unknown():
    assert render("Hi $who, ${what}s. $missing $$", who="you", what="thank") == "Hi you, thanks. $missing $"


def test_render_values_are_verbatim_and_not_substituted_again():
    assert render("$a $b", a="$b", b=3) == "$b 3"


# --- markers ----------------------------------------------------------------


def test_marker_round_trip():
    assert marker("reminder") == "<!-- conduct-bot:reminder -->"
    assert marker("incident", "python/cpython#12") == "<!-- conduct-bot:incident python/cpython#12 -->"
    body = "text\n" + marker("incident", "o/r#3") + "\nmore " + marker("lock")
    assert find_marker(body, "incident") == "o/r#3"
    assert find_marker(body, "lock") == ""
    assert find_marker(body, "reminder") is None
    assert find_marker(None, "lock") is None


def test_marker_kinds_do_not_overlap():
    body = marker("incident_update", "k")
    assert find_marker(body, "incident") is None
    assert find_marker(body, "incident_update") == "k"


@pytest.mark.parametrize("kind, key", [("Bad Kind", ""), ("", ""), ("x", "a b"), ("x", "a--b"), ("x", "a>b")])
def test_marker_rejects_unsafe_parts(kind, key):
    with pytest.raises(ValueError):
        marker(kind, key)


def test_quoted_fake_marker_is_never_ours():
    fake = "<!-- conduct-bot:incident o/r#1 -->"
    assert find_marker(neutralise(fake), "incident") is None
    assert find_marker(quote_block(fake), "incident") is None


# --- neutralise ----------------------------------------------------------------

RAW_REFERENCE = re.compile(r"@[A-Za-z0-9]|#\d|(?i:\bgh-\d)|<!--")


@pytest.mark.parametrize(
    "text",
    [
        "@octocat said hi",
        "cc @python/steering-council",
        "(@a,@b)",
        "see #123 and python/cpython#45",
        "GH-99 and gh-100",
        "<!-- hidden --> text",
        "mail me: me@example.com",
        "commit owner/repo@abc123",
        "already @\u200bsafe #\u200b1",
        "**@bold** _#7_ [@x](#12)",
    ],
)
def test_neutralise_leaves_no_raw_reference(text):
    out = neutralise(text)
    assert not RAW_REFERENCE.search(out), out
    assert out.replace(ZWSP, "") == text.replace(ZWSP, "")  # still readable


def test_neutralise_keeps_ordinary_text_and_is_idempotent():
    text = "Plain text, a # heading-ish, C# and 100% sure. https://example.com/a"
    assert neutralise(text) == text
    once = neutralise("@a #1 GH-2 <!--")
    assert neutralise(once) == once
    assert once == f"@{ZWSP}a #{ZWSP}1 GH-{ZWSP}2 <{ZWSP}!--"


# --- quote_block and code_span ---------------------------------------------------------


def _fence_content(block):
    lines = block.split("\n")
    fence = lines[0]
    assert re.fullmatch(r"`{3,}", fence) and lines[-1] == fence
    return fence, "\n".join(lines[1:-1])


@pytest.mark.parametrize(
    "text",
    ["plain", "```\n/coc-lock\n```", "a ```` b", "`x`", "line\r\nline\rline", "", "~~~\nx\n~~~", "@me #1 <!-- x -->"],
)
def test_quote_block_cannot_be_escaped(text):
    block = quote_block(text)
    fence, content = _fence_content(block)
    for run in re.findall(r"`+", content):
        assert len(run) < len(fence)
    assert not RAW_REFERENCE.search(content)
    assert parse_commands(block, INCIDENT_COMMANDS | THREAD_COMMANDS) == []


def test_quote_block_content_is_readable():
    assert quote_block("hello\n\nworld\n") == "```\nhello\n\nworld\n```"
    assert quote_block("a\nb", indent="  ") == "  ```\n  a\n  b\n  ```"


@pytest.mark.parametrize("text, span", [("x", "`x`"), ("a`b", "``a`b``"), ("`a", "`` `a ``"), ("a\nb", "`a b`")])
def test_code_span(text, span):
    assert code_span(text) == span


# --- code names ----------------------------------------------------------------------


def test_code_name_word_lists():
    assert len(set(ADJECTIVES)) == len(ADJECTIVES) >= 120
    assert len(set(NOUNS)) == len(NOUNS) >= 120
    for word in ADJECTIVES + NOUNS:
        assert re.fullmatch(r"[a-z]+", word)


def test_code_name_random_and_seeded():
    name = code_name()
    adjective, noun = name.split("-")
    assert adjective in ADJECTIVES and noun in NOUNS
    assert code_name(42) == code_name(42) == code_name("42")
    assert len({code_name(seed) for seed in range(200)}) > 150


@pytest.mark.parametrize("login", ["octocat", "amber", "falcon", "guido", "troll-42"])
def test_code_name_never_contains_a_login(login):
    for seed in (login, f"python/cpython#{login}", None):
        name = code_name(seed)
        assert login not in name.split("-") or login in ADJECTIVES + NOUNS
        adjective, noun = name.split("-")
        assert adjective in ADJECTIVES and noun in NOUNS  # only words from the lists


# --- templates -----------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\$(?:(\w+)|\{(\w+)\})")


@pytest.mark.parametrize("name", sorted(TEMPLATE_PLACEHOLDERS))
def test_template_placeholders_match_the_table(name):
    text = bundled_template(name)
    used = {a or b for a, b in PLACEHOLDER.findall(text)}
    assert used == TEMPLATE_PLACEHOLDERS[name]
    lines = text.strip().split("\n")
    assert "$marker" in (lines[0], lines[-1])


@pytest.mark.parametrize("name", sorted(TEMPLATE_PLACEHOLDERS))
def test_template_renders_with_everything_filled(name):
    values = {key: f"value-of-{key}" for key in TEMPLATE_PLACEHOLDERS[name]}
    values["marker"] = marker(name, "o/r#1")
    out = render(bundled_template(name), **values)
    assert "$" not in out
    assert find_marker(out, name) == "o/r#1"
    # What the bot posts never runs as a command, and mentions nobody.
    assert parse_commands(out, THREAD_COMMANDS | INCIDENT_COMMANDS) == []
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", re.sub(r"`[^`]*`", "", out))


def test_public_templates_link_the_code_of_conduct():
    for name in ("reminder", "lock", "help"):
        assert "https://policies.python.org/python.org/code-of-conduct/" in bundled_template(name)
    reminder = bundled_template("reminder")
    assert "/coc-report" in reminder and "$contact" in reminder


def test_help_lists_every_thread_command():
    text = bundled_template("help").replace("\\|", "|")
    for name in THREAD_COMMANDS:
        assert f"`{USAGE[name]}`" in text


def test_incident_footer_lists_every_working_group_command():
    text = bundled_template("incident")
    for name in INCIDENT_COMMANDS:
        assert f"`{USAGE[name]}`" in text


def test_report_refused_echoes_nothing_but_contact():
    out = render(bundled_template("report_refused"), marker=marker("report_refused"), contact="wg@example.org")
    assert "wg@example.org" in out
    assert "permission" not in out.lower() and "reason" not in out.lower()


def test_unknown_template():
    with pytest.raises(KeyError):
        bundled_template("nope")
