"""The queue: retries with back-off, rate limits, permanent failures, crash recovery, token reuse."""
from __future__ import annotations

import time
import uuid

from tests.conftest import REPO
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
                   body={"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."})
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
