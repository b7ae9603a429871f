"""Start-up: the environment is read once; a bad variable stops the server with one line naming it."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys

import pytest

from app.fakegithub.server import generate_private_key_pem
from app.server import NO_TRACKING_REPO, log_start
from app.settings import READS, SettingsError, graphql_url_for, load_settings
from tests.harness import ROOT, BotProcess, bot_env, new_private_key_pem


def good_env(**over):
    env = {"GITHUB_APP_ID": "42", "GITHUB_PRIVATE_KEY": new_private_key_pem(), "GITHUB_WEBHOOK_SECRET": "s3cret-value"}
    env.update(over)
    return {k: v for k, v in env.items() if v is not None}


def test_defaults():
    s = load_settings(good_env())
    assert s.app_id == 42
    assert s.api_url == "https://api.github.com"
    assert s.graphql_url == "https://api.github.com/graphql"
    assert s.database_url == "sqlite:///conduct-bot.sqlite3"
    assert (s.host, s.port, s.dry_run, s.tracking_repo) == ("0.0.0.0", 8080, False, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.app_id = 1  # frozen


def test_enterprise_server_graphql_endpoint():
    assert graphql_url_for("https://ghe.example.org/api/v3") == "https://ghe.example.org/api/graphql"
    s = load_settings(good_env(GITHUB_API_URL="https://ghe.example.org/api/v3/"))
    assert s.api_url == "https://ghe.example.org/api/v3"
    assert s.graphql_url == "https://ghe.example.org/api/graphql"


def test_key_from_file_and_escaped_newlines(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(new_private_key_pem())
    s = load_settings(good_env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(path)))
    assert "PRIVATE KEY" in s.private_key
    s = load_settings(good_env(GITHUB_PRIVATE_KEY=new_private_key_pem().replace("\n", "\\n")))
    assert s.private_key.count("\n") > 5


@pytest.mark.parametrize("over, name", [
    ({"GITHUB_APP_ID": None}, "GITHUB_APP_ID"),
    ({"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID"),
    ({"GITHUB_WEBHOOK_SECRET": None}, "GITHUB_WEBHOOK_SECRET"),
    ({"GITHUB_PRIVATE_KEY": None}, "GITHUB_PRIVATE_KEY"),
    ({"GITHUB_PRIVATE_KEY": "not a key"}, "GITHUB_PRIVATE_KEY"),
    ({"GITHUB_PRIVATE_KEY": None, "GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "GITHUB_PRIVATE_KEY_PATH"),
    ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"COC_TRACKING_REPO": "no-slash"}, "COC_TRACKING_REPO"),
    ({"COC_DRY_RUN": "maybe"}, "COC_DRY_RUN"),
    ({"PORT": "99999"}, "PORT"),
])
def test_bad_variable_is_named(over, name):
    with pytest.raises(SettingsError) as err:
        load_settings(good_env(**over))
    assert name in str(err.value)


@pytest.mark.parametrize("over, name", [
    ({"GITHUB_WEBHOOK_SECRET": None}, "GITHUB_WEBHOOK_SECRET"),
    ({"GITHUB_PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----\nsupersecretmaterial\n-----END RSA PRIVATE KEY-----"},
     "GITHUB_PRIVATE_KEY"),
])
def test_server_refuses_to_start_with_one_line(over, name, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COC_"))}
    env.update(good_env(**over))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/x.sqlite3"
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and name in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert "supersecretmaterial" not in proc.stderr + proc.stdout
    assert "s3cret-value" not in proc.stderr + proc.stdout


def test_both_key_variables_set_is_one_clear_error(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(new_private_key_pem())
    with pytest.raises(SettingsError) as err:
        load_settings(good_env(GITHUB_PRIVATE_KEY_PATH=str(path)))
    message = str(err.value)
    assert "GITHUB_PRIVATE_KEY and GITHUB_PRIVATE_KEY_PATH" in message and "\n" not in message
    assert "PRIVATE KEY-----" not in message and str(path) not in message
    # Set to nothing counts as not set, as for every variable.
    assert load_settings(good_env(GITHUB_PRIVATE_KEY_PATH="")).app_id == 42
    assert load_settings(good_env(GITHUB_PRIVATE_KEY=" ", GITHUB_PRIVATE_KEY_PATH=str(path))).app_id == 42


def test_server_with_both_key_variables_stops_with_one_line(tmp_path):
    path = tmp_path / "key.pem"
    path.write_text(new_private_key_pem())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COC_"))}
    env.update(good_env(GITHUB_PRIVATE_KEY_PATH=str(path)))
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", HOST="127.0.0.1", PORT="0")
    proc = subprocess.run([sys.executable, "-m", "app"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=30)
    assert proc.returncode == 2
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "GITHUB_PRIVATE_KEY and GITHUB_PRIVATE_KEY_PATH" in lines[0], proc.stderr
    assert "PRIVATE KEY-----" not in proc.stderr + proc.stdout


def test_a_github_reader_needs_no_webhook_secret_nor_server_settings():
    # The server's own variables, even malformed, are not read by a reader (transparency-report).
    env = good_env(GITHUB_WEBHOOK_SECRET=None, COC_TRACKING_REPO="psf-coc/incidents", PORT="not-a-port",
                   COC_WORKERS="lots", DATABASE_URL="mysql://x", COC_DRY_RUN="maybe", HOST="")
    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET"):
        load_settings(env)  # the server is the default purpose, and still requires it
    s = load_settings(env, purpose="github-reader")
    assert (s.app_id, s.tracking_repo, s.api_url) == (42, "psf-coc/incidents", "https://api.github.com")
    assert s.webhook_secret == b"" and "PRIVATE KEY" in s.private_key
    assert "GITHUB_WEBHOOK_SECRET" not in READS["github-reader"]
    assert set(READS["github-reader"]) < set(READS["server"])


@pytest.mark.parametrize("over, name", [
    ({"GITHUB_APP_ID": None}, "GITHUB_APP_ID"),
    ({"GITHUB_PRIVATE_KEY": None}, "GITHUB_PRIVATE_KEY"),
    ({"GITHUB_PRIVATE_KEY": None, "GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "GITHUB_PRIVATE_KEY_PATH"),
    ({"GITHUB_PRIVATE_KEY_PATH": "/some/key.pem"}, "GITHUB_PRIVATE_KEY_PATH"),  # both set
    ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL"),
    ({"COC_TRACKING_REPO": "no-slash"}, "COC_TRACKING_REPO"),
])
def test_a_github_reader_still_checks_what_it_reads(over, name):
    with pytest.raises(SettingsError, match=name):
        load_settings(good_env(GITHUB_WEBHOOK_SECRET=None, **over), purpose="github-reader")


def test_server_without_tracking_repository_warns_once_at_start(fake, tmp_path, monkeypatch):
    monkeypatch.delenv("COC_TRACKING_REPO", raising=False)  # the process inherits this environment
    proc = BotProcess(bot_env(fake, tmp_path / "bot.sqlite3", COC_TRACKING_REPO=None), tmp_path)
    try:
        proc.start()
        warnings = [json.loads(line) for line in proc.logs().splitlines()
                    if line.startswith("{") and "COC_TRACKING_REPO" in line]
    finally:
        proc.stop()
    assert len(warnings) == 1, proc.logs()
    assert warnings[0]["level"] == "warning"
    assert "reports cannot be filed" in warnings[0]["msg"] and "tracking_repo" in warnings[0]["msg"]
    assert warnings[0]["msg"] == NO_TRACKING_REPO


def test_server_with_tracking_repository_does_not_warn(caplog, tmp_path):
    db = f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    with caplog.at_level(logging.INFO, logger="conduct_bot.server"):
        log_start(load_settings(good_env(COC_TRACKING_REPO="psf-coc/incidents", DATABASE_URL=db)))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="conduct_bot.server"):
        log_start(load_settings(good_env(DATABASE_URL=db)))
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == [NO_TRACKING_REPO]


def test_a_relative_database_path_is_named_at_start(caplog, tmp_path, monkeypatch):
    """SPEC's default database is relative to the working directory: the server says where that is."""
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO, logger="conduct_bot.server"):
        log_start(load_settings(good_env(COC_TRACKING_REPO="psf-coc/incidents")))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(tmp_path / "conduct-bot.sqlite3") in warnings[0]
    assert "persistent disk" in warnings[0]


def test_the_distribution_lists_every_package_and_an_spdx_licence():
    """`pip install .` gives a server that starts from any directory, and prints no setuptools deprecation."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    listed = set(setuptools["packages"])
    data = ROOT / "app" / "fakegithub" / "reference"  # GitHub's reference data: package data, not a package
    code = {str(p.parent.relative_to(ROOT)).replace("/", ".")
            for top in ("app", "handlers", "templates") for p in (ROOT / top).rglob("*.py")
            if data not in p.parents and "__pycache__" not in p.parts}
    assert code <= listed, f"packages missing from [tool.setuptools] packages: {sorted(code - listed)}"
    assert all((ROOT / name.replace(".", "/")).is_dir() for name in listed)
    # Data files are only those named in package-data, so setuptools finds no data folder to warn about.
    assert setuptools["include-package-data"] is False
    # An SPDX expression (setuptools >= 77), not the deprecated table; every licence file named exists.
    assert project["project"]["license"] == "MIT"
    assert any(r.startswith("setuptools>=") and int(r.split(">=")[1].split(".")[0]) >= 77
               for r in project["build-system"]["requires"])
    for pattern in project["project"].get("license-files", []):
        assert list(ROOT.glob(pattern)), pattern


def test_the_server_reads_dotenv_under_the_environment(tmp_path, monkeypatch):
    """`python -m app register` writes .env; the server then works from that file alone, and the
    environment wins over it."""
    key = generate_private_key_pem().replace("\n", "\\n")
    (tmp_path / ".env").write_text(f"# written by register\nGITHUB_APP_ID=41\nGITHUB_WEBHOOK_SECRET=s3cret\n"
                                   f"GITHUB_PRIVATE_KEY={key}\nCOC_TRACKING_REPO=psf-coc/incidents\n")
    monkeypatch.chdir(tmp_path)
    for name in ("GITHUB_APP_ID", "GITHUB_WEBHOOK_SECRET", "GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH",
                 "COC_TRACKING_REPO"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert (s.app_id, s.webhook_secret, s.tracking_repo) == (41, b"s3cret", "psf-coc/incidents")
    assert "BEGIN" in s.private_key
    monkeypatch.setenv("GITHUB_APP_ID", "42")
    assert load_settings().app_id == 42
    (tmp_path / ".env").write_text("GITHUB_APP_ID=41\nthis is not a setting\n")
    with pytest.raises(SettingsError, match="line 2"):
        load_settings()
