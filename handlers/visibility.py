"""A repository made public stops every write into it as a tracking repository at once (`repository` events)."""
from __future__ import annotations

from gidgethub import routing

from app import incidents

router = routing.Router()


@router.register("repository", action="publicized")
@router.register("repository", action="privatized")
async def visibility_changed(event, ctx):
    repository = event.data.get("repository") or {}
    full_name = repository.get("full_name")
    if not full_name:
        return
    public = event.data.get("action") == "publicized"
    await incidents.visibility_changed(ctx.rt, full_name, public)
    if public and await incidents.is_tracking_repo(ctx.rt, full_name):
        ctx.log.error("tracking repository %s was made public: nothing more is written there until it is "
                      "private again; reports are kept", full_name, extra=ctx.extra)
