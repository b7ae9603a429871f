"""Settings read once from the environment into a frozen object (SPEC.md: Running it)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(Exception):
    """A missing or malformed environment variable; the message names it and never a secret."""


_REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


@dataclass(frozen=True)
class Settings:
    app_id: int
    private_key: str = field(repr=False)
    webhook_secret: bytes = field(repr=False)
    api_url: str = "https://api.github.com"
    graphql_url: str = "https://api.github.com/graphql"
    database_url: str = "sqlite:///conduct-bot.sqlite3"
    tracking_repo: str | None = None
    dry_run: bool = False
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 16
    # Attempts before a transiently failing job is kept as failed (back-off doubles from 2 s up to an hour: ~2 h).
    max_attempts: int = 12

    @property
    def tracking_owner_repo(self) -> tuple[str, str] | None:
        if not self.tracking_repo:
            return None
        owner, _, name = self.tracking_repo.partition("/")
        return owner, name


def graphql_url_for(api_url: str) -> str:
    """GraphQL endpoint for a REST base: api.github.com/graphql, or HOST/api/graphql on GHES."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (got an unrecognised value)")


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise SettingsError(f"{name} must be a whole number from {lo} to {hi}")
    return int(raw)


def _private_key(env: Mapping[str, str]) -> str:
    inline = env.get("GITHUB_PRIVATE_KEY", "").strip()
    path = env.get("GITHUB_PRIVATE_KEY_PATH", "").strip()
    if inline:
        name, text = "GITHUB_PRIVATE_KEY", inline.replace("\\n", "\n")
    elif path:
        name = "GITHUB_PRIVATE_KEY_PATH"
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise SettingsError(
                f"{name}: cannot read the key file ({exc.strerror or exc.__class__.__name__})") from None
    else:
        raise SettingsError("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_PATH is required (the App's PEM private key)")
    if "-----BEGIN" not in text or "PRIVATE KEY-----" not in text:
        raise SettingsError(f"{name} is not a PEM private key")
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        load_pem_private_key(text.encode(), password=None)
    except Exception:
        raise SettingsError(f"{name} is not a readable PEM private key") from None
    return text


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", raw):
        raise SettingsError(f"{name} must be an http(s) URL")
    return raw.rstrip("/")


def _database_url(env: Mapping[str, str]) -> str:
    raw = env.get("DATABASE_URL", "").strip() or "sqlite:///conduct-bot.sqlite3"
    if raw.startswith("sqlite:///") and len(raw) > len("sqlite:///"):
        return raw
    if raw.startswith(("postgresql://", "postgres://")):
        return raw
    raise SettingsError("DATABASE_URL must be sqlite:///PATH or postgresql://…")


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the environment; raise SettingsError naming the first bad variable."""
    env = os.environ if env is None else env
    raw_id = env.get("GITHUB_APP_ID", "").strip()
    if not raw_id:
        raise SettingsError("GITHUB_APP_ID is required (the App's numeric id)")
    if not raw_id.isdigit() or int(raw_id) <= 0:
        raise SettingsError("GITHUB_APP_ID must be a positive whole number")
    secret = env.get("GITHUB_WEBHOOK_SECRET", "")
    if not secret:
        raise SettingsError("GITHUB_WEBHOOK_SECRET is required; the server refuses to start without it")
    private_key = _private_key(env)
    api_url = _url(env, "GITHUB_API_URL", "https://api.github.com")
    tracking = env.get("COC_TRACKING_REPO", "").strip() or None
    if tracking is not None and not _REPO_RE.match(tracking):
        raise SettingsError("COC_TRACKING_REPO must be owner/name")
    host = env.get("HOST", "").strip() or "0.0.0.0"
    return Settings(
        app_id=int(raw_id),
        private_key=private_key,
        webhook_secret=secret.encode(),
        api_url=api_url,
        graphql_url=graphql_url_for(api_url),
        database_url=_database_url(env),
        tracking_repo=tracking,
        dry_run=_flag(env, "COC_DRY_RUN"),
        host=host,
        port=_int(env, "PORT", 8080, 0, 65535),
        workers=_int(env, "COC_WORKERS", 16, 1, 256),
    )
