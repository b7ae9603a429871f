"""Pure slash-command parser (SPEC.md, Commands): which lines of a comment are commands, and their arguments."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from app.durations import (
    LIMIT_CHOICES,
    looks_like_duration,
    parse_duration,
    parse_limit_expiry,
)
from app.text import code_span
from app.vocabulary import CLASSIFIERS, LIMITS, LOCK_REASONS, OUTCOMES


@dataclass(frozen=True)
class Command:
    """One well-formed command: NAME, parsed ARGS, 0-based LINE in the comment."""

    name: str
    args: dict
    line: int


@dataclass(frozen=True)
class CommandError:
    """A `/coc-` line that cannot run: a user error, answered with MESSAGE and USAGE."""

    name: str | None  # a known command name, or None for an unknown /coc- word
    word: str  # the word as typed, e.g. "/coc-lokc"
    message: str  # one short Markdown line; never echoes a report's reason
    usage: str  # the command's usage line (plain text; the help line for unknown words)
    line: int


THREAD_COMMANDS = frozenset(
    {"report", "remind", "lock", "unlock", "limit", "unlimit", "hide", "help"}
)
INCIDENT_COMMANDS = frozenset(
    {"lock", "unlock", "limit", "unlimit", "remind", "hide", "block", "unblock", "resolve", "help"}
)
ALL_COMMANDS = THREAD_COMMANDS | INCIDENT_COMMANDS

USAGE: dict[str, str] = {
    "report": "/coc-report [reason…]",
    "remind": "/coc-remind",
    "lock": "/coc-lock [DURATION] [too-heated|off-topic|resolved|spam] [note…]",
    "unlock": "/coc-unlock",
    "limit": "/coc-limit [existing-users|contributors-only|collaborators-only] [24h|3d|1w|1m|6m]",
    "unlimit": "/coc-unlimit",
    "hide": "/coc-hide COMMENT_URL [abuse|off-topic|spam|outdated|resolved|duplicate]",
    "help": "/coc-help",
    "block": "/coc-block @user DURATION|permanent",
    "unblock": "/coc-unblock @user",
    "resolve": "/coc-resolve no-action|reminder|warning|final-warning|temporary-ban|permanent-ban [note…]",
}

_CANDIDATE = re.compile(r"/coc-", re.IGNORECASE)
# SPEC.md: "up to three leading spaces; four or more make an indented code block".
# A tab is four columns, so any tab before the command disqualifies the line.
_COMMAND_LINE = re.compile(r" {0,3}/coc-", re.IGNORECASE)
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")

# --- which lines are commands -------------------------------------------------
# markdown-it-py (CommonMark, plus GFM tables as GitHub renders them) decides
# the block structure. Inline constructs that can span lines (code spans, raw
# HTML such as `<!-- … -->`, links, images, autolinks) are recorded with their
# source offsets, so a line that starts inside one of them is not a command.
# Inline structure is parsed only for the paragraphs that need it: those with a
# candidate line after their first line that such a span could cover, and those
# holding an HTML `<blockquote>`/`<details>` tag. Everything else is linear too:
# spans are sorted once and swept together with the candidate lines.
_SPANS = "conduct_bot_spans"
_SPANNING_RULES = ("backticks", "html_inline", "link", "image", "autolink")
# HTML elements that quote: a command line inside one (until its end tag) is not a command.
_QUOTE_TAG = re.compile(r"<(/?)(?:blockquote|details)(?=[\s/>])", re.IGNORECASE)

_md = MarkdownIt("commonmark").enable("table")
_md.core.ruler.disable("inline")  # command_lines() parses inline content itself, where it matters


def _recording(name, fn):
    def rule(state, silent):
        start = state.pos
        ok = fn(state, silent)
        if ok and not silent and _SPANS in state.env:
            state.env[_SPANS].append((start, state.pos, name))
        return ok

    return rule


for _rule in list(_md.inline.ruler.__rules__):
    if _rule.name in _SPANNING_RULES:
        _md.inline.ruler.at(_rule.name, _recording(_rule.name, _rule.fn))


def has_command_candidate(markdown: str | None) -> bool:
    """Cheap pre-check: could this comment hold a command at all? (no parsing)."""
    return markdown is not None and _CANDIDATE.search(markdown) is not None


def command_lines(markdown: str) -> list[int]:
    """0-based numbers of the lines that start with `/coc-` as plain paragraph text.

    Eligible: a line of a paragraph (or setext heading) that is not inside a
    `>` quote at any depth (lazy continuation lines included, as CommonMark
    puts them in the quote), nor inside an HTML `<blockquote>` or `<details>`
    element (any case, with attributes, nested, across blank lines), whose
    source starts with `/coc-` after at most three spaces, and whose start is
    not inside an inline code span, inline HTML (comments), a link or an image
    that began on an earlier line. Lines of fenced/indented code, HTML blocks
    and table cells are never eligible. In a list item, `- /coc-lock` is not a
    command (the line starts with the marker), while a continuation line
    `  /coc-lock` of the item's paragraph is.

    Linear in the length of the comment.
    """
    source = _normalise(markdown)
    lines = source.split("\n")
    candidates = [number for number, line in enumerate(lines) if _COMMAND_LINE.match(line)]
    if not candidates:
        return []
    env: dict = {}
    tokens = _md.parse(source, env)
    found: list[int] = []
    quote_depth = 0  # `>` quotes
    html_depth = 0  # open <blockquote>/<details> elements
    outer: list[int] = []  # html_depth where each enclosing `>` quote or list item began
    for index, token in enumerate(tokens):
        if token.map and token.map[0] > candidates[-1]:
            break  # nothing after the last candidate line changes the lines before it
        if token.type in ("blockquote_open", "list_item_open"):
            quote_depth += token.type == "blockquote_open"
            outer.append(html_depth)
        elif token.type in ("blockquote_close", "list_item_close"):
            quote_depth -= token.type == "blockquote_close"
            html_depth = outer.pop()  # as in HTML, the container's end closes what was left open in it
        elif token.type == "html_block":
            for tag in _QUOTE_TAG.finditer(_without_html_comments(token.content)):
                html_depth = _nest(html_depth, tag)
        elif (
            token.type == "inline"
            and token.map
            and index
            and tokens[index - 1].type in ("paragraph_open", "heading_open")
        ):
            html_depth = _paragraph(token, lines, env, quote_depth > 0, html_depth, found)
    return found


def _paragraph(token, lines: list[str], env: dict, in_quote: bool, html_depth: int, found: list[int]) -> int:
    """Add the command lines of one paragraph to FOUND; return the HTML quote depth after it."""
    if in_quote:
        return html_depth  # nothing in a `>` quote counts, and what opens in it ends with it
    content = token.content
    starts = _line_starts(content)
    first, end = token.map
    # offsets (in lines) of the candidate lines; a setext heading's underline has no start
    offsets = [
        offset
        for offset, line_no in enumerate(range(first, min(end, first + len(starts))))
        if _COMMAND_LINE.match(lines[line_no])
    ]
    later = [starts[offset] for offset in offsets if offset]
    spans = []
    if _QUOTE_TAG.search(content) or (later and _may_cover(content, later[0], later[-1])):
        spans = _inline_spans(content, env)
    spans.sort()
    tags = [
        (start, tag)
        for start, _, name in spans
        if name == "html_inline" and (tag := _QUOTE_TAG.match(content, start))
    ]
    next_span = next_tag = 0
    reach = -1  # the furthest end of the spans that start before the line
    for offset in offsets:
        at = starts[offset]
        while next_tag < len(tags) and tags[next_tag][0] < at:
            html_depth = _nest(html_depth, tags[next_tag][1])
            next_tag += 1
        while next_span < len(spans) and spans[next_span][0] < at:
            reach = max(reach, spans[next_span][1])
            next_span += 1
        if html_depth == 0 and reach < at:  # not quoted, not inside a code span, HTML, link…
            found.append(first + offset)
    for _, tag in tags[next_tag:]:
        html_depth = _nest(html_depth, tag)
    return html_depth


def _may_cover(content: str, first: int, last: int) -> bool:
    """Could an inline span that starts before a line (at offsets FIRST…LAST) still be open there?

    A span opens with ` < [ (or ![) and closes with ` > ] ) after the line's start."""
    before, after = content[:last], content[first:]
    return (
        ("`" in before and "`" in after)
        or ("<" in before and ">" in after)
        or ("[" in before and ("]" in after or ")" in after))
    )


def _inline_spans(content: str, env: dict) -> list[tuple[int, int, str]]:
    """(start, stop, rule) of the code spans, inline HTML, links, images and autolinks of a paragraph."""
    env[_SPANS] = []
    try:
        _md.inline.tokenize(StateInline(content, _md, env, []))
        return env[_SPANS]
    finally:
        del env[_SPANS]


def _nest(depth: int, tag: re.Match) -> int:
    return max(depth - 1, 0) if tag.group(1) else depth + 1


def _without_html_comments(html: str) -> str:
    """HTML without its `<!-- … -->` comments (an unclosed one runs to the end)."""
    parts = []
    pos = 0
    while (start := html.find("<!--", pos)) >= 0:
        parts.append(html[pos:start])
        stop = html.find("-->", start + 4)
        if stop < 0:
            return "".join(parts)
        pos = stop + 3
    parts.append(html[pos:])
    return "".join(parts)


def without_lines(markdown: str, numbers) -> str:
    """The comment without the given lines (numbered as command_lines() numbers them)."""
    drop = set(numbers)
    return "\n".join(line for number, line in enumerate(_normalise(markdown).split("\n")) if number not in drop)


def _normalise(markdown: str) -> str:
    return markdown.replace("\r\n", "\n").replace("\r", "\n")


def _line_starts(content: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", content):
        starts.append(match.end())
    return starts


# --- parsing ----------------------------------------------------------------


class _Bad(Exception):
    """A malformed argument; the message is one short Markdown line."""


def parse_commands(
    markdown: str | None, allowed: frozenset[str] = THREAD_COMMANDS
) -> list[Command | CommandError]:
    """Every command line of a comment, in order, as a Command or a CommandError.

    The same command on two lines gives two entries; the caller decides
    whether to run both. A known command outside ALLOWED is an error
    ("not available here"), as is an unknown `/coc-` word.
    """
    if markdown is None or not has_command_candidate(markdown):
        return []
    source = _normalise(markdown)
    lines = source.split("\n")
    numbers = command_lines(source)
    results: list[Command | CommandError] = []
    for position, line_no in enumerate(numbers):
        following_end = numbers[position + 1] if position + 1 < len(numbers) else len(lines)
        following = lines[line_no + 1 : following_end]
        results.append(_parse_line(lines[line_no], line_no, allowed, following))
    return results


def _parse_line(
    raw: str, line_no: int, allowed: frozenset[str], following: list[str]
) -> Command | CommandError:
    text = raw.strip()
    word, rest = (text.split(None, 1) + [""])[:2]
    name = word[len("/coc-") :].lower()
    if name not in ALL_COMMANDS:
        message = f"{_shown(word)} is not a command."
        guess = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.6)
        if guess:
            message = f"{_shown(word)} is not a command; did you mean `/coc-{guess[0]}`?"
        return CommandError(None, word, message + " `/coc-help` lists them.", USAGE["help"], line_no)
    if name not in allowed:
        return CommandError(
            name, word, f"`/coc-{name}` is not available here.", USAGE["help"], line_no
        )
    try:
        args = _report(rest, following) if name == "report" else _PARSERS[name](rest)
    except _Bad as error:
        return CommandError(name, word, str(error), USAGE[name], line_no)
    return Command(name, args, line_no)


def _shown(token: str) -> str:
    """A user's token in an error message: short and inert."""
    return code_span(token if len(token) <= 40 else token[:39] + "…")


def _tokens(rest: str) -> list[re.Match]:
    return list(re.finditer(r"\S+", rest))


def _key(token: str) -> str:
    """Keywords are case-insensitive; `off_topic` is read as `off-topic`."""
    return token.lower().replace("_", "-")


def _no_more(name: str, tokens: list[re.Match], used: int) -> None:
    if len(tokens) > used:
        extra = tokens[used].group()
        if used == 0:
            raise _Bad(f"`/coc-{name}` takes no arguments (got {_shown(extra)}).")
        raise _Bad(f"Unexpected {_shown(extra)}.")


def _none(name: str):
    def parse(rest: str) -> dict:
        _no_more(name, _tokens(rest), 0)
        return {}

    return parse


def _report(rest: str, following: list[str]) -> dict:
    # The reason is free text: the rest of the line and the lines after it,
    # up to the next command line (the comment is deleted once reported, so
    # the whole statement is kept). It is never echoed in any error.
    return {"reason": "\n".join([rest, *following]).strip()}


def _lock(rest: str) -> dict:
    tokens = _tokens(rest)
    used, duration = 0, None
    if tokens and looks_like_duration(tokens[0].group()):
        duration = _duration(tokens[0].group())
        used = 1
    reason = "too heated"
    if used < len(tokens):
        key = _key(tokens[used].group())
        if key in LOCK_REASONS:
            reason, used = LOCK_REASONS[key], used + 1
        elif key == "too" and used + 1 < len(tokens) and _key(tokens[used + 1].group()) == "heated":
            reason, used = "too heated", used + 2
        elif difflib.get_close_matches(key, LOCK_REASONS, n=1, cutoff=0.85):
            raise _Bad(
                f"Unknown reason {_shown(tokens[used].group())}: use too-heated, off-topic, resolved or spam."
            )
    if used < len(tokens) and duration is None and _is_duration(tokens[used].group()):
        raise _Bad("The duration comes first, e.g. `/coc-lock 24h off-topic`.")
    note = rest[tokens[used].start() :].strip() if used < len(tokens) else ""
    return {"duration": duration, "reason": reason, "note": note}


def _limit(rest: str) -> dict:
    tokens = _tokens(rest)
    limit = typed = None
    for match in tokens:
        token = match.group()
        key = _key(token)
        if key in LIMITS and limit is None:
            limit = LIMITS[key]
        elif key in LIMITS:
            raise _Bad("Give one limit: existing-users, contributors-only or collaborators-only.")
        elif looks_like_duration(token) and typed is None:
            typed = token
        elif looks_like_duration(token):
            raise _Bad(f"Give one duration: {LIMIT_CHOICES}.")
        else:
            raise _Bad(
                f"Unknown limit {_shown(token)}: use existing-users, contributors-only or collaborators-only."
            )
    try:
        expiry = parse_limit_expiry(typed or "24h")
    except ValueError as error:
        raise _Bad(str(error) + ".") from None
    return {
        "limit": limit or "existing_users",
        "expiry": expiry,
        "duration_text": typed or "24h",
    }


def _hide(rest: str) -> dict:
    tokens = _tokens(rest)
    if not tokens:
        raise _Bad("`/coc-hide` needs the link to a comment.")
    try:
        args = parse_comment_url(tokens[0].group())
    except ValueError as error:
        raise _Bad(str(error)) from None
    classifier = "ABUSE"
    if len(tokens) > 1:
        key = _key(tokens[1].group())
        if key not in CLASSIFIERS:
            raise _Bad(
                f"Unknown classifier {_shown(tokens[1].group())}: "
                "use abuse, off-topic, spam, outdated, resolved or duplicate."
            )
        classifier = CLASSIFIERS[key]
    _no_more("hide", tokens, 2)
    return {**args, "classifier": classifier}


def _block(rest: str) -> dict:
    tokens = _tokens(rest)
    if not tokens:
        raise _Bad("`/coc-block` needs an account and a duration or `permanent`.")
    login = _login(tokens[0].group())
    if len(tokens) < 2:
        raise _Bad("`/coc-block` needs a duration (e.g. `7d`) or `permanent` after the account.")
    when = tokens[1].group()
    duration = None if when.lower() == "permanent" else _duration(when)
    _no_more("block", tokens, 2)
    return {"login": login, "duration": duration}


def _unblock(rest: str) -> dict:
    tokens = _tokens(rest)
    if not tokens:
        raise _Bad("`/coc-unblock` needs an account.")
    login = _login(tokens[0].group())
    _no_more("unblock", tokens, 1)
    return {"login": login}


def _resolve(rest: str) -> dict:
    tokens = _tokens(rest)
    outcome = _key(tokens[0].group()) if tokens else ""
    if outcome not in OUTCOMES:
        got = f" (got {_shown(tokens[0].group())})" if tokens else ""
        raise _Bad(f"`/coc-resolve` needs an outcome: {', '.join(OUTCOMES)}{got}.")
    note = rest[tokens[1].start() :].strip() if len(tokens) > 1 else ""
    return {"outcome": outcome, "note": note}


def _duration(token: str) -> int:
    try:
        return parse_duration(token)
    except ValueError as error:
        raise _Bad(str(error)[:1].upper() + str(error)[1:] + ".") from None


def _is_duration(token: str) -> bool:
    try:
        parse_duration(token)
    except ValueError:
        return False
    return True


def _login(token: str) -> str:
    login = token[1:] if token.startswith("@") else token
    if not _LOGIN.fullmatch(login):
        raise _Bad(f"{_shown(token)} is not a GitHub account; write it as `@login`.")
    return login


def parse_comment_url(text: str) -> dict:
    """The parts of a comment permalink (issue or PR conversation comment, PR review comment).

    Accepted (any host, for GitHub Enterprise; `<…>` around it allowed; a
    query string such as a notification referrer is ignored):
    `/OWNER/REPO/issues/N#issuecomment-ID`, `/OWNER/REPO/pull/N#issuecomment-ID`,
    `/OWNER/REPO/pull/N#discussion_rID`, `/OWNER/REPO/pull/N/files#rID`
    (`/files#discussion_rID` and `/changes#rID` too).
    """
    url = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    problem = "needs the link to a comment, like `https://github.com/OWNER/REPO/issues/1#issuecomment-2`."
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ValueError(f"`/coc-hide` {problem}") from None
    if parts.scheme not in ("https", "http") or not host or "@" in parts.netloc:
        raise ValueError(f"`/coc-hide` {problem}")
    segments = parts.path.strip("/").split("/")
    fragment = parts.fragment
    kind = None
    if len(segments) in (4, 5) and re.fullmatch(r"[0-9]+", segments[3]):
        owner, repo, section = segments[0], segments[1], segments[2]
        tab = segments[4] if len(segments) == 5 else None
        comment = re.fullmatch(r"issuecomment-([0-9]+)", fragment)
        review = re.fullmatch(r"(?:discussion_)?r([0-9]+)", fragment)
        if section in ("issues", "pull") and tab is None and comment:
            kind, comment_id = "issue_comment", comment.group(1)
        elif section == "pull" and review and (
            (tab is None and fragment.startswith("discussion_r")) or tab in ("files", "changes")
        ):
            kind, comment_id = "review_comment", review.group(1)
    if kind is None or not _LOGIN.fullmatch(owner) or not _REPO.fullmatch(repo) or repo in (".", ".."):
        raise ValueError(f"`/coc-hide` {problem}")
    number, comment_id = int(segments[3]), int(comment_id)
    if number < 1 or comment_id < 1:
        raise ValueError(f"`/coc-hide` {problem}")
    host = host if port is None else f"{host}:{port}"
    return {
        "url": url,
        "kind": kind,
        "host": host,
        "owner": owner,
        "repo": repo,
        "number": number,
        "comment_id": comment_id,
    }


_PARSERS = {
    "remind": _none("remind"),
    "unlock": _none("unlock"),
    "unlimit": _none("unlimit"),
    "help": _none("help"),
    "lock": _lock,
    "limit": _limit,
    "hide": _hide,
    "block": _block,
    "unblock": _unblock,
    "resolve": _resolve,
}
