"""Who may run what: the repository permission GitHub reports, cached briefly in the store."""
from __future__ import annotations

import gidgethub

RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
NS = "permission"
TTL = 120.0


async def role(store, gh, owner: str, repo: str, login: str) -> str:
    key = f"{owner}/{repo}:{login}".lower()
    cached = await store.get(NS, key)
    if cached is not None:
        return cached
    try:
        data = await gh.getitem("/repos/{owner}/{repo}/collaborators/{username}/permission",
                                {"owner": owner, "repo": repo, "username": login})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return "none"
        raise
    name = data.get("role_name")
    if name not in RANK:  # a custom role: fall back to its legacy base permission
        name = data.get("permission") if data.get("permission") in RANK else "none"
    await store.put(NS, key, name, ttl=TTL)
    return name


def at_least(have: str, need: str) -> bool:
    return RANK.get(have, 0) >= RANK.get(need, 99)
