"""Incident text, pure: the evidence snapshot, accounts, history, summaries and issue bodies.

Nothing here reads the store or GitHub; `tracker` passes in what it needs.
"""
from __future__ import annotations

from ..text import bundled_template, code_span, marker, neutralise, quote_block, render
from ..threads import Thread

EVIDENCE_BUDGET = 45_000   # characters of evidence in one issue or comment (GitHub's limit is 65,536)

COMMENT_BUDGET = 6_000     # characters quoted from one comment

STATEMENT_BUDGET = 30_000  # characters of a reporter's statement: it is deleted in public, so keep it whole

def _evidence_budget(p: dict) -> int:
    """A long statement leaves less room for the evidence (the thread still has it)."""
    return max(15_000, EVIDENCE_BUDGET - len(p.get("reason") or ""))

def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[… {len(text) - limit} more characters not copied]"

def render_evidence(evidence: list[dict], budget: int = EVIDENCE_BUDGET) -> str:
    """The snapshot as Markdown, newest comments kept first when it would not fit in one GitHub body."""
    if not evidence:
        return "_No comments were captured._"
    parts: list[str] = []
    used = 0
    for c in reversed(evidence):
        author = code_span(c.get("author") or "unknown")
        when = c.get("created_at") or "unknown time"
        link = c.get("html_url") or ""
        head = f"- {author} at {when}" + (f" — [permalink]({link})" if link else "")
        if c.get("note"):
            head += f" ({neutralise(c['note'])})"
        part = head + "\n\n" + quote_block(_clip(c.get("body") or "", COMMENT_BUDGET), indent="  ")
        if used + len(part) > budget and parts:
            parts.append(f"- [{len(evidence) - len(parts)} earlier comment(s) not copied: too long for one issue; "
                         "see the thread]")
            break
        parts.append(part)
        used += len(part)
    return "\n\n".join(reversed(parts))

def render_accounts(accounts: list[str]) -> str:
    return ", ".join(code_span(a) for a in accounts) if accounts else "_none recorded_"


def render_history(rows: list[tuple[str, dict, set]]) -> str:
    """Earlier incidents that involved the same accounts (index.related), the latest 20."""
    if not rows:
        return "_none_"
    lines = []
    for created, rec, shared in rows[-20:]:
        outcome = rec.get("outcome") or ("open" if rec.get("state", "open") == "open" else "closed")
        lines.append(f"- [Incident {rec['code']}]({rec.get('html_url', '')}) — {created[:10]} — outcome: {outcome}"
                     f" — shared: {', '.join(code_span(a) for a in sorted(shared))}")
    return "\n".join(lines)


def accounts_of(evidence: list[dict], reporter: str | None, extra=()) -> list[str]:
    seen: dict[str, None] = {}
    for login in [*(c.get("author") for c in evidence), *extra]:
        if login and (reporter is None or login.lower() != reporter.lower()) and not login.endswith("[bot]"):
            seen.setdefault(login, None)
    return list(seen)

def summary_of(p: dict) -> str:
    kind = p["kind"]
    if kind == "report":
        reason = p.get("reason") or ""
        return (f"Report by {code_span(p.get('reporter') or 'unknown')}." +
                ("\n\nReason:\n\n" + quote_block(_clip(reason, STATEMENT_BUDGET)) if reason else ""))
    if kind == "heated":
        return "The heat estimate crossed the threshold.\n\n" + (p.get("reason") or "")
    return (f"{code_span(p.get('actor') or 'unknown')} ran {code_span(p.get('command') or '')}: "
            f"{p.get('result') or 'done'}.")


def incident_body(p: dict, thread: Thread, accounts: list[str], history: str) -> str:
    """The body of a new incident issue (before its effect marker)."""
    kind = p["kind"]
    body = render(
        bundled_template("incident"),
        marker=marker("incident", thread.key.replace(" ", "")),
        thread_url=thread.html_url,
        repository=thread.full_name,
        kind=kind,
        reporter=code_span(p["reporter"]) if p.get("reporter") else "—",
        reason=(quote_block(_clip(p["reason"], STATEMENT_BUDGET)) if p.get("reason") and kind != "action" else
                (summary_of(p) if kind == "action" else "_none given_")),
        accounts=render_accounts(accounts),
        history=history,
        evidence=render_evidence(p.get("evidence") or [], _evidence_budget(p)),
    )
    if p.get("action_name"):
        body += "\n" + marker("action", p["action_name"])
    return body


def update_body(p: dict) -> str:
    """A later event of an open incident, as a comment on it."""
    evidence = p.get("evidence") or []
    if p["kind"] == "action" and not evidence:
        body = render(bundled_template("action_record"), marker="", actor=code_span(p.get("actor") or "unknown"),
                      command=code_span(p.get("command") or ""), result=neutralise(p.get("result") or "done"))
    else:
        body = render(bundled_template("incident_update"), marker="", kind=p["kind"], summary=summary_of(p),
                      evidence=render_evidence(evidence, _evidence_budget(p)))
    if p.get("action_name"):
        body += "\n" + marker("action", p["action_name"])
    return body
