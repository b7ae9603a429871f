"""The pure command parser and the DURATION grammar, tested with plain strings."""

import pytest

from app.commands import (
    INCIDENT_COMMANDS,
    THREAD_COMMANDS,
    USAGE,
    Command,
    CommandError,
    command_lines,
    has_command_candidate,
    parse_commands,
    parse_comment_url,
)
from app.durations import (
    format_duration,
    parse_duration,
    parse_limit_expiry,
)

ALL = THREAD_COMMANDS | INCIDENT_COMMANDS


def one(text, allowed=ALL):
    results = parse_commands(text, allowed)
    assert len(results) == 1, results
    return results[0]


def ok(text, allowed=ALL):
    result = one(text, allowed)
    assert isinstance(result, Command), result
    return result


def bad(text, allowed=ALL):
    result = one(text, allowed)
    assert isinstance(result, CommandError), result
    assert "\n" not in result.message
    return result


# --- durations ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [("30s", 30), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("2w", 1209600),
     ("1H", 3600), (" 3d ", 259200), ("365d", 365 * 86400), ("52w", 52 * 604800)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "h", "5", "5x", "0h", "00d", "-1d", "+1d", "1.5h", "1 h", "1d2h", "366d", "53w", "1y", "١d"]
)
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert "duration" in str(info.value)


@pytest.mark.parametrize(
    "seconds, words",
    [(1, "1 second"), (45, "45 seconds"), (60, "1 minute"), (5400, "90 minutes"),
     (3600, "1 hour"), (86400, "24 hours"), (129600, "36 hours"), (172800, "2 days"),
     (259200, "3 days"), (604800, "1 week"), (1209600, "2 weeks"), (0, "0 seconds")],
)
def test_format_duration(seconds, words):
    assert format_duration(seconds) == words


def test_format_duration_rejects_negative():
    with pytest.raises(ValueError):
        format_duration(-1)


@pytest.mark.parametrize(
    "text, expiry",
    [("24h", "one_day"), ("1d", "one_day"), ("3d", "three_days"), ("1w", "one_week"),
     ("7d", "one_week"), ("1m", "one_month"), ("6m", "six_months"), ("1D", "one_day")],
)
def test_parse_limit_expiry(text, expiry):
    assert parse_limit_expiry(text) == expiry


@pytest.mark.parametrize("text", ["2d", "12h", "2w", "3m", "1y", "forever", "", "one_day"])
def test_parse_limit_expiry_rejects_naming_allowed_values(text):
    with pytest.raises(ValueError) as info:
        parse_limit_expiry(text)
    assert "24h/1d, 3d, 1w, 1m, 6m" in str(info.value)


# --- the pre-check ----------------------------------------------------------------


def test_has_command_candidate():
    assert has_command_candidate("please /COC-lock")
    assert has_command_candidate("x\n/coc-remind")
    assert not has_command_candidate("An ordinary comment about /code and coc.")
    assert not has_command_candidate("")
    assert not has_command_candidate(None)


def test_ordinary_comments_parse_to_nothing():
    assert parse_commands("Thanks, LGTM!") == []
    assert parse_commands("") == []
    assert parse_commands(None) == []
    assert parse_commands("see /coc-lock in the docs") == []


# --- which lines are commands -------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/coc-remind",
        " /coc-remind",
        "   /coc-remind",
        "/COC-Remind",
        "/coc-remind   ",
        "Hello.\n/coc-remind",  # paragraph continuation
        "Hello.\n\n/coc-remind\n\nBye.",
        "- item\n  /coc-remind",  # continuation line of a list item's paragraph
        "1. item\n\n   /coc-remind",  # a paragraph of its own inside a list item
        "```\ncode\n```\n/coc-remind",
        "<details>\n\n</details>\n\n/coc-remind",  # after the quote's end
        "text `code` more\n/coc-remind",
        "a <!-- b --> c\n/coc-remind",
        "> quoted\n\n/coc-remind",
        "/coc-remind\n---",  # a setext heading is still a line of text
        "[link](http://example.com)\n/coc-remind",
    ],
)
def test_command_lines_that_count(text):
    assert [r.name for r in parse_commands(text)] == ["remind"]


@pytest.mark.parametrize(
    "text",
    [
        "    /coc-remind",  # indented code
        "\t/coc-remind",
        "text\n\n    /coc-remind",
        "```\n/coc-remind\n```",
        "~~~\n/coc-remind\n~~~",
        "````md\n```\n/coc-remind\n```\n````",
        "- item\n\n  ```\n  /coc-remind\n  ```",
        "`/coc-remind`",
        "``/coc-remind``",
        "text `code\n/coc-remind` more",  # a code span across lines
        "text ``code\n/coc-remind\n`` more",
        "<!--\n/coc-remind\n-->",
        "text <!-- hidden\n/coc-remind -->",
        "<div>\n/coc-remind\n</div>",
        "> /coc-remind",
        ">/coc-remind",
        "> > /coc-remind",
        "> > > > > /coc-remind",
        "> quote\n/coc-remind",  # lazy continuation: CommonMark keeps it in the quote
        "- > /coc-remind",
        "- item\n  > /coc-remind",
        "> - item\n>   /coc-remind",
        "- /coc-remind",  # the line starts with the list marker
        "1. /coc-remind",
        "# /coc-remind",
        "please /coc-remind",
        "[text\n/coc-remind](http://example.com)",  # inside a link's text
        "![alt\n/coc-remind](http://example.com/i.png)",
        "a | b\n--- | ---\n/coc-remind | x",  # a table row (GFM)
        "\\/coc-remind",
        "[ref]:\n/coc-remind",  # a link reference definition's destination
        "&#47;coc-remind",
    ],
)
def test_lines_that_never_count(text):
    assert parse_commands(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "<blockquote>\n\n/coc-remind\n\n</blockquote>",
        "<details>\n\n/coc-remind\n\n</details>",
        "<details>\n<summary>What was said</summary>\n\n/coc-remind\n\n</details>",
        '<BLOCKQUOTE class="quote" cite="https://example.com">\n\n/coc-remind\n\n</Blockquote>',
        "<Details open>\n\nFirst paragraph.\n\n/coc-remind\n\nLast paragraph.\n\n</DETAILS>",
        "<details\n  open>\n\n/coc-remind\n\n</details>",  # a tag across lines
        "<details>\n\n<blockquote>\n\n</blockquote>\n\n/coc-remind\n\n</details>",  # still in the outer one
        "<details>\n\n- item\n\n  /coc-remind\n\n</details>",  # in a list inside the quote
        "Quoting them: <details>\n/coc-remind\n</details>",  # an inline tag in a paragraph
        "<details>\n\n/coc-remind",  # never closed: the rest of the comment is inside
    ],
)
def test_html_block_quotes_are_quotes(text):
    assert parse_commands(text) == []


def test_html_block_quotes_end_where_their_element_ends():
    text = (
        "<details>\n\n<blockquote>\n\n/coc-lock\n\n</blockquote>\n\n/coc-lock\n\n</details>\n\n"
        "/coc-remind\n\n"
        "`<details>` and <!-- <details> --> open nothing\n\n/coc-help\n\n"
        "> <details> in a quote ends with the quote\n\n/coc-unlock"
    )
    assert [(r.name, r.line) for r in parse_commands(text)] == [("remind", 12), ("help", 16), ("unlock", 20)]


def test_command_lines_reports_line_numbers():
    text = "intro\n\n```\n/coc-lock\n```\n/coc-remind\n> /coc-lock\n\n  /coc-unlock\n"
    assert command_lines(text) == [5, 8]
    assert [(r.name, r.line) for r in parse_commands(text)] == [("remind", 5), ("unlock", 8)]


def test_crlf_line_endings():
    results = parse_commands("Hi\r\n/coc-lock 24h\r\n/coc-remind\r\n")
    assert [(r.name, r.line) for r in results] == [("lock", 1), ("remind", 2)]
    assert results[0].args["note"] == ""


def test_several_commands_each_one_entry_in_order():
    text = "/coc-remind\n/coc-lock off-topic\n\n/coc-remind"
    results = parse_commands(text)
    assert [(r.name, r.line) for r in results] == [("remind", 0), ("lock", 1), ("remind", 3)]


def test_word_must_end_at_whitespace():
    error = bad("/coc-locked")
    assert error.name is None and error.word == "/coc-locked"
    assert bad("/coc-lock,").word == "/coc-lock,"
    assert ok("/coc-lock\tspam").args["reason"] == "spam"


# --- unknown and unavailable words --------------------------------------------------


def test_unknown_word_points_to_help_and_suggests():
    error = bad("/coc-lokc 24h")
    assert error == CommandError(None, "/coc-lokc", error.message, USAGE["help"], 0)
    assert "`/coc-lock`" in error.message and "/coc-help" in error.message


def test_unknown_word_with_backticks_stays_inert():
    error = bad("/coc-`@x`")
    assert "`` /coc-`@x` ``" in error.message


def test_bare_prefix_is_unknown():
    assert bad("/coc-").name is None


def test_known_command_not_allowed_here():
    error = bad("/coc-block @troll 7d", THREAD_COMMANDS)
    assert error.name == "block" and "not available here" in error.message
    assert error.usage == USAGE["help"]
    error = bad("/coc-report he insulted me", INCIDENT_COMMANDS)
    assert error.name == "report" and "insulted" not in error.message


def test_default_allowed_is_thread_commands():
    assert isinstance(parse_commands("/coc-resolve warning")[0], CommandError)
    assert isinstance(parse_commands("/coc-remind")[0], Command)


def test_usage_for_every_command():
    assert set(USAGE) == ALL
    for name, line in USAGE.items():
        assert line.startswith(f"/coc-{name}") and "\n" not in line and "`" not in line


# --- arguments: report ----------------------------------------------------------


def test_report():
    assert ok("/coc-report").args == {"reason": ""}
    assert ok("/coc-report  They called me names.  ").args == {"reason": "They called me names."}


def test_report_reason_keeps_following_lines_until_next_command():
    text = "/coc-report see below\nthey wrote `x`\n\n> quote\n\n/coc-remind\nafter"
    report, remind = parse_commands(text)
    assert report.args["reason"] == "see below\nthey wrote `x`\n\n> quote"
    assert remind.name == "remind"


# --- arguments: commands without any -----------------------------------------------------


@pytest.mark.parametrize("name", ["remind", "unlock", "unlimit", "help"])
def test_no_argument_commands(name):
    assert ok(f"/coc-{name}").args == {}
    error = bad(f"/coc-{name} now")
    assert error.name == name and error.usage == USAGE[name] and "`now`" in error.message


# --- arguments: lock -----------------------------------------------------------


@pytest.mark.parametrize(
    "text, args",
    [
        ("/coc-lock", {"duration": None, "reason": "too heated", "note": ""}),
        ("/coc-lock 24h", {"duration": 86400, "reason": "too heated", "note": ""}),
        ("/coc-lock off-topic", {"duration": None, "reason": "off-topic", "note": ""}),
        ("/coc-lock resolved", {"duration": None, "reason": "resolved", "note": ""}),
        ("/coc-lock SPAM", {"duration": None, "reason": "spam", "note": ""}),
        ("/coc-lock too-heated", {"duration": None, "reason": "too heated", "note": ""}),
        ("/coc-lock too_heated", {"duration": None, "reason": "too heated", "note": ""}),
        ("/coc-lock too heated", {"duration": None, "reason": "too heated", "note": ""}),
        ("/coc-lock 2w off-topic", {"duration": 1209600, "reason": "off-topic", "note": ""}),
        ("/coc-lock 7d spam Cleaning  up @bots", {"duration": 604800, "reason": "spam", "note": "Cleaning  up @bots"}),
        ("/coc-lock 30m Cooling down.", {"duration": 1800, "reason": "too heated", "note": "Cooling down."}),
        ("/coc-lock Please take a break", {"duration": None, "reason": "too heated", "note": "Please take a break"}),
        ("/coc-lock resolved 3 people agreed", {"duration": None, "reason": "resolved", "note": "3 people agreed"}),
    ],
)
def test_lock(text, args):
    assert ok(text).args == args


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("/coc-lock 5x", "`5x`"),
        ("/coc-lock 0h", "`0h`"),
        ("/coc-lock 400d", "365d"),
        ("/coc-lock 1.5h", "`1.5h`"),
        ("/coc-lock \u0661d", "duration"),
        ("/coc-lock offtopic", "off-topic"),
        ("/coc-lock spam 24h", "duration comes first"),
    ],
)
def test_lock_errors(text, fragment):
    error = bad(text)
    assert error.name == "lock" and error.usage == USAGE["lock"]
    assert fragment in error.message


# --- arguments: limit -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, args",
    [
        ("/coc-limit", ("existing_users", "one_day", "24h")),
        ("/coc-limit contributors-only", ("contributors_only", "one_day", "24h")),
        ("/coc-limit collaborators-only 6m", ("collaborators_only", "six_months", "6m")),
        ("/coc-limit 1w existing-users", ("existing_users", "one_week", "1w")),
        ("/coc-limit 1D", ("existing_users", "one_day", "1D")),
        ("/coc-limit 3d", ("existing_users", "three_days", "3d")),
        ("/coc-limit 7d", ("existing_users", "one_week", "7d")),
        ("/coc-limit 1m", ("existing_users", "one_month", "1m")),
        ("/coc-limit Collaborators_Only", ("collaborators_only", "one_day", "24h")),
    ],
)
def test_limit(text, args):
    limit, expiry, typed = args
    assert ok(text).args == {"limit": limit, "expiry": expiry, "duration_text": typed}


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("/coc-limit 2d", "24h/1d, 3d, 1w, 1m, 6m"),
        ("/coc-limit 12h", "24h/1d, 3d, 1w, 1m, 6m"),
        ("/coc-limit everyone", "existing-users, contributors-only or collaborators-only"),
        ("/coc-limit existing-users contributors-only", "one limit"),
        ("/coc-limit 1d 3d", "one duration"),
        ("/coc-limit 1d existing-users please", "`please`"),
    ],
)
def test_limit_errors(text, fragment):
    error = bad(text)
    assert error.name == "limit" and fragment in error.message


# --- arguments: hide ----------------------------------------------------------------


@pytest.mark.parametrize(
    "url, kind, number, comment_id",
    [
        ("https://github.com/python/cpython/issues/12#issuecomment-345", "issue_comment", 12, 345),
        ("https://github.com/python/cpython/pull/12#issuecomment-345", "issue_comment", 12, 345),
        ("https://github.com/python/cpython/pull/12#discussion_r678", "review_comment", 12, 678),
        ("https://github.com/python/cpython/pull/12/files#r678", "review_comment", 12, 678),
        ("https://github.com/python/cpython/pull/12/files#discussion_r678", "review_comment", 12, 678),
        ("https://github.com/python/cpython/pull/12/changes#r678", "review_comment", 12, 678),
        ("<https://github.com/python/cpython/issues/12#issuecomment-345>", "issue_comment", 12, 345),
        ("https://github.com/python/cpython/issues/12/#issuecomment-345", "issue_comment", 12, 345),
        ("https://github.com/python/cpython/issues/12?notification_referrer_id=X#issuecomment-345",
         "issue_comment", 12, 345),
    ],
)
def test_hide_urls(url, kind, number, comment_id):
    args = ok(f"/coc-hide {url}").args
    assert args == {
        "url": url.strip("<>"),
        "kind": kind,
        "host": "github.com",
        "owner": "python",
        "repo": "cpython",
        "number": number,
        "comment_id": comment_id,
        "classifier": "ABUSE",
    }


def test_hide_enterprise_host_and_classifiers():
    url = "https://GHE.example.org:8443/my-org/repo.name_1/pull/3#discussion_r9"
    args = parse_comment_url(url)
    assert (args["host"], args["owner"], args["repo"]) == ("ghe.example.org:8443", "my-org", "repo.name_1")
    for word, classifier in [("abuse", "ABUSE"), ("off-topic", "OFF_TOPIC"), ("spam", "SPAM"),
                             ("Outdated", "OUTDATED"), ("resolved", "RESOLVED"),
                             ("duplicate", "DUPLICATE"), ("off_topic", "OFF_TOPIC")]:
        assert ok(f"/coc-hide {url} {word}").args["classifier"] == classifier


@pytest.mark.parametrize(
    "text",
    [
        "/coc-hide",
        "/coc-hide spam",
        "/coc-hide https://github.com/python/cpython/issues/12",
        "/coc-hide https://github.com/python/cpython/issues/12#discussion_r5",
        "/coc-hide https://github.com/python/cpython/pull/12/files#issuecomment-5",
        "/coc-hide https://github.com/python/cpython/pull/12#r5",
        "/coc-hide https://github.com/python/cpython/discussions/12#discussioncomment-5",
        "/coc-hide https://github.com/python/cpython/issues/abc#issuecomment-5",
        "/coc-hide https://github.com/python/cpython/issues/0#issuecomment-5",
        "/coc-hide https://github.com/python/cpython/issues/1#issuecomment-x",
        "/coc-hide https://github.com/python/cpython/issues/\u0661#issuecomment-5",
        "/coc-hide https://github.com/python/issues/1#issuecomment-5",
        "/coc-hide https://github.com/-bad/repo/issues/1#issuecomment-5",
        "/coc-hide https://github.com/o/../issues/1#issuecomment-5",
        "/coc-hide https://user@github.com/o/r/issues/1#issuecomment-5",
        "/coc-hide https://github.com:99999/o/r/issues/1#issuecomment-5",
        "/coc-hide ftp://github.com/o/r/issues/1#issuecomment-5",
        "/coc-hide github.com/o/r/issues/1#issuecomment-5",
        "/coc-hide https://github.com/o/r/issues/1#issuecomment-5 rude",
        "/coc-hide https://github.com/o/r/issues/1#issuecomment-5 spam extra",
    ],
)
def test_hide_errors(text):
    error = bad(text)
    assert error.name == "hide" and error.usage == USAGE["hide"]


# --- arguments: block, unblock, resolve ------------------------------------------------


@pytest.mark.parametrize(
    "text, args",
    [
        ("/coc-block @troll 7d", {"login": "troll", "duration": 604800}),
        ("/coc-block @Some-User-42 permanent", {"login": "Some-User-42", "duration": None}),
        ("/coc-block @x PERMANENT", {"login": "x", "duration": None}),
        ("/coc-block troll 24h", {"login": "troll", "duration": 86400}),
    ],
)
def test_block(text, args):
    assert ok(text).args == args


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("/coc-block", "account"),
        ("/coc-block @troll", "permanent"),
        ("/coc-block @troll forever", "`forever`"),
        ("/coc-block @troll 0d", "`0d`"),
        ("/coc-block @troll 7d now", "`now`"),
        ("/coc-block @-troll 7d", "GitHub account"),
        ("/coc-block @tr_oll 7d", "GitHub account"),
        ("/coc-block @" + "a" * 40 + " 7d", "GitHub account"),
        ("/coc-block @ 7d", "GitHub account"),
    ],
)
def test_block_errors(text, fragment):
    error = bad(text, INCIDENT_COMMANDS)
    assert error.name == "block" and fragment in error.message


def test_unblock():
    assert ok("/coc-unblock @troll").args == {"login": "troll"}
    assert "account" in bad("/coc-unblock").message
    assert bad("/coc-unblock @troll 7d").name == "unblock"
    assert bad("/coc-unblock @tro/ll").name == "unblock"


@pytest.mark.parametrize(
    "outcome", ["no-action", "reminder", "warning", "final-warning", "temporary-ban", "permanent-ban"]
)
def test_resolve_outcomes(outcome):
    assert ok(f"/coc-resolve {outcome}").args == {"outcome": outcome, "note": ""}


def test_resolve_note_and_errors():
    assert ok("/coc-resolve Final_Warning  Second  time.").args == {
        "outcome": "final-warning",
        "note": "Second  time.",
    }
    for text in ("/coc-resolve", "/coc-resolve ban", "/coc-resolve banned forever"):
        error = bad(text)
        assert error.name == "resolve" and "no-action" in error.message


def test_incident_comment_with_several_commands():
    text = (
        "Reviewed: clear violation.\n"
        "/coc-hide https://github.com/o/r/issues/1#issuecomment-5 abuse\n"
        "/coc-block @troll 30d\n"
        "/coc-resolve temporary-ban 30 days, see above\n"
        "> /coc-block @someone-else permanent\n"
    )
    results = parse_commands(text, INCIDENT_COMMANDS)
    assert [r.name for r in results] == ["hide", "block", "resolve"]
    assert all(isinstance(r, Command) for r in results)
    assert results[2].args["note"] == "30 days, see above"
