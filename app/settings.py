"""Settings read once from the environment into a frozen object (SPEC.md: Running it)."""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

Purpose = Literal["server", "github-reader"]

#: The variables each purpose reads (SPEC.md: "Sub-commands ask only for the settings they use").
READS: dict[str, tuple[str, ...]] = {
    "server": ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET",
               "GITHUB_API_URL", "DATABASE_URL", "COC_TRACKING_REPO", "COC_DRY_RUN", "HOST", "PORT", "COC_WORKERS"),
    "github-reader": ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_API_URL",
                      "COC_TRACKING_REPO"),
}


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
    if inline and path:
        # Which one would win is a guess the operator should not have to make; neither value is printed.
        raise SettingsError("GITHUB_PRIVATE_KEY and GITHUB_PRIVATE_KEY_PATH are both set; "
                            "set only one (the key inline, or the path of its file)")
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


def load_settings(env: Mapping[str, str] | None = None, *, purpose: Purpose = "server") -> Settings:
    """Read and validate the environment; raise SettingsError naming the first bad variable.

    `purpose` says which variables are read (READS): "server" (python -m app) reads them all and requires the
    webhook secret; "github-reader" (sub-commands that only read GitHub as the App, such as transparency-report)
    reads the App's identity, key, API URL and tracking repository, and leaves every server-only setting at its
    default (an empty webhook secret: such settings must never be given to the server).
    """
    if purpose not in READS:
        raise ValueError(f"unknown settings purpose {purpose!r}")
    env = environment() if env is None else env
    server = purpose == "server"
    raw_id = env.get("GITHUB_APP_ID", "").strip()
    if not raw_id:
        raise SettingsError("GITHUB_APP_ID is required (the App's numeric id)")
    if not raw_id.isdigit() or int(raw_id) <= 0:
        raise SettingsError("GITHUB_APP_ID must be a positive whole number")
    secret = env.get("GITHUB_WEBHOOK_SECRET", "") if server else ""
    if server and not secret:
        raise SettingsError("GITHUB_WEBHOOK_SECRET is required; the server refuses to start without it")
    private_key = _private_key(env)
    api_url = _url(env, "GITHUB_API_URL", "https://api.github.com")
    tracking = env.get("COC_TRACKING_REPO", "").strip() or None
    if tracking is not None and not _REPO_RE.match(tracking):
        raise SettingsError("COC_TRACKING_REPO must be owner/name")
    # What every purpose reads; the server's own settings are added below, the rest keep their defaults.
    settings = Settings(app_id=int(raw_id), private_key=private_key, webhook_secret=secret.encode(), api_url=api_url,
                        graphql_url=graphql_url_for(api_url), tracking_repo=tracking)
    if not server:
        return settings
    return replace(
        settings,
        database_url=_database_url(env),
        dry_run=_flag(env, "COC_DRY_RUN"),
        host=env.get("HOST", "").strip() or "0.0.0.0",
        port=_int(env, "PORT", 8080, 0, 65535),
        workers=_int(env, "COC_WORKERS", 16, 1, 256),
    )

# --------------------------------------------------------------------------- .env

DOTENV = ".env"
KEY_NAMES = ("GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DotenvError(ValueError):
    """A `.env` that cannot be read; the message names the line, never its value."""


def _unquote_double(text: str) -> str:
    return re.sub(r'\\(["\\])', r"\1", text)


def parse_dotenv(text: str) -> dict[str, str]:
    """KEY=VALUE lines: blank lines and `#` comments skipped, `export ` allowed before KEY; a value in single
    quotes is taken as written, one in double quotes may span lines (`\\"` and `\\\\` unescaped); an unquoted
    value ends before ` #`. A later line wins over an earlier one."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        number, line = i + 1, lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export"):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_NAME.match(key):
            raise DotenvError(f"{DOTENV} line {number} is not KEY=VALUE")
        value = value.strip()
        if value[:1] == "'":
            end = value.find("'", 1)
            if end < 0:
                raise DotenvError(f"{DOTENV} line {number} ({key}): the closing ' is missing")
            value = value[1:end]
        elif value[:1] == '"':
            body = value[1:]
            while True:
                end = _closing_quote(body)
                if end >= 0:
                    value = _unquote_double(body[:end])
                    break
                if i >= len(lines):
                    raise DotenvError(f'{DOTENV} line {number} ({key}): the closing " is missing')
                body += "\n" + lines[i]
                i += 1
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].rstrip()
        values[key] = value
    return values


def _closing_quote(text: str) -> int:
    """Index of the first `"` not escaped by a backslash, or -1."""
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            return index
    return -1


def merge_env(environ: Mapping[str, str], dotenv: Mapping[str, str]) -> dict[str, str]:
    """`.env` under the environment: a non-empty environment variable wins. The key is one setting given by
    either of two variables, so a key in the environment replaces both of `.env`'s (never "both are set")."""
    merged = {k: v for k, v in dotenv.items()}
    if any(environ.get(name, "").strip() for name in KEY_NAMES):
        for name in KEY_NAMES:
            merged.pop(name, None)
    merged.update({k: v for k, v in environ.items() if v.strip()})
    return merged


def environment(cwd: Path | None = None, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings' source: the environment over `.env` in the working directory (written by
    `python -m app register`), so the server and doctor work from that file alone."""
    environ = os.environ if environ is None else environ
    path = (cwd or Path.cwd()) / DOTENV
    if not path.is_file():
        return dict(environ)
    try:
        dotenv = parse_dotenv(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{DOTENV}: cannot read {path} ({exc.__class__.__name__})") from None
    except DotenvError as exc:
        raise SettingsError(str(exc)) from None
    return merge_env(environ, dotenv)
