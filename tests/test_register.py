"""`python -m app register`, run as an operator runs it, with the fake GitHub playing github.com: the page's
form is read as a browser would, and GitHub's redirect back is simulated by calling the callback URL."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt as pyjwt
import pytest
import yaml

from app.cli.register import build_manifest, new_app_url, web_url_for
from app.fakegithub import FakeGitHub
from app.settings import load_settings
from tests.harness import ROOT, stop_process, wait_until

APP_YML = yaml.safe_load((ROOT / "app.yml").read_text())
URL_RE = re.compile(r"http://127\.0\.0\.1:\d+/")


# --------------------------------------------------------------------------- helpers

class Register:
    """`python -m app register ARGS` in `cwd` with only GITHUB_API_URL set; its output goes to files."""

    def __init__(self, api_url: str, cwd: Path, *args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COC_", "DATABASE_"))}
        env.update(GITHUB_API_URL=api_url, PYTHONUNBUFFERED="1")
        self.cwd = cwd
        self.out_path, self.err_path = cwd / "register.out", cwd / "register.err"
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "app", "register", *args], cwd=cwd, env=env,
                                         stdout=out, stderr=err)
        self.url = ""

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def wait_url(self) -> str:
        def printed():
            match = URL_RE.search(self.stdout)
            if match:
                return match.group(0)
            if self.proc.poll() is not None:
                raise AssertionError(f"register exited with {self.proc.returncode}: {self.stderr}")
            return None

        self.url = wait_until(printed, 20, "register to print its URL")
        return self.url

    def wait(self, timeout: float = 30) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture
def register(fake, tmp_path):
    started: list[Register] = []

    def start(*args: str, api_url: str | None = None) -> Register:
        r = Register(api_url or fake.url, tmp_path, *args)
        started.append(r)
        r.wait_url()
        return r

    yield start
    for r in started:
        r.stop()


def fetch(url: str, *, host: str | None = None) -> tuple[int, str]:
    headers = {"Host": host} if host else {}
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": (a.get("method") or "get").lower(), "inputs": {}})
        elif tag == "input" and self.forms:
            self.forms[-1]["inputs"][a.get("name")] = a.get("value")


def read_form(page_url: str) -> tuple[str, dict, str]:
    """The page's one form as a browser sees it: (action, manifest, state in the action)."""
    status, text = fetch(page_url)
    assert status == 200
    parser = FormParser()
    parser.feed(text)
    assert len(parser.forms) == 1
    form = parser.forms[0]
    assert form["method"] == "post" and list(form["inputs"]) == ["manifest"]
    state = parse_qs(urlsplit(form["action"]).query)["state"][0]
    return form["action"], json.loads(form["inputs"]["manifest"]), state


def github_redirect(manifest: dict, code: str, state: str) -> tuple[int, str]:
    """What GitHub does once the App is created: send the browser to redirect_url with the code and state."""
    return fetch(manifest["redirect_url"] + "?" + urlencode({"code": code, "state": state}))


def read_env(path: Path) -> dict[str, str]:
    """The .env as a dotenv reader sees it: KEY=value lines, comments skipped."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, line
            values[key.strip()] = value
    return values


def conversions(fake) -> list:
    return [r for r in fake.requests if r.method == "POST" and r.path.startswith("/app-manifests/")]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
    assert "PRIVATE KEY" not in text


# --------------------------------------------------------------------------- the flow

def test_register_serves_the_manifest_exchanges_the_code_once_and_writes_a_private_env(fake, register, tmp_path):
    r = register("--port", "0")
    action, manifest, state = read_form(r.url)

    # The form posts app.yml's manifest to GitHub's "new App" page on the web host of GITHUB_API_URL.
    parts = urlsplit(action)
    assert f"{parts.scheme}://{parts.netloc}" == fake.url and parts.path == "/settings/apps/new"
    assert len(state) >= 32
    assert manifest["name"] == APP_YML["name"] and manifest["url"] == APP_YML["url"]
    assert manifest["hook_attributes"]["url"] == APP_YML["hook_attributes"]["url"]
    assert manifest["redirect_url"] == r.url + "callback"
    assert manifest["default_permissions"] == APP_YML["default_permissions"]
    assert manifest["default_events"] == APP_YML["default_events"]
    assert not (tmp_path / ".env").exists()

    code = "a1b2c3d4e5f6a7b8c9d0"
    status, page = github_redirect(manifest, code, state)
    assert status == 200 and fake.app_slug in page
    assert r.wait() == 0
    assert [r_.path for r_ in conversions(fake)] == [f"/app-manifests/{code}/conversions"]
    assert conversions(fake)[0].auth is None  # no authentication: the code is the credential

    env_path = tmp_path / ".env"
    assert mode(env_path) == 0o600
    env = read_env(env_path)
    assert set(env) == {"GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET", "GITHUB_PRIVATE_KEY", "GITHUB_API_URL"}
    assert env["GITHUB_APP_ID"] == str(fake.app_id) and env["GITHUB_API_URL"] == fake.url
    secret = env["GITHUB_WEBHOOK_SECRET"]
    assert len(secret) >= 20

    assert f"registered {fake.app_slug} (id {fake.app_id}); settings written to .env" in r.stdout.splitlines()
    key_lines = [line for line in fake.private_key_pem.splitlines() if line and "-----" not in line]
    for text in (r.stdout, r.stderr, page):
        assert_no_secret(text, secret, code, *key_lines)

    # The server's settings accept that .env alone, and GitHub accepts its key.
    settings = load_settings(env)
    assert settings.app_id == fake.app_id and settings.webhook_secret == secret.encode()
    assert settings.private_key.strip() == fake.private_key_pem.strip()
    assert settings.api_url == fake.url
    token = pyjwt.encode({"iat": int(time.time()) - 60, "exp": int(time.time()) + 300, "iss": str(settings.app_id)},
                         settings.private_key, algorithm="RS256")
    req = urllib.request.Request(f"{settings.api_url}/app", headers={"Authorization": f"Bearer {token}",
                                                                     "Accept": "application/vnd.github+json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["id"] == fake.app_id


def test_a_wrong_state_or_host_is_refused_and_exchanges_nothing(fake, register, tmp_path):
    r = register()
    _, manifest, state = read_form(r.url)

    assert github_redirect(manifest, "c0ffee", "not-" + state)[0] == 400
    assert github_redirect(manifest, "c0ffee", "")[0] == 400
    assert fetch(manifest["redirect_url"] + "?code=c0ffee")[0] == 400
    # A page on another site reaching this server through a rebound name.
    assert fetch(r.url, host="evil.example:80")[0] == 400
    assert fetch(manifest["redirect_url"] + "?" + urlencode({"code": "c0ffee", "state": state}),
                 host="evil.example")[0] == 400
    assert conversions(fake) == [] and not (tmp_path / ".env").exists()
    assert r.proc.poll() is None  # stray requests do not end the registration

    status, _ = github_redirect(manifest, "c0ffee", state)
    assert status == 200 and r.wait() == 0
    assert len(conversions(fake)) == 1 and (tmp_path / ".env").exists()


def test_the_code_is_exchanged_once_when_the_callback_comes_twice(fake, register, tmp_path):
    r = register()
    _, manifest, state = read_form(r.url)
    fake.delay_next("POST", r"^/app-manifests/", seconds=1.5)  # the first exchange is still running
    results: list[int] = []

    def call(code):
        results.append(github_redirect(manifest, code, state)[0])

    threads = [threading.Thread(target=call, args=(code,)) for code in ("c0de1", "c0de2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200, 409]
    assert r.wait() == 0
    assert len(conversions(fake)) == 1


def test_an_existing_env_is_not_overwritten_without_force(fake, tmp_path):
    env_path = tmp_path / ".env"
    env_path.write_text("COC_TRACKING_REPO=psf-coc/incidents\n")
    r = Register(fake.url, tmp_path)
    try:
        assert r.wait() == 2
    finally:
        r.stop()
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and ".env" in err[0] and "--force" in err[0]
    assert r.stdout == "" and env_path.read_text() == "COC_TRACKING_REPO=psf-coc/incidents\n"


def test_an_env_that_appears_while_on_github_is_kept_and_reloading_completes(fake, register, tmp_path):
    r = register()
    _, manifest, state = read_form(r.url)
    env_path = tmp_path / ".env"
    env_path.write_text("COC_DRY_RUN=1\n")
    assert github_redirect(manifest, "c0de", state)[0] == 409
    assert env_path.read_text() == "COC_DRY_RUN=1\n" and conversions(fake) == []
    env_path.rename(tmp_path / "old.env")
    assert github_redirect(manifest, "c0de", state)[0] == 200  # the browser reloads the same callback
    assert r.wait() == 0 and len(conversions(fake)) == 1 and "GITHUB_APP_ID" in read_env(env_path)


def test_force_replaces_an_existing_env_with_a_private_one(fake, register, tmp_path):
    env_path = tmp_path / ".env"
    env_path.write_text("GITHUB_APP_ID=7\n")
    env_path.chmod(0o644)
    r = register("--force")
    _, manifest, state = read_form(r.url)
    assert github_redirect(manifest, "f00d", state)[0] == 200
    assert r.wait() == 0
    assert mode(env_path) == 0o600 and read_env(env_path)["GITHUB_APP_ID"] == str(fake.app_id)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".env")] == [".env"]  # no temporary left


def test_key_file_writes_a_private_pem_and_names_it(fake, register, tmp_path, monkeypatch):
    r = register("--key-file", "conduct-bot.pem")
    _, manifest, state = read_form(r.url)
    status, page = github_redirect(manifest, "beef", state)
    assert status == 200 and r.wait() == 0

    key = tmp_path / "conduct-bot.pem"
    assert mode(key) == 0o600 and key.read_text().strip() == fake.private_key_pem.strip()
    env = read_env(tmp_path / ".env")
    assert mode(tmp_path / ".env") == 0o600
    assert env["GITHUB_PRIVATE_KEY_PATH"] == "conduct-bot.pem" and "GITHUB_PRIVATE_KEY" not in env
    monkeypatch.chdir(tmp_path)  # the server runs where .env is
    assert load_settings(env).private_key.strip() == fake.private_key_pem.strip()
    key_lines = [line for line in fake.private_key_pem.splitlines() if line and "-----" not in line]
    for text in (r.stdout, r.stderr, page):
        assert_no_secret(text, env["GITHUB_WEBHOOK_SECRET"], *key_lines)


def test_org_name_and_webhook_url_shape_the_form(fake, register):
    r = register("--org", "psf", "--name", "psf-conduct", "--webhook-url", "https://coc.python.org/webhook")
    action, manifest, state = read_form(r.url)
    parts = urlsplit(action)
    assert f"{parts.scheme}://{parts.netloc}" == fake.url
    assert parts.path == "/organizations/psf/settings/apps/new" and parse_qs(parts.query) == {"state": [state]}
    assert manifest["name"] == "psf-conduct"
    assert manifest["hook_attributes"]["url"] == "https://coc.python.org/webhook"
    assert manifest["default_permissions"] == APP_YML["default_permissions"]
    assert manifest["default_events"] == APP_YML["default_events"]


def test_no_answer_within_the_timeout_exits_1_and_writes_nothing(fake, tmp_path):
    r = Register(fake.url, tmp_path, "--timeout", "0.5")
    try:
        assert r.wait() == 1
    finally:
        r.stop()
    assert "nothing written" in r.stderr and not (tmp_path / ".env").exists()


def test_an_answer_without_webhook_secret_keeps_the_key_and_says_what_is_missing(fake, register, tmp_path):
    fake.fail_next("POST", r"^/app-manifests/", status=201,
                   body={"id": 77, "slug": "coc-bot", "pem": fake.private_key_pem, "webhook_secret": None})
    r = register()
    _, manifest, state = read_form(r.url)
    assert github_redirect(manifest, "5ec", state)[0] == 200
    assert r.wait() == 1
    env = read_env(tmp_path / ".env")
    assert env["GITHUB_APP_ID"] == "77" and "GITHUB_PRIVATE_KEY" in env and "GITHUB_WEBHOOK_SECRET" not in env
    err = r.stderr.strip().splitlines()[-1]
    assert "coc-bot (id 77)" in err and "GITHUB_WEBHOOK_SECRET" in err


def test_help_and_the_command_list():
    proc = subprocess.run([sys.executable, "-m", "app", "register", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and "--org" in proc.stdout and "--key-file" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "app", "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert proc.returncode == 0 and "register [--port PORT] [--org ORG]" in proc.stdout


@pytest.mark.parametrize("args", [["--port", "70000"], ["--org", "not an org"], ["--webhook-url", "ftp://x/y"],
                                  ["--timeout", "0"], ["--bogus"]])
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, args):
    proc = subprocess.run([sys.executable, "-m", "app", "register", *args], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and proc.stdout == ""


def test_enterprise_server_registers_on_its_own_web_host(tmp_path):
    ghes = FakeGitHub(enterprise=True).start()
    r = Register(ghes.url, tmp_path, "--org", "psf")
    try:
        url = r.wait_url()
        action, manifest, state = read_form(url)
        assert ghes.url.endswith("/api/v3")
        assert action.startswith(ghes.url[: -len("/api/v3")] + "/organizations/psf/settings/apps/new?state=")
        assert github_redirect(manifest, "e17e", state)[0] == 200
        assert r.wait() == 0
        assert read_env(tmp_path / ".env")["GITHUB_API_URL"] == ghes.url
        assert [x.path for x in conversions(ghes)] == ["/app-manifests/e17e/conversions"]
        assert ghes.violations == []
    finally:
        r.stop()
        ghes.stop()


# --------------------------------------------------------------------------- pure parts

@pytest.mark.parametrize("api_url, web", [
    ("https://api.github.com", "https://github.com"),
    ("https://api.github.com/", "https://github.com"),
    ("https://ghe.corp.example/api/v3", "https://ghe.corp.example"),
    ("https://ghe.corp.example:8443/api/v3/", "https://ghe.corp.example:8443"),
    ("https://api.octocorp.ghe.com", "https://octocorp.ghe.com"),
    ("http://127.0.0.1:51234", "http://127.0.0.1:51234"),
])
def test_web_host_from_the_api_url(api_url, web):
    assert web_url_for(api_url) == web


def test_new_app_url_for_an_account_and_an_organisation():
    assert new_app_url("https://github.com", None, "s") == "https://github.com/settings/apps/new?state=s"
    assert new_app_url("https://ghe.corp.example", "psf", "s") == \
        "https://ghe.corp.example/organizations/psf/settings/apps/new?state=s"


def test_the_manifest_keeps_app_yml_permissions_and_events_exactly():
    m = build_manifest(APP_YML, redirect_url="http://127.0.0.1:1/callback")
    assert m["default_permissions"] == APP_YML["default_permissions"]
    assert m["default_events"] == APP_YML["default_events"]
    assert m["hook_attributes"] == APP_YML["hook_attributes"] and m["public"] is False


def test_the_packaged_app_yml_is_the_repositorys():
    # `register` reads app/app.yml (package data, so an installed copy can register); the root app.yml is the
    # one people read and edit. They must not drift.
    assert (ROOT / "app" / "app.yml").read_bytes() == (ROOT / "app.yml").read_bytes(), \
        "copy app.yml to app/app.yml"
