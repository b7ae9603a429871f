"""Exactly-once effects on GitHub for jobs that may be retried.

`once` records in the store that an effect started and then that it finished.
A retry after a finished effect returns the recorded result; a retry after a
crash between the two asks `find` whether GitHub already has what we made
(our comments and issues carry a hidden marker with the effect's key), so a
retried job never posts twice and an ordinary run costs no extra API call.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from .text import find_marker, marker

NS = "effect"
KEEP = 45 * 86400.0


def effect_tag(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


async def once(store, key: str, do: Callable[[], Awaitable[Any]],
               find: Callable[[], Awaitable[Any]] | None = None) -> Any:
    state = await store.get(NS, key)
    if state and state.get("state") == "done":
        return state.get("result")
    if state and state.get("state") == "started" and find is not None:
        found = await find()
        if found is not None:
            await store.put(NS, key, {"state": "done", "result": found}, ttl=KEEP)
            return found
    await store.put(NS, key, {"state": "started", "at": time.time()}, ttl=KEEP)
    result = await do()
    await store.put(NS, key, {"state": "done", "result": result}, ttl=KEEP)
    return result


def tagged(body: str, kind: str, key: str) -> str:
    """The body with our hidden marker carrying the effect's tag."""
    return f"{body.rstrip()}\n\n{marker(kind, effect_tag(key))}\n"


def has_tag(body: str | None, kind: str, key: str) -> bool:
    return find_marker(body or "", kind) == effect_tag(key)


async def post_comment_once(store, gh, comments_url: str, key: str, kind: str, body: str) -> dict:
    """Post a comment exactly once for this key; returns {"id", "html_url"}."""
    async def do():
        made = await gh.post(comments_url, data={"body": tagged(body, kind, key)})
        return {"id": made.get("id"), "html_url": made.get("html_url")}

    async def find():
        async for c in gh.getiter(comments_url + "?per_page=100"):
            if has_tag(c.get("body"), kind, key):
                return {"id": c.get("id"), "html_url": c.get("html_url")}
        return None

    return await once(store, key, do, find)
