"""Repository configuration: `.github/coc.yml` merged over the org's `.github` repo over defaults.

Files are cached in the store for five minutes and dropped at once when a push
touches them. An invalid file is ignored as a whole (the next level applies),
logged, and filed once per version as a `coc:config` issue in the tracking
repository.
"""
from __future__ import annotations

import base64
import copy
import logging
from typing import Any

import gidgethub
import yaml

from .durations import parse_duration

log = logging.getLogger("conduct_bot.config")

CONFIG_PATH = ".github/coc.yml"
ORG_REPO = ".github"               # the organisation-wide level lives in this repository
TRACKING_REPO_HERE = (
    "tracking_repo: honoured only in the organisation's .github repository; this key was ignored "
    "(the rest of the file applies)")
CACHE_NS = "config-file"
CACHE_TTL = 300.0
PERMISSIONS = ("read", "triage", "write", "maintain", "admin")

DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "tracking_repo": None,
    "maintainer_permission": "write",
    "report_permission": "read",
    "contact": "conduct-wg@python.org",
    "delete_report_command": True,
    "reminders": {"auto": True, "cooldown": "7d"},
    "heat": {"threshold": None, "shadow": False, "auto_lock": False, "lock_threshold": None},
    "lock": {"notice": True},
    "sla": {"acknowledge": "5d"},
    "templates": {"reminder": None, "lock": None, "help": None, "usage": None, "report_refused": None},
}


def _duration(value) -> str | None:
    if not isinstance(value, str):
        return "must be a duration such as 24h or 7d"
    try:
        parse_duration(value)
    except ValueError as exc:
        return str(exc)
    return None


def _score(value) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return "must be a number from 0 to 1"
    return None


def _bool(value) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _one_of(*choices):
    def check(value):
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


def _text(value) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be text"


def _repo(value) -> str | None:
    if isinstance(value, str) and value.count("/") == 1 and all(value.split("/")):
        return None
    return "must be owner/name"


def _path(value) -> str | None:
    if isinstance(value, str) and value and not value.startswith("/") and ".." not in value.split("/"):
        return None
    return "must be a path inside the repository"


SCHEMA: dict[str, Any] = {
    "enabled": _bool,
    "tracking_repo": _repo,
    "maintainer_permission": _one_of("triage", "write", "maintain", "admin"),
    "report_permission": _one_of(*PERMISSIONS),
    "contact": _text,
    "delete_report_command": _bool,
    "reminders": {"auto": _bool, "cooldown": _duration},
    "heat": {"threshold": _score, "shadow": _bool, "auto_lock": _bool, "lock_threshold": _score},
    "lock": {"notice": _bool},
    "sla": {"acknowledge": _duration},
    "templates": {"reminder": _path, "lock": _path, "help": _path, "usage": _path, "report_refused": _path},
}


class ConfigError(ValueError):
    """An invalid configuration file; the message is readable by the repository's maintainers."""


def validate(data: Any, schema: dict = SCHEMA, prefix: str = "") -> list[str]:
    """Problems in a parsed file, each naming the key: unknown keys, wrong types, bad values."""
    if data is None:
        return []
    if not isinstance(data, dict):
        return [f"{prefix.rstrip('.') or 'the file'} must be a mapping of keys to values"]
    problems = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        rule = schema.get(key) if isinstance(key, str) else None
        if rule is None:
            problems.append(f"{name}: unknown key (known: {', '.join(sorted(schema))})")
        elif isinstance(rule, dict):
            problems.extend(validate(value, rule, f"{name}.") if isinstance(value, dict)
                            else [f"{name}: must be a mapping"])
        elif value is None and key in ("tracking_repo",):
            continue
        else:
            err = rule(value)
            if err:
                problems.append(f"{name}: {err}")
    return problems


MAX_DEPTH = 20  # levels of mappings and lists a file may nest (the schema needs two)
TOO_DEEP = f"nested too deeply (more than {MAX_DEPTH} levels of mappings or lists)"
# PyYAML's C reader (libyaml) when it is installed: a hostile file is read as events in C, quickly.
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that stops at MAX_DEPTH nested mappings and lists, long before Python's recursion
    limit (and before its reader has looked far into a file of thousands of `[`)."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH + 1:  # a value inside the deepest mapping or list is one level more
                raise ConfigError(TOO_DEEP)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _too_deep(text: str) -> bool:
    """Does the file nest mappings or lists deeper than MAX_DEPTH? Decided from its stream of events,
    without building anything; a file that is not valid YAML is left to the parser to explain."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    return True
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        return "nesting depth" in str(getattr(exc, "problem", None) or "")  # libyaml's own limit
    return False


def parse(text: str) -> dict:
    """Parse and validate a file's text; raise ConfigError with every problem.

    Any file that cannot be read is invalid, one nested thousands of levels deep included."""
    try:
        if not text.strip():
            data = {}
        elif _too_deep(text):
            raise ConfigError(TOO_DEEP)
        else:
            data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ConfigError(TOO_DEEP) from None
    problems = validate(data)
    if problems:
        raise ConfigError("; ".join(problems))
    return data or {}


def merge(base: dict, override: dict) -> dict:
    """Deep merge: mappings key by key, everything else replaced."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Config(dict):
    """The merged configuration of one repository, with typed accessors."""

    def seconds(self, dotted: str) -> int:
        node: Any = self
        for part in dotted.split("."):
            node = node[part]
        return parse_duration(node)


async def fetch_file(gh, owner: str, repo: str, path: str) -> dict | None:
    """The file on the default branch as {"text", "sha"}, or None when it does not exist."""
    try:
        data = await gh.getitem("/repos/{owner}/{repo}/contents/{+path}",
                                {"owner": owner, "repo": repo, "path": path})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type", "file") != "file":
        return None
    text = base64.b64decode(data.get("content") or "").decode("utf-8", "replace")
    return {"text": text, "sha": data.get("sha")}


class ConfigLoader:
    """Reads and caches configuration files; all cache state lives in the store."""

    def __init__(self, store, on_invalid=None):
        self.store = store
        self.on_invalid = on_invalid  # async callback(owner, repo, path, sha, error, installation_id)

    async def file(self, gh, owner: str, repo: str, path: str = CONFIG_PATH) -> dict | None:
        key = f"{owner}/{repo}:{path}".lower()
        cached = await self.store.get(CACHE_NS, key)
        if cached is not None:
            return cached.get("file")
        found = await fetch_file(gh, owner, repo, path)
        await self.store.put(CACHE_NS, key, {"file": found}, ttl=CACHE_TTL)
        return found

    async def _level(self, gh, owner, repo, installation_id, *, notify: bool = True) -> dict:
        found = await self.file(gh, owner, repo)
        if not found:
            return {}
        try:
            data = parse(found["text"])
        except ConfigError as exc:
            await self._invalid(owner, repo, found, str(exc), installation_id, notify)
            return {}
        if repo != ORG_REPO and data.get("tracking_repo") is not None:
            # Where reports go is the organisation's decision: a repository's own file cannot redirect them.
            data = {k: v for k, v in data.items() if k != "tracking_repo"}
            await self._invalid(owner, repo, found, TRACKING_REPO_HERE, installation_id, notify)
        return data

    async def _invalid(self, owner, repo, found, error, installation_id, notify) -> None:
        log.warning("ignoring invalid %s in %s/%s: %s", CONFIG_PATH, owner, repo, error,
                    extra={"repository": f"{owner}/{repo}"})
        if notify and self.on_invalid is not None:
            await self.on_invalid(owner, repo, CONFIG_PATH, found.get("sha"), error, installation_id)

    async def org_level(self, gh, owner: str, installation_id: int | None = None, *, notify: bool = True) -> dict:
        """The organisation's own file (its `.github` repository), validated, without defaults."""
        return await self._level(gh, owner, ORG_REPO, installation_id, notify=notify)

    async def load(self, gh, owner: str, repo: str, installation_id: int | None = None) -> Config:
        """A repository's file over its organisation's over the defaults; `tracking_repo` only from the
        organisation's."""
        org_level = {} if repo == ORG_REPO else await self.org_level(gh, owner, installation_id)
        repo_level = await self._level(gh, owner, repo, installation_id)
        return Config(merge(merge(DEFAULTS, org_level), repo_level))

    async def forget(self, owner: str, repo: str, paths=(CONFIG_PATH,)) -> None:
        for path in paths:
            await self.store.delete(CACHE_NS, f"{owner}/{repo}:{path}".lower())
