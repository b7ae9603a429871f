"""`python -m app transparency-report`: the public report or the working group's status sheet (app.transparency)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date

from ..transparency import _DATE, PROG, collect_with_settings, render_csv, render_markdown, summarise
from . import OneLineParser


def _date(value: str) -> date:
    if not _DATE.match(value):
        raise argparse.ArgumentTypeError(f"not a date in the form YYYY-MM-DD: {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a valid date: {value!r}") from None


# The settings this command reads (app.settings.READS["github-reader"]): it is not a server, so it needs no
# webhook secret and no database.
PURPOSE = "github-reader"

ENVIRONMENT = """environment (read only these; no webhook secret, no database):
  GITHUB_APP_ID          the App's id (required)
  GITHUB_PRIVATE_KEY     the App's PEM key, inline; or
  GITHUB_PRIVATE_KEY_PATH
                         the path of its file (exactly one of the two is required)
  GITHUB_API_URL         GitHub's REST base (default https://api.github.com)
  COC_TRACKING_REPO      owner/name of the tracking repository to report on (required)"""


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print a transparency report of the incidents created in the tracking repository\n"
                    "between two dates (UTC, both inclusive), read through GitHub with the App's credentials.",
        epilog="formats:\n"
               "  markdown  counts by kind, outcome, month and venue with Mermaid charts, fit to publish\n"
               "            (no logins, code names or links)\n"
               "  csv       the working group's status sheet, one row per incident\n"
               "            (code_name,date,kind,status,actions_taken,outcome), without logins\n\n" + ENVIRONMENT,
    )
    p.add_argument("--since", type=_date, required=True, metavar="YYYY-MM-DD", help="first day of the period (UTC)")
    p.add_argument("--until", type=_date, required=True, metavar="YYYY-MM-DD", help="last day of the period (UTC)")
    p.add_argument("--format", choices=("markdown", "csv"), default="markdown",
                   help="markdown (default): the public report; csv: the working group's status sheet")
    return p


def _err(message: str) -> None:
    sys.stderr.write(f"{PROG}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
        if args.since > args.until:
            parser.error(f"--since ({args.since}) is after --until ({args.until})")
    except SystemExit as exc:  # --help (0) or a bad argument (2, already reported in one line)
        return int(exc.code or 0)

    from ..settings import SettingsError, load_settings

    try:
        settings = load_settings(purpose=PURPOSE)
    except SettingsError as exc:
        _err(str(exc))
        return 2
    if not settings.tracking_repo:
        _err("COC_TRACKING_REPO is not set: name the tracking repository (owner/name) to report on")
        return 2

    import aiohttp
    import gidgethub

    from ..github import PermanentError, TransientError

    csv_format = args.format == "csv"
    try:
        # The status sheet has no venue column: only the public report needs to know which venues are public.
        records = asyncio.run(collect_with_settings(settings, args.since, args.until, with_actions=csv_format,
                                                    hide_private=not csv_format))
    except PermanentError as exc:
        _err(f"{exc}; cannot read the tracking repository")
        return 1
    except TransientError as exc:
        _err(f"cannot reach GitHub at {settings.api_url} ({exc}); try again later")
        return 1
    except gidgethub.HTTPException as exc:
        _err(f"GitHub refused to list the issues of {settings.tracking_repo} ({exc.status_code})")
        return 1
    except gidgethub.GitHubException as exc:
        _err(f"unexpected answer from GitHub while reading {settings.tracking_repo} ({exc.__class__.__name__})")
        return 1
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        _err(f"cannot reach GitHub at {settings.api_url} ({exc.__class__.__name__}); try again later")
        return 1

    if csv_format:
        sys.stdout.write(render_csv(records))
    else:
        sys.stdout.write(render_markdown(summarise(records, args.since, args.until), args.since, args.until))
    sys.stdout.flush()
    return 0
