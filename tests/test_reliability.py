"""The queue: retries with back-off, rate limits, permanent failures, crash recovery, token reuse."""
from __future__ import annotations

import time
import uuid

from tests.conftest import REPO, TRACKING
from tests.harness import BotProcess, bot_env, wait_until


def bot_comments(fake, number):
    return [c for c in fake.comments(REPO, number) if c["user"]["login"] == fake.bot_login]


def remind_event(fake, user="wes"):
    issue = fake.create_issue(REPO, user="rey", title="Discussion")
    c = fake.add_comment(REPO, issue["number"], user=user, body="/coc-remind")
    return issue["number"], fake.event_issue_comment("created", REPO, issue["number"], c)


def test_502_is_retried_and_the_reminder_appears_once(fake, bot):
    fake.fail_next("POST", r"/repos/psf/black/issues/\d+/comments$", status=502, times=2)
    number, ev = remind_event(fake)
    assert bot.deliver(ev)[0] == 202
    fake.wait_for(lambda f: len(bot_comments(f, number)) == 1, timeout=20)
    bot.wait_idle(20)
    assert len(bot_comments(fake, number)) == 1
    job = bot.jobs(kind="delivery")[0]
    assert job["state"] == "done" and job["attempts"] == 3


def test_secondary_rate_limit_honours_retry_after(fake, bot):
    fake.fail_next("POST", r"/repos/psf/black/issues/\d+/comments$", status=403, headers={"Retry-After": "2"},
                   body={"message": "You have exceeded a secondary rate limit. "
                                    "Please wait a few minutes before you try again."})
    number, ev = remind_event(fake)
    started = time.monotonic()
    assert bot.deliver(ev)[0] == 202
    fake.wait_for(lambda f: len(bot_comments(f, number)) == 1, timeout=20)
    assert time.monotonic() - started >= 1.9
    bot.wait_idle()
    assert len(bot_comments(fake, number)) == 1


def test_permanent_failure_is_kept_as_failed_not_retried(fake, bot):
    fake.fail_next("POST", r"/repos/psf/black/issues/\d+/comments$", status=404, times=50,
                   body={"message": "Not Found"})
    number, ev = remind_event(fake)
    delivery = str(uuid.uuid4())
    assert bot.deliver(ev, delivery=delivery)[0] == 202
    wait_until(lambda: bot.jobs(state="failed"), 15, "the job to be kept as failed")
    failed = bot.jobs(state="failed")
    assert len(failed) == 1 and failed[0]["payload"]["delivery_id"] == delivery
    assert failed[0]["attempts"] == 1
    assert "remind" in failed[0]["last_error"] or "handler" in failed[0]["last_error"]


def remind_many(fake, bot, count):
    """`count` reminders on as many threads, each delivered and acknowledged; all posted once."""
    numbers = []
    for _ in range(count):
        number, ev = remind_event(fake)
        numbers.append(number)
        assert bot.deliver(ev)[0] == 202
    bot.wait_idle(30)
    assert all(len(bot_comments(fake, n)) == 1 for n in numbers)


def test_many_deliveries_one_token_per_installation(fake, bot):
    remind_many(fake, bot, 15)
    # One for the repository's installation, one for the tracking repository's installation.
    assert fake.token_requests == 2


def test_expired_token_is_refreshed_on_401(fake, bot):
    number, ev = remind_event(fake)
    bot.deliver(ev)
    bot.wait_idle()
    fake.expire_tokens()
    number, ev = remind_event(fake)
    bot.deliver(ev)
    fake.wait_for(lambda f: len(bot_comments(f, number)) == 1)
    bot.wait_idle()
    assert fake.token_requests == 4  # both installations refreshed once each after the 401s


def _process(fake, tmp_path):
    return BotProcess(bot_env(fake, tmp_path / "bot.sqlite3"), tmp_path)


def test_sigkill_right_after_202_then_restart_reminder_exactly_once(fake, tmp_path):
    proc = _process(fake, tmp_path).start()
    try:
        number, ev = remind_event(fake)
        delivery = str(uuid.uuid4())
        assert proc.deliver(ev, delivery=delivery)[0] == 202
        proc.kill()
        # GitHub redelivers the same delivery while we are down / after restart.
        proc2 = BotProcess(proc.env, tmp_path).start()
        try:
            assert 200 <= proc2.deliver(ev, delivery=delivery)[0] < 300
            fake.wait_for(lambda f: len(bot_comments(f, number)) == 1, timeout=20)
            wait_until(lambda: set(fake.reactions_on_comment(ev[1]["comment"]["id"])) >= {"+1"}, 20, "+1 reaction")
            assert len(bot_comments(fake, number)) == 1
        finally:
            proc2.stop()
    finally:
        proc.stop()


def test_sigkill_after_the_comment_was_posted_does_not_post_twice(fake, tmp_path):
    # Reactions are slow to answer, so the job is still running when the server dies, after the
    # reminder is already on GitHub but before the job could record that it was posted.
    proc = _process(fake, tmp_path).start()
    try:
        number, ev = remind_event(fake)
        fake.delay_next("POST", r"/repos/psf/black/issues/comments/\d+/reactions$", seconds=3, times=2)
        assert proc.deliver(ev)[0] == 202
        fake.wait_for(lambda f: len(bot_comments(f, number)) == 1, timeout=20)
        proc.kill()
        proc2 = BotProcess(proc.env, tmp_path).start()
        try:
            wait_until(lambda: "+1" in fake.reactions_on_comment(ev[1]["comment"]["id"]), 30, "+1 after restart")
            assert len(bot_comments(fake, number)) == 1
        finally:
            proc2.stop()
    finally:
        proc.stop()


def test_duplicate_delivery_after_a_restart_is_not_processed_again(fake, make_bot):
    bot = make_bot()
    number, ev = remind_event(fake)
    delivery = str(uuid.uuid4())
    assert bot.deliver(ev, delivery=delivery)[0] == 202
    bot.wait_idle()
    bot.stop()
    bot2 = make_bot()
    status, _ = bot2.deliver(ev, delivery=delivery)
    assert 200 <= status < 300 and status != 202
    bot2.wait_idle()
    assert len(bot_comments(fake, number)) == 1


def test_scheduled_job_survives_a_restart(fake, make_bot):
    bot = make_bot()
    issue = fake.create_issue(REPO, user="rey", title="x")
    c = fake.add_comment(REPO, issue["number"], user="wes", body="/coc-lock 3h")
    bot.deliver(fake.event_issue_comment("created", REPO, issue["number"], c))
    bot.wait_idle()
    assert fake.issue(REPO, issue["number"])["locked"]
    bot.stop()
    bot2 = make_bot()
    assert bot2.fast_forward("unlock") == 1
    bot2.wait_idle()
    assert fake.issue(REPO, issue["number"])["locked"] is False


def test_more_due_jobs_than_workers_are_all_processed(fake, make_bot):
    remind_many(fake, make_bot(COC_WORKERS="2"), 12)


OLD_SCHEMA = """
CREATE TABLE deliveries (id TEXT PRIMARY KEY, event TEXT NOT NULL, action TEXT, installation_id INTEGER,
                         body BLOB, received_at REAL NOT NULL);
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT, payload TEXT NOT NULL,
                   state TEXT NOT NULL DEFAULT 'queued', run_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                   lease_until REAL, last_error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE UNIQUE INDEX jobs_active_key ON jobs(key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs(state, run_at);
CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at REAL, PRIMARY KEY (ns, key));
"""


def test_a_delivery_accepted_by_the_previous_version_is_processed_after_the_upgrade(fake, make_bot, tmp_path):
    # The previous version stored bodies uncompressed, without a codec column; a delivery it
    # acknowledged just before the upgrade must still be processed by this one.
    import json
    import sqlite3
    number, (event, payload) = remind_event(fake)
    delivery = str(uuid.uuid4())
    now = time.time()
    db = sqlite3.connect(tmp_path / "bot.sqlite3")
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
               (delivery, event, "created", payload["installation"]["id"], json.dumps(payload).encode(), now))
    db.execute("INSERT INTO jobs (kind, payload, run_at, created_at, updated_at) VALUES ('delivery', ?, ?, ?, ?)",
               (json.dumps({"delivery_id": delivery, "event": event, "installation_id": payload["installation"]["id"]}),
                now, now, now))
    db.commit()
    db.close()
    bot = make_bot()
    fake.wait_for(lambda f: len(bot_comments(f, number)) == 1, timeout=20)
    # ... and a redelivery of it is still recognised as a duplicate, while new deliveries are accepted.
    assert bot.deliver((event, payload), delivery=delivery)[0] == 200
    number2, ev2 = remind_event(fake)
    assert bot.deliver(ev2)[0] == 202
    fake.wait_for(lambda f: len(bot_comments(f, number2)) == 1, timeout=20)


def test_the_same_delivery_arriving_twice_at_once_is_processed_once(fake, bot):
    import concurrent.futures
    number, ev = remind_event(fake)
    delivery = str(uuid.uuid4())
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = sorted(s for s, _ in pool.map(lambda _: bot.deliver(ev, delivery=delivery), range(8)))
    assert statuses == [200] * 7 + [202]
    bot.wait_idle()
    assert len(bot_comments(fake, number)) == 1


# -- patient jobs (payload `keep_until`): waiting and transient errors do not use up their retries -----------

def _tracking_comment_job(fake, number, *, waits: int = 0):
    """A job that writes a comment into the tracking repository (as incident jobs do); with `waits`, it first
    asks to be retried later that many times, as an incident job does while the repository is unavailable."""
    from app.jobs import RetryLater

    calls = {"n": 0}

    async def run(job, rt):
        calls["n"] += 1
        if calls["n"] <= waits:
            # Its own deadline is already over: only keep_until may keep it alive.
            raise RetryLater(f"{TRACKING} is not available", until=time.time() - 1)
        gh = await rt.clients.installation(fake.installation_ids["psf-coc"])
        await gh.post(f"/repos/{TRACKING}/issues/{number}/comments", data={"body": job.payload["text"]})

    return run


def _kept_until_written(fake, bot, number, text, timeout=30):
    """Make the job due again each time it is rescheduled, until its comment is in the tracking repository."""
    def written():
        bot.fast_forward("probe")
        return [c for c in fake.comments(TRACKING, number) if c["body"] == text]
    return wait_until(written, timeout, f"the comment {text!r}")


def test_a_job_kept_for_a_week_outlives_more_5xx_than_max_attempts(fake, bot):
    number = fake.create_issue(TRACKING, user="wendy", title="Incident amber-falcon")["number"]
    bot.register_job("probe", _tracking_comment_job(fake, number))
    bot.rt.worker.max_attempts = 2
    fake.fail_next("POST", rf"^/repos/{TRACKING}/issues/\d+/comments$", status=502, times=5)
    job_id = bot.enqueue("probe", {"text": "kept", "keep_until": time.time() + 7 * 86400})
    # Three 502s, one more than max_attempts: the job is still waiting, not failed.
    wait_until(lambda: bot.fast_forward("probe") >= 0 and bot.job(job_id)["attempts"] >= 3
               and bot.job(job_id)["state"] == "queued", 20, "a third attempt rescheduled")
    job = bot.job(job_id)
    assert "502" in job["last_error"] and bot.jobs(state="failed") == []
    assert job["run_at"] <= time.time() + 3600  # never more than an hour away
    # Once GitHub answers again, the comment is written, exactly once.
    assert len(_kept_until_written(fake, bot, number, "kept")) == 1
    wait_until(lambda: bot.job(job_id)["state"] == "done", 10, "the job to finish")
    assert bot.job(job_id)["attempts"] == 6 and bot.jobs(state="failed") == []


def test_without_keep_until_a_job_still_gives_up_after_max_attempts(fake, bot):
    number = fake.create_issue(TRACKING, user="wendy", title="Incident amber-falcon")["number"]
    bot.register_job("probe", _tracking_comment_job(fake, number))
    bot.rt.worker.max_attempts = 2
    fake.fail_next("POST", rf"^/repos/{TRACKING}/issues/\d+/comments$", status=502, times=5)
    plain = bot.enqueue("probe", {"text": "plain"})
    expired = bot.enqueue("probe", {"text": "expired", "keep_until": time.time() - 1})  # its week is over
    wait_until(lambda: bot.fast_forward("probe") >= 0 and len(bot.jobs(state="failed")) == 2, 20,
               "both jobs to be kept as failed")
    for job_id in (plain, expired):
        job = bot.job(job_id)
        assert job["attempts"] == 2 and job["last_error"].startswith("gave up after 2 attempts")
    assert fake.comments(TRACKING, number) == []


def test_a_job_kept_for_a_week_keeps_waiting_past_its_own_postponement_deadline(fake, bot):
    number = fake.create_issue(TRACKING, user="wendy", title="Incident amber-falcon")["number"]
    bot.register_job("probe", _tracking_comment_job(fake, number, waits=3))
    bot.rt.worker.max_attempts = 1
    job_id = bot.enqueue("probe", {"text": "waited", "keep_until": time.time() + 7 * 86400})
    assert len(_kept_until_written(fake, bot, number, "waited")) == 1
    wait_until(lambda: bot.job(job_id)["state"] == "done", 10, "the job to finish")
    assert bot.job(job_id)["attempts"] == 4 and bot.jobs(state="failed") == []


def test_patient_back_off_is_capped_at_an_hour_honours_retry_after_and_ends_at_keep_until():
    from app.github import TransientError
    from app.jobs import RetryLater, patient_delay
    from app.store import Job

    now = 1_000_000.0
    week = now + 7 * 86400

    def job(attempts):
        return Job(1, "incident", None, {"keep_until": week}, attempts, now, now)

    late = [patient_delay(job(40), TransientError("502"), now, week) for _ in range(50)]
    assert all(1800 <= d <= 3600 for d in late)
    assert all(1 <= patient_delay(job(1), TransientError("502"), now, week) <= 2 for _ in range(20))
    assert patient_delay(job(40), TransientError("rate limited", retry_after=5000), now, week) == 5000
    assert 15 <= patient_delay(job(1), RetryLater("waiting", until=now), now, week) <= 30
    assert patient_delay(job(40), TransientError("502"), week - 10, week) == 10  # one last try at keep_until


# -- dry run: the would-be writes kept in memory are bounded ----------------------------------------------

async def test_a_long_dry_run_remembers_only_the_latest_writes(fake, tmp_path):
    from app.github import DRY_RUN_KEEP, GitHubClients
    from app.settings import load_settings

    settings = load_settings(bot_env(fake, tmp_path / "bot.sqlite3", COC_DRY_RUN="1"))
    clients = GitHubClients(settings)
    await clients.start()
    try:
        gh = await clients.installation(fake.installation_ids["psf"])
        for i in range(DRY_RUN_KEEP + 500):
            await gh.post(f"/repos/{REPO}/issues/{i}/comments", data={"body": "Reminder"})
    finally:
        await clients.close()
    assert DRY_RUN_KEEP == 1000 and len(clients.dry_run_writes) == DRY_RUN_KEEP
    assert list(clients.dry_run_writes)[0] == f"POST /repos/{REPO}/issues/500/comments"
    assert list(clients.dry_run_writes)[-1] == f"POST /repos/{REPO}/issues/1499/comments"
    assert fake.writes() == []  # a dry run writes nothing
