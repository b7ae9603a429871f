"""One fake GitHub for the whole suite; a fresh bot (and database) per test that asks for one."""
from __future__ import annotations

import pytest

from app.fakegithub import FakeGitHub
from tests.harness import ORG, REPO, TRACKING, BotThread, bot_env, populate_world  # noqa: F401


@pytest.fixture(scope="session")
def fake_session():
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(fake_session):
    """A reset fake with a typical PSF world: an org repo with people of every role, and a private tracking repo
    owned by a separate organisation (its own installation)."""
    f = fake_session
    f.reset()
    populate_world(f)
    yield f
    assert f.violations == [], "requests GitHub's API description does not allow:\n" + "\n".join(f.violations)


@pytest.fixture
def make_bot(fake, tmp_path):
    bots = []

    def make(**env):
        bot = BotThread(bot_env(fake, tmp_path / "bot.sqlite3", **env)).start()
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        bot.stop()


@pytest.fixture
def bot(make_bot):
    return make_bot()
