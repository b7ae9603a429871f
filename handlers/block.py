"""`/coc-block` and `/coc-unblock` (working group only): organisation blocks, with a persisted timed lift."""
from __future__ import annotations

import time

import gidgethub

from app import incidents
from app.durations import format_duration
from app.effects import post_comment_once
from app.text import bundled_template, code_span, marker, render

from .base import CommandCtx, CommandFailed, Outcome


def unblock_key(org: str, login: str) -> str:
    return f"unblock:{org}:{login}".lower()


async def run_block(cctx: CommandCtx, cmd) -> Outcome:
    login, duration = cmd.args["login"], cmd.args.get("duration")
    org = cctx.desk.org  # the incident thread's organisation, whose tracking repository this is
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
        await cctx.rt.enqueue("unblock", {"installation_id": cctx.thread.installation_id, "org": org,
                                          "login": login, "tracking": cctx.desk.tracking, "number": cctx.desk.number},
                              run_at=time.time() + duration, key=unblock_key(org, login), replace=True)
        return Outcome(f"blocked {code_span(login)} from {org} for {format_duration(duration)}", accounts=[login])
    await cctx.store.cancel(unblock_key(org, login))
    return Outcome(f"blocked {code_span(login)} from {org} permanently", accounts=[login])


async def run_unblock(cctx: CommandCtx, cmd) -> Outcome:
    login, org = cmd.args["login"], cctx.desk.org
    try:
        await cctx.gh.delete("/orgs/{org}/blocks/{username}", {"org": org, "username": login})
    except gidgethub.BadRequest as exc:
        raise CommandFailed(f"GitHub refused to unblock {code_span(login)} ({int(exc.status_code)}: {exc}).") from None
    cancelled = await cctx.store.cancel(unblock_key(org, login))
    return Outcome(f"unblocked {code_span(login)} in {org}"
                   + (" and cancelled the scheduled unblock" if cancelled else ""))


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
        body = render(bundled_template("block_ended"), marker="", login=code_span(p["login"]), org=p["org"])
        await post_comment_once(rt.store, tgh, f"/repos/{owner}/{repo}/issues/{p['number']}/comments",
                                f"unblocked:{job.id}", "action", f"{body.strip()}\n\n{marker('action', 'unblock')}")
