"""State records and GitHub-shaped JSON renderers for the fake GitHub (see app/fakegithub.py).

The records hold what GitHub knows; the `RenderMixin` methods turn them into the JSON GitHub
sends, with every URL pointing at the fake's own base URL. Renderers with `webhook=True` keep to
the (strict, additionalProperties: false) webhook schemas; the REST form may add a few fields.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

ROLES = ("none", "read", "triage", "write", "maintain", "admin")
LEGACY_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read",
                     "none": "none"}
LOCK_REASONS = ("off-topic", "too heated", "resolved", "spam")
REACTION_CONTENTS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")
LIMIT_GROUPS = ("existing_users", "contributors_only", "collaborators_only")
LIMIT_EXPIRY_DAYS = {"one_day": 1, "three_days": 3, "one_week": 7, "one_month": 30, "six_months": 180}
CLASSIFIERS = ("ABUSE", "DUPLICATE", "OFF_TOPIC", "OUTDATED", "RESOLVED", "SPAM")
GRAPHQL_LOCK_REASONS = ("OFF_TOPIC", "RESOLVED", "SPAM", "TOO_HEATED")

DEFAULT_APP_PERMISSIONS = {
    "administration": "write",  # repository interaction limits
    "contents": "read",
    "issues": "write",
    "members": "read",
    "metadata": "read",
    "organization_administration": "write",  # organisation interaction limits
    "organization_user_blocking": "write",
    "pull_requests": "write",
}
DEFAULT_APP_EVENTS = ["issue_comment", "issues", "pull_request", "pull_request_review_comment", "push", "repository"]
VISIBILITIES = ("public", "private", "internal")  # internal: GitHub Enterprise; `private: true` in the JSON
REPOSITORY_ACTIONS = ("created", "deleted", "archived", "unarchived", "edited", "renamed", "transferred",
                      "publicized", "privatized")
ZERO_SHA = "0" * 40


def iso(ts: float) -> str:
    """Seconds since the epoch -> GitHub's ISO 8601 form ("2024-05-01T12:00:00Z")."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> float:
    """ISO 8601 (with Z or an offset, or a bare date) -> seconds since the epoch."""
    text = text.strip()
    if len(text) == 10:
        text += "T00:00:00"
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def node_id(prefix: str, kind: str, number: int) -> str:
    raw = base64.urlsafe_b64encode(f"{kind}:{number}".encode()).decode().rstrip("=")
    return f"{prefix}_{raw}"


def git_blob_sha(text: str) -> str:
    data = text.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# ----------------------------------------------------------------------------- records
@dataclass
class User:
    login: str
    id: int
    node_id: str
    type: str = "User"  # User | Organization | Bot
    site_admin: bool = False


@dataclass
class Installation:
    id: int
    account: str
    account_type: str
    selection: str | list[str]  # "all" or repository names (lower case, without owner)
    created_at: float
    permissions: dict
    events: list
    suspended_at: float | None = None


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: float
    repositories: set[str] | None  # lower-case full names the token is restricted to
    permissions: dict


@dataclass
class Label:
    id: int
    node_id: str
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Reaction:
    id: int
    node_id: str
    user: str
    content: str
    created_at: float


@dataclass
class IssueEvent:
    id: int
    node_id: str
    event: str
    actor: str
    created_at: float
    via_app: bool = False
    extra: dict = field(default_factory=dict)


@dataclass
class Commit:
    sha: str
    parent: str
    files: dict[str, str]
    message: str
    created_at: float
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)


@dataclass
class Issue:
    repo: str  # lower-case full name
    number: int
    id: int
    node_id: str
    title: str
    body: str | None
    user: str
    created_at: float
    updated_at: float
    state: str = "open"
    state_reason: str | None = None
    closed_at: float | None = None
    closed_by: str | None = None
    locked: bool = False
    active_lock_reason: str | None = None
    labels: list[str] = field(default_factory=list)  # label names (repo's canonical case)
    assignees: list[str] = field(default_factory=list)
    is_pr: bool = False
    pr_id: int = 0
    pr_node_id: str = ""
    draft: bool = False
    head_ref: str = ""
    head_sha: str = ""
    base_sha: str = ""
    reactions: list[Reaction] = field(default_factory=list)
    events: list[IssueEvent] = field(default_factory=list)
    author_association: str | None = None  # override
    via_app: bool = False
    previous_titles: list[str] = field(default_factory=list)
    previous_bodies: list[str | None] = field(default_factory=list)


@dataclass
class Comment:
    kind: str  # "issue" (conversation comment) | "review" (pull request review comment)
    id: int
    node_id: str
    repo: str
    number: int
    user: str
    body: str
    created_at: float
    updated_at: float
    reactions: list[Reaction] = field(default_factory=list)
    minimized: bool = False
    minimized_reason: str | None = None  # GraphQL minimizedReason form: "abuse", "off-topic", ...
    classifier: str | None = None  # the GraphQL enum value given: "ABUSE", "OFF_TOPIC", ...
    deleted: bool = False
    deleted_at: float | None = None
    previous_bodies: list[str] = field(default_factory=list)
    author_association: str | None = None
    via_app: bool = False
    # review comments only
    path: str = "README.md"
    line: int = 1
    commit_id: str = ""
    review_id: int = 0
    in_reply_to_id: int | None = None


@dataclass
class Repo:
    id: int
    node_id: str
    owner: str
    name: str
    visibility: str  # public | private | internal (see `private`)
    default_branch: str
    created_at: float
    updated_at: float
    pushed_at: float
    description: str | None = None
    installation_id: int | None = None
    branches: dict[str, str] = field(default_factory=dict)  # branch -> head sha
    commits: dict[str, Commit] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # lower login -> role name
    labels: dict[str, Label] = field(default_factory=dict)  # lower name -> label
    issues: dict[int, Issue] = field(default_factory=dict)
    next_number: int = 1
    limit: dict | None = None  # {"limit", "expires_at" (float)}
    archived: bool = False
    homepage: str | None = None
    previous_names: list[str] = field(default_factory=list)   # for `repository` renamed events
    previous_owners: list[str] = field(default_factory=list)  # for `repository` transferred events
    last_changes: dict = field(default_factory=dict)  # the `changes` of the latest edit (`repository` edited)
    actors: dict[str, str] = field(default_factory=dict)  # repository event action -> who did it last

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def private(self) -> bool:
        """GitHub's `private` flag: true for private and for internal repositories."""
        return self.visibility != "public"

    def files(self, ref: str | None = None) -> dict[str, str] | None:
        sha = self.branches.get(ref or self.default_branch, ref)
        commit = self.commits.get(sha) if sha else None
        return None if commit is None else commit.files


# ----------------------------------------------------------------------------- renderers
class RenderMixin:
    """JSON shapes. Expects self.url, self.html_url, self.app_id, self.app_slug and state lookups."""

    url: str
    html_url: str

    # -- users, orgs, app
    def _r_user(self, login: str) -> dict:
        u = self._user(login)
        api = f"{self.url}/users/{quote(u.login)}"
        html = (f"{self.html_url}/apps/{u.login[:-5]}" if u.type == "Bot" and u.login.endswith("[bot]")
                else f"{self.html_url}/{u.login}")
        return {
            "login": u.login, "id": u.id, "node_id": u.node_id,
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4", "gravatar_id": "",
            "url": api, "html_url": html,
            "followers_url": f"{api}/followers", "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}", "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions", "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos", "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events", "type": u.type, "site_admin": u.site_admin,
        }

    def _r_org(self, login: str) -> dict:
        u = self._user(login)
        api = f"{self.url}/orgs/{quote(u.login)}"
        return {
            "login": u.login, "id": u.id, "node_id": u.node_id, "url": api, "repos_url": f"{api}/repos",
            "events_url": f"{api}/events", "hooks_url": f"{api}/hooks", "issues_url": f"{api}/issues",
            "members_url": f"{api}/members{{/member}}", "public_members_url": f"{api}/public_members{{/member}}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4", "description": None,
        }

    def _r_app(self, *, rest: bool = False) -> dict:
        app = {
            "id": self.app_id, "slug": self.app_slug, "node_id": node_id("A", "App", self.app_id),
            "owner": self._r_user(self.app_owner), "name": self.app_slug,
            "description": "Helps a Code of Conduct working group moderate GitHub threads",
            "external_url": "https://example.invalid/conduct-bot",
            "html_url": f"{self.html_url}/apps/{self.app_slug}",
            "created_at": iso(self._epoch), "updated_at": iso(self._epoch),
            "permissions": dict(DEFAULT_APP_PERMISSIONS), "events": list(DEFAULT_APP_EVENTS),
        }
        if rest:
            app["client_id"] = f"Iv1.{self.app_id:016x}"
            app["installations_count"] = len(self._st.installations)
        return app

    def _r_installation(self, inst: Installation) -> dict:
        account = self._user(inst.account)
        settings = (f"{self.html_url}/organizations/{account.login}/settings/installations/{inst.id}"
                    if inst.account_type == "Organization" else f"{self.html_url}/settings/installations/{inst.id}")
        return {
            "id": inst.id, "account": self._r_user(inst.account),
            "repository_selection": "all" if inst.selection == "all" else "selected",
            "access_tokens_url": f"{self.url}/app/installations/{inst.id}/access_tokens",
            "repositories_url": f"{self.url}/installation/repositories", "html_url": settings,
            "app_id": self.app_id, "app_slug": self.app_slug, "target_id": account.id,
            "target_type": inst.account_type, "permissions": dict(inst.permissions), "events": list(inst.events),
            "created_at": iso(inst.created_at), "updated_at": iso(inst.created_at),
            "single_file_name": None, "has_multiple_single_files": False, "single_file_paths": [],
            "suspended_by": self._r_user(self.app_owner) if inst.suspended_at else None,
            "suspended_at": iso(inst.suspended_at) if inst.suspended_at else None,
        }

    # -- repositories
    def _r_repo(self, repo: Repo, *, full: bool = False) -> dict:
        api = f"{self.url}/repos/{repo.full_name}"
        html = f"{self.html_url}/{repo.full_name}"
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        r = {
            "id": repo.id, "node_id": repo.node_id, "name": repo.name, "full_name": repo.full_name,
            "private": repo.private, "owner": self._r_user(repo.owner), "html_url": html,
            "description": repo.description, "fork": False, "url": api,
            "forks_url": f"{api}/forks", "keys_url": f"{api}/keys{{/key_id}}",
            "collaborators_url": f"{api}/collaborators{{/collaborator}}", "teams_url": f"{api}/teams",
            "hooks_url": f"{api}/hooks", "issue_events_url": f"{api}/issues/events{{/number}}",
            "events_url": f"{api}/events", "assignees_url": f"{api}/assignees{{/user}}",
            "branches_url": f"{api}/branches{{/branch}}", "tags_url": f"{api}/tags",
            "blobs_url": f"{api}/git/blobs{{/sha}}", "git_tags_url": f"{api}/git/tags{{/sha}}",
            "git_refs_url": f"{api}/git/refs{{/sha}}", "trees_url": f"{api}/git/trees{{/sha}}",
            "statuses_url": f"{api}/statuses/{{sha}}", "languages_url": f"{api}/languages",
            "stargazers_url": f"{api}/stargazers", "contributors_url": f"{api}/contributors",
            "subscribers_url": f"{api}/subscribers", "subscription_url": f"{api}/subscription",
            "commits_url": f"{api}/commits{{/sha}}", "git_commits_url": f"{api}/git/commits{{/sha}}",
            "comments_url": f"{api}/comments{{/number}}", "issue_comment_url": f"{api}/issues/comments{{/number}}",
            "contents_url": f"{api}/contents/{{+path}}", "compare_url": f"{api}/compare/{{base}}...{{head}}",
            "merges_url": f"{api}/merges", "archive_url": f"{api}/{{archive_format}}{{/ref}}",
            "downloads_url": f"{api}/downloads", "issues_url": f"{api}/issues{{/number}}",
            "pulls_url": f"{api}/pulls{{/number}}", "milestones_url": f"{api}/milestones{{/number}}",
            "notifications_url": f"{api}/notifications{{?since,all,participating}}",
            "labels_url": f"{api}/labels{{/name}}", "releases_url": f"{api}/releases{{/id}}",
            "deployments_url": f"{api}/deployments",
            "created_at": iso(repo.created_at), "updated_at": iso(repo.updated_at), "pushed_at": iso(repo.pushed_at),
            "git_url": f"git://github.com/{repo.full_name}.git", "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{html}.git", "svn_url": html, "homepage": repo.homepage, "size": 0,
            "stargazers_count": 0, "watchers_count": 0, "language": None,
            "has_issues": True, "has_projects": True, "has_downloads": True, "has_wiki": True,
            "has_pages": False, "has_discussions": False, "forks_count": 0, "mirror_url": None,
            "archived": repo.archived, "disabled": False, "open_issues_count": open_issues, "license": None,
            "allow_forking": True, "is_template": False, "web_commit_signoff_required": False, "topics": [],
            "visibility": repo.visibility, "forks": 0, "open_issues": open_issues,
            "watchers": 0, "default_branch": repo.default_branch, "custom_properties": {},
        }
        if full:
            r["network_count"] = 0
            r["subscribers_count"] = 0
            if self._user(repo.owner).type == "Organization":
                r["organization"] = self._r_user(repo.owner)
        return r

    # -- labels, reactions
    def _r_label(self, repo: Repo, name: str) -> dict:
        label = repo.labels[name.lower()]
        return {"id": label.id, "node_id": label.node_id,
                "url": f"{self.url}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
                "name": label.name, "color": label.color, "default": label.default, "description": label.description}

    def _r_reaction_rollup(self, reactions: list[Reaction], api_url: str) -> dict:
        rollup = {"url": f"{api_url}/reactions", "total_count": len(reactions)}
        for content in REACTION_CONTENTS:
            rollup[content] = sum(1 for r in reactions if r.content == content)
        return rollup

    def _r_reaction(self, reaction: Reaction) -> dict:
        return {"id": reaction.id, "node_id": reaction.node_id, "user": self._r_user(reaction.user),
                "content": reaction.content, "created_at": iso(reaction.created_at)}

    # -- issues and pull requests
    def _issue_html(self, issue: Issue) -> str:
        kind = "pull" if issue.is_pr else "issues"
        return f"{self.html_url}/{self._st.repos[issue.repo].full_name}/{kind}/{issue.number}"

    def _r_issue(self, issue: Issue, *, webhook: bool = False) -> dict:
        repo = self._st.repos[issue.repo]
        api = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"
        comments = [c for c in self._st.comments.values()
                    if c.kind == "issue" and c.repo == issue.repo and c.number == issue.number and not c.deleted]
        r = {
            "url": api, "repository_url": f"{self.url}/repos/{repo.full_name}",
            "labels_url": f"{api}/labels{{/name}}", "comments_url": f"{api}/comments",
            "events_url": f"{api}/events", "html_url": self._issue_html(issue), "id": issue.id,
            "node_id": issue.node_id, "number": issue.number, "title": issue.title, "user": self._r_user(issue.user),
            "labels": [self._r_label(repo, name) for name in issue.labels], "state": issue.state,
            "locked": issue.locked, "assignee": self._r_user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self._r_user(a) for a in issue.assignees], "milestone": None, "comments": len(comments),
            "created_at": iso(issue.created_at), "updated_at": iso(issue.updated_at),
            "closed_at": iso(issue.closed_at) if issue.closed_at else None,
            "author_association": self._association(repo, issue.user, issue.author_association),
            "active_lock_reason": issue.active_lock_reason, "body": issue.body,
            "reactions": self._r_reaction_rollup(issue.reactions, api), "timeline_url": f"{api}/timeline",
            "performed_via_github_app": self._r_app() if issue.via_app else None, "state_reason": issue.state_reason,
        }
        if issue.is_pr:
            pulls = f"{self.url}/repos/{repo.full_name}/pulls/{issue.number}"
            r["draft"] = issue.draft
            r["pull_request"] = {"url": pulls, "html_url": r["html_url"], "diff_url": r["html_url"] + ".diff",
                                 "patch_url": r["html_url"] + ".patch", "merged_at": None}
        if not webhook:
            r["closed_by"] = self._r_user(issue.closed_by) if issue.closed_by else None
        return r

    def _r_pull(self, issue: Issue, *, full: bool = True) -> dict:
        """The pull request object: full=True for REST and pull_request events, False for review-comment events."""
        repo = self._st.repos[issue.repo]
        api = f"{self.url}/repos/{repo.full_name}/pulls/{issue.number}"
        issue_api = f"{self.url}/repos/{repo.full_name}/issues/{issue.number}"
        html = self._issue_html(issue)
        owner = self._r_user(repo.owner)
        repo_json = self._r_repo(repo)
        review_count = sum(1 for c in self._st.comments.values()
                           if c.kind == "review" and c.repo == issue.repo and c.number == issue.number
                           and not c.deleted)
        comment_count = sum(1 for c in self._st.comments.values()
                            if c.kind == "issue" and c.repo == issue.repo and c.number == issue.number
                            and not c.deleted)
        r = {
            "url": api, "id": issue.pr_id, "node_id": issue.pr_node_id, "html_url": html,
            "diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue_api,
            "number": issue.number, "state": issue.state, "locked": issue.locked, "title": issue.title,
            "user": self._r_user(issue.user), "body": issue.body, "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at), "closed_at": iso(issue.closed_at) if issue.closed_at else None,
            "merged_at": None, "merge_commit_sha": None,
            "assignee": self._r_user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self._r_user(a) for a in issue.assignees], "requested_reviewers": [], "requested_teams": [],
            "labels": [self._r_label(repo, name) for name in issue.labels], "milestone": None, "draft": issue.draft,
            "commits_url": f"{api}/commits", "review_comments_url": f"{api}/comments",
            "review_comment_url": f"{self.url}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "comments_url": f"{issue_api}/comments",
            "statuses_url": f"{self.url}/repos/{repo.full_name}/statuses/{issue.head_sha}",
            "head": {"label": f"{repo.owner}:{issue.head_ref}", "ref": issue.head_ref, "sha": issue.head_sha,
                     "user": owner, "repo": repo_json},
            "base": {"label": f"{repo.owner}:{repo.default_branch}", "ref": repo.default_branch,
                     "sha": issue.base_sha, "user": owner, "repo": repo_json},
            "_links": {
                "self": {"href": api}, "html": {"href": html}, "issue": {"href": issue_api},
                "comments": {"href": f"{issue_api}/comments"}, "review_comments": {"href": f"{api}/comments"},
                "review_comment": {"href": f"{self.url}/repos/{repo.full_name}/pulls/comments{{/number}}"},
                "commits": {"href": f"{api}/commits"},
                "statuses": {"href": f"{self.url}/repos/{repo.full_name}/statuses/{issue.head_sha}"},
            },
            "author_association": self._association(repo, issue.user, issue.author_association),
            "auto_merge": None, "active_lock_reason": issue.active_lock_reason,
        }
        if full:
            r.update({"merged": False, "mergeable": True, "rebaseable": True, "mergeable_state": "clean",
                      "merged_by": None, "comments": comment_count, "review_comments": review_count,
                      "maintainer_can_modify": False, "commits": 1, "additions": 1, "deletions": 0,
                      "changed_files": 1})
        return r

    # -- comments
    def _r_comment(self, c: Comment, *, webhook: bool = False) -> dict:
        repo = self._st.repos[c.repo]
        issue = repo.issues[c.number]
        if c.kind == "review":
            return self._r_review_comment(c, repo, issue)
        api = f"{self.url}/repos/{repo.full_name}/issues/comments/{c.id}"
        r = {
            "url": api, "html_url": f"{self._issue_html(issue)}#issuecomment-{c.id}",
            "issue_url": f"{self.url}/repos/{repo.full_name}/issues/{c.number}", "id": c.id, "node_id": c.node_id,
            "user": self._r_user(c.user), "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
            "author_association": self._association(repo, c.user, c.author_association),
            "body": c.body, "reactions": self._r_reaction_rollup(c.reactions, api),
            "performed_via_github_app": self._r_app() if c.via_app else None,
        }
        if not webhook:
            r["minimized"] = {"reason": c.minimized_reason} if c.minimized else None
        return r

    def _r_review_comment(self, c: Comment, repo: Repo, issue: Issue) -> dict:
        api = f"{self.url}/repos/{repo.full_name}/pulls/comments/{c.id}"
        html = f"{self._issue_html(issue)}#discussion_r{c.id}"
        pr_api = f"{self.url}/repos/{repo.full_name}/pulls/{c.number}"
        r = {
            "url": api, "pull_request_review_id": c.review_id, "id": c.id, "node_id": c.node_id,
            "diff_hunk": f"@@ -1,1 +1,{c.line} @@\n+changed line", "path": c.path, "position": c.line,
            "original_position": c.line, "commit_id": c.commit_id, "original_commit_id": c.commit_id,
            "user": self._r_user(c.user), "body": c.body, "created_at": iso(c.created_at),
            "updated_at": iso(c.updated_at), "html_url": html, "pull_request_url": pr_api,
            "author_association": self._association(repo, c.user, c.author_association),
            "_links": {"self": {"href": api}, "html": {"href": html}, "pull_request": {"href": pr_api}},
            "reactions": self._r_reaction_rollup(c.reactions, api), "start_line": None, "original_start_line": None,
            "start_side": None, "line": c.line, "original_line": c.line, "side": "RIGHT", "subject_type": "line",
        }
        if c.in_reply_to_id:
            r["in_reply_to_id"] = c.in_reply_to_id
        return r

    def _r_event(self, repo: Repo, ev: IssueEvent) -> dict:
        r = {"id": ev.id, "node_id": ev.node_id, "url": f"{self.url}/repos/{repo.full_name}/issues/events/{ev.id}",
             "actor": self._r_user(ev.actor), "event": ev.event, "commit_id": None, "commit_url": None,
             "created_at": iso(ev.created_at), "performed_via_github_app": self._r_app() if ev.via_app else None}
        r.update(ev.extra)
        return r
