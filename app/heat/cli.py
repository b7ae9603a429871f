"""`python -m app heat [FILE|-] [--threshold X]`: score discussion threads offline.

Input: JSON Lines, one thread per line:
    {"id": ..., "comments": [{"author", "author_association", "created_at", "body"}, ...]}
Any comment field but `body` may be null (a null body counts as empty); other
keys are ignored.  Blank lines are skipped.

Output: one JSON line per input thread, in input order:
    {"id": ..., "score": 0.0-1.0, "heated": true|false, "reasons": [...]}
where `heated` is `score >= threshold` and `reasons` lists the signals that
raised the score most, each {"signal", "weight", "detail"} (weight: the
signal's contribution to the score's log-odds; detail never quotes text or
names anyone).

A line that is not a JSON object with a "comments" list produces no output
line (the output stays one clean record per valid thread); a message naming
the line number goes to stderr, the rest of the input is still processed,
and the exit status is 2.  Bad arguments: one line on stderr, exit 2.

Large inputs are scored by worker processes (one per CPU, up to 4) with the
output order kept; `--jobs 1` forces a single process.

`python -m app.heat.cli` runs the same without the rest of the command line;
neither imports the web server.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator

from ..cli import OneLineParser
from . import model
from .batch import score_thread

PROG = "python -m app heat"
_dumps = json.JSONEncoder(check_circular=False).encode
_quote = json.encoder.encode_basestring_ascii
BLOCK = 1 << 18      # bytes of input per work unit


def _threshold(v: str) -> float:
    try:
        x = float(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {v!r}") from None
    if not 0.0 <= x <= 1.0 or x != x:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {v!r}")
    return x


def _jobs(v: str) -> int:
    try:
        x = int(v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {v!r}") from None
    if x < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {v!r}")
    return x


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG,
        description="Score discussion threads (JSON Lines) with the same heat estimate the server uses.",
        epilog='Input lines: {"id", "comments": [{"author", "author_association", "created_at", "body"}]}. '
               'Output lines: {"id", "score", "heated", "reasons"}; each reason is {"signal", "weight", "detail"}, '
               'strongest first, where weight is what the signal adds to the score\'s log-odds (1 multiplies the '
               'odds of "heated" by about 2.7, 2 by about 7.4; the score is their sum through a logistic).',
    )
    p.add_argument("file", nargs="?", default="-", metavar="FILE",
                   help="JSON Lines file to read, or - for standard input (default)")
    p.add_argument("--threshold", type=_threshold, default=None, metavar="X",
                   help="score from 0 to 1 at which a thread counts as heated "
                        f"(default: the model's, {model.bundled().threshold})")
    p.add_argument("--jobs", type=_jobs, default=0, metavar="N",
                   help="worker processes for large inputs (default 0: automatic; 1: no workers)")
    return p


def _score_line(line: str, threshold: float) -> tuple[str | None, str | None]:
    """(output line, error message) for one input line."""
    try:
        rec = json.loads(line)
    except ValueError as e:
        return None, f"not valid JSON ({e.msg})"
    except RecursionError:  # json recurses per nesting level; no thread is nested this deep
        return None, "not valid JSON (nested too deeply)"
    return _score_record(rec, threshold, False)


def _score_raw(raw: bytes, threshold: float) -> tuple[str | None, str | None]:
    """_score_line(raw.decode("utf-8", "replace"), threshold), parsed by orjson when it can.

    orjson reads what json reads, to the same values, except that it rejects
    some lines json takes (NaN, lone surrogates, invalid UTF-8, ...) and reads
    an integer beyond 64 bits as a float: those lines go through json."""
    if _fast_loads is not None:
        try:
            rec = _fast_loads(raw)
        except ValueError:
            pass
        else:
            if type(rec) is dict and not _big_float(rec.get("id")):
                out = _score_record(rec, threshold, True)
                if out is not _FALLBACK:
                    return out
    return _score_line(raw.decode("utf-8", "replace"), threshold)


try:
    from orjson import loads as _fast_loads  # a project dependency; without it json does it all
except ImportError:     # pragma: no cover
    _fast_loads = None
_BIG = 9.2e18           # below 2**63: no float from an integer of 64 bits or fewer gets here
_FALLBACK = (None, None)


def _big_float(v) -> bool:
    """A float of at least _BIG anywhere in v (orjson's reading of a huge integer, perhaps)."""
    t = type(v)
    if t is float:
        return not -_BIG < v < _BIG
    if t is list:
        return any(map(_big_float, v))
    if t is dict:
        return any(map(_big_float, v.values()))
    return False


def _score_record(rec, threshold: float, fast: bool) -> tuple[str | None, str | None]:
    """(output line, error message) for one parsed input line; with `fast` (orjson's
    reading), _FALLBACK where a value read may differ from json's."""
    if not isinstance(rec, dict):
        return None, "not a JSON object"
    comments = rec.get("comments")
    if not isinstance(comments, list):
        return None, 'missing "comments" list'
    for j, c in enumerate(comments):
        if type(c) is not dict:
            return None, f"comment {j} is not an object"
        body = c.get("body")
        if body is not None and type(body) is not str:
            return None, f"comment {j}: body is not a string"
        if fast:    # the numbers the estimate reads
            v = c.get("created_at")
            if type(v) is float and not -_BIG < v < _BIG:
                return _FALLBACK
            r = c.get("reactions")
            if type(r) is dict and (_big_float(r.get("-1")) or _big_float(r.get("confused"))):
                return _FALLBACK
    try:
        res = score_thread(comments)
    except Exception as e:   # never one odd thread stopping the run
        return None, f"could not be scored ({type(e).__name__})"
    tid = rec.get("id")
    tid = _quote(tid) if type(tid) is str else _dumps(tid)
    # same text as json.dumps({"id", "score", "heated", "reasons"}), built faster
    return (f'{{"id": {tid}, "score": {res.score!r}, '
            f'"heated": {"true" if res.score >= threshold else "false"}, '
            f'"reasons": {_dumps(res.reasons) if res.reasons else "[]"}}}'), None


def _score_block(unit: tuple) -> tuple[bytes, list[tuple[int, str]], int]:
    """Score a block of whole input lines.

    `unit` is (threshold, data) or (threshold, path, start, end): a byte range
    of a file that the worker reads itself (less copying for big files).
    Returns (output bytes, [(line index in block, error)], lines in block)."""
    threshold = unit[0]
    if len(unit) == 2:
        block = unit[1]
    else:
        with open(unit[1], "rb") as fh:
            fh.seek(unit[2])
            block = fh.read(unit[3] - unit[2])
    outs: list[str] = []
    errs: list[tuple[int, str]] = []
    lines = block.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    for k, raw in enumerate(lines):
        if not raw.strip():
            continue
        out, err = _score_raw(raw, threshold)
        if out is not None:
            outs.append(out)
        else:
            errs.append((k, err))
    return ("\n".join(outs) + "\n").encode() if outs else b"", errs, len(lines)


def _stream_units(src, threshold: float, size: int) -> Iterator[tuple]:
    """Blocks of about `size` bytes of a stream, cut after a line end."""
    rest = b""
    while True:
        data = src.read(size)
        if not data:
            break
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if not cut:
            rest = data
            continue
        yield threshold, data[:cut]
        rest = data[cut:]
    if rest:
        yield threshold, rest


def _file_units(fh, path: str, threshold: float, size: int) -> Iterator[tuple]:
    """Byte ranges of about `size` of a regular file, cut after a line end."""
    end = os.fstat(fh.fileno()).st_size
    start = 0
    while start < end:
        cut = start + size
        if cut >= end:
            cut = end
        else:
            fh.seek(cut)
            fh.readline()
            cut = min(fh.tell(), end)
        yield threshold, path, start, cut
        start = cut


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    threshold = model.bundled().threshold if args.threshold is None else args.threshold
    units: Iterator[tuple]
    if args.file == "-":
        src = sys.stdin.buffer
        close = False
        units = _stream_units(src, threshold, BLOCK)
    else:
        try:
            src = open(args.file, "rb")  # noqa: SIM115 (closed in the finally below, with the workers)
        except OSError as e:
            sys.stderr.write(f"{PROG}: error: cannot read {args.file}: {e.strerror}\n")
            return 2
        close = True
        try:
            regular = os.path.isfile(args.file)
        except OSError:
            regular = False
        units = (_file_units(src, os.path.abspath(args.file), threshold, BLOCK) if regular
                 else _stream_units(src, threshold, BLOCK))
    sys.stdout.flush()
    out = sys.stdout.buffer     # the output is ASCII JSON: written as bytes
    bad = 0
    line_base = 1
    pool = None
    try:
        first = next(units, None)
        second = next(units, None) if first is not None else None
        jobs = args.jobs or min(4, os.cpu_count() or 1)
        if second is not None and jobs > 1:
            import multiprocessing as mp  # only for large inputs
            try:
                pool = mp.get_context("fork").Pool(jobs)
            except (ValueError, OSError):
                pool = None

        def all_units():
            if first is not None:
                yield first
            if second is not None:
                yield second
                yield from units

        results = pool.imap(_score_block, all_units()) if pool else map(_score_block, all_units())
        for data, errs, n_lines in results:
            if data:
                out.write(data)
            for k, err in errs:
                sys.stderr.write(f"{PROG}: line {line_base + k}: {err}; skipped\n")
            bad += len(errs)
            line_base += n_lines
        out.flush()
    except BrokenPipeError:
        sys.stderr.close()
        return 2 if bad else 0
    except KeyboardInterrupt:
        return 130
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if close:
            src.close()
    if bad:
        sys.stderr.write(f"{PROG}: {bad} malformed line(s) skipped\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
