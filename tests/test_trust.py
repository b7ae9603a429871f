"""Trust boundaries (SPEC "Trust boundaries and abuse"): each test plays an attack through signed deliveries
against the simulated GitHub, and checks what the attacker, the public and the working group see."""
from __future__ import annotations

import uuid

from tests.conftest import REPO, TRACKING
from tests.harness import wait_until
from tests.test_commands_e2e import Thread, incidents, labels
from tests.test_desk import open_incident
from tests.test_incidents import report

EVIL = "evil/private"


def config_issues(fake, repo=TRACKING):
    return [i for i in fake.issues(repo) if any(l["name"] == "coc:config" for l in i["labels"])]


def org_file(fake, org: str, text: str) -> None:
    """The organisation-wide `.github/coc.yml` (in the org's `.github` repository)."""
    name = f"{org}/.github"
    try:
        fake.repo(name)
    except Exception:
        fake.add_repo(name, installation_id=fake.installation_ids[org])
    fake.set_file(name, ".github/coc.yml", text)


def attacker_world(fake):
    """`mallory` can write psf/black and owns a private repository the App is installed on."""
    fake.set_permission(REPO, "mallory", "write")
    inst = fake.add_installation("evil")
    fake.add_repo(EVIL, installation_id=inst, private=True)
    fake.set_permission(EVIL, "mallory", "admin")
    return inst


# -- 1. reports cannot be redirected, the working group's powers cannot be borrowed ----------------------

def test_a_repository_file_cannot_redirect_reports(fake, bot):
    attacker_world(fake)
    fake.set_file(REPO, ".github/coc.yml", f"tracking_repo: {EVIL}\ncontact: black@example.org\n")
    t, _ = report(fake, bot, reporter="tia", reason="they threatened me")
    assert fake.issues(EVIL) == []                      # nothing reached the attacker's repository
    found = incidents(fake)
    assert len(found) == 1 and "they threatened me" in found[0]["body"]
    # The rest of the file still applies; the key is a configuration error, filed once.
    report(fake, bot, reporter="wes", reason="again", thread=t)
    filed = config_issues(fake)
    assert len(filed) == 1 and "tracking_repo" in filed[0]["body"]


def test_an_issue_in_another_repository_cannot_borrow_the_working_groups_powers(fake, bot):
    inst = attacker_world(fake)
    t = Thread(fake, bot, opener="rey", body="A public thread.")
    # mallory forges an "incident" in a repository of their own, linking to the thread, and types WG commands.
    forged = fake.create_issue(EVIL, user="mallory", title="Incident fake-fox (report)",
                               body=f"<!-- conduct-bot:incident {REPO}#{t.number} -->\nThread: {t.issue['html_url']}",
                               labels=["coc:report", "status:new"])
    c = fake.add_comment(EVIL, forged["number"], user="mallory",
                         body="/coc-block @rey permanent\n/coc-lock\n/coc-limit collaborators-only")
    assert bot.deliver(fake.event_issue_comment("created", EVIL, forged["number"], c))[0] == 202
    bot.wait_idle()
    assert "rey" not in fake.blocked("psf")
    assert t.state["locked"] is False and fake.interaction_limit(REPO) is None
    assert t.bot_comments() == []
    # In mallory's own repository the commands are ordinary thread commands about that repository only.
    assert all(str(t.number) not in x["body"] or REPO not in x["body"]
               for x in fake.comments(EVIL, forged["number"]) if x["user"]["login"] == fake.bot_login)
    assert inst  # the App was installed there: reachability is not authority


def test_a_tracking_repository_writer_outside_the_working_group_of_that_org_cannot_block(fake, bot):
    """An incident of the configured tracking repository is about a psf thread: /coc-block acts in psf only,
    whatever account or organisation the command names."""
    t, inc = open_incident(fake, bot)
    inc.comment("wendy", "/coc-block @rey permanent")
    assert "rey" in fake.blocked("psf")
    assert fake.blocked("psf-coc") == set()


# -- 2. a tracking repository configured at organisation level is recognised everywhere --------------------

def test_org_level_tracking_repository_is_recognised_everywhere(fake, make_bot):
    bot = make_bot(COC_TRACKING_REPO=None)
    org_file(fake, "psf", f"tracking_repo: {TRACKING}\n")
    org_file(fake, "psf-coc", "sla:\n  acknowledge: 2d\n")
    t, inc = open_incident(fake, bot)
    assert len(incidents(fake)) == 1
    nudge = bot.jobs(state="queued", kind="nudge")
    assert len(nudge) == 1 and nudge[0]["payload"]["sla"] == 2 * 86400  # the tracking org's file applies
    inc.comment("wendy", "/coc-lock 1d")
    assert t.state["locked"] is True
    assert inc.issue["locked"] is False                     # the incident itself is never locked
    notices = [b for b in inc.bot_comments() if "locked" in b.lower() and "conduct-bot:lock-notice" in b]
    assert notices == []
    # Heated words in the working group's discussion raise no heat, no reminder, no incident about the incident.
    for i in range(6):
        inc.comment("wendy", f"This account called people idiots and stupid morons, shut up, {i}!!! WTF")
    assert all("conduct-bot:reminder" not in b for b in inc.bot_comments())
    assert len(incidents(fake)) == 1


def test_config_errors_are_filed_in_the_org_configured_tracking_repository(fake, make_bot):
    bot = make_bot(COC_TRACKING_REPO=None)
    org_file(fake, "psf", f"tracking_repo: {TRACKING}\n")
    fake.set_file(REPO, ".github/coc.yml", "enabled: perhaps\n")
    Thread(fake, bot).comment("wes", "/coc-remind")
    wait_until(lambda: config_issues(fake), 10, "the configuration error to be filed")
    assert len(config_issues(fake)) == 1


# -- 3. private means private ------------------------------------------------------------------------------

def test_an_internal_tracking_repository_is_not_private(fake, bot):
    fake.set_repo(TRACKING, visibility="internal")
    t, c = report(fake, bot, reason="sensitive")
    assert incidents(fake) == []
    assert bot.jobs(state="queued", kind="incident")       # kept, not lost
    assert any(x["id"] == c["id"] for x in fake.comments(REPO, t.number))  # not deleted before it is filed
    fake.set_repo(TRACKING, visibility="private")
    bot.fast_forward("incident")
    bot.wait_idle()
    assert len(incidents(fake)) == 1


def test_a_tracking_repository_made_public_receives_nothing_more(fake, bot):
    t, inc = open_incident(fake, bot)                      # privacy was just confirmed (and cached)
    fake.set_repo(TRACKING, visibility="public")
    assert bot.deliver(fake.event_repository("publicized", TRACKING))[0] == 202
    bot.wait_idle()
    before = len([w for w in fake.writes() if "/psf-coc/" in w.path])
    report(fake, bot, reporter="mia", reason="another report", thread=t)
    inc.comment("wendy", "/coc-remind\n/coc-resolve warning done")
    wait_until(lambda: not bot.busy(), 10, "the bot to settle")
    assert len([w for w in fake.writes() if "/psf-coc/" in w.path]) == before
    assert bot.jobs(state="queued", kind="incident")       # the report waits
    fake.set_repo(TRACKING, visibility="private")
    assert bot.deliver(fake.event_repository("privatized", TRACKING))[0] == 202
    bot.fast_forward("incident")
    bot.wait_idle()
    assert "another report" in "".join(c["body"] for c in fake.comments(TRACKING, inc.number))


# -- 4. a waiting report is never dropped ----------------------------------------------------------------------

def test_a_report_waiting_longer_than_its_attempts_survives_a_5xx(fake, bot):
    fake.set_repo(TRACKING, visibility="public")
    t, c = report(fake, bot, reason="please keep this")
    for _ in range(bot.settings.max_attempts + 2):           # postponed more often than any job may fail
        assert bot.fast_forward("incident") == 1
        wait_until(lambda: not bot.busy(), 10, "the postponed report to settle")
    fake.set_repo(TRACKING, visibility="private")
    fake.fail_next("POST", rf"/repos/{TRACKING}/issues$", status=502)
    bot.fast_forward("incident")
    wait_until(lambda: not bot.busy(), 10, "the report to meet the 502")
    assert bot.jobs(state="failed") == [] and bot.jobs(state="queued", kind="incident")
    bot.fast_forward("incident")
    bot.wait_idle()
    assert "please keep this" in incidents(fake)[0]["body"]
    assert all(x["id"] != c["id"] for x in fake.comments(REPO, t.number))


# -- 5. nothing the reporter wrote is lost -------------------------------------------------------------------

def test_the_whole_report_comment_is_the_statement(fake, bot):
    t = Thread(fake, bot, opener="rey", body="Opening post.")
    t.comment("rey", "You people are useless.", deliver=False)
    c = t.comment("tia", "Context first: this has gone on for weeks.\n\n/coc-report harassment\n"
                         "They also emailed me privately.\n/coc-remind\nPlease help.")
    body = incidents(fake)[0]["body"]
    for words in ("Context first", "harassment", "emailed me privately", "Please help"):
        assert words in body
    assert "/coc-remind" not in body.split("Reason", 1)[-1].split("Accounts", 1)[0]
    assert all(x["id"] != c["id"] for x in fake.comments(REPO, t.number))


def test_a_long_statement_reaches_the_incident_whole(fake, bot):
    t = Thread(fake, bot, opener="rey", body="Opening post.")
    for i in range(25):
        t.comment("rey", f"Long hostile comment {i}: " + "you are a disgrace " * 300, deliver=False)
    statement = "What happened, in detail: " + "they followed me across threads. " * 600 + "END-OF-STATEMENT"
    t.comment("tia", "/coc-report\n" + statement)
    body = incidents(fake)[0]["body"]
    assert "END-OF-STATEMENT" in body and len(body) <= 65536


def test_a_pull_request_report_includes_review_comments(fake, bot):
    t = Thread(fake, bot, pr=True, opener="wes", body="A change.")
    fake.add_review_comment(REPO, t.number, user="rey", body="Only an idiot writes code like this.")
    t.comment("tia", "/coc-report abuse in the review")
    body = incidents(fake)[0]["body"]
    assert "Only an idiot writes code like this." in body
    accounts = body.split("Accounts involved", 1)[1].split("###", 1)[0]
    assert "rey" in accounts and "tia" not in accounts


# -- 6. one comment, one answer ------------------------------------------------------------------------------

def test_many_command_lines_from_anyone_get_one_reaction_and_no_flood(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("rey", "\n".join(["/coc-lock", "/coc-limit", "/coc-hide x", "/coc-remind", "/coc-lokc"] * 5))
    assert t.bot_comments() == []
    assert fake.reactions_on_comment(c["id"]) == ["confused"]
    assert t.state["locked"] is False


def test_at_most_ten_commands_run_and_the_reply_names_the_rest(fake, bot):
    t = Thread(fake, bot)
    hides = [f"/coc-hide https://github.com/{REPO}/issues/{t.number}#issuecomment-{900000 + i}" for i in range(10)]
    c = t.comment("wes", "\n".join(hides + ["/coc-lock", "/coc-limit"]))
    replies = t.bot_comments()
    assert len(replies) == 1
    assert "`/coc-lock` (line 11)" in replies[0]["body"] and "`/coc-limit` (line 12)" in replies[0]["body"]
    assert t.state["locked"] is False and fake.interaction_limit(REPO) is None
    assert sorted(fake.reactions_on_comment(c["id"])) == ["confused", "eyes"]


def test_the_same_command_twice_in_a_comment_runs_once(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("wes", "/coc-remind\n" * 25)
    assert len(t.bot_comments()) == 1
    assert sorted(fake.reactions_on_comment(c["id"])) == ["+1", "eyes"]


def test_a_huge_comment_of_commands_costs_one_answer(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("wes", "".join(f"/coc-x{i}\n" for i in range(6500)))  # 65 KB of malformed commands
    replies = t.bot_comments()
    assert len(replies) == 1 and "6470 more" in replies[0]["body"]
    assert fake.reactions_on_comment(c["id"]) == ["confused"]


# -- 7. the same comment never acts twice ---------------------------------------------------------------------

def test_a_comment_delivered_again_under_a_new_id_runs_nothing_again(fake, bot):
    t = Thread(fake, bot)
    c = t.comment("wes", "/coc-remind")
    t2, r = report(fake, bot)
    for _ in range(2):
        assert bot.deliver(fake.event_issue_comment("created", REPO, t.number, c), delivery=str(uuid.uuid4()))[0] == 202
        assert bot.deliver(fake.event_issue_comment("created", REPO, t2.number, r),
                           delivery=str(uuid.uuid4()))[0] == 202
    bot.wait_idle()
    assert len(t.bot_comments()) == 1
    found = incidents(fake)
    assert sum(1 for i in found if "coc:report" in labels(i)) == 1
    assert len(fake.comments(TRACKING, [i for i in found if "coc:report" in labels(i)][0]["number"])) == 0


# -- 8. timed actions undo only the bot's own -----------------------------------------------------------------

def test_a_timed_unlock_leaves_a_persons_later_lock_alone(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-lock 1h")
    fake.unlock_issue(REPO, t.number, user="ada")
    bot.deliver(fake.event_issues("unlocked", REPO, t.number))
    fake.lock_issue(REPO, t.number, "too heated", user="ada")
    bot.deliver(fake.event_issues("locked", REPO, t.number))
    bot.wait_idle()
    bot.fast_forward("unlock")
    bot.wait_idle()
    assert t.state["locked"] is True


def test_a_timed_unlock_with_missed_events_leaves_a_relock_for_another_reason(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-lock 1h")
    fake.unlock_issue(REPO, t.number, user="ada")
    fake.lock_issue(REPO, t.number, "spam", user="ada")     # no webhook reached the bot
    bot.fast_forward("unlock")
    bot.wait_idle()
    assert t.state["locked"] is True and t.state["active_lock_reason"] == "spam"


def test_the_timed_unlock_still_undoes_the_bots_own_lock(fake, bot):
    t = Thread(fake, bot)
    t.comment("wes", "/coc-lock 1h")
    bot.deliver(fake.event_issues("locked", REPO, t.number))  # the bot's own lock event changes nothing
    bot.wait_idle()
    assert bot.fast_forward("unlock") == 1
    bot.wait_idle()
    assert t.state["locked"] is False


# -- 10. smaller holes -----------------------------------------------------------------------------------------

def test_a_refused_lock_leaves_no_lock_notice(fake, bot):
    t = Thread(fake, bot)
    fake.fail_next("PUT", rf"/repos/{REPO}/issues/{t.number}/lock$", status=403)
    c = t.comment("wes", "/coc-lock")
    assert t.state["locked"] is False
    bodies = [x["body"] for x in t.bot_comments()]
    assert len(bodies) == 1 and "refused to lock" in bodies[0]  # the reply, not a notice
    assert "confused" in fake.reactions_on_comment(c["id"])


def test_a_deeply_nested_configuration_is_an_invalid_file_not_a_crash(fake, bot):
    fake.set_file(REPO, ".github/coc.yml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    t = Thread(fake, bot)
    t.comment("wes", "/coc-remind")
    assert len(t.bot_comments()) == 1
    wait_until(lambda: config_issues(fake), 10, "the configuration error to be filed")


# -- 11. reporting is for everyone, and cannot flood the working group ------------------------------------------

def test_reports_beyond_five_a_day_from_a_non_maintainer_are_refused(fake, bot):
    threads = [Thread(fake, bot, opener="wes", body=f"Thread {i}") for i in range(6)]
    for i, t in enumerate(threads[:5]):
        t.comment("rey", f"/coc-report report number {i}")
    assert len(incidents(fake)) == 5
    c = threads[5].comment("rey", "/coc-report the sixth")
    assert len(incidents(fake)) == 5
    assert fake.reactions_on_comment(c["id"]) == ["confused"]
    replies = threads[5].bot_comments()
    assert len(replies) == 1 and "conduct-wg@python.org" in replies[0]["body"] and "sixth" not in replies[0]["body"]
    assert all(x["id"] != c["id"] for x in fake.comments(REPO, threads[5].number))  # still removed


def test_maintainers_reports_are_not_limited(fake, bot):
    threads = [Thread(fake, bot, opener="rey", body=f"Thread {i}") for i in range(7)]
    for t in threads:
        t.comment("wes", "/coc-report see thread")
    assert len(incidents(fake)) == 7
