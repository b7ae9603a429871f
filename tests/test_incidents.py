"""Reports and the private tracking repository: evidence, privacy, exactly-once, history, nudges."""
from __future__ import annotations

import logging
import re

from tests.conftest import REPO, TRACKING
from tests.harness import wait_until
from tests.test_commands_e2e import Thread, incidents, labels


def report(fake, bot, reporter="tia", reason="they called me an idiot @ada #12", thread=None):
    t = thread or Thread(fake, bot, opener="rey", body="Opening post by rey.")
    if thread is None:
        t.comment("rey", "You are an idiot and @mia agrees, see #12", deliver=False)
        t.comment("wes", "Please keep it civil.", deliver=False)
    c = t.comment(reporter, f"/coc-report {reason}")
    return t, c


def test_report_opens_a_private_incident_with_evidence_then_deletes_the_command(fake, bot):
    t, c = report(fake, bot)
    found = incidents(fake)
    assert len(found) == 1
    inc = found[0]
    assert re.fullmatch(r"Incident [a-z]+-[a-z]+ \(report\)", inc["title"])
    assert labels(inc) == {"coc:report", "status:new"}
    body = inc["body"]
    assert t.issue["html_url"] in body and REPO in body and "report" in body
    assert "tia" in body  # the reporter, privately
    assert "called me an idiot" in body  # the reason
    assert "You are an idiot" in body and "Please keep it civil." in body  # evidence snapshot
    # Quoted text notifies nobody and references nothing.
    assert "@ada" not in body and "@mia" not in body and not re.search(r"(?<![\w/])#12", body)
    accounts = body.split("Accounts involved", 1)[1].split("###", 1)[0]
    assert "rey" in accounts and "wes" in accounts and "tia" not in accounts
    # The command comment is gone once the incident exists; nothing public says what was reported.
    assert all(x["id"] != c["id"] for x in fake.comments(REPO, t.number))
    assert t.bot_comments() == []
    assert bot.jobs(state="queued", kind="nudge")


def test_report_comment_kept_when_configured(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "delete_report_command: false\n")
    t, c = report(fake, bot)
    assert any(x["id"] == c["id"] for x in fake.comments(REPO, t.number))
    assert set(fake.reactions_on_comment(c["id"])) >= {"eyes", "+1"}


def test_report_refused_below_report_permission_points_to_contact_only(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "report_permission: triage\n")
    t, c = report(fake, bot, reporter="rey", reason="secret reason text")
    assert incidents(fake) == []
    assert fake.reactions_on_comment(c["id"]) == ["confused"]
    replies = t.bot_comments()
    assert len(replies) == 1 and "conduct-wg@python.org" in replies[0]["body"]
    assert "secret reason text" not in replies[0]["body"]


def test_anyone_may_report_by_default(fake, bot):
    report(fake, bot, reporter="someone-new")
    assert len(incidents(fake)) == 1


def test_later_events_join_the_open_incident(fake, bot):
    t, _ = report(fake, bot)
    t.comment("wes", "/coc-lock")
    report(fake, bot, reporter="mia", reason="still going", thread=t)
    found = incidents(fake)
    assert len(found) == 1
    assert labels(found[0]) >= {"coc:report", "coc:action"}
    assert len(fake.comments(TRACKING, found[0]["number"])) == 2


def test_action_record_becomes_a_report_incident(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-remind")
    assert labels(incidents(fake)[0]) == {"coc:action", "status:new"}
    assert bot.jobs(kind="nudge") == []
    report(fake, bot, thread=t)
    found = incidents(fake)
    assert len(found) == 1 and "coc:report" in labels(found[0])
    assert found[0]["title"].endswith("(report)")
    assert len(bot.jobs(state="queued", kind="nudge")) == 1  # the SLA starts when it became a report


def test_earlier_incidents_of_the_same_accounts_are_listed(fake, bot):
    report(fake, bot)
    first = incidents(fake)[0]
    code = first["title"].split()[1]
    t2 = Thread(fake, bot, opener="wes")
    t2.comment("rey", "again, you are an idiot", deliver=False)
    report(fake, bot, thread=t2, reason="same person again")
    second = [i for i in incidents(fake) if i["number"] != first["number"]][0]
    history = second["body"].split("Earlier incidents", 1)[1].split("###", 1)[0]
    assert code in history


def test_untriaged_report_is_nudged_once(fake, bot):
    report(fake, bot)
    inc = incidents(fake)[0]
    assert bot.fast_forward("nudge") == 1
    bot.wait_idle()
    nudges = [c for c in fake.comments(TRACKING, inc["number"]) if "not been triaged" in c["body"]]
    assert len(nudges) == 1
    assert bot.jobs(state="queued", kind="nudge") == []


def test_public_tracking_repository_gets_nothing_until_private(fake, bot, caplog):
    fake.set_repo(TRACKING, private=False)
    with caplog.at_level(logging.ERROR):
        t, c = report(fake, bot)
        wait_until(lambda: bot.jobs(state="queued", kind="incident"), 10, "the incident job to be postponed")
    assert fake.issues(TRACKING) == []
    assert [x for x in fake.writes() if TRACKING in x.path] == []
    assert any(TRACKING in r.getMessage() and "not private" in r.getMessage() for r in caplog.records)
    # The command comment is kept while the report is not recorded.
    assert any(x["id"] == c["id"] for x in fake.comments(REPO, t.number))
    job = bot.jobs(state="queued", kind="incident")[0]
    assert job["run_at"] > __import__("time").time()
    fake.set_repo(TRACKING, private=True)
    bot.fast_forward("incident")
    bot.wait_idle()
    assert len(incidents(fake)) == 1
    bot.fast_forward("incident")
    bot.wait_idle()
    assert len(incidents(fake)) == 1
    assert all(x["id"] != c["id"] for x in fake.comments(REPO, t.number))


def test_report_retried_after_failures_makes_one_incident(fake, bot):
    fake.fail_next("DELETE", r"/repos/psf/black/issues/comments/\d+$", status=502, times=2)
    fake.fail_next("POST", r"/repos/psf-coc/incidents/issues$", status=502, times=1)
    t, c = report(fake, bot)
    wait_until(lambda: all(x["id"] != c["id"] for x in fake.comments(REPO, t.number)), 30, "the command's deletion")
    bot.wait_idle(30)
    assert len(incidents(fake)) == 1


def test_report_text_never_reaches_the_logs(fake, bot, caplog):
    with caplog.at_level(logging.DEBUG):
        report(fake, bot, reason="UNIQUE-REASON-TEXT-123")
    assert "UNIQUE-REASON-TEXT-123" not in caplog.text
    assert "You are an idiot" not in caplog.text


def test_report_without_tracking_repository_is_refused_quietly(fake, make_bot):
    bot = make_bot(COC_TRACKING_REPO=None)
    t, c = report(fake, bot, reason="private reason")
    assert fake.reactions_on_comment(c["id"]) == ["confused"]
    assert "private reason" not in " ".join(x["body"] for x in t.bot_comments())


def test_org_level_tracking_repo_override(fake, bot):
    fake.add_repo("psf/.github", installation_id=fake.installation_ids["psf"])
    fake.add_repo("psf/coc-private", installation_id=fake.installation_ids["psf"], private=True)
    fake.set_file("psf/.github", ".github/coc.yml", "tracking_repo: psf/coc-private\n")
    report(fake, bot)
    assert incidents(fake) == []
    assert len(fake.issues("psf/coc-private")) == 1


def test_report_in_a_review_comment_captures_the_latest_conversation(fake, bot):
    t = Thread(fake, bot, pr=True)
    for i in range(130):
        fake.add_comment(REPO, t.number, user="rey" if i % 2 else "wes", body=f"conversation comment number {i}")
    rc = t.review_comment("tia", "/coc-report the last replies are abusive")
    inc = incidents(fake)[0]
    assert "conversation comment number 129" in inc["body"]
    assert "conversation comment number 0\n" not in inc["body"]
    assert all(x["id"] != rc["id"] for x in fake.review_comments(REPO, t.number))  # deleted once recorded


def test_sla_comes_from_the_tracking_repository_configuration(fake, bot):
    fake.set_file(TRACKING, ".github/coc.yml", "sla:\n  acknowledge: 2d\n")
    fake.set_file(REPO, ".github/coc.yml", "sla:\n  acknowledge: 9d\n")  # not the thread's repository's
    before = __import__("time").time()
    report(fake, bot)
    nudge = bot.jobs(state="queued", kind="nudge")[0]
    assert before + 2 * 86400 - 5 < nudge["run_at"] < __import__("time").time() + 2 * 86400 + 5


def test_huge_comments_still_fit_in_one_incident(fake, bot):
    t = Thread(fake, bot)
    for i in range(20):
        fake.add_comment(REPO, t.number, user="rey", body=f"rant {i} " + "x" * 60000)
    report(fake, bot, thread=t, reason="y" * 20000)
    inc = incidents(fake)[0]
    assert len(inc["body"]) <= 65536
    assert "rant 19" in inc["body"] and "more characters not copied" in inc["body"]


def test_report_survives_its_comment_being_deleted_before_processing(fake, bot):
    t = Thread(fake, bot)
    t.comment("rey", "you are an idiot", deliver=False)
    c = fake.add_comment(REPO, t.number, user="tia", body="/coc-report insults")
    ev = fake.event_issue_comment("created", REPO, t.number, c)
    fake.delete_comment(c["id"])
    assert bot.deliver(ev)[0] == 202
    bot.wait_idle()
    assert len(incidents(fake)) == 1


def test_report_kept_while_the_app_is_not_installed_on_the_tracking_repository(fake, make_bot):
    bot = make_bot(COC_TRACKING_REPO="psf-coc/not-yet")
    t, c = report(fake, bot)
    wait_until(lambda: bot.jobs(state="queued", kind="incident"), 10, "the incident job to be postponed")
    assert bot.jobs(state="failed") == []
    assert any(x["id"] == c["id"] for x in fake.comments(REPO, t.number))
    fake.add_repo("psf-coc/not-yet", installation_id=fake.installation_ids["psf-coc"], private=True)
    bot.fast_forward("incident")
    bot.wait_idle()
    assert len(fake.issues("psf-coc/not-yet")) == 1
