"""The private tracking repository: one issue per incident, written exactly once, only when private.

Incident jobs (kind `incident`) are queued by commands and the heat detector.
The job confirms that the tracking repository is private (or postpones itself,
logging the repository, for up to a week), creates the issue or adds a comment
to the thread's open incident, and only then deletes a `/coc-report` comment.
The store keeps an index of incidents (thread → open incident, accounts → past
incidents) so no list of issues has to be read on the hot path.
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import gidgethub

from .durations import format_duration, parse_duration
from .effects import once, post_comment_once, tagged, has_tag
from .github import PermanentError, TransientError
from .jobs import RetryLater
from .text import bundled_template, code_name, code_span, marker, neutralise, quote_block, render
from .threads import Thread

log = logging.getLogger("conduct_bot.incidents")

KINDS = ("report", "heated", "action")            # most serious first
STATUSES = ("status:new", "status:triaged", "status:resolved")
OUTCOMES = ("no-action", "reminder", "warning", "final-warning", "temporary-ban", "permanent-ban")
LABELS = {
    "coc:report": ("b60205", "Code of Conduct report"),
    "coc:heated": ("d93f0b", "Heated thread noticed by conduct-bot"),
    "coc:action": ("5319e7", "Moderation action taken"),
    "coc:config": ("bfd4f2", "Invalid conduct-bot configuration"),
    "status:new": ("fbca04", "Not yet triaged by the working group"),
    "status:triaged": ("0e8a16", "Triaged by the working group"),
    "status:resolved": ("c2e0c6", "Resolved"),
    **{f"outcome:{o}": ("ededed", f"Outcome: {o}") for o in OUTCOMES},
}
PRIVATE_TTL = 60.0                 # how long a confirmation that the repo is private is trusted
KEEP_TRYING = 7 * 86400.0          # a report waiting for a private tracking repo is kept this long
NS_THREAD = "incident-thread"      # thread key -> {"repo", "number"} of its open incident
NS_INCIDENT = "incident"           # "owner/repo#N" -> incident record
NS_DONE = "incident-event"         # event keys already applied


def kind_of(labels) -> str | None:
    names = {l if isinstance(l, str) else l.get("name") for l in labels}
    for kind in KINDS:
        if f"coc:{kind}" in names:
            return kind
    return None


NS_REGISTRY = "tracking-repo"      # repository -> {"orgs": [...]}: repositories named as an org's tracking repo
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


async def remember_tracking(rt, full_name: str, owner: str | None = None) -> None:
    key = full_name.lower()
    known = await rt.store.get(NS_REGISTRY, key)
    orgs = set((known or {}).get("orgs", []))
    if known is None or (owner and owner.lower() not in orgs):
        await rt.store.put(NS_REGISTRY, key, {"orgs": sorted(orgs | ({owner.lower()} if owner else set()))})


async def is_tracking_repo(rt, full_name: str) -> bool:
    """Whether a repository is (or was) some organisation's tracking repository; costs no API call."""
    key = (full_name or "").lower()
    if key == (rt.settings.tracking_repo or "").lower():
        return True
    return await rt.store.get(NS_REGISTRY, key) is not None


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


def _iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts or time.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


EVIDENCE_BUDGET = 45_000   # characters of evidence in one issue or comment (GitHub's limit is 65,536)
COMMENT_BUDGET = 6_000     # characters quoted from one comment
STATEMENT_BUDGET = 30_000  # characters of a reporter's statement: it is deleted in public, so keep it whole


def _evidence_budget(p: dict) -> int:
    """A long statement leaves less room for the evidence (the thread still has it)."""
    return max(15_000, EVIDENCE_BUDGET - len(p.get("reason") or ""))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters not copied]"


def render_evidence(evidence: list[dict], budget: int = EVIDENCE_BUDGET) -> str:
    """The snapshot as Markdown, newest comments kept first when it would not fit in one GitHub body."""
    if not evidence:
        return "_No comments were captured._"
    parts: list[str] = []
    used = 0
    for c in reversed(evidence):
        author = code_span(c.get("author") or "unknown")
        when = c.get("created_at") or "unknown time"
        link = c.get("html_url") or ""
        head = f"- {author} at {when}" + (f" — [permalink]({link})" if link else "")
        if c.get("note"):
            head += f" ({neutralise(c['note'])})"
        part = head + "\n\n" + quote_block(_clip(c.get("body") or "", COMMENT_BUDGET), indent="  ")
        if used + len(part) > budget and parts:
            parts.append(f"- [{len(evidence) - len(parts)} earlier comment(s) not copied: too long for one issue; "
                         "see the thread]")
            break
        parts.append(part)
        used += len(part)
    return "\n\n".join(reversed(parts))


def render_accounts(accounts: list[str]) -> str:
    return ", ".join(code_span(a) for a in accounts) if accounts else "_none recorded_"


async def render_history(rt, tracking: str, accounts: list[str], exclude: str | None = None) -> str:
    if not accounts:
        return "_none_"
    wanted = {a.lower() for a in accounts}
    rows = []
    for key, rec in await rt.store.items(NS_INCIDENT):
        if not key.startswith(tracking.lower() + "#") or key == exclude:
            continue
        shared = wanted & {a.lower() for a in rec.get("accounts", [])}
        if shared:
            rows.append((rec.get("created_at", ""), rec, shared))
    if not rows:
        return "_none_"
    rows.sort(key=lambda r: r[0])
    lines = []
    for created, rec, shared in rows[-20:]:
        outcome = rec.get("outcome") or ("open" if rec.get("state", "open") == "open" else "closed")
        lines.append(f"- [Incident {rec['code']}]({rec.get('html_url', '')}) — {created[:10]} — outcome: {outcome}"
                     f" — shared: {', '.join(code_span(a) for a in sorted(shared))}")
    return "\n".join(lines)


def accounts_of(evidence: list[dict], reporter: str | None, extra=()) -> list[str]:
    seen: dict[str, None] = {}
    for login in [*(c.get("author") for c in evidence), *extra]:
        if login and (reporter is None or login.lower() != reporter.lower()) and not login.endswith("[bot]"):
            seen.setdefault(login, None)
    return list(seen)


def summary_of(p: dict) -> str:
    kind = p["kind"]
    if kind == "report":
        reason = p.get("reason") or ""
        return (f"Report by {code_span(p.get('reporter') or 'unknown')}." +
                ("\n\nReason:\n\n" + quote_block(_clip(reason, STATEMENT_BUDGET)) if reason else ""))
    if kind == "heated":
        return "The heat estimate crossed the threshold.\n\n" + (p.get("reason") or "")
    return f"{code_span(p.get('actor') or 'unknown')} ran {code_span(p.get('command') or '')}: {p.get('result') or 'done'}."


async def enqueue(rt, payload: dict) -> None:
    """Queue an incident event; idempotent per payload['event_key']. It is kept and retried for
    KEEP_TRYING however long the tracking repository is unavailable (app.jobs: `keep_until`)."""
    payload.setdefault("queued_at", time.time())
    payload.setdefault("keep_until", payload["queued_at"] + KEEP_TRYING)
    await rt.store.enqueue("incident", payload, key=f"incident:{payload['event_key']}")
    rt.worker.wake()


async def run_incident_job(job, rt) -> None:
    p = job.payload
    event_key = p["event_key"]
    if await rt.store.get(NS_DONE, event_key):
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
    await rt.store.put(NS_DONE, event_key, True, ttl=60 * 86400)
    await _after_incident(rt, p)


async def _apply(rt, gh, tracking: str, thread: Thread, p: dict, job) -> None:
    owner, repo = tracking.split("/", 1)
    kind = p["kind"]
    label = f"coc:{kind}"
    await ensure_labels(rt, gh, tracking, [label, "status:new"])
    current = await rt.store.get(NS_THREAD, f"{tracking}:{thread.key}".lower())
    evidence = p.get("evidence") or []
    accounts = accounts_of(evidence, p.get("reporter"), p.get("accounts") or ())
    effect_key = f"incident:{p['event_key']}"
    if current:
        ikey = f"{tracking}#{current['number']}".lower()
        rec = await rt.store.get(NS_INCIDENT, ikey) or {}
        comments_url = f"/repos/{owner}/{repo}/issues/{current['number']}/comments"
        if kind == "action" and not evidence:
            body = render(bundled_template("action_record"), marker="", actor=code_span(p.get("actor") or "unknown"),
                          command=code_span(p.get("command") or ""), result=neutralise(p.get("result") or "done"))
        else:
            body = render(bundled_template("incident_update"), marker="", kind=kind, summary=summary_of(p),
                          evidence=render_evidence(evidence, _evidence_budget(p)))
        if p.get("action_name"):
            body += "\n" + marker("action", p["action_name"])
        await post_comment_once(rt.store, gh, comments_url, effect_key, "incident-event", body)
        kinds = set(rec.get("kinds", []))
        if kind not in kinds:
            where = {"owner": owner, "repo": repo, "number": current["number"]}
            await gh.post("/repos/{owner}/{repo}/issues/{number}/labels", where, data={"labels": [label]})
            if rec.get("code") and KINDS.index(kind) < min(KINDS.index(k) for k in kinds or {"action"}):
                # The title names the incident's kind: the most serious of its labels.
                await gh.patch("/repos/{owner}/{repo}/issues/{number}", where,
                               data={"title": f"Incident {rec['code']} ({kind})"})
            kinds.add(kind)
            if kind in ("report", "heated") and not (set(rec.get("kinds", [])) & {"report", "heated"}):
                await schedule_nudge(rt, gh, tracking, current["number"])
        rec["kinds"] = sorted(kinds)
        rec["accounts"] = sorted(set(rec.get("accounts", [])) | set(accounts))
        await rt.store.put(NS_INCIDENT, ikey, rec)
        return

    code = code_name()
    history = await render_history(rt, tracking, accounts)
    body = render(
        bundled_template("incident"),
        marker=marker("incident", thread.key.replace(" ", "")),
        thread_url=thread.html_url,
        repository=thread.full_name,
        kind=kind,
        reporter=code_span(p["reporter"]) if p.get("reporter") else "—",
        reason=(quote_block(_clip(p["reason"], STATEMENT_BUDGET)) if p.get("reason") and kind != "action" else
                (summary_of(p) if kind == "action" else "_none given_")),
        accounts=render_accounts(accounts),
        history=history,
        evidence=render_evidence(evidence, _evidence_budget(p)),
    )
    if p.get("action_name"):
        body += "\n" + marker("action", p["action_name"])
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
    number = made["number"]
    if not number:  # dry run: nothing exists to index
        return
    ikey = f"{tracking}#{number}".lower()
    await rt.store.put(NS_INCIDENT, ikey, {
        "code": made["code"], "number": number, "html_url": made.get("html_url"), "created_at": _iso(),
        "kinds": [kind], "accounts": accounts, "thread": thread.key, "thread_data": thread.as_dict(),
        "venue": thread.full_name,
        "state": "open", "outcome": None})
    await rt.store.put(NS_THREAD, f"{tracking}:{thread.key}".lower(), {"number": number})
    if kind in ("report", "heated"):
        await schedule_nudge(rt, gh, tracking, number)


# -- the index: the one owner of incident records ---------------------------------------------------------

def index_key(tracking: str, number: int) -> str:
    return f"{tracking}#{number}".lower()


def thread_index_key(tracking: str, thread_key: str) -> str:
    return f"{tracking}:{thread_key}".lower()


async def index_get(rt, tracking: str, number: int) -> dict | None:
    return await rt.store.get(NS_INCIDENT, index_key(tracking, number))


async def adopt(rt, tracking: str, issue: dict, thread: Thread) -> dict:
    """Index an incident issue the bot did not open itself (or whose index was lost)."""
    labels = [l.get("name") for l in issue.get("labels") or []]
    title = issue.get("title") or ""
    rec = {"code": title.split(" ")[1] if title.startswith("Incident ") and " " in title else None,
           "number": issue["number"], "html_url": issue.get("html_url"), "created_at": issue.get("created_at"),
           "kinds": [k for k in KINDS if f"coc:{k}" in labels], "accounts": [], "thread": thread.key,
           "thread_data": thread.as_dict(), "venue": thread.full_name,
           "state": issue.get("state", "open"), "outcome": None}
    await rt.store.put(NS_INCIDENT, index_key(tracking, issue["number"]), rec)
    if rec["state"] == "open":
        await rt.store.put(NS_THREAD, thread_index_key(tracking, thread.key), {"number": issue["number"]})
    return rec


async def add_accounts(rt, tracking: str, number: int, accounts) -> None:
    def fn(rec):
        if rec is None:
            return rec, None
        return {**rec, "accounts": sorted(set(rec.get("accounts", [])) | set(accounts))}, None
    await rt.store.update(NS_INCIDENT, index_key(tracking, number), fn)


async def close_in_index(rt, tracking: str, number: int, outcome: str | None) -> None:
    key = index_key(tracking, number)
    rec = await rt.store.get(NS_INCIDENT, key)
    if rec is None:
        return
    rec["state"] = "closed"
    if outcome:
        rec["outcome"] = outcome
    await rt.store.put(NS_INCIDENT, key, rec)
    # Atomically: a reopened incident of the same thread may have taken the thread meanwhile.
    await rt.store.update(NS_THREAD, thread_index_key(tracking, rec["thread"]),
                          lambda cur: (None if cur and cur.get("number") == number else cur, None))
    await rt.store.cancel(f"nudge:{tracking}#{number}".lower())


async def reopen_in_index(rt, tracking: str, number: int) -> None:
    key = index_key(tracking, number)
    rec = await rt.store.get(NS_INCIDENT, key)
    if rec is None:
        return
    rec["state"], rec["outcome"] = "open", None
    await rt.store.put(NS_INCIDENT, key, rec)
    await rt.store.put(NS_THREAD, thread_index_key(tracking, rec["thread"]), {"number": number})


async def schedule_nudge(rt, gh, tracking: str, number: int) -> None:
    """The SLA clock starts when an incident becomes a report or heated one; sla.acknowledge is read
    from the tracking repository's own configuration."""
    owner, repo = tracking.split("/", 1)
    config = await rt.config.load(gh, owner, repo)  # its own file over its organisation's
    seconds = config.seconds("sla.acknowledge")
    await rt.store.enqueue("nudge", {"tracking": tracking, "number": number, "sla": seconds},
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
