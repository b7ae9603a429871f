"""`python -m app doctor`: checks a deployment before (or while) it runs, and prints a checklist.

It reads the server's settings (the environment, then `.env` in the working directory), then asks GitHub,
as the App: is the key accepted (`GET /app` with an App JWT)? Does every installation grant the permissions
and events `app.yml` asks for? Does the tracking repository exist, is it private (GitHub's
`visibility: private`; `internal` is not private) and is the App installed on it? One line per check,
`ok` / `FAIL` / `warn`, then a summary; exit 0 when nothing failed, 1 when something did (2: bad arguments).

Nothing it prints contains the key, the webhook secret, a JWT or an installation token: it never formats
them, and every line is also scrubbed of them before it is written.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..manifest import app_manifest
from ..settings import DOTENV, KEY_NAMES, DotenvError, merge_env, parse_dotenv
from . import OneLineParser

PROG = "python -m app doctor"

# What app.yml asks for (the copy shipped in the package, app/app.yml).
REQUIRED_PERMISSIONS: dict[str, str] = dict(app_manifest()["default_permissions"])
REQUIRED_EVENTS: tuple[str, ...] = tuple(app_manifest()["default_events"])

_LEVELS = {"read": 1, "write": 2, "admin": 3}
CONCURRENCY = 8  # installations whose `.github` repository is read at once

ENVIRONMENT = """settings (each from the environment, else from .env in the working directory):
  GITHUB_APP_ID          the App's id (required)
  GITHUB_PRIVATE_KEY     the App's PEM key, inline; or
  GITHUB_PRIVATE_KEY_PATH
                         the path of its file (exactly one of the two; a key set in the
                         environment replaces both of .env's)
  GITHUB_WEBHOOK_SECRET  the webhook secret (required by the server; only its presence is checked)
  GITHUB_API_URL         GitHub's REST base (default https://api.github.com)
  COC_TRACKING_REPO      owner/name of the private tracking repository
  DATABASE_URL, PORT, HOST, COC_WORKERS, COC_DRY_RUN
                         read as the server reads them

.env: KEY=VALUE lines (an optional `export ` before KEY), `#` comments, values optionally in
single or double quotes (double-quoted ones may span lines). An empty environment variable
counts as unset.

exit status: 0 nothing failed, 1 something failed (the summary names it), 2 bad arguments.
Nothing printed contains the key, the webhook secret or a token."""


def build_parser() -> argparse.ArgumentParser:
    return OneLineParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Check a deployment: the server's settings, the App's key (GET /app), each installation's\n"
                    "permissions and events against app.yml, and that the tracking repository exists, is\n"
                    "private and has the App installed. Prints one line per check (ok, FAIL, warn).",
        epilog=ENVIRONMENT,
    )


# --------------------------------------------------------------------------- the checklist

@dataclass
class Checklist:
    """Prints each check as it is decided, scrubbed of every secret it knows."""

    out: Any = None
    secrets: set[str] = field(default_factory=set)
    more_secrets: Callable[[], Iterable[str]] = lambda: ()
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"ok": 0, "FAIL": 0, "warn": 0})

    def secret(self, value: str | bytes | None) -> None:
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not value or len(value.strip()) < 6:
            return
        self.secrets.add(value)
        self.secrets.add(value.strip())
        # A PEM key's lines too, and its inline form with `\n` escapes: no piece of it is ever printed.
        for line in value.replace("\\n", "\n").splitlines():
            if len(line.strip()) >= 16:
                self.secrets.add(line.strip())

    def scrub(self, text: str) -> str:
        for value in sorted({*self.secrets, *(s for s in self.more_secrets() if s)}, key=len, reverse=True):
            text = text.replace(value, "[redacted]")
        return text

    def _line(self, status: str, text: str) -> None:
        self.counts[status] += 1
        out = self.out or sys.stdout
        out.write(self.scrub(f"{status:<4} {text}") + "\n")
        out.flush()

    def ok(self, text: str) -> None:
        self._line("ok", text)

    def warn(self, text: str) -> None:
        self._line("warn", text)

    def fail(self, what: str, text: str) -> None:
        """A failed check: WHAT is its short name for the summary line."""
        self.failures.append(what)
        self._line("FAIL", text)

    def summary(self) -> str:
        ok, warn = self.counts["ok"], self.counts["warn"]
        warnings = f", {warn} warning{'s' if warn != 1 else ''}" if warn else ""
        if not self.failures:
            return f"doctor: nothing failed ({ok} ok{warnings})"
        n = len(self.failures)
        return self.scrub(f"doctor: {n} check{'s' if n != 1 else ''} failed ({ok} ok{warnings}): "
                          + "; ".join(self.failures))


# --------------------------------------------------------------------------- settings

def read_settings(check: Checklist, cwd: Path, environ: Mapping[str, str]):
    """The server's settings from the environment and `.env`, or None when GitHub cannot be asked."""
    from ..settings import SettingsError, load_settings

    path = cwd / DOTENV
    dotenv: dict[str, str] = {}
    source = "the environment"
    if path.is_file():
        try:
            dotenv = parse_dotenv(path.read_text(encoding="utf-8"))
            source = f"the environment and {path}"
        except (OSError, UnicodeDecodeError) as exc:
            check.fail(f"{DOTENV} unreadable", f"settings: cannot read {path} ({exc.__class__.__name__})")
        except DotenvError as exc:
            check.fail(f"{DOTENV} malformed", f"settings: {exc}")
    env = merge_env(environ, dotenv)
    for name in ("GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"):
        check.secret(env.get(name))

    try:
        settings = load_settings(env, purpose="server")
    except SettingsError as exc:
        check.fail(str(exc), f"settings: {exc}")
        try:  # the App's identity and key may still be good enough to ask GitHub
            settings = load_settings(env, purpose="github-reader")
        except SettingsError as again:
            if str(again) != str(exc):
                check.fail(str(again), f"settings: {again}")
            return None
    else:
        key_from = next(name for name in KEY_NAMES if env.get(name, "").strip())
        check.ok(f"settings: read from {source} (GITHUB_APP_ID {settings.app_id}, key from {key_from}, "
                 f"webhook secret set, GITHUB_API_URL {settings.api_url})")
        check_database(check, settings.database_url, cwd)
    check.secret(settings.private_key)
    check.secret(settings.webhook_secret)
    return settings


def check_database(check: Checklist, database_url: str, cwd: Path) -> None:
    if not database_url.startswith("sqlite:///"):
        # The URL may hold a password: it is not printed.
        check.fail("DATABASE_URL is PostgreSQL", "database: DATABASE_URL is PostgreSQL, which this version does not "
                   "store in yet; use sqlite:///PATH")
        return
    path = Path(database_url[len("sqlite:///"):])
    folder = (path if path.is_absolute() else cwd / path).parent
    if not folder.is_dir():
        check.fail("database folder missing", f"database: the folder of {path} does not exist ({folder})")
    elif not os.access(folder, os.W_OK):
        check.fail("database folder not writable", f"database: cannot write in {folder}, the folder of {path}")
    else:
        state = "exists" if (folder / path.name).exists() else "the server creates it"
        check.ok(f"database: SQLite at {path} ({state})")


# --------------------------------------------------------------------------- GitHub

def missing_grants(permissions: Mapping[str, str], events: Iterable[str], *, organization: bool = True) -> list[str]:
    """What app.yml asks for that PERMISSIONS/EVENTS lack: `issues: write (has read)`, `event push`.
    Organisation permissions are only granted on organisations, so a user account is not asked for them."""
    missing = []
    for name, level in REQUIRED_PERMISSIONS.items():
        if name.startswith("organization_") and not organization:
            continue
        has = permissions.get(name)
        if _LEVELS.get(str(has), 0) < _LEVELS[level]:
            missing.append(f"permission {name}: {level} (has {has or 'none'})")
    granted = set(events)
    missing.extend(f"event {name}" for name in REQUIRED_EVENTS if name not in granted)
    return missing


class Unreachable(Exception):
    """GitHub could not be asked (network, timeout, 5xx, rate limit): nothing more can be checked."""


async def check_github(check: Checklist, settings) -> None:
    import aiohttp

    from ..github import GitHubClients, TransientError

    clients = GitHubClients(settings)
    check.more_secrets = lambda: [token for token, _ in clients._tokens.values()]
    await clients.start()
    try:
        await _check_github(check, settings, clients)
    except (TransientError, TimeoutError, aiohttp.ClientError, OSError) as exc:
        detail = str(exc) if isinstance(exc, TransientError) else _reason(exc)
        check.fail("GitHub unreachable", f"GitHub: no answer from {settings.api_url} ({detail}); try again later")
    finally:
        await clients.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


async def _check_github(check: Checklist, settings, clients) -> None:
    import gidgethub

    from ..github import TransientError, classify

    app = clients.app()
    try:
        data = await app.getitem("/app")
    except gidgethub.HTTPException as exc:
        err = classify(exc)
        if isinstance(err, TransientError):
            raise err from None
        status = int(exc.status_code)
        if status == 401:
            clock = re.search(r"'exp'|'iat'|expiration|issued at", str(exc), re.I)
            hint = " (this machine's clock may be wrong)" if clock else ""
            check.fail("key not accepted",
                       f"key: GitHub does not accept the App's key for GITHUB_APP_ID {settings.app_id} (GET /app "
                       f"answered 401: {exc}){hint}; use a current private key of that App")
        else:
            check.fail("GET /app refused", f"key: GitHub answered {status} to GET /app at {settings.api_url} "
                       f"({exc}); is GITHUB_API_URL right?")
        return
    if not isinstance(data, dict) or "id" not in data:
        check.fail("GET /app refused", f"key: GET /app at {settings.api_url} did not answer with an App; "
                   "is GITHUB_API_URL right?")
        return
    check.ok(f"key: GitHub accepts the App's key (GET /app: {data.get('slug') or data.get('name')!s}, "
             f"id {data['id']})")

    if "permissions" in data or "events" in data:
        lacking = missing_grants(data.get("permissions") or {}, data.get("events") or [])
        if lacking:
            check.fail("App registration lacks what app.yml asks",
                       f"App registration: lacks {', '.join(lacking)}; edit the App's permissions and events on "
                       "GitHub to match app.yml")
        else:
            check.ok("App registration: asks for every permission and event of app.yml")

    installations = [inst async for inst in app.getiter("/app/installations")]
    if not installations:
        check.fail("no installation", "installations: the App is not installed on any account")
    for inst in installations:
        check_installation(check, inst)

    if settings.tracking_repo:
        await check_tracking_repo(check, clients, settings.tracking_repo, "COC_TRACKING_REPO")
        return
    check.warn("COC_TRACKING_REPO is not set: reports need an organisation-level tracking_repo (in the "
               "organisation's .github repository, file .github/coc.yml); the server starts and logs a warning")
    await check_org_tracking(check, clients, installations)


def _account(inst: Mapping[str, Any]) -> str:
    return str((inst.get("account") or {}).get("login") or f"installation {inst.get('id')}")


def check_installation(check: Checklist, inst: Mapping[str, Any]) -> None:
    account, iid = _account(inst), inst.get("id")
    where = f"installation on {account} (id {iid})"
    if inst.get("suspended_at"):
        check.fail(f"installation on {account} suspended",
                   f"{where}: suspended; the App does nothing there until an owner of {account} unsuspends it")
        return
    organization = inst.get("target_type", "Organization") == "Organization"
    lacking = missing_grants(inst.get("permissions") or {}, inst.get("events") or [], organization=organization)
    if lacking:
        settings_page = f" ({inst['html_url']})" if inst.get("html_url") else ""
        check.fail(f"installation on {account} lacks {', '.join(lacking)}",
                   f"{where}: lacks {', '.join(lacking)}; an owner of {account} must accept the App's new "
                   f"permissions in the installation's settings{settings_page}")
    else:
        selection = inst.get("repository_selection") or "all"
        check.ok(f"{where}: permissions and events as app.yml asks ({selection} repositories)")


async def check_tracking_repo(check: Checklist, clients, full_name: str, named_by: str) -> None:
    """Installed, exists, private (visibility: private), not archived."""
    import gidgethub

    from ..github import PermanentError, TransientError, classify

    owner, _, name = full_name.partition("/")
    label = f"tracking repository {full_name}"
    try:
        iid = await clients.installation_for_repo(owner, name)
    except PermanentError:
        check.fail(f"App not installed on tracking repository {full_name}",
                   f"{label} ({named_by}): the App is not installed on it, or it does not exist "
                   f"(GET /repos/{full_name}/installation answered 404); install the App on {owner} with "
                   f"access to {name}")
        return
    try:
        gh = await clients.installation(iid)
        data = await gh.getitem("/repos/{owner}/{repo}", {"owner": owner, "repo": name})
    except PermanentError as exc:
        check.fail(f"tracking repository {full_name} unreadable", f"{label}: {exc}")
        return
    except gidgethub.HTTPException as exc:
        err = classify(exc)
        if isinstance(err, TransientError):
            raise err from None
        check.fail(f"tracking repository {full_name} unreadable",
                   f"{label}: the App is installed (installation {iid}) but GitHub answered {exc.status_code} "
                   f"to GET /repos/{full_name}")
        return
    check.ok(f"{label} ({named_by}): exists, the App is installed (installation {iid})")
    actual = str(data.get("full_name") or full_name)
    if actual.lower() != full_name.lower():
        check.warn(f"{label} is now {actual} (renamed or transferred); name {actual} instead")
    visibility = data.get("visibility")
    if visibility == "private":
        check.ok(f"{label}: private")
    elif visibility == "public":
        check.fail(f"tracking repository {full_name} is public",
                   f"{label} is PUBLIC: reports and their evidence would be readable by anyone; make it private "
                   "(the bot writes nothing into it while it is public)")
    elif visibility == "internal":
        check.fail(f"tracking repository {full_name} is internal, not private",
                   f"{label} is internal (every member of the enterprise can read it), not private; make it private")
    else:
        check.fail(f"tracking repository {full_name} not known to be private",
                   f"{label}: GitHub did not say it is private (visibility: {visibility!s}); make it private")
    if data.get("archived"):
        check.fail(f"tracking repository {full_name} archived",
                   f"{label} is archived: no incident can be written into it; unarchive it")


async def check_org_tracking(check: Checklist, clients, installations: list[Mapping[str, Any]]) -> None:
    """Without COC_TRACKING_REPO: does each installation's account name a tracking_repo in its `.github`
    repository's .github/coc.yml? Each repository so named is checked like COC_TRACKING_REPO."""
    import gidgethub

    from ..config import CONFIG_PATH, ORG_REPO, ConfigError, fetch_file, parse
    from ..github import PermanentError, TransientError, classify

    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def read(inst: Mapping[str, Any]) -> tuple[str, Any]:
        account = _account(inst)
        async with semaphore:
            try:
                gh = await clients.installation(int(inst["id"]))
                found = await fetch_file(gh, account, ORG_REPO, CONFIG_PATH)
            except PermanentError as exc:
                return "error", str(exc)
            except gidgethub.HTTPException as exc:
                err = classify(exc)
                if isinstance(err, TransientError):
                    raise err from None
                return "error", f"GitHub answered {exc.status_code}"
        if found is None:
            return "none", None
        try:
            return "file", parse(found["text"]).get("tracking_repo")
        except ConfigError as exc:
            return "invalid", str(exc)

    active = [inst for inst in installations if not inst.get("suspended_at")]
    answers = await asyncio.gather(*(read(inst) for inst in active))
    named: dict[str, str] = {}
    for inst, (kind, value) in zip(active, answers):
        account = _account(inst)
        where = f"{account}/{ORG_REPO}"
        if kind == "file" and value:
            check.ok(f"{where}: {CONFIG_PATH} names tracking_repo {value}")
            named.setdefault(str(value).lower(), str(value))
        elif kind == "invalid":
            check.fail(f"{where}/{CONFIG_PATH} invalid",
                       f"{where}: {CONFIG_PATH} is invalid and ignored as a whole ({value})")
        elif kind == "error":
            check.warn(f"{where}: cannot read {CONFIG_PATH} ({value}); reports from {account}'s repositories "
                       "have no tracking repository")
        else:
            why = "has no tracking_repo" if kind == "file" else "does not exist or the App cannot read it"
            check.warn(f"{where}: {CONFIG_PATH} {why}; reports from {account}'s repositories have no "
                       "tracking repository")
    for full_name in named.values():
        await check_tracking_repo(check, clients, full_name, f"{CONFIG_PATH} tracking_repo")


# --------------------------------------------------------------------------- the command

def run(check: Checklist, cwd: Path, environ: Mapping[str, str]) -> None:
    settings = read_settings(check, cwd, environ)
    if settings is None:
        check.warn("GitHub: not asked (the App's id and key are needed first)")
        return
    asyncio.run(check_github(check, settings))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help (0) or a bad argument (2, already reported in one line)
        return int(exc.code or 0)

    check = Checklist(out=sys.stdout)
    try:
        run(check, Path.cwd(), os.environ)
    except Exception as exc:  # a bug or a surprise from GitHub: one line, never a traceback with a secret in it
        check.fail("unexpected error", f"doctor: unexpected error ({_reason(exc)})")
    sys.stdout.write(check.summary() + "\n")
    sys.stdout.flush()
    return 1 if check.failures else 0
