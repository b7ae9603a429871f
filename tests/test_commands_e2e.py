"""Every maintainer command end to end: signed delivery → server → fake GitHub state."""
from __future__ import annotations

import re

import pytest

from tests.conftest import REPO, TRACKING


def bot_comments(fake, number, repo=REPO):
    return [c for c in fake.comments(repo, number) if c["user"]["login"] == fake.bot_login]


def incidents(fake):
    return [i for i in fake.issues(TRACKING) if not any(l["name"] == "coc:config" for l in i["labels"])]


def labels(issue):
    return {l["name"] for l in issue["labels"]}


class Thread:
    def __init__(self, fake, bot, repo=REPO, pr=False, opener="rey", body="Please add a feature."):
        self.fake, self.bot, self.repo = fake, bot, repo
        self.issue = fake.create_issue(repo, user=opener, title="A thread", body=body, pull_request=pr)
        self.number = self.issue["number"]

    def comment(self, user, body, deliver=True, wait=True):
        c = self.fake.add_comment(self.repo, self.number, user=user, body=body)
        if deliver:
            assert self.bot.deliver(self.fake.event_issue_comment("created", self.repo, self.number, c))[0] == 202
            if wait:
                self.bot.wait_idle()
        return c

    def review_comment(self, user, body):
        c = self.fake.add_review_comment(self.repo, self.number, user=user, body=body)
        assert self.bot.deliver(self.fake.event_review_comment("created", self.repo, self.number, c))[0] == 202
        self.bot.wait_idle()
        return c

    @property
    def state(self):
        return self.fake.issue(self.repo, self.number)

    def bot_comments(self):
        return bot_comments(self.fake, self.number, self.repo)


# -- lock / unlock -------------------------------------------------------------------------------------------

def test_lock_posts_notice_then_locks_too_heated_by_default(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("wes", "/coc-lock")
    assert t.state["locked"] is True and t.state["active_lock_reason"] == "too heated"
    notices = t.bot_comments()
    assert len(notices) == 1 and "locked" in notices[0]["body"] and "too heated" in notices[0]["body"]
    assert set(fake.reactions_on_comment(c["id"])) == {"eyes", "+1"}
    # The notice is posted before the lock.
    writes = [w for w in fake.writes() if f"/issues/{t.number}" in w.path]
    kinds = [("comment" if w.path.endswith("/comments") else "lock" if w.path.endswith("/lock") else "other")
             for w in writes]
    assert kinds.index("comment") < kinds.index("lock")


@pytest.mark.parametrize("word, reason", [("off-topic", "off-topic"), ("resolved", "resolved"), ("spam", "spam"),
                                          ("too-heated", "too heated")])
def test_lock_reasons(fake, bot, word, reason):
    t = Thread(fake, bot)
    t.comment("mia", f"/coc-lock {word}")
    assert t.state["active_lock_reason"] == reason


def test_lock_without_notice_when_configured(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "lock:\n  notice: false\n")
    t = Thread(fake, bot)
    t.comment("wes", "/coc-lock spam")
    assert t.state["locked"] and t.bot_comments() == []


def test_timed_lock_unlocks_itself_and_unlock_cancels_it(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-lock 24h too-heated cool down please")
    assert t.state["locked"]
    notice = t.bot_comments()[0]["body"]
    assert "24 hours" in notice and "cool down please" in notice
    pending = bot.jobs(state="queued", kind="unlock")
    assert len(pending) == 1 and pending[0]["run_at"] > __import__("time").time() + 23 * 3600
    assert bot.fast_forward("unlock") == 1
    bot.wait_idle()
    assert t.state["locked"] is False
    # A second timed lock, then a manual unlock, cancels the automatic one.
    t.comment("wes", "/coc-lock 2d")
    assert len(bot.jobs(state="queued", kind="unlock")) == 1
    t.comment("wes", "/coc-unlock")
    assert t.state["locked"] is False
    assert bot.jobs(state="queued", kind="unlock") == []


def test_lock_refused_below_maintainer(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("tia", "/coc-lock")
    assert t.state["locked"] is False and t.bot_comments() == []
    assert fake.reactions_on_comment(c["id"]) == ["confused"]


def test_malformed_command_gets_usage_from_a_maintainer_only(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("wes", "/coc-lock 5x")
    assert t.state["locked"] is False
    replies = t.bot_comments()
    assert len(replies) == 1 and "Usage" in replies[0]["body"] and "/coc-lock" in replies[0]["body"]
    assert fake.reactions_on_comment(c["id"]) == ["confused"]
    c2 = t.comment("rey", "/coc-lock 5x")
    assert len(t.bot_comments()) == 1
    assert fake.reactions_on_comment(c2["id"]) == ["confused"]


def test_unknown_command_word(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-lokc")
    assert len(t.bot_comments()) == 1 and t.state["locked"] is False


# -- code, quotes, edits, several commands ------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    "```\n/coc-lock\n```",
    "    /coc-lock",
    "> /coc-lock",
    "Type `/coc-lock` to lock.",
    "~~~md\n/coc-lock\n~~~",
])
def test_commands_in_code_and_quotes_never_run(fake, bot, body):
    t = Thread(fake, bot)
    t.comment("wes", body)
    assert t.state["locked"] is False
    assert t.bot_comments() == []


def test_edited_comment_runs_nothing(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("wes", "hello")
    edited = fake.edit_comment(c["id"], "hello\n/coc-lock")
    ev = fake.event_issue_comment("edited", REPO, t.number, edited, changes={"body": {"from": "hello"}})
    assert bot.deliver(ev)[0] == 202
    bot.wait_idle()
    assert t.state["locked"] is False and t.bot_comments() == []


def test_several_commands_each_run_once(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-remind\nSome words in between.\n/coc-lock off-topic")
    assert t.state["active_lock_reason"] == "off-topic"
    bodies = [c["body"] for c in t.bot_comments()]
    assert len(bodies) == 2
    assert any("Code of Conduct" in b and "locked" not in b for b in bodies)


# -- pull requests and review comments ---------------------------------------------------------------------

def test_review_comment_command_acts_on_the_pull_request(fake, bot):
    t = Thread(fake, bot, pr=True)
    rc = t.review_comment("wes", "/coc-remind")
    assert len(t.bot_comments()) == 1  # answered in the PR conversation
    assert set(fake.reactions_on_comment(rc["id"])) >= {"eyes", "+1"}
    t.review_comment("wes", "/coc-lock resolved")
    assert t.state["active_lock_reason"] == "resolved"


# -- limits ---------------------------------------------------------------------------------------------------

def test_limit_defaults_and_unlimit(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-limit")
    lim = fake.interaction_limit(REPO)
    assert lim["limit"] == "existing_users"
    t.comment("wes", "/coc-limit collaborators-only 1w")
    assert fake.interaction_limit(REPO)["limit"] == "collaborators_only"
    t.comment("wes", "/coc-unlimit")
    assert not fake.interaction_limit(REPO)


def test_limit_with_a_duration_github_does_not_offer_is_malformed(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-limit 2d")
    assert not fake.interaction_limit(REPO)
    assert "Usage" in t.bot_comments()[0]["body"]


def test_limit_refused_when_the_org_has_one(fake, bot):
    fake.set_interaction_limit("psf", "existing_users")
    t = Thread(fake, bot)
    c = t.comment("wes", "/coc-limit contributors-only")
    reply = t.bot_comments()
    assert len(reply) == 1 and "organisation" in reply[0]["body"]
    assert "confused" in fake.reactions_on_comment(c["id"])


def test_limit_on_a_private_repository_is_explained(fake, bot):
    t = Thread(fake, bot, repo="psf/private-repo")
    t.comment("wes", "/coc-limit")
    assert not fake.interaction_limit("psf/private-repo")
    assert "private" in t.bot_comments()[0]["body"]


# -- hide -------------------------------------------------------------------------------------------------------

def test_hide_issue_comment_and_review_comment(fake, bot):
    t = Thread(fake, bot, pr=True)
    rude = t.comment("rey", "you are all idiots", deliver=False)
    t.comment("wes", f"/coc-hide {rude['html_url']}")
    hidden = [c for c in fake.comments(REPO, t.number) if c["id"] == rude["id"]][0]
    assert hidden["minimized"] and hidden["minimized_reason"].upper() == "ABUSE"
    rc = fake.add_review_comment(REPO, t.number, user="rey", body="this is spam")
    url = rc["html_url"]
    t.comment("wes", f"/coc-hide {url} spam")
    hidden_rc = [c for c in fake.review_comments(REPO, t.number) if c["id"] == rc["id"]][0]
    assert hidden_rc["minimized"] and hidden_rc["minimized_reason"].upper() == "SPAM"


def test_hide_in_another_repository_is_refused(fake, bot):
    fake.add_repo("psf/other", installation_id=fake.installation_ids["psf"])
    other = fake.create_issue("psf/other", user="rey", title="x")
    oc = fake.add_comment("psf/other", other["number"], user="rey", body="hello")
    t = Thread(fake, bot)
    c = t.comment("wes", f"/coc-hide {oc['html_url']}")
    assert not fake.comments("psf/other", other["number"])[0].get("minimized")
    assert "confused" in fake.reactions_on_comment(c["id"])


# -- help ------------------------------------------------------------------------------------------------------

def test_help_lists_commands(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-help")
    body = t.bot_comments()[0]["body"]
    for word in ("/coc-report", "/coc-lock", "/coc-limit", "/coc-hide", "/coc-remind"):
        assert word in body


# -- action records ---------------------------------------------------------------------------------------------

def test_every_acting_command_is_recorded_in_one_incident(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-remind")
    t.comment("wes", "/coc-lock 1d")
    found = incidents(fake)
    assert len(found) == 1
    inc = found[0]
    assert labels(inc) >= {"coc:action", "status:new"}
    assert re.fullmatch(r"Incident [a-z]+-[a-z]+ \(action\)", inc["title"])
    assert t.issue["html_url"] in inc["body"]
    comments = fake.comments(TRACKING, inc["number"])
    assert any("lock" in c["body"] for c in comments)
    # Action records are not nudged.
    assert bot.jobs(kind="nudge") == []


# -- dry run ------------------------------------------------------------------------------------------------

def test_dry_run_writes_nothing(fake, make_bot, caplog):
    import logging
    bot = make_bot(COC_DRY_RUN="1")
    t = Thread(fake, bot)
    rude = t.comment("rey", "rude", deliver=False)
    before = len(fake.writes())
    with caplog.at_level(logging.INFO):
        t.comment("wes", "/coc-lock 1d")
        t.comment("wes", "/coc-remind")
        t.comment("wes", f"/coc-hide {rude['html_url']}")
        t.comment("tia", "/coc-report they insulted me")
    assert fake.writes()[before:] == []
    assert t.state["locked"] is False
    assert not any(r.is_mutation for r in fake.requests if r.is_graphql)
    would = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dry run: would")]
    assert any("PUT" in m and "/lock" in m for m in would)
    assert any("POST" in m and "/comments" in m for m in would)
    assert any("minimizeComment" in m for m in would)
    assert not any("insulted" in r.getMessage() for r in caplog.records)
