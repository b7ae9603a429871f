"""Incidents in the private tracking repository.

- `index`: the one owner of incident records in the store (and of the registry of tracking repositories);
- `render`: the text of incidents, pure;
- `tracker`: GitHub I/O — the guarded writer, privacy, the incident and nudge jobs.
"""
from __future__ import annotations

from .index import (
                    NS_INCIDENT,
                    NS_THREAD,
                    add_accounts,
                    adopt,
                    close_in_index,
                    index_get,
                    is_tracking_repo,
                    remember_tracking,
                    reopen_in_index,
)
from .tracker import (
                    KEEP_TRYING,
                    NotPrivate,
                    PrivateWriter,
                    enqueue,
                    ensure_labels,
                    ensure_private,
                    is_private,
                    is_public,
                    run_incident_job,
                    run_nudge_job,
                    tracking_client,
                    tracking_repo,
                    visibility_changed,
)

__all__ = ["KEEP_TRYING", "NS_INCIDENT", "NS_THREAD", "NotPrivate", "PrivateWriter", "add_accounts", "adopt",
           "close_in_index", "enqueue", "ensure_labels", "ensure_private", "index_get", "is_private", "is_public",
           "is_tracking_repo", "remember_tracking", "reopen_in_index", "run_incident_job", "run_nudge_job",
           "tracking_client", "tracking_repo", "visibility_changed"]
