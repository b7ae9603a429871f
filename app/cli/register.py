"""`python -m app register`: GitHub's App-manifest flow from `app.yml` (SPEC.md: Command line).

1. Serves one page on 127.0.0.1 and prints its URL. The page's form posts the manifest built from `app.yml`
   (name, url, webhook URL, permissions and events exactly as listed there; `redirect_url` back to this
   server) to GitHub's `/settings/apps/new` (or `/organizations/ORG/settings/apps/new`), with a random `state`.
2. GitHub creates the App and sends the browser back to `/callback?code=…&state=…`. A callback whose state
   does not match is refused (400) and nothing is exchanged; the first matching one exchanges the code once
   (`POST /app-manifests/{code}/conversions`, no authentication), later ones are refused.
3. Writes `.env` (mode 0600) with GITHUB_APP_ID, GITHUB_WEBHOOK_SECRET and the key, inline or (`--key-file`)
   as a 0600 PEM file it names; GITHUB_API_URL too when it is not github.com's. Prints the App's slug and id.

Nothing secret (key, webhook secret, client secret, the code) is ever printed or logged. An existing `.env`
(or key file) is never overwritten without `--force`. GitHub's documentation of the flow:
https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

The manifest source is `app/app.yml`, a copy of the repository's `app.yml` shipped as package data, so an
installed copy can register; tests/test_register.py keeps the two identical.
"""
from __future__ import annotations

import asyncio
import html
import json
import os
import re
import secrets
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ..manifest import app_manifest
from . import OneLineParser

PROG = "python -m app register"
DEFAULT_API_URL = "https://api.github.com"
ENV_FILE = ".env"
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_URL_RE = re.compile(r"^https?://[^/\s?#]+(/\S*)?$")
# GitHub's manifest codes are short tokens; anything else is not worth sending.
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


class RegisterError(Exception):
    """Something the operator must fix; one line on stderr. `code` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# --------------------------------------------------------------------------- pure: URLs, manifest, files

def web_url_for(api_url: str) -> str:
    """GitHub's web host for a REST base: api.github.com → github.com; `https://HOST/api/v3` (Enterprise
    Server) → `https://HOST`; `https://api.SUB.ghe.com` (Enterprise Cloud with data residency) →
    `https://SUB.ghe.com`; anything else (a test double) → its own origin."""
    parts = urlsplit(api_url.strip())
    scheme, host = parts.scheme.lower(), parts.netloc.lower()
    if host == "api.github.com":
        return "https://github.com"
    if host.startswith("api.") and host.endswith(".ghe.com"):
        return f"{scheme}://{host[len('api.'):]}"
    return f"{scheme}://{parts.netloc}"


def new_app_url(web_url: str, org: str | None, state: str) -> str:
    """Where the manifest is posted: the user's or the organisation's "new GitHub App" page."""
    path = f"/organizations/{quote(org)}/settings/apps/new" if org else "/settings/apps/new"
    return f"{web_url.rstrip('/')}{path}?state={quote(state)}"


def load_app_yml() -> dict[str, Any]:
    """The App's manifest as written in app.yml (the copy shipped inside the package)."""
    try:
        return app_manifest()
    except ValueError as exc:
        raise RegisterError(str(exc)) from None


def build_manifest(app_yml: dict[str, Any], *, redirect_url: str, name: str | None = None,
                   webhook_url: str | None = None) -> dict[str, Any]:
    """The manifest GitHub receives: app.yml's fields, with the name and webhook URL given on the command line
    (if any) and the redirect back to this server. Permissions and events are app.yml's, untouched."""
    hook = dict(app_yml.get("hook_attributes") or {})
    if webhook_url:
        hook["url"] = webhook_url
    manifest: dict[str, Any] = {"name": name or app_yml["name"], "url": app_yml["url"], "hook_attributes": hook,
                                "redirect_url": redirect_url}
    for key in ("description", "public"):
        if key in app_yml:
            manifest[key] = app_yml[key]
    manifest["default_permissions"] = dict(app_yml["default_permissions"])
    manifest["default_events"] = list(app_yml["default_events"])
    return manifest


def _env_value(name: str, value: str) -> str:
    """One `.env` value, unquoted: readable by python-dotenv, docker --env-file and a line-by-line reader
    alike. The key's line breaks become `\\n` escapes, which the settings read back."""
    value = value.strip().replace("\r\n", "\n").replace("\n", "\\n")
    if not value or any(c in value for c in "\r\n\0\"'") or value[0] == "#":
        raise RegisterError(f"GitHub's answer has an unusable {name}; nothing written")
    return value


def env_file_text(values: dict[str, str], *, slug: str, when: datetime | None = None) -> str:
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# conduct-bot: the GitHub App {slug}, registered by python -m app register on {stamp}."]
    lines += [f"{k}={_env_value(k, v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def write_private(path: Path, text: str, *, force: bool) -> None:
    """Write `text` to `path` with mode 0600. Without `force` an existing file (or symlink) is never touched;
    with it, the file is replaced atomically (the new one is 0600 from its first byte)."""
    data = text.encode()
    if not force:
        _write_new(path, data)
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        _write_new(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise


def _write_new(path: Path, data: bytes) -> None:
    """Create PATH (never an existing file or symlink) readable by its owner only, and write DATA durably."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


# --------------------------------------------------------------------------- the page

_STYLE = ("body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;color:#1f2328}"
          "code{background:#f6f8fa;padding:0 .2em}button{font-size:1em;padding:.5em 1.2em;cursor:pointer}"
          "li{margin:.1em 0}")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body></html>\n")


def form_page(manifest: dict[str, Any], action: str, *, web_url: str, org: str | None) -> str:
    e = html.escape
    owner = f"the organisation <code>{e(org)}</code>" if org else "your personal account"
    perms = "".join(f"<li><code>{e(k)}</code>: {e(str(v))}</li>" for k, v in manifest["default_permissions"].items())
    events = ", ".join(f"<code>{e(ev)}</code>" for ev in manifest["default_events"])
    body = (
        f"<p>This creates the GitHub App <b>{e(manifest['name'])}</b> on <code>{e(web_url)}</code>, owned by "
        f"{owner}, from <code>app.yml</code>. GitHub shows the App before creating it and then sends you back "
        "here; its id, key and webhook secret are written to <code>.env</code> on this machine, never shown.</p>\n"
        f"<p>Webhook URL: <code>{e(manifest['hook_attributes'].get('url', ''))}</code> (can be changed later in "
        "the App's settings).</p>\n"
        f"<p>Permissions (least privilege; each is explained in <code>app.yml</code>):</p><ul>{perms}</ul>\n"
        f"<p>Events: {events}.</p>\n"
        f"<form action=\"{e(action)}\" method=\"post\">\n"
        f"<input type=\"hidden\" name=\"manifest\" value=\"{e(json.dumps(manifest))}\">\n"
        "<button type=\"submit\">Create the GitHub App on GitHub</button>\n</form>"
    )
    return _page(f"Register {manifest['name']}", body)


def done_page(slug: str, app_id: int, html_url: str, written: str, *, note: str = "") -> str:
    e = html.escape
    install = f"{html_url.rstrip('/')}/installations/new" if html_url else ""
    link = (f" Next, <a href=\"{e(install)}\">install it</a> on the organisations to moderate and on the "
            "tracking repository's organisation." if install else "")
    body = (f"<p>The GitHub App <b>{e(slug)}</b> (id {app_id}) is registered; its settings are written to "
            f"{e(written)}. You can close this page.{link}</p>" + (f"\n<p><b>{e(note)}</b></p>" if note else ""))
    return _page("Done", body)


# --------------------------------------------------------------------------- the server

@dataclass
class Registration:
    api_url: str
    web_url: str
    org: str | None
    name: str | None
    webhook_url: str | None
    key_file: Path | None
    force: bool
    env_path: Path = field(default_factory=lambda: Path(ENV_FILE))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0
    claimed: bool = False  # a callback with the right state arrived: its code is the only one ever exchanged
    outcome: asyncio.Future | None = None  # (exit status, line to print, stream)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manifest(self) -> dict[str, Any]:
        return build_manifest(load_app_yml(), redirect_url=f"{self.base}/callback", name=self.name,
                              webhook_url=self.webhook_url)

    def finish(self, status: int, line: str, stream: str = "stdout") -> None:
        if self.outcome is not None and not self.outcome.done():
            self.outcome.set_result((status, line, stream))

    def refuse_existing(self) -> str | None:
        """The line saying which file would be overwritten, if one would (and --force is not given)."""
        if self.force:
            return None
        for path in (self.env_path, self.key_file):
            if path is not None and _exists(path):
                return f"{path} already exists; not overwritten (move it away, or pass --force)"
        return None

    # ---- HTTP

    def _host_ok(self, request) -> bool:
        # A page on another site must not reach this server through a rebound DNS name.
        return request.host in (f"127.0.0.1:{self.port}", f"localhost:{self.port}")

    def _html(self, status: int, text: str):
        from aiohttp import web

        return web.Response(status=status, text=text, content_type="text/html", headers={
            "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"})

    def _error(self, status: int, message: str):
        return self._html(status, _page("Not registered", f"<p>{html.escape(message)}</p>"))

    async def index(self, request):
        if not self._host_ok(request):
            return self._error(400, "Unexpected Host header.")
        action = new_app_url(self.web_url, self.org, self.state)
        return self._html(200, form_page(self.manifest(), action, web_url=self.web_url, org=self.org))

    async def callback(self, request):
        if not self._host_ok(request):
            return self._error(400, "Unexpected Host header.")
        state, code = request.query.get("state", ""), request.query.get("code", "")
        if not secrets.compare_digest(state.encode(), self.state.encode()):
            return self._error(400, "This answer does not belong to this registration (state mismatch); "
                                    "nothing was exchanged. Start again from the page this command printed.")
        if self.claimed:
            return self._error(409, "This registration has already received GitHub's answer; "
                                    "a code is exchanged only once.")
        if not _CODE_RE.match(code):
            return self._error(400, "GitHub's answer carries no usable code.")
        existing = self.refuse_existing()
        if existing:
            # Appeared while the operator was on GitHub. The code is not spent: once the file is moved away,
            # reloading this page completes the registration.
            print(f"note: {existing}; waiting", file=sys.stderr, flush=True)
            return self._error(409, f"{existing}. Nothing was exchanged or written: move it away and reload "
                                    "this page.")
        self.claimed = True
        try:
            app = await self.exchange(code)
            slug, app_id, written = self.write(app)
        except RegisterError as exc:
            resp = self._error(502, str(exc))
            await self._send(request, resp)
            self.finish(exc.code, f"error: {exc}", "stderr")
            return resp
        missing = "" if app.get("webhook_secret") else (
            "GitHub returned no webhook secret: set one in the App's settings and add GITHUB_WEBHOOK_SECRET to "
            f"{self.env_path}")
        resp = self._html(200, done_page(slug, app_id, str(app.get("html_url") or ""), written, note=missing))
        await self._send(request, resp)
        if missing:
            self.finish(1, f"error: registered {slug} (id {app_id}) and wrote {written}, but {missing}", "stderr")
        else:
            self.finish(0, f"registered {slug} (id {app_id}); settings written to {self.env_path}")
        return resp

    @staticmethod
    async def _send(request, resp) -> None:
        # Sent in full before the command is told to stop, so the browser always gets its page.
        await resp.prepare(request)
        await resp.write_eof()

    async def exchange(self, code: str) -> dict[str, Any]:
        """POST /app-manifests/{code}/conversions, unauthenticated, once."""
        import aiohttp

        from ..github import USER_AGENT

        url = f"{self.api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": USER_AGENT}
        failed = ("GitHub did not hand over the App's credentials ({}). If the App was created, generate a key "
                  "and set a webhook secret in its settings, or delete it and run register again")
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30, connect=10)) as session, \
                    session.post(url, headers=headers) as resp:
                status = resp.status
                try:
                    body = await resp.json(content_type=None)
                except ValueError:
                    body = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RegisterError(failed.format(f"{exc.__class__.__name__} from {self.api_url}")) from None
        if status != 201 or not isinstance(body, dict):
            message = body.get("message") if isinstance(body, dict) else None
            reason = f"HTTP {status}" + (f": {str(message)[:200]}" if isinstance(message, str) else "")
            raise RegisterError(failed.format(reason))
        return body

    def write(self, app: dict[str, Any]) -> tuple[str, int, str]:
        """Write the key file (if asked) and .env from GitHub's answer; return slug, id and what was written."""
        app_id, slug, pem, secret = app.get("id"), app.get("slug"), app.get("pem"), app.get("webhook_secret")
        if not isinstance(app_id, int) or isinstance(app_id, bool) or app_id <= 0:
            raise RegisterError("GitHub's answer has no App id; nothing written")
        if not isinstance(slug, str) or not re.match(r"^[A-Za-z0-9._-]{1,100}$", slug):
            slug = f"app-{app_id}"
        if not isinstance(pem, str) or "PRIVATE KEY-----" not in pem:
            raise RegisterError("GitHub's answer has no private key; nothing written")
        values = {"GITHUB_APP_ID": str(app_id)}
        if isinstance(secret, str) and secret:
            values["GITHUB_WEBHOOK_SECRET"] = secret
        else:  # the key is still kept: the code cannot be exchanged again
            app["webhook_secret"] = None
        written = str(self.env_path)
        if self.key_file is not None:
            values["GITHUB_PRIVATE_KEY_PATH"] = str(self.key_file)
        else:
            values["GITHUB_PRIVATE_KEY"] = pem
        if self.api_url.rstrip("/") != DEFAULT_API_URL:
            values["GITHUB_API_URL"] = self.api_url.rstrip("/")
        text = env_file_text(values, slug=slug)  # validated before anything is written
        try:
            if self.key_file is not None:
                write_private(self.key_file, pem.strip() + "\n", force=self.force)
                written = f"{self.env_path} and {self.key_file}"
            write_private(self.env_path, text, force=self.force)
        except FileExistsError as exc:
            raise RegisterError(f"{exc.filename} appeared while waiting; not overwritten", 2) from None
        except OSError as exc:
            raise RegisterError(f"cannot write {exc.filename}: {exc.strerror}") from None
        return slug, app_id, written


async def serve(reg: Registration, port: int, timeout: float) -> tuple[int, str, str]:
    from aiohttp import web

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(16)
    except OSError as exc:
        sock.close()
        raise RegisterError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    reg.port = sock.getsockname()[1]
    reg.outcome = asyncio.get_running_loop().create_future()
    webapp = web.Application()
    webapp.router.add_get("/", reg.index)
    webapp.router.add_get("/callback", reg.callback)
    # No access log: a callback's URL carries GitHub's code.
    runner = web.AppRunner(webapp, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        where = f"the organisation {reg.org}" if reg.org else "your account"
        print(f"open {reg.base}/ in a browser on this machine to create the App on {reg.web_url} for {where}",
              flush=True)
        print(f"waiting up to {timeout:g} s for GitHub to send the browser back (Ctrl-C stops)", flush=True)
        try:
            return await asyncio.wait_for(asyncio.shield(reg.outcome), timeout)
        except TimeoutError:
            if reg.claimed:  # an exchange is under way: let it end rather than lose a created App's key
                return await reg.outcome
            return 1, f"error: no answer from GitHub within {timeout:g} s; nothing written", "stderr"
    finally:
        await runner.cleanup()


# --------------------------------------------------------------------------- command line

def _parser() -> OneLineParser:
    p = OneLineParser(
        prog=PROG,
        description="Register the GitHub App from app.yml with GitHub's App-manifest flow: serves a page on "
                    "127.0.0.1, prints its URL, and writes .env (mode 0600) with the App's id, webhook secret "
                    "and key once GitHub sends the browser back. Reads GITHUB_API_URL (default "
                    "https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3). Prints no secret.",
        epilog="On a remote machine, forward the port first (ssh -L PORT:127.0.0.1:PORT HOST) and pass --port.")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: any free port)")
    p.add_argument("--org", help="register the App for this organisation (default: your personal account)")
    p.add_argument("--webhook-url", metavar="URL",
                   help="the deployment's public https://…/webhook URL (default: app.yml's hook_attributes.url)")
    p.add_argument("--name", help="the App's name on GitHub (default: app.yml's name)")
    p.add_argument("--key-file", metavar="PATH",
                   help="write the private key to this file (0600) and put GITHUB_PRIVATE_KEY_PATH in .env "
                        "instead of the key itself")
    p.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS",
                   help="give up (exit 1) after this long without GitHub's answer (default 600)")
    p.add_argument("--force", action="store_true", help="overwrite an existing .env (and key file)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be from 0 to 65535")
    if args.org is not None and not _LOGIN_RE.match(args.org):
        parser.error("--org must be an organisation's login")
    if args.webhook_url is not None and not _URL_RE.match(args.webhook_url):
        parser.error("--webhook-url must be an http(s) URL")
    if args.name is not None and not args.name.strip():
        parser.error("--name must not be empty")
    if not args.timeout > 0:
        parser.error("--timeout must be a positive number of seconds")
    if args.key_file is not None and not args.key_file.strip():
        parser.error("--key-file must name a file")
    api_url = os.environ.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL
    if not _URL_RE.match(api_url):
        print("error: GITHUB_API_URL must be an http(s) URL", file=sys.stderr)
        return 2
    reg = Registration(api_url=api_url, web_url=web_url_for(api_url), org=args.org,
                       name=args.name.strip() if args.name else None, webhook_url=args.webhook_url,
                       key_file=Path(args.key_file).expanduser() if args.key_file else None, force=args.force)
    try:
        app_yml = load_app_yml()
        build_manifest(app_yml, redirect_url="http://127.0.0.1/callback")  # fails now, not in the browser
    except (RegisterError, KeyError, TypeError, ValueError, OSError) as exc:
        print(f"error: cannot read app.yml ({exc})", file=sys.stderr)
        return 1
    existing = reg.refuse_existing()
    if existing:
        print(f"error: {existing}", file=sys.stderr)
        return 2
    hook = urlsplit(reg.webhook_url or str((app_yml.get("hook_attributes") or {}).get("url", "")))
    if (hook.hostname or "").endswith((".example.org", ".example.com", ".example", ".invalid")):
        print(f"note: the webhook URL {hook.geturl()} is a placeholder; pass --webhook-url with the deployment's "
              "public URL, or change it later in the App's settings", file=sys.stderr)
    try:
        status, line, stream = asyncio.run(serve(reg, args.port, args.timeout))
    except RegisterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("interrupted; nothing written" if not reg.claimed else "interrupted", file=sys.stderr)
        return 130
    print(line, file=sys.stdout if stream == "stdout" else sys.stderr, flush=True)
    return status
