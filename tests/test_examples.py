"""Every example delivery GitHub publishes for the events the App receives is accepted and handled quietly."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.fakegithub import find_shared_github

EXAMPLES = sorted((find_shared_github() / "webhooks").glob("*/*.json"))


def test_the_examples_are_there():
    assert len(EXAMPLES) > 80  # vendored in app/fakegithub/reference: a clone needs nothing beside it


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_published_example_delivery_is_handled_without_failure(fake, bot, path: Path):
    event = path.parent.name
    status, _ = bot.deliver((event, json.loads(path.read_text())))
    assert status in (200, 202)
    bot.wait_idle()
    assert bot.jobs(state="failed") == []
    assert fake.writes() == []  # nothing in these examples asks the bot to act
