"""The private tracking repository's GitHub side: one issue per incident, written exactly once, only
while the repository is private.

Incident jobs (kind `incident`) are queued by commands and the heat detector. The job confirms that
the tracking repository is private (or postpones itself, logging the repository, for up to a week),
creates the issue or adds a comment to the thread's open incident, and only then deletes a
`/coc-report` comment. Every write into a tracking repository goes through `tracking_client`'s
guarded writer. Records live in `index`; text comes from `render`.
"""
from __future__ import annotations

import logging
import time

import gidgethub

from ..durations import format_duration
from ..effects import has_tag, once, post_comment_once, tagged
from ..github import PermanentError, TransientError
from ..jobs import RetryLater
from ..text import bundled_template, code_name, render
from ..threads import Thread
from ..vocabulary import KINDS, LABELS
from . import index
from .index import is_tracking_repo, remember_tracking
from .render import accounts_of, incident_body, render_history, update_body

log = logging.getLogger("conduct_bot.incidents")

PRIVATE_TTL = 60.0                 # how long a confirmation that the repo is private is trusted

KEEP_TRYING = 7 * 86400.0          # a report waiting for a private tracking repo is kept this long

NS_PUBLIC = "tracking-public"      # repository -> True from a `publicized` event until `privatized`

NS_PRIVATE = "tracking-private"    # repository -> True: a recent confirmation that it is private

async def tracking_repo(rt, config, owner: str | None = None) -> str | None:
    """The tracking repository configured for a thread: the organisation-level `tracking_repo` (a
    repository's own file cannot set it, see config.ConfigLoader), else COC_TRACKING_REPO. Every
    repository named so is remembered, so its own events are recognised as the working group's."""
    name = (config or {}).get("tracking_repo") or rt.settings.tracking_repo
    if name:
        await remember_tracking(rt, name, owner)
    return name

async def tracking_client(rt, full_name: str, fallback: int | None = None, *, until: float | None = None):
    """The one writer into a tracking repository: the client of the installation that owns it (may be
    another org's), wrapped so that every write first confirms the repository is private.

    GitHub says which installation (`GET /repos/{owner}/{repo}/installation`, as the App); if it cannot,
    the event's own installation is tried (the privacy check then tells whether it reaches the repository)."""
    owner, repo = full_name.split("/", 1)
    key = full_name.lower()
    inst = await rt.store.get("installation-of", key)
    if inst is None:
        try:
            inst = await rt.clients.installation_for_repo(owner, repo)
        except PermanentError:
            if fallback is None:
                raise
            inst = fallback
        else:
            await rt.store.put("installation-of", key, inst, ttl=3600)
    gh = await rt.clients.installation(inst)
    return PrivateWriter(rt, gh, full_name, until if until is not None else time.time() + KEEP_TRYING)

class NotPrivate(RetryLater):
    """The tracking repository is not (confirmed) private: nothing is written there."""

class PrivateWriter:
    """A GitHub client for one tracking repository whose writes happen only while it is private."""

    def __init__(self, rt, gh, full_name: str, until: float):
        self.rt, self.gh, self.full_name, self.until = rt, gh, full_name, until

    def __getattr__(self, name):  # reads (getitem, getiter, …) pass through
        if name in ("post", "patch", "put", "delete", "gql", "graphql"):
            raise AttributeError(name)
        return getattr(self.gh, name)

    async def _write(self, method: str, *args, **kwargs):
        await ensure_private(self.rt, self.gh, self.full_name, self.until)
        return await getattr(self.gh, method)(*args, **kwargs)

    async def post(self, *args, **kwargs):
        return await self._write("post", *args, **kwargs)

    async def patch(self, *args, **kwargs):
        return await self._write("patch", *args, **kwargs)

    async def put(self, *args, **kwargs):
        return await self._write("put", *args, **kwargs)

    async def delete(self, *args, **kwargs):
        return await self._write("delete", *args, **kwargs)

async def ensure_private(rt, gh, full_name: str, until: float) -> None:
    """Raise NotPrivate (logged with the repository's name) unless the tracking repository is private:
    GitHub says `visibility: private` (an `internal` repository is not), it was confirmed within
    PRIVATE_TTL, and no `publicized` event has arrived since."""
    key = full_name.lower()
    if await rt.store.get(NS_PUBLIC, key):
        raise NotPrivate(f"tracking repository {full_name} was made public; nothing was written there, "
                         "the work is kept and retried", until=until)
    if await rt.store.get(NS_PRIVATE, key):
        return
    owner, repo = full_name.split("/", 1)
    try:
        data = await gh.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": repo})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) in (403, 404):
            raise NotPrivate(f"tracking repository {full_name} is not reachable ({exc.status_code}); "
                             "nothing was written, the work is kept", until=until) from None
        raise
    if not is_private(data):
        raise NotPrivate(f"tracking repository {full_name} is not private (visibility: "
                         f"{data.get('visibility') or ('private' if data.get('private') else 'public')}); "
                         "nothing was written there, the work is kept and retried", until=until)
    await rt.store.put(NS_PRIVATE, key, True, ttl=PRIVATE_TTL)

def is_private(repository: dict) -> bool:
    """Private means GitHub's `visibility: private`; `internal` (GitHub Enterprise) is readable by a
    whole enterprise. Payloads without `visibility` fall back to `private`."""
    visibility = repository.get("visibility")
    if visibility is not None:
        return visibility == "private"
    return bool(repository.get("private"))

def is_public(repository: dict) -> bool:
    visibility = repository.get("visibility")
    return visibility == "public" if visibility is not None else not repository.get("private")

async def visibility_changed(rt, full_name: str, public: bool) -> None:
    """A `repository` event: `publicized` stops every write into it at once, `privatized` allows them
    again after a fresh confirmation."""
    key = full_name.lower()
    await rt.store.delete(NS_PRIVATE, key)
    if public:
        await rt.store.put(NS_PUBLIC, key, True)
    else:
        await rt.store.delete(NS_PUBLIC, key)

async def ensure_labels(rt, gh, full_name: str, names) -> None:
    owner, repo = full_name.split("/", 1)
    for name in names:
        key = f"{full_name}:{name}".lower()
        if await rt.store.get("label", key):
            continue
        color, description = LABELS.get(name, ("ededed", ""))
        try:
            await gh.post("/repos/{owner}/{repo}/labels", {"owner": owner, "repo": repo},
                          data={"name": name, "color": color, "description": description})
        except gidgethub.BadRequest as exc:
            # 422: it exists already. Anything else: GitHub creates a missing label anyway when it is
            # added to an issue (without our colour), so a refusal here never holds up an incident.
            if int(exc.status_code) != 422:
                log.warning("could not create label %s in %s (%s)", name, full_name, int(exc.status_code))
        await rt.store.put("label", key, True, ttl=86400)

async def enqueue(rt, payload: dict) -> None:
    """Queue an incident event; idempotent per payload['event_key']. It is kept and retried for
    KEEP_TRYING however long the tracking repository is unavailable (app.jobs: `keep_until`)."""
    payload.setdefault("queued_at", time.time())
    payload.setdefault("keep_until", payload["queued_at"] + KEEP_TRYING)
    await rt.enqueue("incident", payload, key=f"incident:{payload['event_key']}")

async def run_incident_job(job, rt) -> None:
    p = job.payload
    event_key = p["event_key"]
    if await index.is_done(rt, event_key):
        return await _after_incident(rt, p)
    thread = Thread.from_dict(p["thread"])
    tracking = p["tracking"]
    if await is_tracking_repo(rt, thread.full_name):
        log.warning("no incident about an issue of a tracking repository", extra={"job": job.id})
        return
    await remember_tracking(rt, tracking, thread.owner)
    until = p.get("keep_until") or p.get("queued_at", job.created_at) + KEEP_TRYING
    try:
        gh = await tracking_client(rt, tracking, fallback=thread.installation_id, until=until)
    except PermanentError as exc:  # not installed there (yet): keep the report and try again later
        raise RetryLater(f"cannot reach tracking repository {tracking}: {exc}; the work is kept", until=until) from None
    await ensure_private(rt, gh, tracking, until)
    # One incident job per thread at a time, so two events never open two incidents.
    lock_key = f"{tracking}:{thread.key}"
    if not await rt.store.put_if_absent("incident-lock", lock_key, job.id, ttl=120):
        raise TransientError("another event for this thread is being recorded", retry_after=0.5)
    try:
        await _apply(rt, gh, tracking, thread, p, job)
    finally:
        await rt.store.delete("incident-lock", lock_key)
    await index.mark_done(rt, event_key)
    await _after_incident(rt, p)


async def _apply(rt, gh, tracking: str, thread: Thread, p: dict, job) -> None:
    owner, repo = tracking.split("/", 1)
    kind = p["kind"]
    label = f"coc:{kind}"
    await ensure_labels(rt, gh, tracking, [label, "status:new"])
    current = await index.open_incident(rt, tracking, thread.key)
    accounts = accounts_of(p.get("evidence") or [], p.get("reporter"), p.get("accounts") or ())
    effect_key = f"incident:{p['event_key']}"
    if current:
        number = current["number"]
        comments_url = f"/repos/{owner}/{repo}/issues/{number}/comments"
        await post_comment_once(rt.store, gh, comments_url, effect_key, "incident-event", update_body(p))
        kinds = set(current.get("kinds", []))
        if kind not in kinds:
            where = {"owner": owner, "repo": repo, "number": number}
            await gh.post("/repos/{owner}/{repo}/issues/{number}/labels", where, data={"labels": [label]})
            if current.get("code") and KINDS.index(kind) < min(KINDS.index(k) for k in kinds or {"action"}):
                # The title names the incident's kind: the most serious of its labels.
                await gh.patch("/repos/{owner}/{repo}/issues/{number}", where,
                               data={"title": f"Incident {current['code']} ({kind})"})
            if kind in ("report", "heated") and not (kinds & {"report", "heated"}):
                await schedule_nudge(rt, gh, tracking, number)
        await index.record_event(rt, tracking, number, kind, accounts)
        return

    code = code_name()
    body = incident_body(p, thread, accounts, render_history(await index.related(rt, tracking, accounts)))
    title = f"Incident {code} ({kind})"

    async def create():
        made = await gh.post("/repos/{owner}/{repo}/issues", {"owner": owner, "repo": repo},
                             data={"title": title, "body": tagged(body, "incident-event", effect_key),
                                   "labels": [label, "status:new"]})
        return {"number": made.get("number"), "html_url": made.get("html_url"), "code": code}

    async def find():
        async for issue in gh.getiter("/repos/{owner}/{repo}/issues{?state,labels,per_page}",
                                      {"owner": owner, "repo": repo, "state": "all", "labels": label, "per_page": 100}):
            if has_tag(issue.get("body"), "incident-event", effect_key):
                title_code = (issue.get("title") or "").split(" ")[1] if " " in (issue.get("title") or "") else code
                return {"number": issue["number"], "html_url": issue.get("html_url"), "code": title_code}
        return None

    made = await once(rt.store, effect_key, create, find)
    if not made["number"]:  # dry run: nothing exists to index
        return
    await index.record_new(rt, tracking, made, kind, accounts, thread)
    if kind in ("report", "heated"):
        await schedule_nudge(rt, gh, tracking, made["number"])


async def schedule_nudge(rt, gh, tracking: str, number: int) -> None:
    """The SLA clock starts when an incident becomes a report or heated one; sla.acknowledge is read
    from the tracking repository's own configuration."""
    owner, repo = tracking.split("/", 1)
    config = await rt.config.load(gh, owner, repo)  # its own file over its organisation's
    seconds = config.seconds("sla.acknowledge")
    await rt.enqueue("nudge", {"tracking": tracking, "number": number, "sla": seconds},
                           run_at=time.time() + seconds, key=f"nudge:{tracking}#{number}".lower())

async def run_nudge_job(job, rt) -> None:
    """One nudge comment on an incident still `status:new` after sla.acknowledge."""
    p = job.payload
    tracking, number = p["tracking"], p["number"]
    owner, repo = tracking.split("/", 1)
    gh = await tracking_client(rt, tracking, until=time.time() + KEEP_TRYING)
    issue = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", {"owner": owner, "repo": repo, "number": number})
    names = {l.get("name") for l in issue.get("labels", [])}
    if issue.get("state") != "open" or "status:new" not in names or not ({"coc:report", "coc:heated"} & names):
        return
    body = render(bundled_template("nudge"), marker="", age=format_duration(int(p.get("sla") or 0)))
    await post_comment_once(rt.store, gh, f"/repos/{owner}/{repo}/issues/{number}/comments",
                            f"nudge:{tracking}#{number}".lower(), "nudge", body)

async def _after_incident(rt, p: dict) -> None:
    """For reports: acknowledge, then delete the command comment now that the incident exists."""
    after = p.get("after") or {}
    if not after:
        return
    gh = await rt.clients.installation(after["installation_id"])
    if after.get("react_url"):
        await once(rt.store, f"after:{p['event_key']}:react",
                   lambda: _react(gh, after["react_url"], "+1"))
    if after.get("delete_url"):
        async def delete():
            try:
                await gh.delete(after["delete_url"])
            except gidgethub.BadRequest as exc:
                if int(exc.status_code) != 404:
                    raise
            return True
        await once(rt.store, f"after:{p['event_key']}:delete", delete)

async def _react(gh, url: str, content: str):
    await gh.post(url, data={"content": content})
    return True
