"""Hostile comments: nested or unclosed Markdown and HTML, long runs, thousands of lines.

Each of these once took time quadratic in its length somewhere (the command parser, markdown-it, or the
heat estimate's text cleaning). Used by tests/test_hostile.py and bench/hostile.py."""
from __future__ import annotations

# A command line under the markup, with every character that could close an inline span, so the parser
# has to read the whole comment to decide whether the line is a command.
COMMAND = "\n/coc-help ]`>)\n"


def hostile_comments(size: int = 20_000) -> dict[str, str]:
    """Comments of about SIZE characters, by name."""
    return {
        "quotes": ">" * size + COMMAND,
        "brackets": "[" * size + COMMAND,
        "images": "![" * (size // 2) + COMMAND,
        "stars": "*" * size + COMMAND,
        "emphasis": "*a_" * (size // 3) + COMMAND,
        "html comments": "<!--" * (size // 4) + COMMAND,
        "pre": "<pre" * (size // 4) + COMMAND,
        "tags": "<a " * (size // 3) + COMMAND,
        "backticks": "`" * size + COMMAND,
        "unclosed fence": COMMAND + "`" * size,
        "tildes": COMMAND + "~" * size,
        "details": "<details>" * (size // 9) + COMMAND,
        "details blocks": "<details>\n\n" * (size // 11) + COMMAND,
        "nested lists": "- " * (size // 2) + COMMAND,
        "indented lists": "".join(" " * (2 * i) + "- x\n" for i in range(int((size / 2) ** 0.5))) + COMMAND,
        "list items": "- a\n" * (size // 4) + COMMAND,
        "code spans": "`a\n" + "/coc-help `x` `y`\n" * (size // 18),
        "command lines": "/coc-lock 24h off-topic\n" * (size // 23),
        "unknown commands": "/coc-lokc\n" * (size // 10),
        "shouting": "A" * size,
        "caps and apostrophes": "A'" * (size // 2),
    }
