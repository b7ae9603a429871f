"""Structured logging: one JSON object per line with the delivery's context fields."""
from __future__ import annotations

import json
import logging
import sys
import time

CONTEXT_FIELDS = ("delivery", "event", "action", "installation", "repository", "job", "kind", "handler",
                  "attempt", "status", "error", "rate_limit_remaining", "retry_in", "keep_until")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The exception type and where it happened; never the locals or request bodies.
            out["exc"] = self.formatException(record.exc_info)[-4000:]
        return json.dumps(out, ensure_ascii=False)


def setup_logging(level: str = "INFO", stream=None) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
