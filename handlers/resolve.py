"""`/coc-resolve OUTCOME [note…]` (working group only): record the outcome and close the incident."""
from __future__ import annotations

from app import incidents
from app.text import code_span, neutralise

from .base import CommandCtx, Outcome


async def run(cctx: CommandCtx, cmd) -> Outcome:
    outcome, note = cmd.args["outcome"], cmd.args.get("note") or ""
    desk = cctx.desk
    gh, tracking, number = desk.gh, desk.tracking, desk.number
    owner, repo = tracking.split("/", 1)
    where = {"owner": owner, "repo": repo, "number": number}
    issue = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", where)
    keep = [label["name"] for label in issue.get("labels", [])
            if not label["name"].startswith(("status:", "outcome:"))]
    await incidents.ensure_labels(cctx.rt, gh, tracking, [f"outcome:{outcome}", "status:resolved"])
    await cctx.answer("resolve-note", await cctx.render(
        "resolve_note", outcome=outcome, actor=code_span(cctx.actor),
        note=("\n\nNote:\n\n" + neutralise(note)) if note else ""))
    await gh.patch("/repos/{owner}/{repo}/issues/{number}", where,
                   data={"labels": keep + ["status:resolved", f"outcome:{outcome}"], "state": "closed",
                         "state_reason": "completed"})
    await incidents.close_in_index(cctx.rt, tracking, number, outcome)
    return Outcome(f"resolved as {outcome}", record=False)
