"""The fake GitHub itself, exercised through real HTTP (urllib, and gidgethub as the bot uses it)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import aiohttp
import jwt as pyjwt
import pytest
from gidgethub import BadRequest, GitHubBroken
from gidgethub import aiohttp as gh_aiohttp
from gidgethub import apps as gh_apps

from app.fakegithub import FakeGitHub, FakeGitHubError, find_shared_github, load_validator

SHARED = find_shared_github()  # the reference data vendored in app/fakegithub/reference
ORG, REPO = "acme", "acme/widgets"


@pytest.fixture(scope="module")
def server():
    fake = FakeGitHub().start()
    yield fake
    fake.stop()


@pytest.fixture
def fake(server):
    """A reset fake with one org installation (acme: widgets, private) and a second one (wg: incidents)."""
    server.reset()
    server.acme = server.add_installation(ORG)
    server.add_repo(REPO, files={".github/coc.yml": "enabled: true\n"})
    server.add_repo("acme/private", private=True)
    server.wg = server.add_installation("wg")
    server.add_repo("wg/incidents", private=True)
    yield server
    assert server.violations == [], "\n".join(server.violations)


def call(fake, method, path, body=None, *, auth=None, headers=None, raw=False):
    """-> (status, headers, decoded body); auth is a full Authorization value or None."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(fake.url + path, data=data, method=method, headers=dict(headers or {}))
    if auth:
        req.add_header("Authorization", auth)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status, hdrs, payload = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, hdrs, payload = exc.code, exc.headers, exc.read()
    if raw or not payload:
        return status, hdrs, payload.decode() if payload else None
    return status, hdrs, json.loads(payload)


def token(fake, installation_id=None):
    return "token " + fake.installation_token(installation_id or fake.acme)


def jwt_auth(fake):
    return "Bearer " + fake.app_jwt()


# ----------------------------------------------------------------------------- auth
def test_jwt_creates_installation_tokens_and_tokens_reach_only_their_installation(fake):
    status, _, body = call(fake, "POST", f"/app/installations/{fake.acme}/access_tokens", auth=jwt_auth(fake))
    assert status == 201 and body["token"].startswith("ghs_") and body["expires_at"].endswith("Z")
    assert body["permissions"]["issues"] == "write" and body["repository_selection"] == "all"
    assert fake.token_requests == 1
    acme = "token " + body["token"]
    assert call(fake, "GET", f"/repos/{REPO}", auth=acme)[0] == 200
    assert call(fake, "GET", f"/repos/{REPO}", auth="Bearer " + body["token"])[0] == 200  # both schemes work
    # Another installation's repository and organisation are invisible.
    assert call(fake, "GET", "/repos/wg/incidents", auth=acme)[0] == 404
    assert call(fake, "GET", "/orgs/wg/blocks", auth=acme)[0] == 404
    assert call(fake, "GET", "/repos/wg/incidents", auth=token(fake, fake.wg))[0] == 200
    # A token restricted to some repositories reaches only those.
    status, _, body = call(fake, "POST", f"/app/installations/{fake.acme}/access_tokens",
                           {"repositories": ["widgets"]}, auth=jwt_auth(fake))
    assert status == 201 and [r["full_name"] for r in body["repositories"]] == [REPO]
    assert call(fake, "GET", "/repos/acme/private", auth="token " + body["token"])[0] == 404
    assert fake.token_requests == 2
    assert all(not r.is_write for r in fake.requests)  # token creation is not a write


def test_bad_or_misplaced_credentials_are_401(fake):
    for auth in (None, "token nope", "Basic abc", "Bearer " + jwt_auth(fake).split()[1][:-4] + "AAAA"):
        status, _, body = call(fake, "GET", f"/repos/{REPO}", auth=auth)
        assert status == 401 and "message" in body, auth
    assert call(fake, "GET", f"/repos/{REPO}", auth="token nope")[2]["message"] == "Bad credentials"
    assert call(fake, "GET", f"/repos/{REPO}", auth=jwt_auth(fake))[0] == 401  # a JWT is not a token
    assert call(fake, "GET", "/app", auth=token(fake))[0] == 401  # a token is not a JWT
    header, _, signature = fake.app_jwt().split(".")
    claims = {"iat": int(time.time()) - 60, "exp": int(time.time()) + 500, "iss": str(fake.app_id), "x": 1}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert call(fake, "GET", "/app", auth=f"Bearer {header}.{forged}.{signature}")[0] == 401  # bad signature
    assert call(fake, "GET", "/app", auth="Bearer " + fake.app_jwt(iss=999))[0] == 401  # another App
    too_long = fake.app_jwt(expires_in=3600)
    assert "too far" in call(fake, "GET", "/app", auth="Bearer " + too_long)[2]["message"]
    expired = pyjwt.encode({"iat": int(time.time()) - 1200, "exp": int(time.time()) - 600, "iss": str(fake.app_id)},
                           fake._private_key, algorithm="RS256")
    assert call(fake, "GET", "/app", auth="Bearer " + expired)[0] == 401
    status, _, body = call(fake, "GET", "/app", auth=jwt_auth(fake))
    assert status == 200 and body["slug"] == fake.app_slug and body["id"] == fake.app_id


def test_tokens_expire_with_the_clock_and_on_demand(fake):
    auth = token(fake)
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 200
    fake.advance(fake.token_ttl + 1)
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 401
    auth = token(fake)
    fake.expire_tokens()
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 401
    fake.suspend_installation(fake.acme)
    assert call(fake, "POST", f"/app/installations/{fake.acme}/access_tokens", auth=jwt_auth(fake))[0] == 403


def test_installation_lookups_need_the_jwt(fake):
    auth = jwt_auth(fake)
    assert call(fake, "GET", f"/repos/{REPO}/installation", auth=auth)[2]["id"] == fake.acme
    assert call(fake, "GET", "/orgs/wg/installation", auth=auth)[2]["id"] == fake.wg
    assert call(fake, "GET", "/orgs/nobody/installation", auth=auth)[0] == 404
    assert call(fake, "GET", f"/repos/{REPO}/installation", auth=token(fake))[0] == 401
    status, hdrs, body = call(fake, "GET", "/app/installations?per_page=1", auth=auth)
    assert status == 200 and [i["id"] for i in body] == [fake.acme] and 'rel="next"' in hdrs["Link"]


# ----------------------------------------------------------------------------- protocol details
def test_rate_limit_headers_and_endpoint(fake):
    auth = token(fake)
    _, h1, _ = call(fake, "GET", f"/repos/{REPO}", auth=auth)
    _, h2, _ = call(fake, "GET", f"/repos/{REPO}/issues", auth=auth)
    for h in (h1, h2):
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset",
                "X-RateLimit-Resource"} <= set(h.keys())
    assert int(h2["X-RateLimit-Used"]) == int(h1["X-RateLimit-Used"]) + 1
    assert int(h2["X-RateLimit-Remaining"]) == int(h2["X-RateLimit-Limit"]) - int(h2["X-RateLimit-Used"])
    status, _, body = call(fake, "GET", "/rate_limit", auth=auth)
    assert status == 200 and body["resources"]["core"]["used"] == 2 and body["rate"] == body["resources"]["core"]
    assert call(fake, "GET", "/search/issues?q=repo:acme/widgets", auth=auth)[1]["X-RateLimit-Resource"] == "search"


def test_pagination_link_headers(fake):
    fake.create_issue(REPO, user="alice", title="busy")
    for i in range(65):
        fake.add_comment(REPO, 1, user=f"user{i % 7}", body=f"comment {i}")
    auth = token(fake)
    status, hdrs, page1 = call(fake, "GET", f"/repos/{REPO}/issues/1/comments", auth=auth)
    assert status == 200 and len(page1) == 30
    link = hdrs["Link"]
    assert f'<{fake.url}/repos/{REPO}/issues/1/comments?page=2>; rel="next"' in link
    assert f'<{fake.url}/repos/{REPO}/issues/1/comments?page=3>; rel="last"' in link
    _, hdrs, page3 = call(fake, "GET", f"/repos/{REPO}/issues/1/comments?page=3", auth=auth)
    assert [c["body"] for c in page3] == [f"comment {i}" for i in range(60, 65)]
    assert 'rel="prev"' in hdrs["Link"] and 'rel="first"' in hdrs["Link"] and 'rel="next"' not in hdrs["Link"]
    _, hdrs, everything = call(fake, "GET", f"/repos/{REPO}/issues/1/comments?per_page=500", auth=auth)
    assert len(everything) == 65 and "Link" not in hdrs  # per_page is capped at 100
    _, hdrs, two = call(fake, "GET", f"/repos/{REPO}/issues/1/comments?per_page=2&page=2", auth=auth)
    assert len(two) == 2 and "per_page=2" in hdrs["Link"] and "page=33" in hdrs["Link"]


def test_etag_and_304_do_not_count_against_the_rate_limit(fake):
    auth = token(fake)
    status, hdrs, _ = call(fake, "GET", f"/repos/{REPO}", auth=auth)
    etag, used = hdrs["ETag"], int(hdrs["X-RateLimit-Used"])
    status, hdrs, body = call(fake, "GET", f"/repos/{REPO}", auth=auth, headers={"If-None-Match": etag})
    assert status == 304 and body is None and int(hdrs["X-RateLimit-Used"]) == used
    fake.set_repo(REPO, default_branch="trunk")
    status, hdrs, body = call(fake, "GET", f"/repos/{REPO}", auth=auth, headers={"If-None-Match": etag})
    assert status == 200 and body["default_branch"] == "trunk" and hdrs["ETag"] != etag


def test_fail_next_injects_responses(fake):
    auth = token(fake)
    fake.fail_next("GET", r"^/repos/acme/widgets$", status=502, times=2)
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 502
    assert call(fake, "GET", f"/repos/{REPO}/issues", auth=auth)[0] == 200  # does not match
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 502
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 200
    fake.fail_next("POST", r"/comments$", status=403, headers={"Retry-After": "1"})
    fake.create_issue(REPO, user="alice")
    status, hdrs, body = call(fake, "POST", f"/repos/{REPO}/issues/1/comments", {"body": "hi"}, auth=auth)
    assert status == 403 and hdrs["Retry-After"] == "1" and "secondary rate limit" in body["message"]
    assert int(hdrs["X-RateLimit-Remaining"]) > 0 and fake.comments(REPO, 1) == []  # nothing happened
    fake.fail_next("*", r"^/graphql$", status=429, body={"message": "slow down"})
    status, _, body = call(fake, "POST", "/graphql", {"query": "{ rateLimit { remaining } }"}, auth=auth)
    assert status == 429 and body == {"message": "slow down"}
    assert call(fake, "POST", f"/repos/{REPO}/issues/1/comments", {"body": "hi"}, auth=auth)[0] == 201


def test_delay_next_slows_requests_without_blocking_others(fake):
    auth = token(fake)
    fake.delay_next("GET", r"^/repos/acme/widgets$", seconds=0.3)
    results = {}
    slow = threading.Thread(target=lambda: results.setdefault("slow", call(fake, "GET", f"/repos/{REPO}",
                                                                           auth=auth)[0]))
    start = time.monotonic()
    slow.start()
    time.sleep(0.05)
    fake.create_issue(REPO, user="alice")  # the state lock is free meanwhile
    assert call(fake, "GET", f"/repos/{REPO}/issues/1", auth=auth)[0] == 200
    slow.join()
    assert results["slow"] == 200 and time.monotonic() - start >= 0.3


def test_invalid_bodies_and_unknown_routes_are_violations(fake):
    auth = token(fake)
    fake.create_issue(REPO, user="alice")
    status, _, body = call(fake, "PUT", f"/repos/{REPO}/issues/1/lock", {"lock_reason": "angry"}, auth=auth)
    assert status == 422 and "angry" in body["message"]
    assert fake.issue(REPO, 1)["locked"] is False
    assert call(fake, "GET", f"/repos/{REPO}/branches", auth=auth)[0] == 404
    assert call(fake, "POST", f"/repos/{REPO}", {"name": "x"}, auth=auth)[0] == 404
    found = fake.clear_violations()
    assert len(found) == 3 and "'angry' is not one of" in found[0] and "unknown route" in found[1]
    assert "POST is not defined" in found[2]
    assert fake.violations == []


# ----------------------------------------------------------------------------- issues, labels, comments
def test_issues_labels_and_pulls(fake):
    auth = token(fake)
    fake.create_issue(REPO, user="alice", title="Bug in parser", labels=["bug"])
    fake.create_issue(REPO, user="bob", title="Refactor", pull_request=True)
    status, _, created = call(fake, "POST", f"/repos/{REPO}/issues",
                              {"title": "Incident amber-falcon", "body": "details", "labels": ["coc:report"]},
                              auth=auth)
    assert status == 201 and created["number"] == 3 and created["user"]["login"] == fake.bot_login
    assert created["labels"][0]["name"] == "coc:report" and "coc:report" in fake.labels(REPO)
    listed = call(fake, "GET", f"/repos/{REPO}/issues", auth=auth)[2]
    assert [i["number"] for i in listed] == [3, 2, 1] and "pull_request" in listed[1]  # PRs are issues too
    assert [i["number"] for i in call(fake, "GET", f"/repos/{REPO}/issues?labels=bug&creator=alice",
                                      auth=auth)[2]] == [1]
    assert [i["number"] for i in call(fake, "GET", f"/repos/{REPO}/issues?direction=asc", auth=auth)[2]] == [1, 2, 3]
    assert call(fake, "GET", f"/repos/{REPO}/pulls/2", auth=auth)[2]["head"]["ref"] == "feature-2"
    assert call(fake, "GET", f"/repos/{REPO}/pulls/1", auth=auth)[0] == 404
    assert call(fake, "GET", f"/repos/{REPO}/issues/99", auth=auth)[0] == 404

    status, _, body = call(fake, "POST", f"/repos/{REPO}/labels", {"name": "status:new", "color": "0e8a16"},
                           auth=auth)
    assert status == 201 and body["color"] == "0e8a16"
    status, _, body = call(fake, "POST", f"/repos/{REPO}/labels", {"name": "STATUS:NEW"}, auth=auth)
    assert status == 422 and body["errors"][0]["code"] == "already_exists"
    status, _, body = call(fake, "POST", f"/repos/{REPO}/issues/3/labels", {"labels": ["status:new", "fresh"]},
                           auth=auth)
    assert status == 200 and [lb["name"] for lb in body] == ["coc:report", "status:new", "fresh"]
    status, _, body = call(fake, "DELETE", f"/repos/{REPO}/issues/3/labels/status%3Anew", auth=auth)
    assert status == 200 and [lb["name"] for lb in body] == ["coc:report", "fresh"]
    assert call(fake, "DELETE", f"/repos/{REPO}/issues/3/labels/status%3Anew", auth=auth)[0] == 404
    status, _, body = call(fake, "PATCH", f"/repos/{REPO}/issues/3",
                           {"state": "closed", "labels": ["outcome:warning"], "body": "resolved"}, auth=auth)
    assert status == 200 and body["state"] == "closed" and body["state_reason"] == "completed"
    issue = fake.issue(REPO, 3)
    assert issue["label_names"] == ["outcome:warning"] and issue["body"] == "resolved" and issue["closed_at"]
    assert [i["number"] for i in call(fake, "GET", f"/repos/{REPO}/issues?state=closed", auth=auth)[2]] == [3]
    events = [e["event"] for e in call(fake, "GET", f"/repos/{REPO}/issues/3/events", auth=auth)[2]]
    assert events.count("labeled") == 4 and events[-1] == "closed"


def test_comments_reactions_and_review_comments(fake):
    auth = token(fake)
    fake.create_issue(REPO, user="alice", pull_request=True)
    human = fake.add_comment(REPO, 1, user="bob", body="/coc-report rude")
    status, _, mine = call(fake, "POST", f"/repos/{REPO}/issues/1/comments", {"body": "Reminder"}, auth=auth)
    assert status == 201 and mine["performed_via_github_app"]["slug"] == fake.app_slug
    assert call(fake, "PATCH", f"/repos/{REPO}/issues/comments/{mine['id']}", {"body": "Edited"},
                auth=auth)[2]["body"] == "Edited"
    # Reactions: 201 new, 200 when the same user already reacted the same way.
    url = f"/repos/{REPO}/issues/comments/{human['id']}/reactions"
    assert call(fake, "POST", url, {"content": "eyes"}, auth=auth)[0] == 201
    assert call(fake, "POST", url, {"content": "eyes"}, auth=auth)[0] == 200
    assert call(fake, "POST", url, {"content": "+1"}, auth=auth)[0] == 201
    assert fake.reactions_on_comment(human["id"]) == ["eyes", "+1"]
    assert [r["content"] for r in call(fake, "GET", url + "?content=eyes", auth=auth)[2]] == ["eyes"]
    assert call(fake, "POST", f"/repos/{REPO}/issues/1/reactions", {"content": "heart"}, auth=auth)[0] == 201
    assert fake.reactions_on_issue(REPO, 1) == [(fake.bot_login, "heart")]
    assert fake.comments(REPO, 1)[0]["reactions"] == [(fake.bot_login, "eyes"), (fake.bot_login, "+1")]
    # Delete: 204, then 404; the inspection keeps it when asked.
    assert call(fake, "DELETE", f"/repos/{REPO}/issues/comments/{human['id']}", auth=auth)[0] == 204
    assert call(fake, "GET", f"/repos/{REPO}/issues/comments/{human['id']}", auth=auth)[0] == 404
    assert [c["body"] for c in fake.comments(REPO, 1)] == ["Edited"]
    assert fake.comments(REPO, 1, include_deleted=True)[0]["deleted"] is True
    # since= filters by update time.
    later = fake.add_comment(REPO, 1, user="carol", body="later", created_at=time.time() + 3600)
    since = later["created_at"]
    assert [c["id"] for c in call(fake, "GET", f"/repos/{REPO}/issues/1/comments?since={since}", auth=auth)[2]] \
        == [later["id"]]
    # Review comments.
    rc = fake.add_review_comment(REPO, 1, user="dan", body="/coc-hide")
    assert f"/pull/1#discussion_r{rc['id']}" in rc["html_url"]
    base = f"/repos/{REPO}/pulls/comments/{rc['id']}"
    assert call(fake, "GET", base, auth=auth)[2]["body"] == "/coc-hide"
    assert call(fake, "POST", base + "/reactions", {"content": "rocket"}, auth=auth)[0] == 201
    assert fake.reactions_on_comment(rc["id"]) == ["rocket"]
    assert call(fake, "PATCH", base, {"body": "ok"}, auth=auth)[2]["body"] == "ok"
    assert [c["id"] for c in call(fake, "GET", f"/repos/{REPO}/pulls/1/comments", auth=auth)[2]] == [rc["id"]]
    assert call(fake, "DELETE", base, auth=auth)[0] == 204
    assert fake.review_comments(REPO, 1) == []


def test_payload_urls_lead_back_to_the_fake(fake):
    fake.create_issue(REPO, user="alice")
    c = fake.add_comment(REPO, 1, user="bob", body="hello")
    _, payload = fake.event_issue_comment("created", REPO, 1, c)
    auth = token(fake)
    for key in ("url", "issue_url"):
        assert payload["comment"][key].startswith(fake.url)
    assert payload["comment"]["html_url"].endswith(f"/{REPO}/issues/1#issuecomment-{c['id']}")
    req = urllib.request.Request(payload["comment"]["url"], headers={"Authorization": auth})
    with urllib.request.urlopen(req) as resp:
        assert json.loads(resp.read())["id"] == c["id"]
    comments_url = payload["issue"]["comments_url"]
    status, _, _ = call(fake, "POST", comments_url.removeprefix(fake.url), {"body": "reply"}, auth=auth)
    assert status == 201
    labels_url = payload["issue"]["labels_url"].replace("{/name}", "")
    assert call(fake, "POST", labels_url.removeprefix(fake.url), {"labels": ["x"]}, auth=auth)[0] == 200
    assert payload["repository"]["contents_url"] == f"{fake.url}/repos/{REPO}/contents/{{+path}}"
    assert payload["installation"]["id"] == fake.acme and payload["organization"]["login"] == ORG


def test_contents(fake):
    auth = token(fake)
    status, _, body = call(fake, "GET", f"/repos/{REPO}/contents/.github/coc.yml", auth=auth)
    assert status == 200 and base64.b64decode(body["content"]).decode() == "enabled: true\n"
    status, hdrs, text = call(fake, "GET", f"/repos/{REPO}/contents/.github/coc.yml", auth=auth,
                              headers={"Accept": "application/vnd.github.raw+json"}, raw=True)
    assert status == 200 and text == "enabled: true\n" and hdrs["Content-Type"].startswith("text/plain")
    sha = fake.set_file(REPO, ".github/coc.yml", "enabled: false\n")
    assert call(fake, "GET", f"/repos/{REPO}/contents/.github", auth=auth)[2][0]["name"] == "coc.yml"
    fake.set_file(REPO, ".github/coc.yml", None)
    assert call(fake, "GET", f"/repos/{REPO}/contents/.github/coc.yml", auth=auth)[0] == 404
    body = call(fake, "GET", f"/repos/{REPO}/contents/.github/coc.yml?ref={sha}", auth=auth)[2]  # by commit
    assert base64.b64decode(body["content"]) == b"enabled: false\n"
    assert call(fake, "GET", f"/repos/{REPO}/contents/x?ref=nope", auth=auth)[0] == 404


def test_collaborator_permissions_and_membership(fake):
    auth = token(fake)
    fake.set_permission(REPO, "mia", "maintain")
    fake.set_permission(REPO, "tia", "triage")
    fake.add_org_member(ORG, "olive", role="admin")
    fake.add_org_member(ORG, "max")
    fake.add_team_member(ORG, "conduct", "max")

    def perm(repo, login):
        body = call(fake, "GET", f"/repos/{repo}/collaborators/{login}/permission", auth=auth)[2]
        return body["permission"], body["role_name"]

    assert perm(REPO, "mia") == ("write", "maintain")
    assert perm(REPO, "tia") == ("read", "triage")
    assert perm(REPO, "olive") == ("admin", "admin")
    assert perm(REPO, "stranger") == ("read", "read")
    assert perm("acme/private", "stranger") == ("none", "none")
    assert perm("acme/private", "max") == ("read", "read")
    assert call(fake, "GET", f"/orgs/{ORG}/members/max", auth=auth)[0] == 204
    assert call(fake, "GET", f"/orgs/{ORG}/members/stranger", auth=auth)[0] == 404
    assert call(fake, "GET", f"/orgs/{ORG}/memberships/olive", auth=auth)[2]["role"] == "admin"
    assert call(fake, "GET", f"/orgs/{ORG}/teams/conduct/memberships/max", auth=auth)[2]["state"] == "active"
    assert call(fake, "GET", f"/orgs/{ORG}/teams/conduct/memberships/olive", auth=auth)[0] == 404
    assert [u["login"] for u in call(fake, "GET", f"/orgs/{ORG}/teams/conduct/members", auth=auth)[2]] == ["max"]
    fake.set_user("solo", type="User")
    fake.add_repo("solo/thing")
    auth = token(fake, fake.installation_for("solo"))
    assert perm("solo/thing", "solo") == ("admin", "admin")  # the owner of a user repository


# ----------------------------------------------------------------------------- moderation
def test_locks(fake):
    auth = token(fake)
    fake.create_issue(REPO, user="alice")
    fake.set_permission(REPO, "wes", "write")
    assert call(fake, "PUT", f"/repos/{REPO}/issues/1/lock", {"lock_reason": "too heated"}, auth=auth)[0] == 204
    issue = fake.issue(REPO, 1)
    assert issue["locked"] is True and issue["active_lock_reason"] == "too heated"
    with pytest.raises(FakeGitHubError):
        fake.add_comment(REPO, 1, user="alice", body="but...")
    fake.add_comment(REPO, 1, user="wes", body="collaborators may still talk")
    assert call(fake, "POST", f"/repos/{REPO}/issues/1/comments", {"body": "Locked."}, auth=auth)[0] == 201
    assert call(fake, "DELETE", f"/repos/{REPO}/issues/1/lock", auth=auth)[0] == 204
    assert fake.issue(REPO, 1)["locked"] is False and fake.issue(REPO, 1)["active_lock_reason"] is None
    fake.add_comment(REPO, 1, user="alice", body="thanks")
    assert call(fake, "PUT", f"/repos/{REPO}/issues/1/lock", auth=auth)[0] == 204  # no reason is fine
    assert fake.issue(REPO, 1)["active_lock_reason"] is None
    assert [e["event"] for e in fake.issue_events(REPO, 1)] == ["locked", "unlocked", "locked"]
    assert [(r.method, r.status) for r in fake.writes()] == [("PUT", 204), ("POST", 201), ("DELETE", 204),
                                                             ("PUT", 204)]


def test_interaction_limits(fake):
    auth = token(fake)
    base = f"/repos/{REPO}/interaction-limits"
    assert call(fake, "GET", base, auth=auth)[2] == {}
    status, _, body = call(fake, "PUT", base, {"limit": "collaborators_only", "expiry": "one_week"}, auth=auth)
    assert status == 200 and body["limit"] == "collaborators_only" and body["origin"] == "repository"
    assert fake.interaction_limit(REPO)["limit"] == "collaborators_only"
    with pytest.raises(FakeGitHubError):
        fake.create_issue(REPO, user="newcomer")
    fake.advance(8 * 86400)  # expiry is honoured
    assert call(fake, "GET", base, auth=token(fake))[2] == {} and fake.interaction_limit(REPO) is None
    auth = token(fake)
    fake.set_interaction_limit(ORG, "existing_users")
    assert call(fake, "GET", base, auth=auth)[2]["origin"] == "organization"
    status, _, body = call(fake, "PUT", base, {"limit": "existing_users"}, auth=auth)
    assert status == 409 and body["message"]
    assert call(fake, "DELETE", base, auth=auth)[0] == 409
    assert call(fake, "GET", f"/orgs/{ORG}/interaction-limits", auth=auth)[2]["limit"] == "existing_users"
    assert call(fake, "DELETE", f"/orgs/{ORG}/interaction-limits", auth=auth)[0] == 204
    assert call(fake, "DELETE", base, auth=auth)[0] == 204
    status, _, body = call(fake, "PUT", "/repos/acme/private/interaction-limits", {"limit": "existing_users"},
                           auth=auth)
    assert status == 422 and "private" in body["message"]
    status, _, body = call(fake, "PUT", f"/orgs/{ORG}/interaction-limits",
                           {"limit": "contributors_only", "expiry": "six_months"}, auth=auth)
    assert status == 200 and body["origin"] == "organization"
    assert call(fake, "PUT", base, {"limit": "everyone"}, auth=auth)[0] == 422
    assert "'everyone' is not one of" in fake.clear_violations()[0]


def test_blocks(fake):
    auth = token(fake)
    fake.add_org_member(ORG, "member")
    fake.create_issue(REPO, user="alice")
    assert call(fake, "PUT", f"/orgs/{ORG}/blocks/troll", auth=auth)[0] == 204
    assert call(fake, "GET", f"/orgs/{ORG}/blocks/troll", auth=auth)[0] == 204
    assert call(fake, "GET", f"/orgs/{ORG}/blocks/alice", auth=auth)[0] == 404
    assert fake.blocked(ORG) == {"troll"}
    with pytest.raises(FakeGitHubError):
        fake.add_comment(REPO, 1, user="troll", body="hi again")
    status, _, body = call(fake, "PUT", f"/orgs/{ORG}/blocks/member", auth=auth)
    assert status == 422 and "organization member" in body["message"]
    for login in ("b1", "b2", "b3"):
        fake.block_user(ORG, login)
    status, hdrs, body = call(fake, "GET", f"/orgs/{ORG}/blocks?per_page=2", auth=auth)
    assert [u["login"] for u in body] == ["troll", "b1"] and 'rel="last"' in hdrs["Link"]
    assert call(fake, "DELETE", f"/orgs/{ORG}/blocks/troll", auth=auth)[0] == 204
    assert call(fake, "GET", f"/orgs/{ORG}/blocks/troll", auth=auth)[0] == 404
    assert "troll" not in fake.blocked(ORG)


# ----------------------------------------------------------------------------- GraphQL
MINIMIZE = """mutation Hide($id: ID!, $why: ReportedContentClassifiers!) {
  minimizeComment(input: {subjectId: $id, classifier: $why}) {
    minimizedComment { isMinimized minimizedReason ... on IssueComment { databaseId } }
  }
}"""


def gql(fake, query, variables=None, auth=None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return call(fake, "POST", "/graphql", body, auth=auth or token(fake))


def test_graphql_mutations(fake):
    fake.create_issue(REPO, user="alice")
    c = fake.add_comment(REPO, 1, user="troll", body="insult")
    status, _, body = gql(fake, MINIMIZE, {"id": c["node_id"], "why": "ABUSE"})
    assert status == 200 and body == {"data": {"minimizeComment": {"minimizedComment": {
        "isMinimized": True, "minimizedReason": "abuse", "databaseId": c["id"]}}}}
    stored = fake.comments(REPO, 1)[0]
    assert stored["minimized"] is True and stored["minimized_reason"] == "abuse" and stored["classifier"] == "ABUSE"
    _, _, body = gql(fake, 'mutation { unminimizeComment(input: {subjectId: "%s"}) { unminimizedComment '
                           '{ isMinimized } } }' % c["node_id"])
    assert body["data"]["unminimizeComment"]["unminimizedComment"]["isMinimized"] is False
    issue_id = fake.issue(REPO, 1)["node_id"]
    _, _, body = gql(fake, "mutation($input: LockLockableInput!) { lockLockable(input: $input) "
                           "{ lockedRecord { locked activeLockReason } actor { login } } }",
                     {"input": {"lockableId": issue_id, "lockReason": "OFF_TOPIC"}})
    assert body["data"]["lockLockable"] == {"lockedRecord": {"locked": True, "activeLockReason": "OFF_TOPIC"},
                                            "actor": {"login": fake.app_slug}}
    assert fake.issue(REPO, 1)["active_lock_reason"] == "off-topic"
    _, _, body = gql(fake, "mutation { unlockLockable(input: {lockableId: \"%s\"}) { unlockedRecord { locked } } }"
                     % issue_id)
    assert body["data"]["unlockLockable"]["unlockedRecord"]["locked"] is False
    _, _, body = gql(fake, "mutation($s: ID!, $b: String!) { addComment(input: {subjectId: $s, body: $b}) "
                           "{ commentEdge { node { id databaseId body url } } subject { id } } }",
                     {"s": issue_id, "b": "Please keep it civil."})
    node = body["data"]["addComment"]["commentEdge"]["node"]
    assert node["body"] == "Please keep it civil." and body["data"]["addComment"]["subject"]["id"] == issue_id
    assert fake.comments(REPO, 1)[-1]["user"]["login"] == fake.bot_login
    # A review comment is minimizable too, and reads work.
    fake.create_issue(REPO, user="bob", pull_request=True)
    rc = fake.add_review_comment(REPO, 2, user="troll", body="spam spam")
    _, _, body = gql(fake, MINIMIZE, {"id": rc["node_id"], "why": "SPAM"})
    assert body["data"]["minimizeComment"]["minimizedComment"]["minimizedReason"] == "spam"
    _, _, body = gql(fake, '{ node(id: "%s") { __typename ... on PullRequestReviewComment { isMinimized } } '
                           'repository(owner: "acme", name: "widgets") { issue(number: 1) { locked } } }'
                           % rc["node_id"])
    assert body["data"] == {"node": {"__typename": "PullRequestReviewComment", "isMinimized": True},
                            "repository": {"issue": {"locked": False}}}
    mutations = [r for r in fake.writes() if r.is_graphql]
    assert [r.graphql["fields"] for r in mutations] == [["minimizeComment"], ["unminimizeComment"], ["lockLockable"],
                                                        ["unlockLockable"], ["addComment"], ["minimizeComment"]]
    assert all(r.installation_id == fake.acme for r in mutations)


def test_graphql_errors(fake):
    fake.create_issue(REPO, user="alice")
    c = fake.add_comment(REPO, 1, user="troll", body="insult")
    # An unknown id resolves to nothing: data null plus a NOT_FOUND error (a legitimate outcome).
    _, _, body = gql(fake, MINIMIZE, {"id": "IC_nope", "why": "ABUSE"})
    assert body["data"] == {"minimizeComment": None} and body["errors"][0]["type"] == "NOT_FOUND"
    # Another installation's node is just as invisible.
    _, _, body = gql(fake, MINIMIZE, {"id": c["node_id"], "why": "ABUSE"}, auth=token(fake, fake.wg))
    assert body["errors"][0]["type"] == "NOT_FOUND" and not fake.comments(REPO, 1)[0]["minimized"]
    assert fake.violations == []
    # Invalid requests: no data at all, nothing changes, and a violation each.
    bad = [
        (MINIMIZE, {"id": c["node_id"], "why": "ANGRY"}),
        ('mutation { minimizeComment(input: {subjectId: "%s", classifier: ANGRY}) { clientMutationId } }'
         % c["node_id"], None),
        ('mutation { minimizeComment(input: {subjectId: "%s", classifier: ABUSE}) { minimizedComment '
         '{ isHidden } } }' % c["node_id"], None),
        ('mutation { minimizeComment(input: {subjectId: "%s"}) { clientMutationId } }' % c["node_id"], None),
        ('mutation { hideComment(input: {}) { clientMutationId } }', None),
        ('mutation { lockLockable(input: {lockableId: "x", lockReason: "TOO_HEATED"}) { clientMutationId } }', None),
        ("mutation { minimizeComment(", None),
    ]
    for query, variables in bad:
        status, _, body = gql(fake, query, variables)
        assert status == 200 and "errors" in body and "data" not in body, query
    assert not fake.comments(REPO, 1)[0]["minimized"]
    found = fake.clear_violations()
    assert len(found) == len(bad)
    assert "ANGRY" in found[0] and "ANGRY" in found[1] and "isHidden" in found[2]
    assert "classifier" in found[3] and "hideComment" in found[4]
    assert gql(fake, MINIMIZE, {"id": c["node_id"], "why": "ABUSE"}, auth=jwt_auth(fake))[0] == 401


# ----------------------------------------------------------------------------- search
def test_search_issues(fake):
    t0 = "2024-03-01T12:00:00Z"
    fake.create_issue("wg/incidents", user=fake.bot_login, title="Incident amber-falcon", body="kind: report",
                      labels=["coc:report", "status:new"], created_at=t0)
    fake.create_issue("wg/incidents", user=fake.bot_login, title="Incident blue-heron", body="kind: heated thread",
                      labels=["coc:heated"], created_at="2024-04-10T00:00:00Z")
    fake.create_issue("wg/incidents", user="wendy", title="Meeting notes", body="Not an incident",
                      created_at="2024-04-11T00:00:00Z")
    fake.create_issue("wg/incidents", user="wendy", title="A PR", pull_request=True)
    fake.close_issue("wg/incidents", 2)
    fake.create_issue(REPO, user="alice", title="Incident elsewhere")
    auth = token(fake, fake.wg)

    def numbers(q, **extra):
        params = urllib.parse.urlencode({"q": q, **extra})
        status, _, body = call(fake, "GET", f"/search/issues?{params}", auth=auth)
        assert status == 200 and body["incomplete_results"] is False, body
        assert body["total_count"] >= len(body["items"])
        return sorted(i["number"] for i in body["items"])

    assert numbers("repo:wg/incidents") == [1, 2, 3, 4]
    assert numbers("repo:wg/incidents is:issue") == [1, 2, 3]
    assert numbers("repo:wg/incidents is:pr") == [4]
    assert numbers("repo:wg/incidents is:issue is:open") == [1, 3]
    assert numbers("repo:wg/incidents is:closed") == [2]
    assert numbers('repo:wg/incidents label:"coc:report"') == [1]
    assert numbers("repo:wg/incidents -label:coc:report is:issue") == [2, 3]
    assert numbers("repo:wg/incidents author:wendy") == [3, 4]
    assert numbers('repo:wg/incidents "heated thread" in:body') == [2]
    assert numbers("repo:wg/incidents Incident in:title") == [1, 2]
    assert numbers("repo:wg/incidents created:2024-04-01..2024-04-10") == [2]
    assert numbers("repo:wg/incidents created:>=2024-04-10 is:issue") == [2, 3]
    assert numbers("Incident") == [1, 2, 3]  # title or body; only what the token reaches
    _, hdrs, body = call(fake, "GET", "/search/issues?q=repo:wg/incidents&per_page=3&sort=created&order=asc",
                         auth=auth)
    assert body["total_count"] == 4 and len(body["items"]) == 3 and 'rel="next"' in hdrs["Link"]
    assert body["items"][0]["number"] == 1 and body["items"][0]["score"] == 1.0
    assert call(fake, "GET", "/search/issues?q=", auth=auth)[0] == 422


# ----------------------------------------------------------------------------- webhook payloads
def build_all_events(fake):
    """Every builder, on an org repo and a user repo, after a realistic history."""
    fake.set_user("solo", type="User")
    fake.add_repo("solo/proj")
    events = []
    for full in (REPO, "solo/proj"):
        fake.create_issue(full, user="alice", title="t", body="b", labels=["bug"])
        fake.create_issue(full, user="carol", title="pr", body=None, pull_request=True)
        c = fake.add_comment(full, 1, user="bob", body="hi")
        pc = fake.add_comment(full, 2, user="bob", body="on the PR")
        rc = fake.add_review_comment(full, 2, user="dan", body="nit")
        events += [fake.event_issue_comment("created", full, 1, c), fake.event_issue_comment("created", full, 2, pc),
                   fake.event_review_comment("created", full, 2, rc), fake.event_issues("opened", full, 1),
                   fake.event_issues("labeled", full, 1), fake.event_pull_request("opened", full, 2)]
        fake.edit_comment(c["id"], "hi (edited)")
        fake.edit_comment(rc["id"], "nit (edited)")
        fake.edit_issue(full, 1, title="new title")
        events += [fake.event_issue_comment("edited", full, 1, c), fake.event_review_comment("edited", full, 2, rc),
                   fake.event_issues("edited", full, 1)]
        fake.lock_issue(full, 1, "too heated")
        events.append(fake.event_issues("locked", full, 1))
        fake.unlock_issue(full, 1)
        fake.close_issue(full, 1)
        fake.remove_label(full, 1, "bug")
        events += [fake.event_issues("unlocked", full, 1), fake.event_issues("closed", full, 1),
                   fake.event_issues("unlabeled", full, 1)]
        fake.reopen_issue(full, 1)
        events.append(fake.event_issues("reopened", full, 1))
        fake.lock_issue(full, 2, "spam")
        events.append(fake.event_pull_request("locked", full, 2))
        fake.unlock_issue(full, 2)
        events.append(fake.event_pull_request("unlocked", full, 2))
        fake.delete_comment(c["id"])
        fake.delete_comment(rc["id"])
        events += [fake.event_issue_comment("deleted", full, 1, c), fake.event_review_comment("deleted", full, 2, rc)]
        # The repository itself: visibility, settings, archive, name, owner, deletion.
        fake.set_repo(full, visibility="private")
        events.append(fake.event_repository("privatized", full))
        fake.set_repo(full, visibility="internal")
        events.append(fake.event_repository("created", full))
        fake.set_repo(full, visibility="public")
        events.append(fake.event_repository("publicized", full))
        fake.set_repo(full, description="Widgets", default_branch="trunk", homepage="https://example.org")
        events.append(fake.event_repository("edited", full))
        fake.set_repo(full, archived=True)
        events.append(fake.event_repository("archived", full))
        fake.set_repo(full, archived=False)
        events.append(fake.event_repository("unarchived", full))
        renamed = fake.rename_repo(full, "renamed-" + full.split("/")[1])["full_name"]
        events.append(fake.event_repository("renamed", renamed))
        moved = fake.transfer_repo(renamed, "newhome")["full_name"]
        events.append(fake.event_repository("transferred", moved))
        fake.delete_repo(moved)
        events.append(fake.event_repository("deleted", moved))
    events.append(fake.event_ping())
    for account in (ORG, "solo"):
        for action in ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted"):
            events.append(fake.event_installation(action, fake.installation_for(account)))
    return events


@pytest.mark.parametrize("examples", ["auto", None], ids=["with-examples", "built-in"])
def test_every_event_builder_passes_validate_webhook(examples):
    validator = load_validator(SHARED)
    other = FakeGitHub(examples=examples, validator=None)  # not started: builders need no server
    other.add_repo(REPO)
    events = build_all_events(other)
    assert {e for e, _ in events} == {"issue_comment", "pull_request_review_comment", "issues", "pull_request",
                                      "ping", "installation", "repository"}
    assert len(events) == 65
    problems = {f"{e}.{p.get('action')}": validator.validate_webhook(e, p) for e, p in events}
    assert {k: v for k, v in problems.items() if v} == {}


def test_event_payloads_match_the_state(fake):
    fake.add_org_member(ORG, "boss", role="admin")
    issue = fake.create_issue(REPO, user="alice", title="Thread")
    c = fake.add_comment(REPO, 1, user="bob", body="first")
    event, p = fake.event_issue_comment("created", REPO, 1, c)
    assert event == "issue_comment" and p["action"] == "created"
    assert p["comment"]["id"] == c["id"] and p["comment"]["node_id"] == c["node_id"]
    assert p["issue"]["number"] == 1 and p["issue"]["id"] == issue["id"] and "pull_request" not in p["issue"]
    assert p["sender"]["login"] == "bob" and p["installation"] == {"id": fake.acme,
                                                                   "node_id": p["installation"]["node_id"]}
    assert p["repository"]["full_name"] == REPO and p["organization"]["login"] == ORG
    fake.edit_comment(c["id"], "second")
    _, p = fake.event_issue_comment("edited", REPO, 1, c)
    assert p["changes"] == {"body": {"from": "first"}} and p["comment"]["body"] == "second"
    fake.create_issue(REPO, user="carol", pull_request=True)
    rc = fake.add_review_comment(REPO, 2, user="dan", body="/coc-remind")
    event, p = fake.event_review_comment("created", REPO, 2, rc)
    assert event == "pull_request_review_comment" and p["pull_request"]["number"] == 2
    assert p["pull_request"]["issue_url"] == f"{fake.url}/repos/{REPO}/issues/2"
    _, p = fake.event_issue_comment("created", REPO, 2, fake.add_comment(REPO, 2, user="e", body="x"))
    assert p["issue"]["pull_request"]["url"] == f"{fake.url}/repos/{REPO}/pulls/2"
    sha = fake.set_file(REPO, ".github/coc.yml", "heat:\n  shadow: true\n")
    event, p = fake.event_push(REPO)
    assert event == "push" and p["ref"] == "refs/heads/main" and p["after"] == sha
    assert p["commits"][0]["modified"] == [".github/coc.yml"] and p["head_commit"]["id"] == sha
    assert p["installation"]["id"] == fake.acme and p["repository"]["default_branch"] == "main"
    assert p["sender"]["login"] == "boss"
    _, p = fake.event_installation("created", fake.acme)
    assert {r["full_name"] for r in p["repositories"]} == {REPO, "acme/private"}
    assert fake.event_ping()[1]["hook"]["app_id"] == fake.app_id


def test_repository_visibility_is_consistent_in_rest_webhooks_and_graphql(fake):
    fake.add_repo("acme/inner", visibility="internal")
    fake.add_repo("acme/hidden", private=True)
    fake.add_org_member(ORG, "max")
    auth = token(fake)
    expected = {REPO: (False, "public"), "acme/private": (True, "private"), "acme/hidden": (True, "private"),
                "acme/inner": (True, "internal")}  # internal repositories are `private: true`, as on GitHub
    for full, (private, visibility) in expected.items():
        body = call(fake, "GET", f"/repos/{full}", auth=auth)[2]
        assert (body["private"], body["visibility"]) == (private, visibility), full
        assert (fake.repo(full)["private"], fake.repo(full)["visibility"]) == (private, visibility)
        fake.create_issue(full, user="max", title="t")
        c = fake.add_comment(full, 1, user="max", body="hi")
        repository = fake.event_issue_comment("created", full, 1, c)[1]["repository"]
        assert (repository["private"], repository["visibility"]) == (private, visibility), full
    listed = {r["full_name"]: r["private"] for r in fake.event_installation("created", fake.acme)[1]["repositories"]}
    assert listed["acme/inner"] is True and listed[REPO] is False
    # An internal repository is not readable by outsiders, only by the organisation's members.
    perm = call(fake, "GET", "/repos/acme/inner/collaborators/stranger/permission", auth=auth)[2]
    assert perm["permission"] == "none"
    assert call(fake, "GET", "/repos/acme/inner/collaborators/max/permission", auth=auth)[2]["permission"] == "read"
    # set_repo changes it; private= keeps working; contradictions are refused.
    assert fake.set_repo(REPO, visibility="internal")["visibility"] == "internal"
    assert fake.set_repo(REPO, private=True)["visibility"] == "internal"  # already private: stays internal
    assert fake.set_repo(REPO, private=False)["visibility"] == "public"
    assert fake.set_repo(REPO, private=True)["visibility"] == "private"
    with pytest.raises(ValueError):
        fake.set_repo(REPO, private=False, visibility="internal")
    with pytest.raises(ValueError):
        fake.add_repo("acme/odd", private=False, visibility="private")
    with pytest.raises(ValueError):
        fake.set_repo(REPO, visibility="secret")
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[2]["visibility"] == "private"
    _, _, body = gql(fake, 'query { repository(owner: "acme", name: "inner") { isPrivate visibility } }')
    assert body == {"data": {"repository": {"isPrivate": True, "visibility": "INTERNAL"}}}
    q = urllib.parse.urlencode({"q": "org:acme is:internal"})
    assert {i["repository_url"].rsplit("/", 1)[1] for i in call(fake, "GET", f"/search/issues?{q}", auth=auth)[2]
            ["items"]} == {"inner"}


def test_repository_events_follow_the_state_and_setup_sends_nothing(fake):
    fake.add_org_member(ORG, "boss", role="admin")
    fake.create_issue(REPO, user="alice", title="Thread")
    before = (len(fake.requests), len(fake.deliveries))
    fake.set_repo(REPO, visibility="private", user="mallory")
    assert (len(fake.requests), len(fake.deliveries)) == before  # nothing is sent by itself
    event, p = fake.event_repository("privatized", REPO)
    assert event == "repository" and p["action"] == "privatized" and "changes" not in p
    assert (p["repository"]["private"], p["repository"]["visibility"]) == (True, "private")
    assert p["sender"]["login"] == "mallory" and p["installation"]["id"] == fake.acme
    assert p["organization"]["login"] == ORG
    fake.set_repo(REPO, visibility="public")
    publicized = fake.event_repository("publicized", REPO)[1]
    assert (publicized["repository"]["private"], publicized["repository"]["visibility"]) == (False, "public")
    assert publicized["sender"]["login"] == "boss"  # nobody named: an owner of the organisation
    # The payload is a snapshot of the action: built now, it still says public after the repo went private again.
    fake.set_repo(REPO, visibility="private")
    assert fake.event_repository("publicized", REPO, sender="eve")[1]["repository"]["visibility"] == "public"
    assert fake.event_repository("privatized", REPO)[1]["sender"]["login"] == "boss"
    fake.set_repo(REPO, description="Widgets!", user="dora")
    _, p = fake.event_repository("edited", REPO)
    assert p["changes"] == {"description": {"from": None}} and p["sender"]["login"] == "dora"
    assert p["repository"]["description"] == "Widgets!"
    fake.set_repo(REPO, archived=True)
    assert fake.event_repository("archived", REPO)[1]["repository"]["archived"] is True
    fake.set_repo(REPO, archived=False)
    # Renamed: the old name 404s, the new one answers, issues and installation follow.
    auth = token(fake)
    renamed = fake.rename_repo(REPO, "gadgets", user="dora")
    assert renamed["full_name"] == "acme/gadgets"
    _, p = fake.event_repository("renamed", "acme/gadgets")
    assert p["changes"] == {"repository": {"name": {"from": "widgets"}}} and p["repository"]["name"] == "gadgets"
    assert p["sender"]["login"] == "dora" and p["installation"]["id"] == fake.acme
    assert call(fake, "GET", f"/repos/{REPO}", auth=auth)[0] == 404
    assert call(fake, "GET", "/repos/acme/gadgets/issues/1", auth=auth)[2]["title"] == "Thread"
    assert fake.event_issues("opened", "acme/gadgets", 1)[1]["issue"]["repository_url"].endswith("/acme/gadgets")
    # Transferred: the previous owner is in changes; the old installation no longer reaches it.
    fake.transfer_repo("acme/gadgets", "wg")
    _, p = fake.event_repository("transferred", "wg/gadgets")
    assert p["changes"]["owner"]["from"]["user"]["login"] == ORG and p["repository"]["owner"]["login"] == "wg"
    assert p["installation"]["id"] == fake.wg and p["sender"]["login"] == "boss"
    assert call(fake, "GET", "/repos/wg/gadgets", auth=auth)[0] == 404
    assert call(fake, "GET", "/repos/wg/gadgets/issues/1", auth=token(fake, fake.wg))[0] == 200
    # Deleted: gone from the API, still describable.
    fake.delete_repo("wg/gadgets")
    assert call(fake, "GET", "/repos/wg/gadgets", auth=token(fake, fake.wg))[0] == 404
    _, p = fake.event_repository("deleted", "wg/gadgets")
    assert p["repository"]["full_name"] == "wg/gadgets" and p["installation"]["id"] == fake.wg
    with pytest.raises(ValueError):
        fake.event_repository("renamed", "acme/private")  # never renamed
    with pytest.raises(ValueError):
        fake.event_repository("exploded", "acme/private")
    if SHARED is not None:
        validator = load_validator(SHARED)
        assert validator.validate_webhook(*fake.event_repository("publicized", "acme/private")) == []


def test_lock_events_name_who_locked_and_show_the_thread_as_the_action_left_it(fake):
    validator = load_validator(SHARED)
    fake.add_org_member(ORG, "boss", role="admin")
    fake.set_permission(REPO, "mia", "maintain")
    fake.create_issue(REPO, user="alice", title="Thread")
    fake.create_issue(REPO, user="carol", title="PR", pull_request=True)
    for number, build in ((1, fake.event_issues), (2, fake.event_pull_request)):
        key = "issue" if number == 1 else "pull_request"
        fake.lock_issue(REPO, number, "too heated", user="mia")
        locked = build("locked", REPO, number)
        assert locked[1]["sender"]["login"] == "mia"
        assert (locked[1][key]["locked"], locked[1][key]["active_lock_reason"]) == (True, "too heated")
        fake.unlock_issue(REPO, number)  # nobody named: an owner of the organisation
        unlocked = build("unlocked", REPO, number)
        assert unlocked[1]["sender"]["login"] == "boss"
        assert (unlocked[1][key]["locked"], unlocked[1][key]["active_lock_reason"]) == (False, None)
        # Built after the unlock, a "locked" event still shows the lock it reports (and who made it).
        late = build("locked", REPO, number)
        assert late[1]["sender"]["login"] == "mia" and late[1][key]["active_lock_reason"] == "too heated"
        # The App's own lock names the bot.
        assert call(fake, "PUT", f"/repos/{REPO}/issues/{number}/lock", {"lock_reason": "spam"},
                    auth=token(fake))[0] == 204
        by_bot = build("locked", REPO, number)
        assert by_bot[1]["sender"]["login"] == fake.bot_login and by_bot[1]["sender"]["type"] == "Bot"
        assert by_bot[1][key]["active_lock_reason"] == "spam"
        assert build("locked", REPO, number, sender="ada")[1]["sender"]["login"] == "ada"
        for ev in (locked, unlocked, late, by_bot):
            assert validator.validate_webhook(*ev) == [], (ev[0], ev[1]["action"])


def test_review_comments_are_paginated_like_issue_comments(fake):
    fake.create_issue(REPO, user="alice", pull_request=True)
    for i in range(65):
        fake.add_review_comment(REPO, 1, user=f"user{i % 7}", body=f"review {i}", line=i + 1)
    auth = token(fake)
    base = f"/repos/{REPO}/pulls/1/comments"
    status, hdrs, page1 = call(fake, "GET", base, auth=auth)
    assert status == 200 and [c["body"] for c in page1] == [f"review {i}" for i in range(30)]
    assert f'<{fake.url}{base}?page=2>; rel="next"' in hdrs["Link"]
    assert f'<{fake.url}{base}?page=3>; rel="last"' in hdrs["Link"]
    _, hdrs, page3 = call(fake, "GET", base + "?page=3", auth=auth)
    assert [c["body"] for c in page3] == [f"review {i}" for i in range(60, 65)]
    assert 'rel="prev"' in hdrs["Link"] and 'rel="first"' in hdrs["Link"] and 'rel="next"' not in hdrs["Link"]
    _, hdrs, two = call(fake, "GET", base + "?per_page=2&page=2", auth=auth)
    assert [c["body"] for c in two] == ["review 2", "review 3"]
    assert "per_page=2" in hdrs["Link"] and "page=33" in hdrs["Link"]
    _, hdrs, everything = call(fake, "GET", base + "?per_page=500", auth=auth)
    assert len(everything) == 65 and "Link" not in hdrs  # per_page is capped at 100
    _, _, newest = call(fake, "GET", base + "?sort=created&direction=desc&per_page=3", auth=auth)
    assert [c["body"] for c in newest] == ["review 64", "review 63", "review 62"]
    assert call(fake, "GET", f"/repos/{REPO}/pulls/2/comments", auth=auth)[0] == 404


async def test_gidgethub_reads_every_page_of_review_comments(fake):
    fake.create_issue(REPO, user="alice", pull_request=True)
    for i in range(150):
        fake.add_review_comment(REPO, 1, user="bob", body=f"r{i}")
    async with aiohttp.ClientSession() as session:
        gh = gh_aiohttp.GitHubAPI(session, "conduct-bot-tests", oauth_token=fake.installation_token(fake.acme),
                                  base_url=fake.url)
        bodies = [c["body"] async for c in gh.getiter(f"/repos/{REPO}/pulls/1/comments?per_page=100")]
    assert bodies == [f"r{i}" for i in range(150)]
    assert [r.query.get("page") for r in fake.requests] == [None, "2"]


def test_webhook_request_is_signed_and_logged(fake):
    event, payload = fake.event_ping()
    headers, body = fake.webhook_request(event, payload, "s3cret")
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-GitHub-Event"] == "ping" and json.loads(body) == payload
    auth = jwt_auth(fake)
    listed = call(fake, "GET", "/app/hook/deliveries", auth=auth)[2]
    assert listed[0]["guid"] == headers["X-GitHub-Delivery"]
    assert call(fake, "POST", f"/app/hook/deliveries/{listed[0]['id']}/attempts", auth=auth)[0] == 202
    assert call(fake, "GET", "/app/hook/deliveries", auth=auth)[2][0]["redelivery"] is True


def test_the_fake_app_subscribes_to_what_app_yml_asks_for_including_repository_events(fake):
    import pathlib

    import yaml

    from app.fakegithub.model import DEFAULT_APP_EVENTS, DEFAULT_APP_PERMISSIONS

    manifest = yaml.safe_load((pathlib.Path(__file__).resolve().parents[1] / "app.yml").read_text())
    assert "repository" in manifest["default_events"]  # a tracking repository made public is noticed at once
    assert sorted(manifest["default_events"]) == sorted(DEFAULT_APP_EVENTS)
    assert set(manifest["default_permissions"].items()) <= set(DEFAULT_APP_PERMISSIONS.items())
    assert "repository" in call(fake, "GET", "/app", auth=jwt_auth(fake))[2]["events"]


# ----------------------------------------------------------------------------- harness helpers
def test_wait_for(fake):
    fake.create_issue(REPO, user="alice")
    timer = threading.Timer(0.1, lambda: fake.add_comment(REPO, 1, user="bob", body="late"))
    timer.start()
    fake.wait_for(lambda f: len(f.comments(REPO, 1)) == 1, timeout=5)
    with pytest.raises(AssertionError) as info:
        fake.wait_for(lambda f: f.issue(REPO, 42)["locked"], timeout=0.1)
    message = str(info.value)
    assert "timed out after 0.1s" in message and "issue(REPO, 42)" in message and "KeyError" in message


def test_reset_forgets_everything(fake):
    call(fake, "GET", "/nowhere", auth=token(fake))
    fake.fail_next("GET", ".", status=500)
    fake.reset()
    assert fake.requests == [] and fake.violations == [] and fake.token_requests == 0
    fake.add_repo(REPO)
    assert call(fake, "GET", f"/repos/{REPO}", auth=token(fake, fake.installation_for(ORG)))[0] == 200
    assert fake.issues(REPO) == []


async def test_gidgethub_end_to_end(fake):
    """The bot's own client: token via the JWT, cached GETs (304), getiter over pages, GraphQL, errors."""
    fake.create_issue(REPO, user="alice")
    for i in range(35):
        fake.add_comment(REPO, 1, user="bob", body=f"c{i}")
    async with aiohttp.ClientSession() as session:
        app_gh = gh_aiohttp.GitHubAPI(session, "conduct-bot-tests", base_url=fake.url)
        tok = await gh_apps.get_installation_access_token(app_gh, installation_id=str(fake.acme),
                                                          app_id=str(fake.app_id), private_key=fake.private_key_pem)
        cache: dict = {}
        gh = gh_aiohttp.GitHubAPI(session, "conduct-bot-tests", oauth_token=tok["token"], base_url=fake.url,
                                  cache=cache)
        first = await gh.getitem(f"/repos/{REPO}")
        again = await gh.getitem(f"/repos/{REPO}")
        assert first == again and fake.requests[-1].status == 304
        bodies = [c["body"] async for c in gh.getiter(f"/repos/{REPO}/issues/1/comments")]
        assert bodies == [f"c{i}" for i in range(35)]
        comment = await gh.post(f"/repos/{REPO}/issues/1/comments", data={"body": "Reminder"})
        await gh.post(comment["url"] + "/reactions", data={"content": "eyes"})
        data = await gh.graphql("mutation($id: ID!) { minimizeComment(input: {subjectId: $id, classifier: OUTDATED})"
                                " { minimizedComment { isMinimized } } }", endpoint=fake.url + "/graphql",
                                id=comment["node_id"])
        assert data == {"minimizeComment": {"minimizedComment": {"isMinimized": True}}}
        await gh.put(f"/repos/{REPO}/issues/1/lock", data={"lock_reason": "resolved"})
        assert fake.issue(REPO, 1)["active_lock_reason"] == "resolved"
        fake.fail_next("GET", r"/issues/1$", status=502)
        with pytest.raises(GitHubBroken):
            await gh.getitem(f"/repos/{REPO}/issues/1")
        with pytest.raises(BadRequest):  # 404: another installation's repository
            await gh.getitem("/repos/wg/incidents")
    assert fake.token_requests == 1
    assert [r.method for r in fake.writes()] == ["POST", "POST", "POST", "PUT"]


def test_works_without_the_shared_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("FAKEGITHUB_VALIDATOR_DIR", str(tmp_path))  # points at nothing: no shared data
    monkeypatch.chdir(tmp_path)
    fake = FakeGitHub()
    assert fake.validator is None and fake._examples_dir is None
    fake.add_repo(REPO)
    fake.create_issue(REPO, user="alice")
    c = fake.add_comment(REPO, 1, user="bob", body="x")
    event, payload = fake.event_issue_comment("created", REPO, 1, c)
    assert payload["comment"]["body"] == "x"
    if SHARED is not None:
        assert load_validator(SHARED).validate_webhook(event, payload) == []
