"""`/coc-help`: reply with the list of commands."""
from __future__ import annotations

from .base import CommandCtx, Outcome


async def run(ctx: CommandCtx, cmd) -> Outcome:
    await ctx.answer("help", await ctx.render("help", contact=ctx.config["contact"]))
    return Outcome("listed the commands", record=False)
