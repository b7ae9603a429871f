"""`python -m app jobs [retry ID | retry --all-failed]` (SPEC.md: Command line).

Lists the jobs an operator may need to look at — failed ones, ones waiting to be
retried (after a transient error, or postponed while the tracking repository is
unavailable) and scheduled ones (timed unlocks, unblocks, nudges) — one line
each: id, state, kind, where (thread or repository), attempts, next run (UTC)
and the last error on one line. `retry ID` makes a failed job due now with its
attempts reset; `retry --all-failed` does that for every failed job. A running
server picks them up within a second.

It reads only DATABASE_URL (default sqlite:///conduct-bot.sqlite3): no GitHub
credentials. Job payloads hold report reasons, evidence and comment bodies:
nothing of a payload is printed but the thread (`owner/repo#number`), the
`repository` and the `tracking` repository, and only when they look like
exactly that.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import OneLineParser

PROG = "python -m app jobs"
DEFAULT_DATABASE_URL = "sqlite:///conduct-bot.sqlite3"
ERROR_WIDTH = 120  # characters of the last error shown

_REPO = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}"
_REPO_RE = re.compile(rf"^{_REPO}$")
_THREAD_RE = re.compile(rf"^{_REPO}#\d{{1,10}}$")
STATES = ("failed", "running", "waiting", "scheduled")  # the order of the listing


class JobsError(Exception):
    """Something the operator must fix (the database); one line, exit 1."""


# --------------------------------------------------------------------------- pure: one job -> one line

def state_of(job: dict) -> str:
    """failed | running | waiting (queued again after an error or a postponement) | scheduled."""
    if job["state"] in ("failed", "running"):
        return job["state"]
    return "waiting" if job.get("last_error") else "scheduled"


def where_of(payload) -> str:
    """The thread or repository a job is about, from the only payload fields that may be shown."""
    if not isinstance(payload, dict):
        return "-"
    parts = []
    thread = payload.get("thread")
    if isinstance(thread, dict):
        owner, repo, number = thread.get("owner"), thread.get("repo"), thread.get("number")
        if isinstance(owner, str) and isinstance(repo, str) and isinstance(number, int) and not isinstance(
                number, bool):
            thread = f"{owner}/{repo}#{number}"
    if isinstance(thread, str) and _THREAD_RE.match(thread):
        parts.append(thread)
    repository = payload.get("repository")
    if not parts and isinstance(repository, str) and _REPO_RE.match(repository):
        parts.append(repository)
    tracking = payload.get("tracking")
    if isinstance(tracking, str) and _REPO_RE.match(tracking):
        parts.append(f"-> {tracking}" if parts else tracking)
    return " ".join(parts) or "-"


def utc(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def one_line(text: str | None, width: int = ERROR_WIDTH) -> str:
    text = " ".join((text or "").split())
    if not text:
        return "-"
    return text if len(text) <= width else text[: width - 1] + "…"


def render(jobs: list[dict]) -> str:
    """The listing: failed, running, waiting, then scheduled jobs, each group by next run."""
    if not jobs:
        return "No failed, waiting or scheduled jobs.\n"
    rows = []
    for job in sorted(jobs, key=lambda j: (STATES.index(state_of(j)), j.get("run_at") or 0, j["id"])):
        state = state_of(job)
        next_run = "-" if state == "failed" else utc(job.get("run_at"))
        rows.append((str(job["id"]), state, str(job["kind"]), where_of(job.get("payload")),
                     str(job.get("attempts", 0)), next_run, one_line(job.get("last_error"))))
    head = ("ID", "STATE", "KIND", "WHERE", "ATTEMPTS", "NEXT RUN (UTC)", "LAST ERROR")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths)) + "  " + row[-1]
             for row in [head, *rows]]
    counts = {s: sum(1 for j in jobs if state_of(j) == s) for s in STATES}
    lines.append("")
    lines.append("jobs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n or s != "running") +
                 ("; `retry ID` or `retry --all-failed` re-queues failed jobs" if counts["failed"] else ""))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- the store, opened beside a server

def database_path(env) -> str:
    """The SQLite file named by DATABASE_URL (the only setting this command reads; from the environment over
    `.env` in the working directory, as the server reads it)."""
    url = (env.get("DATABASE_URL") or "").strip() or DEFAULT_DATABASE_URL
    if url.startswith(("postgresql://", "postgres://")):
        raise JobsError("DATABASE_URL: PostgreSQL storage is not available in this version; use sqlite:///PATH")
    if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
        raise JobsError("DATABASE_URL must be sqlite:///PATH (the server's database)")
    return url[len("sqlite:///"):]


def _operator_store(path: str):
    """The server's SQLiteStore, opened as a second user of the file: the schema is left as it is and jobs
    the running server holds stay running (SQLiteStore.open re-queues them, since it assumes it is the
    file's only user, restarting after a crash). A missing file is an error, not a new empty database."""
    from ..store import SQLiteStore

    class OperatorStore(SQLiteStore):
        def _open(self) -> None:
            uri = Path(self.path).resolve().as_uri() + "?mode=rw"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("SELECT 1 FROM jobs LIMIT 1").fetchall()  # a conduct-bot database?
            self._conn = conn

    return OperatorStore(path)


async def _with_store(path: str, work):
    if not Path(path).is_file():
        raise JobsError(f"no database at {path} (set DATABASE_URL to the server's sqlite:///PATH)")
    store = _operator_store(path)
    try:
        await store.open()
    except sqlite3.Error as exc:
        await store.close()  # its database thread
        raise JobsError(f"cannot read the jobs of {path}: {exc}") from None
    try:
        return await work(store)
    finally:
        await store.close()


async def list_jobs(store) -> list[dict]:
    """Failed, running and queued jobs (queued: waiting or scheduled)."""
    out = []
    for state in ("failed", "running", "queued"):
        out += await store.jobs(state=state)
    return out


async def retry(store, job_id: int | None) -> tuple[list[dict], list[dict]]:
    """Re-queue one failed job (JOB_ID) or all of them (None): (re-queued, refused) failed jobs."""
    failed = await store.jobs(state="failed")
    if job_id is not None:
        failed = [j for j in failed if j["id"] == job_id]
        if not failed:
            raise JobsError(f"job {job_id} is not a failed job (see `{PROG}`)")
    done, refused = [], []
    for job in failed:
        (done if await store.requeue(job["id"]) else refused).append(job)
    return done, refused


# --------------------------------------------------------------------------- command line

def _job_id(value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise argparse.ArgumentTypeError(f"not a job id: {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG,
        usage=f"{PROG} [retry ID | retry --all-failed]",
        description="List failed, waiting and scheduled jobs of the server's queue (id, state, kind, thread or "
                    "repository, attempts, next run in UTC, last error), or re-queue failed ones. Reads only "
                    f"DATABASE_URL (default {DEFAULT_DATABASE_URL}); never prints report text or comment bodies.",
        epilog="retry ID: make that failed job due now, attempts reset. retry --all-failed: the same for every "
               "failed job. A running server picks them up within a second.",
    )
    p.add_argument("command", nargs="?", choices=["retry"], help="re-queue failed jobs")
    p.add_argument("id", nargs="?", type=_job_id, metavar="ID", help="the failed job to re-queue")
    p.add_argument("--all-failed", action="store_true", help="with retry: re-queue every failed job")
    return p


def _err(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")


def main(argv: list[str] | None = None, env=None) -> int:
    from ..settings import SettingsError, environment

    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        if args.command is None and (args.id is not None or args.all_failed):
            parser.error("ID and --all-failed go with retry: retry ID or retry --all-failed")
        if args.command == "retry" and (args.id is None) == (not args.all_failed):
            parser.error("retry takes a job ID or --all-failed (one of them)")
        path = database_path(environment() if env is None else env)  # the environment over .env, as the server
    except SettingsError as exc:
        _err(str(exc))
        return 2
    except SystemExit as exc:  # --help (0) or a bad argument (2, already reported in one line)
        return int(exc.code or 0)
    except JobsError as exc:
        _err(str(exc))
        return 2

    try:
        if args.command is None:
            sys.stdout.write(render(asyncio.run(_with_store(path, list_jobs))))
            return 0
        done, refused = asyncio.run(_with_store(path, lambda store: retry(store, args.id)))
    except JobsError as exc:
        _err(str(exc))
        return 1
    for job in done:
        print(f"re-queued job {job['id']} ({job['kind']}, {where_of(job.get('payload'))}): due now, attempts reset")
    for job in refused:
        print(f"job {job['id']} ({job['kind']}) not re-queued: another pending job already does its work",
              file=sys.stderr)
    if args.all_failed:
        print(f"{len(done)} failed job(s) re-queued")
    return 1 if refused and not done else 0
