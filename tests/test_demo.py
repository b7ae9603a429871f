"""`python -m app demo` tells the whole story, readably, with no credentials and no network.

The demo is run once, as a newcomer would run it: in an empty directory, with no GITHUB_*, COC_* or
DATABASE_URL variable. The tests read its output for what a maintainer reading it would notice."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from app.cli.demo import readable, wrapped
from tests.harness import ROOT

SECTIONS = ("1. A calm, busy thread", "2. A thread turning heated", "3. A maintainer reports a comment",
            "4. A lock that ends by itself", "5. An interaction limit", "6. Someone without permission",
            "7. The working group acts from the incident", "8. Where things stand")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    empty = tmp_path_factory.mktemp("empty")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COC_", "DATABASE_URL"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "app", "demo"], cwd=empty, env=env, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)
    took = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert list(empty.iterdir()) == [], "the demo leaves nothing behind in its directory"
    return proc, took


def section(out: str, title: str) -> str:
    """The text of one numbered section of the story, its wrapped lines joined (runs of spaces as one)."""
    start = out.index(title)
    following = [out.index(t, start) for t in SECTIONS if t != title and out.find(t, start) > start]
    return flat(out[start:min(following, default=len(out))])


def flat(text: str) -> str:
    """TEXT with each line break and indentation (or run of spaces) as one space."""
    return re.sub(r"\s+", " ", text)


def private_part(text: str) -> str:
    """What the working group got in a section: the text after its first "In private" heading."""
    return text[text.index("In private, for the working group only"):]


def test_runs_quickly_and_cleanly(demo):
    proc, took = demo
    assert took < 30
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr.strip() == ""


def test_plays_every_beat_in_order(demo):
    out = demo[0].stdout
    positions = [out.find(title) for title in SECTIONS]
    assert -1 not in positions, positions
    assert positions == sorted(positions)


def test_calm_thread_gets_no_reminder_and_says_so(demo):
    calm = section(demo[0].stdout, SECTIONS[0])
    assert len(re.findall(r" \d\d:\d\d (rosa|kai|theo|maya) ", calm)) >= 5  # several ordinary comments
    assert "This is a reminder" not in calm
    assert "no reminder" in calm


def test_heated_thread_gets_the_reminder_in_public_and_an_incident_in_private(demo):
    heated = section(demo[0].stdout, SECTIONS[1])
    public = heated[:heated.index("In private")]
    reminder = re.search(r"\d\d:\d\d conduct-bot (.*)", public)          # the whole reminder, rendered
    assert reminder and "reminder" in reminder.group(1) and "Code of Conduct (https://" in reminder.group(1)
    assert "/coc-report" in reminder.group(1)
    private = private_part(heated)
    assert re.search(r"“Incident [^”]*heated[^”]*”", private)      # its title, as GitHub shows it
    assert "coc:heated" in private
    assert "│ This is the dumbest idea" in private           # the evidence, quoted and indented
    # the next heated comment gets no second reminder, and the story says why
    assert "no new reminder: a reminder was already posted in this thread" in heated


def test_report_what_the_reporter_sees_and_what_the_working_group_gets(demo):
    report = section(demo[0].stdout, SECTIONS[2])
    public = report[:report.index("In private")]
    assert "/coc-report lee's comment above is a threat" in public
    assert "maya sees 👀 then 👍 on her comment" in public
    assert "her comment disappears" in public and "Nothing is posted in public" in public
    assert not re.search(r"\d\d:\d\d conduct-bot ", public)      # no public reply to a report
    private = private_part(report)
    assert re.search(r"“Incident [^”]*report[^”]*”", private)
    assert "coc:report" in private
    assert "│ lee's comment above is a threat against sam" in private         # the statement, whole
    assert "│ sam may be scared to come back" in private
    assert "│ Nice work. By the way, I found out where you live." in private   # the evidence


def test_timed_lock_shows_its_notice_and_unlocks_by_itself(demo):
    lock = section(demo[0].stdout, SECTIONS[3])
    notice = re.search(r"\d\d:\d\d conduct-bot [^↳]*locked[^↳]*10 seconds", lock)     # the lock notice
    assert notice, lock
    locked = lock.index("pyorg/parser#2 is locked (too heated)")
    unlocked = lock.index("pyorg/parser#2 is not locked")
    assert notice.start() < locked < unlocked
    assert "unlocked by conduct-bot, on its own" in lock[unlocked:]
    assert "/coc-lock" in private_part(lock) and "10 seconds" in private_part(lock)   # recorded for the group


def test_limit_as_github_shows_it(demo):
    limit = section(demo[0].stdout, SECTIONS[4])
    assert "maya /coc-limit" in limit
    assert "temporary interaction limit, “Limit to existing users”" in limit
    assert "It ends by itself in 24 hours" in limit


def test_a_refused_person_sees_only_a_confused_reaction(demo):
    refused = section(demo[0].stdout, SECTIONS[5])
    assert "kai /coc-lock" in refused
    assert "conduct-bot reacts 😕 on that comment, and that is all: no reply" in refused
    assert "👍" not in refused and "👀" not in refused
    assert not re.search(r"\d\d:\d\d conduct-bot ", refused)     # no reply in the thread
    assert "pyorg/parser#2 is not locked" in refused


def test_the_working_group_acts_from_the_incident(demo):
    desk = section(demo[0].stdout, SECTIONS[6])
    assert "wendy (WG)" in desk
    assert re.search(r"conduct-bot [^↳]*/coc-block[^↳]*blocked lee", desk)        # the desk's answer
    assert "lee's comment is hidden" in desk and "lee is blocked from the pyorg organisation" in desk
    assert re.search(r"wendy \(WG\) /coc-resolve temporary-ban", desk)
    assert re.search(r"conduct-bot [^↳]*temporary-ban", desk[desk.index("/coc-resolve"):])
    assert "the incident is closed" in desk and "outcome:temporary-ban" in desk


def test_reads_as_people_see_it(demo):
    out = demo[0].stdout
    assert not re.search(r"…(\s|$)", out, re.M), "a message was cut"
    assert "<!--" not in out and "conduct-bot:" not in out      # hidden markers stay hidden
    assert "**" not in out and "](http" not in out              # Markdown rendered, not shown raw
    assert not re.search(r"New \w+ event", out)                 # no raw event names
    assert ": True" not in out and ": False" not in out         # plain-language states
    assert "\u200b" not in out
    assert "did not match GitHub's published API description" not in out
    assert "job(s) failed" not in out


def test_never_prints_a_key_or_secret(demo):
    proc = demo[0]
    text = proc.stdout + proc.stderr
    for secret in ("PRIVATE KEY", "-----BEGIN", "ghs_", "sha256=", "Bearer", "webhook_secret"):
        assert secret not in text


def test_markdown_rendering():
    body = ("<!-- conduct-bot:incident x -->\n**Action**: `maya` ran [the lock](https://example.org/a)\n\n"
            "- **Reason**:\n\n  ```\n  line one\n    indented\n  ```\n\n### Evidence\n\n> quoted _text_\n\n"
            "<details>\n<summary>How to act</summary>\n\n- `/coc-help`\n\n</details>")
    lines = wrapped(body, 60, opened := set())
    text = "\n".join(lines)
    assert "<!--" not in text and "**" not in text and "`" not in text
    assert "Action: maya ran the lock (https://example.org/a)" in text
    assert "  │ line one" in text and "  │   indented" in text
    assert "Evidence:" in text and "│ quoted text" in text
    assert "▸ How to act" in text and "• /coc-help" in text
    again = "\n".join(wrapped(body, 60, opened))          # a <details> already shown stays folded
    assert "▸ How to act" in again and "/coc-help" not in again
    assert readable("") == []


def test_demo_help():
    proc = subprocess.run([sys.executable, "-m", "app", "demo", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0 and "simulated" in proc.stdout


def test_bad_arguments_give_one_line_and_exit_2():
    for args in (["demo", "--bogus"], ["no-such-command"]):
        proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
