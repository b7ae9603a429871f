"""`python -m app demo`: the real server against a built-in simulated GitHub, playing a short moderation story.

The story is played through signed webhooks delivered to the server (app.server.make_app over app.runtime.Runtime,
listening on 127.0.0.1) and read back from the simulated GitHub (app.fakegithub) as a person would see it: the
public thread, the reactions on a comment, the state GitHub shows, and the private tracking repository of the
working group. Bot messages are printed whole, rendered from Markdown into plain text.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import secrets
import sys
import tempfile
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from . import OneLineParser

ORG, REPO, TRACKING = "pyorg", "pyorg/parser", "pyorg-coc/incidents"
# Permissions in pyorg/parser (None: no role, as anyone on a public repository).
PEOPLE = {"maya": "maintain", "theo": "triage", "rosa": "read", "kai": "read", "lee": None, "sam": None}
WORKING_GROUP = "wendy"        # may write in the private tracking repository
WIDTH = 100                    # columns of the printed story
WHO = 12                       # width of the "who" column
TEXT_AT = 2 + 5 + 2 + WHO + 1  # where the text column starts
UNLOCK_DEADLINE = 25.0         # seconds to wait for the automatic unlock of a 10-second lock

REACTIONS = {"eyes": "👀", "+1": "👍", "-1": "👎", "confused": "😕", "heart": "❤️", "hooray": "🎉",
             "laugh": "😄", "rocket": "🚀"}
LIMITS = {  # GitHub's names for the interaction limits, and what they mean for people
    "existing_users": ("Limit to existing users",
                       "accounts created less than 24 hours ago that have not contributed before cannot comment, "
                       "open issues or pull requests, or react there"),
    "contributors_only": ("Limit to prior contributors",
                          "only people who have contributed to the repository before can comment, open issues or "
                          "pull requests, or react there"),
    "collaborators_only": ("Limit to repository collaborators",
                           "only the repository's collaborators can comment, open issues or pull requests, or "
                           "react there"),
}
PLAIN = str.maketrans({"━": "=", "─": "-", "│": "|", "▸": ">", "↳": ">", "•": "*", "—": "-", "“": '"',
                       "”": '"', "’": "'", "…": "..."})


# ----------------------------------------------------------------------------- Markdown as plain text
_HIDDEN = re.compile(r"<!--.*?-->", re.S)
_FENCE_OPEN = re.compile(r"^(\s*)(`{3,}|~{3,})[^`]*$")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?![\s*])(.+?)(?<![\s*])\*(?![\w*])|(?<![\w_])_(?![\s_])(.+?)(?<![\s_])_(?![\w_])")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_LIST_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*)$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SUMMARY = re.compile(r"^\s*<summary>(.*)</summary>\s*$", re.I)


def inline(text: str) -> str:
    """One line of Markdown as it reads on GitHub: code spans, links, emphasis and escapes resolved."""
    spans: list[str] = []

    def keep(m: re.Match) -> str:
        body = m.group(2)
        if body.startswith(" ") and body.endswith(" ") and body.strip():
            body = body[1:-1]
        spans.append(body)
        return f"\x00{len(spans) - 1}\x00"

    text = _CODE_SPAN.sub(keep, text)
    text = _LINK.sub(lambda m: m.group(1) if m.group(1) == m.group(2) else f"{m.group(1)} ({m.group(2)})", text)
    text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ITALIC.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ESCAPE.sub(r"\1", text)
    return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], text)


def readable(body: str, opened: set[str] | None = None) -> list[tuple[str, str, str]]:
    """BODY as GitHub shows it, in plain lines (first prefix, continuation prefix, text), not yet wrapped:
    hidden `<!-- -->` markers dropped, code blocks and `>` quotes indented behind a bar, tables as lists.
    A `<details>` block is shown by its summary with its content indented, the first time a summary is met
    (OPENED remembers them); after that folded, as GitHub shows it."""
    text = _HIDDEN.sub("", body or "").replace("\u200b", "").replace("\r\n", "\n").replace("\r", "\n")
    out: list[tuple[str, str, str]] = []
    fence: tuple[str, int] | None = None
    folded = ""  # indentation of a <details> block's content
    skipping = False  # inside a <details> block already shown once
    for raw in text.split("\n"):
        line = raw.rstrip()
        if skipping:
            skipping = line.strip().lower() != "</details>"
            continue
        if fence is not None:
            mark, indent = fence
            if line.strip() and set(line.strip()) == {mark[0]} and len(line.strip()) >= len(mark):
                fence = None
                continue
            bar = folded + " " * indent + "│ "
            out.append((bar, bar, line[min(indent, len(line) - len(line.lstrip(" "))):]))
            continue
        fenced = _FENCE_OPEN.match(line)
        if fenced:
            fence = (fenced.group(2), len(fenced.group(1)))
            continue
        stripped = line.strip()
        low = stripped.lower()
        if low in ("<details>", "<details open>"):
            continue
        if low == "</details>":
            folded = ""
            continue
        summary = _SUMMARY.match(stripped)
        if summary:
            title = inline(summary.group(1))
            if opened is not None and title in opened:
                out.append(("▸ ", "  ", f"{title}  (folded on GitHub; the same as shown above)"))
                skipping = True
                continue
            if opened is not None:
                opened.add(title)
            out.append(("▸ ", "  ", f"{title}  (folded on GitHub until clicked; opened here)"))
            folded = "  "
            continue
        if not stripped:
            if out and out[-1][2]:
                out.append(("", "", ""))
            continue
        if re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped.replace(" ", "")):
            out.append((folded, folded, "─" * 24))
            continue
        heading = _HEADING.match(line)
        if heading:
            title = inline(heading.group(1))
            out.append((folded, folded, title if title.endswith((":", "?", ".")) else title + ":"))
            continue
        if stripped.startswith(">"):
            bar = folded + "│ "
            out.append((bar, bar, inline(re.sub(r"^(>\s?)+", "", stripped))))
            continue
        if stripped.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", stripped.strip("|"))]
            if all(re.fullmatch(r":?-{3,}:?", c) for c in cells):
                continue
            out.append((folded + "• ", folded + "  ", " — ".join(inline(c) for c in cells if c)))
            continue
        item = _LIST_ITEM.match(line)
        if item:
            pad = folded + item.group(1)
            out.append((pad + "• ", pad + "  ", inline(item.group(2))))
            continue
        out.append((folded, folded, inline(stripped)))
    while out and not out[-1][2]:
        out.pop()
    while out and not out[0][2]:
        out.pop(0)
    return out


def wrapped(body: str, width: int, opened: set[str] | None = None) -> list[str]:
    """BODY (Markdown) as plain lines of at most WIDTH columns (a long word or link is never broken)."""
    lines: list[str] = []
    for first, rest, text in readable(body, opened):
        if not text:
            lines.append(first.rstrip())
            continue
        lines += textwrap.wrap(text, width=max(20, width), initial_indent=first, subsequent_indent=rest,
                               break_long_words=False, break_on_hyphens=False, drop_whitespace=True) or [first]
    return lines


# ----------------------------------------------------------------------------- the printed story
class Story:
    def __init__(self, out=None):
        self.out = out or sys.stdout
        self.venue = ""
        self.opened: set[str] = set()  # <details> summaries already shown open
        encoding = getattr(self.out, "encoding", None) or "utf-8"
        try:
            "👀👍😕▸│•—“”─━↳".encode(encoding)
            self.plain = False
        except (UnicodeEncodeError, LookupError):
            self.plain = True

    def say(self, text: str = "") -> None:
        if self.plain:  # a terminal that cannot show them: the reactions by name, the rest in ASCII
            for content, emoji in REACTIONS.items():
                text = text.replace(emoji, f":{content}:")
            text = text.translate(PLAIN).encode("ascii", "replace").decode("ascii")
        print(text, file=self.out, flush=True)

    def para(self, text: str, first: str = "", rest: str = "") -> None:
        for line in textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest,
                                  break_long_words=False, break_on_hyphens=False):
            self.say(line)

    def section(self, number: int, title: str, intro: str) -> None:
        self.venue = ""
        head = f"━━ {number}. {title} "
        self.say()
        self.say(head + "━" * max(3, WIDTH - len(head)))
        self.para(intro)

    def where(self, label: str) -> None:
        """A heading for the place the next lines happen in, printed when it changes."""
        if label != self.venue:
            self.venue = label
            self.say()
            self.para(label, "", "   ")

    def entry(self, when: str, who: str, body: str) -> None:
        """A comment (or a state line) at WHEN by WHO, its Markdown rendered and wrapped in the text column."""
        lines = wrapped(body, WIDTH - TEXT_AT, self.opened) or [""]
        self.say(f"  {when:<5}  {who:<{WHO}} {lines[0]}".rstrip())
        for line in lines[1:]:
            self.say((" " * TEXT_AT + line).rstrip())

    def note(self, text: str) -> None:
        """An explanation under the entry above (what a person notices, or why something did not happen)."""
        for i, line in enumerate(textwrap.wrap(text, WIDTH - TEXT_AT - 2, break_long_words=False,
                                               break_on_hyphens=False)):
            self.say(" " * TEXT_AT + ("↳ " if i == 0 else "  ") + line)


def clock(iso_time: str | None) -> str:
    """HH:MM (UTC) of an ISO timestamp from GitHub."""
    try:
        return datetime.fromisoformat(str(iso_time).replace("Z", "+00:00")).astimezone(UTC).strftime("%H:%M")
    except ValueError:
        return ""


def labels_of(issue: dict) -> str:
    return ", ".join(sorted(lb["name"] for lb in issue.get("labels", []))) or "none"


def heat_score(record: dict | None) -> float | None:
    """The thread's heat estimate as the server stored it (None if it cannot be read)."""
    try:
        from ..heat import model
        from ..heat.state import _fresh, result

        return float(result(_fresh((record or {}).get("state")), model.current()).score)
    except Exception:  # noqa: BLE001 - the story goes on without the number
        return None


def why_no_reminder(record: dict | None, config: dict) -> str:
    """Why a thread above the threshold got no automatic reminder (the checks handlers/heat.py makes)."""
    from ..durations import format_duration, parse_duration

    record = record or {}
    cooldown = parse_duration(config["reminders"]["cooldown"])
    now = time.time()
    if config["heat"]["shadow"]:
        return "heat.shadow is on in .github/coc.yml: the bot records what it would do and posts nothing"
    if not config["reminders"]["auto"]:
        return "reminders.auto is off in .github/coc.yml: automatic reminders are not posted there"
    if now - (record.get("last_reminder_at") or 0) < cooldown:
        return (f"a reminder was already posted in this thread less than {format_duration(cooldown)} ago "
                "(reminders.cooldown), so the bot does not repeat it")
    if now - (record.get("last_alert_at") or 0) < cooldown:
        return (f"the bot already reacted to this thread's heat less than {format_duration(cooldown)} ago "
                "(reminders.cooldown): one reminder per thread in that time")
    return "the bot decided not to post one (its log says why)"


# ----------------------------------------------------------------------------- running it
async def play(story: Story, workdir: Path) -> int:
    from aiohttp import ClientSession, web

    from ..fakegithub import FakeGitHub
    from ..runtime import Runtime
    from ..server import make_app
    from ..settings import load_settings

    fake = FakeGitHub(validator="auto").start()
    try:
        inst = fake.add_installation(ORG)
        fake.add_repo(REPO, installation_id=inst, private=False)
        for login, role in PEOPLE.items():
            if role:
                fake.set_permission(REPO, login, role)
        wg = fake.add_installation(TRACKING.split("/")[0])
        fake.add_repo(TRACKING, installation_id=wg, private=True)
        fake.set_permission(TRACKING, WORKING_GROUP, "write")
        secret = secrets.token_hex(16)
        settings = load_settings({
            "GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": fake.private_key_pem,
            "GITHUB_WEBHOOK_SECRET": secret, "GITHUB_API_URL": fake.url,
            "DATABASE_URL": f"sqlite:///{workdir / 'demo.sqlite3'}", "COC_TRACKING_REPO": TRACKING,
        })
        rt = Runtime(settings)
        runner = web.AppRunner(make_app(rt), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            async with ClientSession() as http:
                demo = Demo(story, fake, rt, http, f"http://127.0.0.1:{port}/webhook", secret)
                return await demo.run()
        finally:
            await runner.cleanup()
    finally:
        fake.stop()


class Demo:
    """The story's beats, each delivered as GitHub would deliver it and read back as people would see it."""

    def __init__(self, story: Story, fake, rt, http, url: str, secret: str):
        from .. import heat

        self.story, self.fake, self.rt, self.http, self.url, self.secret = story, fake, rt, http, url, secret
        self.seen: set[int] = set()              # comments already printed
        self.incidents: dict[int, dict] = {}     # tracking issue number -> {"title", "labels", "state"} printed
        self.bot = fake.bot_login
        self.threshold: float = heat.DEFAULT_THRESHOLD  # the score from which a thread is heated

    # -- GitHub's side ------------------------------------------------------------------------------
    def now(self) -> str:
        return datetime.fromtimestamp(self.fake.now(), UTC).strftime("%H:%M")

    def minutes(self, n: float) -> None:
        """Let N minutes pass on GitHub's clock between two people's comments (the server's clock is real)."""
        self.fake.advance(n * 60)

    async def deliver(self, event_payload) -> None:
        event, payload = event_payload
        body = json.dumps(payload).encode()
        sig = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": sig,
                   "Content-Type": "application/json"}
        async with self.http.post(self.url, data=body, headers=headers) as resp:
            if resp.status not in (200, 202):
                raise RuntimeError(f"the server answered {resp.status} to a {event} delivery")
        await self.settle()

    async def settle(self, timeout: float = 15.0) -> None:
        """Wait until the server has done everything due now (and retries due within seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            soon = time.time() + 3
            jobs = await self.rt.store.jobs(state="queued") + await self.rt.store.jobs(state="running")
            if not any(j["state"] == "running" or j["run_at"] <= soon for j in jobs):
                return
            await asyncio.sleep(0.02)
        raise RuntimeError("the bot did not finish its work in time")

    async def heat_record(self, number: int) -> dict | None:
        return await self.rt.store.get("heat", f"{REPO}#{number}".lower())

    # -- people ------------------------------------------------------------------------------------
    async def open_issue(self, user: str, title: str, body: str, *, pull_request: bool = False) -> int:
        issue = self.fake.create_issue(REPO, user=user, title=title, body=body, pull_request=pull_request)
        n = issue["number"]
        kind = "pull request" if pull_request else "issue"
        self.story.where(f"In public — {REPO}#{n} “{issue['title']}” ({kind} opened by {user})")
        self.story.entry(clock(issue["created_at"]), user, body)
        if pull_request:
            await self.deliver(self.fake.event_pull_request("opened", REPO, n))
        else:
            await self.deliver(self.fake.event_issues("opened", REPO, n))
        return n

    async def comment(self, user: str, number: int, body: str, *, repo: str = REPO, who: str | None = None) -> dict:
        c = self.fake.add_comment(repo, number, user=user, body=body)
        self.seen.add(c["id"])
        self.story.entry(clock(c["created_at"]), who or user, body)
        await self.deliver(self.fake.event_issue_comment("created", repo, number, c))
        return c

    def reactions(self, comment: dict) -> list[str]:
        """The bot's reactions on a comment (deleted or not), as GitHub shows them."""
        return [REACTIONS.get(content, f":{content}:")
                for login, content in self.fake.comment(comment["id"])["reactions"] if login == self.bot]

    def show_reactions(self, comment: dict, meaning: str = "") -> None:
        got = self.reactions(comment)
        if got:
            self.story.note(f"conduct-bot reacts {' '.join(got)} on that comment" + (f": {meaning}" if meaning else ""))

    def new_bot_comments(self, number: int, *, repo: str = REPO) -> list[dict]:
        """The bot's comments in a thread not printed yet, in the order GitHub shows them."""
        fresh = []
        for c in self.fake.comments(repo, number):
            if c["id"] not in self.seen:
                self.seen.add(c["id"])
                if c["user"]["login"] == self.bot:
                    fresh.append(c)
        return fresh

    def show_bot_comments(self, number: int, *, repo: str = REPO, comments: list[dict] | None = None) -> int:
        """Print the bot's new comments in a thread, whole, in the order GitHub shows them."""
        comments = self.new_bot_comments(number, repo=repo) if comments is None else comments
        for c in comments:
            self.story.entry(clock(c["created_at"]), "conduct-bot", c["body"])
        return len(comments)

    def show_private(self) -> None:
        """What the working group got in the private tracking repository since last time."""
        for issue in self.fake.issues(TRACKING):
            n = issue["number"]
            title = f"In private, for the working group only — {TRACKING}#{n} “{issue['title']}”"
            before = self.incidents.get(n)
            fresh = [c for c in self.fake.comments(TRACKING, n) if c["id"] not in self.seen]
            changed = before is not None and (before["title"], before["labels"], before["state"]) != (
                issue["title"], labels_of(issue), issue["state"])
            if before is not None and not fresh and not changed:
                continue
            self.story.where(title)
            if before is None:
                self.story.entry(clock(issue["created_at"]), "conduct-bot",
                                 f"opens this incident (labels: {labels_of(issue)})\n\n" + issue["body"])
            for c in fresh:
                self.seen.add(c["id"])
                self.story.entry(clock(c["created_at"]), "conduct-bot" if c["user"]["login"] == self.bot
                                 else c["user"]["login"], update_text(c["body"]))
            if before is not None:
                if issue["title"] != before["title"]:
                    self.story.entry(self.now(), "GitHub", f"the incident is now titled “{issue['title']}”")
                if issue["state"] != before["state"]:
                    self.story.entry(self.now(), "GitHub", f"the incident is {issue['state']}")
                if labels_of(issue) != before["labels"]:
                    self.story.entry(self.now(), "GitHub", f"labels now: {labels_of(issue)}")
            self.incidents[n] = {"title": issue["title"], "labels": labels_of(issue), "state": issue["state"]}

    def lock_line(self, number: int) -> str:
        issue = self.fake.issue(REPO, number)
        if issue["locked"]:
            reason = issue.get("active_lock_reason")
            return (f"{REPO}#{number} is locked" + (f" ({reason})" if reason else "") +
                    ": only people with write access to the repository can comment")
        return f"{REPO}#{number} is not locked: the conversation is open for comments"

    # -- the story -----------------------------------------------------------------------------------
    async def run(self) -> int:
        s = self.story
        s.say("conduct-bot demo: the real server (signed webhooks, a durable job queue, its workers) runs on")
        s.say("127.0.0.1 against a simulated GitHub. No credentials, no network; nothing is kept afterwards.")
        s.say()
        s.say(f"Public repository {REPO}: maya is a maintainer; theo (triage), rosa and kai (read) take part;")
        s.say("lee and sam are people from the internet. The Code of Conduct working group (wendy) keeps a")
        s.say(f"private tracking repository, {TRACKING}: only they see it. Times are GitHub's clock (UTC);")
        s.say("the story's minutes pass in a moment.")
        calm = await self.calm_thread()
        heated = await self.heated_thread()
        pr, threat = await self.report()
        if not await self.timed_lock(heated):
            return 1
        await self.limit(heated)
        await self.refused(heated)
        if not await self.desk(pr, threat):
            return 1
        return await self.summary((calm, heated, pr))

    async def calm_thread(self) -> int:
        s, fake = self.story, self.fake
        s.section(1, "A calm, busy thread",
                  "Several people discuss a change. The bot estimates each thread's heat (from 0, calm, to 1, "
                  f"heated) after every comment and stays silent below the threshold, {self.threshold:.2f}.")
        calls = len(fake.requests)
        n = await self.open_issue("rosa", "Test on Python 3.13",
                                  "Python 3.13 is out. Should the test matrix include it now?")
        for user, body, wait in (
            ("kai", "Sounds good to me. Only the default build, or the free-threaded one too?", 6),
            ("rosa", "Only the default build for now, I think. Free-threaded can come later.", 4),
            ("theo", "I tried it locally: two tests fail on 3.13 because a warning message changed. "
                     "I can send a fix.", 9),
            ("maya", "Thanks theo, that would be great. I'll review it tomorrow.", 3),
            ("kai", "+1. Should we drop 3.8 in the same release? It is end of life.", 12),
            ("rosa", "Agreed. I'll open a separate issue for dropping 3.8 so the changelog stays clear.", 5),
        ):
            self.minutes(wait)
            await self.comment(user, n, body)
        posted = self.show_bot_comments(n)
        score = heat_score(await self.heat_record(n))
        level = (f"the heat estimate is {score:.2f}, below {self.threshold:.2f}" if score is not None
                 else "the thread stayed below the threshold")
        if not posted:
            s.entry(self.now(), "conduct-bot", f"(posts nothing: no reminder, because {level})")
        s.note(f"These {len(fake.comments(REPO, n))} ordinary comments and the opening post cost the bot "
               f"{len(fake.requests) - calls} GitHub API calls.")
        return n

    async def heated_thread(self) -> int:
        from ..config import DEFAULTS

        s = self.story
        s.section(2, "A thread turning heated",
                  "When a thread's heat crosses the threshold, the bot posts one calm, generic reminder in public "
                  "and opens a private incident (label coc:heated) for the working group, with the hottest "
                  "comments kept as evidence.")
        n = await self.open_issue("rosa", "Make strict mode the default",
                                  "I think strict mode should be the default: it catches real bugs early, and the "
                                  "warnings are easy to fix. Thoughts?")
        reminded = False
        for user, body, wait in (
            ("kai", "Strict by default would break half of the plugins I maintain.", 7),
            ("rosa", "Then the plugins are wrong. Strict mode catches real bugs.", 2),
            ("kai", "Breaking working code for everyone is not a small thing. Please reconsider.", 3),
            ("lee", "This is the dumbest idea I have seen. You clearly have no clue what you are doing.", 2),
            ("rosa", "Stop being a jerk. Nobody asked for your garbage opinion.", 1),
        ):
            self.minutes(wait)
            await self.comment(user, n, body)
            record = await self.heat_record(n)
            score = heat_score(record)
            fresh = self.new_bot_comments(n)
            if score is not None:
                if score < self.threshold:
                    s.note(f"heat {score:.2f}")
                elif fresh:
                    s.note(f"heat {score:.2f}, above {self.threshold:.2f}: the bot posts a reminder on its own")
                else:
                    s.note(f"heat {score:.2f}, still above {self.threshold:.2f}, but no new reminder: "
                           + why_no_reminder(record, DEFAULTS))
            self.show_bot_comments(n, comments=fresh)
            if fresh and not reminded:
                reminded = True
                self.show_private()
                s.where(f"In public — {REPO}#{n}")
        if not reminded:
            s.note("the thread never crossed the threshold, so no reminder was posted")
        return n

    async def report(self) -> tuple[int, dict]:
        s, fake = self.story, self.fake
        s.section(3, "A maintainer reports a comment",
                  "Some harm does not look heated. Anyone may type /coc-report with what happened: the working "
                  "group gets a private incident with that statement and a copy of the thread, and the report "
                  "leaves no trace in public.")
        self.minutes(20)
        n = await self.open_issue("sam", "Add a --strict flag to the tokenizer",
                                  "Adds a `--strict` flag to the tokenizer, off by default. This is my first "
                                  "contribution here: happy to change anything!", pull_request=True)
        self.minutes(4)
        await self.comment("maya", n, "Thanks @sam! Could you add a test for the flag?")
        self.minutes(6)
        threat = await self.comment("lee", n, "Nice work. By the way, I found out where you live. See you around ;)")
        score = heat_score(await self.heat_record(n))
        if score is not None and score < self.threshold:
            s.note(f"heat {score:.2f}: nothing heated to see, so no reminder; a person has to report it")
        self.minutes(2)
        report = await self.comment(
            "maya", n,
            "/coc-report lee's comment above is a threat against sam, a first-time contributor.\n\n"
            "sam may be scared to come back: could someone from the working group reach out to them?")
        got = self.reactions(report)
        told = ("maya sees " + " then ".join(got) + " on her comment (👀 the bot took the report, 👍 the working "
                "group has it)") if got else "maya's comment gets no reaction"
        if fake.comment(report["id"])["deleted"]:
            told += (", then her comment disappears: the bot removes it once the incident exists, so the thread "
                     "never shows who reported, or what. Nothing is posted in public.")
        s.note(told)
        self.show_bot_comments(n)
        self.show_private()
        return n, threat

    async def timed_lock(self, n: int) -> bool:
        s, fake = self.story, self.fake
        s.section(4, "A lock that ends by itself",
                  f"Back in {REPO}#{n}, maya locks the thread for ten seconds to let it cool down. The bot posts "
                  "a notice, locks the conversation, and unlocks it by itself when the time is up.")
        s.where(f"In public — {REPO}#{n} “{fake.issue(REPO, n)['title']}”")
        self.minutes(3)
        lock = await self.comment("maya", n, "/coc-lock 10s too-heated Let's take a short break and come back "
                                             "to this calmly.")
        locked_at = time.monotonic()
        self.show_reactions(lock, "👀 taken, 👍 done")
        self.show_bot_comments(n)
        s.entry(self.now(), "GitHub", self.lock_line(n))
        from ..fakegithub import FakeGitHubError

        try:
            late = fake.add_comment(REPO, n, user="lee", body="Censorship!")
        except FakeGitHubError:  # GitHub refusing the comment is the point
            s.note("lee tries to reply, and GitHub refuses: the conversation is locked")
        else:
            self.seen.add(late["id"])
            s.entry(clock(late["created_at"]), "lee", late["body"])
        self.show_private()
        s.where(f"In public — {REPO}#{n}")
        s.entry(self.now(), "", f"(waiting for the automatic unlock, at most {UNLOCK_DEADLINE:.0f} seconds)")
        deadline = time.monotonic() + UNLOCK_DEADLINE
        while fake.issue(REPO, n)["locked"] and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if fake.issue(REPO, n)["locked"]:
            s.entry(self.now(), "GitHub", f"{REPO}#{n} is still locked after {UNLOCK_DEADLINE:.0f} seconds: the "
                                          "automatic unlock did not happen")
            return False
        unlocks = [e for e in fake.issue_events(REPO, n) if e["event"] == "unlocked"]
        by = unlocks[-1]["actor"]["login"] if unlocks else "someone"
        s.entry(self.now(), "GitHub", self.lock_line(n))
        s.note(f"unlocked by {'conduct-bot, on its own' if by == self.bot else by}, "
               f"{time.monotonic() - locked_at:.1f} seconds after the lock")
        return True

    async def limit(self, n: int) -> None:
        s, fake = self.story, self.fake
        s.section(5, "An interaction limit",
                  "When a thread draws a crowd of new accounts, a maintainer without admin rights can still have "
                  "GitHub limit who may interact with the repository for a while.")
        s.where(f"In public — {REPO}#{n}")
        self.minutes(1)
        limit = await self.comment("maya", n, "/coc-limit")
        self.show_reactions(limit, "done")
        self.show_bot_comments(n)
        shown = fake.interaction_limit(REPO)
        if shown:
            name, meaning = LIMITS.get(shown["limit"], (shown["limit"], ""))
            ends = datetime.fromisoformat(shown["expires_at"].replace("Z", "+00:00"))
            hours = round((ends.timestamp() - fake.now()) / 3600)
            s.entry(self.now(), "GitHub", f"{REPO} shows a temporary interaction limit, “{name}”: {meaning}. "
                                          f"It ends by itself in {hours} hours ({ends:%Y-%m-%d %H:%M} UTC).")
        else:
            s.entry(self.now(), "GitHub", f"{REPO} has no interaction limit")
        self.show_private()

    async def refused(self, n: int) -> None:
        s = self.story
        s.section(6, "Someone without permission",
                  "Moderation commands are for maintainers (write access, by default). Anyone else who types one "
                  "gets a single 😕 reaction: no reply to argue with, and nothing changes.")
        s.where(f"In public — {REPO}#{n}")
        self.minutes(2)
        refused = await self.comment("kai", n, "/coc-lock")
        got = self.reactions(refused)
        s.note("kai has read access only. conduct-bot reacts " + (" ".join(got) or "with nothing") +
               " on that comment, and that is all: no reply")
        self.show_bot_comments(n)
        s.entry(self.now(), "GitHub", self.lock_line(n))
        before = dict(self.incidents)
        self.show_private()
        if before == self.incidents:
            s.note("nothing is recorded for the working group either")

    async def desk(self, pr: int, threat: dict) -> bool:
        s, fake = self.story, self.fake
        s.section(7, "The working group acts from the incident",
                  "Working-group members act from the private incident itself: a command typed there acts on the "
                  "incident's thread, and its result is answered in the incident.")
        number = self.incident_for(pr)
        if number is None:
            s.say("(no incident was opened for the report)")
            return False
        here = f"In private, for the working group only — {TRACKING}#{number} “{fake.issue(TRACKING, number)['title']}”"
        s.where(here)
        self.minutes(25)
        await self.comment(WORKING_GROUP, number,
                           "Thanks maya. Hiding the comment and blocking the account for a week while we write to "
                           f"lee and to sam.\n\n/coc-hide {threat['html_url']} abuse\n/coc-block @lee 7d",
                           repo=TRACKING, who="wendy (WG)")
        self.show_private()
        s.where(f"In public — {REPO}#{pr}")
        hidden = fake.comment(threat["id"])
        if hidden["minimized"]:
            reason = (hidden.get("minimized_reason") or "").replace("_", "-").lower()
            s.entry(self.now(), "GitHub", "lee's comment is hidden: readers see “This comment was marked as "
                                          f"{reason}” and can still open it")
        blocked = fake.blocked(ORG)
        lift = await self.rt.store.jobs(state="queued", kind="unblock")
        when = ""
        if lift:
            days = round((min(j["run_at"] for j in lift) - time.time()) / 86400)
            when = f"; the bot lifts the block by itself in {days} days"
        s.entry(self.now(), "GitHub", f"{', '.join(sorted(blocked))} is blocked from the {ORG} organisation: no "
                                      f"comments, issues or pull requests there{when}"
                if blocked else f"nobody is blocked from {ORG}")
        s.where(here)
        self.minutes(10)
        await self.comment(WORKING_GROUP, number,
                           "/coc-resolve temporary-ban Blocked for 7 days; we wrote to lee about the Code of Conduct "
                           "and to sam to apologise and offer help.", repo=TRACKING, who="wendy (WG)")
        self.show_private()
        return True

    async def summary(self, threads: tuple[int, ...]) -> int:
        from ..config import DEFAULTS
        from ..durations import format_duration, parse_duration

        s, fake = self.story, self.fake
        s.section(8, "Where things stand", "What GitHub shows at the end:")
        lines = []
        for n in threads:
            issue = fake.issue(REPO, n)
            comments = fake.comments(REPO, n)
            bot = sum(1 for c in comments if c["user"]["login"] == self.bot)
            kind = "pull request" if issue["is_pull_request"] else "issue"
            lines.append(f"{REPO}#{n} “{issue['title']}”: {kind} {issue['state']}, "
                         f"{'locked' if issue['locked'] else 'not locked'}, {len(comments)} comments, "
                         f"{bot} of them by conduct-bot")
        for issue in fake.issues(TRACKING):
            lines.append(f"{TRACKING}#{issue['number']} “{issue['title']}”: {issue['state']}, labels "
                         f"{labels_of(issue)}")
        for line in lines:
            s.para(line, "  • ", "    ")
        if any(i["state"] == "open" and "status:new" in i["label_names"] for i in fake.issues(TRACKING)):
            sla = format_duration(parse_duration(DEFAULTS["sla"]["acknowledge"]))
            s.para(f"An incident still status:new (nobody from the working group has looked at it) after {sla} "
                   "gets a nudge for the working group, in the incident itself.", "  ", "  ")
        failed = await self.rt.store.jobs(state="failed")
        checked = (", every one as GitHub's published API description allows" if fake.validator is not None
                   and not fake.violations else "")
        s.say()
        s.para(f"Done: the bot made {len(fake.requests)} requests to the simulated GitHub "
               f"({len(fake.writes())} of them writes){checked}.")
        if fake.violations:
            s.say(f"{len(fake.violations)} request(s) did not match GitHub's published API description:")
            for v in fake.violations[:10]:
                s.say(f"  {v}")
        if failed:
            s.say(f"{len(failed)} job(s) failed: {', '.join(sorted({j['kind'] for j in failed}))}")
        return 0 if not fake.violations and not failed else 1

    def incident_for(self, number: int) -> int | None:
        """The tracking issue whose body names REPO#NUMBER as its thread."""
        for issue in self.fake.issues(TRACKING):
            if re.search(rf"/{re.escape(REPO)}/(?:issues|pull)/{number}\b", issue["body"] or ""):
                return issue["number"]
        return None


def update_text(body: str) -> str:
    """An incident update in plain words: the template's "**New KIND event**:" heading never reaches the reader."""
    words = {"report": "A new report on this thread", "heated": "The thread crossed the heat threshold again",
             "action": "A moderator acted on this thread"}
    return re.sub(r"\*\*New (\w+) event\*\*:?", lambda m: words.get(m.group(1), "Also on this thread") + ":",
                  body)


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m app demo",
                       description="Play a short moderation story: the real server against a built-in simulated "
                                   "GitHub, on 127.0.0.1. Needs no credentials and no network; takes about 15 "
                                   "seconds (a 10-second lock ends by itself).")
    ap.parse_args(argv)
    logging.disable(logging.WARNING)  # the story is the output; the server's own logs stay quiet
    try:
        with tempfile.TemporaryDirectory(prefix="conduct-bot-demo-") as tmp:
            return asyncio.run(play(Story(), Path(tmp)))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback (SPEC: Command line)
        print(f"python -m app demo: stopped: {exc}", file=sys.stderr)
        return 1
