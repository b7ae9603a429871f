"""Parsing what users write, in a separate process: no comment stalls the event loop.

Parsing a comment's Markdown is linear in its length, but pure Python: 20,000 characters of nested
brackets or list items take a few hundred milliseconds. On a thread that work holds the interpreter
lock, and a few such comments in a row starve the event loop of it: every acknowledgement waits
(bench/hostile.py measured p99 going from 5 ms to over a second). In a separate process it costs the
server a round trip of the text and the result.

    parsed = await offload.run(parse_commands, body, THREAD_COMMANDS)

FN must be importable by name (a module-level function) and its arguments and result picklable. The
worker processes start on first use (spawned: they import the main module again, so the program that
starts the server guards it with `if __name__ == "__main__"`, as `python -m app` does) and exit with the
server; one that dies is replaced, and the call that lost it raises TransientError so that its job is
retried.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .github import TransientError

# Parses at once. The server keeps a core of its own: with as many parsing processes as cores, a burst of
# hostile comments slows acknowledgements down again, for want of CPU this time.
PROCESSES = max(1, min(2, (os.cpu_count() or 1) - 1))

_pool: ProcessPoolExecutor | None = None


async def run(fn, *args):
    """fn(*args) in a worker process."""
    global _pool
    if _pool is None:
        # spawn: a fork of a process that runs threads (the store's, the executors') could inherit a held lock
        _pool = ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_exit_with, initargs=(os.getpid(),))
    pool = _pool
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
    except BrokenProcessPool:
        if _pool is pool:
            _pool = None
        raise TransientError("a parsing process died; the work is retried") from None


def _exit_with(server: int) -> None:
    """In a worker process: exit once the server has, even if it was killed and could not say so."""
    def watch():
        while os.getppid() == server:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()
