"""Webhook payloads for the fake GitHub, built from its state.

Every builder returns (event name, payload). The objects come from the fake's own renderers, so ids,
node ids and URLs agree with what its REST API serves; the official example payloads in
reference/webhooks (GitHub's published examples) give the key order and the fixed parts (ping's hook, zen).
Without them the builders produce the same content, which still passes validate_webhook.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

from .model import DEFAULT_APP_EVENTS, REPOSITORY_ACTIONS, ZERO_SHA, iso


def installation_node_id(installation_id: int) -> str:
    return base64.b64encode(f"023:IntegrationInstallation{installation_id}".encode()).decode()


def _ordered(template: dict | None, data: dict) -> dict:
    """data's items, in the template's key order first (keys the template lacks go last)."""
    if not isinstance(template, dict):
        return data
    out = {k: data[k] for k in template if k in data}
    out.update((k, v) for k, v in data.items() if k not in out)
    return out


class EventsMixin:
    """Webhook payload builders (mixed into FakeGitHub)."""

    def _example(self, event: str, action: str | None, *, org: bool = False) -> dict | None:
        """The first official example payload for event/action (the .with-organization one when asked)."""
        if self._examples_dir is None:
            return None
        names = []
        if action is None:
            names = ["with-app_id.payload.json", "payload.json"]
        else:
            if org:
                names.append(f"{action}.with-organization.payload.json")
            names += [f"{action}.payload.json", f"{action}.with-installation.payload.json"]
        for name in names:
            key = f"{event}/{name}"
            if key not in self._example_cache:
                path = self._examples_dir / event / name
                try:
                    self._example_cache[key] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
                except (OSError, ValueError):
                    self._example_cache[key] = None
            if self._example_cache[key] is not None:
                return self._example_cache[key]
        return None

    def _envelope(self, repo, sender: str) -> dict:
        owner = self._user(repo.owner)
        env: dict[str, Any] = {"repository": self._r_repo(repo)}
        if owner.type == "Organization":
            env["organization"] = self._r_org(owner.login)
        env["sender"] = self._r_user(sender)
        inst = self._installation_for_repo(repo)
        if inst is not None:
            env["installation"] = {"id": inst.id, "node_id": installation_node_id(inst.id)}
        return env

    def _shape(self, event: str, action: str | None, repo, payload: dict) -> dict:
        org = repo is not None and self._user(repo.owner).type == "Organization"
        template = self._example(event, action, org=org)
        shaped = _ordered(template, payload)
        for key in ("issue", "comment", "pull_request", "repository", "sender", "installation"):
            if template and isinstance(template.get(key), dict) and isinstance(shaped.get(key), dict):
                shaped[key] = _ordered(template[key], shaped[key])
        return shaped

    def _comment_record(self, comment: Any, kind: str):
        cid = comment["id"] if isinstance(comment, dict) else int(comment)
        c = self._st.comments.get(cid)
        if c is None or c.kind != kind:
            raise KeyError(f"no {kind} comment with id {cid}")
        return c

    def _last_actor(self, issue, event: str, default: str) -> str:
        for ev in reversed(issue.events):
            if ev.event == event:
                return ev.actor
        return default

    def _lock_snapshot(self, issue, action: str, obj: dict) -> None:
        """A locked/unlocked payload shows the thread as that action left it (even if it changed since):
        locked with the reason of the latest lock, or unlocked without a reason."""
        if action == "locked":
            reason = issue.active_lock_reason if issue.locked else None
            if not issue.locked:
                last = [ev for ev in issue.events if ev.event == "locked"]
                reason = last[-1].extra.get("lock_reason") if last else None
            obj["locked"], obj["active_lock_reason"] = True, reason
        elif action == "unlocked":
            obj["locked"], obj["active_lock_reason"] = False, None

    # ------------------------------------------------------------------ builders
    def event_issue_comment(self, action: str, full_name: str, number: int, comment: Any, *,
                            changes: dict | None = None, sender: str | None = None) -> tuple[str, dict]:
        """("issue_comment", payload) for created / edited / deleted; `comment` is a comment dict or id."""
        with self._lock:
            repo = self._repo(full_name)
            issue = repo.issues[number]
            c = self._comment_record(comment, "issue")
            payload: dict[str, Any] = {"action": action}
            if action == "edited":
                if changes is None:
                    changes = {"body": {"from": c.previous_bodies[-1]}} if c.previous_bodies else {}
                payload["changes"] = changes
            elif changes is not None:
                payload["changes"] = changes
            payload["issue"] = self._r_issue(issue, webhook=True)
            payload["comment"] = self._r_comment(c, webhook=True)
            payload.update(self._envelope(repo, sender or c.user))
            return "issue_comment", self._shape("issue_comment", action, repo, payload)

    def event_review_comment(self, action: str, full_name: str, pr_number: int, comment: Any, *,
                             changes: dict | None = None, sender: str | None = None) -> tuple[str, dict]:
        """("pull_request_review_comment", payload) for created / edited / deleted."""
        with self._lock:
            repo = self._repo(full_name)
            issue = repo.issues[pr_number]
            c = self._comment_record(comment, "review")
            payload: dict[str, Any] = {"action": action}
            if action == "edited":
                if changes is None:
                    changes = {"body": {"from": c.previous_bodies[-1]}} if c.previous_bodies else {}
                payload["changes"] = changes
            payload["comment"] = self._r_comment(c, webhook=True)
            payload["pull_request"] = self._r_pull(issue, full=False)
            payload.update(self._envelope(repo, sender or c.user))
            return "pull_request_review_comment", self._shape("pull_request_review_comment", action, repo, payload)

    def event_issues(self, action: str, full_name: str, number: int, *, label: str | None = None,
                     changes: dict | None = None, sender: str | None = None) -> tuple[str, dict]:
        """("issues", payload) for opened, edited, closed, reopened, labeled, unlabeled, locked, unlocked, ..."""
        with self._lock:
            repo = self._repo(full_name)
            issue = repo.issues[number]
            payload: dict[str, Any] = {"action": action, "issue": self._r_issue(issue, webhook=True)}
            if action in ("labeled", "unlabeled"):
                if label is None:
                    last = [ev for ev in issue.events if ev.event == action]
                    label = last[-1].extra["label"]["name"] if last else (issue.labels[-1] if issue.labels else None)
                if label is not None:
                    self._ensure_label(repo, label)
                    payload["label"] = self._r_label(repo, label)
            if action == "edited" and changes is None:
                changes = {}
                if issue.previous_titles:
                    changes["title"] = {"from": issue.previous_titles[-1]}
                if issue.previous_bodies:
                    changes["body"] = {"from": issue.previous_bodies[-1] or ""}
            if changes is not None:
                payload["changes"] = changes
            self._lock_snapshot(issue, action, payload["issue"])
            default_sender = self._last_actor(issue, action, issue.user)
            payload.update(self._envelope(repo, sender or default_sender))
            return "issues", self._shape("issues", action, repo, payload)

    def event_pull_request(self, action: str, full_name: str, number: int, *,
                           sender: str | None = None) -> tuple[str, dict]:
        """("pull_request", payload) for opened, closed, reopened, locked, unlocked, ..."""
        with self._lock:
            repo = self._repo(full_name)
            issue = repo.issues[number]
            if not issue.is_pr:
                raise KeyError(f"#{number} in {full_name} is not a pull request")
            payload = {"action": action, "number": number, "pull_request": self._r_pull(issue, full=True)}
            self._lock_snapshot(issue, action, payload["pull_request"])
            payload.update(self._envelope(repo, sender or self._last_actor(issue, action, issue.user)))
            return "pull_request", self._shape("pull_request", action, repo, payload)

    def event_repository(self, action: str, full_name: str, *, changes: dict | None = None,
                         sender: str | None = None) -> tuple[str, dict]:
        """("repository", payload) for publicized, privatized, renamed, transferred, archived, unarchived,
        deleted, edited or created.

        Set the state first (set_repo(visibility=...), rename_repo, transfer_repo, delete_repo, ...) and name
        the repository as it is then (after a rename or a transfer: the new name; after delete_repo: the old
        one). The payload shows the repository as the action left it: publicized is public, privatized private
        (or internal), archived archived. `changes` defaults to what the fake recorded (the previous name or
        owner, the latest edit); `sender` to whoever did it (set_repo(user=...), ...), else an owner of the
        organisation."""
        if action not in REPOSITORY_ACTIONS:
            raise ValueError(f"repository action must be one of {REPOSITORY_ACTIONS}")
        with self._lock:
            key = full_name.lower()
            repo = self._st.repos.get(key) or self._st.deleted_repos.get(key)
            if repo is None:
                raise KeyError(f"FakeGitHub has no repository {full_name!r} (add_repo it first)")
            payload: dict[str, Any] = {"action": action}
            if changes is None:
                if action == "renamed":
                    if not repo.previous_names:
                        raise ValueError(f"{full_name} was never renamed (rename_repo it first)")
                    changes = {"repository": {"name": {"from": repo.previous_names[-1]}}}
                elif action == "transferred":
                    if not repo.previous_owners:
                        raise ValueError(f"{full_name} was never transferred (transfer_repo it first)")
                    changes = {"owner": {"from": {"user": self._r_user(repo.previous_owners[-1])}}}
                elif action == "edited":
                    changes = dict(repo.last_changes)
            if changes is not None:
                payload["changes"] = changes
            payload.update(self._envelope(repo, sender or repo.actors.get(action) or self._person_for(repo.owner)))
            rendered = payload["repository"]
            if action == "publicized":
                rendered["private"], rendered["visibility"] = False, "public"
            elif action == "privatized":
                rendered["private"] = True
                rendered["visibility"] = "internal" if repo.visibility == "internal" else "private"
            elif action in ("archived", "unarchived"):
                rendered["archived"] = action == "archived"
            return "repository", self._shape("repository", action, repo, payload)

    def event_push(self, full_name: str, *, modified=(".github/coc.yml",), added=(), removed=(),
                   ref: str | None = None, sender: str | None = None) -> tuple[str, dict]:
        """("push", payload): the latest commit of the branch (default branch unless ref) touching these paths."""
        with self._lock:
            repo = self._repo(full_name)
            branch = (ref or repo.default_branch).removeprefix("refs/heads/")
            after = repo.branches.get(branch, ZERO_SHA)
            commit = repo.commits.get(after)
            before = commit.parent if commit else ZERO_SHA
            if sender:
                pusher = self._user(sender).login
            elif self._user(repo.owner).type == "User":
                pusher = repo.owner
            else:
                pusher = self._default_installer(self._installation_for_repo(repo)) \
                    if self._installation_for_repo(repo) else self.app_owner
            html = f"{self.html_url}/{repo.full_name}"
            person = {"name": pusher, "email": f"{pusher}@users.noreply.github.com", "username": pusher}
            commit_json = {
                "id": after, "tree_id": commit.sha[::-1] if commit else ZERO_SHA, "distinct": True,
                "message": commit.message if commit else "Update configuration",
                "timestamp": iso(commit.created_at if commit else self._now()), "url": f"{html}/commit/{after}",
                "author": person, "committer": person,
                "added": list(added), "removed": list(removed), "modified": list(modified),
            }
            repository = self._r_repo(repo)
            repository["created_at"] = int(repo.created_at)
            repository["pushed_at"] = int(self._now())
            repository["stargazers"] = 0
            repository["master_branch"] = repo.default_branch
            if self._user(repo.owner).type == "Organization":
                repository["organization"] = repo.owner
            env = self._envelope(repo, pusher)
            env["repository"] = repository
            payload = {
                "ref": f"refs/heads/{branch}", "before": before, "after": after, "repository": repository,
                "pusher": {"name": pusher, "email": person["email"]},
                **{k: v for k, v in env.items() if k != "repository"},
                "created": before == ZERO_SHA, "deleted": False, "forced": False, "base_ref": None,
                "compare": f"{html}/compare/{before[:12]}...{after[:12]}",
                "commits": [commit_json], "head_commit": commit_json,
            }
            return "push", payload

    def event_ping(self) -> tuple[str, dict]:
        """("ping", payload) as sent to an App's webhook when it is registered."""
        with self._lock:
            template = self._example("ping", None) or {}
            hook_id = 100000 + self.app_id
            when = iso(self._epoch)
            hook = {
                "type": "App", "id": hook_id, "name": "web", "active": True, "app_id": self.app_id,
                "events": list(DEFAULT_APP_EVENTS),
                "config": {"content_type": "json", "url": "http://127.0.0.1/webhook", "insecure_ssl": "0"},
                "updated_at": when, "created_at": when, "url": f"{self.url}/app/hook/config",
                "ping_url": f"{self.url}/app/hook/pings", "deliveries_url": f"{self.url}/app/hook/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None},
            }
            payload = {"zen": template.get("zen", "Anything added dilutes everything else."), "hook_id": hook_id,
                       "hook": _ordered(template.get("hook"), hook), "sender": self._r_user(self.app_owner)}
            return "ping", _ordered(template, payload)

    def event_installation(self, action: str, installation_id: int, *,
                           sender: str | None = None) -> tuple[str, dict]:
        """("installation", payload) for created, deleted, suspend, unsuspend, new_permissions_accepted."""
        with self._lock:
            inst = self._st.installations[installation_id]
            rendered = self._r_installation(inst)
            if action == "suspend" and not rendered["suspended_at"]:
                rendered["suspended_at"] = iso(self._now())
                rendered["suspended_by"] = self._r_user(sender or self._default_installer(inst))
            elif action != "suspend":
                rendered["suspended_at"], rendered["suspended_by"] = None, None
            payload: dict[str, Any] = {"action": action, "installation": rendered}
            if action in ("created", "deleted", "new_permissions_accepted"):
                repos = sorted((r for r in self._st.repos.values() if self._installation_for_repo(r) is inst),
                               key=lambda r: r.id)
                payload["repositories"] = [{"id": r.id, "node_id": r.node_id, "name": r.name,
                                            "full_name": r.full_name, "private": r.private} for r in repos]
            payload["sender"] = self._r_user(sender or self._default_installer(inst))
            template = self._example("installation", action)
            shaped = _ordered(template, payload)
            if template and isinstance(template.get("installation"), dict):
                shaped["installation"] = _ordered(template["installation"], shaped["installation"])
            return "installation", shaped

    def _default_installer(self, inst) -> str:
        return self._person_for(inst.account)

    # ------------------------------------------------------------------ delivery helpers
    def webhook_request(self, event: str, payload: dict, secret: str, *,
                        delivery_id: str | None = None) -> tuple[dict[str, str], bytes]:
        """Headers and body GitHub would POST to the App's webhook URL for this payload (signed with secret).

        The delivery is also recorded for GET /app/hook/deliveries.
        """
        body = json.dumps(payload).encode()
        delivery_id = delivery_id or str(uuid.uuid4())
        signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery_id,
            "X-GitHub-Hook-ID": str(100000 + self.app_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
            "X-Hub-Signature-256": f"sha256={signature}",
            "X-Hub-Signature": "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest(),
        }
        self.record_delivery(event, payload, guid=delivery_id)
        return headers, body

    def record_delivery(self, event: str, payload: dict, *, guid: str | None = None, status_code: int = 202,
                        redelivery: bool = False) -> dict:
        """Add a delivery to the App's delivery log (GET /app/hook/deliveries)."""
        with self._lock:
            delivery = {
                "id": self._next_id(), "guid": guid or str(uuid.uuid4()), "delivered_at": iso(self._now()),
                "redelivery": redelivery, "duration": 0.01,
                "status": "OK" if status_code < 400 else "Invalid HTTP Response: %d" % status_code,
                "status_code": status_code, "event": event, "action": payload.get("action"),
                "installation_id": (payload.get("installation") or {}).get("id"),
                "repository_id": (payload.get("repository") or {}).get("id"),
                "throttled_at": None,
                "request": {"headers": {"X-GitHub-Event": event}, "payload": payload},
                "response": {"headers": {}, "payload": None},
            }
            self._st.deliveries.append(delivery)
            return dict(delivery)
