"""The worker pool: claims due jobs from the store and runs them with bounded concurrency.

A job that raises TransientError is retried with exponential back-off and
jitter (honouring Retry-After / x-ratelimit-reset); RetryLater asks for a
later attempt with its own schedule (for example while the tracking repository
is not private); anything else fails the job, which is kept as failed with its
reason and logged with its id.

Patient jobs: a payload with a numeric `keep_until` (epoch seconds; a report
waiting for its tracking repository) is never failed for TransientError or
RetryLater before that moment, however many attempts it took: waiting and
transient errors do not use up its retries. It is rescheduled with back-off
and jitter capped at an hour (never earlier than Retry-After), and after
`keep_until` it is handled as any other job.

Jobs left running by a killed process are due again after a restart. Leases are extended while a job runs, so a later
multi-process store can reclaim only the jobs of dead processes.
"""
from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable

from .github import PermanentError, TransientError, backoff
from .store import Job

log = logging.getLogger("conduct_bot.jobs")

LEASE = 60.0
PATIENT_CAP = 3600.0  # longest wait between two attempts of a patient job (payload `keep_until`)
# Acknowledgements come first: while deliveries are arriving (one within ACK_QUIET seconds), the worker
# waits before claiming more work, but never longer than MAX_DEFER, so processing always progresses.
ACK_QUIET = 0.02
MAX_DEFER = 0.5


class RetryLater(Exception):
    """Try the job again later, until `until` (epoch seconds); then it fails."""

    def __init__(self, message: str, *, until: float, cap: float = 3600.0):
        super().__init__(message)
        self.until = until
        self.cap = cap


JobFn = Callable[[Job, "object"], Awaitable[None]]


def keep_until(job: Job) -> float | None:
    """The job's `keep_until` (epoch seconds) when its payload has a numeric one, else None."""
    value = job.payload.get("keep_until") if isinstance(job.payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # bools, NaN
        return None
    return float(value)


def patient_delay(job: Job, exc: BaseException, now: float, until: float) -> float:
    """When to try a patient job again after a TransientError or RetryLater: exponential back-off with
    jitter capped at PATIENT_CAP (RetryLater starts slower, at 30 s, and may ask for a lower cap), not
    beyond `until` (one last attempt then), never earlier than the error's retry_after, at least 1 s."""
    if isinstance(exc, RetryLater):
        delay = backoff(job.attempts, base=30.0, cap=min(PATIENT_CAP, exc.cap))
    else:
        delay = backoff(job.attempts, cap=PATIENT_CAP)
    delay = min(delay, max(1.0, until - now))
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(delay, 1.0)


class Worker:
    def __init__(self, runtime, kinds: dict[str, JobFn], concurrency: int = 8, max_attempts: int = 8):
        self.rt = runtime
        self.kinds = kinds
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._running: dict[int, asyncio.Task] = {}
        self._task: asyncio.Task | None = None
        self._lease_task: asyncio.Task | None = None
        self._stopping = False
        self.idle = asyncio.Event()
        self._finished: list[int] = []
        self._flushing: asyncio.Task | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="worker")
        self._lease_task = asyncio.get_running_loop().create_task(self._leases(), name="leases")

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping = True
        self._wake.set()
        for task in (self._task, self._lease_task):
            if task:
                task.cancel()
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=grace)
        for task in list(self._running.values()):
            task.cancel()
        await self._flush_finished()

    async def _leases(self) -> None:
        while True:
            await asyncio.sleep(LEASE / 3)
            try:
                await self.rt.store.extend(list(self._running), LEASE)
            except Exception:
                log.exception("could not extend job leases")

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_claim = loop.time()
        while not self._stopping:
            now = loop.time()
            quiet_for = now - getattr(self.rt, "last_ack", 0.0)
            if quiet_for < ACK_QUIET and now - last_claim < MAX_DEFER:
                await asyncio.sleep(ACK_QUIET - quiet_for)
                continue
            last_claim = now
            free = self.concurrency - len(self._running)
            self._wake.clear()
            if free <= 0:  # every slot busy: wait for one to finish
                try:
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                except TimeoutError:
                    pass
                continue
            try:
                jobs, due = await self.rt.store.claim(free, LEASE)
            except Exception:
                log.exception("could not claim jobs")
                await asyncio.sleep(1.0)
                continue
            for job in jobs:
                task = asyncio.get_running_loop().create_task(self._run(job))
                self._running[job.id] = task
                task.add_done_callback(lambda _t, jid=job.id: (self._running.pop(jid, None), self._wake.set()))
            if jobs:
                continue  # more may be due; claim again (claim returns none when all slots are busy)
            if not self._running:
                self.idle.set()
            else:
                self.idle.clear()
            timeout = 1.0 if due is None else min(1.0, max(0.0, due - time.time()))
            if timeout > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass

    async def _run(self, job: Job) -> None:
        fn = self.kinds.get(job.kind)
        extra = {"job": job.id, "kind": job.kind, "attempt": job.attempts}
        if "delivery_id" in job.payload:
            extra["delivery"] = job.payload["delivery_id"]
        store = self.rt.store
        if fn is None:
            log.error("unknown job kind; kept as failed", extra=extra)
            await store.fail(job.id, f"unknown job kind {job.kind!r}")
            return
        try:
            await fn(job, self.rt)
        except (TransientError, RetryLater) as exc:
            await self._not_yet(job, exc, extra)
        except asyncio.CancelledError:
            raise
        except PermanentError as exc:
            log.error("job failed: %s", exc, extra=extra)
            await store.fail(job.id, str(exc), job.payload)
        except Exception as exc:
            log.error("job failed with an internal error: %s", exc.__class__.__name__, extra=extra,
                      exc_info=True)
            await store.fail(
                job.id, f"{exc.__class__.__name__}: {traceback.format_exception_only(exc)[-1].strip()}"[:500],
                job.payload)
        else:
            # Completions are group-committed; a crash before the commit only re-runs jobs,
            # whose effects are idempotent.
            self._finished.append(job.id)
            if self._flushing is None or self._flushing.done():
                self._flushing = asyncio.get_running_loop().create_task(self._flush_finished())

    async def _not_yet(self, job: Job, exc: TransientError | RetryLater, extra: dict) -> None:
        """A job that could not finish now but may later: reschedule it, or keep it as failed."""
        store = self.rt.store
        now = time.time()
        until = keep_until(job)
        if until is not None and now < until:
            # Patient: neither waiting nor transient errors use up its attempts before keep_until.
            delay = patient_delay(job, exc, now, until)
            extra = {**extra, "retry_in": round(delay, 2), "keep_until": round(until)}
            if isinstance(exc, RetryLater):
                log.error("job postponed: %s", exc, extra=extra)
            else:
                log.warning("job will be retried: %s", exc, extra=extra)
            await store.reschedule(job.id, now + delay, str(exc), job.payload)
            return
        if isinstance(exc, TransientError):
            if job.attempts >= self.max_attempts:
                log.error("job failed after %d attempts: %s", job.attempts, exc, extra=extra)
                await store.fail(job.id, f"gave up after {job.attempts} attempts: {exc}", job.payload)
                return
            delay = backoff(job.attempts)
            if exc.retry_after is not None:
                delay = max(delay, exc.retry_after)
            log.warning("job will be retried: %s", exc, extra={**extra, "retry_in": round(delay, 2)})
            await store.reschedule(job.id, now + delay, str(exc), job.payload)
            return
        if now >= exc.until:
            log.error("job kept as failed: %s", exc, extra=extra)
            await store.fail(job.id, str(exc), job.payload)
            return
        delay = min(backoff(job.attempts, base=30.0, cap=exc.cap), exc.until - now)
        log.error("job postponed: %s", exc, extra={**extra, "retry_in": round(delay, 2)})
        await store.reschedule(job.id, now + max(delay, 1.0), str(exc), job.payload)

    async def _flush_finished(self) -> None:
        while self._finished:
            ids, self._finished = self._finished, []
            try:
                await self.rt.store.finish_many(ids)
            except Exception:
                log.exception("could not record finished jobs; they will run again")
