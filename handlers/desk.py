"""The working group's desk: commands typed in an incident act on its thread; status, blocks, outcomes."""
from __future__ import annotations

import asyncio
import time

import gidgethub
from gidgethub import routing

from app import incidents, trust
from app.commands import INCIDENT_COMMANDS, USAGE, Command, CommandError, has_command_candidate, parse_commands
from app.durations import format_duration
from app.effects import post_comment_once
from app.text import code_span, marker, neutralise
from app.threads import comment_from_event, is_bot

from . import commands as thread_commands
from .base import CommandCtx, CommandFailed, Outcome, Reply, comment_key
from .commands import line_of, run_comment

router = routing.Router()


@router.register("issue_comment", action="created")
async def desk_comment(event, ctx):
    comment = comment_from_event(event)
    issue = event.data.get("issue") or {}
    if comment is None or is_bot(comment.author, comment.author_type):
        return
    names = {l.get("name") for l in issue.get("labels") or []}
    if not names & {"coc:report", "coc:heated", "coc:action"}:
        return  # not an incident: no API call
    is_command = has_command_candidate(comment.body)
    if "status:new" not in names and not is_command:
        return
    desk = await trust.desk_authority(ctx.rt, event, actor=(event.data.get("comment") or {}).get("user") or {})
    if desk is None:
        return
    gh, tracking = desk.gh, desk.tracking
    try:
        await incidents.ensure_private(ctx.rt, gh, tracking, time.time())
    except incidents.NotPrivate as exc:
        ctx.log.error("working-group comment ignored: %s", exc, extra=ctx.extra)
        return
    if "status:new" in names:
        await mark_triaged(ctx, gh, tracking, issue["number"])
    if not is_command:
        return
    owner, repo = tracking.split("/", 1)
    tconfig = await ctx.rt.config.load(gh, owner, repo, ctx.installation_id)  # its own file over its org's
    if not tconfig["enabled"]:
        return
    parsed = await asyncio.to_thread(parse_commands, comment.body, INCIDENT_COMMANDS)
    if not parsed:
        return
    reply = Reply(comment_key(comment), gh, issue["comments_url"])

    def make(item):
        return CommandCtx(ctx.rt, desk.thread_gh, desk.thread, comment, desk.config, comment.author,
                          key=f"{reply.comment_key}:{item.line}", line_text=line_of(comment.body, item.line),
                          answer_gh=gh, answer_url=issue["comments_url"], from_incident=True, event=event,
                          reply=reply)

    async def run_item(ctx, cctx, item):
        await run_desk_command(ctx, cctx, item, desk)
        return True

    await run_comment(ctx, parsed, make, run_item, reply)


async def mark_triaged(ctx, gh, tracking: str, number: int) -> None:
    owner, repo = tracking.split("/", 1)
    await incidents.ensure_labels(ctx.rt, gh, tracking, ["status:triaged"])
    await gh.post("/repos/{owner}/{repo}/issues/{number}/labels", {"owner": owner, "repo": repo, "number": number},
                  data={"labels": ["status:triaged"]})
    try:
        await gh.delete("/repos/{owner}/{repo}/issues/{number}/labels/{name}",
                        {"owner": owner, "repo": repo, "number": number, "name": "status:new"})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise
    await ctx.store.cancel(f"nudge:{tracking}#{number}".lower())


DESK_COMMANDS = {
    "block": lambda cctx, cmd, desk: run_block(cctx, cmd, desk),
    "unblock": lambda cctx, cmd, desk: run_unblock(cctx, cmd, desk),
    "resolve": lambda cctx, cmd, desk: run_resolve(cctx, cmd, desk),
    "help": lambda cctx, cmd, desk: run_help(cctx),
}


async def run_desk_command(ctx, cctx: CommandCtx, item, desk: trust.Desk) -> None:
    if isinstance(item, CommandError):
        await cctx.react("confused")
        await cctx.answer("usage", f"**Error**: {item.message}\nUsage: `{item.usage}`")
        return
    name = item.name
    await cctx.react("eyes")
    try:
        if name in DESK_COMMANDS:
            outcome = await DESK_COMMANDS[name](cctx, item, desk)
        else:
            outcome = await thread_commands.COMMANDS[name](cctx, item)
    except CommandFailed as exc:
        await cctx.react("confused")
        await cctx.answer(f"result-{name}", f"`/coc-{name}` did not act: {exc}")
        ctx.log.info("working-group command could not act", extra={**ctx.extra, "status": f"failed:{name}"})
        return
    await cctx.react("+1")
    if outcome.record:
        body = f"`/coc-{name}` by {code_span(cctx.actor)}: {neutralise(outcome.result)}.\n\n{marker('action', name)}"
        await cctx.answer(f"result-{name}", body)
    if outcome.accounts:
        await incidents.add_accounts(ctx.rt, desk.tracking, desk.number, outcome.accounts)
    ctx.log.info("working-group command done", extra={**ctx.extra, "status": f"done:{name}"})


async def run_help(cctx: CommandCtx) -> Outcome:
    lines = "\n".join(f"- `{USAGE[n]}`" for n in ("remind", "lock", "unlock", "limit", "unlimit", "hide", "block",
                                                    "unblock", "resolve", "help"))
    await cctx.answer("help", "Working-group commands (they act on this incident's thread):\n\n" + lines)
    return Outcome("listed the commands", record=False)


def unblock_key(org: str, login: str) -> str:
    return f"unblock:{org}:{login}".lower()


async def run_block(cctx: CommandCtx, cmd: Command, desk: trust.Desk) -> Outcome:
    login, duration = cmd.args["login"], cmd.args.get("duration")
    org = desk.org  # the incident thread's organisation, whose tracking repository this is
    try:
        await cctx.gh.put("/orgs/{org}/blocks/{username}", {"org": org, "username": login})
    except gidgethub.BadRequest as exc:
        status = int(exc.status_code)
        if status == 422:
            raise CommandFailed(f"GitHub refused to block {code_span(login)} from {org}: {exc}. "
                                "Organisation members cannot be blocked; remove them from the organisation first "
                                "if that is the decision.") from None
        if status == 404:
            raise CommandFailed(f"{org} is not an organisation the App can block users in, or "
                                f"{code_span(login)} does not exist.") from None
        raise CommandFailed(f"GitHub refused to block {code_span(login)} ({status}: {exc}).") from None
    if duration:
        await cctx.store.enqueue("unblock", {"installation_id": cctx.thread.installation_id, "org": org,
                                             "login": login, "tracking": desk.tracking, "number": desk.number},
                                 run_at=time.time() + duration, key=unblock_key(org, login), replace=True)
        cctx.rt.worker.wake()
        return Outcome(f"blocked {code_span(login)} from {org} for {format_duration(duration)}", accounts=[login])
    await cctx.store.cancel(unblock_key(org, login))
    return Outcome(f"blocked {code_span(login)} from {org} permanently", accounts=[login])


async def run_unblock(cctx: CommandCtx, cmd: Command, desk: trust.Desk) -> Outcome:
    login, org = cmd.args["login"], desk.org
    try:
        await cctx.gh.delete("/orgs/{org}/blocks/{username}", {"org": org, "username": login})
    except gidgethub.BadRequest as exc:
        raise CommandFailed(f"GitHub refused to unblock {code_span(login)} ({int(exc.status_code)}: {exc}).") from None
    cancelled = await cctx.store.cancel(unblock_key(org, login))
    return Outcome(f"unblocked {code_span(login)} in {org}" + (" and cancelled the scheduled unblock" if cancelled else ""))


async def run_unblock_job(job, rt) -> None:
    """Job kind `unblock`: the end of a timed block (GitHub has no timed blocks)."""
    p = job.payload
    gh = await rt.clients.installation(p["installation_id"])
    try:
        await gh.delete("/orgs/{org}/blocks/{username}", {"org": p["org"], "username": p["login"]})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) != 404:
            raise
    if p.get("tracking"):
        tgh = await incidents.tracking_client(rt, p["tracking"])
        owner, repo = p["tracking"].split("/", 1)
        await post_comment_once(rt.store, tgh, f"/repos/{owner}/{repo}/issues/{p['number']}/comments",
                                f"unblocked:{job.id}", "action",
                                f"The timed block of {code_span(p['login'])} in {p['org']} has ended; "
                                f"the account is unblocked.\n\n{marker('action', 'unblock')}")


async def run_resolve(cctx: CommandCtx, cmd: Command, desk: trust.Desk) -> Outcome:
    outcome, note = cmd.args["outcome"], cmd.args.get("note") or ""
    gh, tracking, number = desk.gh, desk.tracking, desk.number
    owner, repo = tracking.split("/", 1)
    where = {"owner": owner, "repo": repo, "number": number}
    issue = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", where)
    keep = [l["name"] for l in issue.get("labels", [])
            if not l["name"].startswith(("status:", "outcome:"))]
    await incidents.ensure_labels(cctx.rt, gh, tracking, [f"outcome:{outcome}", "status:resolved"])
    text = f"Resolved with outcome **{outcome}** by {code_span(cctx.actor)}."
    if note:
        text += "\n\nNote:\n\n" + neutralise(note)
    await cctx.answer("resolve-note", text)
    await gh.patch("/repos/{owner}/{repo}/issues/{number}", where,
                   data={"labels": keep + ["status:resolved", f"outcome:{outcome}"], "state": "closed",
                         "state_reason": "completed"})
    await incidents.close_in_index(cctx.rt, tracking, number, outcome)
    return Outcome(f"resolved as {outcome}", record=False)


@router.register("issues", action="closed")
async def incident_closed(event, ctx):
    issue = event.data.get("issue") or {}
    desk = await trust.desk_authority(ctx.rt, event)
    if desk is None:
        return
    outcome = next((l["name"].split(":", 1)[1] for l in issue.get("labels", []) if l["name"].startswith("outcome:")), None)
    await incidents.close_in_index(ctx.rt, desk.tracking, issue["number"], outcome)


@router.register("issues", action="reopened")
async def incident_reopened(event, ctx):
    issue = event.data.get("issue") or {}
    desk = await trust.desk_authority(ctx.rt, event)
    if desk is None:
        return
    await incidents.reopen_in_index(ctx.rt, desk.tracking, issue["number"])
