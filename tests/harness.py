"""Runs the real server against the fake GitHub for tests: in a thread, or as a `python -m app` process."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-webhook-secret"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url: str, body: bytes, headers: dict, timeout: float = 10.0) -> tuple[int, dict | str]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def get(url: str, timeout: float = 10.0) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_until(predicate, timeout: float = 10.0, what: str = "condition", interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def bot_env(fake, db_path: Path, **overrides) -> dict:
    env = {
        "GITHUB_APP_ID": str(fake.app_id),
        "GITHUB_PRIVATE_KEY": fake.private_key_pem,
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": fake.url,
        "DATABASE_URL": f"sqlite:///{db_path}",
        "COC_TRACKING_REPO": "psf-coc/incidents",
        "HOST": "127.0.0.1",
        "PORT": "0",
    }
    env.update({k: v for k, v in overrides.items() if v is not None})
    for k, v in overrides.items():
        if v is None:
            env.pop(k, None)
    return env


ORG = "psf"
REPO = "psf/black"
TRACKING = "psf-coc/incidents"
ROLES = {"ada": "admin", "mia": "maintain", "wes": "write", "tia": "triage", "rey": "read"}


def populate_world(fake) -> dict:
    """A typical PSF world: an org repo (and a private one) with people of every role, and a private
    tracking repository owned by a separate organisation with its own installation."""
    inst = fake.add_installation(ORG)
    fake.add_repo(REPO, installation_id=inst)
    fake.add_repo("psf/private-repo", installation_id=inst, private=True)
    for login, role in ROLES.items():
        fake.set_permission(REPO, login, role)
        fake.set_permission("psf/private-repo", login, role)
    wg_inst = fake.add_installation("psf-coc")
    fake.add_repo(TRACKING, installation_id=wg_inst, private=True)
    fake.set_permission(TRACKING, "wendy", "write")
    fake.set_permission(TRACKING, "olga", "read")
    fake.installation_ids = {"psf": inst, "psf-coc": wg_inst}
    return fake.installation_ids


class Deliverer:
    """Sends signed deliveries like GitHub does."""

    url: str

    def deliver(self, event_payload, *, delivery: str | None = None, secret: str = SECRET,
                headers: dict | None = None, body: bytes | None = None) -> tuple[int, object]:
        event, payload = event_payload
        raw = body if body is not None else json.dumps(payload).encode()
        h = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(raw, secret),
            "User-Agent": "GitHub-Hookshot/test",
        }
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        return post(self.url + "/webhook", raw, h)


class BotThread(Deliverer):
    """The real server (aiohttp app, store, worker) on 127.0.0.1 in a background thread."""

    def __init__(self, env: dict):
        from app.settings import load_settings

        self.env = env
        self.settings = load_settings(env)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.rt = None

    def start(self) -> BotThread:
        from app.runtime import Runtime
        from app.server import make_app

        ready = threading.Event()
        errors: list[BaseException] = []

        def main():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)

            async def boot():
                self.rt = Runtime(self.settings)
                self.runner = web.AppRunner(make_app(self.rt), access_log=None)
                await self.runner.setup()
                site = web.TCPSite(self.runner, "127.0.0.1", 0)
                await site.start()
                port = site._server.sockets[0].getsockname()[1]
                self.url = f"http://127.0.0.1:{port}"

            try:
                self.loop.run_until_complete(boot())
            except BaseException as exc:  # surfaced to the test
                errors.append(exc)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.runner.cleanup())
            self.loop.close()

        self.thread = threading.Thread(target=main, daemon=True, name="bot")
        self.thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self.loop and self.thread and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)

    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def jobs(self, state=None, kind=None) -> list[dict]:
        return self.call(self.rt.store.jobs(state=state, kind=kind))

    def busy(self) -> bool:
        now = time.time()
        return any(j["run_at"] <= now for j in self.jobs("queued")) or bool(self.jobs("running"))

    def wait_idle(self, timeout: float = 15.0) -> None:
        # Idle twice in a row: a finishing job may queue follow-up work.
        wait_until(lambda: not self.busy() and not self.busy(), timeout, "the bot's queue to drain")

    def register_job(self, kind: str, fn) -> None:
        """Teach the worker a job kind for this test: `async fn(job, runtime)`."""
        self.rt.worker.kinds = {**self.rt.worker.kinds, kind: fn}  # a copy: handlers.JOBS stays as it is

    def enqueue(self, kind: str, payload: dict, **kwargs) -> int:
        """Queue a job as the server's own code does, and wake the worker."""
        async def go():
            job_id = await self.rt.store.enqueue(kind, payload, **kwargs)
            self.rt.worker.wake()
            return job_id
        return self.call(go())

    def job(self, job_id: int) -> dict:
        return next(j for j in self.jobs() if j["id"] == job_id)

    def fast_forward(self, kind: str) -> int:
        """Make scheduled jobs of this kind due now (instead of waiting for their time)."""
        async def go():
            store = self.rt.store
            def work(conn):
                return conn.execute("UPDATE jobs SET run_at=? WHERE kind=? AND state='queued'",
                                    (time.time(), kind)).rowcount
            n = await store._run(store._tx, work)
            self.rt.worker.wake()
            return n
        return self.call(go())


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after 10 s: what an operator's service manager does."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


_OTHER_KEYS: list[str] = []


def new_private_key_pem() -> str:
    """A valid RSA key that is not the fake App's (app.fakegithub.server.generate_private_key_pem() returns the
    one key of this process, the fake's own); made once per test process."""
    if not _OTHER_KEYS:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _OTHER_KEYS.append(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode())
    return _OTHER_KEYS[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess(Deliverer):
    """`python -m app` exactly as an operator starts it."""

    def __init__(self, env: dict, cwd: Path):
        self.env = dict(env)
        self.port = free_port()
        self.env["PORT"] = str(self.port)
        self.cwd = cwd
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = cwd / f"bot-{self.port}.log"

    def start(self, timeout: float = 20.0) -> BotProcess:
        full_env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        # The child gets its own copy of the log file's descriptor, so ours can be closed at once.
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "app"], cwd=self.cwd, env=full_env,
                                         stdout=log, stderr=subprocess.STDOUT)
        wait_until(self._healthy, timeout, "the server to answer /healthz")
        return self

    def _healthy(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"server exited with {self.proc.returncode}: {self.logs()[-2000:]}")
        try:
            return get(self.url + "/healthz", timeout=1)[0] == 200
        except OSError:
            return False

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc:
            stop_process(self.proc)

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
