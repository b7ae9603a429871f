"""`/coc-hide COMMENT_URL [classifier]`: minimise a comment through GraphQL, keeping its text as evidence."""
from __future__ import annotations

import gidgethub

from .base import CommandCtx, CommandFailed, Outcome

MINIMIZE = """mutation($id: ID!, $classifier: ReportedContentClassifiers!) {
  minimizeComment(input: {subjectId: $id, classifier: $classifier}) { minimizedComment { isMinimized minimizedReason } }
}"""


async def run(ctx: CommandCtx, cmd) -> Outcome:
    a = cmd.args
    if (a["owner"].lower(), a["repo"].lower()) != (ctx.thread.owner.lower(), ctx.thread.repo.lower()):
        raise CommandFailed(f"Only comments in {ctx.thread.full_name} can be hidden from here.")
    path = ("/repos/{owner}/{repo}/pulls/comments/{id}" if a["kind"] == "review_comment"
            else "/repos/{owner}/{repo}/issues/comments/{id}")
    try:
        comment = await ctx.gh.getitem(path, {"owner": ctx.thread.owner, "repo": ctx.thread.repo,
                                              "id": a["comment_id"]})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            raise CommandFailed("That comment does not exist (or was deleted).") from None
        raise
    try:
        await ctx.gh.gql(MINIMIZE, id=comment["node_id"], classifier=a["classifier"])
    except gidgethub.GraphQLException as exc:
        raise CommandFailed(f"GitHub refused to hide the comment ({exc}).") from None
    author = (comment.get("user") or {}).get("login")
    evidence = [{"author": author, "created_at": comment.get("created_at"), "html_url": comment.get("html_url"),
                 "body": comment.get("body") or "", "note": f"hidden as {a['classifier'].lower().replace('_', '-')}"}]
    return Outcome(f"hid a comment as {a['classifier'].lower().replace('_', '-')}", evidence=evidence,
                   accounts=[author] if author else [])
