"""`/coc-remind`: post the Code of Conduct reminder in the thread."""
from __future__ import annotations

import time

from .base import CommandCtx, Outcome

HEAT_NS = "heat"  # the thread's heat record also remembers when it was last reminded


async def run(ctx: CommandCtx, cmd) -> Outcome:
    body = await ctx.render("reminder", contact=ctx.config["contact"])
    await ctx.post_in_thread("reminder", body)
    now = time.time()
    # A reminder just posted (by a maintainer or automatically) counts toward reminders.cooldown,
    # so the heat detector does not repeat it moments later.
    await ctx.store.update(HEAT_NS, ctx.thread.key, lambda old: ({**(old or {}), "last_reminder_at": now}, None),
                           ttl=90 * 86400.0)
    return Outcome("posted the Code of Conduct reminder")
