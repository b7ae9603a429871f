"""No comment stalls the bot: parsing commands and cleaning text for the heat estimate take time linear in
a comment's length, on every hostile comment of tests/hostile.py.

Each check times the work on a comment and on one four times as long (best of three): linear work takes
about four times as long, quadratic work sixteen. The check allows eight, over a floor of a few
milliseconds so that timer noise on quick work never fails it."""
from __future__ import annotations

import time

import pytest

from app import heat
from app.commands import parse_commands
from tests.hostile import hostile_comments

FLOOR = 0.005   # seconds: below this, a ratio says nothing
SMALL = hostile_comments(10_000)
LARGE = hostile_comments(40_000)


def best_time(fn, text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        fn(text)
        best = min(best, time.perf_counter() - start)
    return best


def assert_linear(fn, small: str, large: str) -> None:
    assert 3.5 * len(small) <= len(large) <= 4.5 * len(small)   # the premise: four times as long
    t_small, t_large = best_time(fn, small), best_time(fn, large)
    assert t_large <= 8 * max(t_small, FLOOR), (
        f"{len(large)} characters took {t_large * 1000:.1f} ms, {len(small)} took {t_small * 1000:.1f} ms")


@pytest.mark.parametrize("name", sorted(SMALL))
def test_parsing_commands_is_linear(name):
    assert_linear(parse_commands, SMALL[name], LARGE[name])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_cleaning_text_for_heat_is_linear(name):
    # heat reads at most heat.MAX_BODY characters of a comment, and scores at most heat.MAX_TEXT of them
    small, large = hostile_comments(4_000)[name], hostile_comments(16_000)[name]
    assert len(large) <= heat.MAX_BODY
    assert_linear(heat.clean_text, small, large)
    small, large = hostile_comments(1_200)[name], hostile_comments(4_800)[name]
    assert len(large) <= heat.MAX_TEXT
    assert_linear(heat.comment_signals, small, large)


def test_hostile_comments_are_parsed_as_markdown_says():
    assert [c.name for c in parse_commands(LARGE["command lines"])] == ["lock"] * (40_000 // 23)
    assert parse_commands(LARGE["backticks"]) == []                # inside an unclosed fence
    assert parse_commands(LARGE["quotes"]) == []                   # a lazy line of the quote
    assert [c.name for c in parse_commands(LARGE["brackets"])] == ["help"]


def test_a_parsing_process_that_dies_is_replaced():
    import asyncio
    import os

    from app import offload
    from app.github import TransientError

    with pytest.raises(TransientError):
        asyncio.run(offload.run(os._exit, 1))                     # the worker process dies mid-call
    parsed = asyncio.run(offload.run(parse_commands, LARGE["brackets"]))
    assert [c.name for c in parsed] == ["help"]


def test_a_comment_is_parsed_once_per_delivery_for_every_handler_that_needs_it(monkeypatch):
    """The command runner and the heat estimate share one parse of a (possibly hostile) comment."""
    import asyncio

    from gidgethub import sansio

    from app import offload
    from handlers.base import commands_of

    calls = []

    async def counting(fn, *args):
        calls.append(args)
        return fn(*args)

    monkeypatch.setattr(offload, "run", counting)
    event = sansio.Event({"action": "created"}, event="issue_comment", delivery_id="d1")
    body = "[" * 5000 + "\n/coc-remind\n"

    async def both():
        return await asyncio.gather(commands_of(event, body), commands_of(event, body))

    first, second = asyncio.run(both())
    assert first == second and [c.name for c in first] == ["remind"]
    assert len(calls) == 1
