"""Text cleaning for the heat estimate: the author's own prose, without code, quotes, quoted e-mail tails
and URLs (`clean_text`).

Every pattern is defined once in REFERENCE_PATTERNS; some run in faster forms with the same results
(tests/test_heat.py checks each form against its definition) and in linear time (tests/test_hostile.py).
"""
from __future__ import annotations

import re

MAX_BODY = 20000       # characters of a comment body cleaned

_INDENTED_RE = re.compile(r"(?m)(?:(?<=\n\n)|\A)(?:(?: {4}|\t)[^\n]*(?:\n|\Z))+")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
# e-mail replies: everything from "On <date> ... wrote:" or an Outlook header on is the quoted tail
_OUTLOOK_RE = re.compile(r"(?m)^-{2,} ?Original Message|^From: [^\n]*\n(?:[^\n]*\n)?Sent: ")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"), ("&quot;", '"'), ("&#39;", "'"))

# What clean_text() removes is defined by these patterns; they run in the
# faster forms below, with the same results (tests/test_heat.py checks each
# form against its definition).
REFERENCE_PATTERNS = {
    "fence": r"(?ms)^ {0,3}(```+|~~~+)[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)",   # sub("\n")
    "inline_code": r"``[^`]+``|`[^`]+`",                 # sub(" ")
    "quote": r"(?m)^ {0,3}>.*$",                         # sub("")
    "html": r"(?s)<!--.*?-->|<(?:pre|code)\b.*?</(?:pre|code)>|</?[a-zA-Z][^>\n]{0,200}>",   # sub(" ")
    "wrote": r"\bOn\b[^\n]{0,200}?\bwrote\b",             # the text is cut at search()
}
# The regex engine scans fast for a literal first character but tries a
# pattern at every position when it starts with ^, \b or an alternation: the
# fast forms start with a literal (a "\n" stands for ^ after the first line),
# and clean_text() deals with the first line and the leading \b itself.
# fence: the lazy ".*?" up to the closing fence (which starts a line) or the
# end steps a line at a time, not a character at a time; the fence's run of
# backticks or tildes is possessive (a shorter run never helps the match, and
# giving it back one character at a time is quadratic on a long run)
_FENCE_TAIL = r" {0,3}(`{3,}+|~{3,}+)[^\n]*\n(?:[^\n]*\n)*?(?:^ {0,3}\1[ \t]*$|[^\n]*\Z)"
_FENCE_FIRST_RE = re.compile(_FENCE_TAIL, re.M)             # fence, at the start of the text
_FENCE_NL_RE = re.compile("\n" + _FENCE_TAIL, re.M)        # "\n" + fence, after the first line
_QUOTE_NL_RE = re.compile(r"\n {0,3}>[^\n]*")            # "\n" + quote
_QUOTE_FIRST_RE = re.compile(r" {0,3}>[^\n]*")            # quote, on the first line
_INLINE_CODE_FAST_RE = re.compile(r"`(?:`[^`]+``|[^`]+`)")
_HTML_FAST_RE = re.compile(r"<(?:!--.*?-->|(?:pre|code)\b.*?</(?:pre|code)>|/?[a-zA-Z][^>\n]{0,200}>)", re.S)
_PRE_OPEN_RE = re.compile(r"<(?:pre|code)\b")
_PRE_CLOSE_RE = re.compile(r"</(?:pre|code)>")
_TAG_RE = re.compile(r"</?[a-zA-Z][^>\n]{0,200}>")
_WROTE_NOB_RE = re.compile(r"On\b[^\n]{0,200}?\bwrote\b")  # wrote, less its leading \b


def _fence_sub(text: str) -> str:
    """re.sub(REFERENCE_PATTERNS["fence"], "\n", text)."""
    m = _FENCE_FIRST_RE.match(text)
    if m is None:
        return _FENCE_NL_RE.sub("\n\n", text)
    return "\n" + _FENCE_NL_RE.sub("\n\n", text[m.end():])


def _html_sub(text: str) -> str:
    """re.sub(REFERENCE_PATTERNS["html"], " ", text), in linear time.

    The regex looks for the end of a comment (or of a <pre>/<code> block) from
    every `<!--` (or `<pre`) again, to the end of the text when there is none:
    quadratic on `"<!--" * 5000`. Here the next end is found once and reused."""
    if "<" not in text:
        return text
    pieces = []
    done = 0                    # text[:done] is handled
    comment_end = pre_end = -2  # next "-->" / "</pre>|</code>" after the last place looked (-1: none left)
    pre_close_end = -2          # the end of that "</pre>|</code>"
    at = text.find("<")
    while at >= 0:
        end = -1
        if text.startswith("<!--", at):
            if comment_end != -1 and comment_end < at + 4:
                comment_end = text.find("-->", at + 4)
            if comment_end >= 0:
                end = comment_end + 3
        else:
            opening = _PRE_OPEN_RE.match(text, at)
            if opening is not None:
                if pre_end != -1 and pre_end < opening.end():
                    close = _PRE_CLOSE_RE.search(text, opening.end())
                    pre_end, pre_close_end = (-1, -1) if close is None else close.span()
                if pre_end >= 0:
                    end = pre_close_end
            if end < 0:
                tag = _TAG_RE.match(text, at)
                if tag is not None:
                    end = tag.end()
        if end < 0:
            at = text.find("<", at + 1)
            continue
        pieces.append(text[done:at])
        pieces.append(" ")
        done = end
        at = text.find("<", end)
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)



def _quote_sub(text: str) -> str:
    """re.sub(REFERENCE_PATTERNS["quote"], "", text)."""
    m = _QUOTE_FIRST_RE.match(text)
    if m is not None:
        text = text[m.end():]
    return _QUOTE_NL_RE.sub("\n", text) if "\n" in text else text


def _wrote_search(text: str) -> int:
    """re.search(REFERENCE_PATTERNS["wrote"], text).start(), or -1."""
    pos = 0
    while True:
        m = _WROTE_NOB_RE.search(text, pos)
        if m is None:
            return -1
        st = m.start()
        if st == 0:
            return 0
        c = text[st - 1]
        if not (c.isalnum() or c == "_"):
            return st
        pos = st + 1


def clean_text(body: str) -> str:
    """The author's own prose: code, quotes, quoted e-mail tails and URLs removed."""
    if not body:
        return ""
    text = body[:MAX_BODY]
    if "&" in text:
        for a, b in _ENTITIES:
            if a in text:
                text = text.replace(a, b)
    if not text.isascii():
        text = text.replace("\u2019", "'").replace("\u2018", "'")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A one-character test (memchr) gates each longer substring test: most
    # bodies lack the rare character, and the outcome is the same.
    if ("`" in text and "```" in text) or ("~" in text and "~~~" in text):
        text = _fence_sub(text)
    if "<" in text:
        text = _html_sub(text)
    if "`" in text:
        text = _INLINE_CODE_FAST_RE.sub(" ", text)
    if ">" in text:
        text = _quote_sub(text)
    if "\n" in text and ("\n    " in text or ("\t" in text and "\n\t" in text) or text.startswith(("    ", "\t"))):
        # indented code blocks (CommonMark: they cannot interrupt a paragraph);
        # a body without line breaks is prose even if it starts with spaces
        text = _INDENTED_RE.sub("", text)
    if "O" in text and "wrote" in text:      # the pattern needs "On"
        i = _wrote_search(text)
        if i >= 0:
            text = text[:i]
    if ("F" in text and "From: " in text) or ("O" in text and "Original Message" in text):
        m = _OUTLOOK_RE.search(text)
        if m:
            text = text[: m.start()]
    if "R" in text:
        i = text.find("Reply to this email directly")
        if i >= 0:
            text = text[:i]
    if (":" in text and "://" in text) or "www." in text:
        text = _URL_RE.sub(" ", text)
    return text

