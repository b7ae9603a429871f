"""`/coc-lock` and `/coc-unlock`: lock notice, lock with a reason, and a persisted automatic unlock."""
from __future__ import annotations

import time

import gidgethub

from app.durations import format_duration
from app.text import neutralise
from app.threads import Thread

from .base import CommandCtx, CommandFailed, Outcome

REASON_TEXT = {"too heated": "too heated", "off-topic": "off-topic", "resolved": "resolved", "spam": "spam"}


def unlock_key(thread: Thread) -> str:
    return f"unlock:{thread.key}"


async def run_lock(ctx: CommandCtx, cmd) -> Outcome:
    duration, reason, note = cmd.args.get("duration"), cmd.args.get("reason") or "too heated", cmd.args.get("note") or ""
    duration_text = f" for {format_duration(duration)}" if duration else ""
    if ctx.config["lock"]["notice"]:
        body = await ctx.render("lock", reason_text=REASON_TEXT[reason], duration_text=duration_text,
                                note=neutralise(note) if note else "")
        await ctx.post_in_thread("lock-notice", body)
    try:
        await ctx.gh.put(ctx.thread.issue_url + "/lock", data={"lock_reason": reason})
    except gidgethub.BadRequest as exc:
        raise CommandFailed(f"GitHub refused to lock this conversation ({int(exc.status_code)}: {exc}).") from None
    if duration:
        await ctx.store.enqueue("unlock", {"thread": ctx.thread.as_dict(), "lock_key": ctx.key},
                                run_at=time.time() + duration, key=unlock_key(ctx.thread), replace=True)
        ctx.rt.worker.wake()
    else:  # a lock without end replaces a pending automatic unlock
        await ctx.store.cancel(unlock_key(ctx.thread))
    return Outcome(f"locked as {REASON_TEXT[reason]}{duration_text}")


async def run_unlock(ctx: CommandCtx, cmd) -> Outcome:
    try:
        await ctx.gh.delete(ctx.thread.issue_url + "/lock")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise CommandFailed(f"GitHub refused to unlock this conversation ({int(exc.status_code)}: {exc}).") from None
    cancelled = await ctx.store.cancel(unlock_key(ctx.thread))
    return Outcome("unlocked" + (" and cancelled the automatic unlock" if cancelled else ""))


async def run_unlock_job(job, rt) -> None:
    """Job kind `unlock`: the end of a timed lock."""
    thread = Thread.from_dict(job.payload["thread"])
    gh = await rt.clients.installation(thread.installation_id)
    try:
        await gh.delete(thread.issue_url + "/lock")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise
