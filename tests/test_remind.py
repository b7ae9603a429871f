"""/coc-remind end to end; commands ignored from bots; every handler runs."""
from __future__ import annotations

from tests.conftest import REPO


def bot_comments(fake, number):
    return [c for c in fake.comments(REPO, number) if c["user"]["login"] == fake.bot_login]


def remind(fake, bot, user, body="/coc-remind", pr=False):
    issue = fake.create_issue(REPO, user="rey", title="Discussion", pull_request=pr)
    c = fake.add_comment(REPO, issue["number"], user=user, body=body)
    assert bot.deliver(fake.event_issue_comment("created", REPO, issue["number"], c))[0] == 202
    bot.wait_idle()
    return issue["number"], c


def test_maintainer_remind_posts_the_reminder(fake, bot):
    number, c = remind(fake, bot, "wes")
    posted = bot_comments(fake, number)
    assert len(posted) == 1
    assert "Code of Conduct" in posted[0]["body"]
    assert "https://policies.python.org/python.org/code-of-conduct/" in posted[0]["body"]
    assert "conduct-wg@python.org" in posted[0]["body"]
    assert "<!-- conduct-bot:" in posted[0]["body"]
    assert set(fake.reactions_on_comment(c["id"])) >= {"eyes", "+1"}


def test_remind_on_a_pull_request(fake, bot):
    number, c = remind(fake, bot, "mia", pr=True)
    assert len(bot_comments(fake, number)) == 1


def test_below_maintainer_permission_only_gets_confused(fake, bot):
    before = len(fake.writes())
    number, c = remind(fake, bot, "tia")
    assert bot_comments(fake, number) == []
    assert fake.reactions_on_comment(c["id"]) == ["confused"]
    new_writes = fake.writes()[before:]
    assert len(new_writes) == 1 and "reactions" in new_writes[0].path


def test_stranger_gets_confused(fake, bot):
    number, c = remind(fake, bot, "random-person")
    assert bot_comments(fake, number) == []
    assert fake.reactions_on_comment(c["id"]) == ["confused"]


def test_ordinary_comment_costs_no_api_call(fake, bot):
    before = len(fake.requests)
    number, _ = remind(fake, bot, "wes", body="I think we should use /usr/bin/env here.\nThanks!")
    assert len(fake.requests) == before


def test_bots_are_never_obeyed(fake, bot):
    fake.set_user("dependabot[bot]", type="Bot")
    fake.set_permission(REPO, "dependabot[bot]", "admin")
    before = len(fake.requests)
    number, _ = remind(fake, bot, "dependabot[bot]")
    assert bot_comments(fake, number) == []
    assert len(fake.requests) == before


def test_quoted_command_does_not_run(fake, bot):
    number, _ = remind(fake, bot, "wes", body="> /coc-remind\n\nwhy did you quote that?")
    assert bot_comments(fake, number) == []


def test_maintainer_permission_is_configurable(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "maintainer_permission: triage\n")
    number, _ = remind(fake, bot, "tia")
    assert len(bot_comments(fake, number)) == 1


def test_disabled_repository_does_nothing(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "enabled: false\n")
    number, c = remind(fake, bot, "wes")
    assert bot_comments(fake, number) == []
    assert fake.reactions_on_comment(c["id"]) == []
