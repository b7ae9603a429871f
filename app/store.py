"""Durable state behind one small interface: deliveries, the job queue and a key-value area.

SQLiteStore is the first implementation. Every operation runs on one dedicated
thread that owns the connection; webhook acknowledgements are group-committed
(all deliveries that arrive while a commit is in progress share the next one),
so each 202 still follows its own durable commit. The interface is shaped for a
later PostgreSQL implementation where several processes share the database and
claim jobs with `FOR UPDATE SKIP LOCKED`; with SQLite one server process owns a
database file.
"""
from __future__ import annotations

import abc
import asyncio
import concurrent.futures
import heapq
import logging
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import lz4.block
import orjson


@dataclass
class Job:
    id: int
    kind: str
    key: str | None
    payload: dict
    attempts: int
    run_at: float
    created_at: float


@dataclass
class Delivery:
    id: str
    event: str
    action: str | None
    installation_id: int | None
    body: bytes
    received_at: float


log = logging.getLogger("conduct_bot.store")


def _dumps(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class Store(abc.ABC):
    """What the server needs from a database. All methods are coroutines."""

    @abc.abstractmethod
    async def open(self) -> None: ...
    @abc.abstractmethod
    async def close(self) -> None: ...

    # -- deliveries ------------------------------------------------------
    @abc.abstractmethod
    async def add_delivery(self, delivery_id: str, event: str, action: str | None,
                           installation_id: int | None, body: bytes) -> bool:
        """Store a delivery and its processing job in one commit; False if the id was seen before."""
    @abc.abstractmethod
    async def get_delivery(self, delivery_id: str) -> Delivery | None: ...

    # -- jobs --------------------------------------------------------------
    @abc.abstractmethod
    async def enqueue(self, kind: str, payload: dict, *, run_at: float | None = None,
                      key: str | None = None, replace: bool = False) -> int | None:
        """Add a job. With a key, at most one pending job has it: an existing one is kept
        (or, with replace, given the new payload and time). Returns the job id."""
    @abc.abstractmethod
    async def cancel(self, key: str) -> bool:
        """Cancel the pending job with this key; True if there was one."""
    @abc.abstractmethod
    async def pending(self, key: str) -> Job | None: ...
    @abc.abstractmethod
    async def claim(self, limit: int, lease_seconds: float) -> tuple[list[Job], float | None]:
        """Take up to `limit` due jobs (queued and due, or running with an expired lease);
        also returns when the next queued job is due (None if none), to sleep until then."""
    @abc.abstractmethod
    async def extend(self, job_ids: list[int], lease_seconds: float) -> None: ...
    @abc.abstractmethod
    async def finish_many(self, job_ids: list[int]) -> None:
        """Mark several jobs done in one commit."""
    @abc.abstractmethod
    async def reschedule(self, job_id: int, run_at: float, error: str, payload: dict | None = None) -> None: ...
    @abc.abstractmethod
    async def fail(self, job_id: int, error: str, payload: dict | None = None) -> None: ...
    @abc.abstractmethod
    async def jobs(self, state: str | None = None, kind: str | None = None) -> list[dict]: ...

    # -- key-value (caches, effect ledger, thread and incident state) --------
    @abc.abstractmethod
    async def get(self, ns: str, key: str) -> Any | None: ...
    @abc.abstractmethod
    async def put(self, ns: str, key: str, value: Any, ttl: float | None = None) -> None: ...
    @abc.abstractmethod
    async def delete(self, ns: str, key: str | None = None) -> None:
        """Delete one key, or the whole namespace when key is None."""
    @abc.abstractmethod
    async def put_if_absent(self, ns: str, key: str, value: Any, ttl: float | None = None) -> bool:
        """Atomically store value unless the key exists (and has not expired); True if stored."""
    @abc.abstractmethod
    async def items(self, ns: str) -> list[tuple[str, Any]]: ...
    @abc.abstractmethod
    async def update(self, ns: str, key: str, fn, ttl: float | None = None) -> Any:
        """Atomically replace the value with fn(old value or None) and return fn's second result.

        fn returns (new_value, result); it must be pure and quick (it runs inside the transaction;
        PostgreSQL will run it between SELECT … FOR UPDATE and UPDATE)."""

    @abc.abstractmethod
    async def queue_stats(self) -> dict:
        """{"due": jobs waiting to run now, "scheduled": later, "running": ..., "failed": ...}."""

    # -- housekeeping --------------------------------------------------------
    @abc.abstractmethod
    async def prune(self, *, keep_deliveries: float, keep_jobs: float) -> int: ...

    # -- operators (python -m app jobs retry) ----------------------------------
    @abc.abstractmethod
    async def requeue(self, job_id: int) -> bool:
        """Make a failed job queued and due now, with its attempts and last error reset; False if it is not
        failed (or another pending job holds its key, which already does that work)."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    action TEXT,
    installation_id INTEGER,
    body BLOB,
    received_at REAL NOT NULL,
    codec TEXT
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    key TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    run_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until REAL,
    last_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
DROP INDEX IF EXISTS jobs_active_key;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_active_keyed ON jobs(key)
    WHERE key IS NOT NULL AND state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_due ON jobs(state, run_at);
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (ns, key)
);
"""


def _row_job(row) -> Job:
    return Job(id=row[0], kind=row[1], key=row[2], payload=orjson.loads(row[3]),
               attempts=row[4], run_at=row[5], created_at=row[6])


class _DBThread:
    """One thread owns the SQLite connection and runs every operation in priority order.

    All writes go through one connection, so they never wait on SQLite's file lock (whose busy
    handler sleeps), and acknowledgements (priority 0) jump ahead of the worker's bookkeeping."""

    def __init__(self, name: str):
        self._cv = threading.Condition()
        self._heap: list = []
        self._seq = 0
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn, *args, priority: int = 1) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("the store is closed")
            self._seq += 1
            heapq.heappush(self._heap, (priority, self._seq, fn, args, fut))
            self._cv.notify()
        return fut

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._heap and not self._closed:
                    self._cv.wait()
                if not self._heap:
                    return
                _, _, fn, args, fut = heapq.heappop(self._heap)
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:
                fut.set_exception(exc)

    def shutdown(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join(30)


class _Checkpointer:
    """Copies the write-ahead log back into the database file from its own connection and thread.

    Left to the writing connection, that copy (megabytes, then an fsync of the database file)
    would run inside whichever commit crosses the threshold, and every acknowledgement queued
    behind that commit would wait for it. Here it runs beside the writer: a passive checkpoint
    never blocks a commit. The writer keeps SQLite's automatic checkpoint as a backstop, which
    finds almost nothing left to copy."""

    def __init__(self, path: str, writes, interval: float = 0.5):
        self._path = path
        self._writes = writes  # a callable: how many commits the writer has made so far
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        conn = None
        seen = self._writes()
        try:
            while not self._stop.wait(self._interval):
                now = self._writes()
                if now == seen:
                    continue
                seen = now
                try:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the writer's automatic checkpoint still runs
                    log.warning("background checkpoint failed: %s", exc.__class__.__name__)
        finally:
            if conn is not None:
                conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


class SQLiteStore(Store):
    def __init__(self, path: str):
        self.path = path
        self._db: _DBThread | None = None
        self._conn: sqlite3.Connection | None = None
        self._pending: list[tuple[tuple, asyncio.Future]] = []
        self._flushing = False
        self._commits = 0
        self._checkpointer: _Checkpointer | None = None
        self.instance = uuid.uuid4().hex[:8]

    # -- plumbing -------------------------------------------------------------
    async def _run(self, fn, *args, priority: int = 1):
        return await asyncio.wrap_future(self._db.submit(fn, *args, priority=priority))

    def _open(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        # 16 KiB pages (for a new file): several compressed deliveries share a page, so a group
        # commit writes fewer, fuller pages.
        conn.execute("PRAGMA page_size=16384")
        conn.execute("PRAGMA journal_mode=WAL")
        # Bookkeeping commits are synchronous=NORMAL (in WAL mode they survive a process crash);
        # delivery commits switch to FULL so a 202 also survives the machine losing power.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.executescript(SCHEMA)
        if "codec" not in {row[1] for row in conn.execute("PRAGMA table_info(deliveries)")}:
            conn.execute("ALTER TABLE deliveries ADD COLUMN codec TEXT")  # a store from before bodies were compressed
        # One server process owns a SQLite file: jobs a killed process left running are due again now.
        now = time.time()
        conn.execute("UPDATE jobs SET state='queued', lease_until=NULL, updated_at=? WHERE state='running'", (now,))
        self._conn = conn

    async def open(self) -> None:
        self._db = _DBThread("sqlite")
        await self._run(self._open)
        self._checkpointer = _Checkpointer(self.path, lambda: self._commits)

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        def _close():
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        await self._run(_close)
        self._db.shutdown()

    def _tx(self, fn, durable: bool = False, conn: sqlite3.Connection | None = None):
        conn = conn or self._conn
        if durable:
            conn.execute("PRAGMA synchronous=FULL")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._commits += 1
        finally:
            if durable:
                conn.execute("PRAGMA synchronous=NORMAL")
        return result

    # -- deliveries -------------------------------------------------------------
    async def add_delivery(self, delivery_id, event, action, installation_id, body) -> bool:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._pending.append(((delivery_id, event, action, installation_id, body), fut))
        if not self._flushing:
            self._flushing = True
            loop.create_task(self._flush())
        return await fut

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await self._run(self._insert_deliveries, [item for item, _ in batch], priority=0)
                except Exception as exc:  # every waiter learns the commit failed
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                    continue
                for (_, fut), res in zip(batch, results):
                    if not fut.done():
                        fut.set_result(res)
        finally:
            self._flushing = False

    def _insert_deliveries(self, items) -> list[bool]:
        # Bodies are stored LZ4-compressed: a webhook payload shrinks about five-fold for a few
        # microseconds, so several deliveries share a page and the durable commit writes far less.
        compress = lz4.block.compress
        def work(conn):
            now = time.time()
            ids = [item[0] for item in items]
            seen: set = set()
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                seen.update(r[0] for r in conn.execute(
                    f"SELECT id FROM deliveries WHERE id IN ({','.join('?' * len(chunk))})", chunk))
            out, rows, jobs = [], [], []
            for delivery_id, event, action, installation_id, body in items:
                if delivery_id in seen:  # seen before, or twice in this batch
                    out.append(False)
                    continue
                seen.add(delivery_id)
                out.append(True)
                rows.append((delivery_id, event, action, installation_id, compress(body), now))
                jobs.append((_dumps({"delivery_id": delivery_id, "event": event, "installation_id": installation_id}),
                             now, now, now))
            conn.executemany(
                "INSERT INTO deliveries (id, event, action, installation_id, body, received_at, codec)"
                " VALUES (?, ?, ?, ?, ?, ?, 'lz4')", rows)
            conn.executemany(
                "INSERT INTO jobs (kind, key, payload, run_at, created_at, updated_at)"
                " VALUES ('delivery', NULL, ?, ?, ?, ?)", jobs)
            return out
        return self._tx(work, durable=True)

    async def get_delivery(self, delivery_id):
        def q():
            row = self._conn.execute(
                "SELECT id, event, action, installation_id, body, received_at, codec FROM deliveries WHERE id=?",
                (delivery_id,)).fetchone()
            if not row:
                return None
            body = lz4.block.decompress(row[4]) if row[6] == "lz4" else row[4]
            return Delivery(row[0], row[1], row[2], row[3], body, row[5])
        return await self._run(q)

    # -- jobs -----------------------------------------------------------------------
    async def enqueue(self, kind, payload, *, run_at=None, key=None, replace=False):
        def work(conn):
            now = time.time()
            when = now if run_at is None else run_at
            if key is not None:
                row = conn.execute(
                    "SELECT id FROM jobs WHERE key=? AND state IN ('queued','running')", (key,)).fetchone()
                if row:
                    if replace:
                        conn.execute(
                            "UPDATE jobs SET payload=?, run_at=?, kind=?, updated_at=? WHERE id=?",
                            (_dumps(payload), when, kind, now, row[0]))
                    return row[0]
            cur = conn.execute(
                "INSERT INTO jobs (kind, key, payload, run_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, _dumps(payload), when, now, now))
            return cur.lastrowid
        return await self._run(self._tx, work)

    async def cancel(self, key):
        def work(conn):
            cur = conn.execute(
                "UPDATE jobs SET state='cancelled', updated_at=? WHERE key=? AND state IN ('queued','running')",
                (time.time(), key))
            return cur.rowcount > 0
        return await self._run(self._tx, work)

    async def pending(self, key):
        def q():
            row = self._conn.execute(
                "SELECT id, kind, key, payload, attempts, run_at, created_at FROM jobs"
                " WHERE key=? AND state IN ('queued','running')", (key,)).fetchone()
            return _row_job(row) if row else None
        return await self._run(q)

    async def claim(self, limit, lease_seconds):
        def work(conn):
            now = time.time()
            rows = conn.execute(
                "SELECT id FROM jobs WHERE state='queued' AND run_at<=? ORDER BY run_at, id LIMIT ?",
                (now, limit)).fetchall() if limit > 0 else []
            if limit > len(rows):
                rows += conn.execute("SELECT id FROM jobs WHERE state='running' AND lease_until<? LIMIT ?",
                                     (now, limit - len(rows))).fetchall()
            if not rows:
                nxt = conn.execute("SELECT MIN(run_at) FROM jobs WHERE state='queued'").fetchone()[0]
                return [], nxt
            ids = [r[0] for r in rows]
            marks = ",".join("?" * len(ids))
            conn.execute(
                "UPDATE jobs SET state='running', attempts=attempts+1, lease_until=?, updated_at=?"
                f" WHERE id IN ({marks})",
                (now + lease_seconds, now, *ids))
            out = conn.execute(
                "SELECT id, kind, key, payload, attempts, run_at, created_at FROM jobs"
                f" WHERE id IN ({marks}) ORDER BY run_at, id",
                ids).fetchall()
            return [_row_job(r) for r in out], now
        return await self._run(self._tx, work)

    async def extend(self, job_ids, lease_seconds):
        if not job_ids:
            return
        def work(conn):
            marks = ",".join("?" * len(job_ids))
            conn.execute(f"UPDATE jobs SET lease_until=? WHERE state='running' AND id IN ({marks})",
                         (time.time() + lease_seconds, *job_ids))
        await self._run(self._tx, work)

    async def _set_state(self, job_id, state, error=None, payload=None, run_at=None):
        def work(conn):
            now = time.time()
            sets = ["state=?", "updated_at=?", "lease_until=NULL"]
            args: list = [state, now]
            if error is not None:
                sets.append("last_error=?")
                args.append(error[:2000])
            if payload is not None:
                sets.append("payload=?")
                args.append(_dumps(payload))
            if run_at is not None:
                sets.append("run_at=?")
                args.append(run_at)
            # A job cancelled while it ran stays cancelled.
            conn.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id=? AND state='running'", (*args, job_id))
        await self._run(self._tx, work)

    async def queue_stats(self):
        def q():
            now = time.time()
            row = self._conn.execute(
                "SELECT SUM(state='queued' AND run_at<=?), SUM(state='queued' AND run_at>?), SUM(state='running'),"
                " SUM(state='failed') FROM jobs WHERE state IN ('queued','running','failed')", (now, now)).fetchone()
            return {k: int(v or 0) for k, v in zip(("due", "scheduled", "running", "failed"), row)}
        return await self._run(q)

    async def finish_many(self, job_ids):
        if not job_ids:
            return
        def work(conn):
            now = time.time()
            conn.executemany("UPDATE jobs SET state='done', updated_at=?, lease_until=NULL"
                             " WHERE id=? AND state='running'",
                             [(now, i) for i in job_ids])
        await self._run(self._tx, work)

    async def reschedule(self, job_id, run_at, error, payload=None):
        await self._set_state(job_id, "queued", error=error, payload=payload, run_at=run_at)

    async def fail(self, job_id, error, payload=None):
        await self._set_state(job_id, "failed", error=error, payload=payload)

    async def jobs(self, state=None, kind=None):
        def q():
            sql = "SELECT id, kind, key, payload, state, run_at, attempts, last_error FROM jobs WHERE 1=1"
            args = []
            if state:
                sql += " AND state=?"
                args.append(state)
            if kind:
                sql += " AND kind=?"
                args.append(kind)
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
            keys = ("id", "kind", "key", "payload", "state", "run_at", "attempts", "last_error")
            out = [dict(zip(keys, r)) for r in rows]
            for d in out:
                d["payload"] = orjson.loads(d["payload"])
            return out
        return await self._run(q)

    # -- key-value -------------------------------------------------------------------
    async def get(self, ns, key):
        def q():
            row = self._conn.execute("SELECT value, expires_at FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
            if not row or (row[1] is not None and row[1] < time.time()):
                return None
            return orjson.loads(row[0])
        return await self._run(q)

    async def put(self, ns, key, value, ttl=None):
        def work(conn):
            exp = time.time() + ttl if ttl else None
            conn.execute("INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT(ns, key) DO UPDATE SET value=excluded.value, expires_at=excluded.expires_at",
                         (ns, key, _dumps(value), exp))
        await self._run(self._tx, work)

    async def put_if_absent(self, ns, key, value, ttl=None):
        def work(conn):
            now = time.time()
            conn.execute("DELETE FROM kv WHERE ns=? AND key=? AND expires_at IS NOT NULL AND expires_at<?",
                         (ns, key, now))
            cur = conn.execute("INSERT OR IGNORE INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)",
                               (ns, key, _dumps(value), now + ttl if ttl else None))
            return cur.rowcount > 0
        return await self._run(self._tx, work)

    async def delete(self, ns, key=None):
        def work(conn):
            if key is None:
                conn.execute("DELETE FROM kv WHERE ns=?", (ns,))
            else:
                conn.execute("DELETE FROM kv WHERE ns=? AND key=?", (ns, key))
        await self._run(self._tx, work)

    async def items(self, ns):
        def q():
            now = time.time()
            rows = self._conn.execute(
                "SELECT key, value FROM kv WHERE ns=? AND (expires_at IS NULL OR expires_at>=?) ORDER BY key",
                (ns, now)).fetchall()
            return [(k, orjson.loads(v)) for k, v in rows]
        return await self._run(q)

    async def update(self, ns, key, fn, ttl=None):
        def work(conn):
            now = time.time()
            row = conn.execute("SELECT value, expires_at FROM kv WHERE ns=? AND key=?", (ns, key)).fetchone()
            old = orjson.loads(row[0]) if row and (row[1] is None or row[1] >= now) else None
            new, result = fn(old)
            conn.execute("INSERT INTO kv (ns, key, value, expires_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT(ns, key) DO UPDATE SET value=excluded.value, expires_at=excluded.expires_at",
                         (ns, key, _dumps(new), now + ttl if ttl else None))
            return result
        return await self._run(self._tx, work)

    async def prune(self, *, keep_deliveries, keep_jobs):
        def work(conn):
            now = time.time()
            n = conn.execute("DELETE FROM deliveries WHERE received_at<?", (now - keep_deliveries,)).rowcount
            n += conn.execute("DELETE FROM jobs WHERE state IN ('done','cancelled') AND updated_at<?",
                              (now - keep_jobs,)).rowcount
            n += conn.execute("DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at<?", (now,)).rowcount
            return n
        return await self._run(self._tx, work)

    async def requeue(self, job_id):
        def work(conn):
            row = conn.execute("SELECT key FROM jobs WHERE id=? AND state='failed'", (job_id,)).fetchone()
            if row is None:
                return False
            if row[0] is not None and conn.execute(
                    "SELECT 1 FROM jobs WHERE key=? AND state IN ('queued','running')", (row[0],)).fetchone():
                return False
            now = time.time()
            conn.execute("UPDATE jobs SET state='queued', run_at=?, attempts=0, lease_until=NULL, last_error=NULL,"
                         " updated_at=? WHERE id=? AND state='failed'", (now, now, job_id))
            return True
        return await self._run(self._tx, work)


def open_store(database_url: str) -> Store:
    """The store for DATABASE_URL (not yet opened)."""
    if database_url.startswith("sqlite:///"):
        return SQLiteStore(database_url[len("sqlite:///"):])
    raise NotImplementedError(
        "PostgreSQL storage is not implemented yet; use DATABASE_URL=sqlite:///PATH")
