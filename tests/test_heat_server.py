"""Automatic reminders on heated threads, end to end: signed deliveries → server → fake GitHub.

Realistic heated and calm threads are streamed through the real server; the tests count the public reminders,
the private `coc:heated` incidents, locks and GitHub API calls. All thread texts are written for these tests.
Where a test depends on how the estimate scores its thread, it first checks that premise offline with
`app.heat.score_thread` (the same estimate), so a retuned model fails with a clear message, not a puzzle."""
from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from app import heat
from app.text import bundled_template, render
from tests.conftest import REPO
from tests.harness import wait_until
from tests.test_commands_e2e import incidents, labels

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
CONTACT = "conduct-wg@python.org"
REMINDER = render(bundled_template("reminder"), marker="", contact=CONTACT).strip()
ZWSP = "\u200b"


def ts(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- threads (login, author_association, minutes after T0, body) ----------------------------------------------

HEATED = [
    ("rey", "CONTRIBUTOR", 0, "The new release reorders the imports in our monorepo and breaks CI on every "
                              "branch. Can this be reverted until it is fixed?"),
    ("wes", "MEMBER", 4, "The formatter does not sort imports. Please share a minimal file that shows the "
                         "change so we can look at it."),
    ("rey", "CONTRIBUTOR", 7, "I already did in the first post, you obviously didn't bother reading it. Typical."),
    ("wes", "MEMBER", 9, "There is no example in your first post. Calm down and give us something reproducible."),
    ("rey", "CONTRIBUTOR", 11, "Don't tell me to calm down, @wes. You are an arrogant clown who has no clue how "
                               "your own tool works, see #4021."),
    ("wes", "MEMBER", 12, "And you are a lazy idiot who expects volunteers to debug your mess for free. "
                          "Shut up or send a fix."),
    ("kai", "NONE", 13, "LMAO the maintainers of this project are PATHETIC. THIS IS WHY NOBODY TRUSTS YOU PEOPLE!!!"),
    ("rey", "CONTRIBUTOR", 15, "What is wrong with you? You are a clueless moron and a disgrace to this project."),
    ("zed", "FIRST_TIME_CONTRIBUTOR", 16, "You idiots broke half of our repos. Get lost, you incompetent jerks!!!"),
    ("wes", "MEMBER", 18, "You are a pathetic troll. Go away and stop spamming our tracker, loser."),
]
HEATED_MORE = [
    ("kai", "NONE", 21, "Nobody cares about your excuses, you useless clowns. DO YOUR JOB!!!"),
    ("rey", "CONTRIBUTOR", 23, "Keep insulting people, @wes, it suits a pathetic little tyrant like you."),
    ("zed", "FIRST_TIME_CONTRIBUTOR", 24, "You are all morons. Shut up and fix it."),
]
HEATED_LATE = ("kai", "NONE", 40, "Still broken, you arrogant idiots. What is wrong with you people???")
# Phrases of the thread that must never appear in the public reminder.
THREAD_PHRASES = ["arrogant clown", "lazy idiot", "PATHETIC", "clueless moron", "incompetent jerks", "troll",
                  "calm down", "#4021", "monorepo"]

# A thread that simmers: no single comment is an outburst, the heat builds up from many frustrated ones.
SLOW_BURN = [
    ("rey", "CONTRIBUTOR", 0, "This release broke our pipeline again. Third time this year."),
    ("wes", "MEMBER", 3, "Please pin the version as the docs recommend."),
    ("rey", "CONTRIBUTOR", 6, "Seriously, this is ridiculous. Pinning is not a fix."),
    ("wes", "MEMBER", 9, "Honestly, this is getting tiresome. Read the changelog."),
    ("ivy", "NONE", 12, "This is ridiculous, the whole thing is a joke."),
    ("rey", "CONTRIBUTOR", 15, "Unbelievable. You just keep ignoring feedback."),
    ("bo", "NONE", 18, "Seriously? This attitude is why people leave."),
    ("wes", "MEMBER", 21, "Honestly, I am tired of repeating myself here."),
    ("rey", "CONTRIBUTOR", 24, "Seriously, unbelievable. This is ridiculous."),
    ("ivy", "NONE", 27, "Ridiculous. Absolutely ridiculous."),
]

PEOPLE = ["ada", "mia", "wes", "tia", "rey", "nadia", "omar", "priya", "lucas", "hana", "jonas", "emeka", "sofia",
          "kenji", "marta", "ravi", "elena", "tomas", "yuki", "amara"]
CALM = [
    "Thanks for the report! I can reproduce this on 24.3.0 with Python 3.12 on Linux.",
    "Same here. It looks like the worker pool does not shut down cleanly, so we have to kill the process by hand.",
    "If you send SIGTERM the children die with the parent, but SIGKILL leaves zombie processes behind.",
    "Could someone attach a core dump? Running with `ulimit -c unlimited` should produce one.",
    "Here is the log from the failing job:\n\n```\nFatal Python error: Aborted\nKILL ALL THE THINGS: stupid idiot "
    "worker died, shut up and die\nTraceback (most recent call last):\n  File \"black/concurrency.py\", line 120\n```",
    "The job aborts when the cache directory is read-only; that matches what I see on our CI runners.",
    "I bisected it: the regression comes from the change that moved the executor setup out of `main`.",
    "Good find, thank you. Rebasing on master and reverting that commit fixes the hang for me.",
    "> You are all idiots and this project is garbage, shut up and fix it\n\nThat line in the linked forum post is "
    "not helpful, but the bug it describes is real. Let's focus on the fix.",
    "Would it make sense to use a `ProcessPoolExecutor` with an explicit `shutdown(wait=False, cancel_futures=True)`?",
    "That should work on 3.9+. On older versions we would need to terminate the workers ourselves.",
    "We dropped 3.8 support last release, so that is fine.",
    "I can open a PR for this tonight unless someone already has a branch.",
    "Please go ahead, and add a regression test that starts and stops the pool a few times.",
    "Small note: the garbage collector may keep the pool alive if a traceback references it; we saw that elsewhere.",
    "Good point. A `weakref.finalize` on the executor would make the cleanup deterministic.",
    "I also see a memory dump warning on Windows, but that might be a separate issue.",
    "Let's track the Windows warning separately so this one stays focused.",
    "Agreed. I opened a new issue for it and linked it here.",
    "For what it's worth, the master branch of our project hits this about once a day; happy to test a fix.",
]

CALM_INTL = [
    ("lin", "NONE", 0, "你好！升级到 24.3 之后，格式化大型项目时进程会卡住。有人遇到同样的问题吗？"),
    ("ivan", "NONE", 2, "Да, у меня то же самое на Ubuntu 22.04. Если убить процесс, кэш остаётся повреждённым."),
    ("lena", "NONE", 4, "Danke für den Bericht! Ich kann das Problem mit Python 3.12 unter Windows nachvollziehen."),
    ("lin", "NONE", 6, "谢谢大家。我附上了完整的日志，请帮忙看一下。非常感谢！"),
    ("ivan", "NONE", 8, "Спасибо за лог. Похоже, проблема в том, как завершаются рабочие процессы. "
                        "Попробую исправить."),
    ("lena", "NONE", 10, "Vielen Dank! Ich teste den Patch gerne, sobald er verfügbar ist. Einen schönen Tag noch."),
    ("mika", "NONE", 12, "ありがとうございます。私の環境でも同じ問題が発生しました。修正を楽しみにしています。"),
    ("sofia", "NONE", 14, "¡Gracias a todos! Confirmo que con el parche ya no se bloquea. Muy buen trabajo."),
]
HEATED_INTL = [
    ("ivan", "NONE", 0, "Ты полный идиот! Убирайся отсюда, никто тебя не звал!!!"),
    ("lena", "NONE", 1, "Du bist ein verdammter Idiot, halt endlich die Klappe! DU HAST KEINE AHNUNG!!!"),
    ("lin", "NONE", 2, "你这个白痴，闭嘴！滚出去！！！"),
    ("ivan", "NONE", 3, "Сам ты дурак и бездарь. Иди к чёрту со своим кодом!!!"),
    ("lena", "NONE", 4, "Verpiss dich, du inkompetenter Vollidiot!!!"),
    ("mika", "NONE", 5, "お前は本当にバカだ。黙れ！！！"),
]


# -- helpers ---------------------------------------------------------------------------------------------------

def offline(lines) -> list[float]:
    """The score after each comment, computed offline with the server's estimate."""
    st, scores = None, []
    for i, (login, assoc, minute, body) in enumerate(lines):
        st, result = heat.observe(st, heat.HeatEvent("created", body, login, assoc, ts(minute), i))
        scores.append(result.score)
    return scores


def crossing(lines, threshold: float | None = None) -> int:
    """Index of the first comment at which the offline score reaches the threshold (-1: never)."""
    threshold = heat.DEFAULT_THRESHOLD if threshold is None else threshold
    return next((i for i, s in enumerate(offline(lines)) if s >= threshold), -1)


class Convo:
    """One discussion thread in psf/black, streamed comment by comment through the bot."""

    def __init__(self, fake, bot, *, pr: bool = False, title: str = "Formatting changed after upgrade"):
        self.fake, self.bot = fake, bot
        issue = fake.create_issue(REPO, user="rey", title=title, body="Details below.", pull_request=pr,
                                  created_at=ts(-30))
        self.number = issue["number"]

    def say(self, login, assoc, minute, body, *, wait=True) -> dict:
        c = self.fake.add_comment(REPO, self.number, user=login, body=body, created_at=ts(minute),
                                  author_association=assoc)
        status, _ = self.bot.deliver(self.fake.event_issue_comment("created", REPO, self.number, c))
        assert status == 202
        if wait:
            self.bot.wait_idle()
        return c

    def stream(self, lines, *, wait=True) -> list[dict]:
        made = [self.say(*line, wait=wait) for line in lines]
        if not wait:
            self.bot.wait_idle()
        return made

    def bot_comments(self) -> list[dict]:
        return [c for c in self.fake.comments(REPO, self.number) if c["user"]["login"] == self.fake.bot_login]

    def reminders(self) -> list[dict]:
        return [c for c in self.bot_comments() if REMINDER in c["body"]]

    def heat(self) -> dict | None:
        return self.bot.call(self.bot.rt.store.get("heat", f"{REPO}#{self.number}".lower()))

    @property
    def issue(self) -> dict:
        return self.fake.issue(REPO, self.number)


def heated_incidents(fake) -> list[dict]:
    return [i for i in incidents(fake) if "coc:heated" in labels(i)]


def no_failures(bot) -> None:
    failed = bot.jobs(state="failed")
    assert failed == [], f"failed jobs: {[(j['kind'], j['last_error']) for j in failed]}"
    for job in bot.jobs(kind="delivery"):
        assert "heat.estimate" not in (job["payload"].get("failed") or {}), job["payload"]["failed"]


def shares_words(text: str, body: str, n: int = 4) -> list[str]:
    """Runs of n words of `body` that appear in `text`."""
    words = re.findall(r"[\w'@#]+", body.lower())
    low = " ".join(re.findall(r"[\w'@#]+", text.lower()))
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1) if " ".join(words[i:i + n]) in low]


def config(fake, text: str) -> None:
    fake.set_file(REPO, ".github/coc.yml", text)


# -- 1. a heated thread: one reminder, one incident, cooldown --------------------------------------------------

def test_heated_thread_gets_one_generic_reminder_and_one_private_incident(fake, bot):
    at = crossing(HEATED)
    assert 0 < at < len(HEATED) - 2, f"premise: the thread turns heated part-way (offline scores {offline(HEATED)})"
    t = Convo(fake, bot)

    t.stream(HEATED[:at])
    assert t.bot_comments() == [] and incidents(fake) == []  # not heated yet: nothing at all

    t.say(*HEATED[at])
    reminders = t.reminders()
    assert len(reminders) == 1
    text = reminders[0]["body"]
    # Generic: names, quotes and singles out nobody.
    for login in {line[0] for line in HEATED}:
        assert not re.search(rf"(?<![\w-]){re.escape(login)}(?![\w-])", text, re.I), login
    for phrase in THREAD_PHRASES:
        assert phrase.lower() not in text.lower(), phrase
    for line in HEATED:
        assert shares_words(text, line[3]) == [], line[3]
    assert CONTACT in text

    # The private incident: coc:heated + status:new, the evidence neutralised, the signals with their weights.
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    (inc,) = incidents(fake)
    assert labels(inc) == {"coc:heated", "status:new"}
    body = inc["body"]
    assert "Don't tell me to calm down" in body and "arrogant clown" in body       # the comment that crossed
    assert f"@{ZWSP}wes" in body and "@wes" not in body                            # mentions notify no one
    assert f"#{ZWSP}4021" in body and "#4021" not in body                          # references link nothing
    weights = re.findall(r"- (\w+) \(weight (\d+\.\d\d)\)", body)
    assert weights and all(float(w) > 0 for _, w in weights)
    assert {"insult_at_person", "hostile_phrase", "back_and_forth"} & {name for name, _ in weights}
    # The title is a code name and the kind, never a login (a code name may contain one by chance).
    assert re.fullmatch(r"Incident [a-z]+-[a-z]+ \(heated\)", inc["title"])
    assert t.issue["locked"] is False  # never locks unless heat.auto_lock is set

    # More heat within reminders.cooldown (default 7d): no second reminder, no second incident, no update.
    t.stream(HEATED[at + 1:] + HEATED_MORE)
    assert len(t.reminders()) == 1 and len(t.bot_comments()) == 1
    assert len(incidents(fake)) == 1
    assert fake.comments("psf-coc/incidents", inc["number"]) == []
    assert t.heat()["alerts"] == 1
    alerted_at = t.heat()["last_alert_at"]

    # Only the configuration changes: a one-second cooldown. Once it has passed, the next heated comment
    # reminds again, and the alert joins the open incident as a comment instead of opening a second one.
    config(fake, "reminders:\n  cooldown: 1s\n")
    assert bot.deliver(fake.event_push(REPO))[0] == 202
    bot.wait_idle()
    wait_until(lambda: time.time() >= alerted_at + 1.05, 3, "the one-second cooldown to pass")
    t.say(*HEATED_LATE)
    assert len(t.reminders()) == 2
    fake.wait_for(lambda f: len(f.comments("psf-coc/incidents", inc["number"])) == 1)
    assert len(incidents(fake)) == 1 and len(heated_incidents(fake)) == 1
    (update,) = fake.comments("psf-coc/incidents", inc["number"])
    assert "heated" in update["body"] and "weight" in update["body"]
    assert t.issue["locked"] is False
    no_failures(bot)


# -- 2. a busy but calm thread ---------------------------------------------------------------------------------

def test_busy_calm_thread_gets_nothing_and_costs_no_api_call(fake, bot):
    lines = [(PEOPLE[i % 20], ("NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "MEMBER")[i % 4], i * 0.5,
              CALM[i % len(CALM)]) for i in range(60)]
    assert max(offline(lines)) < 0.3, "premise: the calm thread stays calm offline"
    config(fake, "reminders:\n  cooldown: 1d\n")   # present but never read: nothing needs it
    t = Convo(fake, bot)
    before = len(fake.requests)
    t.stream(lines, wait=False)
    assert len(fake.requests) == before, [str(r) for r in fake.requests[before:]]
    assert t.bot_comments() == [] and incidents(fake) == []
    state = t.heat()["state"]
    assert state["n"] == 60 and state["n_authors"] == 20   # every comment was estimated
    no_failures(bot)


# -- 3. shadow mode --------------------------------------------------------------------------------------------

def test_shadow_mode_records_the_would_be_alert_and_posts_nothing(fake, bot):
    config(fake, "heat:\n  shadow: true\n  auto_lock: true\n  lock_threshold: 0.5\n")
    t = Convo(fake, bot)
    t.stream(HEATED + HEATED_MORE)
    assert t.bot_comments() == [] and incidents(fake) == [] and t.issue["locked"] is False
    assert not [w for w in fake.writes() if "/issues" in w.path]
    shadow = bot.call(bot.rt.store.items("heat-shadow"))
    assert len(shadow) == 1                                   # once per cooldown, like the reminder
    key, record = shadow[0]
    assert f"{REPO}#{t.number}".lower() in key
    assert record["score"] >= heat.DEFAULT_THRESHOLD and record["signals"]
    no_failures(bot)


# -- 4. reminders.auto: false ----------------------------------------------------------------------------------

def test_reminders_auto_off_still_opens_the_private_incident(fake, bot):
    config(fake, "reminders:\n  auto: false\n")
    t = Convo(fake, bot)
    t.stream(HEATED + HEATED_MORE)
    assert t.bot_comments() == []
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    (inc,) = incidents(fake)
    assert labels(inc) == {"coc:heated", "status:new"} and "weight" in inc["body"]
    assert t.issue["locked"] is False
    no_failures(bot)


# -- 5. auto_lock ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "heat:\n  lock_threshold: 0.5\n", "heat:\n  auto_lock: false\n"])
def test_never_locks_unless_auto_lock_is_set(fake, bot, text):
    if text:
        config(fake, text)
    t = Convo(fake, bot)
    t.stream(HEATED + HEATED_MORE)
    assert len(t.reminders()) == 1
    assert t.issue["locked"] is False
    assert not [w for w in fake.writes() if w.path.endswith("/lock")]


def test_auto_lock_locks_as_too_heated_at_the_lock_threshold(fake, bot):
    config(fake, "heat:\n  auto_lock: true\n  lock_threshold: 0.9\n")
    at = crossing(HEATED)
    assert offline(HEATED)[at] >= 0.9, "premise: the crossing comment is above the lock threshold"
    t = Convo(fake, bot)
    t.stream(HEATED[:at])
    assert t.issue["locked"] is False
    t.say(*HEATED[at])
    assert t.issue["locked"] is True and t.issue["active_lock_reason"] == "too heated"
    assert len(t.reminders()) == 1
    notices = [c for c in t.bot_comments() if c not in t.reminders()]
    assert len(notices) == 1 and "too heated" in notices[0]["body"]
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    no_failures(bot)


def test_auto_lock_when_the_thread_keeps_heating_after_the_reminder(fake, bot):
    """The reminder goes out at the threshold; the lock comes when the heat later reaches lock_threshold,
    even though that is within reminders.cooldown."""
    lines = SLOW_BURN + [(login, assoc, minute + 20, body) for login, assoc, minute, body in HEATED[4:]]
    scores = offline(lines)
    at = crossing(lines)
    lock_at = crossing(lines, 0.97)
    assert 0 < at < lock_at, f"premise: reminder first, lock threshold reached later (offline scores {scores})"
    config(fake, "heat:\n  auto_lock: true\n  lock_threshold: 0.97\n")
    t = Convo(fake, bot)
    t.stream(lines[:at + 1])
    assert len(t.reminders()) == 1 and t.issue["locked"] is False
    t.stream(lines[at + 1:lock_at])
    assert t.issue["locked"] is False
    t.say(*lines[lock_at])
    assert t.issue["locked"] is True and t.issue["active_lock_reason"] == "too heated"
    assert len(t.reminders()) == 1
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    # A maintainer unlocks it; heated comments within the cooldown do not lock it again.
    fake.unlock_issue(REPO, t.number, user="mia")
    t.say("wes", "MEMBER", 60, "You are still an arrogant clown, @rey. Shut up.")
    assert t.issue["locked"] is False
    assert len([w for w in fake.writes() if w.path.endswith("/lock") and w.method == "PUT"]) == 1
    no_failures(bot)


# -- 6. bots never count ---------------------------------------------------------------------------------------

def test_bots_and_the_bots_own_comments_never_count(fake, bot):
    assert crossing(HEATED) >= 0, "premise: these texts are heated"
    fake.set_user("grumpy-ci[bot]", type="Bot")
    fake.set_user("release-butler", type="Bot")
    t = Convo(fake, bot)
    for i, (_, _, minute, body) in enumerate(HEATED + HEATED_MORE):
        who = ("grumpy-ci[bot]", "release-butler", fake.bot_login)[i % 3]
        t.say(who, "NONE", minute, body)
    assert t.reminders() == [] and incidents(fake) == []
    assert t.heat() is None                                   # not even estimated
    t.say("tia", "MEMBER", 30, "Thanks for the logs. I will look into the failing job tomorrow.")
    assert t.heat()["state"]["n"] == 1                        # people's comments are
    assert t.reminders() == []
    no_failures(bot)


# -- 7. any language -------------------------------------------------------------------------------------------

def test_non_english_threads(fake, bot):
    calm = Convo(fake, bot, title="Process hangs after upgrade")
    before = len(fake.requests)
    calm.stream(CALM_INTL)
    assert len(fake.requests) == before
    assert calm.bot_comments() == [] and incidents(fake) == []
    assert calm.heat()["state"]["n"] == len(CALM_INTL)

    heated = Convo(fake, bot, title="Streit")
    heated.stream(HEATED_INTL)
    assert heated.heat()["state"]["n"] == len(HEATED_INTL)     # estimated, no crash
    assert calm.bot_comments() == []
    assert len(heated.reminders()) <= 1 and len(heated_incidents(fake)) <= 1
    no_failures(bot)


# -- 8. edits and deletions ------------------------------------------------------------------------------------

def test_edits_and_deletions_feed_the_estimate(fake, bot):
    t = Convo(fake, bot)
    made = t.stream(SLOW_BURN[:4])
    assert t.bot_comments() == []
    # A calm comment edited into an outburst counts as what it now says.
    fake.edit_comment(made[1]["id"], "You are an arrogant clown and a lazy idiot. Shut up, @rey.")
    assert bot.deliver(fake.event_issue_comment("edited", REPO, t.number, made[1]["id"]))[0] == 202
    bot.wait_idle()
    state = t.heat()["state"]
    assert state["edits"] == 1 and state["n"] == 4            # an edit, not a new comment
    assert len(t.reminders()) == 1
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    assert "arrogant clown" in heated_incidents(fake)[0]["body"]
    # Deleting comments is counted too, and never errors.
    payloads = []
    for c in made[2:4]:
        payloads.append(fake.event_issue_comment("deleted", REPO, t.number, c["id"]))
        fake.delete_comment(c["id"])
    for p in payloads:
        assert bot.deliver(p)[0] == 202
    bot.wait_idle()
    assert t.heat()["state"]["deletes"] == 2
    assert len(t.reminders()) == 1
    # Review comments on a pull request: edited and deleted too.
    pr = Convo(fake, bot, pr=True, title="Speed up the cache")
    rc = fake.add_review_comment(REPO, pr.number, user="wes", body="Could this loop use a set instead?",
                                 created_at=ts(1))
    assert bot.deliver(fake.event_review_comment("created", REPO, pr.number, rc))[0] == 202
    fake.edit_comment(rc["id"], "Could this loop use a set instead? That would avoid the quadratic scan.")
    assert bot.deliver(fake.event_review_comment("edited", REPO, pr.number, rc["id"]))[0] == 202
    deleted = fake.event_review_comment("deleted", REPO, pr.number, rc["id"])
    fake.delete_comment(rc["id"])
    assert bot.deliver(deleted)[0] == 202
    bot.wait_idle()
    state = pr.heat()["state"]
    assert (state["n"], state["edits"], state["deletes"]) == (1, 1, 1)
    assert pr.bot_comments() == []
    no_failures(bot)


# -- 9. restart ------------------------------------------------------------------------------------------------

def test_heat_state_and_cooldown_survive_restarts(fake, make_bot):
    at = crossing(SLOW_BURN)
    assert at > 1 and crossing([SLOW_BURN[at]]) == -1, \
        f"premise: the crossing comment alone is not heated (offline scores {offline(SLOW_BURN)})"
    bot = make_bot()
    t = Convo(fake, bot)
    t.stream(SLOW_BURN[:at])
    assert t.bot_comments() == []
    seen = t.heat()["state"]["n"]
    bot.stop()

    t.bot = bot = make_bot()                   # same database: the thread's heat is still there
    assert t.heat()["state"]["n"] == seen
    t.say(*SLOW_BURN[at])                      # only heated together with what came before the restart
    assert len(t.reminders()) == 1
    t.stream(SLOW_BURN[at + 1:])
    assert len(t.reminders()) == 1
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    bot.stop()

    t.bot = bot = make_bot()                   # the cooldown survives too
    t.stream(HEATED_MORE)
    assert len(t.reminders()) == 1 and len(incidents(fake)) == 1
    no_failures(bot)


# -- 10. moderation commands are not heat ----------------------------------------------------------------------

def test_moderation_commands_do_not_count(fake, bot):
    reports = [
        ("tia", "MEMBER", 0, "/coc-report @rey you are an idiot, they keep calling people morons"),
        ("wes", "MEMBER", 1, "/coc-report you are an idiot and a clueless moron, shut up — quoting rey"),
        ("mia", "MEMBER", 2, "/coc-report YOU ARE A PATHETIC LOSER, GET LOST!!! was posted here"),
        ("ada", "MEMBER", 3, "/coc-report what is wrong with you, you incompetent jerk"),
        ("tia", "MEMBER", 4, "/coc-report shut up, you stupid troll"),
        ("wes", "MEMBER", 5, "/coc-report you are a disgrace and an idiot"),
    ]
    assert crossing(reports) >= 0, "premise: counted as prose, these comments would make the thread heated"
    t = Convo(fake, bot)
    t.stream(reports)
    assert t.reminders() == []
    assert t.heat() is None
    t.say("rey", "CONTRIBUTOR", 8, "Sorry about the noise earlier. Here is the minimal example you asked for.")
    assert t.heat()["state"]["n"] == 1 and t.reminders() == []
    fake.wait_for(lambda f: len(incidents(f)) == 1)
    assert heated_incidents(fake) == [] and "coc:report" in labels(incidents(fake)[0])
    no_failures(bot)


def test_auto_lock_without_a_lock_threshold_uses_the_default_one(fake, bot):
    from handlers.heat import DEFAULT_LOCK_THRESHOLD

    config(fake, "heat:\n  auto_lock: true\n")
    lines = HEATED + HEATED_MORE
    at = crossing(lines, DEFAULT_LOCK_THRESHOLD)
    assert at is not None and at >= 0, "premise: the thread gets hot enough to lock"
    t = Convo(fake, bot)
    t.stream(lines[:at])
    assert t.issue["locked"] is False
    t.say(*lines[at])
    assert t.issue["locked"] is True and t.issue["active_lock_reason"] == "too heated"


def test_the_opening_post_counts_as_the_first_comment(fake, bot):
    issue = fake.create_issue("psf/black", user="rey", title="x",
                              body="You are ALL incompetent idiots and this project is a pathetic joke!!!")
    bot.deliver(fake.event_issues("opened", "psf/black", issue["number"]))
    bot.wait_idle()
    state = bot.call(bot.rt.store.get("heat", f"psf/black#{issue['number']}"))
    assert state is not None and state["hot"]  # the hostile opening post is evidence already


def test_no_automatic_reminder_right_after_a_maintainers_reminder(fake, bot):
    t = Convo(fake, bot)
    t.say("wes", "MEMBER", 0, "/coc-remind")
    assert len(t.bot_comments()) == 1
    t.stream(HEATED)
    assert len(t.bot_comments()) == 1  # still only the maintainer's reminder
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)  # the working group still hears of it


# -- 11. a command line does not hide a comment; scoring stalls nothing ------------------------------------------

def test_a_command_line_does_not_hide_an_abusive_comment_from_heat(fake, bot):
    assert crossing(HEATED) >= 0, "premise: the thread turns heated"
    t = Convo(fake, bot)
    t.say("wes", "MEMBER", -1, "/coc-help")                    # nothing but a command: moderation, not heat
    assert t.heat() is None
    for login, assoc, minute, body in HEATED:
        t.say(login, assoc, minute, f"{body}\n\n/coc-help")    # a command line under each outburst
    assert t.heat()["state"]["n"] == len(HEATED)
    assert len(t.reminders()) == 1
    fake.wait_for(lambda f: len(heated_incidents(f)) == 1)
    assert "arrogant clown" in heated_incidents(fake)[0]["body"]
    no_failures(bot)


def test_a_slow_estimate_delays_no_acknowledgement(fake, bot, monkeypatch):
    import threading

    scoring, release, threads = threading.Event(), threading.Event(), []
    observe = heat.observe

    def slow_observe(state, event):                             # an estimate that takes as long as the test wants
        threads.append(threading.current_thread().name)
        scoring.set()
        release.wait(20)
        return observe(state, event)

    monkeypatch.setattr(heat, "observe", slow_observe)
    hot, other = Convo(fake, bot), Convo(fake, bot, title="Another thread")
    hot.say("rey", "NONE", 0, "You are an arrogant clown.", wait=False)
    wait_until(scoring.is_set, 10, "the estimate to start")
    try:
        started = time.monotonic()
        other.say("tia", "MEMBER", 1, "Thanks, looking into it.", wait=False)    # acknowledged meanwhile
        assert time.monotonic() - started < 3
    finally:
        release.set()
    bot.wait_idle()
    assert hot.heat()["state"]["n"] == 1 and other.heat()["state"]["n"] == 1
    assert threads and all(name.startswith("heat-score") for name in threads), threads   # not the loop, not the store
    no_failures(bot)


def test_concurrent_comments_of_one_thread_are_all_counted(fake, make_bot):
    from concurrent.futures import ThreadPoolExecutor

    # Two servers on one database, as two processes would be: comments of one thread reach both at once.
    bots = [make_bot(), make_bot()]
    t = Convo(fake, bots[0])
    events = []
    for i in range(40):
        c = fake.add_comment(REPO, t.number, user=PEOPLE[i % 20], body=CALM[i % len(CALM)], created_at=ts(i),
                             author_association="CONTRIBUTOR")
        events.append(fake.event_issue_comment("created", REPO, t.number, c))
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda i: bots[i % 2].deliver(events[i])[0], range(len(events))))
    assert statuses == [202] * len(events)
    for b in bots:
        b.wait_idle(30)
    state = t.heat()["state"]
    assert state["n"] == len(events) and state["n_authors"] == 20
    for b in bots:
        no_failures(b)
