"""`/coc-lock` and `/coc-unlock`: lock notice, lock with a reason, and a persisted automatic unlock."""
from __future__ import annotations

import time

import gidgethub
from gidgethub import routing

from app.durations import format_duration
from app.text import neutralise
from app.threads import Thread, is_bot, thread_from_event

from .base import CommandCtx, CommandFailed, Outcome

router = routing.Router()



def unlock_key(thread: Thread) -> str:
    return f"unlock:{thread.key}"


async def run_lock(ctx: CommandCtx, cmd) -> Outcome:
    duration, reason, note = (cmd.args.get("duration"), cmd.args.get("reason") or "too heated",
                              cmd.args.get("note") or "")
    duration_text = f" for {format_duration(duration)}" if duration else ""
    notice = None
    if ctx.config["lock"]["notice"]:
        body = await ctx.render("lock", reason_text=reason, duration_text=duration_text,
                                note=neutralise(note) if note else "")
        notice = await ctx.post_in_thread("lock-notice", body)
    try:
        await ctx.gh.put(ctx.thread.issue_url + "/lock", data={"lock_reason": reason})
    except gidgethub.BadRequest as exc:
        if notice and notice.get("id"):  # the notice must not announce a lock that did not happen
            await _delete_comment(ctx.gh, ctx.thread, notice["id"])
        raise CommandFailed(f"GitHub refused to lock this conversation ({int(exc.status_code)}: {exc}).") from None
    if duration:
        await ctx.rt.enqueue("unlock", {"thread": ctx.thread.as_dict(), "lock_key": ctx.key, "reason": reason},
                              run_at=time.time() + duration, key=unlock_key(ctx.thread), replace=True)
    else:  # a lock without end replaces a pending automatic unlock
        await ctx.store.cancel(unlock_key(ctx.thread))
    return Outcome(f"locked as {reason}{duration_text}")


async def _delete_comment(gh, thread: Thread, comment_id: int) -> None:
    try:
        await gh.delete("/repos/{owner}/{repo}/issues/comments/{comment_id}",
                        {"owner": thread.owner, "repo": thread.repo, "comment_id": comment_id})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise


async def run_unlock(ctx: CommandCtx, cmd) -> Outcome:
    try:
        await ctx.gh.delete(ctx.thread.issue_url + "/lock")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise CommandFailed(
                f"GitHub refused to unlock this conversation ({int(exc.status_code)}: {exc}).") from None
    cancelled = await ctx.store.cancel(unlock_key(ctx.thread))
    return Outcome("unlocked" + (" and cancelled the automatic unlock" if cancelled else ""))


@router.register("issues", action="locked")
@router.register("issues", action="unlocked")
@router.register("pull_request", action="locked")
@router.register("pull_request", action="unlocked")
async def person_changed_lock(event, ctx):
    """A person locked or unlocked the thread by hand: their decision stands, so the bot's pending
    automatic unlock is dropped. The bot's own lock (and other bots') changes nothing."""
    sender = event.data.get("sender") or {}
    if is_bot(sender.get("login"), sender.get("type")):
        return
    thread = thread_from_event(event)
    if thread is not None and await ctx.store.cancel(unlock_key(thread)):
        ctx.log.info("automatic unlock cancelled: the lock was changed by hand",
                     extra={**ctx.extra, "status": f"unlock-cancelled:{event.data.get('action')}"})


async def run_unlock_job(job, rt) -> None:
    """Job kind `unlock`: the end of a timed lock. It undoes only the bot's own lock: a thread unlocked
    meanwhile, or locked again for another reason, is left as people left it."""
    thread = Thread.from_dict(job.payload["thread"])
    gh = await rt.clients.installation(thread.installation_id)
    try:
        current = await gh.getitem(thread.issue_url)
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) in (404, 410):
            return
        raise
    reason = job.payload.get("reason")
    if not current.get("locked") or (reason and current.get("active_lock_reason") not in (None, reason)):
        return
    try:
        await gh.delete(thread.issue_url + "/lock")
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise
