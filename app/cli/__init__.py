"""The command line: `python -m app` runs the server; sub-commands demo, heat, transparency-report, jobs.

Every sub-command parses its arguments with OneLineParser: `--help` exits 0 with a usage, a bad argument
gives one clear line on stderr and exit 2.
"""
from __future__ import annotations

import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a usage error as a single `error: …` line (exit 2), as SPEC.md asks."""

    def error(self, message: str):  # type: ignore[override]
        print(f"{self.prog}: error: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("conduct-bot")
    except PackageNotFoundError:
        return "unknown (not installed)"


USAGE = """usage: python -m app [COMMAND] [--help] [--version]

With no command, runs the webhook server (configured by environment variables; see README).

commands:
  demo                  play a short moderation story against a built-in simulated GitHub
  heat [FILE|-]         score discussion threads (JSON Lines) with the server's heat estimate
  transparency-report   print an anonymous report of incidents from the tracking repository
  jobs [retry ID|--all-failed]
                        list failed, waiting and scheduled jobs; re-queue failed ones
  register [--port PORT] [--org ORG]
                        create the GitHub App from app.yml (GitHub's manifest flow) and write .env
  doctor                check a deployment: settings, the App's key, installations' permissions,
                        the tracking repository (private, App installed); prints a checklist
"""


def _server(argv: list[str]) -> int:
    if argv:
        if argv[0] in ("-h", "--help"):
            print(USAGE)
            return 0
        print(f"error: unknown command {argv[0]!r} (try --help)", file=sys.stderr)
        return 2
    from ..logs import setup_logging
    from ..settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not settings.database_url.startswith("sqlite:///"):
        print("error: DATABASE_URL: PostgreSQL storage is not available in this version; use sqlite:///PATH",
              file=sys.stderr)
        return 2
    setup_logging()
    from ..server import serve

    serve(settings)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--version"]:
        print(f"conduct-bot {version()}")
        return 0
    command = argv[0] if argv and not argv[0].startswith("-") else None
    rest = argv[1:] if command else argv
    if command is None:
        return _server(rest)
    if command == "heat":
        from ..heat.cli import main as heat_main

        return heat_main(rest)
    if command == "demo":
        from .demo import main as demo_main

        return demo_main(rest)
    if command == "transparency-report":
        from .transparency import main as report_main

        return report_main(rest)
    if command == "jobs":
        from .jobs import main as jobs_main

        return jobs_main(rest)
    if command == "register":
        from .register import main as register_main

        return register_main(rest)
    if command == "doctor":
        from .doctor import main as doctor_main

        return doctor_main(rest)
    print(f"error: unknown command {command!r} (try --help)", file=sys.stderr)
    return 2
