"""Slash commands typed in issue, pull-request and review comments: parse, check permission, run, record."""
from __future__ import annotations

import gidgethub
from gidgethub import routing

from app import incidents
from app.commands import THREAD_COMMANDS, Command, CommandError, has_command_candidate, parse_commands
from app.permissions import at_least, role
from app.threads import comment_from_event, is_bot, thread_from_event

from . import help as help_cmd
from . import hide, limit, lock, remind, report
from .base import CommandCtx, CommandFailed, Outcome

router = routing.Router()

# One place lists what each command does.
COMMANDS = {
    "report": report.run,
    "remind": remind.run,
    "lock": lock.run_lock,
    "unlock": lock.run_unlock,
    "limit": limit.run_limit,
    "unlimit": limit.run_unlimit,
    "hide": hide.run,
    "help": help_cmd.run,
}


@router.register("issue_comment", action="created")
@router.register("pull_request_review_comment", action="created")
async def run_thread_commands(event, ctx):
    comment = comment_from_event(event)
    # Guard clauses first: ordinary comments cost no API call.
    if comment is None or is_bot(comment.author, comment.author_type) or not has_command_candidate(comment.body):
        return
    thread = thread_from_event(event)
    if thread is None:
        return
    parsed = parse_commands(comment.body, THREAD_COMMANDS)
    if not parsed:
        return  # quoted or code-formatted commands cost nothing either
    gh = await ctx.gh()
    config = await ctx.rt.config.load(gh, thread.owner, thread.repo, thread.installation_id)
    tracking = await incidents.tracking_repo(ctx.rt, config)
    if tracking and tracking.lower() == thread.full_name.lower():
        return  # the working group's desk handles commands typed in incidents
    if not config["enabled"]:
        return
    lines = comment.body.replace("\r\n", "\n").split("\n")
    for item in parsed:
        cctx = CommandCtx(ctx.rt, gh, thread, comment, config, comment.author,
                          key=f"{ctx.delivery_id}:{item.line}",
                          line_text=lines[item.line].strip() if item.line < len(lines) else "", event=event)
        await run_one(ctx, cctx, item)


async def allowed(cctx: CommandCtx, name: str | None) -> bool:
    need = cctx.config["report_permission"] if name == "report" else cctx.config["maintainer_permission"]
    have = await role(cctx.store, cctx.gh, cctx.thread.owner, cctx.thread.repo, cctx.actor)
    return at_least(have, need)


async def run_one(ctx, cctx: CommandCtx, item: Command | CommandError) -> None:
    name = item.name
    if isinstance(item, CommandError):
        ok = await allowed(cctx, name if name == "report" else None)
        await cctx.react("confused")
        if ok:
            await cctx.answer("usage", await cctx.render("usage", message=item.message, usage=item.usage))
        ctx.log.info("malformed command", extra={**ctx.extra, "status": "usage" if ok else "refused"})
        return
    if not await allowed(cctx, name):
        await cctx.react("confused")
        if name == "report":  # never echo the reason; point to the private channel
            await cctx.answer("report-refused", await cctx.render("report_refused", contact=cctx.config["contact"]))
        ctx.log.info("command refused: permission", extra={**ctx.extra, "status": f"refused:{name}"})
        return
    if name == "report" and not await incidents.tracking_repo(ctx.rt, cctx.config):
        await cctx.react("confused")
        await cctx.answer("report-refused", await cctx.render("report_refused", contact=cctx.config["contact"]))
        ctx.log.error("a report was refused: no tracking repository is configured", extra=ctx.extra)
        return
    await cctx.react("eyes")
    try:
        outcome = await COMMANDS[name](cctx, item)
    except CommandFailed as exc:
        await cctx.react("confused")
        await cctx.answer(f"failed-{name}", str(exc))
        ctx.log.info("command could not act", extra={**ctx.extra, "status": f"failed:{name}"})
        return
    if name != "report":  # a report is acknowledged once its incident exists
        await cctx.react("+1")
    ctx.log.info("command done", extra={**ctx.extra, "status": f"done:{name}"})
    if outcome.record and name != "report":
        await record_action(cctx, name, item, outcome)


async def record_action(cctx: CommandCtx, name: str, cmd: Command, outcome: Outcome) -> None:
    tracking = await incidents.tracking_repo(cctx.rt, cctx.config)
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
