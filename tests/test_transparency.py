"""`python -m app transparency-report`: pure summary/renderings, and the whole command against the fake GitHub."""
from __future__ import annotations

import csv
import io
import re
import socket
from datetime import date

import pytest

from app.cli.transparency import main
from app.settings import READS
from app.text import bundled_template, marker, render
from app.transparency import (
    Incident,
    count_actions,
    incident_from_issue,
    months_between,
    render_csv,
    render_markdown,
    summarise,
)
from tests.conftest import TRACKING

# Logins that appear in the incidents' bodies and comments and must never be printed.
LOGINS = ("rey", "troll42", "angry-dev", "wendy", "olga", "conduct-bot")


# --------------------------------------------------------------------------- pure parts

def issue_json(*, title="Incident amber-falcon (report)", labels=("coc:report", "status:new"), state="open",
               created_at="2024-02-10T12:00:00Z", body="", pull_request=False) -> dict:
    issue = {"number": 7, "title": title, "labels": [{"name": n} for n in labels], "state": state,
             "created_at": created_at, "body": body, "comments": 0}
    if pull_request:
        issue["pull_request"] = {"url": "x"}
    return issue


def test_incident_from_issue_reads_kind_status_outcome_venue_and_actions():
    body = (f"{marker('incident', 'psf/black#12')}\n- **Thread**: https://github.com/psf/Black/issues/12\n"
            f"- **Repository**: psf/Black\n- **Kind**: action\n\n{marker('action', 'lock')}")
    rec = incident_from_issue(
        issue_json(title="Incident calm-otter (action)", state="closed", body=body,
                   labels=("coc:action", "coc:report", "status:resolved", "outcome:final-warning")),
        [f"done\n{marker('action', 'hide')}", "a human comment by @troll42", f"x\n{marker('action', 'lock')}"])
    assert rec == Incident("calm-otter", date(2024, 2, 10), "report", "resolved", "final-warning", "psf/Black",
                           (("lock", 2), ("hide", 1)))


@pytest.mark.parametrize("labels,state,status,outcome", [
    (("coc:heated", "status:new"), "open", "new", "open"),
    (("coc:heated", "status:triaged"), "open", "triaged", "open"),
    (("coc:heated",), "closed", "resolved", "unrecorded"),
    (("coc:heated", "status:resolved", "outcome:warning", "outcome:reminder"), "closed", "resolved", "warning"),
])
def test_status_and_outcome(labels, state, status, outcome):
    rec = incident_from_issue(issue_json(labels=labels, state=state))
    assert (rec.kind, rec.status, rec.outcome) == ("heated", status, outcome)


@pytest.mark.parametrize("issue", [
    issue_json(labels=("coc:config",)),
    issue_json(labels=("coc:config", "coc:report")),
    issue_json(labels=("bug",)),
    issue_json(pull_request=True),
])
def test_not_incidents(issue):
    assert incident_from_issue(issue) is None


def test_untrusted_text_never_becomes_a_code_name_or_venue():
    rec = incident_from_issue(issue_json(title="Incident troll42 was rude", body="- **Repository**: not a repo"))
    assert (rec.code_name, rec.venue) == ("unnamed", "unknown")
    assert count_actions(["<!-- conduct-bot:action Lock@troll42 -->", None]) == ()


def test_created_at_is_read_in_utc():
    rec = incident_from_issue(issue_json(created_at="2024-01-31T23:30:00-02:00"))
    assert rec.created == date(2024, 2, 1)


def records():
    return [
        Incident("amber-falcon", date(2024, 1, 1), "report", "resolved", "warning", "psf/black", (("lock", 2),)),
        Incident("calm-otter", date(2024, 1, 20), "heated", "triaged", "open", "psf/black"),
        Incident("brave-heron", date(2024, 3, 31), "action", "new", "open", "python/cpython",
                 (("lock", 1), ("hide", 1))),
    ]


def test_summarise_counts_and_fills_every_month_kind_and_outcome():
    s = summarise(records(), date(2024, 1, 1), date(2024, 3, 31))
    assert s["total"] == 3
    assert s["by_kind"] == {"report": 1, "heated": 1, "action": 1}
    assert s["by_outcome"] == {"no-action": 0, "reminder": 0, "warning": 1, "final-warning": 0,
                               "temporary-ban": 0, "permanent-ban": 0, "open": 2}
    assert s["by_month"] == {"2024-01": 2, "2024-02": 0, "2024-03": 1}
    assert list(s["by_venue"].items()) == [("psf/black", 2), ("python/cpython", 1)]
    assert months_between(date(2023, 11, 5), date(2024, 2, 1)) == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_render_markdown_tables_chart_and_nothing_identifying():
    md = render_markdown(summarise(records(), date(2024, 1, 1), date(2024, 3, 31)), date(2024, 1, 1),
                         date(2024, 3, 31))
    assert md.startswith("# ") and "2024-01-01" in md and "2024-03-31" in md
    for row in ("| report | 1 |", "| warning | 1 |", "| open | 2 |", "| 2024-02 | 0 |", "| psf/black | 2 |"):
        assert row in md
    assert "```mermaid\npie" in md and "```mermaid\nxychart-beta" in md
    assert 'bar [2, 0, 1]' in md
    for name in ("amber-falcon", "calm-otter", "brave-heron"):
        assert name not in md
    assert not re.search(r"#\d|https?://", md)


def test_render_markdown_with_no_incidents():
    md = render_markdown(summarise([], date(2024, 5, 1), date(2024, 5, 31)), date(2024, 5, 1), date(2024, 5, 31))
    assert "**0**" in md and "| 2024-05 | 0 |" in md and "```mermaid" in md


def test_render_csv():
    rows = list(csv.reader(io.StringIO(render_csv(reversed(records())))))
    assert rows == [
        ["code_name", "date", "kind", "status", "actions_taken", "outcome"],
        ["amber-falcon", "2024-01-01", "report", "resolved", "lock×2", "warning"],
        ["calm-otter", "2024-01-20", "heated", "triaged", "", "open"],
        ["brave-heron", "2024-03-31", "action", "new", "lock;hide", "open"],
    ]


# --------------------------------------------------------------------------- the command, end to end

def incident_body(kind: str, venue: str, number: int, *, action: str | None = None) -> str:
    """An incident body as app/incidents.py writes it, logins included."""
    body = render(bundled_template("incident"), marker=marker("incident", f"{venue}#{number}".lower()),
                  thread_url=f"https://github.com/{venue}/issues/{number}", repository=venue, kind=kind,
                  reporter="`rey`" if kind == "report" else "—", reason="> @troll42 and @angry-dev were rude",
                  accounts="`troll42`, `angry-dev`", history="_none_",
                  evidence="- `troll42` at 2024-01-01T00:00:00Z\n\n  > you are all idiots")
    return body + (f"\n{marker('action', action)}" if action else "")


def add_incident(fake, code, kind, created_at, venue="psf/black", thread=1, *, labels=(), closed=False,
                 action=None) -> int:
    issue = fake.create_issue(TRACKING, user=fake.bot_login, title=f"Incident {code} ({kind})",
                              body=incident_body(kind, venue, thread, action=action),
                              labels=[f"coc:{kind}", *labels], created_at=created_at, force=True)
    if closed:
        fake.close_issue(TRACKING, issue["number"], user="wendy")
    return issue["number"]


def record_action(fake, number, name):
    body = render(bundled_template("action_record"), marker="", actor="`wendy`", command=f"`/coc-{name}`",
                  result="done") + "\n" + marker("action", name)
    fake.add_comment(TRACKING, number, user=fake.bot_login, body=body, force=True)


@pytest.fixture
def world(fake, monkeypatch):
    for name in ("GITHUB_PRIVATE_KEY_PATH", "COC_DRY_RUN", "DATABASE_URL", "PORT", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_APP_ID", str(fake.app_id))
    monkeypatch.setenv("GITHUB_PRIVATE_KEY", fake.private_key_pem)
    monkeypatch.setenv("GITHUB_WEBHOOK_SECRET", "x")
    monkeypatch.setenv("GITHUB_API_URL", fake.url)
    monkeypatch.setenv("COC_TRACKING_REPO", TRACKING)
    fake.add_repo("python/cpython")  # public, with its own installation (psf/black is public too)

    # Outside the period, on both sides.
    add_incident(fake, "early-otter", "report", "2023-12-31T23:59:59Z")
    add_incident(fake, "late-otter", "report", "2024-04-01T00:00:00Z")
    # Inside, the boundaries included.
    a = add_incident(fake, "amber-falcon", "report", "2024-01-01T00:00:00Z",
                     labels=["coc:heated", "status:resolved", "outcome:warning"], closed=True)
    record_action(fake, a, "lock")
    record_action(fake, a, "hide")
    record_action(fake, a, "lock")
    fake.add_comment(TRACKING, a, user="wendy", body="I spoke to @troll42, see psf/black#1")
    b = add_incident(fake, "calm-heron", "heated", "2024-01-15T08:00:00Z", labels=["status:triaged"])
    record_action(fake, b, "remind")
    add_incident(fake, "brave-lynx", "action", "2024-03-31T23:59:59Z", venue="python/cpython", thread=9,
                 labels=["status:new"], action="block")
    c = add_incident(fake, "quiet-owl", "heated", "2024-03-02T10:00:00Z", venue="psf/black", thread=2,
                     labels=["coc:action", "status:resolved", "outcome:no-action"], closed=True)
    record_action(fake, c, "unlock")
    # Not incidents.
    fake.create_issue(TRACKING, user=fake.bot_login, title="Invalid configuration in psf/black",
                      body="`troll42` broke it", labels=["coc:config"], created_at="2024-02-01T00:00:00Z",
                      force=True)
    fake.create_issue(TRACKING, user="wendy", title="WG meeting notes", body="with @olga",
                      created_at="2024-02-02T00:00:00Z")
    return fake


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_markdown_report_end_to_end(world, capsys):
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-03-31")
    assert (code, err) == (0, "")
    assert "**4**" in out
    for row in ("| report | 1 |", "| heated | 2 |", "| action | 1 |",
                "| warning | 1 |", "| no-action | 1 |", "| open | 2 |", "| reminder | 0 |",
                "| 2024-01 | 2 |", "| 2024-02 | 0 |", "| 2024-03 | 2 |",
                "| psf/black | 3 |", "| python/cpython | 1 |"):
        assert row in out, row
    assert "| unrecorded |" not in out
    assert "```mermaid" in out
    assert not re.search(r"#\d|https?://|\]\(", out)
    for word in (*LOGINS, "otter", "falcon", "heron", "lynx", "owl", "config"):
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", out, re.I), word
    # Economy: the public report needs no comments.
    assert not any("/comments" in str(r) for r in world.requests)


def venue_rows(out: str) -> dict[str, int]:
    section = out.split("## By venue", 1)[1].split("## Method", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\| (.+?) \| (\d+) \|$", section, re.M)}


def test_a_repository_that_is_not_public_is_never_named_as_a_venue(world, capsys):
    fake = world
    fake.add_repo("psf/secret-sauce", installation_id=fake.installation_ids["psf"], visibility="internal")
    fake.add_repo("psf/was-public", installation_id=fake.installation_ids["psf"])
    fake.set_user("solo-dev", type="User")
    fake.add_repo("solo-dev/diary", private=True)
    for i, venue in enumerate(("psf/private-repo", "psf/private-repo", "psf/secret-sauce", "solo-dev/diary",
                               "psf/was-public", "gone-org/deleted-repo")):
        add_incident(fake, "hidden-otter", "report", f"2024-02-1{i}T00:00:00Z", venue=venue, thread=i + 1)
    fake.set_repo("psf/was-public", visibility="private")  # made private since its incident
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-03-31")
    assert (code, err) == (0, "")
    assert "**10**" in out
    assert venue_rows(out) == {"psf/black": 3, "psf (private repository)": 4, "python/cpython": 1,
                               "solo-dev (private repository)": 1, "gone-org (private repository)": 1}
    for name in ("private-repo", "secret-sauce", "diary", "was-public", "deleted-repo"):
        assert name not in out
    # GitHub is asked once per repository, not once per incident.
    looked_up = [r.path for r in fake.requests if re.fullmatch(r"/repos/[^/]+/[^/]+", r.path)]
    assert looked_up.count("/repos/psf/private-repo") == 1 and looked_up.count("/repos/psf/black") == 1


def test_a_venue_whose_visibility_cannot_be_checked_now_prints_no_report(world, capsys):
    world.fail_next("GET", r"^/repos/python/cpython$", status=502, times=20)
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-03-31")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "try again later" in err


def test_csv_sheet_end_to_end(world, capsys):
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-03-31", "--format", "csv")
    assert (code, err) == (0, "")
    assert list(csv.reader(io.StringIO(out))) == [
        ["code_name", "date", "kind", "status", "actions_taken", "outcome"],
        ["amber-falcon", "2024-01-01", "report", "resolved", "lock×2;hide", "warning"],
        ["calm-heron", "2024-01-15", "heated", "triaged", "remind", "open"],
        ["quiet-owl", "2024-03-02", "heated", "resolved", "unlock", "no-action"],
        ["brave-lynx", "2024-03-31", "action", "new", "block", "open"],
    ]
    for login in LOGINS:
        assert login not in out


def test_one_day_period_and_pagination(fake, world, capsys):
    for i in range(120):
        add_incident(fake, "many-moths", "action", f"2024-06-01T{i // 60:02d}:{i % 60:02d}:00Z",
                     labels=["status:new"])
    n = add_incident(fake, "busy-bee", "report", "2024-06-01T05:00:00Z", labels=["status:triaged"])
    for _ in range(105):
        record_action(fake, n, "hide")
    code, out, _ = run(capsys, "--since", "2024-06-01", "--until", "2024-06-01", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 121
    assert [r for r in rows if r["code_name"] == "busy-bee"][0]["actions_taken"] == "hide×105"
    code, out, _ = run(capsys, "--since", "2024-06-01", "--until", "2024-06-01")
    assert "**121**" in out and "| action | 120 |" in out and "| 2024-06 | 121 |" in out


@pytest.mark.parametrize("argv,needle", [
    ([], "required"),
    (["--since", "2024-01-01"], "--until"),
    (["--since", "2024-13-01", "--until", "2024-12-31"], "2024-13-01"),
    (["--since", "01/02/2024", "--until", "2024-12-31"], "YYYY-MM-DD"),
    (["--since", "2024-02-01", "--until", "2024-01-31"], "after"),
    (["--since", "2024-01-01", "--until", "2024-01-31", "--format", "pdf"], "pdf"),
    (["--since", "2024-01-01", "--until", "2024-01-31", "extra"], "extra"),
])
def test_bad_arguments_one_line_exit_2(argv, needle, capsys):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err


def test_help(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "--since" in out and "csv" in out


def test_help_names_the_variables_it_reads_and_no_webhook_secret(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for name in READS["github-reader"]:
        assert name in out, name
    assert "GITHUB_WEBHOOK_SECRET" not in out and "no webhook secret" in out


def test_runs_without_the_webhook_secret_or_any_server_setting(world, monkeypatch, capsys):
    # SPEC.md: sub-commands ask only for the settings they use; this one is not a server.
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET")
    for name, value in (("PORT", "not-a-port"), ("COC_WORKERS", "lots"), ("DATABASE_URL", "mysql://x")):
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-03-31")
    assert (code, err) == (0, "") and "**4**" in out


def test_both_key_variables_set_exit_2_naming_both(world, monkeypatch, capsys, tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text(world.private_key_pem)
    monkeypatch.setenv("GITHUB_PRIVATE_KEY_PATH", str(key_file))
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-01-31")
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert "GITHUB_PRIVATE_KEY and GITHUB_PRIVATE_KEY_PATH" in err and "PRIVATE KEY-----" not in err


def test_missing_environment_exit_2(world, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_APP_ID")
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-01-31")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "GITHUB_APP_ID" in err


def test_no_tracking_repository_exit_2(world, monkeypatch, capsys):
    monkeypatch.delenv("COC_TRACKING_REPO")
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-01-31")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "COC_TRACKING_REPO" in err


def test_app_not_installed_on_tracking_repository_exit_1(world, monkeypatch, capsys):
    monkeypatch.setenv("COC_TRACKING_REPO", "elsewhere/incidents")
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-01-31")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "elsewhere/incidents" in err


def test_github_unreachable_exit_1(world, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    code, out, err = run(capsys, "--since", "2024-01-01", "--until", "2024-01-31")
    assert (code, out) == (1, "") and err.count("\n") == 1 and "cannot reach GitHub" in err
