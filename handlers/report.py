"""`/coc-report [reason…]`: open a private incident with the evidence, then remove the command comment."""
from __future__ import annotations

import math

from app import incidents, offload
from app.commands import command_lines
from app.threads import is_bot

from .base import CommandCtx, Outcome

EVIDENCE_COMMENTS = 20


def statement_of(body: str, report_line: int) -> str:
    """The reporter's statement: the whole comment except its command lines, where the `/coc-report`
    line itself contributes what follows the command word. The comment is deleted once the incident
    exists, so nothing the reporter wrote may be left out."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    commands = set(command_lines(body))
    kept = []
    for number, line in enumerate(lines):
        if number == report_line:
            rest = line.strip().split(None, 1)
            kept.append(rest[1] if len(rest) > 1 else "")
        elif number not in commands:
            kept.append(line)
    return "\n".join(kept).strip()


async def _conversation(ctx: CommandCtx, issue: dict) -> list[dict]:
    """The latest conversation comments before the report, newest first."""
    total = int(issue.get("comments") or 0)
    picked: list[dict] = []
    page = max(1, math.ceil(total / 100))
    while page >= 1 and len(picked) < EVIDENCE_COMMENTS:
        batch = await ctx.gh.getitem(ctx.thread.comments_url + f"?per_page=100&page={page}")
        for c in reversed(batch or []):
            if _keep(ctx, c, "issue_comment"):
                picked.append(_snapshot(c))
                if len(picked) >= EVIDENCE_COMMENTS:
                    break
        page -= 1
    return picked


async def _review_comments(ctx: CommandCtx) -> list[dict]:
    """A pull request's review (diff) comments, where abuse often is: the latest, newest first."""
    batch = await ctx.gh.getitem("/repos/{owner}/{repo}/pulls/{number}/comments{?sort,direction,per_page}",
                                 {"owner": ctx.thread.owner, "repo": ctx.thread.repo, "number": ctx.thread.number,
                                  "sort": "created", "direction": "desc", "per_page": 100})
    return [_snapshot(c, note=f"review comment on {c['path']}" if c.get("path") else "review comment")
            for c in batch or [] if _keep(ctx, c, "review_comment")][:EVIDENCE_COMMENTS]


def _keep(ctx: CommandCtx, c: dict, kind: str) -> bool:
    user = c.get("user") or {}
    if ctx.comment is not None and c.get("id") == ctx.comment.id and ctx.comment.kind == kind:
        return False  # the report itself
    if is_bot(user.get("login"), user.get("type")):
        return False
    return (user.get("login") or "").lower() != ctx.actor.lower()


def _snapshot(c: dict, note: str | None = None) -> dict:
    snap = {"author": (c.get("user") or {}).get("login"), "created_at": c.get("created_at"),
            "html_url": c.get("html_url"), "body": c.get("body") or ""}
    if note:
        snap["note"] = note
    return snap


async def gather_evidence(ctx: CommandCtx) -> list[dict]:
    """The opening post and the latest comments before the report (not the reporter's, not bots'); in a
    pull request, its review comments too, in time order."""
    event = ctx.event
    issue = event.data.get("issue") or event.data.get("pull_request") or {}
    if "comments" not in issue:
        # Review-comment payloads carry no conversation count: one call tells where the last page is.
        issue = {**issue, **(await ctx.gh.getitem(ctx.thread.issue_url))}
    picked = await _conversation(ctx, issue)
    if ctx.thread.is_pr:
        picked = sorted(picked + await _review_comments(ctx), key=lambda c: c.get("created_at") or "",
                        reverse=True)[:EVIDENCE_COMMENTS]
    picked.reverse()
    opener = (issue.get("user") or {}).get("login")
    if opener and opener.lower() != ctx.actor.lower() and (issue.get("body") or "").strip():
        picked.insert(0, {"author": opener, "created_at": issue.get("created_at"), "html_url": issue.get("html_url"),
                          "body": issue.get("body") or "", "note": "opening post"})
    return picked


async def run(ctx: CommandCtx, cmd) -> Outcome:
    tracking = await incidents.tracking_repo(ctx.rt, ctx.config, ctx.thread.owner)
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
        "reason": await offload.run(statement_of, ctx.comment.body, cmd.line),
        "evidence": evidence,
        "after": after,
    })
    return Outcome("report filed", record=False)
