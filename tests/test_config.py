"""Repository configuration: merge levels, validation, caching and push refresh, templates."""
from __future__ import annotations

import pytest

from app.config import DEFAULTS, ConfigError, merge, parse, validate
from tests.conftest import REPO, TRACKING
from tests.test_commands_e2e import Thread


def test_merge_is_deep():
    merged = merge(DEFAULTS, {"reminders": {"cooldown": "1d"}, "contact": "x@example.org"})
    assert merged["reminders"] == {"auto": True, "cooldown": "1d"}
    assert merged["contact"] == "x@example.org" and merged["lock"] == {"notice": True}


@pytest.mark.parametrize("text, words", [
    ("enabld: true", ["enabld", "unknown key"]),
    ("enabled: maybe", ["enabled", "true or false"]),
    ("maintainer_permission: read", ["maintainer_permission"]),
    ("reminders:\n  cooldown: soon", ["reminders.cooldown"]),
    ("heat:\n  threshold: 2", ["heat.threshold"]),
    ("lock: yes", ["lock", "mapping"]),
    ("a: [unclosed", ["YAML"]),
    ("- just\n- a list", ["mapping"]),
])
def test_invalid_files_are_explained(text, words):
    with pytest.raises(ConfigError) as err:
        parse(text)
    for w in words:
        assert w in str(err.value)


def test_valid_file():
    assert parse("heat:\n  threshold: 0.9\nreminders:\n  cooldown: 3d\n") == {
        "heat": {"threshold": 0.9}, "reminders": {"cooldown": "3d"}}
    assert validate(None) == []


def remind(fake, bot, user="tia"):
    t = Thread(fake, bot)
    t.comment(user, "/coc-remind")
    return t


def test_org_level_file_applies_and_repo_file_overrides(fake, bot):
    fake.add_repo("psf/.github", installation_id=fake.installation_ids["psf"])
    fake.set_file("psf/.github", ".github/coc.yml", "maintainer_permission: triage\ncontact: org@example.org\n")
    t = remind(fake, bot)
    assert "org@example.org" in t.bot_comments()[0]["body"]
    fake.set_file(REPO, ".github/coc.yml", "contact: repo@example.org\n")
    bot.deliver(fake.event_push(REPO))
    bot.wait_idle()
    t2 = remind(fake, bot)  # triage still allowed by the org file: merged key by key
    assert "repo@example.org" in t2.bot_comments()[0]["body"]


def test_config_is_cached_and_refreshed_by_a_push(fake, bot):
    remind(fake, bot, user="wes")
    def reads():
        return len([r for r in fake.requests if "/contents/" in r.path])

    before = reads()
    remind(fake, bot, user="wes")
    assert reads() == before  # cached
    fake.set_file(REPO, ".github/coc.yml", "maintainer_permission: triage\n")
    t = remind(fake, bot, user="tia")
    assert t.bot_comments() == []  # still the cached configuration
    bot.deliver(fake.event_push(REPO, modified=(".github/coc.yml",)))
    bot.wait_idle()
    t = remind(fake, bot, user="tia")
    assert len(t.bot_comments()) == 1


def test_push_to_another_branch_does_not_refresh(fake, bot):
    remind(fake, bot, user="wes")
    fake.set_file(REPO, ".github/coc.yml", "maintainer_permission: triage\n")
    bot.deliver(fake.event_push(REPO, ref="refs/heads/feature"))
    bot.wait_idle()
    assert remind(fake, bot, user="tia").bot_comments() == []


def test_invalid_file_is_ignored_and_filed_once_per_version(fake, bot):
    fake.add_repo("psf/.github", installation_id=fake.installation_ids["psf"])
    fake.set_file("psf/.github", ".github/coc.yml", "contact: org@example.org\n")
    fake.set_file(REPO, ".github/coc.yml", "contact: [broken\n")
    t = remind(fake, bot, user="wes")
    assert "org@example.org" in t.bot_comments()[0]["body"]  # the next level applies
    bot.deliver(fake.event_push(REPO))
    bot.wait_idle()
    remind(fake, bot, user="wes")
    filed = [i for i in fake.issues(TRACKING) if any(l["name"] == "coc:config" for l in i["labels"])]
    assert len(filed) == 1
    assert REPO in filed[0]["body"] and "YAML" in filed[0]["body"]
    assert not any(l["name"].startswith("status:") for l in filed[0]["labels"])
    fake.set_file(REPO, ".github/coc.yml", "enabled: perhaps\n")
    bot.deliver(fake.event_push(REPO))
    bot.wait_idle()
    remind(fake, bot, user="wes")
    filed = [i for i in fake.issues(TRACKING) if any(l["name"] == "coc:config" for l in i["labels"])]
    assert len(filed) == 2


DEEP = [
    "[" * 5000,                                                       # flow lists, never closed
    "[" * 5000 + "]" * 5000,
    "{a: " * 3000 + "1" + "}" * 3000,
    "".join(" " * i + "a:\n" for i in range(3000)) + " " * 3000 + "b\n",   # block mappings
    "".join(" " * i + "-\n" for i in range(3000)),                      # block lists
    "heat:\n  threshold: " + "[" * 3000 + "]" * 3000,                  # deep under a known key
    "[" * 900 + "}",                                                  # deep, and broken too
]


@pytest.mark.parametrize("text", DEEP, ids=range(len(DEEP)))
def test_a_file_nested_thousands_of_levels_deep_is_invalid(text):
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert "nested too deeply" in str(err.value)


def test_a_deeply_nested_file_is_ignored_like_any_invalid_file(fake, bot):
    fake.add_repo("psf/.github", installation_id=fake.installation_ids["psf"])
    fake.set_file("psf/.github", ".github/coc.yml", "contact: org@example.org\n")
    fake.set_file(REPO, ".github/coc.yml", "reminders:\n  cooldown: " + "[" * 5000 + "]" * 5000 + "\n")
    t = remind(fake, bot, user="wes")
    assert "org@example.org" in t.bot_comments()[0]["body"]   # handled: the next level applies
    fake.wait_for(lambda f: any(l["name"] == "coc:config" for i in f.issues(TRACKING) for l in i["labels"]))
    (filed,) = [i for i in fake.issues(TRACKING) if any(l["name"] == "coc:config" for l in i["labels"])]
    assert REPO in filed["body"] and "nested too deeply" in filed["body"]


def test_custom_reminder_template_from_the_repository(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "templates:\n  reminder: .github/reminder.md\n")
    fake.set_file(REPO, ".github/reminder.md", "Please be kind; our house rules apply. Contact: $contact")
    t = remind(fake, bot, user="wes")
    body = t.bot_comments()[0]["body"]
    assert "our house rules apply" in body and "conduct-wg@python.org" in body
    assert "<!-- conduct-bot:" in body


def test_help_and_usage_templates_can_be_the_repositorys(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "templates:\n  help: .github/coc-help.md\n  usage: .github/coc-usage.md\n")
    fake.set_file(REPO, ".github/coc-help.md", "Our moderation commands are listed in CONTRIBUTING.md.")
    fake.set_file(REPO, ".github/coc-usage.md", "That did not work ($message). Try: $usage")
    t = Thread(fake, bot)
    t.comment("wes", "/coc-help")
    t.comment("wes", "/coc-lock 5x")
    bodies = [c["body"] for c in t.bot_comments()]
    assert any("listed in CONTRIBUTING.md" in b for b in bodies)
    assert any(b.startswith("That did not work") and "/coc-lock" in b for b in bodies)
