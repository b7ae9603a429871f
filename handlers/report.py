"""`/coc-report [reason…]`: open a private incident with the evidence, then remove the command comment."""
from __future__ import annotations

import math

from app import incidents
from app.threads import is_bot

from .base import CommandCtx, Outcome

EVIDENCE_COMMENTS = 20


async def gather_evidence(ctx: CommandCtx) -> list[dict]:
    """The opening post and the latest comments before the report (not the reporter's, not bots')."""
    event = ctx.event
    issue = event.data.get("issue") or event.data.get("pull_request") or {}
    if "comments" not in issue:
        # Review-comment payloads carry no conversation count: one call tells where the last page is.
        issue = {**issue, **(await ctx.gh.getitem(ctx.thread.issue_url))}
    total = int(issue.get("comments") or 0)
    picked: list[dict] = []
    page = max(1, math.ceil(total / 100))
    while page >= 1 and len(picked) < EVIDENCE_COMMENTS:
        batch = await ctx.gh.getitem(ctx.thread.comments_url + f"?per_page=100&page={page}")
        for c in reversed(batch or []):
            user = c.get("user") or {}
            if c.get("id") == (ctx.comment.id if ctx.comment else None) or is_bot(user.get("login"), user.get("type")):
                continue
            if user.get("login", "").lower() == ctx.actor.lower():
                continue
            picked.append({"author": user.get("login"), "created_at": c.get("created_at"),
                           "html_url": c.get("html_url"), "body": c.get("body") or ""})
            if len(picked) >= EVIDENCE_COMMENTS:
                break
        page -= 1
    picked.reverse()
    opener = (issue.get("user") or {}).get("login")
    if opener and opener.lower() != ctx.actor.lower() and (issue.get("body") or "").strip():
        picked.insert(0, {"author": opener, "created_at": issue.get("created_at"), "html_url": issue.get("html_url"),
                          "body": issue.get("body") or "", "note": "opening post"})
    return picked


async def run(ctx: CommandCtx, cmd) -> Outcome:
    tracking = await incidents.tracking_repo(ctx.rt, ctx.config)
    evidence = await gather_evidence(ctx)
    after = {"installation_id": ctx.thread.installation_id, "react_url": ctx.comment.reactions_url}
    if ctx.config["delete_report_command"]:
        after["delete_url"] = ctx.comment.url
    await incidents.enqueue(ctx.rt, {
        "event_key": ctx.key,
        "thread": ctx.thread.as_dict(),
        "tracking": tracking,
        "kind": "report",
        "reporter": ctx.actor,
        "reason": cmd.args.get("reason") or "",
        "evidence": evidence,
        "after": after,
    })
    return Outcome("report filed", record=False)
