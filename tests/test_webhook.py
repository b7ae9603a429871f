"""POST /webhook and GET /healthz answer exactly as SPEC.md says."""
from __future__ import annotations

import json
import uuid

from tests.conftest import REPO
from tests.harness import get, post, sign


def _comment_event(fake, body="just a normal comment", user="rey"):
    issue = fake.create_issue(REPO, user="rey", title="A feature request")
    comment = fake.add_comment(REPO, issue["number"], user=user, body=body)
    return fake.event_issue_comment("created", REPO, issue["number"], comment)


def test_valid_delivery_is_accepted_and_stored(fake, bot):
    status, body = bot.deliver(_comment_event(fake))
    assert status == 202
    assert bot.jobs(kind="delivery")


def test_ping_answers_200_and_is_not_queued(fake, bot):
    status, _ = bot.deliver(fake.event_ping())
    assert status == 200
    assert bot.jobs(kind="delivery") == []


def test_wrong_or_missing_signature_is_401_and_not_processed(fake, bot):
    ev = _comment_event(fake, body="/coc-remind", user="wes")
    assert bot.deliver(ev, secret="wrong-secret")[0] == 401
    assert bot.deliver(ev, headers={"X-Hub-Signature-256": None})[0] == 401
    assert bot.deliver(ev, headers={"X-Hub-Signature-256": "sha1=abc"})[0] == 401
    bot.wait_idle()
    assert bot.jobs() == []
    assert fake.writes() == []


def test_malformed_requests_are_400(fake, bot):
    ev = _comment_event(fake)
    assert bot.deliver(ev, headers={"X-GitHub-Event": None})[0] == 400
    assert bot.deliver(ev, headers={"X-GitHub-Delivery": None})[0] == 400
    assert bot.deliver(ev, body=b"not json at all")[0] == 400
    assert bot.deliver(ev, body=b"[1, 2, 3]")[0] == 400
    assert bot.jobs() == []


def test_oversized_body_is_413(fake, bot):
    big = b'{"pad": "' + b"x" * (25 * 1024 * 1024 + 10) + b'"}'
    headers = {"X-GitHub-Event": "issue_comment", "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-Hub-Signature-256": sign(big), "Content-Type": "application/json"}
    assert post(bot.url + "/webhook", big, headers, timeout=60)[0] == 413
    assert bot.jobs() == []


def test_duplicate_delivery_is_acknowledged_and_processed_once(fake, bot):
    ev = _comment_event(fake, body="/coc-remind", user="wes")
    delivery = str(uuid.uuid4())
    assert bot.deliver(ev, delivery=delivery)[0] == 202
    status, _ = bot.deliver(ev, delivery=delivery)
    assert 200 <= status < 300
    bot.wait_idle()
    number = ev[1]["issue"]["number"]
    reminders = [c for c in fake.comments(REPO, number) if c["user"]["login"] == fake.bot_login]
    assert len(reminders) == 1
    assert len(bot.jobs(kind="delivery")) == 1


def test_healthz(bot):
    status, body = get(bot.url + "/healthz")
    assert status == 200 and body["status"] == "ok"


def test_signature_checked_over_exact_bytes(fake, bot):
    ev = _comment_event(fake)
    raw = json.dumps(ev[1], indent=2).encode()
    assert bot.deliver(ev, body=raw)[0] == 202
    # Same JSON, different bytes: the signature no longer matches.
    headers = {"X-GitHub-Event": "issue_comment", "X-GitHub-Delivery": str(uuid.uuid4()),
               "X-Hub-Signature-256": sign(raw), "Content-Type": "application/json"}
    assert post(bot.url + "/webhook", json.dumps(ev[1]).encode(), headers)[0] == 401
