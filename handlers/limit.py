"""`/coc-limit` and `/coc-unlimit`: the repository's interaction limit, for maintainers without admin rights."""
from __future__ import annotations

import gidgethub

from app.durations import LIMIT_EXPIRY_TEXT
from app.vocabulary import LIMIT_TEXT

from .base import CommandCtx, CommandFailed, Outcome


def _refusal(exc: gidgethub.BadRequest, verb: str) -> CommandFailed:
    status = int(exc.status_code)
    if status == 409:
        return CommandFailed(f"GitHub refused to {verb} the interaction limit: the repository's owner has an "
                             "interaction limit of its own, which applies here and can only be changed at the "
                             "organisation (or account) level.")
    if status == 422:
        return CommandFailed(f"GitHub refused to {verb} the interaction limit ({exc}). GitHub allows interaction "
                             "limits only on public repositories.")
    return CommandFailed(f"GitHub refused to {verb} the interaction limit ({status}: {exc}).")


async def run_limit(ctx: CommandCtx, cmd) -> Outcome:
    limit, expiry = cmd.args["limit"], cmd.args["expiry"]
    if ctx.thread.private:
        raise CommandFailed("GitHub does not offer interaction limits on private repositories.")
    try:
        await ctx.gh.put("/repos/{owner}/{repo}/interaction-limits",
                         {"owner": ctx.thread.owner, "repo": ctx.thread.repo},
                         data={"limit": limit, "expiry": expiry})
    except gidgethub.BadRequest as exc:
        raise _refusal(exc, "set") from None
    return Outcome(f"limited interactions in {ctx.thread.full_name} to {LIMIT_TEXT[limit]} "
                   f"for {LIMIT_EXPIRY_TEXT[expiry]}")


async def run_unlimit(ctx: CommandCtx, cmd) -> Outcome:
    try:
        await ctx.gh.delete("/repos/{owner}/{repo}/interaction-limits",
                            {"owner": ctx.thread.owner, "repo": ctx.thread.repo})
    except gidgethub.BadRequest as exc:
        raise _refusal(exc, "remove") from None
    return Outcome(f"removed the interaction limit of {ctx.thread.full_name}")
