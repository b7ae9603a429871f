"""`python -m app demo`: the real server against a built-in simulated GitHub, playing a short moderation story."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path

from . import OneLineParser

ORG, REPO, TRACKING = "pyorg", "pyorg/parser", "pyorg-coc/incidents"
PEOPLE = {"maya": "maintain", "theo": "triage", "rosa": "read", "kai": "read", "lee": "read", "wendy": None}


class Story:
    def __init__(self, out=sys.stdout, quiet: bool = False):
        self.out = out
        self.t0 = time.monotonic()
        self.quiet = quiet

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def beat(self, who: str, text: str) -> None:
        self.say(f"  {time.monotonic() - self.t0:5.1f}s  {who:<14} {text}")


def _short(body: str, width: int = 90) -> str:
    text = " ".join(line for line in body.splitlines() if line.strip() and not line.startswith("<!--"))
    return text if len(text) <= width else text[: width - 1] + "…"


async def play(story: Story, workdir: Path) -> int:
    from aiohttp import ClientSession, web

    from ..fakegithub import FakeGitHub
    from ..runtime import Runtime
    from ..server import make_app
    from ..settings import load_settings

    fake = FakeGitHub(validator="auto").start()
    try:
        inst = fake.add_installation(ORG)
        fake.add_repo(REPO, installation_id=inst)
        for login, role in PEOPLE.items():
            if role:
                fake.set_permission(REPO, login, role)
        wg = fake.add_installation("pyorg-coc")
        fake.add_repo(TRACKING, installation_id=wg, private=True)
        fake.set_permission(TRACKING, "wendy", "write")
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
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/webhook"
        try:
            async with ClientSession() as http:
                return await _story(story, fake, rt, http, url, secret)
        finally:
            await runner.cleanup()
    finally:
        fake.stop()


async def _story(story, fake, rt, http, url, secret) -> int:
    seen: set[int] = set()

    async def deliver(event_payload):
        event, payload = event_payload
        body = json.dumps(payload).encode()
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        async with http.post(url, data=body, headers={"X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
                                                       "X-Hub-Signature-256": sig,
                                                       "Content-Type": "application/json"}) as resp:
            return resp.status

    async def settle(timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = await rt.store.jobs(state="queued") + await rt.store.jobs(state="running")
            if not any(j["run_at"] <= time.time() for j in jobs):
                return
            await asyncio.sleep(0.02)
        raise RuntimeError("the bot did not finish in time")

    def show_new(repo, number, label):
        for c in fake.comments(repo, number):
            if c["id"] in seen:
                continue
            seen.add(c["id"])
            if c["user"]["login"] == fake.bot_login:
                story.beat("conduct-bot", f"{label}: {_short(c['body'])}")

    async def say(user, body, number):
        c = fake.add_comment(REPO, number, user=user, body=body)
        seen.add(c["id"])
        story.beat(user, _short(body))
        status = await deliver(fake.event_issue_comment("created", REPO, number, c))
        await settle()
        reactions = (fake.reactions_on_comment(c["id"])
                     if any(x["id"] == c["id"] for x in fake.comments(REPO, number)) else [])
        if reactions:
            story.beat("", f"(reactions on that comment: {', '.join(reactions)})")
        elif "/coc-report" in body:
            story.beat("", "(that comment was removed after the incident was opened, so the reporter is not exposed)")
        show_new(REPO, number, "posts")
        return c, status

    story.say("conduct-bot demo: the real server (aiohttp, SQLite queue, signed webhooks) against a simulated GitHub.")
    story.say(f"Public repository {REPO}; private tracking repository {TRACKING}. No credentials, no network.\n")
    issue = fake.create_issue(REPO, user="rosa", title="Proposal: make the tokenizer strict by default",
                              body="I think strict mode should be the default. Thoughts?")
    n = issue["number"]
    story.say(f"Public thread {REPO}#{n}: \"{issue['title']}\"")
    await say("kai", "Strict by default would break half of the plugins I maintain.", n)
    await say("rosa", "Then the plugins are wrong. Strict mode catches real bugs.", n)
    await say("maya", "/coc-remind", n)
    await say("theo", "/coc-lock 2h", n)
    story.beat("", "(theo has triage rights only, below maintainer_permission: refused, nothing else changes)")
    await say("lee", "This is the dumbest idea I have seen. You clearly have no clue what you are doing.", n)
    await say("theo", "/coc-report insulting replies aimed at the proposer", n)
    await say("maya", "/coc-lock 24h too-heated Let's take a day and come back to this.", n)
    state = fake.issue(REPO, n)
    story.beat("GitHub", f"thread locked: {state['locked']} (reason: {state['active_lock_reason']}); "
                         f"automatic unlock scheduled in 24 hours")

    story.say(f"\nPrivate tracking repository {TRACKING} (only the working group sees this):")
    incs = [i for i in fake.issues(TRACKING)]
    for i in incs:
        story.beat("incident", f"{i['title']} — labels: {', '.join(sorted(l['name'] for l in i['labels']))}")
        later = fake.comments(TRACKING, i["number"])
        captured = i["body"].count("permalink") + sum(c["body"].count("permalink") for c in later)
        story.beat("", f"{len(later)} later event(s) recorded as comments; evidence snapshots hold {captured} "
                       "comment(s), quoted so they notify no one")
    number = incs[0]["number"]

    async def wg(body):
        c = fake.add_comment(TRACKING, number, user="wendy", body=body)
        story.beat("wendy (WG)", _short(body))
        await deliver(fake.event_issue_comment("created", TRACKING, number, c))
        await settle()
        for x in fake.comments(TRACKING, number):
            if x["id"] not in seen and x["user"]["login"] == fake.bot_login:
                seen.add(x["id"])
                story.beat("conduct-bot", f"in the incident: {_short(x['body'])}")

    await wg("Thanks for the report, looking at it now.")
    await wg("/coc-block @lee 7d")
    story.beat("GitHub", f"{ORG} blocks: {', '.join(sorted(fake.blocked(ORG))) or 'none'}; lift scheduled in 7 days")
    await wg("/coc-resolve warning Sent a private warning; a 7-day block is in place.")
    final = fake.issue(TRACKING, number)
    story.beat("GitHub", f"incident {final['state']}; labels: {', '.join(sorted(l['name'] for l in final['labels']))}")
    writes = len(fake.writes())
    checked = (f", {len(fake.violations)} request(s) outside GitHub's published API description"
               if fake.validator is not None else "")
    story.say(f"\nDone: {len(fake.requests)} requests to the simulated GitHub ({writes} writes), "
              f"{fake.token_requests} installation token(s) requested{checked}.")
    return 0 if not fake.violations else 1


def main(argv: list[str] | None = None) -> int:
    ap = OneLineParser(prog="python -m app demo",
                                 description="Play a short moderation story: the real server against a built-in "
                                             "simulated GitHub. Needs no credentials and no network.")
    ap.parse_args(argv)
    logging.disable(logging.WARNING)  # the story is the output; the server's own logs stay quiet
    with tempfile.TemporaryDirectory(prefix="conduct-bot-demo-") as tmp:
        return asyncio.run(play(Story(), Path(tmp)))
