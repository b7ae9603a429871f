"""Start-up: the environment is read once; a bad variable stops the server with one line naming it."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import pytest

from app.settings import SettingsError, graphql_url_for, load_settings
from tests.harness import ROOT

KEY = None


def _key():
    global KEY
    if KEY is None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        KEY = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    return KEY


def good_env(**over):
    env = {"GITHUB_APP_ID": "42", "GITHUB_PRIVATE_KEY": _key(), "GITHUB_WEBHOOK_SECRET": "s3cret-value"}
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
    path.write_text(_key())
    s = load_settings(good_env(GITHUB_PRIVATE_KEY=None, GITHUB_PRIVATE_KEY_PATH=str(path)))
    assert "PRIVATE KEY" in s.private_key
    s = load_settings(good_env(GITHUB_PRIVATE_KEY=_key().replace("\n", "\\n")))
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
