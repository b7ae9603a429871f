"""`python -m app demo` plays its story with no credentials and no network."""
from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.harness import ROOT


def test_demo_runs_end_to_end():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COC_", "DATABASE_URL"))}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "app", "demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert time.monotonic() - started < 30
    out = proc.stdout
    assert "reactions on that comment: confused" in out          # a refused command
    assert "posts: This is a reminder" in out                      # /coc-remind
    assert "thread locked: True (reason: too heated)" in out      # /coc-lock
    assert "(report)" in out and "coc:report" in out               # the private incident
    assert "blocks: lee" in out and "outcome:warning" in out       # the working group's desk
    assert "0 request(s) outside GitHub's published API description" in out


def test_demo_help():
    proc = subprocess.run([sys.executable, "-m", "app", "demo", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 0 and "simulated" in proc.stdout


def test_bad_arguments_give_one_line_and_exit_2():
    for args in (["demo", "--bogus"], ["no-such-command"]):
        proc = subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
