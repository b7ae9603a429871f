"""A stateful fake GitHub for the test suite and for `python -m app demo`.

`FakeGitHub().start()` runs a real aiohttp server on 127.0.0.1 (its own thread and event loop) that
answers like api.github.com for the operations of reference/rest-api-subset.json and for
`POST /graphql` (the mutations of graphql-subset.graphql plus a few reads). Point the bot at it with
`GITHUB_API_URL=fake.url`; GraphQL is at `fake.url + "/graphql"`.

Tests set the world up with plain methods (`add_repo`, `create_issue`, `add_comment`, ...), build
webhook payloads from that state (`event_issue_comment`, ...), and inspect what the bot did
(`comments`, `issue`, `writes()`, `violations`, `wait_for`). All state sits behind one lock, so the
test thread and the server thread may use it at the same time.

Every REST request is checked with reference/validate_request.py (GitHub's published reference data,
vendored in `reference/` with its licences; FAKEGITHUB_VALIDATOR_DIR points elsewhere); problems and
unknown routes are appended to `violations`, which tests assert to be empty. Without `jsonschema`
(a plain install running the demo) everything works the same, only unvalidated.

Modules: model (records, JSON renderers), rest (REST operations), graphql (GraphQL engine),
events (webhook payloads); `scripts/vendor-github` refreshes `reference/`.
"""
from __future__ import annotations

import asyncio
import copy
import hashlib
import importlib.util
import inspect
import json
import os
import re
import secrets
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jwt as pyjwt
from aiohttp import web

from .events import EventsMixin
from .graphql import Engine, ResolveError, load_sdl
from .model import (
    DEFAULT_APP_EVENTS,
    DEFAULT_APP_PERMISSIONS,
    LIMIT_EXPIRY_DAYS,
    LIMIT_GROUPS,
    LOCK_REASONS,
    REACTION_CONTENTS,
    ROLES,
    VISIBILITIES,
    Comment,
    Commit,
    Installation,
    Issue,
    IssueEvent,
    Label,
    Reaction,
    RenderMixin,
    Repo,
    Token,
    User,
    iso,
    node_id,
    parse_iso,
)
from .rest import COMPILED_ROUTES, Ctx, HTTPError, Resp, RestMixin, not_found

__all__ = ["FakeGitHub", "FakeGitHubError", "RecordedRequest", "find_shared_github", "load_validator"]

VALIDATOR_ENV = "FAKEGITHUB_VALIDATOR_DIR"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_ROLE_RANK = {role: i for i, role in enumerate(ROLES)}


class FakeGitHubError(Exception):
    """A setup call that GitHub would refuse (e.g. a non-collaborator commenting on a locked issue)."""


# ----------------------------------------------------------------------------- shared data discovery
REFERENCE = Path(__file__).resolve().parent / "reference"


def find_shared_github() -> Path | None:
    """The GitHub reference data (with validate_request.py): $FAKEGITHUB_VALIDATOR_DIR when set (None if it
    holds none), else the copy vendored beside this file."""
    env = os.environ.get(VALIDATOR_ENV)
    if env:
        p = Path(env)
        if p.is_file():
            p = p.parent
        return p if (p / "validate_request.py").is_file() else None
    return REFERENCE if (REFERENCE / "validate_request.py").is_file() else None


_VALIDATORS: dict[Path, Any] = {}


def load_validator(where: str | Path) -> Any:
    """Import validate_request.py from a folder (or the file itself); cached per path."""
    path = Path(where)
    if path.is_dir():
        path = path / "validate_request.py"
    path = path.resolve()
    if path not in _VALIDATORS:
        spec = importlib.util.spec_from_file_location(f"_fakegithub_validate_{len(_VALIDATORS)}", path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _VALIDATORS[path] = module
    return _VALIDATORS[path]


_KEY_LOCK = threading.Lock()
_KEY_PEM: str | None = None


_KEYS: dict[str, Any] = {}


def _load_key(pem: str) -> Any:
    """The key object for a PEM (cached: loading with its consistency checks takes ~50 ms)."""
    with _KEY_LOCK:
        if pem not in _KEYS:
            from cryptography.hazmat.primitives import serialization
            try:
                _KEYS[pem] = serialization.load_pem_private_key(pem.encode(), None,
                                                                unsafe_skip_rsa_key_validation=True)
            except TypeError:  # cryptography < 39
                _KEYS[pem] = serialization.load_pem_private_key(pem.encode(), None)
        return _KEYS[pem]


def generate_private_key_pem() -> str:
    """A 2048-bit RSA key in PEM, generated once per process (it takes a moment)."""
    global _KEY_PEM
    with _KEY_LOCK:
        if _KEY_PEM is None:
            from cryptography.hazmat.primitives import serialization
            from cryptography.hazmat.primitives.asymmetric import rsa
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _KEY_PEM = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption()).decode()
        return _KEY_PEM


# ----------------------------------------------------------------------------- records of traffic
@dataclass
class RecordedRequest:
    """One request the fake received. Unpacks as the 7-tuple (method, path, query, json, status, auth,
    installation_id)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    auth: str | None = None  # "jwt" | "token" | None
    installation_id: int | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    graphql: dict | None = None  # {"operation": "mutation"|"query"|None, "fields": [...], "invalid": bool}
    at: float = 0.0

    def __iter__(self) -> Iterator[Any]:
        return iter((self.method, self.path, self.query, self.json, self.status, self.auth, self.installation_id))

    @property
    def is_graphql(self) -> bool:
        return self.path == "/graphql"

    @property
    def is_mutation(self) -> bool:
        return bool(self.graphql and self.graphql.get("operation") == "mutation")

    @property
    def is_write(self) -> bool:
        if self.is_graphql:
            return self.is_mutation
        if self.method == "POST" and re.fullmatch(r"/app/installations/[^/]+/access_tokens", self.path):
            return False
        return self.method in WRITE_METHODS

    def __str__(self) -> str:
        extra = f" {','.join(self.graphql.get('fields', []))}" if self.graphql else ""
        return f"{self.method} {self.path}{extra} -> {self.status}"


@dataclass
class _State:
    users: dict[str, User] = field(default_factory=dict)
    installations: dict[int, Installation] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    deleted_repos: dict[str, Repo] = field(default_factory=dict)  # kept only to build `repository` deleted events
    comments: dict[int, Comment] = field(default_factory=dict)
    org_members: dict[str, dict[str, str]] = field(default_factory=dict)  # org -> login -> "admin"|"member"
    teams: dict[tuple[str, str], dict] = field(default_factory=dict)
    blocks: dict[str, dict[str, float]] = field(default_factory=dict)
    owner_limits: dict[str, dict] = field(default_factory=dict)
    nodes: dict[str, tuple] = field(default_factory=dict)
    deliveries: list[dict] = field(default_factory=list)
    redeliveries: list[int] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    failures: list[dict] = field(default_factory=list)
    delays: list[dict] = field(default_factory=list)
    rate: dict[tuple, dict] = field(default_factory=dict)
    token_requests: int = 0
    next_id: int = 1000
    clock_offset: float = 0.0


# ----------------------------------------------------------------------------- the fake
class FakeGitHub(RestMixin, EventsMixin, RenderMixin):
    """See the module docstring. Start it, use it, `reset()` it between tests, `stop()` it at the end."""

    app_slug: str = "conduct-bot"
    bot_login: str = "conduct-bot[bot]"

    def __init__(self, *, validator: Any = "auto", app_id: int = 1, token_ttl: int = 3600, examples: Any = "auto",
                 app_slug: str | None = None, app_owner: str = "coc-app-owner",
                 html_url: str = "https://github.com", private_key_pem: str | None = None,
                 enterprise: bool = False):
        self.enterprise = enterprise  # serve like GitHub Enterprise Server: REST at /api/v3, GraphQL at /api/graphql
        self.app_id = int(app_id)
        self.token_ttl = int(token_ttl)
        if app_slug:
            self.app_slug = app_slug
            self.bot_login = f"{app_slug}[bot]"
        self.app_owner = app_owner
        self.html_url = html_url.rstrip("/")
        self.private_key_pem = private_key_pem or generate_private_key_pem()
        self._private_key = _load_key(self.private_key_pem)
        self._public_key = self._private_key.public_key()
        shared = find_shared_github()
        if validator == "auto":
            try:
                self.validator = load_validator(shared) if shared else None
            except Exception:  # jsonschema missing, or a broken copy: run unvalidated
                self.validator = None
        elif validator is None or hasattr(validator, "validate_request"):
            self.validator = validator
        else:
            self.validator = load_validator(validator)
        if examples == "auto":
            self._examples_dir = shared / "webhooks" if shared and (shared / "webhooks").is_dir() else None
        else:
            self._examples_dir = Path(examples) if examples else None
        self._example_cache: dict[str, Any] = {}
        self._engine = Engine(*load_sdl(shared / "graphql-subset.graphql" if shared else None))
        self._lock = threading.RLock()
        self._st = _State()
        self._epoch = time.time()
        self.url = "http://127.0.0.1:0"
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeGitHub:
        """Start the server thread on 127.0.0.1 (random port); returns once it is listening."""
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}" + ("/api/v3" if self.enterprise else "")
        ready, failure = threading.Event(), []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            try:
                loop.run_until_complete(runner.setup())
                loop.run_until_complete(web.SockSite(runner, sock).start())
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="FakeGitHub", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            self._thread = None
            raise RuntimeError(f"FakeGitHub could not start: {failure[0]!r}")
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all state, counters, recorded requests, injected failures and violations."""
        with self._lock:
            self._st = _State()
            self._example_cache.clear()
            self._user(self.app_owner)
            bot = self._user(self.bot_login)
            bot.type = "Bot"

    # ------------------------------------------------------------------ clock and ids
    def _now(self) -> float:
        return time.time() + self._st.clock_offset

    def now(self) -> float:
        """The fake's clock (seconds since the epoch): real time plus whatever advance() added."""
        return self._now()

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward: expires tokens and interaction limits, dates new objects."""
        with self._lock:
            self._st.clock_offset += seconds

    def _next_id(self) -> int:
        self._st.next_id += 1
        return self._st.next_id

    def _sha(self) -> str:
        return hashlib.sha1(f"fake-commit-{self._next_id()}".encode()).hexdigest()

    # ------------------------------------------------------------------ users, roles, installations
    def _user(self, login: str) -> User:
        """The user record, created on first use ("...[bot]" logins are bots)."""
        key = login.lower()
        user = self._st.users.get(key)
        if user is None:
            uid = self._next_id()
            kind = "Bot" if key.endswith("[bot]") else "User"
            prefix = {"Bot": "BOT", "User": "U"}[kind]
            user = User(login=login, id=uid, node_id=node_id(prefix, kind, uid), type=kind)
            self._st.users[key] = user
            self._st.nodes[user.node_id] = ("user", key)
        return user

    def _make_org(self, login: str) -> User:
        user = self._user(login)
        if user.type != "Organization":
            self._st.nodes.pop(user.node_id, None)
            user.type = "Organization"
            user.node_id = node_id("O", "Organization", user.id)
            self._st.nodes[user.node_id] = ("user", login.lower())
        return user

    def _repo(self, full_name: str) -> Repo:
        repo = self._st.repos.get(full_name.lower())
        if repo is None:
            raise KeyError(f"FakeGitHub has no repository {full_name!r} (add_repo it first)")
        return repo

    def _person_for(self, owner_login: str) -> str:
        """Who acts for an owner when a test does not say: the user itself, else an owner (admin) of the
        organisation, else the App's owner. Never an organisation: only people act on GitHub."""
        owner = self._user(owner_login)
        if owner.type != "Organization":
            return owner.login
        admins = [login for login, role in self._st.org_members.get(owner.login.lower(), {}).items()
                  if role == "admin"]
        return self._user(admins[0]).login if admins else self.app_owner

    def _installation_for_repo(self, repo: Repo) -> Installation | None:
        for inst in sorted(self._st.installations.values(), key=lambda i: i.id):
            if inst.account.lower() == repo.owner.lower() and (inst.selection == "all"
                                                                 or repo.name.lower() in inst.selection):
                return inst
        return None

    def _role(self, repo: Repo, login: str) -> str:
        key = login.lower()
        owner = self._user(repo.owner)
        if owner.type == "User" and owner.login.lower() == key:
            return "admin"
        member_role = self._st.org_members.get(owner.login.lower(), {}).get(key) \
            if owner.type == "Organization" else None
        if member_role == "admin":
            return "admin"
        explicit = repo.permissions.get(key)
        if explicit:
            return explicit
        if member_role or not repo.private:
            return "read"
        return "none"

    def _association(self, repo: Repo, login: str, override: str | None = None) -> str:
        if override:
            return override
        key = login.lower()
        owner = self._user(repo.owner)
        if owner.login.lower() == key:
            return "OWNER"
        if owner.type == "Organization" and key in self._st.org_members.get(owner.login.lower(), {}):
            return "MEMBER"
        if key in repo.permissions:
            return "COLLABORATOR"
        return "NONE"

    def _owner_limit(self, owner: str) -> dict | None:
        limit = self._st.owner_limits.get(owner.lower())
        if limit and limit["expires_at"] <= self._now():
            del self._st.owner_limits[owner.lower()]
            limit = None
        return limit

    def _effective_limit(self, repo: Repo) -> dict | None:
        owner_limit = self._owner_limit(repo.owner)
        if owner_limit:
            origin = "organization" if self._user(repo.owner).type == "Organization" else "user"
            return {"limit": owner_limit["limit"], "origin": origin, "expires_at": iso(owner_limit["expires_at"])}
        if repo.limit and repo.limit["expires_at"] <= self._now():
            repo.limit = None
        if repo.limit:
            return {"limit": repo.limit["limit"], "origin": "repository", "expires_at": iso(repo.limit["expires_at"])}
        return None

    # ------------------------------------------------------------------ domain operations (lock held)
    def _add_event(self, issue: Issue, event: str, actor: str, *, via_app: bool = False, **extra: Any) -> None:
        eid = self._next_id()
        issue.events.append(IssueEvent(eid, node_id("E", event, eid), event, self._user(actor).login, self._now(),
                                       via_app, extra))

    def _ensure_label(self, repo: Repo, name: str, *, color: str | None = None,
                      description: str | None = None) -> Label:
        label = repo.labels.get(name.lower())
        if label is None:
            lid = self._next_id()
            label = Label(lid, node_id("LA", "Label", lid), name, color or "ededed", description)
            repo.labels[name.lower()] = label
        return label

    def _set_labels(self, issue: Issue, names: list[str], actor: str, *, via_app: bool = False) -> None:
        repo = self._st.repos[issue.repo]
        wanted: list[str] = []
        for name in names:
            label = self._ensure_label(repo, name)
            if label.name not in wanted:
                wanted.append(label.name)
        before = set(issue.labels)
        for name in issue.labels:
            if name not in wanted:
                label = repo.labels[name.lower()]
                self._add_event(issue, "unlabeled", actor, via_app=via_app,
                                label={"name": label.name, "color": label.color})
        for name in wanted:
            if name not in before:
                label = repo.labels[name.lower()]
                self._add_event(issue, "labeled", actor, via_app=via_app,
                                label={"name": label.name, "color": label.color})
        issue.labels = wanted

    def _new_issue(self, repo: Repo, *, user: str, title: str, body: str | None, labels=(), is_pr: bool = False,
                   via_app: bool = False, created_at: float | None = None, draft: bool = False, assignees=(),
                   author_association: str | None = None) -> Issue:
        now = created_at if created_at is not None else self._now()
        iid = self._next_id()
        number = repo.next_number
        repo.next_number += 1
        issue = Issue(repo=repo.full_name.lower(), number=number, id=iid, node_id=node_id("I", "Issue", iid),
                      title=title, body=body, user=self._user(user).login, created_at=now, updated_at=now,
                      via_app=via_app, author_association=author_association,
                      assignees=[self._user(a).login for a in assignees])
        if is_pr:
            issue.is_pr, issue.draft = True, draft
            issue.pr_id = self._next_id()
            issue.pr_node_id = issue.node_id = node_id("PR", "PullRequest", issue.pr_id)
            issue.head_ref = f"feature-{number}"
            issue.head_sha = self._sha()
            issue.base_sha = repo.branches.get(repo.default_branch, "0" * 40)
        repo.issues[number] = issue
        self._st.nodes[issue.node_id] = ("issue", issue.repo, number)
        if labels:
            self._set_labels(issue, list(labels), user, via_app=via_app)
        return issue

    def _new_comment(self, issue: Issue, *, user: str, body: str, via_app: bool = False,
                     created_at: float | None = None, author_association: str | None = None) -> Comment:
        now = created_at if created_at is not None else self._now()
        cid = self._next_id()
        c = Comment(kind="issue", id=cid, node_id=node_id("IC", "IssueComment", cid), repo=issue.repo,
                    number=issue.number, user=self._user(user).login, body=body, created_at=now, updated_at=now,
                    via_app=via_app, author_association=author_association)
        self._st.comments[cid] = c
        self._st.nodes[c.node_id] = ("comment", cid)
        issue.updated_at = max(issue.updated_at, now)
        return c

    def _edit_comment(self, c: Comment, body: str) -> None:
        if body != c.body:
            c.previous_bodies.append(c.body)
            c.body = body
        c.updated_at = self._now()

    def _delete_comment(self, c: Comment) -> None:
        c.deleted = True
        c.deleted_at = self._now()

    def _lock_issue(self, issue: Issue, reason: str | None, actor: str, *, via_app: bool = False) -> None:
        issue.locked = True
        issue.active_lock_reason = reason
        issue.updated_at = self._now()
        self._add_event(issue, "locked", actor, via_app=via_app, lock_reason=reason)

    def _unlock_issue(self, issue: Issue, actor: str, *, via_app: bool = False) -> None:
        issue.locked = False
        issue.active_lock_reason = None
        issue.updated_at = self._now()
        self._add_event(issue, "unlocked", actor, via_app=via_app)

    def _close(self, issue: Issue, actor: str, reason: str = "completed", *, via_app: bool = False) -> None:
        issue.state, issue.state_reason = "closed", reason
        issue.closed_at = issue.updated_at = self._now()
        issue.closed_by = self._user(actor).login
        self._add_event(issue, "closed", actor, via_app=via_app, state_reason=reason)

    def _reopen(self, issue: Issue, actor: str, *, via_app: bool = False) -> None:
        issue.state, issue.state_reason = "open", "reopened"
        issue.closed_at, issue.closed_by = None, None
        issue.updated_at = self._now()
        self._add_event(issue, "reopened", actor, via_app=via_app)

    def _new_reaction(self, user: str, content: str) -> Reaction:
        rid = self._next_id()
        return Reaction(rid, node_id("REA", "Reaction", rid), self._user(user).login, content, self._now())

    def _check_can_post(self, repo: Repo, issue: Issue | None, user: str, what: str) -> None:
        """Raise FakeGitHubError where GitHub would refuse `user` posting in `repo` (lock, block, limit)."""
        role = self._role(repo, user)
        key = user.lower()
        owner = self._user(repo.owner)
        if key in self._st.blocks.get(owner.login.lower(), {}):
            raise FakeGitHubError(f"{user} is blocked by {owner.login} and cannot {what} in {repo.full_name}")
        if issue is not None and issue.locked and _ROLE_RANK[role] < _ROLE_RANK["write"]:
            raise FakeGitHubError(f"{repo.full_name}#{issue.number} is locked: {user} (role {role}) cannot {what}")
        limit = self._effective_limit(repo)
        if limit and limit["limit"] in ("collaborators_only", "contributors_only"):
            collaborator = key in repo.permissions or role == "admin" or \
                key in self._st.org_members.get(owner.login.lower(), {})
            if not collaborator:
                raise FakeGitHubError(f"{repo.full_name} has the interaction limit {limit['limit']}: "
                                      f"{user} cannot {what}")

    # ------------------------------------------------------------------ HTTP
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        method = request.method.upper()
        path = request.raw_path.split("?", 1)[0]
        if self.enterprise:
            # GitHub Enterprise Server: REST under /api/v3, GraphQL at /api/graphql.
            if path == "/api/graphql":
                path = "/graphql"
            elif path.startswith("/api/v3/"):
                path = path[len("/api/v3"):]
            else:
                path = "/enterprise-server-has-no" + path
        query: dict[str, str] = {}
        for k, v in request.query.items():
            query.setdefault(k, v)
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            slow = self._take_delay(method, path)
            state = self._st
        if slow:
            await asyncio.sleep(slow)
        with self._lock:
            if self._st is not state:
                # A request delayed across reset() belongs to a world that no longer exists (its sender
                # was, say, a killed server): it must not leak into the next test's records.
                return web.json_response({"message": "Service Unavailable (fake reset)"}, status=503)
            resp, delay = self._dispatch(method, path, query, headers, raw)
        if delay:
            await asyncio.sleep(delay)
        return resp

    def _dispatch(self, method: str, path: str, query: dict, headers: dict, raw: bytes):
        body, body_error = None, False
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body_error = True
        rec = RecordedRequest(method, path, dict(query), body if not body_error else raw.decode("utf-8", "replace"),
                              headers=headers, at=self._now())
        self._st.requests.append(rec)
        auth, token, auth_problem = self._authenticate(headers)
        rec.auth = auth
        rec.installation_id = token.installation_id if token else None
        ctx = Ctx(method, path, query, body, headers, auth=auth, token=token if not auth_problem else None)
        label = f"{method} {path}"
        delay = 0.0
        try:
            resp, delay = self._route(ctx, rec, label, body_error, auth_problem)
        except HTTPError as exc:
            resp = Resp(exc.status, exc.json(), dict(exc.headers))
            if exc.reason:
                resp.headers["X-FakeGitHub-Reason"] = exc.reason
        except Exception:  # a bug in the fake: say so loudly
            tb = traceback.format_exc()
            self._st.violations.append(f"{label}: internal error in FakeGitHub:\n{tb}")
            resp = Resp(500, {"message": "FakeGitHub internal error", "documentation_url": "", "trace": tb})
        return self._finish(ctx, rec, resp), delay

    def _route(self, ctx: Ctx, rec: RecordedRequest, label: str, body_error: bool,
               auth_problem: str | None) -> tuple[Resp, float]:
        route = None
        is_graphql = ctx.path.rstrip("/") == "/graphql"
        if not is_graphql:
            allowed = []
            for _, method, template, rx, auth_kind, handler in COMPILED_ROUTES:
                m = rx.match(ctx.path)
                if m:
                    if method == ctx.method:
                        route = (template, auth_kind, handler, {k: unquote(v) for k, v in m.groupdict().items()})
                        break
                    allowed.append(method)
            if route is None:
                problem = (f"{ctx.method} is not defined for this path (defined: {', '.join(sorted(set(allowed)))})"
                           if allowed else "unknown route")
                extra = self._validate(ctx)
                self._st.violations.append(f"{label}: {problem}" + (f" ({'; '.join(extra)})" if extra else ""))
                injected = self._injected(ctx)
                if injected:
                    return injected
                raise HTTPError(404, "Not Found", reason=problem)
        elif ctx.method != "POST":
            self._st.violations.append(f"{label}: GraphQL takes POST")
            raise HTTPError(404, "Not Found", reason="GraphQL takes POST")
        problems = [] if is_graphql else self._validate(ctx)
        if body_error:
            problems.append("the request body is not valid JSON")
        for p in problems:
            self._st.violations.append(f"{label}: {p}")
        injected = self._injected(ctx)
        if injected:
            return injected
        if body_error:
            raise HTTPError(400, "Problems parsing JSON")
        if problems:
            if any("path parameter" in p for p in problems):
                raise not_found("; ".join(problems))
            raise HTTPError(422, "Invalid request.\n\n" + "\n".join(problems), reason="request validation failed")
        if is_graphql:
            return self._graphql(ctx, rec, auth_problem), 0.0
        template, auth_kind, handler, params = route
        ctx.params = params
        self._require_auth(ctx, auth_kind, auth_problem)
        return getattr(self, handler)(ctx), 0.0

    def _validate(self, ctx: Ctx) -> list[str]:
        if self.validator is None:
            return []
        try:
            return list(self.validator.validate_request(ctx.method, ctx.path, ctx.body))
        except Exception as exc:  # a validator crash must not take the fake down
            return [f"validate_request raised {exc!r}"]

    def _injected(self, ctx: Ctx) -> tuple[Resp, float] | None:
        for rule in self._st.failures:
            if rule["times"] <= 0:
                continue
            if rule["method"] not in ("*", ctx.method) or not re.search(rule["path"], ctx.path):
                continue
            rule["times"] -= 1
            body = rule["body"]
            headers = dict(rule["headers"] or {})
            if body is None:
                retry = any(k.lower() == "retry-after" for k in headers)
                if rule["status"] == 429 or (rule["status"] == 403 and retry):
                    message = ("You have exceeded a secondary rate limit. "
                               "Please wait a few minutes before you try again.")
                elif rule["status"] == 403 and str(headers.get("x-ratelimit-remaining", headers.get(
                        "X-RateLimit-Remaining", ""))) == "0":
                    message = "API rate limit exceeded for installation."
                else:
                    message = HTTPError(rule["status"]).json()["message"]
                body = {"message": message, "documentation_url": "https://docs.github.com/rest",
                        "status": str(rule["status"])}
            resp = Resp(rule["status"], body, headers)
            resp.headers["X-FakeGitHub-Reason"] = "injected by fail_next"
            return resp, rule["delay"]
        return None

    def _take_delay(self, method: str, path: str) -> float:
        for rule in self._st.delays:
            if rule["times"] > 0 and rule["method"] in ("*", method) and re.search(rule["path"], path):
                rule["times"] -= 1
                return rule["seconds"]
        return 0.0

    def _authenticate(self, headers: dict) -> tuple[str | None, Token | None, str | None]:
        value = headers.get("authorization", "").strip()
        if not value:
            return None, None, "Requires authentication"
        scheme, _, cred = value.partition(" ")
        scheme, cred = scheme.lower(), cred.strip()
        if scheme not in ("token", "bearer") or not cred:
            return None, None, "Bad credentials"
        if cred.count(".") == 2 and cred.startswith("eyJ"):
            return "jwt", None, self._check_jwt(cred) if scheme == "bearer" else "A JSON web token could not be decoded"
        token = self._st.tokens.get(cred)
        if token is None:
            return "token", None, "Bad credentials"
        if self._now() >= token.expires_at or token.installation_id not in self._st.installations:
            return "token", token, "Bad credentials"
        return "token", token, None

    def _check_jwt(self, cred: str) -> str | None:
        try:
            claims = pyjwt.decode(cred, self._public_key, algorithms=["RS256"],
                                  options={"require": ["exp", "iat", "iss"], "verify_exp": False, "verify_iat": False})
        except pyjwt.PyJWTError:
            return "A JSON web token could not be decoded"
        if str(claims.get("iss")) != str(self.app_id):
            return "A JSON web token could not be decoded"
        now = time.time()  # the bot signs with the real clock, whatever advance() did
        try:
            exp, iat = float(claims["exp"]), float(claims["iat"])
        except (TypeError, ValueError):
            return "A JSON web token could not be decoded"
        if exp < now - 30:
            return ("'Expiration time' claim ('exp') must be a numeric value representing the future time at "
                    "which the assertion expires")
        if exp - now > 660:
            return "'Expiration time' claim ('exp') is too far in the future"
        if iat > now + 60:
            return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
        return None

    def _require_auth(self, ctx: Ctx, kind: str, problem: str | None) -> None:
        if kind in ("none", "any"):
            return
        if kind == "jwt":
            if ctx.auth == "jwt" and not problem:
                return
            message = problem if ctx.auth == "jwt" else (
                "A JSON web token could not be decoded" if ctx.auth == "token" else "Bad credentials")
            raise HTTPError(401, message, reason="this endpoint needs the App's JWT (Authorization: Bearer <jwt>)")
        if ctx.auth == "token" and ctx.token is not None:
            return
        reason = ("an App JWT cannot be used here: use an installation token" if ctx.auth == "jwt" and not problem
                  else f"missing or invalid installation token ({problem})")
        raise HTTPError(401, "Bad credentials", reason=reason)

    # -- rate limits
    def _rate_identity(self, ctx: Ctx) -> tuple:
        if ctx.token is not None:
            return ("installation", ctx.token.installation_id)
        if ctx.auth == "jwt":
            return ("app", self.app_id)
        return ("anonymous",)

    def _rate_bucket(self, ctx: Ctx, resource: str) -> dict:
        ident = self._rate_identity(ctx)
        key = (*ident, resource)
        bucket = self._st.rate.get(key)
        now = self._now()
        if bucket is None or now >= bucket["reset"]:
            limit = {"search": 30, "graphql": 5000}.get(resource, 60 if ident[0] == "anonymous" else 5000)
            bucket = {"limit": limit, "used": 0, "reset": int(now) + 3600}
            self._st.rate[key] = bucket
        return bucket

    def _rate_state(self, ctx: Ctx, resource: str) -> dict:
        b = self._rate_bucket(ctx, resource)
        return {"limit": b["limit"], "remaining": max(0, b["limit"] - b["used"]), "reset": b["reset"],
                "used": b["used"]}

    def _finish(self, ctx: Ctx, rec: RecordedRequest, resp: Resp) -> web.Response:
        resource = "search" if ctx.path.startswith("/search/") else "graphql" if ctx.path == "/graphql" else "core"
        bucket = self._rate_bucket(ctx, resource)
        body_bytes = b""
        headers = {"X-GitHub-Media-Type": "github.v3; format=json",
                   "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
                   "X-GitHub-Api-Version-Selected": "2022-11-28"}
        if resp.text is not None:
            body_bytes = resp.text.encode()
            headers["Content-Type"] = "text/plain; charset=utf-8"
        elif resp.status not in (204, 304) and resp.json is not None:
            body_bytes = json.dumps(resp.json).encode()
            headers["Content-Type"] = "application/json; charset=utf-8"
        status = resp.status
        if ctx.method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha256(body_bytes).hexdigest()[:40] + '"'
            headers["ETag"] = etag
            wanted = [t.strip().removeprefix("W/") for t in ctx.headers.get("if-none-match", "").split(",")]
            if etag.removeprefix("W/") in wanted or "*" in wanted:
                status, body_bytes = 304, b""
                headers.pop("Content-Type", None)
        counted = status != 304 and ctx.path != "/rate_limit" and status != 401
        if counted:
            bucket["used"] += 1
        headers.update({"X-RateLimit-Limit": str(bucket["limit"]),
                        "X-RateLimit-Remaining": str(max(0, bucket["limit"] - bucket["used"])),
                        "X-RateLimit-Used": str(bucket["used"]), "X-RateLimit-Reset": str(bucket["reset"]),
                        "X-RateLimit-Resource": resource})
        for k, v in resp.headers.items():
            for existing in [h for h in headers if h.lower() == k.lower()]:
                del headers[existing]
            headers[k] = str(v)
        rec.status = status
        if status in (204, 304):
            return web.Response(status=status, headers=headers)
        return web.Response(status=status, body=body_bytes, headers=headers)

    # ------------------------------------------------------------------ GraphQL
    def _graphql(self, ctx: Ctx, rec: RecordedRequest, auth_problem: str | None) -> Resp:
        if ctx.auth != "token" or ctx.token is None:
            message = "This endpoint requires you to be authenticated." if ctx.auth is None else "Bad credentials"
            raise HTTPError(401, message, reason="GraphQL needs an installation token",
                            body={"message": message,
                                  "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"})
        body = ctx.body if isinstance(ctx.body, dict) else {}
        response, info = self._engine.run(body.get("query"), body.get("variables"), body.get("operationName"),
                                          lambda op, name, args: self._gql_root(ctx, op, name, args))
        rec.graphql = info
        if info["invalid"]:
            messages = "; ".join(e.get("message", "") for e in response.get("errors", []))
            self._st.violations.append(f"POST /graphql: invalid GraphQL request: {messages}")
        return Resp(200, response)

    def _gql_find(self, ctx: Ctx, nid: Any) -> tuple[str, Any]:
        entry = self._st.nodes.get(str(nid)) if nid is not None else None
        missing = ResolveError("NOT_FOUND", f"Could not resolve to a node with the global id of '{nid}'")
        if entry is None:
            raise missing
        kind = entry[0]
        if kind == "user":
            return "user", self._st.users[entry[1]]
        if kind == "issue":
            repo = self._st.repos[entry[1]]
            if not self._token_reaches(ctx.token, repo):
                raise missing
            return "issue", repo.issues[entry[2]]
        if kind == "comment":
            c = self._st.comments[entry[1]]
            if c.deleted or not self._token_reaches(ctx.token, self._st.repos[c.repo]):
                raise missing
            return "comment", c
        if kind == "repo":
            repo = self._st.repos[entry[1]]
            if not self._token_reaches(ctx.token, repo):
                raise missing
            return "repo", repo
        raise missing

    def _gql_actor(self, login: str) -> dict:
        u = self._user(login)
        return {"__typename": u.type, "id": u.node_id, "databaseId": u.id,
                "login": u.login[:-5] if u.type == "Bot" and u.login.endswith("[bot]") else u.login,
                "url": self._r_user(u.login)["html_url"], "avatarUrl": self._r_user(u.login)["avatar_url"]}

    def _gql_repo(self, ctx: Ctx, repo: Repo) -> dict:
        def issue_by_number(kind: str):
            def resolve(number: int, **_: Any) -> dict:
                issue = repo.issues.get(int(number))
                if issue is None or (kind == "Issue" and issue.is_pr) or (kind == "PullRequest" and not issue.is_pr):
                    article = "an" if kind[0] in "AEIOU" else "a"
                    raise ResolveError("NOT_FOUND",
                                       f"Could not resolve to {article} {kind} with the number of {number}.")
                return self._gql_issue(ctx, issue)
            return resolve

        return {"__typename": "Repository", "id": repo.node_id, "databaseId": repo.id, "name": repo.name,
                "nameWithOwner": repo.full_name, "isPrivate": repo.private, "visibility": repo.visibility.upper(),
                "url": f"{self.html_url}/{repo.full_name}", "issue": issue_by_number("Issue"),
                "pullRequest": issue_by_number("PullRequest"),
                "issueOrPullRequest": issue_by_number("IssueOrPullRequest")}

    def _gql_issue(self, ctx: Ctx, issue: Issue) -> dict:
        repo = self._st.repos[issue.repo]
        reason = issue.active_lock_reason.upper().replace(" ", "_").replace("-", "_") if issue.active_lock_reason \
            else None
        return {"__typename": "PullRequest" if issue.is_pr else "Issue", "id": issue.node_id,
                "databaseId": issue.id, "number": issue.number, "title": issue.title, "body": issue.body or "",
                "url": self._issue_html(issue), "locked": issue.locked, "activeLockReason": reason,
                "closed": issue.state == "closed", "state": issue.state.upper(),
                "stateReason": issue.state_reason.upper() if issue.state_reason else None,
                "author": lambda **_: self._gql_actor(issue.user), "createdAt": iso(issue.created_at),
                "updatedAt": iso(issue.updated_at), "repository": lambda **_: self._gql_repo(ctx, repo),
                "viewerCanUpdate": True, "isDraft": issue.draft, "merged": False}

    def _gql_comment(self, ctx: Ctx, c: Comment) -> dict:
        repo = self._st.repos[c.repo]
        issue = repo.issues[c.number]
        rendered = self._r_comment(c)
        obj = {"__typename": "IssueComment" if c.kind == "issue" else "PullRequestReviewComment",
               "id": c.node_id, "databaseId": c.id, "body": c.body, "url": rendered["html_url"],
               "isMinimized": c.minimized, "minimizedReason": c.minimized_reason, "viewerCanMinimize": True,
               "author": lambda **_: self._gql_actor(c.user), "createdAt": iso(c.created_at),
               "updatedAt": iso(c.updated_at), "repository": lambda **_: self._gql_repo(ctx, repo),
               "viewerCanUpdate": True, "viewerCanDelete": True, "path": c.path}
        obj["issue" if c.kind == "issue" else "pullRequest"] = lambda **_: self._gql_issue(ctx, issue)
        return obj

    def _gql_node(self, ctx: Ctx, nid: Any) -> dict:
        kind, record = self._gql_find(ctx, nid)
        if kind == "issue":
            return self._gql_issue(ctx, record)
        if kind == "comment":
            return self._gql_comment(ctx, record)
        if kind == "repo":
            return self._gql_repo(ctx, record)
        return self._gql_actor(record.login)

    def _gql_root(self, ctx: Ctx, op: str, name: str, args: dict) -> Any:
        if op == "query":
            if name == "node":
                return self._gql_node(ctx, args.get("id"))
            if name == "nodes":
                out = []
                for nid in args.get("ids") or []:
                    try:
                        out.append(self._gql_node(ctx, nid))
                    except ResolveError:
                        out.append(None)
                return out
            if name == "repository":
                repo = self._st.repos.get(f"{args.get('owner')}/{args.get('name')}".lower())
                if repo is None or not self._token_reaches(ctx.token, repo):
                    raise ResolveError("NOT_FOUND", f"Could not resolve to a Repository with the name "
                                                    f"'{args.get('owner')}/{args.get('name')}'.")
                return self._gql_repo(ctx, repo)
            if name == "rateLimit":
                b = self._rate_state(ctx, "graphql")
                return {"__typename": "RateLimit", "cost": 1, "limit": b["limit"], "nodeCount": 1,
                        "remaining": b["remaining"], "resetAt": iso(b["reset"]), "used": b["used"]}
            raise ResolveError("NOT_FOUND", f"Field '{name}' is not implemented by FakeGitHub")
        inp = args.get("input") or {}
        client_id = inp.get("clientMutationId")
        actor = self._gql_actor(self.bot_login)
        if name in ("minimizeComment", "unminimizeComment"):
            kind, c = self._gql_find(ctx, inp.get("subjectId"))
            if kind != "comment":
                raise ResolveError("UNPROCESSABLE", f"Could not resolve to a Minimizable node with the global id of "
                                                    f"'{inp.get('subjectId')}'")
            if name == "minimizeComment":
                c.minimized, c.classifier = True, inp["classifier"]
                c.minimized_reason = inp["classifier"].lower().replace("_", "-")
                return {"__typename": "MinimizeCommentPayload", "clientMutationId": client_id,
                        "minimizedComment": self._gql_comment(ctx, c)}
            c.minimized, c.classifier, c.minimized_reason = False, None, None
            return {"__typename": "UnminimizeCommentPayload", "clientMutationId": client_id,
                    "unminimizedComment": self._gql_comment(ctx, c)}
        if name in ("lockLockable", "unlockLockable"):
            kind, issue = self._gql_find(ctx, inp.get("lockableId"))
            if kind != "issue":
                raise ResolveError("UNPROCESSABLE", f"Could not resolve to a Lockable node with the global id of "
                                                    f"'{inp.get('lockableId')}'")
            if name == "lockLockable":
                reason = inp.get("lockReason")
                self._lock_issue(issue, reason.lower().replace("_", " " if reason == "TOO_HEATED" else "-")
                           if reason else None, self.bot_login, via_app=True)
                return {"__typename": "LockLockablePayload", "actor": actor, "clientMutationId": client_id,
                        "lockedRecord": self._gql_issue(ctx, issue)}
            self._unlock_issue(issue, self.bot_login, via_app=True)
            return {"__typename": "UnlockLockablePayload", "actor": actor, "clientMutationId": client_id,
                    "unlockedRecord": self._gql_issue(ctx, issue)}
        if name == "addComment":
            kind, issue = self._gql_find(ctx, inp.get("subjectId"))
            if kind != "issue":
                raise ResolveError("UNPROCESSABLE", f"Could not resolve to a node that accepts comments with the "
                                                    f"global id of '{inp.get('subjectId')}'")
            c = self._new_comment(issue, user=self.bot_login, body=inp["body"], via_app=True)
            node = self._gql_comment(ctx, c)
            cursor = f"Y3Vyc29yOnYyOpHO{c.id}"
            return {"__typename": "AddCommentPayload", "clientMutationId": client_id,
                    "commentEdge": {"__typename": "IssueCommentEdge", "cursor": cursor, "node": node},
                    "subject": self._gql_issue(ctx, issue),
                    "timelineEdge": {"__typename": "IssueTimelineItemEdge", "cursor": cursor, "node": node}}
        raise ResolveError("NOT_FOUND", f"Field '{name}' is not implemented by FakeGitHub")

    # ------------------------------------------------------------------ setup API
    def add_installation(self, account: str, *, account_type: str = "Organization",
                         repositories: str | list[str] = "all", permissions: dict | None = None,
                         events: list[str] | None = None) -> int:
        """Install the App on an account ("all" repositories or a list of names); returns the installation id."""
        if account_type not in ("Organization", "User"):
            raise ValueError("account_type must be 'Organization' or 'User'")
        with self._lock:
            user = self._make_org(account) if account_type == "Organization" else self._user(account)
            selection: str | list[str] = "all" if repositories == "all" else \
                [r.split("/")[-1].lower() for r in repositories]
            iid = self._next_id()
            self._st.installations[iid] = Installation(iid, user.login, account_type, selection, self._now(),
                                                       dict(permissions or DEFAULT_APP_PERMISSIONS),
                                                       list(events or DEFAULT_APP_EVENTS))
            return iid

    def installation_for(self, full_name_or_account: str) -> int | None:
        """The id of the installation reaching this repository (or installed on this account)."""
        with self._lock:
            if "/" in full_name_or_account:
                inst = self._installation_for_repo(self._repo(full_name_or_account))
                return inst.id if inst else None
            for inst in sorted(self._st.installations.values(), key=lambda i: i.id):
                if inst.account.lower() == full_name_or_account.lower():
                    return inst.id
            return None

    def suspend_installation(self, installation_id: int, suspended: bool = True) -> None:
        with self._lock:
            self._st.installations[installation_id].suspended_at = self._now() if suspended else None

    def remove_installation(self, installation_id: int) -> None:
        """Uninstall: its tokens stop working."""
        with self._lock:
            self._st.installations.pop(installation_id, None)

    def add_repo(self, full_name: str, *, private: bool | None = None, visibility: str | None = None,
                 default_branch: str = "main", installation_id: int | None = None,
                 files: dict[str, str] | None = None, description: str | None = None,
                 installed: bool = True) -> dict:
        """Create a repository. The App reaches it through `installation_id` (added to that installation's
        selection), else through an existing installation on the owner, else (installed=True) through a new
        "all repositories" installation on the owner, created here. New owners are organisations unless
        set_user(owner) said otherwise.

        visibility: "public" (default), "private" or "internal" (GitHub Enterprise: `private` is true in its
        JSON, `visibility` says "internal"); `private=True` alone means "private"."""
        visibility = _visibility(private, visibility)
        owner_login, _, name = full_name.partition("/")
        if not owner_login or not name or "/" in name:
            raise ValueError(f"not an owner/name: {full_name!r}")
        with self._lock:
            if full_name.lower() in self._st.repos:
                raise ValueError(f"repository {full_name} already exists")
            owner = self._st.users.get(owner_login.lower()) or self._make_org(owner_login)
            rid = self._next_id()
            now = self._now()
            repo = Repo(id=rid, node_id=node_id("R", "Repository", rid), owner=owner.login, name=name,
                        visibility=visibility, default_branch=default_branch, created_at=now, updated_at=now,
                        pushed_at=now, description=description)
            sha = self._sha()
            repo.commits[sha] = Commit(sha, "0" * 40, dict(files or {}), "Initial commit", now,
                                       added=sorted(files or {}))
            repo.branches[default_branch] = sha
            self._st.repos[full_name.lower()] = repo
            self._st.nodes[repo.node_id] = ("repo", full_name.lower())
            if installation_id is not None:
                inst = self._st.installations[installation_id]
                if inst.account.lower() != owner.login.lower():
                    raise ValueError(f"installation {installation_id} is on {inst.account}, not {owner.login}")
                if inst.selection != "all" and name.lower() not in inst.selection:
                    inst.selection.append(name.lower())
            elif installed and not any(i.account.lower() == owner.login.lower()
                                       for i in self._st.installations.values()):
                self.add_installation(owner.login, account_type="Organization" if owner.type == "Organization"
                                      else "User")
            return self.repo(full_name)

    def set_repo(self, full_name: str, *, private: bool | None = None, visibility: str | None = None,
                 default_branch: str | None = None, description: str | None = ..., homepage: str | None = ...,
                 archived: bool | None = None, user: str | None = None) -> dict:
        """Change a repository's visibility, default branch, description, homepage or archived state, as `user`
        (default: an owner of the organisation) would in its settings.

        Like every setup call this sends nothing: build the webhook with event_repository("publicized" /
        "privatized" / "edited" / "archived" / "unarchived", ...) and deliver it when the test wants it.
        `private=True` makes a public repository private (an internal one stays internal); `private=False`
        makes it public."""
        with self._lock:
            repo = self._repo(full_name)
            actor = self._user(user).login if user else self._person_for(repo.owner)
            if visibility is None and private is not None:
                visibility = ("internal" if repo.visibility == "internal" else "private") if private else "public"
            if visibility is not None:
                if visibility not in VISIBILITIES:
                    raise ValueError(f"visibility must be one of {VISIBILITIES}")
                if private is not None and private != (visibility != "public"):
                    raise ValueError(f"private={private} contradicts visibility={visibility!r}")
                if visibility != repo.visibility:
                    if visibility == "public":
                        repo.actors["publicized"] = actor
                    elif repo.visibility == "public":
                        repo.actors["privatized"] = actor
                    repo.visibility = visibility
            changes: dict = {}
            if default_branch is not None and default_branch != repo.default_branch:
                changes["default_branch"] = {"from": repo.default_branch}
                repo.branches.setdefault(default_branch, repo.branches[repo.default_branch])
                repo.default_branch = default_branch
            if description is not ... and description != repo.description:
                changes["description"] = {"from": repo.description}
                repo.description = description
            if homepage is not ... and homepage != repo.homepage:
                changes["homepage"] = {"from": repo.homepage}
                repo.homepage = homepage
            if changes:
                repo.last_changes = changes
                repo.actors["edited"] = actor
            if archived is not None and archived != repo.archived:
                repo.archived = archived
                repo.actors["archived" if archived else "unarchived"] = actor
            repo.updated_at = self._now()
            return self.repo(full_name)

    def rename_repo(self, full_name: str, new_name: str, *, user: str | None = None) -> dict:
        """Rename a repository (its issues, comments and installation follow it); returns it under the new name.
        event_repository("renamed", NEW_FULL_NAME) then carries the old name in `changes`."""
        with self._lock:
            repo = self._repo(full_name)
            if not new_name or "/" in new_name:
                raise ValueError(f"not a repository name: {new_name!r}")
            old_name = repo.name
            inst = self._installation_for_repo(repo)
            self._rekey_repo(repo, repo.owner, new_name)
            if inst is not None and inst.selection != "all":
                inst.selection = [new_name.lower() if n == old_name.lower() else n for n in inst.selection]
            repo.previous_names.append(old_name)
            repo.actors["renamed"] = self._user(user).login if user else self._person_for(repo.owner)
            return self.repo(repo.full_name)

    def transfer_repo(self, full_name: str, new_owner: str, *, user: str | None = None) -> dict:
        """Move a repository to another owner (an organisation unless set_user said otherwise). The App then
        reaches it only through an "all repositories" installation on the new owner, as on GitHub.
        event_repository("transferred", NEW_FULL_NAME) carries the previous owner in `changes`."""
        with self._lock:
            repo = self._repo(full_name)
            owner = self._st.users.get(new_owner.lower()) or self._make_org(new_owner)
            old_owner = repo.owner
            old_inst = self._installation_for_repo(repo)
            actor = self._user(user).login if user else self._person_for(old_owner)
            self._rekey_repo(repo, owner.login, repo.name)
            if old_inst is not None and old_inst.selection != "all":
                old_inst.selection = [n for n in old_inst.selection if n != repo.name.lower()]
            repo.previous_owners.append(old_owner)
            repo.actors["transferred"] = actor
            return self.repo(repo.full_name)

    def delete_repo(self, full_name: str, *, user: str | None = None) -> None:
        """Delete a repository: GitHub answers 404 for it from now on; event_repository("deleted", full_name)
        can still describe it."""
        with self._lock:
            repo = self._repo(full_name)
            key = repo.full_name.lower()
            repo.actors["deleted"] = self._user(user).login if user else self._person_for(repo.owner)
            del self._st.repos[key]
            self._st.deleted_repos[key] = repo
            self._st.nodes.pop(repo.node_id, None)
            for issue in repo.issues.values():
                self._st.nodes.pop(issue.node_id, None)
            for cid in [cid for cid, c in self._st.comments.items() if c.repo == key]:
                self._st.nodes.pop(self._st.comments.pop(cid).node_id, None)

    def _rekey_repo(self, repo: Repo, owner: str, name: str) -> None:
        """Give a repository a new owner/name everywhere the state refers to it."""
        old, new = repo.full_name.lower(), f"{owner}/{name}".lower()
        if new != old and new in self._st.repos:
            raise ValueError(f"repository {owner}/{name} already exists")
        del self._st.repos[old]
        repo.owner, repo.name = owner, name
        self._st.repos[new] = repo
        self._st.deleted_repos.pop(new, None)
        self._st.nodes[repo.node_id] = ("repo", new)
        for issue in repo.issues.values():
            issue.repo = new
            self._st.nodes[issue.node_id] = ("issue", new, issue.number)
        for c in self._st.comments.values():
            if c.repo == old:
                c.repo = new
        for token in self._st.tokens.values():
            if token.repositories and old in token.repositories:
                token.repositories = (token.repositories - {old}) | {new}
        repo.updated_at = self._now()

    def set_file(self, full_name: str, path: str, text: str | None, *, branch: str | None = None,
                 message: str | None = None) -> str:
        """Commit a file (None deletes it) on the default branch (or `branch`); returns the new commit sha."""
        with self._lock:
            repo = self._repo(full_name)
            branch = branch or repo.default_branch
            parent = repo.branches.get(branch) or repo.branches[repo.default_branch]
            files = dict(repo.commits[parent].files)
            path = path.strip("/")
            added, removed, modified = [], [], []
            if text is None:
                if path in files:
                    del files[path]
                    removed.append(path)
            else:
                (modified if path in files else added).append(path)
                files[path] = text
            sha = self._sha()
            repo.commits[sha] = Commit(sha, parent, files, message or f"Update {path}", self._now(), added, removed,
                                       modified)
            repo.branches[branch] = sha
            repo.pushed_at = self._now()
            return sha

    def set_permission(self, full_name: str, login: str, role_name: str | None) -> None:
        """Make `login` a collaborator with this role (read|triage|write|maintain|admin); None/"none" removes."""
        if role_name not in (None, *ROLES):
            raise ValueError(f"role_name must be one of {ROLES}")
        with self._lock:
            repo = self._repo(full_name)
            user = self._user(login)
            if role_name in (None, "none"):
                repo.permissions.pop(user.login.lower(), None)
            else:
                repo.permissions[user.login.lower()] = role_name

    def add_org_member(self, org: str, login: str, role: str = "member") -> None:
        """Make `login` a member ("member") or an owner ("admin") of the organisation."""
        if role not in ("member", "admin"):
            raise ValueError("role must be 'member' or 'admin'")
        with self._lock:
            self._make_org(org)
            user = self._user(login)
            self._st.org_members.setdefault(org.lower(), {})[user.login.lower()] = role

    def remove_org_member(self, org: str, login: str) -> None:
        with self._lock:
            self._st.org_members.get(org.lower(), {}).pop(login.lower(), None)

    def add_team_member(self, org: str, team_slug: str, login: str, role: str = "member") -> None:
        """Add `login` to a team of the organisation ("member" or "maintainer"); creates the team."""
        with self._lock:
            org_user = self._make_org(org)
            team = self._st.teams.setdefault((org.lower(), team_slug.lower()), {
                "id": self._next_id(), "org_id": org_user.id, "slug": team_slug, "members": {}})
            team["members"][self._user(login).login.lower()] = role

    def set_user(self, login: str, *, type: str = "User", site_admin: bool = False) -> dict:  # noqa: A002
        """Create or change a user ("User", "Bot" or "Organization"); users are also created on first use."""
        if type not in ("User", "Bot", "Organization"):
            raise ValueError("type must be User, Bot or Organization")
        with self._lock:
            user = self._make_org(login) if type == "Organization" else self._user(login)
            if type != "Organization" and user.type != type:
                self._st.nodes.pop(user.node_id, None)
                user.type = type
                user.node_id = node_id("BOT" if type == "Bot" else "U", type, user.id)
                self._st.nodes[user.node_id] = ("user", login.lower())
            user.site_admin = site_admin
            return self._r_user(login)

    def create_issue(self, full_name: str, *, user: str, title: str = "An issue", body: str | None = "",
                     pull_request: bool = False, labels=(), created_at: float | str | None = None,
                     draft: bool = False, author_association: str | None = None, force: bool = False) -> dict:
        """Open an issue (or a pull request) as `user`; returns it as GitHub's issue JSON."""
        with self._lock:
            repo = self._repo(full_name)
            if not force:
                self._check_can_post(repo, None, user, "open issues")
            issue = self._new_issue(repo, user=user, title=title, body=body, labels=labels, is_pr=pull_request,
                                    created_at=_ts(created_at), draft=draft, author_association=author_association)
            return self.issue(full_name, issue.number)

    def add_comment(self, full_name: str, number: int, *, user: str, body: str,
                    created_at: float | str | None = None, author_association: str | None = None,
                    force: bool = False) -> dict:
        """A conversation comment on an issue or pull request. Raises FakeGitHubError where GitHub would refuse
        it (locked thread and no write access, blocked user, interaction limit); force=True posts anyway."""
        with self._lock:
            repo = self._repo(full_name)
            issue = repo.issues[number]
            if not force:
                self._check_can_post(repo, issue, user, "comment")
            c = self._new_comment(issue, user=user, body=body, created_at=_ts(created_at),
                                  author_association=author_association)
            return self._inspect_comment(c)

    def add_review_comment(self, full_name: str, pr_number: int, *, user: str, body: str, path: str = "README.md",
                           line: int = 1, in_reply_to: int | None = None, created_at: float | str | None = None,
                           force: bool = False) -> dict:
        """A pull request review (diff) comment."""
        with self._lock:
            repo = self._repo(full_name)
            issue = repo.issues[pr_number]
            if not issue.is_pr:
                raise ValueError(f"{full_name}#{pr_number} is not a pull request")
            if not force:
                self._check_can_post(repo, issue, user, "comment")
            now = _ts(created_at) or self._now()
            cid = self._next_id()
            c = Comment(kind="review", id=cid, node_id=node_id("PRRC", "PullRequestReviewComment", cid),
                        repo=issue.repo, number=pr_number, user=self._user(user).login, body=body, created_at=now,
                        updated_at=now, path=path, line=line, commit_id=issue.head_sha, review_id=self._next_id(),
                        in_reply_to_id=in_reply_to)
            self._st.comments[cid] = c
            self._st.nodes[c.node_id] = ("comment", cid)
            issue.updated_at = max(issue.updated_at, now)
            return self._inspect_comment(c)

    def edit_comment(self, comment_id: int, body: str) -> dict:
        """Edit a comment (as its author would); event_*_comment("edited", ...) then carries the old body."""
        with self._lock:
            c = self._st.comments[comment_id]
            self._edit_comment(c, body)
            return self._inspect_comment(c)

    def delete_comment(self, comment_id: int) -> None:
        with self._lock:
            self._delete_comment(self._st.comments[comment_id])

    def edit_issue(self, full_name: str, number: int, *, title: str | None = None, body: str | None = None,
                   user: str | None = None) -> dict:
        with self._lock:
            issue = self._repo(full_name).issues[number]
            if title is not None and title != issue.title:
                self._add_event(issue, "renamed", user or issue.user, rename={"from": issue.title, "to": title})
                issue.previous_titles.append(issue.title)
                issue.title = title
            if body is not None and body != issue.body:
                issue.previous_bodies.append(issue.body)
                issue.body = body
            issue.updated_at = self._now()
            return self.issue(full_name, number)

    def close_issue(self, full_name: str, number: int, *, user: str | None = None,
                    reason: str = "completed") -> dict:
        with self._lock:
            issue = self._repo(full_name).issues[number]
            self._close(issue, user or issue.user, reason)
            return self.issue(full_name, number)

    def reopen_issue(self, full_name: str, number: int, *, user: str | None = None) -> dict:
        with self._lock:
            issue = self._repo(full_name).issues[number]
            self._reopen(issue, user or issue.user)
            return self.issue(full_name, number)

    def lock_issue(self, full_name: str, number: int, reason: str | None = None, *, user: str | None = None) -> dict:
        """Lock as a maintainer would in the web UI (reason: off-topic, too heated, resolved, spam or None);
        event_issues("locked", ...) / event_pull_request("locked", ...) then name `user` as the sender
        (default: an owner of the organisation, or the owning user)."""
        if reason not in (None, *LOCK_REASONS):
            raise ValueError(f"lock reason must be one of {LOCK_REASONS}")
        with self._lock:
            repo = self._repo(full_name)
            self._lock_issue(repo.issues[number], reason, user or self._person_for(repo.owner))
            return self.issue(full_name, number)

    def unlock_issue(self, full_name: str, number: int, *, user: str | None = None) -> dict:
        """Unlock as a maintainer would in the web UI; event_issues("unlocked", ...) then names `user` as sender."""
        with self._lock:
            repo = self._repo(full_name)
            self._unlock_issue(repo.issues[number], user or self._person_for(repo.owner))
            return self.issue(full_name, number)

    def add_labels(self, full_name: str, number: int, *labels: str, user: str | None = None) -> dict:
        with self._lock:
            issue = self._repo(full_name).issues[number]
            self._set_labels(issue, issue.labels + list(labels), user or self._repo(full_name).owner)
            return self.issue(full_name, number)

    def remove_label(self, full_name: str, number: int, label: str, *, user: str | None = None) -> dict:
        with self._lock:
            issue = self._repo(full_name).issues[number]
            self._set_labels(issue, [n for n in issue.labels if n.lower() != label.lower()],
                             user or self._repo(full_name).owner)
            return self.issue(full_name, number)

    def create_label(self, full_name: str, name: str, *, color: str = "ededed", description: str | None = None) -> dict:
        with self._lock:
            repo = self._repo(full_name)
            self._ensure_label(repo, name, color=color, description=description)
            return self._r_label(repo, name)

    def add_reaction(self, comment_id: int, *, user: str, content: str) -> None:
        """A reaction by `user` on an issue comment or review comment."""
        if content not in REACTION_CONTENTS:
            raise ValueError(f"content must be one of {REACTION_CONTENTS}")
        with self._lock:
            c = self._st.comments[comment_id]
            if not any(r.user.lower() == user.lower() and r.content == content for r in c.reactions):
                c.reactions.append(self._new_reaction(user, content))

    def set_interaction_limit(self, owner_or_repo: str, limit: str | None, *, expiry: str = "one_day",
                              expires_at: float | str | None = None) -> None:
        """Set (or with limit=None remove) an interaction limit on an owner ("acme") or a repository
        ("acme/widgets"). An owner-level limit makes repository PUT/DELETE answer 409."""
        if limit is not None and limit not in LIMIT_GROUPS:
            raise ValueError(f"limit must be one of {LIMIT_GROUPS}")
        if expiry not in LIMIT_EXPIRY_DAYS:
            raise ValueError(f"expiry must be one of {tuple(LIMIT_EXPIRY_DAYS)}")
        with self._lock:
            until = _ts(expires_at) or self._now() + LIMIT_EXPIRY_DAYS[expiry] * 86400
            value = {"limit": limit, "expires_at": until} if limit else None
            if "/" in owner_or_repo:
                self._repo(owner_or_repo).limit = value
            elif value:
                self._user(owner_or_repo)
                self._st.owner_limits[owner_or_repo.lower()] = value
            else:
                self._st.owner_limits.pop(owner_or_repo.lower(), None)

    def block_user(self, org: str, login: str) -> None:
        with self._lock:
            self._make_org(org)
            self._st.blocks.setdefault(org.lower(), {})[self._user(login).login.lower()] = self._now()

    def unblock_user(self, org: str, login: str) -> None:
        with self._lock:
            self._st.blocks.get(org.lower(), {}).pop(login.lower(), None)

    def fail_next(self, method: str, path_regex: str, *, status: int, times: int = 1, headers: dict | None = None,
                  body: Any = None, delay: float = 0.0) -> None:
        """The next `times` requests with this method ("*" for any) whose path matches `path_regex` (re.search)
        get this response instead of the real one, after `delay` seconds. The default body is GitHub's message
        for the status (a secondary rate limit one for 429, or 403 with Retry-After)."""
        with self._lock:
            self._st.failures.append({"method": method.upper(), "path": path_regex, "status": status,
                                      "times": times, "headers": headers, "body": body, "delay": delay})

    def delay_next(self, method: str, path_regex: str, *, seconds: float, times: int = 1) -> None:
        """The next `times` matching requests are handled normally, but only after `seconds` (a slow GitHub).
        The wait happens before the request is processed and without holding the state lock."""
        with self._lock:
            self._st.delays.append({"method": method.upper(), "path": path_regex, "seconds": seconds,
                                    "times": times})

    def expire_tokens(self) -> None:
        """Make every installation token issued so far expire now (the next use gets 401 Bad credentials)."""
        with self._lock:
            now = self._now()
            for token in self._st.tokens.values():
                token.expires_at = min(token.expires_at, now)

    def app_jwt(self, *, expires_in: int = 540, iss: int | str | None = None) -> str:
        """An App JWT signed with private_key_pem, for tests that call /app endpoints themselves."""
        now = int(time.time())
        return pyjwt.encode({"iat": now - 60, "exp": now + expires_in, "iss": str(iss or self.app_id)},
                            self._private_key, algorithm="RS256")

    def installation_token(self, installation_id: int) -> str:
        """A valid installation token minted directly (not counted in token_requests)."""
        with self._lock:
            inst = self._st.installations[installation_id]
            token = Token("ghs_" + secrets.token_hex(18), inst.id, self._now() + self.token_ttl, None,
                          dict(inst.permissions))
            self._st.tokens[token.token] = token
            return token.token

    # ------------------------------------------------------------------ inspection API
    def repo(self, full_name: str) -> dict:
        """The repository as GET /repos/{o}/{r} returns it, plus "files" (default branch: path -> text)."""
        with self._lock:
            repo = self._repo(full_name)
            out = self._r_repo(repo, full=True)
            out["files"] = dict(repo.files() or {})
            return out

    def file(self, full_name: str, path: str, *, ref: str | None = None) -> str | None:
        with self._lock:
            return (self._repo(full_name).files(ref) or {}).get(path.strip("/"))

    def issue(self, full_name: str, number: int) -> dict:
        """GitHub's issue JSON (labels as label objects) plus "label_names" and "is_pull_request"."""
        with self._lock:
            issue = self._repo(full_name).issues[number]
            out = self._r_issue(issue)
            out["label_names"] = list(issue.labels)
            out["is_pull_request"] = issue.is_pr
            return out

    def issues(self, full_name: str) -> list[dict]:
        """Every issue and pull request of the repository, by number."""
        with self._lock:
            return [self.issue(full_name, n) for n in sorted(self._repo(full_name).issues)]

    def issue_events(self, full_name: str, number: int) -> list[dict]:
        with self._lock:
            repo = self._repo(full_name)
            return [self._r_event(repo, ev) for ev in repo.issues[number].events]

    def labels(self, full_name: str) -> list[str]:
        with self._lock:
            return sorted((lb.name for lb in self._repo(full_name).labels.values()), key=str.lower)

    def _inspect_comment(self, c: Comment) -> dict:
        out = self._r_comment(c)
        out.update({"minimized": c.minimized, "minimized_reason": c.minimized_reason, "classifier": c.classifier,
                    "reactions": [(r.user, r.content) for r in c.reactions], "deleted": c.deleted,
                    "kind": c.kind, "number": c.number, "repository": self._st.repos[c.repo].full_name,
                    "previous_bodies": list(c.previous_bodies)})
        return out

    def comments(self, full_name: str, number: int, *, include_deleted: bool = False) -> list[dict]:
        """Conversation comments in order. GitHub's JSON, except: "minimized" (bool), "minimized_reason"
        ("abuse", "off-topic", ...), "classifier" (the GraphQL value), "reactions" [(login, content)], "deleted"."""
        with self._lock:
            key = self._repo(full_name).full_name.lower()
            items = [c for c in self._st.comments.values()
                     if c.kind == "issue" and c.repo == key and c.number == number
                     and (include_deleted or not c.deleted)]
            return [self._inspect_comment(c) for c in sorted(items, key=lambda c: (c.created_at, c.id))]

    def review_comments(self, full_name: str, pr_number: int, *, include_deleted: bool = False) -> list[dict]:
        with self._lock:
            key = self._repo(full_name).full_name.lower()
            items = [c for c in self._st.comments.values()
                     if c.kind == "review" and c.repo == key and c.number == pr_number
                     and (include_deleted or not c.deleted)]
            return [self._inspect_comment(c) for c in sorted(items, key=lambda c: (c.created_at, c.id))]

    def comment(self, comment_id: int) -> dict:
        """Any comment by id (deleted ones too, with "deleted": True)."""
        with self._lock:
            return self._inspect_comment(self._st.comments[comment_id])

    def reactions_on_comment(self, comment_id: int) -> list[str]:
        with self._lock:
            return [r.content for r in self._st.comments[comment_id].reactions]

    def reactions_on_issue(self, full_name: str, number: int) -> list[tuple[str, str]]:
        with self._lock:
            return [(r.user, r.content) for r in self._repo(full_name).issues[number].reactions]

    def interaction_limit(self, full_name: str) -> dict | None:
        """The limit in force ({"limit", "origin", "expires_at"}) for a repository, or for an owner; None if none."""
        with self._lock:
            if "/" in full_name:
                return self._effective_limit(self._repo(full_name))
            limit = self._owner_limit(full_name)
            if not limit:
                return None
            origin = "organization" if self._user(full_name).type == "Organization" else "user"
            return {"limit": limit["limit"], "origin": origin, "expires_at": iso(limit["expires_at"])}

    def blocked(self, org: str) -> set[str]:
        with self._lock:
            return {self._st.users[k].login for k in self._st.blocks.get(org.lower(), {})}

    @property
    def requests(self) -> list[RecordedRequest]:
        """Everything received, in order (a snapshot)."""
        with self._lock:
            return list(self._st.requests)

    def writes(self) -> list[RecordedRequest]:
        """POST/PUT/PATCH/DELETE and GraphQL mutations, except creating installation tokens."""
        with self._lock:
            return [r for r in self._st.requests if r.is_write]

    @property
    def violations(self) -> list[str]:
        """Requests that validate_request rejected, unknown routes, invalid GraphQL, internal errors."""
        with self._lock:
            return list(self._st.violations)

    def clear_violations(self) -> list[str]:
        """Return the violations so far and forget them (for tests that provoke some on purpose)."""
        with self._lock:
            found, self._st.violations = self._st.violations, []
            return found

    @property
    def token_requests(self) -> int:
        """Installation tokens created through POST /app/installations/{id}/access_tokens."""
        with self._lock:
            return self._st.token_requests

    @property
    def deliveries(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._st.deliveries)

    def wait_for(self, predicate: Callable[[FakeGitHub], Any], timeout: float = 10.0, *,
                 message: str | None = None, interval: float = 0.01) -> None:
        """Poll predicate(self) (under the state lock) until it is true; AssertionError after `timeout`.
        Exceptions inside the predicate (say a KeyError before an issue exists) count as false."""
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while True:
            with self._lock:
                try:
                    if predicate(self):
                        return
                    last_error = None
                except Exception as exc:  # noqa: BLE001 - reported below
                    last_error = exc
            if time.monotonic() >= deadline:
                break
            time.sleep(interval)
        lines = [f"FakeGitHub.wait_for timed out after {timeout}s waiting for {message or _describe(predicate)}"]
        if last_error is not None:
            lines.append(f"  the predicate last raised {last_error!r}")
        recent = self.requests[-15:]
        lines.append(f"  last {len(recent)} of {len(self.requests)} requests:" if recent else "  no requests received")
        lines += [f"    {r}" for r in recent]
        if self.violations:
            lines.append("  violations:")
            lines += [f"    {v.splitlines()[0]}" for v in self.violations[-5:]]
        raise AssertionError("\n".join(lines))


def _visibility(private: bool | None, visibility: str | None) -> str:
    """add_repo's visibility from its `private` and `visibility` arguments (which must agree)."""
    if visibility is None:
        return "private" if private else "public"
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}")
    if private is not None and private != (visibility != "public"):
        raise ValueError(f"private={private} contradicts visibility={visibility!r}")
    return visibility


def _ts(value: float | str | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return parse_iso(value)
    if hasattr(value, "timestamp"):
        return value.timestamp()
    return float(value)


def _describe(predicate: Callable) -> str:
    try:
        source = inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)
    return " ".join(source.split())[:300]
