"""File an invalid configuration once per version as a `coc:config` issue in the tracking repository."""
from __future__ import annotations

import hashlib
import time

from app import incidents
from app.config import ORG_REPO
from app.effects import once, tagged
from app.text import bundled_template, code_span, quote_block, render


async def report_invalid_config(rt, owner, repo, path, sha, error, installation_id) -> None:
    """File the error in the tracking repository configured for the repository's organisation (its
    `.github` file's `tracking_repo`, else COC_TRACKING_REPO), once per version of the file and error."""
    key = f"{owner}/{repo}:{path}:{sha}:{hashlib.sha256(error.encode()).hexdigest()[:12]}".lower()
    if await rt.store.get("config-error", key):
        return
    org_level = {}
    if repo != ORG_REPO and installation_id is not None:
        gh = await rt.clients.installation(installation_id)
        org_level = await rt.config.org_level(gh, owner, installation_id, notify=False)
    tracking = await incidents.tracking_repo(rt, org_level, owner)
    if not tracking:
        return
    if not await rt.store.put_if_absent("config-error", key, True):
        return
    now = time.time()
    await rt.enqueue("config_error", {"repository": f"{owner}/{repo}", "path": path, "sha": sha, "error": error,
                                      "tracking": tracking, "key": key, "queued_at": now,
                                      "keep_until": now + incidents.KEEP_TRYING},
                     key=f"config-error:{key}")


async def run_config_error_job(job, rt) -> None:
    p = job.payload
    tracking = p["tracking"]
    owner, repo = tracking.split("/", 1)
    gh = await incidents.tracking_client(rt, tracking, until=p["queued_at"] + incidents.KEEP_TRYING)
    await incidents.ensure_labels(rt, gh, tracking, ["coc:config"])
    body = render(bundled_template("config_error"), marker="", repository=p["repository"], path=code_span(p["path"]),
                  sha=code_span((p.get("sha") or "")[:12]), error=quote_block(p["error"]))
    effect = f"config-error:{p['key']}"

    async def create():
        made = await gh.post("/repos/{owner}/{repo}/issues", {"owner": owner, "repo": repo},
                             data={"title": f"Invalid conduct-bot configuration in {p['repository']}",
                                   "body": tagged(body, "config-error", effect), "labels": ["coc:config"]})
        return made.get("number")

    await once(rt.store, effect, create)
