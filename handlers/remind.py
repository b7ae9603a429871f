"""`/coc-remind`: post the Code of Conduct reminder in the thread."""
from __future__ import annotations

from .base import CommandCtx, Outcome


async def run(ctx: CommandCtx, cmd) -> Outcome:
    body = await ctx.render("reminder", contact=ctx.config["contact"])
    await ctx.post_in_thread("reminder", body)
    return Outcome("posted the Code of Conduct reminder")
