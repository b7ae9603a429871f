"""The working group's desk: commands typed in an incident act on its thread; status, blocks, outcomes."""
from __future__ import annotations

import re
import time

import gidgethub
from gidgethub import routing

from app import incidents
from app.commands import INCIDENT_COMMANDS, USAGE, Command, CommandError, has_command_candidate, parse_commands
from app.durations import format_duration
from app.effects import once, post_comment_once
from app.permissions import at_least, role
from app.github import PermanentError
from app.text import code_span, find_marker, marker, neutralise
from app.threads import Thread, comment_from_event, is_bot

from . import commands as thread_commands
from .base import CommandCtx, CommandFailed, Outcome

router = routing.Router()

WG_PERMISSION = "write"


THREAD_LINK = re.compile(r"https?://[^/\s]+/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/(?:issues|pull)/(\d+)")


async def incident_of(ctx, event) -> dict | None:
    """The incident record behind this tracking-repository issue: from our own index, or, in the
    configured tracking repository only (private, written by the working group), from the issue's
    thread marker or link — never from a body elsewhere."""
    repo = (event.data.get("repository") or {}).get("full_name") or ""
    issue = event.data.get("issue") or {}
    number = issue.get("number")
    if not repo or number is None:
        return None
    rec = await ctx.store.get(incidents.NS_INCIDENT, f"{repo}#{number}".lower())
    if rec is None and repo.lower() == (ctx.settings.tracking_repo or "").lower():
        rec = await _adopt(ctx, repo, issue)
    if rec is not None:
        rec["tracking"] = repo
    return rec


async def _adopt(ctx, tracking: str, issue: dict) -> dict | None:
    """Index an incident issue the bot did not open itself (or whose index was lost)."""
    body = issue.get("body") or ""
    key = find_marker(body, "incident")
    m = re.fullmatch(r"([^/\s]+)/([^#\s]+)#(\d+)", key or "")
    if m:
        owner, name, num = m.group(1), m.group(2), int(m.group(3))
    else:
        m = THREAD_LINK.search(body)
        if not m:
            return None
        owner, name, num = m.group(1), m.group(2), int(m.group(3))
    try:
        inst = await ctx.rt.clients.installation_for_repo(owner, name)
        gh = await ctx.rt.clients.installation(inst)
        item = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", {"owner": owner, "repo": name, "number": num})
    except (PermanentError, gidgethub.BadRequest):
        ctx.log.warning("incident names a thread the App cannot reach", extra=ctx.extra)
        return None
    base = item.get("url") or f"{ctx.settings.api_url}/repos/{owner}/{name}/issues/{num}"
    repo_data = item.get("repository") or {}
    thread = Thread(inst, owner, name, num, bool(item.get("pull_request")), item.get("html_url", ""), base,
                    item.get("comments_url") or base + "/comments", bool(repo_data.get("private")),
                    bool(item.get("locked")), (item.get("user") or {}).get("login"))
    labels = [l.get("name") for l in issue.get("labels") or []]
    rec = {"code": (issue.get("title") or "").split(" ")[1] if (issue.get("title") or "").startswith("Incident ") else None,
           "number": issue["number"], "html_url": issue.get("html_url"), "created_at": issue.get("created_at"),
           "kinds": [k for k in incidents.KINDS if f"coc:{k}" in labels], "accounts": [], "thread": thread.key,
           "thread_data": thread.as_dict(), "venue": thread.full_name,
           "state": issue.get("state", "open"), "outcome": None}
    await ctx.store.put(incidents.NS_INCIDENT, f"{tracking}#{issue['number']}".lower(), rec)
    if rec["state"] == "open":
        await ctx.store.put(incidents.NS_THREAD, f"{tracking}:{thread.key}".lower(), {"number": issue["number"]})
    return dict(rec)


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
    rec = await incident_of(ctx, event)
    if rec is None:
        return
    tracking = rec["tracking"]
    gh = await ctx.gh()  # the tracking repository's installation
    owner, repo = tracking.split("/", 1)
    if not at_least(await role(ctx.store, gh, owner, repo, comment.author), WG_PERMISSION):
        return
    if "status:new" in names:
        await mark_triaged(ctx, gh, tracking, issue["number"])
    if not is_command:
        return
    tconfig = await ctx.rt.config.load_own(gh, owner, repo, ctx.installation_id)
    if not tconfig["enabled"]:
        return
    thread = Thread.from_dict(rec["thread_data"])
    thread_gh = await ctx.rt.clients.installation(thread.installation_id)
    config = await ctx.rt.config.load(thread_gh, thread.owner, thread.repo, thread.installation_id)
    lines = comment.body.replace("\r\n", "\n").split("\n")
    for item in parse_commands(comment.body, INCIDENT_COMMANDS):
        cctx = CommandCtx(ctx.rt, thread_gh, thread, comment, config, comment.author,
                          key=f"{ctx.delivery_id}:{item.line}",
                          line_text=lines[item.line].strip() if item.line < len(lines) else "",
                          answer_gh=gh, answer_url=issue["comments_url"], from_incident=True, event=event)
        await run_desk_command(ctx, cctx, item, tracking, issue["number"], rec)


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
    "block": lambda cctx, cmd, inc: run_block(cctx, cmd, inc),
    "unblock": lambda cctx, cmd, inc: run_unblock(cctx, cmd, inc),
    "resolve": lambda cctx, cmd, inc: run_resolve(cctx, cmd, inc),
    "help": lambda cctx, cmd, inc: run_help(cctx),
}


async def run_desk_command(ctx, cctx: CommandCtx, item, tracking: str, number: int, rec: dict) -> None:
    if isinstance(item, CommandError):
        await cctx.react("confused")
        await cctx.answer("usage", f"**Error**: {item.message}\nUsage: `{item.usage}`")
        return
    name = item.name
    inc = {"tracking": tracking, "number": number, "rec": rec}
    await cctx.react("eyes")
    try:
        if name in DESK_COMMANDS:
            outcome = await DESK_COMMANDS[name](cctx, item, inc)
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
        key = f"{tracking}#{number}".lower()
        stored = await ctx.store.get(incidents.NS_INCIDENT, key) or rec
        stored["accounts"] = sorted(set(stored.get("accounts", [])) | set(outcome.accounts))
        stored.pop("tracking", None)
        await ctx.store.put(incidents.NS_INCIDENT, key, stored)
    ctx.log.info("working-group command done", extra={**ctx.extra, "status": f"done:{name}"})


async def run_help(cctx: CommandCtx) -> Outcome:
    lines = "\n".join(f"- `{USAGE[n]}`" for n in ("remind", "lock", "unlock", "limit", "unlimit", "hide", "block",
                                                    "unblock", "resolve", "help"))
    await cctx.answer("help", "Working-group commands (they act on this incident's thread):\n\n" + lines)
    return Outcome("listed the commands", record=False)


def unblock_key(org: str, login: str) -> str:
    return f"unblock:{org}:{login}".lower()


async def run_block(cctx: CommandCtx, cmd: Command, inc: dict) -> Outcome:
    login, duration = cmd.args["login"], cmd.args.get("duration")
    org = cctx.thread.owner
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
                                             "login": login, "tracking": inc["tracking"], "number": inc["number"]},
                                 run_at=time.time() + duration, key=unblock_key(org, login), replace=True)
        cctx.rt.worker.wake()
        return Outcome(f"blocked {code_span(login)} from {org} for {format_duration(duration)}", accounts=[login])
    await cctx.store.cancel(unblock_key(org, login))
    return Outcome(f"blocked {code_span(login)} from {org} permanently", accounts=[login])


async def run_unblock(cctx: CommandCtx, cmd: Command, inc: dict) -> Outcome:
    login, org = cmd.args["login"], cctx.thread.owner
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


async def run_resolve(cctx: CommandCtx, cmd: Command, inc: dict) -> Outcome:
    outcome, note = cmd.args["outcome"], cmd.args.get("note") or ""
    gh, tracking, number = cctx.answer_gh, inc["tracking"], inc["number"]
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
    await close_in_index(cctx.rt, tracking, number, outcome)
    return Outcome(f"resolved as {outcome}", record=False)


async def close_in_index(rt, tracking: str, number: int, outcome: str | None) -> None:
    key = f"{tracking}#{number}".lower()
    rec = await rt.store.get(incidents.NS_INCIDENT, key)
    if rec is None:
        return
    rec["state"] = "closed"
    if outcome:
        rec["outcome"] = outcome
    await rt.store.put(incidents.NS_INCIDENT, key, rec)
    thread_key = f"{tracking}:{rec['thread']}".lower()
    current = await rt.store.get(incidents.NS_THREAD, thread_key)
    if current and current.get("number") == number:
        await rt.store.delete(incidents.NS_THREAD, thread_key)
    await rt.store.cancel(f"nudge:{tracking}#{number}".lower())


@router.register("issues", action="closed")
async def incident_closed(event, ctx):
    issue = event.data.get("issue") or {}
    rec = await incident_of(ctx, event)
    if rec is None:
        return
    outcome = next((l["name"].split(":", 1)[1] for l in issue.get("labels", []) if l["name"].startswith("outcome:")), None)
    await close_in_index(ctx.rt, rec["tracking"], issue["number"], outcome)


@router.register("issues", action="reopened")
async def incident_reopened(event, ctx):
    issue = event.data.get("issue") or {}
    rec = await incident_of(ctx, event)
    if rec is None:
        return
    tracking = rec.pop("tracking")
    rec["state"], rec["outcome"] = "open", None
    await ctx.store.put(incidents.NS_INCIDENT, f"{tracking}#{issue['number']}".lower(), rec)
    await ctx.store.put(incidents.NS_THREAD, f"{tracking}:{rec['thread']}".lower(), {"number": issue["number"]})
