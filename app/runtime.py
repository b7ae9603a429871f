"""The process's long-lived services, created once and passed to every handler and job."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from .config import ConfigLoader
from .github import GitHubClients
from .settings import Settings
from .store import Store, open_store

log = logging.getLogger("conduct_bot.runtime")

PRUNE_EVERY = 3600.0


class Runtime:
    def __init__(self, settings: Settings, store: Store | None = None, clients: GitHubClients | None = None):
        from handlers import JOBS, ROUTERS  # the one visible list of features

        from .dispatch import combine
        from .jobs import Worker

        self.settings = settings
        self.store = store or open_store(settings.database_url)
        self.clients = clients or GitHubClients(settings)
        self.router = combine(ROUTERS)
        self.worker = Worker(self, JOBS, concurrency=settings.workers, max_attempts=settings.max_attempts)
        self.config = ConfigLoader(self.store, on_invalid=self._config_invalid)
        self.started = time.time()
        self.last_ack = 0.0  # loop time of the latest delivery; the worker lets acknowledgements go first
        # Raw bodies handed from the acknowledgement to the worker, so a fresh delivery is not read back
        # from the store; the store's copy is the source of truth (after a restart, or when this cache
        # overflows). Bytes, not parsed payloads: hundreds of live payload trees would make every
        # allocation and collection slower.
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._housekeeping: asyncio.Task | None = None

    async def enqueue(self, kind: str, payload: dict, **kwargs) -> int | None:
        """Queue a job (Store.enqueue's arguments) and let the worker know at once."""
        job_id = await self.store.enqueue(kind, payload, **kwargs)
        self.worker.wake()
        return job_id

    def remember_body(self, delivery_id: str, body: bytes) -> None:
        self._bodies[delivery_id] = body
        if len(self._bodies) > 500:
            self._bodies.popitem(last=False)

    def take_body(self, delivery_id: str) -> bytes | None:
        return self._bodies.pop(delivery_id, None)

    async def start(self) -> None:
        await self.store.open()
        await self.clients.start()
        self.worker.start()
        self._housekeeping = asyncio.get_running_loop().create_task(self._prune())

    async def stop(self) -> None:
        if self._housekeeping:
            self._housekeeping.cancel()
        await self.worker.stop()
        await self.clients.close()
        await self.store.close()

    async def _prune(self) -> None:
        while True:
            try:
                # Delivery ids are kept 30 days so GitHub's redeliveries are recognised.
                await self.store.prune(keep_deliveries=30 * 86400, keep_jobs=7 * 86400)
            except Exception:
                log.exception("housekeeping failed")
            await asyncio.sleep(PRUNE_EVERY)

    async def _config_invalid(self, owner, repo, path, sha, error, installation_id) -> None:
        from handlers.config_errors import report_invalid_config

        await report_invalid_config(self, owner, repo, path, sha, error, installation_id)
