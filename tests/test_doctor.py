"""`python -m app doctor`, run as an operator runs it (a process in an empty directory) against the fake GitHub:
settings from the environment and `.env`, the App's key, each installation's permissions and events against
app.yml, and the tracking repository (exists, private, App installed). No secret is ever printed."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from app.cli.doctor import REQUIRED_EVENTS, REQUIRED_PERMISSIONS, missing_grants
from app.fakegithub.model import DEFAULT_APP_EVENTS, DEFAULT_APP_PERMISSIONS
from app.settings import DotenvError, merge_env, parse_dotenv
from tests.conftest import TRACKING
from tests.harness import ROOT, SECRET, bot_env, new_private_key_pem


def secrets_of(fake, *keys: str) -> list[str]:
    """What must never be printed: the webhook secret, each key whole and line by line, every token."""
    out = [SECRET, "ghs_", "eyJ", *fake._st.tokens]
    for key in (fake.private_key_pem, *keys):
        out.append(key)
        out.extend(line for line in key.splitlines() if len(line) > 20 and "PRIVATE KEY" not in line)
    return out


def doctor(fake, tmp_path, *args, env=None, dotenv=None, keys=()):
    """Runs `python -m app doctor ARGS` in TMP_PATH/work with exactly ENV (default: the bot's environment) and,
    if given, a .env file; returns (exit status, stdout lines, stderr), after checking no secret was printed."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    if dotenv is not None:
        (work / ".env").write_text(dotenv)
    env = bot_env(fake, tmp_path / "bot.sqlite3") if env is None else env
    proc = subprocess.run([sys.executable, "-m", "app", "doctor", *args], cwd=work, env=env, capture_output=True,
                          text=True, timeout=60)
    for secret in secrets_of(fake, *keys):
        assert secret not in proc.stdout and secret not in proc.stderr, "a secret was printed"
    assert "Traceback" not in proc.stderr
    return proc.returncode, proc.stdout.splitlines(), proc.stderr


def failed(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("FAIL ")]


def checks(lines: list[str]) -> list[str]:
    """The checklist without its summary line."""
    assert lines and lines[-1].startswith("doctor: ")
    return lines[:-1]


# --------------------------------------------------------------------------- the whole command

def test_a_good_deployment_passes_every_check(fake, tmp_path):
    code, lines, err = doctor(fake, tmp_path)
    assert code == 0, lines
    assert err == ""
    assert all(line.startswith("ok   ") for line in checks(lines)), lines
    text = "\n".join(lines)
    assert "GitHub accepts the App's key" in text
    assert f"installation on psf (id {fake.installation_ids['psf']})" in text
    assert f"tracking repository {TRACKING}: private" in text
    assert lines[-1].startswith("doctor: nothing failed")


@pytest.mark.parametrize("visibility,word", [("public", "PUBLIC"), ("internal", "internal")])
def test_a_tracking_repository_that_is_not_private_fails_by_name(fake, tmp_path, visibility, word):
    fake.set_repo(TRACKING, visibility=visibility)
    code, lines, _ = doctor(fake, tmp_path)
    assert code == 1
    [fail] = failed(lines)
    assert fail.startswith(f"FAIL tracking repository {TRACKING} is {word}")
    assert f"tracking repository {TRACKING} is {visibility}" in lines[-1]


def test_a_key_github_does_not_accept_fails_and_says_so(fake, tmp_path):
    key = new_private_key_pem()
    code, lines, _ = doctor(fake, tmp_path, env=bot_env(fake, tmp_path / "bot.sqlite3", GITHUB_PRIVATE_KEY=key),
                            keys=(key,))
    assert code == 1
    [fail] = failed(lines)
    assert fail.startswith("FAIL key: GitHub does not accept the App's key")
    assert "key not accepted" in lines[-1]
    assert not any("installation on" in line for line in lines)  # nothing else can be asked without the key


def test_an_installation_missing_a_permission_or_an_event_fails_naming_both(fake, tmp_path):
    permissions = {**DEFAULT_APP_PERMISSIONS, "issues": "read"}
    del permissions["administration"]
    inst = fake.add_installation("psf-labs", permissions=permissions,
                                 events=[e for e in DEFAULT_APP_EVENTS if e != "push"])
    code, lines, _ = doctor(fake, tmp_path)
    assert code == 1
    [fail] = failed(lines)
    assert fail.startswith(f"FAIL installation on psf-labs (id {inst}): lacks ")
    for missing in ("permission issues: write (has read)", "permission administration: write (has none)",
                    "event push"):
        assert missing in fail
    assert "accept the App's new permissions" in fail
    assert "psf-labs" in lines[-1]
    assert any(line.startswith("ok   installation on psf ") for line in lines)  # the others are fine


def test_a_suspended_installation_fails(fake, tmp_path):
    inst = fake.add_installation("psf-labs")
    fake.suspend_installation(inst)
    code, lines, _ = doctor(fake, tmp_path)
    assert code == 1
    [fail] = failed(lines)
    assert fail.startswith(f"FAIL installation on psf-labs (id {inst}): suspended")


def test_a_tracking_repository_without_the_app_fails(fake, tmp_path):
    fake.add_repo("wg-elsewhere/incidents", private=True, installed=False)
    env = bot_env(fake, tmp_path / "bot.sqlite3", COC_TRACKING_REPO="wg-elsewhere/incidents")
    code, lines, _ = doctor(fake, tmp_path, env=env)
    assert code == 1
    [fail] = failed(lines)
    assert fail.startswith("FAIL tracking repository wg-elsewhere/incidents (COC_TRACKING_REPO): the App is not "
                           "installed on it")
    assert "wg-elsewhere/incidents" in lines[-1]


def test_a_tracking_repository_that_does_not_exist_fails(fake, tmp_path):
    env = bot_env(fake, tmp_path / "bot.sqlite3", COC_TRACKING_REPO="psf-coc/no-such-repo")
    code, lines, _ = doctor(fake, tmp_path, env=env)
    assert code == 1
    [fail] = failed(lines)
    assert "psf-coc/no-such-repo" in fail and "does not exist" in fail


def test_settings_from_dotenv_alone(fake, tmp_path):
    env = bot_env(fake, tmp_path / "bot.sqlite3")
    key = env["GITHUB_PRIVATE_KEY"]
    dotenv = "\n".join([
        "# written by hand",
        f"GITHUB_APP_ID={env['GITHUB_APP_ID']}",
        f'GITHUB_PRIVATE_KEY="{key.strip()}"',  # a PEM over several lines, in double quotes
        f"export GITHUB_WEBHOOK_SECRET='{SECRET}'",
        f"GITHUB_API_URL={env['GITHUB_API_URL']}   # the fake",
        f"DATABASE_URL={env['DATABASE_URL']}",
        f"COC_TRACKING_REPO={TRACKING}",
        "",
    ])
    code, lines, _ = doctor(fake, tmp_path, env={}, dotenv=dotenv)
    assert code == 0, lines
    assert all(line.startswith("ok   ") for line in checks(lines)), lines
    assert lines[0].startswith("ok   settings: read from the environment and ")
    assert f"tracking repository {TRACKING}: private" in "\n".join(lines)


def test_the_key_as_a_file_named_in_dotenv_and_the_environment_winning(fake, tmp_path):
    env = bot_env(fake, tmp_path / "bot.sqlite3")
    key_file = tmp_path / "app.pem"
    key_file.write_text(env.pop("GITHUB_PRIVATE_KEY"))
    # .env names a key file and a wrong App id; the environment's App id wins, and the environment's key
    # (when it has one) replaces .env's key file instead of clashing with it.
    dotenv = f"GITHUB_APP_ID=999999\nGITHUB_PRIVATE_KEY_PATH={key_file}\n"
    code, lines, _ = doctor(fake, tmp_path, env=env, dotenv=dotenv)
    assert code == 0, lines
    assert "key from GITHUB_PRIVATE_KEY_PATH" in lines[0]
    env["GITHUB_PRIVATE_KEY"] = fake.private_key_pem
    code, lines, _ = doctor(fake, tmp_path, env=env, dotenv=dotenv)
    assert code == 0, lines
    assert "key from GITHUB_PRIVATE_KEY," in lines[0]


def test_a_missing_variable_is_a_failed_line_naming_it(fake, tmp_path):
    code, lines, err = doctor(fake, tmp_path, env=bot_env(fake, tmp_path / "bot.sqlite3", GITHUB_APP_ID=None))
    assert code == 1
    assert err == ""
    [fail] = failed(lines)
    assert fail.startswith("FAIL settings: GITHUB_APP_ID is required")
    assert "GITHUB_APP_ID" in lines[-1]


def test_without_the_webhook_secret_github_is_still_checked(fake, tmp_path):
    code, lines, _ = doctor(fake, tmp_path, env=bot_env(fake, tmp_path / "bot.sqlite3", GITHUB_WEBHOOK_SECRET=None))
    assert code == 1
    [fail] = failed(lines)
    assert fail.startswith("FAIL settings: GITHUB_WEBHOOK_SECRET is required")
    assert any(line.startswith("ok   key: GitHub accepts") for line in lines)


def test_a_malformed_dotenv_names_the_line_not_its_value(fake, tmp_path):
    code, lines, _ = doctor(fake, tmp_path, env={}, dotenv=f"GITHUB_APP_ID=1\n{SECRET}\n")
    assert code == 1
    assert "FAIL settings: .env line 2 is not KEY=VALUE" in lines


def test_postgresql_and_a_missing_database_folder_fail(fake, tmp_path):
    code, lines, _ = doctor(fake, tmp_path, env=bot_env(fake, tmp_path / "bot.sqlite3",
                                                        DATABASE_URL="postgresql://bot:hunter2-pw@db/bot"))
    assert code == 1
    assert "hunter2-pw" not in "\n".join(lines)
    assert failed(lines)[0].startswith("FAIL database: DATABASE_URL is PostgreSQL")
    code, lines, _ = doctor(fake, tmp_path, env=bot_env(fake, tmp_path / "nowhere" / "bot.sqlite3"))
    assert code == 1
    assert failed(lines)[0].startswith("FAIL database: the folder of")


def test_without_a_tracking_repository_it_warns_and_reads_each_organisations_file(fake, tmp_path):
    env = bot_env(fake, tmp_path / "bot.sqlite3", COC_TRACKING_REPO=None)
    code, lines, _ = doctor(fake, tmp_path, env=env)
    assert code == 0, lines
    assert any(line.startswith("warn COC_TRACKING_REPO is not set") for line in lines)
    assert any(line.startswith("warn psf/.github: .github/coc.yml does not exist") for line in lines)

    # An organisation that names its tracking repository: that repository is checked like COC_TRACKING_REPO.
    fake.add_repo("psf/.github", installation_id=fake.installation_ids["psf"],
                  files={".github/coc.yml": f"tracking_repo: {TRACKING}\n"})
    code, lines, _ = doctor(fake, tmp_path, env=env)
    assert code == 0, lines
    assert f"ok   psf/.github: .github/coc.yml names tracking_repo {TRACKING}" in lines
    assert f"ok   tracking repository {TRACKING}: private" in lines

    fake.set_repo(TRACKING, visibility="public")
    code, lines, _ = doctor(fake, tmp_path, env=env)
    assert code == 1
    assert [line.split(":")[0] for line in failed(lines)] == [f"FAIL tracking repository {TRACKING} is PUBLIC"]


def test_help_and_bad_arguments(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app", "doctor", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={})
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: python -m app doctor")
    assert "COC_TRACKING_REPO" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "app", "doctor", "--bogus"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env={})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    top = subprocess.run([sys.executable, "-m", "app", "--help"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env={})
    assert "  doctor " in top.stdout


# --------------------------------------------------------------------------- pure parts

def test_the_embedded_requirements_are_app_yml():
    """app.yml is not in the installed package, so doctor carries a copy of what it asks for; this keeps the copy
    equal to the manifest."""
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["default_permissions"] == REQUIRED_PERMISSIONS
    assert manifest["default_events"] == list(REQUIRED_EVENTS)


def test_missing_grants():
    assert missing_grants(REQUIRED_PERMISSIONS, REQUIRED_EVENTS) == []
    assert missing_grants({**REQUIRED_PERMISSIONS, "issues": "admin", "extra": "write"}, [*REQUIRED_EVENTS, "x"]) == []
    assert missing_grants({**REQUIRED_PERMISSIONS, "contents": "write"}, REQUIRED_EVENTS) == []
    perms = {k: v for k, v in REQUIRED_PERMISSIONS.items() if k != "organization_user_blocking"}
    assert missing_grants(perms, REQUIRED_EVENTS) == ["permission organization_user_blocking: write (has none)"]
    assert missing_grants(perms, REQUIRED_EVENTS, organization=False) == []  # a user account has no such permission
    assert missing_grants({**REQUIRED_PERMISSIONS, "pull_requests": "read"}, ["issues"]) == [
        "permission pull_requests: write (has read)", "event issue_comment", "event pull_request_review_comment",
        "event pull_request", "event push", "event repository"]


def test_parse_dotenv():
    text = ('# comment\n\nA=1\nexport B = two words  # note\nC="x # not a comment"\nD=\'single \\n kept\'\n'
            'E="line one\nline two \\" quote"\nF=a#b\nA=again\n')
    assert parse_dotenv(text) == {"A": "again", "B": "two words", "C": "x # not a comment",
                                  "D": "single \\n kept", "E": 'line one\nline two " quote', "F": "a#b"}
    for bad, line in (("A=1\nnot a setting\n", 2), ("1A=2\n", 1), ('A="open\n', 1), ("A='open\n", 1)):
        with pytest.raises(DotenvError, match=f"line {line}"):
            parse_dotenv(bad)


def test_merge_env():
    dotenv = {"GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY_PATH": "k.pem", "PORT": "9"}
    assert merge_env({"GITHUB_APP_ID": "2", "PORT": ""}, dotenv) == {
        "GITHUB_APP_ID": "2", "GITHUB_PRIVATE_KEY_PATH": "k.pem", "PORT": "9"}
    assert merge_env({"GITHUB_PRIVATE_KEY": "PEM"}, dotenv) == {
        "GITHUB_APP_ID": "1", "GITHUB_PRIVATE_KEY": "PEM", "PORT": "9"}


def test_the_process_environment_is_not_needed(fake, tmp_path):
    """Doctor reads nothing but what it is given: an empty environment and no .env is a failed line, exit 1."""
    code, lines, _ = doctor(fake, tmp_path, env={"PATH": os.environ.get("PATH", "")})
    assert code == 1
    assert failed(lines) == ["FAIL settings: GITHUB_APP_ID is required (the App's numeric id)"]
    assert lines[-2].startswith("warn GitHub: not asked")
