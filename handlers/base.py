"""Shared shape of a command run: who ran it, on which thread, how to answer, what to record."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import gidgethub

from app import offload
from app.commands import THREAD_COMMANDS, parse_commands
from app.effects import once, post_comment_once
from app.text import bundled_template, render
from app.threads import Comment, Thread


class CommandFailed(Exception):
    """GitHub refused or the command could not act; the message is shown to the person (never logged as a bug)."""


@dataclass
class Outcome:
    result: str                      # one factual line for the record ("locked as too heated for 24 hours")
    record: bool = True              # recorded in the tracking repository
    evidence: list[dict] = field(default_factory=list)
    accounts: list[str] = field(default_factory=list)


async def commands_of(event, body: str, allowed: frozenset[str] = THREAD_COMMANDS) -> list:
    """parse_commands(body, allowed), in a worker process, once per delivery: the command runner and the heat
    estimate both need it for the same comment, and a hostile comment's parse is the costliest work there is."""
    memo = event.__dict__.setdefault("_conduct_bot_parsed", {})
    key = (body, allowed)
    if key not in memo:
        memo[key] = asyncio.ensure_future(offload.run(parse_commands, body, allowed))
    return await asyncio.shield(memo[key])


MAX_COMMANDS = 10      # commands of one comment that run; the reply names the rest


@dataclass
class Reply:
    """The one reply comment a command comment gets, however many commands it holds: each command
    adds its part, and the parts are posted together once, after the last command."""
    comment_key: str                 # "<comment kind>-<comment id>": effects are keyed by the comment
    gh: Any
    url: str                         # comments URL where the reply goes
    parts: list[str] = field(default_factory=list)

    def add(self, body: str) -> None:
        if body and body not in self.parts:
            self.parts.append(body)

    async def send(self, store) -> None:
        if self.parts:
            await post_comment_once(store, self.gh, self.url, f"{self.comment_key}:reply", "reply",
                                    "\n\n".join(self.parts))


def comment_key(comment: Comment) -> str:
    """The identity of a comment across redeliveries: its kind and GitHub id, not the delivery."""
    return f"{comment.kind}-{comment.id}"


@dataclass
class CommandCtx:
    """Where a command acts (the thread) and where it answers (the thread, or the incident for the WG)."""
    rt: Any
    gh: Any                          # client of the thread's installation
    thread: Thread
    comment: Comment | None          # the command comment
    config: Any                      # merged configuration of the thread's repository
    actor: str
    key: str                         # unique per command occurrence: "<comment kind>-<comment id>:<line>"
    line_text: str = ""
    answer_gh: Any = None            # where answers go (default: the thread)
    answer_url: str | None = None
    event: Any = None                # the delivery's event (payload data)
    reply: Reply | None = None       # the comment's one reply, shared by its commands
    desk: Any = None                 # trust.Desk when typed by the working group in an incident

    @property
    def from_incident(self) -> bool:
        return self.desk is not None

    @property
    def store(self):
        return self.rt.store

    async def post_in_thread(self, kind: str, body: str, suffix: str = "") -> dict:
        return await post_comment_once(self.store, self.gh, self.thread.comments_url, f"{self.key}:{kind}{suffix}",
                                       kind, body)

    async def answer(self, kind: str, body: str) -> None:
        """Reply where the command was typed (thread comment, or the incident issue): a part of the
        comment's one reply."""
        if self.reply is not None:
            self.reply.add(body)
            return
        gh = self.answer_gh or self.gh
        url = self.answer_url or self.thread.comments_url
        await post_comment_once(self.store, gh, url, f"{self.key}:answer:{kind}", kind, body)

    async def react(self, content: str) -> None:
        """At most one reaction of each kind on a comment, whatever number of commands it holds."""
        if self.comment is None:
            return
        gh = self.answer_gh or self.gh
        key = self.reply.comment_key if self.reply is not None else self.key

        async def do():
            try:
                await gh.post(self.comment.reactions_url, data={"content": content})
            except gidgethub.BadRequest as exc:
                # An acknowledgement is a courtesy: a comment deleted meanwhile must not stop the command.
                if int(exc.status_code) not in (403, 404, 410, 422):
                    raise
                return False
            return True
        await once(self.store, f"{key}:react:{content}", do)

    async def template(self, name: str) -> str:
        """A bundled template, or the repository's own where configuration names one."""
        path = ((self.config or {}).get("templates") or {}).get(name)
        if path and self.desk is None:  # the working group reads the bundled texts
            found = await self.rt.config.file(self.gh, self.thread.owner, self.thread.repo, path)
            if found and found.get("text", "").strip():
                return found["text"]
        return bundled_template(name)

    async def render(self, name: str, **values) -> str:
        return render(await self.template(name), marker="", **values).strip()
