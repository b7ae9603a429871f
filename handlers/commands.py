"""Slash commands typed in issue, pull-request and review comments: parse, check permission, run, record."""
from __future__ import annotations

import time

import gidgethub
from gidgethub import routing

from app import incidents, trust
from app.commands import THREAD_COMMANDS, Command, CommandError, has_command_candidate
from app.effects import once
from app.permissions import at_least, role
from app.text import bundled_template, code_span, marker, neutralise, render
from app.threads import comment_from_event, is_bot, thread_from_event

from . import block, hide, limit, lock, remind, report, resolve
from . import help as help_cmd
from .base import MAX_COMMANDS, CommandCtx, CommandFailed, Outcome, Reply, commands_of, comment_key

router = routing.Router()

# One place lists what each command does (which commands are offered where: app.commands).
COMMANDS = {
    "report": report.run,
    "remind": remind.run,
    "lock": lock.run_lock,
    "unlock": lock.run_unlock,
    "limit": limit.run_limit,
    "unlimit": limit.run_unlimit,
    "hide": hide.run,
    "help": help_cmd.run,
    "block": block.run_block,          # working group only
    "unblock": block.run_unblock,      # working group only
    "resolve": resolve.run,            # working group only
}


@router.register("issue_comment", action="created")
@router.register("pull_request_review_comment", action="created")
async def run_thread_commands(event, ctx):
    comment = comment_from_event(event)
    # Guard clauses first: ordinary comments cost no API call.
    if comment is None or is_bot(comment.author, comment.author_type) or not has_command_candidate(comment.body):
        return
    thread = thread_from_event(event)
    if thread is None or await trust.is_tracking_repo(ctx.rt, thread.full_name):
        return  # in a tracking repository only the working group's desk answers
    parsed = await commands_of(event, comment.body, THREAD_COMMANDS)  # never on the event loop
    if not parsed:
        return  # quoted or code-formatted commands cost nothing either
    gh = await ctx.gh()
    config = await ctx.rt.config.load(gh, thread.owner, thread.repo, thread.installation_id)
    tracking = await trust.tracking_repo(ctx.rt, config, thread.owner)
    if tracking and tracking.lower() == thread.full_name.lower():
        return  # the working group's desk handles commands typed in incidents
    if not config["enabled"]:
        return
    reply = Reply(comment_key(comment), gh, thread.comments_url)

    def make(item):
        return CommandCtx(ctx.rt, gh, thread, comment, config, comment.author, key=f"{reply.comment_key}:{item.line}",
                          line_text=line_of(comment.body, item.line), event=event, reply=reply)

    await run_comment(ctx, parsed, make, run_one, reply)


def line_of(body: str, number: int) -> str:
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[number].strip() if number < len(lines) else ""


async def run_comment(ctx, parsed: list, make, run_item, reply: Reply) -> None:
    """Run the commands of one comment: at most MAX_COMMANDS of them, a `/coc-report` once, and one reply
    (the parts of every command, and the commands that were ignored) posted after the last."""
    items, seen = [], set()
    for item in parsed:
        # The same command twice in one comment runs once; one comment is one report (its whole text
        # is the statement).
        same = ("report",) if item.name == "report" else (
            item.name, repr(sorted(item.args.items())) if isinstance(item, Command) else item.message)
        if same in seen:
            continue
        seen.add(same)
        items.append(item)
    ran, ignored = items[:MAX_COMMANDS], items[MAX_COMMANDS:]
    acted = False
    for item in ran:
        cctx = make(item)
        acted = await run_item(ctx, cctx, item) or acted
    if ignored and (acted or reply.parts):
        reply.add(ignored_note(ignored))
    if ignored:
        ctx.log.info("commands over the limit ignored", extra={**ctx.extra, "status": f"ignored:{len(ignored)}"})
    await reply.send(ctx.store)


def ignored_note(ignored: list) -> str:
    shown = ", ".join(f"`/coc-{i.name or 'unknown'}` (line {i.line + 1})" for i in ignored[:20])
    more = f" and {len(ignored) - 20} more" if len(ignored) > 20 else ""
    return render(bundled_template("commands_ignored"), marker="", limit=MAX_COMMANDS, ignored=shown + more).strip()


async def allowed(cctx: CommandCtx, name: str | None) -> bool:
    need = cctx.config["report_permission"] if name == "report" else cctx.config["maintainer_permission"]
    have = await role(cctx.store, cctx.gh, cctx.thread.owner, cctx.thread.repo, cctx.actor)
    return at_least(have, need)


REPORTS_PER_DAY = 5          # reports an account below maintainer_permission may file in 24 hours
REPORT_WINDOW = 86400.0


async def within_report_quota(cctx: CommandCtx) -> bool:
    """Reporting is for everyone, but cannot flood the working group: an account below
    maintainer_permission may file REPORTS_PER_DAY reports in 24 hours; maintainers are not limited.
    Counted per comment, so a retried or redelivered report is not counted twice."""
    have = await role(cctx.store, cctx.gh, cctx.thread.owner, cctx.thread.repo, cctx.actor)
    if at_least(have, cctx.config["maintainer_permission"]):
        return True
    now, me = time.time(), cctx.reply.comment_key if cctx.reply else cctx.key

    def count(old):
        recent = [r for r in (old or []) if now - r[0] < REPORT_WINDOW]
        if any(r[1] == me for r in recent):
            return recent, True
        if len(recent) >= REPORTS_PER_DAY:
            return recent, False
        return recent + [[now, me]], True

    return await cctx.store.update("report-quota", cctx.actor.lower(), count, ttl=REPORT_WINDOW)


async def refuse_report(ctx, cctx: CommandCtx, why: str, *, delete: bool = False) -> None:
    """A refused report never echoes its reason: a confused reaction and a reply naming the private
    channel. Over the quota the comment is removed too, so reporting cannot be used to post in public
    what a report says (otherwise a refused comment stays: it is the only copy of what was written)."""
    await cctx.react("confused")
    await cctx.answer("report-refused", await cctx.render("report_refused", contact=cctx.config["contact"]))
    if delete and cctx.config["delete_report_command"] and cctx.comment is not None:
        async def delete():
            try:
                await cctx.gh.delete(cctx.comment.url)
            except gidgethub.BadRequest as exc:
                if int(exc.status_code) != 404:
                    raise
            return True
        await once(cctx.store, f"{cctx.reply.comment_key if cctx.reply else cctx.key}:delete", delete)
    ctx.log.info("report refused", extra={**ctx.extra, "status": f"refused:report:{why}"})


async def run_one(ctx, cctx: CommandCtx, item: Command | CommandError) -> bool:
    """Run one command of a thread or (cctx.desk) of the working group in an incident, whose authority
    trust.desk_authority has already settled; True when its author was allowed to run it."""
    name = item.name
    if isinstance(item, CommandError):
        ok = cctx.from_incident or await allowed(cctx, name if name == "report" else None)
        await cctx.react("confused")
        if ok:
            await cctx.answer("usage", await cctx.render("usage", message=item.message, usage=item.usage))
        ctx.log.info("malformed command", extra={**ctx.extra, "status": "usage" if ok else "refused"})
        return ok
    if not cctx.from_incident:
        if not await allowed(cctx, name):
            if name == "report":
                await refuse_report(ctx, cctx, "permission")
            else:
                await cctx.react("confused")
                ctx.log.info("command refused: permission", extra={**ctx.extra, "status": f"refused:{name}"})
            return False
        if name == "report" and not await trust.tracking_repo(ctx.rt, cctx.config, cctx.thread.owner):
            await refuse_report(ctx, cctx, "no-tracking-repository")
            ctx.log.error("a report was refused: no tracking repository is configured", extra=ctx.extra)
            return True
        if name == "report" and not await within_report_quota(cctx):
            await refuse_report(ctx, cctx, "quota", delete=True)
            return False
    await cctx.react("eyes")
    try:
        outcome = await COMMANDS[name](cctx, item)
    except CommandFailed as exc:
        await cctx.react("confused")
        await cctx.answer(f"failed-{name}", await cctx.render("command_failed", command=f"/coc-{name}",
                                                               message=str(exc)))
        ctx.log.info("command could not act", extra={**ctx.extra, "status": f"failed:{name}"})
        return True
    if name != "report":  # a report is acknowledged once its incident exists
        await cctx.react("+1")
    ctx.log.info("command done", extra={**ctx.extra, "status": f"done:{name}"})
    if cctx.desk is not None:  # the working group's record is the reply in its incident
        if outcome.record:
            await cctx.answer(f"result-{name}", await cctx.render(
                "desk_result", command=f"/coc-{name}", actor=code_span(cctx.actor),
                result=neutralise(outcome.result)) + "\n\n" + marker("action", name))
        if outcome.accounts:
            await incidents.add_accounts(ctx.rt, cctx.desk.tracking, cctx.desk.number, outcome.accounts)
    elif outcome.record and name != "report":
        await record_action(cctx, name, item, outcome)
    return True


async def record_action(cctx: CommandCtx, name: str, cmd: Command, outcome: Outcome) -> None:
    tracking = await trust.tracking_repo(cctx.rt, cctx.config, cctx.thread.owner)
    if not tracking:
        return
    await incidents.enqueue(cctx.rt, {
        "event_key": cctx.key,
        "thread": cctx.thread.as_dict(),
        "tracking": tracking,
        "kind": "action",
        "actor": cctx.actor,
        "command": command_text(name, cmd),
        "action_name": name,
        "result": outcome.result,
        "evidence": outcome.evidence,
        "accounts": outcome.accounts,
    })


def command_text(name: str, cmd: Command) -> str:
    """The command as a short line for the record (free-text notes are kept out of titles, not of records)."""
    return f"/coc-{name}"
