"""`python -m app transparency-report --since DATE --until DATE [--format markdown|csv]` (SPEC.md: Command line).

Reads the private tracking repository through GitHub with the server's
credentials (App JWT → the tracking repository's installation → its issues)
and prints either a report fit to publish (Markdown: counts by kind, outcome,
month and venue, Mermaid charts, a note on method — no logins, code names,
links or issue numbers) or the working group's internal status sheet (CSV, one
row per incident: code name, date, kind, status, actions taken, outcome — no
logins).

I/O is kept apart from the pure parts:
    collect(gh, tracking, since, until)  → list[Incident]   (async, GitHub)
    hide_private_venues(records, is_public) → list[Incident] (async; RepositoryVisibility asks GitHub)
    incident_from_issue(issue, comments) → Incident | None  (pure)
    summarise(records)                   → dict             (pure)
    render_markdown(summary, since, until) / render_csv(records) → str (pure)

Only controlled vocabulary ever reaches the output: kinds, statuses and
outcomes from the known label sets, action names from the bot's own hidden
markers, code names that look like code names, venues that look like
`owner/repo`. Free text (titles beyond the code name, bodies, comments) is
never printed. A venue is named only when GitHub says the repository's
`visibility` is `public`; any other repository (private, internal, or one the
App can no longer see) appears as `ORG (private repository)`.
"""
from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from .vocabulary import KINDS, OUTCOMES, STATUS_NAMES

PROG = "python -m app transparency-report"

OPEN = "open"                  # outcome while unresolved
UNRECORDED = "unrecorded"      # closed by hand without an outcome label
UNKNOWN_VENUE = "unknown"
PRIVATE_VENUE = "{owner} (private repository)"
UNNAMED = "unnamed"

_INCIDENT_MARKER = re.compile(r"<!-- conduct-bot:incident ([^\s>]+) -->")
_ACTION_MARKER = re.compile(r"<!-- conduct-bot:action ([a-z][a-z0-9-]{0,30}) -->")
_REPOSITORY_LINE = re.compile(r"^- \*\*Repository\*\*: *(\S+?)\s*$", re.MULTILINE)
_VENUE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_CODE_NAME = re.compile(r"^[a-z]+(?:-[a-z]+)+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONCURRENCY = 8                # comment listings fetched at once (CSV only)


@dataclass(frozen=True)
class Incident:
    """One incident of the tracking repository, reduced to what a report may use."""
    code_name: str
    created: date
    kind: str                  # report | heated | action
    status: str                # new | triaged | resolved
    outcome: str               # one of OUTCOMES, "open", or "unrecorded"
    venue: str                 # owner/repo of the thread, or "unknown"
    actions: tuple[tuple[str, int], ...] = field(default=())  # (name, count) in order of first use

    @property
    def month(self) -> str:
        return self.created.strftime("%Y-%m")


# --------------------------------------------------------------------------- pure: one issue → one record

def _label_names(issue: dict) -> set[str]:
    names = set()
    for label in issue.get("labels") or ():
        name = label if isinstance(label, str) else (label or {}).get("name")
        if name:
            names.add(name.lower())
    return names


def _parse_created(value: str | None) -> date | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def _code_name(title: str | None) -> str:
    words = (title or "").split()
    if len(words) >= 2 and _CODE_NAME.match(words[1]):
        return words[1]
    return UNNAMED


def _venue(body: str | None) -> str:
    """owner/repo of the incident's thread: from the hidden marker (lower-cased key), spelled as the
    body's `Repository` line spells it when they agree."""
    body = body or ""
    venue = None
    match = _INCIDENT_MARKER.search(body)
    if match:
        candidate = match.group(1).split("#", 1)[0]
        if _VENUE.match(candidate):
            venue = candidate.lower()
    line = _REPOSITORY_LINE.search(body)
    if line and _VENUE.match(line.group(1)) and (venue is None or line.group(1).lower() == venue):
        return line.group(1)
    return venue or UNKNOWN_VENUE


def private_venue(venue: str) -> str:
    """How the public report names a repository that is not public: by its organisation only."""
    return PRIVATE_VENUE.format(owner=venue.split("/", 1)[0])


def count_actions(bodies: Iterable[str | None]) -> tuple[tuple[str, int], ...]:
    """(action, count) for the bot's action markers in these bodies, in order of first appearance."""
    counts: dict[str, int] = {}
    for body in bodies:
        for match in _ACTION_MARKER.finditer(body or ""):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return tuple(counts.items())


def incident_from_issue(issue: dict, comment_bodies: Iterable[str | None] = ()) -> Incident | None:
    """The incident record of an issue of the tracking repository, or None if it is not an incident
    (a pull request, a `coc:config` issue, an issue without any `coc:` kind label, no creation date)."""
    if issue.get("pull_request"):
        return None
    names = _label_names(issue)
    if "coc:config" in names:
        return None
    kind = next((k for k in KINDS if f"coc:{k}" in names), None)
    created = _parse_created(issue.get("created_at"))
    if kind is None or created is None:
        return None
    closed = issue.get("state") == "closed"
    statuses = [s for s in STATUS_NAMES if f"status:{s}" in names]
    status = statuses[-1] if statuses else ("resolved" if closed else "new")
    outcomes = [o for o in OUTCOMES if f"outcome:{o}" in names]
    if outcomes:
        outcome = outcomes[-1]       # resolved twice: the most serious decision stands
    elif status == "resolved" or closed:
        outcome = UNRECORDED
    else:
        outcome = OPEN
    body = issue.get("body")
    return Incident(code_name=_code_name(issue.get("title")), created=created, kind=kind, status=status,
                    outcome=outcome, venue=_venue(body), actions=count_actions([body, *comment_bodies]))


# --------------------------------------------------------------------------- I/O: GitHub

async def collect(gh, tracking: str, since: date, until: date, *, with_actions: bool = False) -> list[Incident]:
    """Incidents of TRACKING created between SINCE and UNTIL (UTC, inclusive), oldest first.

    GH is the tracking repository's installation client. Issues are listed newest first so the listing
    stops at the first one older than SINCE; comments are read (only WITH_ACTIONS, and only for issues
    that have any) to count the actions recorded in them.
    """
    owner, repo = tracking.split("/", 1)
    found: list[dict] = []
    async for issue in gh.getiter(
            "/repos/{owner}/{repo}/issues{?state,sort,direction,per_page}",
            {"owner": owner, "repo": repo, "state": "all", "sort": "created", "direction": "desc",
             "per_page": 100}):
        created = _parse_created(issue.get("created_at"))
        if created is None:
            continue
        if created < since:
            break
        if created > until or incident_from_issue(issue) is None:
            continue
        found.append(issue)

    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def comments_of(issue: dict) -> list[str]:
        if not with_actions or not issue.get("comments"):
            return []
        async with semaphore:
            return [c.get("body") or "" async for c in gh.getiter(
                "/repos/{owner}/{repo}/issues/{number}/comments{?per_page}",
                {"owner": owner, "repo": repo, "number": issue["number"], "per_page": 100})]

    bodies = await asyncio.gather(*(comments_of(issue) for issue in found))
    records = [incident_from_issue(issue, b) for issue, b in zip(found, bodies)]
    return sorted((r for r in records if r is not None), key=lambda r: (r.created, r.code_name))


class RepositoryVisibility:
    """Whether a venue (owner/repo) is public, asked of GitHub once per repository with the installation
    that reaches it (App JWT → `GET /repos/{owner}/{repo}/installation` → `GET /repos/{owner}/{repo}`).

    Only `visibility: public` counts as public: private and internal repositories are not, nor is one the
    App cannot see any more (not installed, deleted, 403/404), since nothing confirms it is public. A
    transient failure (5xx, rate limit, network) is raised, so no report is printed on a guess."""

    def __init__(self, clients, concurrency: int = CONCURRENCY):
        self.clients = clients
        self._answers: dict[str, asyncio.Future] = {}
        self._semaphore = asyncio.Semaphore(concurrency)

    async def is_public(self, venue: str) -> bool:
        key = venue.lower()
        if key not in self._answers:
            self._answers[key] = asyncio.ensure_future(self._ask(venue))
        return await asyncio.shield(self._answers[key])

    async def _ask(self, venue: str) -> bool:
        import gidgethub

        from .github import PermanentError, TransientError, classify

        owner, _, repo = venue.partition("/")
        if not _VENUE.match(venue):
            return False
        async with self._semaphore:
            try:
                installation = await self.clients.installation_for_repo(owner, repo)
                gh = await self.clients.installation(installation)
                data = await gh.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": repo})
            except PermanentError:
                return False
            except gidgethub.HTTPException as exc:  # 404, 403, a 301 for a renamed repository, ...
                err = classify(exc)
                if isinstance(err, TransientError):
                    raise err from None
                return False
        return isinstance(data, dict) and data.get("visibility") == "public"


async def hide_private_venues(records: Iterable[Incident], is_public) -> list[Incident]:
    """The records with every venue that IS_PUBLIC (an async owner/repo → bool) denies replaced by
    `ORG (private repository)`; each distinct venue is asked about once."""
    records = list(records)
    venues = sorted({r.venue for r in records if r.venue != UNKNOWN_VENUE})
    public = dict(zip(venues, await asyncio.gather(*(is_public(v) for v in venues))))
    return [r if r.venue == UNKNOWN_VENUE or public[r.venue] else replace(r, venue=private_venue(r.venue))
            for r in records]


async def collect_with_settings(settings, since: date, until: date, *, with_actions: bool = False,
                                hide_private: bool = True) -> list[Incident]:
    """collect() with the server's credentials: App JWT → installation of the tracking repository; then
    (HIDE_PRIVATE) every venue that is not a public repository is named by its organisation only."""
    from .github import GitHubClients

    clients = GitHubClients(settings)
    await clients.start()
    try:
        owner, repo = settings.tracking_owner_repo
        installation = await clients.installation_for_repo(owner, repo)
        gh = await clients.installation(installation)
        records = await collect(gh, settings.tracking_repo, since, until, with_actions=with_actions)
        if hide_private:
            records = await hide_private_venues(records, RepositoryVisibility(clients).is_public)
        return records
    finally:
        await clients.close()


# --------------------------------------------------------------------------- pure: summary and renderings

def months_between(since: date, until: date) -> list[str]:
    months = []
    year, month = since.year, since.month
    while (year, month) <= (until.year, until.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def summarise(records: Iterable[Incident], since: date | None = None, until: date | None = None) -> dict:
    """Counts by kind, outcome, month of creation and venue. Every kind and every outcome of the ladder
    (and `open`) is listed, zeros included; with SINCE and UNTIL every month of the period is too."""
    records = list(records)
    kinds = Counter(r.kind for r in records)
    outcomes = Counter(r.outcome for r in records)
    months = Counter(r.month for r in records)
    venues = Counter(r.venue for r in records)
    by_outcome = {o: outcomes.get(o, 0) for o in (*OUTCOMES, OPEN)}
    if outcomes.get(UNRECORDED):
        by_outcome[UNRECORDED] = outcomes[UNRECORDED]
    month_keys = set(months)
    if since is not None and until is not None:
        month_keys.update(months_between(since, until))
    return {
        "total": len(records),
        "by_kind": {k: kinds.get(k, 0) for k in KINDS},
        "by_outcome": by_outcome,
        "by_month": {m: months.get(m, 0) for m in sorted(month_keys)},
        "by_venue": dict(sorted(venues.items(), key=lambda kv: (-kv[1], kv[0].lower()))),
    }


_OUTCOME_TEXT = {
    "no-action": "no action",
    "reminder": "reminder",
    "warning": "warning",
    "final-warning": "final warning",
    "temporary-ban": "temporary ban",
    "permanent-ban": "permanent ban",
    OPEN: "open (no decision yet)",
    UNRECORDED: "closed without a recorded outcome",
}


def _table(head: tuple[str, str], rows: Iterable[tuple[str, int]]) -> list[str]:
    lines = [f"| {head[0]} | {head[1]} |", "| --- | ---: |"]
    lines += [f"| {name} | {count} |" for name, count in rows]
    return lines


def _mermaid_label(text: str) -> str:
    return text.replace('"', "'")


def render_markdown(summary: dict, since: date, until: date) -> str:
    """The report to publish: counts and charts only (no logins, code names, links or issue numbers)."""
    total = summary["total"]
    period = f"{since.isoformat()} to {until.isoformat()}"
    out = [f"# Code of Conduct transparency report, {period}", ""]
    out.append(f"Incidents recorded from {since.isoformat()} to {until.isoformat()} (UTC, both days included), "
               f"open and closed: **{total}**.")
    out.append("")

    out += ["## By kind", ""]
    out += _table(("Kind", "Incidents"), summary["by_kind"].items())
    out.append("")

    out += ["## By outcome", ""]
    out += _table(("Outcome", "Incidents"), summary["by_outcome"].items())
    out.append("")
    pie = [(o, n) for o, n in summary["by_outcome"].items() if n]
    if pie:
        out += ["```mermaid", "pie showData", '    title Incidents by outcome']
        out += [f'    "{_mermaid_label(_OUTCOME_TEXT.get(o, o))}" : {n}' for o, n in pie]
        out += ["```", ""]

    out += ["## By month of creation", ""]
    out += _table(("Month", "Incidents"), summary["by_month"].items())
    out.append("")
    months = list(summary["by_month"].items())
    if months:
        top = max(1, max(n for _, n in months))
        out += ["```mermaid", "xychart-beta", '    title "Incidents per month"',
                "    x-axis [" + ", ".join(f'"{m}"' for m, _ in months) + "]",
                f'    y-axis "Incidents" 0 --> {top}',
                "    bar [" + ", ".join(str(n) for _, n in months) + "]",
                "```", ""]

    out += ["## By venue", ""]
    if summary["by_venue"]:
        out += _table(("Organisation/repository", "Incidents"), summary["by_venue"].items())
    else:
        out.append("_No incidents in this period._")
    out.append("")

    out += ["## Method", "",
            "Counted from the Code of Conduct working group's private tracking repository, where every "
            "report, every heated discussion noticed automatically and every moderation action is recorded as "
            "one incident. An incident is counted in the month it was first recorded (UTC), whether it is "
            "still open or closed. Its kind is the most serious it reached: `report` (someone reported it), "
            "then `heated` (a heated discussion was noticed automatically), then `action` (a moderator acted "
            "without a report). Its outcome is the working group's decision on the Python Software "
            "Foundation's consequence ladder (`no-action`, `reminder`, `warning`, `final-warning`, "
            "`temporary-ban`, `permanent-ban`); `open` means no decision has been recorded yet"
            + (", `unrecorded` that the incident was closed without one" if UNRECORDED in summary["by_outcome"]
               else "") +
            ". The venue is the organisation and repository of the discussion; a repository that is not "
            "public is named only by its organisation, as `(private repository)`. Configuration errors filed in "
            "the tracking repository are not incidents and are not counted. This report names no one and "
            "does not identify individual incidents.",
            ""]
    return "\n".join(out)


CSV_COLUMNS = ("code_name", "date", "kind", "status", "actions_taken", "outcome")


def format_actions(actions: Iterable[tuple[str, int]]) -> str:
    return ";".join(name if count == 1 else f"{name}×{count}" for name, count in actions)


def render_csv(records: Iterable[Incident]) -> str:
    """The working group's status sheet: one row per incident, oldest first; no logins."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in sorted(records, key=lambda r: (r.created, r.code_name)):
        writer.writerow((r.code_name, r.created.isoformat(), r.kind, r.status, format_actions(r.actions), r.outcome))
    return buf.getvalue()
