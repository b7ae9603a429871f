"""Heated threads: every comment updates the thread's heat estimate; crossing the threshold reminds once."""
from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

from gidgethub import routing

from app import heat, incidents, trust
from app.commands import Command, has_command_candidate, without_lines
from app.config import DEFAULTS
from app.durations import parse_duration
from app.github import TransientError
from app.threads import Comment, Thread, comment_from_event, is_bot, thread_from_event

from . import lock, remind
from .base import CommandCtx, CommandFailed, commands_of

router = routing.Router()
log = logging.getLogger("conduct_bot.heat")

NS = "heat"                       # thread key -> {"state": heat state, "hot": evidence, "alerts": n, ...}
KEEP = 90 * 86400.0               # a thread silent this long starts afresh
MAX_QUOTE = 4000                  # characters of a hot comment kept as evidence
# Below this score no configuration is needed to know nothing happens, so an ordinary comment costs
# no API call even when the configuration is not cached. Thresholds set lower than this are raised to it.
CANDIDATE_FLOOR = 0.3
DEFAULT_LOCK_THRESHOLD = 0.9     # heat.lock_threshold when heat.auto_lock is set without one
MAX_TRIES = 8                    # estimates of one comment before its delivery is retried later
# Scoring runs on these threads: not on the event loop (acknowledgements would wait for it) and not inside
# the store's write transaction (every other write would). It reads at most heat.MAX_BODY characters of a
# comment, in linear time: a few milliseconds at worst. (Parsing a comment's Markdown can take far longer:
# it runs in another process, app/offload.py.) Two threads, so one long comment does not hold up the others.
_SCORER = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="heat-score")
# (event loop, thread key) -> the lock held while a comment of that thread is counted
_COUNTING: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def opening_post(event) -> Comment | None:
    """An issue's or pull request's opening post, scored as the thread's first comment."""
    item = event.data.get("issue") or event.data.get("pull_request")
    if not item:
        return None
    user = item.get("user") or {}
    return Comment(id=f"post-{item.get('id')}", node_id=item.get("node_id", ""), kind="post",
                   url=item.get("url", ""), html_url=item.get("html_url", ""), author=user.get("login", ""),
                   author_type=user.get("type", "User"), author_association=item.get("author_association"),
                   body=item.get("body") or "", created_at=item.get("created_at"), reactions=item.get("reactions"))


async def _off_loop(fn, *args):
    return await asyncio.get_running_loop().run_in_executor(_SCORER, fn, *args)


def _counting(key: str) -> asyncio.Lock:
    """This process counts the comments of one thread one at a time (the store's compare-and-set
    still guards against other processes); held by no one, the lock goes away."""
    slot = (id(asyncio.get_running_loop()), key)
    lock = _COUNTING.get(slot)
    if lock is None:
        lock = _COUNTING[slot] = asyncio.Lock()
    return lock


async def heat_text(event, body: str | None) -> str | None:
    """What of a comment counts toward heat: its text without its command lines (SPEC: a comment that
    holds a command still counts), so a command line under abuse hides nothing. A report's statement
    counts too: its evidence goes only to the private incident, and the public sees a generic reminder at
    most. None when nothing is left: a comment of nothing but commands."""
    if not has_command_candidate(body):
        return body
    parsed = await commands_of(event, body)
    if not parsed:
        return body
    text = without_lines(body, [item.line for item in parsed])
    return text if text.strip() else None


async def observe(ctx, key: str, kind: str, comment, text: str):
    """Count the comment (as TEXT) in its thread's heat: (result, stored record).

    The state is read, scored on a worker thread, and written back only if no other comment of the thread
    was counted meanwhile (the record's version is unchanged); otherwise it is read and scored again."""
    ev = heat.HeatEvent(kind=kind, body=text, author=comment.author,
                        author_association=comment.author_association, created_at=comment.created_at,
                        comment_id=comment.id, reactions=comment.reactions)
    async with _counting(key):
        for _ in range(MAX_TRIES):
            old = await ctx.store.get(NS, key) or {}
            version = old.get("version", 0)
            state, result = await _off_loop(heat.observe, old.get("state"), ev)
            record = await ctx.store.update(NS, key, _compare_and_set(version, state, result, kind, comment),
                                            ttl=KEEP)
            if record is not None:
                return result, record
    raise TransientError(f"the heat of {key} kept changing while a comment was scored")


def _compare_and_set(version: int, state: dict, result, kind: str, comment):
    """The store update that writes the new state if the record is still at VERSION: (record or None)."""
    def write(current):
        current = current or {}
        if current.get("version", 0) != version:
            return current, None  # another comment was counted first: score again
        hot = _evidence(current.get("hot"), kind, comment, result)
        new = {**current, "state": state, "hot": hot, "version": version + 1}
        return new, new

    return write


def _evidence(hot, kind: str, comment, result) -> dict:
    """The thread's hot comments, as kept for an incident: the comment added if it is one of them."""
    hot = {str(k): v for k, v in (hot or {}).items()}
    if kind != "deleted" and comment.id in result.hot_comments:
        hot[str(comment.id)] = {"author": comment.author, "created_at": comment.created_at,
                                "html_url": comment.html_url, "body": (comment.body or "")[:MAX_QUOTE]}
    keep = {str(i) for i in result.hot_comments}
    return {k: v for k, v in hot.items() if k in keep}


@router.register("issue_comment", action="created")
@router.register("issue_comment", action="edited")
@router.register("issue_comment", action="deleted")
@router.register("pull_request_review_comment", action="created")
@router.register("pull_request_review_comment", action="edited")
@router.register("pull_request_review_comment", action="deleted")
@router.register("issues", action="opened")
@router.register("issues", action="edited")
@router.register("pull_request", action="opened")
@router.register("pull_request", action="edited")
async def estimate(event, ctx):
    comment = comment_from_event(event) if "comment" in event.data else opening_post(event)
    if comment is None or is_bot(comment.author, comment.author_type):
        return  # the bot's own comments and other bots' never count
    thread = thread_from_event(event)
    if thread is None:
        return
    if await trust.is_tracking_repo(ctx.rt, thread.full_name):
        return  # the working group's private discussion is not a public thread
    sender = event.data.get("sender") or {}
    if event.data.get("action") == "deleted" and is_bot(sender.get("login"), sender.get("type")):
        return  # the bot removing a report (or another bot tidying up) is not a person deleting in anger
    text = await heat_text(event, comment.body)
    if text is None:
        return  # nothing but commands: moderation, not heat
    kind = {"opened": "created"}.get(event.data.get("action"), event.data.get("action"))
    result, record = await observe(ctx, thread.key, kind, comment, text)
    if result.score < min(CANDIDATE_FLOOR, heat.DEFAULT_THRESHOLD) or kind == "deleted":
        return
    gh = await ctx.gh()
    config = await ctx.rt.config.load(gh, thread.owner, thread.repo, thread.installation_id)
    if not config["enabled"]:
        return
    tracking = await trust.tracking_repo(ctx.rt, config, thread.owner)
    if tracking and tracking.lower() == thread.full_name.lower():
        return  # recognised from the organisation's file: no heat, no reminders, no incidents about incidents
    threshold = config["heat"]["threshold"]
    threshold = heat.DEFAULT_THRESHOLD if threshold is None else max(threshold, CANDIDATE_FLOOR)
    if result.score < threshold:
        return
    await alert(Heated(ctx, gh, thread, config, result, record, threshold))


def _reasons_text(result) -> str:
    lines = [f"- {r['signal']} (weight {r['weight']:.2f}): {r.get('detail', '')}" for r in result.reasons]
    return (f"Heat score {result.score:.2f} (0 calm, 1 heated).\n\nSignals that raised it, strongest first (a "
            "signal's weight is what it adds to the score's log-odds: 1 multiplies the odds of \"heated\" by about "
            "2.7, 2 by about 7.4):\n\n" + ("\n".join(lines) or "- (none named)"))


@dataclass
class Heated:
    """A thread whose estimate crossed its threshold, with what acting on it needs."""
    ctx: Any
    gh: Any                 # the thread's installation
    thread: Thread
    config: Any             # the thread repository's configuration
    result: Any             # heat.observe's result for the latest comment
    record: dict            # the thread's stored heat record
    threshold: float

    @property
    def cooldown(self) -> int:
        return parse_duration(self.config["reminders"]["cooldown"] or DEFAULTS["reminders"]["cooldown"])

    def bot_ctx(self, key: str) -> CommandCtx:
        """A command context for what the bot does on its own (reminder, automatic lock)."""
        return CommandCtx(self.ctx.rt, self.gh, self.thread, None, self.config, "conduct-bot", key=key)


async def alert(h: Heated) -> None:
    ctx, thread, config, result = h.ctx, h.thread, h.config, h.result
    now = time.time()
    cooldown = h.cooldown

    def claim(old):
        old = old or {}
        last = old.get("last_alert_at") or 0
        if now - last < cooldown:
            return old, None
        n = int(old.get("alerts") or 0) + 1
        return {**old, "last_alert_at": now, "alerts": n}, n

    n = await ctx.store.update(NS, thread.key, claim, ttl=KEEP)
    if n is not None:
        await remind_and_record(h, n, now)
    if config["heat"]["shadow"]:
        return  # shadow mode records and never acts, lock included
    # The lock is claimed on its own, not with the reminder: a thread that keeps heating up after the
    # reminder reaches heat.lock_threshold within reminders.cooldown and must still be locked then.
    lock_at = config["heat"]["lock_threshold"]
    if lock_at is None:  # auto_lock without a lock threshold: only clearly hotter than the reminder's
        lock_at = max(DEFAULT_LOCK_THRESHOLD, h.threshold)
    if config["heat"]["auto_lock"] and result.score >= lock_at and not thread.locked:
        def claim_lock(old):
            old = old or {}
            if now - (old.get("last_lock_at") or 0) < cooldown:
                return old, None   # locked (or unlocked by a maintainer) within the cooldown: leave it
            m = int(old.get("locks") or 0) + 1
            return {**old, "last_lock_at": now, "locks": m}, m

        m = await ctx.store.update(NS, thread.key, claim_lock, ttl=KEEP)
        if m is not None:
            await auto_lock(h, f"heat:{thread.key}:lock{m}")


async def remind_and_record(h: Heated, n: int, now: float) -> None:
    """Alert number n: the reminder and the incident (in shadow mode, only a record of them)."""
    ctx, thread, config, result, record = h.ctx, h.thread, h.config, h.result, h.record
    key = f"heat:{thread.key}:{n}"
    extra = {**ctx.extra, "status": f"heated:{result.score:.2f}"}
    if config["heat"]["shadow"]:
        log.info("shadow mode: would post a reminder and open a heated incident", extra=extra)
        await ctx.store.put("heat-shadow", key, {"score": result.score, "at": now,
                                                 "signals": [r["signal"] for r in result.reasons]}, ttl=KEEP)
        return
    log.info("heated thread: reminding", extra=extra)
    recent = now - (record.get("last_reminder_at") or 0) < h.cooldown
    if config["reminders"]["auto"] and not recent:
        # The same reminder (and repository template) as /coc-remind, posted exactly once per alert;
        # skipped when one (a maintainer's, say) was posted within reminders.cooldown.
        await remind.run(h.bot_ctx(key), None)
    tracking = await trust.tracking_repo(ctx.rt, config, thread.owner)
    if tracking:
        evidence = [record["hot"][str(i)] for i in result.hot_comments if str(i) in record.get("hot", {})]
        await incidents.enqueue(ctx.rt, {
            "event_key": key, "thread": thread.as_dict(), "tracking": tracking, "kind": "heated",
            "reason": _reasons_text(result), "evidence": evidence,
        })


async def auto_lock(h: Heated, key: str) -> None:
    """Lock as too heated, notice first unless lock.notice is false: what /coc-lock too-heated does."""
    cmd = Command("lock", {"duration": None, "reason": "too heated", "note": ""}, 0)
    try:
        await lock.run_lock(h.bot_ctx(key), cmd)
    except CommandFailed as exc:
        log.warning("automatic lock refused: %s", exc, extra=h.ctx.extra)
