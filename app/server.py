"""The webhook server: signed deliveries are stored durably, acknowledged, then processed by the worker."""
from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import os
import time

import orjson
from aiohttp import web

from .runtime import Runtime

log = logging.getLogger("conduct_bot.server")

MAX_BODY = 25 * 1024 * 1024

RUNTIME = web.AppKey("runtime", Runtime)


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    try:
        given = bytes.fromhex(header[7:].strip())
    except ValueError:
        return False
    return hmac.compare_digest(hmac.digest(secret, body, "sha256"), given)


ACCEPTED = b'{"status": "accepted"}'
DUPLICATE = b'{"status": "duplicate"}'


def _json(code: int, **body) -> web.Response:
    return web.json_response(body, status=code)


async def webhook(request: web.Request) -> web.Response:
    rt: Runtime = request.app[RUNTIME]
    rt.last_ack = asyncio.get_running_loop().time()
    length = request.content_length
    if length is not None and length > MAX_BODY:
        return _json(413, error="payload too large")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _json(413, error="payload too large")
    # The signature is checked before anything else is read from the body.
    if not signature_ok(rt.settings.webhook_secret, body, request.headers.get("X-Hub-Signature-256")):
        log.warning("rejected a delivery with a missing or wrong signature",
                    extra={"delivery": request.headers.get("X-GitHub-Delivery", "")[:64] or None, "status": 401})
        return _json(401, error="bad signature")
    event = request.headers.get("X-GitHub-Event", "").strip()
    delivery_id = request.headers.get("X-GitHub-Delivery", "").strip()
    if not event or not delivery_id or len(delivery_id) > 200:
        return _json(400, error="X-GitHub-Event and X-GitHub-Delivery are required")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return _json(400, error="the body is not JSON")
    if not isinstance(data, dict):
        return _json(400, error="the body is not a JSON object")
    action = data.get("action")
    action = action if isinstance(action, str) else None
    installation = data.get("installation")
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    installation_id = installation_id if isinstance(installation_id, int) else None
    repo = data.get("repository")
    repo_name = repo.get("full_name") if isinstance(repo, dict) else None
    # The parsed tree is let go before waiting for the commit: a hundred payloads alive at once
    # make every allocation slower. The worker parses the body again.
    del data, installation, repo
    fields = {"delivery": delivery_id, "event": event, "action": action, "installation": installation_id,
              "repository": repo_name if isinstance(repo_name, str) else None}
    if event == "ping":
        log.info("ping received", extra=fields)
        return _json(200, ok=True)
    try:
        fresh = await rt.store.add_delivery(delivery_id, event, action, installation_id, body)
    except Exception:
        log.exception("could not store a delivery; GitHub will be told to retry", extra=fields)
        return _json(503, error="storage unavailable")
    if not fresh:
        log.info("duplicate delivery acknowledged", extra=fields)
        return web.Response(status=200, body=DUPLICATE, content_type="application/json")
    rt.remember_body(delivery_id, body)
    rt.worker.wake()
    return web.Response(status=202, body=ACCEPTED, content_type="application/json")


async def healthz(request: web.Request) -> web.Response:
    rt: Runtime = request.app[RUNTIME]
    try:
        queue = await asyncio.wait_for(rt.store.queue_stats(), 5)
    except Exception:
        return _json(503, status="unavailable", store="unreachable")
    return _json(200, status="ok", store="ok", queue=queue, dry_run=rt.settings.dry_run,
                 uptime=round(time.time() - rt.started, 1))


def _tune_gc() -> None:
    """Fewer, cheaper garbage collections: every delivery parses a payload of hundreds of objects,
    which with the default thresholds triggers a collection every few deliveries and full passes
    over everything the process has loaded. The modules and objects of start-up are frozen out of
    collection, and young objects are collected in larger batches."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20000, 20, 20)


def make_app(rt: Runtime) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[RUNTIME] = rt
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/healthz", healthz)

    async def on_startup(_app):
        await rt.start()

    async def on_cleanup(_app):
        await rt.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


NO_TRACKING_REPO = ("COC_TRACKING_REPO is not set: reports cannot be filed unless an organisation's "
                    ".github/coc.yml (in its .github repository) names tracking_repo")


RELATIVE_DATABASE = ("DATABASE_URL is relative to the working directory: the database (queue, timed actions, "
                     "incident index) is {where}; set DATABASE_URL=sqlite:////ABSOLUTE/PATH on a persistent disk")


def log_start(settings) -> None:
    """What an operator should know at start: where the server listens, and what its settings leave undone."""
    log.info("conduct-bot listening on %s:%d%s", settings.host, settings.port, " (dry run)" if settings.dry_run else "")
    if not settings.tracking_repo:
        # Not an error: each organisation may name its tracking repository in its .github repository.
        log.warning(NO_TRACKING_REPO)
    if settings.database_url.startswith("sqlite:///"):
        path = settings.database_url[len("sqlite:///"):]
        where = os.path.abspath(path)
        if not os.path.isabs(path):
            # SPEC's default is relative: say where that puts the queue, so a server started from / or from a
            # wiped directory does not lose it unnoticed.
            log.warning(RELATIVE_DATABASE.format(where=where))
        else:
            log.info("database: %s", where)


def serve(settings) -> None:
    """Run the server until interrupted (python -m app)."""
    rt = Runtime(settings)
    _tune_gc()
    log_start(settings)
    web.run_app(make_app(rt), host=settings.host, port=settings.port, print=None, access_log=None,
                handle_signals=True)
