"""File an invalid configuration once per version as a `coc:config` issue in the tracking repository."""
from __future__ import annotations

import time

from app import incidents
from app.effects import once, tagged
from app.text import bundled_template, code_span, quote_block, render


async def report_invalid_config(rt, owner, repo, path, sha, error, installation_id) -> None:
    tracking = rt.settings.tracking_repo
    if not tracking:
        return
    key = f"{owner}/{repo}:{path}:{sha}".lower()
    if not await rt.store.put_if_absent("config-error", key, True):
        return
    await rt.store.enqueue("config_error", {"repository": f"{owner}/{repo}", "path": path, "sha": sha,
                                            "error": error, "tracking": tracking, "key": key,
                                            "queued_at": time.time()}, key=f"config-error:{key}")
    rt.worker.wake()


async def run_config_error_job(job, rt) -> None:
    p = job.payload
    tracking = p["tracking"]
    owner, repo = tracking.split("/", 1)
    gh = await incidents.tracking_client(rt, tracking)
    await incidents.ensure_private(rt, gh, tracking, p["queued_at"] + incidents.KEEP_TRYING)
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
