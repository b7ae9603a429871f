"""Drop cached configuration and templates as soon as a push to a default branch touches them."""
from __future__ import annotations

from gidgethub import routing

router = routing.Router()


@router.register("push")
async def forget_changed_files(event, ctx):
    data = event.data
    repository = data.get("repository") or {}
    default = repository.get("default_branch") or repository.get("master_branch")
    if not default or data.get("ref") != f"refs/heads/{default}":
        return  # configuration is read from the default branch only
    changed = set()
    for commit in data.get("commits") or []:
        for key in ("added", "modified", "removed"):
            changed.update(commit.get(key) or [])
    head = data.get("head_commit") or {}
    for key in ("added", "modified", "removed"):
        changed.update(head.get(key) or [])
    if not changed:
        return
    owner = (repository.get("owner") or {}).get("login") or (repository.get("owner") or {}).get("name")
    name = repository.get("name")
    # Every cached file of this repository that the push touched; the org's `.github` repository
    # is the fallback level of every repository, which re-reads it on its next event.
    await ctx.rt.config.forget(owner, name, sorted(changed))
