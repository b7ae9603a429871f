"""GitHub access: one HTTP session, the App's JWT, cached installation tokens, error classes.

`GitHubClients` owns the process's single aiohttp session. Installation tokens
are cached per installation until five minutes before `expires_at` and fetched
again at once when GitHub answers 401. Responses are cached per installation
for conditional requests (gidgethub sends `If-None-Match`; GitHub does not count
a 304 against the rate limit). In dry-run mode every write is replaced by one
log line starting `dry run: would`.
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import cachetools
import gidgethub
from gidgethub import aiohttp as gh_aiohttp

from .settings import Settings

log = logging.getLogger("conduct_bot.github")

USER_AGENT = "conduct-bot"
TOKEN_MARGIN = 300  # seconds before expires_at when a cached token is replaced
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DRY_RUN_KEEP = 1000  # would-be writes remembered in dry-run mode (the latest; every one is logged)


class TransientError(Exception):
    """Worth retrying later: 5xx, timeouts, connection errors, rate limits."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """Retrying cannot help (for example a 404 or a refused permission)."""


def _retry_after(headers: Mapping[str, str]) -> float | None:
    ra = headers.get("retry-after")
    if ra:
        try:
            return max(0.0, float(ra))
        except ValueError:
            pass
    if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
        except ValueError:
            pass
    return None


def classify(exc: BaseException) -> BaseException:
    """Map a gidgethub/aiohttp exception to TransientError where a retry can help."""
    if isinstance(exc, TransientError):
        return exc
    if isinstance(exc, (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)):
        return TransientError(f"connection problem: {exc.__class__.__name__}")
    if isinstance(exc, gidgethub.GitHubBroken):
        return TransientError(f"GitHub error {exc.status_code}")
    if isinstance(exc, gidgethub.RateLimitExceeded):
        return TransientError("rate limit exceeded", _retry_after(exc.headers or {}))
    if isinstance(exc, gidgethub.HTTPException):
        status = int(exc.status_code)
        headers = exc.headers or {}
        if status == 429 or (status == 403 and (headers.get("retry-after")
                                                 or headers.get("x-ratelimit-remaining") == "0"
                                                 or "rate limit" in str(exc).lower())):
            return TransientError(f"rate limited ({status})", _retry_after(headers))
    return exc


class GitHub(gh_aiohttp.GitHubAPI):
    """One installation's (or the App's) client; created by GitHubClients."""

    def __init__(self, clients: GitHubClients, installation_id: int | None, token: str | None, cache):
        kwargs: dict[str, Any] = {"cache": cache, "base_url": clients.settings.api_url}
        if token is not None:
            kwargs["oauth_token"] = token
        else:  # gidgethub 6: an App client gets app_id/private_key and never an oauth_token
            kwargs["app_id"] = str(clients.settings.app_id)
            kwargs["private_key"] = clients.settings.private_key
        super().__init__(clients.session, USER_AGENT, **kwargs)
        self.clients = clients
        self.installation_id = installation_id
        self.calls = 0

    async def _request(self, method, url, headers, body=b""):
        settings = self.clients.settings
        is_graphql = url == settings.graphql_url
        if (settings.dry_run and method in WRITE_METHODS and not url.endswith("/access_tokens")
                and (not is_graphql or _is_mutation(body))):
            what = _describe(method, url, body, is_graphql)
            log.info("dry run: would %s", what, extra={"installation": self.installation_id})
            self.clients.dry_run_writes.append(what)
            fake = ({"data": {}} if is_graphql
                    else {"id": 0, "number": 0, "node_id": "", "html_url": "", "url": "", "labels": []})
            return 200, {"content-type": "application/json; charset=utf-8"}, json.dumps(fake).encode()
        for attempt in (1, 2):
            self.calls += 1
            self.clients.calls += 1
            try:
                status, rheaders, rbody = await super()._request(method, url, headers, body)
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise TransientError(f"{method} {urlsplit(url).path}: {exc.__class__.__name__}") from None
            if status == 401 and self.installation_id is not None and attempt == 1:
                token = await self.clients.token(self.installation_id, stale=self.oauth_token)
                self.oauth_token = token
                headers = dict(headers)
                headers["authorization"] = f"token {token}"
                continue
            break
        if status >= 500:
            raise TransientError(f"{method} {urlsplit(url).path}: GitHub answered {status}")
        if status in (403, 429):
            text = rbody[:2000].decode("utf-8", "replace").lower()
            if (status == 429 or "rate limit" in text or rheaders.get("retry-after")
                    or rheaders.get("x-ratelimit-remaining") == "0"):
                raise TransientError(f"{method} {urlsplit(url).path}: rate limited ({status})", _retry_after(rheaders))
        return status, rheaders, rbody

    async def gql(self, query: str, **variables) -> Any:
        try:
            return await self.graphql(query, endpoint=self.clients.settings.graphql_url, **variables)
        except gidgethub.GraphQLAuthorizationFailure:
            token = await self.clients.token(self.installation_id, stale=self.oauth_token)
            self.oauth_token = token
            return await self.graphql(query, endpoint=self.clients.settings.graphql_url, **variables)


def _is_mutation(body: bytes) -> bool:
    try:
        return json.loads(body or b"{}").get("query", "").lstrip().startswith("mutation")
    except (ValueError, AttributeError):
        return True


def _describe(method: str, url: str, body: bytes, is_graphql: bool) -> str:
    if is_graphql:
        try:
            query = json.loads(body).get("query", "")
            name = query.split("{", 2)[1].split("(")[0].strip()
        except (ValueError, IndexError, AttributeError):
            name = "mutation"
        return f"run GraphQL mutation {name}"
    return f"{method} {urlsplit(url).path}"


class GitHubClients:
    """Factory for per-installation clients over one session, with the token cache."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession | None = None):
        self.settings = settings
        self._own_session = session is None
        self.session = session
        self._tokens: dict[int, tuple[str, float]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._caches: dict[int | None, cachetools.LRUCache] = {}
        self.token_requests = 0
        self.calls = 0
        # The latest would-be writes of a dry run (oldest first); bounded, so a server left in dry-run mode
        # for weeks does not grow without end. Every write is also logged as `dry run: would …`.
        self.dry_run_writes: collections.deque[str] = collections.deque(maxlen=DRY_RUN_KEEP)

    async def start(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10))

    async def close(self) -> None:
        if self._own_session and self.session is not None:
            await self.session.close()

    def _cache(self, installation_id):
        cache = self._caches.get(installation_id)
        if cache is None:
            cache = self._caches[installation_id] = cachetools.LRUCache(maxsize=256)
        return cache

    def app(self) -> GitHub:
        """A client authenticated as the App (JWT), for /app endpoints and installation look-ups."""
        return GitHub(self, None, None, None)

    async def token(self, installation_id: int, stale: str | None = None) -> str:
        """The installation's token, from the cache while it is fresh; `stale` is a token GitHub
        just refused (401): it is replaced, once, however many requests saw it fail."""
        lock = self._locks.setdefault(installation_id, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(installation_id)
            if cached and cached[0] != stale and cached[1] - TOKEN_MARGIN > time.time():
                return cached[0]
            app = self.app()
            try:
                data = await app.post(f"/app/installations/{installation_id}/access_tokens", data=b"")
            except gidgethub.HTTPException as exc:
                err = classify(exc)
                if isinstance(err, TransientError):
                    raise err from None
                raise PermanentError(
                    f"cannot get a token for installation {installation_id}: {exc.status_code}") from None
            self.token_requests += 1
            expires = _parse_time(data.get("expires_at")) or time.time() + 3600
            self._tokens[installation_id] = (data["token"], expires)
            return data["token"]

    async def installation(self, installation_id: int) -> GitHub:
        token = await self.token(installation_id)
        return GitHub(self, installation_id, token, self._cache(installation_id))

    async def installation_for_repo(self, owner: str, repo: str) -> int:
        app = self.app()
        try:
            data = await app.getitem("/repos/{owner}/{repo}/installation", {"owner": owner, "repo": repo})
        except gidgethub.HTTPException as exc:
            err = classify(exc)
            if isinstance(err, TransientError):
                raise err from None
            raise PermanentError(f"the App is not installed on {owner}/{repo} ({exc.status_code})") from None
        return int(data["id"])


def _parse_time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def backoff(attempt: int, *, base: float = 2.0, cap: float = 3600.0) -> float:
    """Exponential back-off with full jitter: attempt 1 → up to 2 s, doubling, capped."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)
