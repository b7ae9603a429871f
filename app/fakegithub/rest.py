"""REST operations of the fake GitHub: one method per operation of rest-api-subset.json.

Handlers run on the fake's server thread with the state lock held. They get a `Ctx` and return a
`Resp`, or raise `HTTPError`. Access rules: `/app/...` (and the two `.../installation` look-ups) need
the App's JWT; everything else needs an installation token, which reaches only the repositories and
the organisation of its installation (anything else is 404, as on GitHub).
"""
from __future__ import annotations

import base64
import re
import secrets
import shlex
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from .model import (
    LEGACY_PERMISSION,
    LIMIT_EXPIRY_DAYS,
    LIMIT_GROUPS,
    LOCK_REASONS,
    REACTION_CONTENTS,
    Comment,
    Issue,
    Reaction,
    Repo,
    Token,
    git_blob_sha,
    iso,
    parse_iso,
)

DOCS = "https://docs.github.com/rest"


class HTTPError(Exception):
    def __init__(self, status: int, message: str = "", *, errors: list | None = None, headers: dict | None = None,
                 reason: str = "", body: Any = None):
        super().__init__(message)
        self.status, self.message, self.errors, self.headers, self.reason, self.body = \
            status, message, errors, headers or {}, reason, body

    def json(self) -> Any:
        if self.body is not None:
            return self.body
        body = {"message": self.message or _STATUS_MESSAGES.get(self.status, "Error"), "documentation_url": DOCS}
        if self.errors:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return body


_STATUS_MESSAGES = {400: "Bad Request", 401: "Bad credentials", 403: "Forbidden", 404: "Not Found",
                    409: "Conflict", 410: "Gone", 422: "Validation Failed", 429: "Too Many Requests",
                    500: "Internal Server Error", 502: "Server Error", 503: "Service Unavailable"}


def not_found(reason: str = "") -> HTTPError:
    return HTTPError(404, "Not Found", reason=reason)


def invalid(message: str = "Validation Failed", **error) -> HTTPError:
    return HTTPError(422, message, errors=[error] if error else None)


@dataclass
class Ctx:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    auth: str | None = None  # "jwt" | "token" | None
    token: Token | None = None

    @property
    def installation_id(self) -> int | None:
        return self.token.installation_id if self.token else None


@dataclass
class Resp:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # a non-JSON body (raw file contents)


# (method, path template, auth: "jwt" | "token" | "any" | "none", handler method name)
ROUTES = [
    ("GET", "/app", "jwt", "op_get_app"),
    ("GET", "/app/installations", "jwt", "op_list_installations"),
    ("POST", "/app/installations/{installation_id}/access_tokens", "jwt", "op_create_token"),
    ("GET", "/repos/{owner}/{repo}/installation", "jwt", "op_repo_installation"),
    ("GET", "/orgs/{org}/installation", "jwt", "op_org_installation"),
    ("GET", "/app/hook/deliveries", "jwt", "op_list_deliveries"),
    ("GET", "/app/hook/deliveries/{delivery_id}", "jwt", "op_get_delivery"),
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts", "jwt", "op_redeliver"),
    ("POST", "/app-manifests/{code}/conversions", "none", "op_manifest_conversion"),
    ("GET", "/rate_limit", "any", "op_rate_limit"),
    ("GET", "/repos/{owner}/{repo}", "token", "op_get_repo"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}", "token", "op_get_content"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", "token", "op_collaborator_permission"),
    ("GET", "/orgs/{org}/members/{username}", "token", "op_check_member"),
    ("GET", "/orgs/{org}/memberships/{username}", "token", "op_get_membership"),
    ("GET", "/orgs/{org}/teams/{team_slug}/memberships/{username}", "token", "op_team_membership"),
    ("GET", "/orgs/{org}/teams/{team_slug}/members", "token", "op_team_members"),
    ("GET", "/repos/{owner}/{repo}/issues", "token", "op_list_issues"),
    ("POST", "/repos/{owner}/{repo}/issues", "token", "op_create_issue"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}", "token", "op_get_issue"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", "token", "op_update_issue"),
    ("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/lock", "token", "op_lock"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/lock", "token", "op_unlock"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "token", "op_list_comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "token", "op_create_comment"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "token", "op_get_comment"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "token", "op_update_comment"),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "token", "op_delete_comment"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", "token", "op_list_comment_reactions"),
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions", "token", "op_react_comment"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/reactions", "token", "op_react_issue"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/reactions", "token", "op_list_issue_reactions"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", "token", "op_get_pull"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments", "token", "op_list_review_comments"),
    ("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", "token", "op_get_review_comment"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", "token", "op_update_review_comment"),
    ("DELETE", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", "token", "op_delete_review_comment"),
    ("POST", "/repos/{owner}/{repo}/pulls/comments/{comment_id}/reactions", "token", "op_react_review_comment"),
    ("GET", "/repos/{owner}/{repo}/interaction-limits", "token", "op_get_repo_limit"),
    ("PUT", "/repos/{owner}/{repo}/interaction-limits", "token", "op_set_repo_limit"),
    ("DELETE", "/repos/{owner}/{repo}/interaction-limits", "token", "op_remove_repo_limit"),
    ("GET", "/orgs/{org}/interaction-limits", "token", "op_get_org_limit"),
    ("PUT", "/orgs/{org}/interaction-limits", "token", "op_set_org_limit"),
    ("DELETE", "/orgs/{org}/interaction-limits", "token", "op_remove_org_limit"),
    ("GET", "/orgs/{org}/blocks", "token", "op_list_blocks"),
    ("GET", "/orgs/{org}/blocks/{username}", "token", "op_check_block"),
    ("PUT", "/orgs/{org}/blocks/{username}", "token", "op_block"),
    ("DELETE", "/orgs/{org}/blocks/{username}", "token", "op_unblock"),
    ("POST", "/repos/{owner}/{repo}/labels", "token", "op_create_label"),
    ("GET", "/repos/{owner}/{repo}/labels", "token", "op_list_labels"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels", "token", "op_add_labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}", "token", "op_remove_label"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline", "token", "op_timeline"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/events", "token", "op_issue_events"),
    ("GET", "/search/issues", "token", "op_search_issues"),
]


def compile_template(template: str) -> re.Pattern:
    parts, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        parts.append(re.escape(template[pos:m.start()]))
        parts.append(f"(?P<{m.group(1)}>.+)" if m.group(1) == "path" else f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(parts) + "$")


COMPILED_ROUTES = sorted(((len(re.sub(r"\{\w+\}", "", t)), m, t, compile_template(t), a, h) for m, t, a, h in ROUTES),
                         key=lambda r: -r[0])


def _int_param(ctx: Ctx, name: str) -> int:
    value = ctx.params[name]
    if not value.isdigit():
        raise not_found(f"{name} {value!r} is not a number")
    return int(value)


def _body_object(ctx: Ctx) -> dict:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise HTTPError(400, "Problems parsing JSON")
    return ctx.body


class RestMixin:
    """REST operation handlers (mixed into FakeGitHub)."""

    # ------------------------------------------------------------------ access helpers
    def _inst_of(self, ctx: Ctx):
        return self._st.installations[ctx.token.installation_id]

    def _repo_for(self, ctx: Ctx, owner: str | None = None, name: str | None = None) -> Repo:
        owner = owner if owner is not None else ctx.params["owner"]
        name = name if name is not None else ctx.params["repo"]
        repo = self._st.repos.get(f"{owner}/{name}".lower())
        if repo is None:
            raise not_found(f"no repository {owner}/{name}")
        if not self._token_reaches(ctx.token, repo):
            raise not_found(f"the token of installation {ctx.installation_id} does not reach {repo.full_name}")
        return repo

    def _token_reaches(self, token: Token, repo: Repo) -> bool:
        inst = self._installation_for_repo(repo)
        if inst is None or inst.id != token.installation_id:
            return False
        return token.repositories is None or repo.full_name.lower() in token.repositories

    def _org_for(self, ctx: Ctx) -> str:
        org = ctx.params["org"]
        user = self._st.users.get(org.lower())
        if user is None or user.type != "Organization":
            raise not_found(f"no organization {org}")
        if self._inst_of(ctx).account.lower() != org.lower():
            raise not_found(f"the token of installation {ctx.installation_id} does not reach organization {org}")
        return user.login

    def _issue_for(self, ctx: Ctx, repo: Repo, param: str = "issue_number") -> Issue:
        number = _int_param(ctx, param)
        issue = repo.issues.get(number)
        if issue is None:
            raise not_found(f"no issue #{number} in {repo.full_name}")
        return issue

    def _comment_for(self, ctx: Ctx, repo: Repo, kind: str) -> Comment:
        cid = _int_param(ctx, "comment_id")
        c = self._st.comments.get(cid)
        if c is None or c.kind != kind or c.repo != repo.full_name.lower() or c.deleted:
            raise not_found(f"no {kind} comment {cid} in {repo.full_name}")
        return c

    def _page(self, ctx: Ctx, items: list, render=lambda x: x, *, wrap=None) -> Resp:
        """GitHub-style pagination: per_page (default 30, max 100), page, and a Link header."""
        try:
            per_page = max(1, min(100, int(ctx.query.get("per_page", 30))))
        except ValueError:
            per_page = 30
        try:
            page = max(1, int(ctx.query.get("page", 1)))
        except ValueError:
            page = 1
        total = len(items)
        last = max(1, -(-total // per_page))
        chunk = [render(x) for x in items[(page - 1) * per_page: page * per_page]]
        links = []

        def link(p: int, rel: str) -> str:
            query = dict(ctx.query, page=str(p))
            return f'<{self.url}{ctx.path}?{urlencode(query)}>; rel="{rel}"'

        if page > 1:
            links.append(link(min(page - 1, last), "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        headers = {"Link": ", ".join(links)} if links else {}
        return Resp(200, wrap(chunk, total) if wrap else chunk, headers)

    def _author(self, ctx: Ctx) -> str:
        """Who writes with this credential: the App's bot user."""
        return self.bot_login

    # ------------------------------------------------------------------ apps
    def op_get_app(self, ctx: Ctx) -> Resp:
        return Resp(200, self._r_app(rest=True))

    def op_list_installations(self, ctx: Ctx) -> Resp:
        insts = sorted(self._st.installations.values(), key=lambda i: i.id)
        return self._page(ctx, insts, self._r_installation)

    def op_create_token(self, ctx: Ctx) -> Resp:
        inst = self._st.installations.get(_int_param(ctx, "installation_id"))
        if inst is None:
            raise not_found("no such installation")
        if inst.suspended_at:
            raise HTTPError(403, "This installation has been suspended")
        body = _body_object(ctx)
        restrict = None
        repos = [r for r in self._st.repos.values() if self._installation_for_repo(r) is inst]
        names = body.get("repositories")
        ids = body.get("repository_ids")
        if names is not None or ids is not None:
            restrict = set()
            for n in names or []:
                match = [r for r in repos if r.name.lower() == str(n).lower()]
                if not match:
                    raise invalid("There is at least one repository that does not exist or is not accessible "
                                  "to the parent installation.", resource="Repository", field="repositories",
                                  code="invalid")
                restrict.add(match[0].full_name.lower())
            for i in ids or []:
                match = [r for r in repos if r.id == i]
                if not match:
                    raise invalid("There is at least one repository that does not exist or is not accessible "
                                  "to the parent installation.", resource="Repository", field="repository_ids",
                                  code="invalid")
                restrict.add(match[0].full_name.lower())
        permissions = dict(inst.permissions)
        for k, v in (body.get("permissions") or {}).items():
            if k not in inst.permissions or (v == "write" and inst.permissions[k] != "write"):
                raise invalid("The permissions requested are not granted to this installation.",
                              resource="Permissions", field=k, code="invalid")
            permissions[k] = v
        token = Token("ghs_" + secrets.token_hex(18), inst.id, self._now() + self.token_ttl, restrict, permissions)
        self._st.tokens[token.token] = token
        self._st.token_requests += 1
        out = {"token": token.token, "expires_at": iso(token.expires_at), "permissions": permissions,
               "repository_selection": "selected" if restrict is not None or inst.selection != "all" else "all"}
        if restrict is not None:
            out["repositories"] = [self._r_repo(self._st.repos[k]) for k in sorted(restrict)]
        return Resp(201, out)

    def op_repo_installation(self, ctx: Ctx) -> Resp:
        repo = self._st.repos.get(f"{ctx.params['owner']}/{ctx.params['repo']}".lower())
        inst = self._installation_for_repo(repo) if repo else None
        if inst is None:
            raise not_found("the App is not installed on this repository")
        return Resp(200, self._r_installation(inst))

    def op_org_installation(self, ctx: Ctx) -> Resp:
        for inst in sorted(self._st.installations.values(), key=lambda i: i.id):
            if inst.account.lower() == ctx.params["org"].lower() and inst.account_type == "Organization":
                return Resp(200, self._r_installation(inst))
        raise not_found("the App is not installed on this organization")

    def op_list_deliveries(self, ctx: Ctx) -> Resp:
        items = sorted(self._st.deliveries, key=lambda d: -d["id"])
        try:
            per_page = max(1, min(100, int(ctx.query.get("per_page", 30))))
        except ValueError:
            per_page = 30
        status = ctx.query.get("status")
        if status:
            items = [d for d in items if (d["status_code"] < 400) == (status == "success")]
        cursor = ctx.query.get("cursor")
        if cursor:
            items = [d for d in items if d["id"] <= int(cursor)] if cursor.isdigit() else []
        chunk, rest = items[:per_page], items[per_page:]
        headers = {}
        if rest:
            query = dict(ctx.query, cursor=str(rest[0]["id"]))
            headers["Link"] = f'<{self.url}{ctx.path}?{urlencode(query)}>; rel="next"'
        keys = ("id", "guid", "delivered_at", "redelivery", "duration", "status", "status_code", "event", "action",
                "installation_id", "repository_id")
        return Resp(200, [{k: d[k] for k in keys} for d in chunk], headers)

    def op_get_delivery(self, ctx: Ctx) -> Resp:
        did = _int_param(ctx, "delivery_id")
        for d in self._st.deliveries:
            if d["id"] == did:
                return Resp(200, dict(d, url=f"{self.url}/app/hook/deliveries/{did}"))
        raise not_found("no such delivery")

    def op_redeliver(self, ctx: Ctx) -> Resp:
        did = _int_param(ctx, "delivery_id")
        for d in list(self._st.deliveries):
            if d["id"] == did:
                self._st.redeliveries.append(did)
                self.record_delivery(d["event"], d["request"]["payload"], guid=d["guid"], redelivery=True)
                return Resp(202, {})
        raise not_found("no such delivery")

    def op_manifest_conversion(self, ctx: Ctx) -> Resp:
        app = self._r_app(rest=True)
        app.update({"client_secret": secrets.token_hex(20), "webhook_secret": secrets.token_hex(20),
                    "pem": self.private_key_pem})
        return Resp(201, app)

    def op_rate_limit(self, ctx: Ctx) -> Resp:
        resources = {name: self._rate_state(ctx, name) for name in ("core", "search", "graphql")}
        resources["integration_manifest"] = {"limit": 5000, "remaining": 5000, "reset": resources["core"]["reset"],
                                             "used": 0}
        return Resp(200, {"resources": resources, "rate": resources["core"]})

    # ------------------------------------------------------------------ repositories
    def op_get_repo(self, ctx: Ctx) -> Resp:
        return Resp(200, self._r_repo(self._repo_for(ctx), full=True))

    def op_get_content(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        ref = ctx.query.get("ref") or repo.default_branch
        files = repo.files(ref)
        if files is None:
            raise HTTPError(404, f"No commit found for the ref {ref}")
        path = ctx.params["path"].strip("/")
        accept = ctx.headers.get("accept", "")
        api = f"{self.url}/repos/{repo.full_name}/contents"
        if path in files:
            text = files[path]
            if "raw" in accept:
                return Resp(200, text=text)
            return Resp(200, self._content_entry(repo, ref, path, text, with_content=True))
        prefix = path + "/"
        children = sorted({p[len(prefix):].split("/")[0] for p in files if p.startswith(prefix)})
        if not children:
            raise not_found(f"no {path} at {ref}")
        entries = []
        for child in children:
            full = prefix + child
            if full in files:
                entries.append(self._content_entry(repo, ref, full, files[full], with_content=False))
            else:
                entries.append({"type": "dir", "size": 0, "name": child, "path": full, "sha": git_blob_sha(full),
                                "url": f"{api}/{quote(full)}?ref={quote(ref)}", "git_url": None,
                                "html_url": f"{self.html_url}/{repo.full_name}/tree/{ref}/{full}",
                                "download_url": None,
                                "_links": {"self": f"{api}/{quote(full)}?ref={quote(ref)}", "git": None,
                                           "html": f"{self.html_url}/{repo.full_name}/tree/{ref}/{full}"}})
        return Resp(200, entries)

    def _content_entry(self, repo: Repo, ref: str, path: str, text: str, *, with_content: bool) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        sha = git_blob_sha(text)
        self_url = f"{api}/contents/{quote(path)}?ref={quote(ref)}"
        html = f"{self.html_url}/{repo.full_name}/blob/{ref}/{path}"
        git = f"{api}/git/blobs/{sha}"
        entry = {"type": "file", "size": len(text.encode()), "name": path.rsplit("/", 1)[-1], "path": path,
                 "sha": sha, "url": self_url, "git_url": git, "html_url": html,
                 "download_url": f"https://raw.githubusercontent.com/{repo.full_name}/{ref}/{path}",
                 "_links": {"self": self_url, "git": git, "html": html}}
        if with_content:
            raw = base64.b64encode(text.encode()).decode()
            entry["encoding"] = "base64"
            entry["content"] = "\n".join(raw[i:i + 60] for i in range(0, len(raw), 60)) + "\n"
        return entry

    def op_collaborator_permission(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        login = self._user(ctx.params["username"]).login  # users exist on first use
        role = self._role(repo, login)
        user = self._r_user(login)
        user["permissions"] = {"admin": role == "admin", "maintain": role in ("admin", "maintain"),
                               "push": role in ("admin", "maintain", "write"),
                               "triage": role in ("admin", "maintain", "write", "triage"),
                               "pull": role != "none"}
        user["role_name"] = role
        return Resp(200, {"permission": LEGACY_PERMISSION[role], "role_name": role, "user": user})

    # ------------------------------------------------------------------ organisations and teams
    def op_check_member(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        if ctx.params["username"].lower() in self._st.org_members.get(org.lower(), {}):
            return Resp(204)
        raise HTTPError(404, "User does not exist or is not a member of the organization")

    def op_get_membership(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        role = self._st.org_members.get(org.lower(), {}).get(ctx.params["username"].lower())
        if role is None:
            raise not_found("not a member")
        login = self._user(ctx.params["username"]).login
        return Resp(200, {"url": f"{self.url}/orgs/{org}/memberships/{login}", "state": "active", "role": role,
                          "organization_url": f"{self.url}/orgs/{org}", "organization": self._r_org(org),
                          "user": self._r_user(login), "direct_membership": True,
                          "permissions": {"can_create_repository": role == "admin"}})

    def _team(self, ctx: Ctx) -> dict:
        org = self._org_for(ctx)
        team = self._st.teams.get((org.lower(), ctx.params["team_slug"].lower()))
        if team is None:
            raise not_found("no such team")
        return team

    def op_team_membership(self, ctx: Ctx) -> Resp:
        team = self._team(ctx)
        role = team["members"].get(ctx.params["username"].lower())
        if role is None:
            raise not_found("not a team member")
        login = self._user(ctx.params["username"]).login
        return Resp(200, {"url": f"{self.url}/organizations/{team['org_id']}/team/{team['id']}/memberships/{login}",
                          "role": role, "state": "active"})

    def op_team_members(self, ctx: Ctx) -> Resp:
        team = self._team(ctx)
        role = ctx.query.get("role", "all")
        logins = [login for login, r in team["members"].items() if role == "all" or r == role]
        return self._page(ctx, sorted(logins), self._r_user)

    # ------------------------------------------------------------------ issues
    def op_list_issues(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        q = ctx.query
        items = list(repo.issues.values())
        state = q.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise invalid(resource="Issue", field="state", code="invalid")
        if state != "all":
            items = [i for i in items if i.state == state]
        if q.get("labels"):
            wanted = [n.strip().lower() for n in q["labels"].split(",") if n.strip()]
            items = [i for i in items if all(w in {n.lower() for n in i.labels} for w in wanted)]
        if q.get("creator"):
            items = [i for i in items if i.user.lower() == q["creator"].lower()]
        if q.get("assignee") and q["assignee"] not in ("*", "none"):
            items = [i for i in items if q["assignee"].lower() in {a.lower() for a in i.assignees}]
        elif q.get("assignee") == "none":
            items = [i for i in items if not i.assignees]
        elif q.get("assignee") == "*":
            items = [i for i in items if i.assignees]
        if q.get("since"):
            since = parse_iso(q["since"])
            items = [i for i in items if i.updated_at >= since]
        sort = q.get("sort", "created")
        key = {"created": lambda i: (i.created_at, i.number), "updated": lambda i: (i.updated_at, i.number),
               "comments": lambda i: (self._comment_count(i), i.number)}.get(sort)
        if key is None:
            raise invalid(resource="Issue", field="sort", code="invalid")
        items.sort(key=key, reverse=q.get("direction", "desc") != "asc")
        return self._page(ctx, items, self._r_issue)

    def _comment_count(self, issue: Issue) -> int:
        return sum(1 for c in self._st.comments.values()
                   if c.kind == "issue" and c.repo == issue.repo and c.number == issue.number and not c.deleted)

    def op_create_issue(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        body = _body_object(ctx)
        title = body.get("title")
        if title is None or title == "":
            raise invalid(resource="Issue", field="title", code="missing_field")
        labels = [x["name"] if isinstance(x, dict) else str(x) for x in body.get("labels") or []]
        issue = self._new_issue(repo, user=self._author(ctx), title=str(title), body=body.get("body"),
                                labels=labels, via_app=True, assignees=body.get("assignees") or [])
        return Resp(201, self._r_issue(issue))

    def op_get_issue(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        return Resp(200, self._r_issue(self._issue_for(ctx, repo)))

    def op_update_issue(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        body = _body_object(ctx)
        actor = self._author(ctx)
        now = self._now()
        if "state" in body and body["state"] not in ("open", "closed"):
            raise invalid(resource="Issue", field="state", code="invalid")
        if "state_reason" in body and body["state_reason"] not in (None, "completed", "not_planned", "duplicate",
                                                                   "reopened"):
            raise invalid(resource="Issue", field="state_reason", code="invalid")
        if "title" in body and body["title"] is not None and str(body["title"]) != issue.title:
            issue.previous_titles.append(issue.title)
            self._add_event(issue, "renamed", actor, via_app=True,
                            rename={"from": issue.title, "to": str(body["title"])})
            issue.title = str(body["title"])
        if "body" in body and body["body"] != issue.body:
            issue.previous_bodies.append(issue.body)
            issue.body = body["body"]
        if "labels" in body and body["labels"] is not None:
            names = [x["name"] if isinstance(x, dict) else str(x) for x in body["labels"]]
            self._set_labels(issue, names, actor, via_app=True)
        if "assignees" in body and body["assignees"] is not None:
            issue.assignees = [self._user(a).login for a in body["assignees"]]
        new_state = body.get("state")
        if new_state == "closed" and issue.state == "open":
            self._close(issue, actor, body.get("state_reason") or "completed", via_app=True)
        elif new_state == "open" and issue.state == "closed":
            self._reopen(issue, actor, via_app=True)
        elif new_state == "closed" and body.get("state_reason"):
            issue.state_reason = body["state_reason"]
        issue.updated_at = now
        return Resp(200, self._r_issue(issue))

    def op_lock(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        body = _body_object(ctx)
        reason = body.get("lock_reason")
        if reason is not None and reason not in LOCK_REASONS:
            raise invalid(resource="Issue", field="lock_reason", code="invalid")
        self._lock_issue(issue, reason, self._author(ctx), via_app=True)
        return Resp(204)

    def op_unlock(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        self._unlock_issue(issue, self._author(ctx), via_app=True)
        return Resp(204)

    def op_get_pull(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo, "pull_number")
        if not issue.is_pr:
            raise not_found(f"#{issue.number} is an issue, not a pull request")
        return Resp(200, self._r_pull(issue))

    def op_timeline(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        items: list[tuple[float, int, dict]] = [(ev.created_at, ev.id, self._r_event(repo, ev)) for ev in issue.events]
        for c in self._st.comments.values():
            if c.kind == "issue" and c.repo == issue.repo and c.number == issue.number and not c.deleted:
                entry = self._r_comment(c)
                entry.update({"event": "commented", "actor": self._r_user(c.user)})
                items.append((c.created_at, c.id, entry))
        items.sort(key=lambda t: (t[0], t[1]))
        return self._page(ctx, [t[2] for t in items])

    def op_issue_events(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        return self._page(ctx, list(issue.events), lambda ev: dict(self._r_event(repo, ev),
                                                                     issue=self._r_issue(issue)))

    # ------------------------------------------------------------------ comments
    def op_list_comments(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        items = [c for c in self._st.comments.values()
                 if c.kind == "issue" and c.repo == issue.repo and c.number == issue.number and not c.deleted]
        if ctx.query.get("since"):
            since = parse_iso(ctx.query["since"])
            items = [c for c in items if c.updated_at >= since]
        items.sort(key=lambda c: (c.created_at, c.id))
        return self._page(ctx, items, self._r_comment)

    def op_create_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        body = _body_object(ctx)
        if not isinstance(body.get("body"), str) or not body["body"]:
            raise invalid(resource="IssueComment", field="body", code="missing_field")
        c = self._new_comment(issue, user=self._author(ctx), body=body["body"], via_app=True)
        return Resp(201, self._r_comment(c), {"Location": f"{self.url}/repos/{repo.full_name}/issues/comments/{c.id}"})

    def op_get_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        return Resp(200, self._r_comment(self._comment_for(ctx, repo, "issue")))

    def op_update_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        c = self._comment_for(ctx, repo, "issue")
        body = _body_object(ctx)
        if not isinstance(body.get("body"), str):
            raise invalid(resource="IssueComment", field="body", code="missing_field")
        self._edit_comment(c, body["body"])
        return Resp(200, self._r_comment(c))

    def op_delete_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        c = self._comment_for(ctx, repo, "issue")
        self._delete_comment(c)
        return Resp(204)

    def op_list_review_comments(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo, "pull_number")
        if not issue.is_pr:
            raise not_found("not a pull request")
        items = [c for c in self._st.comments.values()
                 if c.kind == "review" and c.repo == issue.repo and c.number == issue.number and not c.deleted]
        if ctx.query.get("since"):
            since = parse_iso(ctx.query["since"])
            items = [c for c in items if c.updated_at >= since]
        key = (lambda c: (c.updated_at, c.id)) if ctx.query.get("sort") == "updated" else (lambda c: (c.created_at,
                                                                                                        c.id))
        items.sort(key=key, reverse=ctx.query.get("direction", "asc") == "desc")
        return self._page(ctx, items, self._r_comment)

    def op_get_review_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        return Resp(200, self._r_comment(self._comment_for(ctx, repo, "review")))

    def op_update_review_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        c = self._comment_for(ctx, repo, "review")
        body = _body_object(ctx)
        if not isinstance(body.get("body"), str):
            raise invalid(resource="PullRequestReviewComment", field="body", code="missing_field")
        self._edit_comment(c, body["body"])
        return Resp(200, self._r_comment(c))

    def op_delete_review_comment(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        self._delete_comment(self._comment_for(ctx, repo, "review"))
        return Resp(204)

    # ------------------------------------------------------------------ reactions
    def _react(self, ctx: Ctx, reactions: list[Reaction]) -> Resp:
        body = _body_object(ctx)
        content = body.get("content")
        if content not in REACTION_CONTENTS:
            raise invalid(resource="Reaction", field="content", code="invalid")
        user = self._author(ctx)
        for r in reactions:
            if r.user.lower() == user.lower() and r.content == content:
                return Resp(200, self._r_reaction(r))
        r = self._new_reaction(user, content)
        reactions.append(r)
        return Resp(201, self._r_reaction(r))

    def _list_reactions(self, ctx: Ctx, reactions: list[Reaction]) -> Resp:
        content = ctx.query.get("content")
        items = [r for r in reactions if content is None or r.content == content]
        return self._page(ctx, items, self._r_reaction)

    def op_react_comment(self, ctx: Ctx) -> Resp:
        return self._react(ctx, self._comment_for(ctx, self._repo_for(ctx), "issue").reactions)

    def op_list_comment_reactions(self, ctx: Ctx) -> Resp:
        return self._list_reactions(ctx, self._comment_for(ctx, self._repo_for(ctx), "issue").reactions)

    def op_react_review_comment(self, ctx: Ctx) -> Resp:
        return self._react(ctx, self._comment_for(ctx, self._repo_for(ctx), "review").reactions)

    def op_react_issue(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        return self._react(ctx, self._issue_for(ctx, repo).reactions)

    def op_list_issue_reactions(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        return self._list_reactions(ctx, self._issue_for(ctx, repo).reactions)

    # ------------------------------------------------------------------ labels
    def op_create_label(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        body = _body_object(ctx)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise invalid(resource="Label", field="name", code="missing_field")
        if name.lower() in repo.labels:
            raise invalid(resource="Label", field="name", code="already_exists")
        color = str(body.get("color") or "ededed").lstrip("#")
        if not re.fullmatch(r"[0-9a-fA-F]{6}", color):
            raise invalid(resource="Label", field="color", code="invalid")
        self._ensure_label(repo, name, color=color.lower(), description=body.get("description"))
        return Resp(201, self._r_label(repo, name))

    def op_list_labels(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        items = sorted(repo.labels.values(), key=lambda lb: lb.name.lower())
        return self._page(ctx, items, lambda lb: self._r_label(repo, lb.name))

    def op_add_labels(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        body = ctx.body
        raw = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(raw, list) or not raw:
            raise invalid(resource="Label", field="labels", code="missing_field")
        names = [x.get("name") if isinstance(x, dict) else x for x in raw]
        if not all(isinstance(n, str) and n for n in names):
            raise invalid(resource="Label", field="labels", code="invalid")
        self._set_labels(issue, issue.labels + names, self._author(ctx), via_app=True)
        issue.updated_at = self._now()
        return Resp(200, [self._r_label(repo, n) for n in issue.labels])

    def op_remove_label(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        issue = self._issue_for(ctx, repo)
        name = ctx.params["name"]
        if name.lower() not in {n.lower() for n in issue.labels}:
            raise HTTPError(404, "Label does not exist")
        self._set_labels(issue, [n for n in issue.labels if n.lower() != name.lower()], self._author(ctx),
                         via_app=True)
        issue.updated_at = self._now()
        return Resp(200, [self._r_label(repo, n) for n in issue.labels])

    # ------------------------------------------------------------------ interaction limits
    def _limit_json(self, limit: dict | None, origin: str) -> dict:
        if not limit:
            return {}
        return {"limit": limit["limit"], "origin": origin, "expires_at": iso(limit["expires_at"])}

    def _limit_body(self, ctx: Ctx) -> tuple[str, str]:
        body = _body_object(ctx)
        limit, expiry = body.get("limit"), body.get("expiry", "one_day")
        if limit not in LIMIT_GROUPS:
            raise invalid(resource="InteractionLimit", field="limit", code="invalid" if limit else "missing_field")
        if expiry not in LIMIT_EXPIRY_DAYS:
            raise invalid(resource="InteractionLimit", field="expiry", code="invalid")
        return limit, expiry

    def op_get_repo_limit(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        return Resp(200, self._effective_limit(repo) or {})

    def op_set_repo_limit(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        limit, expiry = self._limit_body(ctx)
        if self._owner_limit(repo.owner):
            raise HTTPError(409, "Interaction limits are already enforced for the owner of this repository.",
                            reason="the owning organization or user has an interaction limit")
        if repo.private:
            raise invalid("Interaction limits are not available for private repositories.",
                          resource="InteractionLimit", field="repository", code="invalid")
        repo.limit = {"limit": limit, "expires_at": self._now() + LIMIT_EXPIRY_DAYS[expiry] * 86400}
        return Resp(200, self._limit_json(repo.limit, "repository"))

    def op_remove_repo_limit(self, ctx: Ctx) -> Resp:
        repo = self._repo_for(ctx)
        if self._owner_limit(repo.owner):
            raise HTTPError(409, "Interaction limits are enforced for the owner of this repository.",
                            reason="the owning organization or user has an interaction limit")
        repo.limit = None
        return Resp(204)

    def op_get_org_limit(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        return Resp(200, self._limit_json(self._owner_limit(org), "organization"))

    def op_set_org_limit(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        limit, expiry = self._limit_body(ctx)
        self._st.owner_limits[org.lower()] = {"limit": limit,
                                              "expires_at": self._now() + LIMIT_EXPIRY_DAYS[expiry] * 86400}
        return Resp(200, self._limit_json(self._st.owner_limits[org.lower()], "organization"))

    def op_remove_org_limit(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        self._st.owner_limits.pop(org.lower(), None)
        return Resp(204)

    # ------------------------------------------------------------------ blocks
    def op_list_blocks(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        blocked = self._st.blocks.get(org.lower(), {})
        return self._page(ctx, sorted(blocked, key=lambda k: blocked[k]), self._r_user)

    def op_check_block(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        if ctx.params["username"].lower() in self._st.blocks.get(org.lower(), {}):
            return Resp(204)
        raise HTTPError(404, "User is not blocked")

    def op_block(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        login = ctx.params["username"]
        if login.lower() in self._st.org_members.get(org.lower(), {}):
            raise invalid("Blocking an organization member is not allowed.", resource="Block", field="login",
                          code="invalid")
        if login.lower() == org.lower() or login.lower() == self.bot_login.lower():
            raise invalid("You cannot block this account.", resource="Block", field="login", code="invalid")
        user = self._user(login)
        self._st.blocks.setdefault(org.lower(), {}).setdefault(user.login.lower(), self._now())
        return Resp(204)

    def op_unblock(self, ctx: Ctx) -> Resp:
        org = self._org_for(ctx)
        self._st.blocks.get(org.lower(), {}).pop(ctx.params["username"].lower(), None)
        return Resp(204)

    # ------------------------------------------------------------------ search
    def op_search_issues(self, ctx: Ctx) -> Resp:
        q = ctx.query.get("q", "")
        if not q.strip():
            raise invalid(resource="Search", field="q", code="missing")
        try:
            pred = self._search_predicate(q)
        except ValueError as exc:
            raise invalid(str(exc), resource="Search", field="q", code="invalid") from exc
        inst = self._inst_of(ctx)
        items = []
        for repo in self._st.repos.values():
            if not self._token_reaches(ctx.token, repo) or self._installation_for_repo(repo) is not inst:
                continue
            items.extend(i for i in repo.issues.values() if pred(repo, i))
        sort, order = ctx.query.get("sort"), ctx.query.get("order", "desc")
        key = {"comments": lambda i: (self._comment_count(i), i.created_at, i.id),
               "updated": lambda i: (i.updated_at, i.id),
               "reactions": lambda i: (len(i.reactions), i.created_at, i.id)}.get(sort,
                                                                                 lambda i: (i.created_at, i.id))
        items.sort(key=key, reverse=order != "asc")
        items = items[:1000]

        def render(i: Issue) -> dict:
            r = self._r_issue(i)
            r["body"] = r["body"] or ""  # the search result schema has a non-null body
            r["score"] = 1.0
            return r

        return self._page(ctx, items, render, wrap=lambda chunk, total: {
            "total_count": total, "incomplete_results": False, "items": chunk, "search_type": "lexical"})

    def _search_predicate(self, q: str):
        try:
            tokens = shlex.split(q.replace("'", "\\'"))
        except ValueError:
            raise ValueError("The search query is not well formed (unbalanced quotes).") from None
        tests = []
        text_fields = set()
        for tok in tokens:
            negate = tok.startswith("-") and ":" in tok
            if negate:
                tok = tok[1:]
            key, sep, value = tok.partition(":")
            key = key.lower()
            if not sep or key not in ("repo", "org", "user", "is", "type", "state", "label", "author", "in",
                                      "created", "updated", "closed", "involves", "commenter", "no"):
                words = tok.lower()
                tests.append(("text", words, False))
                continue
            tests.append((key, value, negate))
            if key == "in":
                text_fields.update(value.lower().split(","))
        text_fields = text_fields or {"title", "body"}

        def date_ok(ts: float | None, spec: str) -> bool:
            if ts is None:
                return False
            day = iso(ts)
            if ".." in spec:
                lo, hi = spec.split("..", 1)
                return (lo in ("", "*") or day >= _norm(lo, False)) and (hi in ("", "*") or day <= _norm(hi, True))
            for op in (">=", "<=", ">", "<"):
                if spec.startswith(op):
                    bound = spec[len(op):]
                    return {">=": day >= _norm(bound, False), "<=": day <= _norm(bound, True),
                            ">": day > _norm(bound, True), "<": day < _norm(bound, False)}[op]
            return _norm(spec, False) <= day <= _norm(spec, True)

        def pred(repo: Repo, issue: Issue) -> bool:
            comments_text = " ".join(c.body for c in self._st.comments.values()
                                     if c.repo == issue.repo and c.number == issue.number and not c.deleted)
            hay = " ".join(filter(None, [issue.title if "title" in text_fields else "",
                                         (issue.body or "") if "body" in text_fields else "",
                                         comments_text if "comments" in text_fields else ""])).lower()
            for key, value, negate in tests:
                v = value.lower()
                if key == "text":
                    ok = v in hay
                elif key == "repo":
                    ok = repo.full_name.lower() == v
                elif key in ("org", "user"):
                    ok = repo.owner.lower() == v
                elif key in ("is", "type", "state"):
                    ok = {"issue": not issue.is_pr, "pr": issue.is_pr, "pull-request": issue.is_pr,
                          "open": issue.state == "open", "closed": issue.state == "closed",
                          "locked": issue.locked, "unlocked": not issue.locked,
                          "public": not repo.private, "private": repo.private,
                          "internal": repo.visibility == "internal"}.get(v, False)
                elif key == "label":
                    names = {n.lower() for n in issue.labels}
                    ok = any(x in names for x in v.split(","))
                elif key == "no":
                    ok = not issue.labels if v == "label" else not issue.assignees if v == "assignee" else True
                elif key == "author":
                    ok = issue.user.lower() == v
                elif key in ("involves", "commenter"):
                    people = {c.user.lower() for c in self._st.comments.values()
                              if c.repo == issue.repo and c.number == issue.number}
                    ok = v in people or (key == "involves" and issue.user.lower() == v)
                elif key == "in":
                    ok = True
                elif key == "created":
                    ok = date_ok(issue.created_at, value)
                elif key == "updated":
                    ok = date_ok(issue.updated_at, value)
                elif key == "closed":
                    ok = date_ok(issue.closed_at, value)
                else:
                    ok = True
                if ok == negate:
                    return False
            return True

        return pred


def _norm(bound: str, upper: bool) -> str:
    """A search date bound -> comparable ISO string (a bare date covers the whole day)."""
    bound = bound.strip()
    if len(bound) == 10:
        return bound + ("T23:59:59Z" if upper else "T00:00:00Z")
    return iso(parse_iso(bound))
