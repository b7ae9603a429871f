"""The working group's desk: who may act in an incident (app.trust), triage status, and the index kept true
when incidents are closed or reopened by hand. The commands themselves run through handlers.commands."""
from __future__ import annotations

import time

import gidgethub
from gidgethub import routing

from app import incidents, trust
from app.commands import INCIDENT_COMMANDS, has_command_candidate
from app.threads import comment_from_event, is_bot

from .base import CommandCtx, Reply, commands_of, comment_key
from .commands import line_of, run_comment, run_one

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
    parsed = await commands_of(event, comment.body, INCIDENT_COMMANDS)
    if not parsed:
        return
    reply = Reply(comment_key(comment), gh, issue["comments_url"])

    def make(item):
        return CommandCtx(ctx.rt, desk.thread_gh, desk.thread, comment, desk.config, comment.author,
                          key=f"{reply.comment_key}:{item.line}", line_text=line_of(comment.body, item.line),
                          answer_gh=gh, answer_url=issue["comments_url"], event=event, reply=reply, desk=desk)

    await run_comment(ctx, parsed, make, run_one, reply)


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


@router.register("issues", action="closed")
@router.register("issues", action="reopened")
async def incident_closed_or_reopened(event, ctx):
    """An incident closed or reopened by hand keeps the index true (outcome from its label)."""
    issue = event.data.get("issue") or {}
    desk = await trust.desk_authority(ctx.rt, event)
    if desk is None:
        return
    if event.data.get("action") == "reopened":
        await incidents.reopen_in_index(ctx.rt, desk.tracking, issue["number"])
        return
    outcome = next((label["name"].split(":", 1)[1] for label in issue.get("labels", [])
                    if label["name"].startswith("outcome:")), None)
    await incidents.close_in_index(ctx.rt, desk.tracking, issue["number"], outcome)
