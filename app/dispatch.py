"""Runs every matching handler for a stored delivery; one failing handler never stops the others."""
from __future__ import annotations

import asyncio
import logging

import orjson
from gidgethub import sansio
from gidgethub.routing import Router

from .github import GitHub, PermanentError, TransientError, classify

log = logging.getLogger("conduct_bot.dispatch")


HANDLER_LOG = logging.getLogger("conduct_bot.handler")


def handler_name(callback) -> str:
    module = callback.__module__.rsplit(".", 1)[-1]
    return f"{module}.{callback.__qualname__}"


class Ctx:
    """What a handler gets besides the event: runtime services, logging context, the installation client."""

    def __init__(self, rt, event: sansio.Event, handler: str = ""):
        self.rt = rt
        self.settings = rt.settings
        self.store = rt.store
        self.event = event
        self.delivery_id = event.delivery_id
        self.installation_id = (event.data.get("installation") or {}).get("id")
        repo = event.data.get("repository") or {}
        self.repository = repo.get("full_name")
        self.extra = {"delivery": event.delivery_id, "event": event.event, "action": event.data.get("action"),
                      "installation": self.installation_id, "repository": self.repository, "handler": handler}
        self._gh: GitHub | None = None

    @property
    def log(self) -> logging.LoggerAdapter:
        return logging.LoggerAdapter(HANDLER_LOG, self.extra)

    async def gh(self) -> GitHub:
        if self._gh is None:
            if self.installation_id is None:
                raise PermanentError("the delivery names no installation")
            self._gh = await self.rt.clients.installation(self.installation_id)
        return self._gh


async def process_delivery(job, rt) -> None:
    """Job kind `delivery`: run the handlers that have not yet finished for this delivery."""
    delivery_id = job.payload["delivery_id"]
    body = rt.take_body(delivery_id)
    if body is None:
        delivery = await rt.store.get_delivery(delivery_id)
        if delivery is None:
            raise PermanentError("delivery not found in the store")
        body = delivery.body
        job.payload["event"] = delivery.event
        job.payload["installation_id"] = delivery.installation_id
    data = orjson.loads(body)
    event = sansio.Event(data, event=job.payload["event"], delivery_id=delivery_id)
    callbacks = sorted(rt.router.fetch(event), key=handler_name)
    done = set(job.payload.get("done", []))
    failed = dict(job.payload.get("failed", {}))
    todo = [cb for cb in callbacks if handler_name(cb) not in done and handler_name(cb) not in failed]
    if not todo:
        return

    async def run(cb):
        ctx = Ctx(rt, event, handler_name(cb))
        try:
            await cb(event, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # classified below; every handler still runs
            return cb, classify(exc)
        return cb, None

    results = await asyncio.gather(*(run(cb) for cb in todo))
    transient: list[TransientError] = []
    for cb, err in results:
        name = handler_name(cb)
        extra = {"delivery": delivery_id, "event": event.event, "action": data.get("action"),
                 "installation": job.payload.get("installation_id"),
                 "repository": (data.get("repository") or {}).get("full_name"), "handler": name}
        if err is None:
            done.add(name)
        elif isinstance(err, TransientError):
            transient.append(err)
            log.warning("handler will be retried: %s", err, extra=extra)
        else:
            failed[name] = f"{err.__class__.__name__}: {str(err)[:300]}"
            if isinstance(err, PermanentError):
                log.error("handler failed: %s", err, extra=extra)
            else:
                log.error("handler failed with an internal error", extra=extra, exc_info=err)
    job.payload["done"] = sorted(done)
    job.payload["failed"] = failed
    if transient:
        retry_after = max((e.retry_after or 0) for e in transient) or None
        raise TransientError("; ".join(str(e) for e in transient), retry_after)
    if failed:
        raise PermanentError(f"{len(failed)} handler(s) failed: {', '.join(sorted(failed))}")


def combine(routers: list[Router]) -> Router:
    return Router(*routers)
