"""`python -m app jobs [retry ID | retry --all-failed]`, run as an operator runs it, on a database made by the
real store (and, at the end, beside a running server)."""
from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import subprocess
import sys
import time
import types
import uuid

import pytest

from app.store import SQLiteStore
from tests.conftest import TRACKING
from tests.harness import wait_until

SECRETS = ("SECRET-REASON", "SECRET-EVIDENCE", "SECRET-BODY", "troll42", "SECRET-NOTE")
ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"


def jobs_cli(db, *args, env=None, cwd=None):
    """Runs `python -m app jobs ARGS` with only DATABASE_URL set (no GitHub credentials at all)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COC_", "DATABASE_"))}
    if db is not None:
        base["DATABASE_URL"] = f"sqlite:///{db}"
    base.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "app", "jobs", *args], capture_output=True, text=True,
                          env=base, cwd=cwd or os.path.dirname(str(db or ".")) or ".", timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def thread(number=12):
    return {"installation_id": 1, "owner": "psf", "repo": "black", "number": number, "is_pr": False,
            "html_url": f"https://github.com/psf/black/issues/{number}", "issue_url": "x", "comments_url": "y"}


def build(db) -> dict:
    """A queue as the server leaves it: a failed report, a report waiting for its tracking repository, a
    scheduled unlock and unblock, a failed delivery, a running job and a finished one."""
    async def go():
        store = SQLiteStore(str(db))
        await store.open()
        now = time.time()
        ids = {}
        report = {"kind": "report", "event_key": "report:1", "thread": thread(12), "tracking": TRACKING,
                  "reporter": "rey", "reason": "SECRET-REASON", "keep_until": now + 86400,
                  "evidence": [{"author": "troll42", "body": "SECRET-EVIDENCE"}]}
        ids["failed"] = await store.enqueue("incident", report, key="incident:report:1")
        ids["waiting"] = await store.enqueue("incident", {**report, "event_key": "report:2", "thread": thread(13)},
                                             key="incident:report:2")
        ids["delivery"] = await store.enqueue("delivery", {"delivery_id": str(uuid.uuid4()), "event": "issue_comment",
                                                           "installation_id": 1, "body": "SECRET-BODY"})
        ids["running"] = await store.enqueue("nudge", {"tracking": TRACKING, "number": 4, "sla": 5})
        ids["done"] = await store.enqueue("nudge", {"tracking": TRACKING, "number": 5, "sla": 5})
        claimed, _ = await store.claim(10, 600)
        assert {j.id for j in claimed} == {ids[k] for k in ("failed", "waiting", "delivery", "running", "done")}
        await store.fail(ids["failed"], "gave up after 12 attempts: POST /repos/psf-coc/incidents/issues: "
                                        "GitHub answered 502\n  and a second line " + "x" * 300)
        await store.reschedule(ids["waiting"], now + 3600, "tracking repository psf-coc/incidents is not private; "
                                                           "nothing was written there")
        await store.fail(ids["delivery"], "KeyError: 'issue'")
        await store.finish_many([ids["done"]])
        ids["unlock"] = await store.enqueue("unlock", {"thread": thread(14), "lock_key": "k", "reason": "SECRET-NOTE"},
                                            run_at=now + 3 * 3600, key="unlock:psf/black#14")
        ids["unblock"] = await store.enqueue("unblock", {"installation_id": 1, "org": "psf", "login": "troll42",
                                                         "tracking": TRACKING, "number": 3},
                                             run_at=now + 86400, key="unblock:psf:troll42")
        await store.close()
        return ids
    return asyncio.run(go())


def rows(db) -> dict[int, tuple]:
    with sqlite3.connect(db) as conn:
        return {r[0]: r[1:] for r in conn.execute("SELECT id, state, attempts, run_at, last_error FROM jobs")}


@pytest.fixture
def q(tmp_path):
    """The queue's database file (`q.path`) and the ids of its jobs (`q.ids`)."""
    path = tmp_path / "conduct-bot.sqlite3"
    return types.SimpleNamespace(path=path, ids=build(path))


def test_lists_failed_waiting_and_scheduled_jobs_without_any_report_text(q):
    ids = q.ids
    code, out, err = jobs_cli(q.path)
    assert (code, err) == (0, "")
    lines = {int(line.split()[0]): line for line in out.splitlines() if re.match(r"\d+ ", line)}
    assert set(lines) == {ids[k] for k in ("failed", "waiting", "delivery", "running", "unlock", "unblock")}
    assert re.search(r"\bfailed\s+incident\s+psf/black#12 -> psf-coc/incidents\s+1\s+-\s+gave up after 12 attempts",
                     lines[ids["failed"]])
    assert re.search(rf"\bwaiting\s+incident\s+psf/black#13 -> psf-coc/incidents\s+1\s+{ISO}\s+tracking repository "
                     rf"psf-coc/incidents is not private", lines[ids["waiting"]])
    assert re.search(rf"\bscheduled\s+unlock\s+psf/black#14\s+0\s+{ISO}\s+-$", lines[ids["unlock"]])
    assert re.search(rf"\bscheduled\s+unblock\s+psf-coc/incidents\s+0\s+{ISO}", lines[ids["unblock"]])
    assert re.search(r"\bfailed\s+delivery\s+-\s+1\s+-\s+KeyError", lines[ids["delivery"]])
    assert re.search(r"\brunning\s+nudge\s+psf-coc/incidents\b", lines[ids["running"]])
    # The next run is the job's time in UTC.
    unlock_at = rows(q.path)[ids["unlock"]][2]
    assert time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unlock_at)) in lines[ids["unlock"]]
    # Failed first, then running, waiting, scheduled; the error on one line, truncated.
    order = [int(line.split()[0]) for line in out.splitlines() if re.match(r"\d+ ", line)]
    assert order == [ids["failed"], ids["delivery"], ids["running"], ids["waiting"], ids["unlock"], ids["unblock"]]
    assert "second line" in lines[ids["failed"]] and "x" * 300 not in out and "…" in lines[ids["failed"]]
    assert "jobs: 2 failed, 1 running, 1 waiting, 2 scheduled" in out
    for secret in SECRETS:
        assert secret not in out and secret not in err, secret
    # Listing changed nothing: the job the server is running stays running, nothing is re-queued.
    assert rows(q.path)[ids["running"]][0] == "running"


def test_retry_one_failed_job_makes_it_due_now_with_attempts_reset(q):
    ids = q.ids
    before = time.time()
    code, out, err = jobs_cli(q.path, "retry", str(ids["failed"]))
    assert (code, err) == (0, "")
    assert out.startswith(f"re-queued job {ids['failed']} (incident, psf/black#12 -> psf-coc/incidents)")
    state, attempts, run_at, last_error = rows(q.path)[ids["failed"]]
    assert (state, attempts, last_error) == ("queued", 0, None) and before - 1 <= run_at <= time.time()
    assert rows(q.path)[ids["delivery"]][0] == "failed"  # only that one
    # It is now listed as scheduled (due now), and no longer failed.
    code, out, _ = jobs_cli(q.path)
    assert re.search(rf"^{ids['failed']}\s+scheduled\s+incident", out, re.M)
    # Retrying it again, or a job that does not exist or is not failed: one line, exit 1.
    for job_id in (ids["failed"], 999, ids["unlock"]):
        code, out, err = jobs_cli(q.path, "retry", str(job_id))
        assert (code, out) == (1, "") and err.count("\n") == 1 and f"job {job_id} is not a failed job" in err


def test_retry_all_failed(q):
    ids = q.ids
    code, out, err = jobs_cli(q.path, "retry", "--all-failed")
    assert (code, err) == (0, "") and "2 failed job(s) re-queued" in out
    assert {rows(q.path)[ids[k]][:2] for k in ("failed", "delivery")} == {("queued", 0)}
    code, out, _ = jobs_cli(q.path, "retry", "--all-failed")
    assert code == 0 and "0 failed job(s) re-queued" in out


def test_a_failed_job_whose_work_is_already_pending_is_not_queued_twice(q):
    ids = q.ids

    async def duplicate():  # a newer job with the same key is already queued
        store = SQLiteStore(str(q.path))
        await store.open()
        await store.enqueue("incident", {"thread": thread(12), "tracking": TRACKING}, key="incident:report:1")
        await store.close()
    asyncio.run(duplicate())
    code, out, err = jobs_cli(q.path, "retry", str(ids["failed"]))
    assert code == 1 and "another pending job already does its work" in err
    assert rows(q.path)[ids["failed"]][0] == "failed"


@pytest.mark.parametrize("args,needle", [
    (["retry"], "one of them"),
    (["retry", "abc"], "not a job id"),
    (["retry", "0"], "not a job id"),
    (["retry", "5", "--all-failed"], "one of them"),
    (["--all-failed"], "go with retry"),
    (["frobnicate"], "invalid choice"),
    (["retry", "5", "6"], "unrecognized arguments"),
])
def test_bad_arguments_give_one_line_and_exit_2(q, args, needle):
    code, out, err = jobs_cli(q.path, *args)
    assert (code, out) == (2, "") and err.count("\n") == 1 and needle in err and "Traceback" not in err


def test_help_and_database_problems(tmp_path, q):
    code, out, err = jobs_cli(q.path, "--help")
    assert code == 0 and out.startswith("usage: python -m app jobs [retry ID | retry --all-failed]") and err == ""
    assert "DATABASE_URL" in out
    top = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True, text=True, timeout=60)
    assert top.returncode == 0 and "jobs [retry ID|--all-failed]" in top.stdout
    # No database where DATABASE_URL points (the default: ./conduct-bot.sqlite3): one line, exit 1, none created.
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = jobs_cli(None, cwd=empty)
    assert (code, out) == (1, "") and err.count("\n") == 1 and "conduct-bot.sqlite3" in err
    assert list(empty.iterdir()) == []
    code, out, err = jobs_cli(None, env={"DATABASE_URL": "postgresql://db/coc"}, cwd=empty)
    assert (code, out) == (2, "") and err.count("\n") == 1 and "PostgreSQL" in err
    (tmp_path / "other.sqlite3").write_bytes(b"")
    sqlite3.connect(tmp_path / "other.sqlite3").execute("CREATE TABLE t (x)").connection.commit()
    code, out, err = jobs_cli(tmp_path / "other.sqlite3")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "cannot read the jobs" in err


def test_an_operator_retries_a_failed_job_beside_the_running_server(fake, bot, tmp_path):
    number = fake.create_issue(TRACKING, user="wendy", title="Incident amber-falcon")["number"]

    async def record(job, rt):  # writes into the tracking repository, as incident jobs do
        gh = await rt.clients.installation(fake.installation_ids["psf-coc"])
        await gh.post(f"/repos/{TRACKING}/issues/{number}/comments", data={"body": "recorded"})

    bot.register_job("probe", record)
    # GitHub refuses it (a misconfiguration, say): the job is kept as failed, and the operator sees it.
    fake.fail_next("POST", rf"^/repos/{TRACKING}/issues/\d+/comments$", status=404, times=1,
                   body={"message": "Not Found"})
    job_id = bot.enqueue("probe", {"tracking": TRACKING, "reason": "SECRET-REASON"})
    wait_until(lambda: bot.jobs(state="failed"), 15, "the job to be kept as failed")
    db = tmp_path / "bot.sqlite3"
    code, out, _ = jobs_cli(db)
    assert code == 0 and re.search(rf"^{job_id}\s+failed\s+probe\s+psf-coc/incidents\s+1\s", out, re.M)
    assert "SECRET-REASON" not in out
    # Fixed; the operator re-queues it and the running server does the work, once.
    code, out, err = jobs_cli(db, "retry", str(job_id))
    assert (code, err) == (0, "")
    fake.wait_for(lambda f: [c["body"] for c in f.comments(TRACKING, number)] == ["recorded"], timeout=15)
    wait_until(lambda: bot.job(job_id)["state"] == "done", 10, "the job to finish")
    assert bot.job(job_id)["attempts"] == 1
    assert jobs_cli(db)[1] == "No failed, waiting or scheduled jobs.\n"


def test_the_database_is_named_by_dotenv_as_for_the_server(q, tmp_path):
    """`python -m app register` writes .env; `jobs`, run where the server runs, reads DATABASE_URL there too."""
    where = tmp_path / "service"
    where.mkdir()
    (where / ".env").write_text(f"GITHUB_APP_ID=1\nDATABASE_URL=sqlite:///{q.path}\n")
    code, out, err = jobs_cli(None, cwd=where)
    assert (code, err) == (0, "") and "failed" in out
