"""What a handler needs to know about a thread and a comment, read from webhook payloads."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thread:
    installation_id: int
    owner: str
    repo: str
    number: int
    is_pr: bool
    html_url: str
    issue_url: str      # REST URL of the issue (PRs are issues too)
    comments_url: str   # REST URL for the conversation's comments
    private: bool = False
    locked: bool = False
    author: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def key(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}".lower()

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> Thread:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Comment:
    id: int
    node_id: str
    kind: str           # "issue_comment" | "review_comment"
    url: str            # REST URL of the comment
    html_url: str
    author: str
    author_type: str    # "User" | "Bot" | "Organization"
    author_association: str | None
    body: str
    created_at: str | None
    reactions: dict | None = None

    @property
    def reactions_url(self) -> str:
        return self.url + "/reactions"


def _owner_repo(repository: dict) -> tuple[str, str]:
    return repository["owner"]["login"], repository["name"]


def thread_from_event(event) -> Thread | None:
    data = event.data
    repository = data.get("repository")
    installation = data.get("installation") or {}
    if not repository or "id" not in installation:
        return None
    owner, repo = _owner_repo(repository)
    private = bool(repository.get("private"))
    if "issue" in data:
        issue = data["issue"]
        return Thread(installation["id"], owner, repo, issue["number"],
                      "pull_request" in issue and issue["pull_request"] is not None,
                      issue["html_url"], issue["url"], issue["comments_url"], private, bool(issue.get("locked")),
                      (issue.get("user") or {}).get("login"))
    if "pull_request" in data:
        pr = data["pull_request"]
        issue_url = pr.get("issue_url") or pr["url"].replace("/pulls/", "/issues/")
        comments_url = ((pr.get("_links") or {}).get("comments") or {}).get("href") or issue_url + "/comments"
        return Thread(installation["id"], owner, repo, pr["number"], True, pr["html_url"], issue_url, comments_url,
                      private, bool(pr.get("locked")), (pr.get("user") or {}).get("login"))
    return None


def comment_from_event(event) -> Comment | None:
    c = event.data.get("comment")
    if not c:
        return None
    kind = "review_comment" if event.event == "pull_request_review_comment" else "issue_comment"
    user = c.get("user") or {}
    return Comment(c["id"], c.get("node_id", ""), kind, c["url"], c.get("html_url", ""), user.get("login", ""),
                   user.get("type", "User"), c.get("author_association"), c.get("body") or "", c.get("created_at"),
                   c.get("reactions"))


def is_bot(login: str | None, user_type: str | None) -> bool:
    """Comments by the App itself and other bots are never commands and never count toward heat."""
    return user_type == "Bot" or (login or "").endswith("[bot]")
