"""GitHub Enterprise Server: REST under /api/v3 and GraphQL at /api/graphql, both from GITHUB_API_URL."""
from __future__ import annotations

import pytest

from app.fakegithub import FakeGitHub
from tests.harness import BotThread, bot_env


@pytest.fixture
def ghes(tmp_path):
    fake = FakeGitHub(enterprise=True).start()
    inst = fake.add_installation("psf")
    fake.add_repo("psf/black", installation_id=inst)
    fake.set_permission("psf/black", "wes", "write")
    wg = fake.add_installation("psf-coc")
    fake.add_repo("psf-coc/incidents", installation_id=wg, private=True)
    bot = BotThread(bot_env(fake, tmp_path / "ghes.sqlite3")).start()
    yield fake, bot
    bot.stop()
    fake.stop()


def test_commands_and_graphql_work_against_enterprise_server(ghes):
    fake, bot = ghes
    assert fake.url.endswith("/api/v3")
    assert bot.settings.graphql_url.endswith("/api/graphql")
    issue = fake.create_issue("psf/black", user="rey", title="x")
    rude = fake.add_comment("psf/black", issue["number"], user="rey", body="rude words")
    c = fake.add_comment("psf/black", issue["number"], user="wes", body=f"/coc-remind\n/coc-hide {rude['html_url']}")
    assert bot.deliver(fake.event_issue_comment("created", "psf/black", issue["number"], c))[0] == 202
    bot.wait_idle()
    comments = fake.comments("psf/black", issue["number"])
    assert any(x["user"]["login"] == fake.bot_login for x in comments)
    assert [x for x in comments if x["id"] == rude["id"]][0]["minimized"]
    assert not [r for r in fake.requests if r.path.startswith("/enterprise-server-has-no")]
    assert fake.violations == []
