"""`/coc-help`: reply with the list of commands (in an incident, the working group's)."""
from __future__ import annotations

from app.commands import USAGE

from .base import CommandCtx, Outcome

# The working group's commands, in the order the incident's help lists them.
INCIDENT_HELP = ("remind", "lock", "unlock", "limit", "unlimit", "hide", "block", "unblock", "resolve", "help")


async def run(ctx: CommandCtx, cmd) -> Outcome:
    if ctx.desk is not None:
        commands = "\n".join(f"- `{USAGE[name]}`" for name in INCIDENT_HELP)
        await ctx.answer("help", await ctx.render("help_desk", commands=commands))
    else:
        await ctx.answer("help", await ctx.render("help", contact=ctx.config["contact"]))
    return Outcome("listed the commands", record=False)
