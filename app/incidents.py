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
PRIVATE_TTL = 300.0                # how long a confirmation that the repo is private is trusted
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


async def tracking_repo(rt, config) -> str | None:
    return (config or {}).get("tracking_repo") or rt.settings.tracking_repo


async def tracking_client(rt, full_name: str, fallback: int | None = None):
    """The client of the installation that owns the tracking repository (may be another org's).

    GitHub says which one (`GET /repos/{owner}/{repo}/installation`, as the App); if it cannot, the
    event's own installation is tried (the privacy check then tells whether it reaches the repository)."""
    owner, repo = full_name.split("/", 1)
    key = full_name.lower()
    inst = await rt.store.get("installation-of", key)
    if inst is None:
        try:
            inst = await rt.clients.installation_for_repo(owner, repo)
        except PermanentError:
            if fallback is None:
                raise
            return await rt.clients.installation(fallback)
        await rt.store.put("installation-of", key, inst, ttl=3600)
    return await rt.clients.installation(inst)


async def ensure_private(rt, gh, full_name: str, until: float) -> None:
    """Raise RetryLater (logged with the repository's name) unless the tracking repository is private."""
    key = full_name.lower()
    if await rt.store.get("tracking-private", key):
        return
    owner, repo = full_name.split("/", 1)
    try:
        data = await gh.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": repo})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) in (403, 404):
            raise RetryLater(f"tracking repository {full_name} is not reachable ({exc.status_code}); "
                             "nothing was written, the work is kept", until=until) from None
        raise
    if not data.get("private"):
        raise RetryLater(f"tracking repository {full_name} is not private; nothing was written there, "
                         "the work is kept and retried", until=until)
    await rt.store.put("tracking-private", key, True, ttl=PRIVATE_TTL)


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
                ("\n\nReason:\n\n" + quote_block(_clip(reason, COMMENT_BUDGET)) if reason else ""))
    if kind == "heated":
        return "The heat estimate crossed the threshold.\n\n" + (p.get("reason") or "")
    return f"{code_span(p.get('actor') or 'unknown')} ran {code_span(p.get('command') or '')}: {p.get('result') or 'done'}."


async def enqueue(rt, payload: dict) -> None:
    """Queue an incident event; idempotent per payload['event_key']."""
    payload.setdefault("queued_at", time.time())
    await rt.store.enqueue("incident", payload, key=f"incident:{payload['event_key']}")
    rt.worker.wake()


async def run_incident_job(job, rt) -> None:
    p = job.payload
    event_key = p["event_key"]
    if await rt.store.get(NS_DONE, event_key):
        return await _after_incident(rt, p)
    thread = Thread.from_dict(p["thread"])
    tracking = p["tracking"]
    until = p.get("queued_at", job.created_at) + KEEP_TRYING
    try:
        gh = await tracking_client(rt, tracking, fallback=thread.installation_id)
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
                          evidence=render_evidence(evidence))
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
        reason=(quote_block(_clip(p["reason"], COMMENT_BUDGET)) if p.get("reason") and kind != "action" else
                (summary_of(p) if kind == "action" else "_none given_")),
        accounts=render_accounts(accounts),
        history=history,
        evidence=render_evidence(evidence),
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


async def schedule_nudge(rt, gh, tracking: str, number: int) -> None:
    """The SLA clock starts when an incident becomes a report or heated one; sla.acknowledge is read
    from the tracking repository's own configuration."""
    owner, repo = tracking.split("/", 1)
    config = await rt.config.load_own(gh, owner, repo)
    seconds = config.seconds("sla.acknowledge")
    await rt.store.enqueue("nudge", {"tracking": tracking, "number": number, "sla": seconds},
                           run_at=time.time() + seconds, key=f"nudge:{tracking}#{number}".lower())


async def run_nudge_job(job, rt) -> None:
    """One nudge comment on an incident still `status:new` after sla.acknowledge."""
    p = job.payload
    tracking, number = p["tracking"], p["number"]
    owner, repo = tracking.split("/", 1)
    gh = await tracking_client(rt, tracking)
    issue = await gh.getitem("/repos/{owner}/{repo}/issues/{number}", {"owner": owner, "repo": repo, "number": number})
    names = {l.get("name") for l in issue.get("labels", [])}
    if issue.get("state") != "open" or "status:new" not in names or not ({"coc:report", "coc:heated"} & names):
        return
    await ensure_private(rt, gh, tracking, time.time() + KEEP_TRYING)
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
