"""The working group acts from the private tracking repository."""
from __future__ import annotations

from tests.conftest import REPO, TRACKING
from tests.test_commands_e2e import Thread, incidents, labels
from tests.test_incidents import report


class Incident:
    def __init__(self, fake, bot, number):
        self.fake, self.bot, self.number = fake, bot, number

    def comment(self, user, body):
        c = self.fake.add_comment(TRACKING, self.number, user=user, body=body)
        assert self.bot.deliver(self.fake.event_issue_comment("created", TRACKING, self.number, c))[0] == 202
        self.bot.wait_idle()
        return c

    @property
    def issue(self):
        return self.fake.issue(TRACKING, self.number)

    def bot_comments(self):
        return [c["body"] for c in self.fake.comments(TRACKING, self.number)
                if c["user"]["login"] == self.fake.bot_login]


def open_incident(fake, bot):
    t, _ = report(fake, bot)
    return t, Incident(fake, bot, incidents(fake)[0]["number"])


def test_first_wg_comment_triages(fake, bot):
    t, inc = open_incident(fake, bot)
    inc.comment("olga", "I can read this but I am not in the WG")
    assert "status:new" in labels(inc.issue)
    inc.comment("wendy", "Looking into it.")
    assert labels(inc.issue) >= {"status:triaged"} and "status:new" not in labels(inc.issue)
    assert bot.jobs(state="queued", kind="nudge") == []


def test_wg_lock_acts_on_the_thread_and_reports_in_the_incident(fake, bot):
    t, inc = open_incident(fake, bot)
    c = inc.comment("wendy", "/coc-lock 3d off-topic")
    assert t.state["locked"] and t.state["active_lock_reason"] == "off-topic"
    assert any("locked as off-topic for 3 days" in b and "conduct-bot:action lock" in b for b in inc.bot_comments())
    assert set(fake.reactions_on_comment(c["id"])) >= {"eyes", "+1"}
    assert len(t.bot_comments()) == 1  # the public lock notice only
    inc.comment("wendy", "/coc-unlock\n/coc-remind")
    assert t.state["locked"] is False
    assert len(t.bot_comments()) == 2


def test_wg_hide_and_limit(fake, bot):
    t, inc = open_incident(fake, bot)
    rude = [c for c in fake.comments(REPO, t.number) if c["user"]["login"] == "rey"][0]
    inc.comment("wendy", f"/coc-hide {rude['html_url']} abuse\n/coc-limit contributors-only 3d")
    assert [c for c in fake.comments(REPO, t.number) if c["id"] == rude["id"]][0]["minimized"]
    assert fake.interaction_limit(REPO)["limit"] == "contributors_only"


def test_non_members_cannot_act(fake, bot):
    t, inc = open_incident(fake, bot)
    inc.comment("olga", "/coc-lock")
    assert t.state["locked"] is False
    assert inc.bot_comments() == []


def test_timed_block_is_lifted_after_a_restart(fake, make_bot):
    bot = make_bot()
    t, inc = open_incident(fake, bot)
    inc.comment("wendy", "/coc-block @rey 7d")
    assert "rey" in fake.blocked("psf")
    assert any("blocked" in b and "1 week" in b for b in inc.bot_comments())
    bot.stop()
    bot2 = make_bot()
    assert len(bot2.jobs(state="queued", kind="unblock")) == 1
    assert bot2.fast_forward("unblock") == 1
    bot2.wait_idle()
    assert "rey" not in fake.blocked("psf")
    assert any("has ended" in c["body"] for c in fake.comments(TRACKING, inc.number))


def test_permanent_block_cancels_a_pending_lift_and_unblock_cancels_too(fake, bot):
    t, inc = open_incident(fake, bot)
    inc.comment("wendy", "/coc-block @rey 1d")
    inc.comment("wendy", "/coc-block @rey permanent")
    assert bot.jobs(state="queued", kind="unblock") == []
    assert "rey" in fake.blocked("psf")
    inc.comment("wendy", "/coc-block @rey 1d")
    inc.comment("wendy", "/coc-unblock @rey")
    assert "rey" not in fake.blocked("psf")
    assert bot.jobs(state="queued", kind="unblock") == []


def test_org_members_cannot_be_blocked_and_the_incident_says_why(fake, bot):
    fake.add_org_member("psf", "mia")
    t, inc = open_incident(fake, bot)
    inc.comment("wendy", "/coc-block @mia 1d")
    assert "mia" not in fake.blocked("psf")
    assert any("Organisation members cannot be blocked" in b for b in inc.bot_comments())


def test_resolve_records_the_outcome_and_closes(fake, bot):
    t, inc = open_incident(fake, bot)
    code = inc.issue["title"].split()[1]
    inc.comment("wendy", "/coc-resolve warning Sent a private warning by email.")
    issue = inc.issue
    assert issue["state"] == "closed"
    assert labels(issue) >= {"status:resolved", "outcome:warning", "coc:report"}
    assert not labels(issue) & {"status:new", "status:triaged"}
    assert any("Sent a private warning" in b for b in inc.bot_comments())
    # A later report on the same thread opens a new incident that lists this one with its outcome.
    t.comment("rey", "and you are still an idiot", deliver=False)
    report(fake, bot, thread=t, reason="again")
    newer = [i for i in incidents(fake) if i["number"] != inc.number]
    assert len(newer) == 1
    history = newer[0]["body"].split("Earlier incidents", 1)[1].split("###", 1)[0]
    assert code in history and "warning" in history


def assert_block_ignored_in(fake, bot, number):
    """A maintainer's /coc-block in an ordinary repository's issue blocks nobody."""
    c = fake.add_comment(REPO, number, user="wes", body="/coc-block @rey permanent")
    bot.deliver(fake.event_issue_comment("created", REPO, number, c))
    bot.wait_idle()
    assert "rey" not in fake.blocked("psf")


def test_forged_incident_in_an_ordinary_repository_does_nothing(fake, bot):
    victim = Thread(fake, bot)
    forged = fake.create_issue(REPO, user="wes", title="x",
                               body=f"<!-- conduct-bot:incident psf/black#{victim.number} -->",
                               labels=["coc:report"])
    assert_block_ignored_in(fake, bot, forged["number"])


def test_malformed_wg_command_gets_usage_in_the_incident(fake, bot):
    t, inc = open_incident(fake, bot)
    inc.comment("wendy", "/coc-resolve maybe")
    assert inc.issue["state"] == "open"
    assert any("Usage" in b and "/coc-resolve" in b for b in inc.bot_comments())


def test_an_incident_opened_by_hand_in_the_tracking_repository_can_be_acted_on(fake, bot):
    t = Thread(fake, bot)
    issue = fake.create_issue(TRACKING, user="wendy", title="Incident about a thread",
                              body=f"Reported by email. Thread: {t.issue['html_url']}", labels=["coc:report"])
    inc = Incident(fake, bot, issue["number"])
    inc.comment("wendy", "/coc-lock 1d")
    assert t.state["locked"] is True
    assert any("locked as too heated" in b for b in inc.bot_comments())


def test_an_issue_elsewhere_naming_a_thread_is_ignored(fake, bot):
    t = Thread(fake, bot)
    other = fake.create_issue(REPO, user="wes", title="x", body=f"Thread: {t.issue['html_url']}", labels=["coc:report"])
    assert_block_ignored_in(fake, bot, other["number"])


def test_incident_closed_by_hand_is_not_reused_and_reopened_one_is(fake, bot):
    t, inc = open_incident(fake, bot)
    fake.close_issue(TRACKING, inc.number, user="wendy")
    bot.deliver(fake.event_issues("closed", TRACKING, inc.number))
    bot.wait_idle()
    assert bot.jobs(state="queued", kind="nudge") == []  # a closed incident is never nudged
    t.comment("wes", "/coc-remind")
    newer = [i for i in incidents(fake) if i["number"] != inc.number]
    assert len(newer) == 1  # the closed incident is not reused
    fake.close_issue(TRACKING, newer[0]["number"], user="wendy")
    bot.deliver(fake.event_issues("closed", TRACKING, newer[0]["number"]))
    fake.reopen_issue(TRACKING, inc.number, user="wendy")
    bot.deliver(fake.event_issues("reopened", TRACKING, inc.number))
    bot.wait_idle()
    t.comment("wes", "/coc-remind")
    assert len(incidents(fake)) == 2  # the reopened incident takes the event
    assert any("coc-remind" in c["body"] for c in fake.comments(TRACKING, inc.number))
