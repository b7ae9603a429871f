"""Trust boundaries: which repository is an organisation's tracking repository, and who is its working group.

The working group's powers (commands typed in incidents, `/coc-block` above all) act only through an
incident that the bot opened or adopted in the tracking repository configured for the incident thread's
organisation, and only for someone with write access or more to that repository who is not a bot.
`desk_authority` is the one place that decides it; every handler of the desk asks it.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import gidgethub

from . import incidents
from .config import Config
from .github import PermanentError, TransientError
from .permissions import at_least, role
from .text import find_marker
from .threads import Thread, is_bot
from .vocabulary import KINDS

log = logging.getLogger("conduct_bot.trust")

WG_PERMISSION = "write"
THREAD_LINK = re.compile(r"https?://[^/\s]+/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/(?:issues|pull)/(\d+)")

# Re-exported: the questions every handler asks about repositories.
is_tracking_repo = incidents.is_tracking_repo
tracking_repo = incidents.tracking_repo


@dataclass
class Desk:
    """An incident the working group may act through, with what acting needs."""
    tracking: str              # owner/name of the tracking repository
    number: int                # the incident issue
    rec: dict                  # its index record
    thread: Thread             # the public thread it is about
    thread_gh: Any             # client of the thread's installation
    config: Config             # the thread repository's configuration
    gh: Any                    # the guarded writer into the tracking repository

    @property
    def org(self) -> str:
        """The only organisation the working group's `/coc-block` may act in."""
        return self.thread.owner


async def desk_authority(rt, event, actor: dict | None = None) -> Desk | None:
    """The incident behind this tracking-repository issue, if the working group may act through it.

    Holds only when (1) the bot opened the issue or adopts it from its marker or thread link, (2) the
    issue's repository is the tracking repository configured for the thread's organisation, and (3)
    when `actor` (a webhook `user`) is given, that person is the working group: not a bot, write
    access or more to the tracking repository. Anything else is None, logged without content."""
    repository = (event.data.get("repository") or {}).get("full_name") or ""
    issue = event.data.get("issue") or {}
    number = issue.get("number")
    if not repository or number is None or issue.get("pull_request"):
        return None
    if actor is not None and is_bot(actor.get("login"), actor.get("type")):
        return None
    indexed = await incidents.index_get(rt, repository, number)
    found = indexed
    if found is None:
        labels = {label.get("name") for label in issue.get("labels") or []}
        if not labels & {f"coc:{k}" for k in KINDS} or not await is_tracking_repo(rt, repository):
            return None
        found = await _adoptable(rt, issue)
        if found is None:
            return None
    thread = Thread.from_dict(found["thread_data"])
    try:
        thread_gh = await rt.clients.installation(thread.installation_id)
        config = await rt.config.load(thread_gh, thread.owner, thread.repo, thread.installation_id)
    except (PermanentError, gidgethub.BadRequest):
        log.warning("incident names a thread the App cannot reach", extra={"repository": repository})
        return None
    configured = await tracking_repo(rt, config, thread.owner)
    if not configured or configured.lower() != repository.lower():
        log.warning("an issue that is not in its thread's tracking repository was ignored",
                    extra={"repository": repository})
        return None
    gh = await incidents.tracking_client(rt, configured, event.data.get("installation", {}).get("id"))
    if actor is not None and not await is_working_group(rt, gh, configured, actor.get("login") or ""):
        return None
    rec = indexed if indexed is not None else await incidents.adopt(rt, configured, issue, thread)
    return Desk(configured, int(number), rec, thread, thread_gh, config, gh)


async def is_working_group(rt, tracking_gh, tracking: str, login: str) -> bool:
    owner, repo = tracking.split("/", 1)
    return at_least(await role(rt.store, tracking_gh, owner, repo, login), WG_PERMISSION)


async def _adoptable(rt, issue: dict) -> dict | None:
    """A record for an incident issue the bot did not open (or whose index was lost): its thread from
    the bot's marker, else the first thread link in the body. Not indexed until authority holds."""
    body = issue.get("body") or ""
    key = find_marker(body, "incident")
    m = re.fullmatch(r"([^/\s]+)/([^#\s]+)#(\d+)", key or "")
    if not m:
        m = THREAD_LINK.search(body)
        if not m:
            return None
    owner, name, num = m.group(1), m.group(2), int(m.group(3))
    try:
        inst = await rt.clients.installation_for_repo(owner, name)
        gh = await rt.clients.installation(inst)
        item = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", {"owner": owner, "repo": name, "number": num})
        repo_data = await gh.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": name})
    except (PermanentError, gidgethub.BadRequest):
        log.warning("incident names a thread the App cannot reach")
        return None
    except TransientError:
        raise
    base = item.get("url") or f"{rt.settings.api_url}/repos/{owner}/{name}/issues/{num}"
    thread = Thread(inst, repo_data.get("owner", {}).get("login", owner), repo_data.get("name", name), num,
                    bool(item.get("pull_request")), item.get("html_url", ""), base,
                    item.get("comments_url") or base + "/comments", not incidents.is_public(repo_data),
                    bool(item.get("locked")), (item.get("user") or {}).get("login"))
    return {"thread_data": thread.as_dict()}
