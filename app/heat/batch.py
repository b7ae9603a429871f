"""Whole threads at once, for the command line (cli.py) and the training script: the state a thread's
comments leave (`thread_state`), and its score (`score_thread`)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from . import model
from .model import Model
from .state import HeatEvent, HeatResult, new_state, result, update


def score_thread(comments: Iterable[dict | HeatEvent]) -> HeatResult:
    """Score a whole thread: observe() folded over its comments in order.

    Dicts use the CLI's comment keys (body, author, author_association,
    created_at; optionally reactions); the position is the comment id."""
    mdl = model.current()
    return result(thread_state(comments, mdl), mdl)


def thread_state(comments: Iterable[dict | HeatEvent], mdl: Model) -> dict:
    """The state of a thread after its comments, in order (see score_thread)."""
    st = new_state()
    for i, c in enumerate(comments):
        if isinstance(c, HeatEvent):
            update(st, c if c.comment_id is not None else replace(c, comment_id=i), mdl)
        else:   # nothing refers to a dict comment later (no edits, no reactions): nothing to remember
            update(st, comment_event(c, i), mdl, remember=False)
    return st


def comment_event(c: dict, position: int) -> HeatEvent:
    """The event of a comment given as a dict: a created comment whose id is its position. A value of the
    wrong type counts as absent (an empty body)."""
    body = c.get("body")
    author = c.get("author")
    association = c.get("author_association")
    return HeatEvent(kind="created", body=body if isinstance(body, str) else "",
                     author=author if isinstance(author, str) else None,
                     author_association=association if isinstance(association, str) else None,
                     created_at=c.get("created_at"), comment_id=position, reactions=c.get("reactions"))
