"""The incident index: the one owner of incident records in the store.

Records: `incident` ("owner/repo#N" of the incident issue -> its record: code name, kinds, accounts
involved, thread, state, outcome), `incident-thread` (tracking repository + thread -> its open
incident), and the registry of repositories known as some organisation's tracking repository. No
other module writes these namespaces; handlers and jobs call the functions below.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

from ..threads import Thread
from ..vocabulary import KINDS

NS_THREAD = "incident-thread"      # thread key -> {"repo", "number"} of its open incident

NS_INCIDENT = "incident"           # "owner/repo#N" -> incident record

NS_DONE = "incident-event"         # event keys already applied

NS_REGISTRY = "tracking-repo"      # repository -> {"orgs": [...]}: repositories named as an org's tracking repo


def index_key(tracking: str, number: int) -> str:
    return f"{tracking}#{number}".lower()


def thread_index_key(tracking: str, thread_key: str) -> str:
    return f"{tracking}:{thread_key}".lower()


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts or time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def remember_tracking(rt, full_name: str, owner: str | None = None) -> None:
    key = full_name.lower()
    known = await rt.store.get(NS_REGISTRY, key)
    orgs = set((known or {}).get("orgs", []))
    if known is None or (owner and owner.lower() not in orgs):
        await rt.store.put(NS_REGISTRY, key, {"orgs": sorted(orgs | ({owner.lower()} if owner else set()))})

async def is_tracking_repo(rt, full_name: str) -> bool:
    """Whether a repository is (or was) some organisation's tracking repository; costs no API call."""
    key = (full_name or "").lower()
    if key == (rt.settings.tracking_repo or "").lower():
        return True
    return await rt.store.get(NS_REGISTRY, key) is not None


async def index_get(rt, tracking: str, number: int) -> dict | None:
    return await rt.store.get(NS_INCIDENT, index_key(tracking, number))


async def open_incident(rt, tracking: str, thread_key: str) -> dict | None:
    """The thread's open incident in this tracking repository, or None."""
    current = await rt.store.get(NS_THREAD, thread_index_key(tracking, thread_key))
    if not current:
        return None
    rec = await rt.store.get(NS_INCIDENT, index_key(tracking, current["number"])) or {}
    return {**rec, "number": current["number"]}


async def record_new(rt, tracking: str, made: dict, kind: str, accounts: list[str], thread: Thread) -> None:
    """A new incident issue: its record, and the thread's open incident."""
    number = made["number"]
    await rt.store.put(NS_INCIDENT, index_key(tracking, number), {
        "code": made["code"], "number": number, "html_url": made.get("html_url"), "created_at": _iso(),
        "kinds": [kind], "accounts": accounts, "thread": thread.key, "thread_data": thread.as_dict(),
        "venue": thread.full_name, "state": "open", "outcome": None})
    await rt.store.put(NS_THREAD, thread_index_key(tracking, thread.key), {"number": number})


async def record_event(rt, tracking: str, number: int, kind: str, accounts) -> None:
    """A later event of an open incident: its kind joins the incident's, its accounts too."""
    def fn(rec):
        rec = dict(rec or {})
        rec["kinds"] = sorted(set(rec.get("kinds", [])) | {kind})
        rec["accounts"] = sorted(set(rec.get("accounts", [])) | set(accounts))
        return rec, None
    await rt.store.update(NS_INCIDENT, index_key(tracking, number), fn)


async def is_done(rt, event_key: str) -> bool:
    return bool(await rt.store.get(NS_DONE, event_key))


async def mark_done(rt, event_key: str) -> None:
    await rt.store.put(NS_DONE, event_key, True, ttl=60 * 86400)


async def related(rt, tracking: str, accounts: list[str], exclude: str | None = None) -> list[tuple[str, dict, set]]:
    """Earlier incidents of this tracking repository that involved any of these accounts, oldest first:
    (created_at, record, shared accounts)."""
    if not accounts:
        return []
    wanted = {a.lower() for a in accounts}
    rows = []
    for key, rec in await rt.store.items(NS_INCIDENT):
        if not key.startswith(tracking.lower() + "#") or key == exclude:
            continue
        shared = wanted & {a.lower() for a in rec.get("accounts", [])}
        if shared:
            rows.append((rec.get("created_at", ""), rec, shared))
    rows.sort(key=lambda r: r[0])
    return rows


async def adopt(rt, tracking: str, issue: dict, thread: Thread) -> dict:
    """Index an incident issue the bot did not open itself (or whose index was lost)."""
    labels = [l.get("name") for l in issue.get("labels") or []]
    title = issue.get("title") or ""
    rec = {"code": title.split(" ")[1] if title.startswith("Incident ") and " " in title else None,
           "number": issue["number"], "html_url": issue.get("html_url"), "created_at": issue.get("created_at"),
           "kinds": [k for k in KINDS if f"coc:{k}" in labels], "accounts": [], "thread": thread.key,
           "thread_data": thread.as_dict(), "venue": thread.full_name,
           "state": issue.get("state", "open"), "outcome": None}
    await rt.store.put(NS_INCIDENT, index_key(tracking, issue["number"]), rec)
    if rec["state"] == "open":
        await rt.store.put(NS_THREAD, thread_index_key(tracking, thread.key), {"number": issue["number"]})
    return rec

async def add_accounts(rt, tracking: str, number: int, accounts) -> None:
    def fn(rec):
        if rec is None:
            return rec, None
        return {**rec, "accounts": sorted(set(rec.get("accounts", [])) | set(accounts))}, None
    await rt.store.update(NS_INCIDENT, index_key(tracking, number), fn)

async def close_in_index(rt, tracking: str, number: int, outcome: str | None) -> None:
    key = index_key(tracking, number)
    rec = await rt.store.get(NS_INCIDENT, key)
    if rec is None:
        return
    rec["state"] = "closed"
    if outcome:
        rec["outcome"] = outcome
    await rt.store.put(NS_INCIDENT, key, rec)
    # Atomically: a reopened incident of the same thread may have taken the thread meanwhile.
    await rt.store.update(NS_THREAD, thread_index_key(tracking, rec["thread"]),
                          lambda cur: (None if cur and cur.get("number") == number else cur, None))
    await rt.store.cancel(f"nudge:{tracking}#{number}".lower())

async def reopen_in_index(rt, tracking: str, number: int) -> None:
    key = index_key(tracking, number)
    rec = await rt.store.get(NS_INCIDENT, key)
    if rec is None:
        return
    rec["state"], rec["outcome"] = "open", None
    await rt.store.put(NS_INCIDENT, key, rec)
    await rt.store.put(NS_THREAD, thread_index_key(tracking, rec["thread"]), {"number": number})
