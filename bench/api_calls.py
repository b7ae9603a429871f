"""GitHub API calls per delivery: the real server against the fake GitHub, replaying a realistic mix.

    .venv/bin/python bench/api_calls.py [--seed N] [--threads 40] [--comments 400]

Two phases, one FakeGitHub:

1. Cold: for each command kind, a fresh world (the conftest's: `psf/black` with ada/mia/wes/tia/rey at
   admin/maintain/write/triage/read, the private tracking repo `psf-coc/incidents` in its own installation)
   and a fresh bot with an empty database: nothing cached (no token, configuration, permission, label,
   privacy confirmation or installation look-up).
2. Mix: one fresh world and one bot. A short warm-up runs each command kind once (first of its kind in
   this world); then 40 threads (issues and pull requests, some with a long history) receive ~400 ordinary
   comments from many people (calm, a few mildly heated, some as PR review comments, some quoting a
   command in code) interleaved with every command again, on other threads, within every cache's
   lifetime: these are the warm figures.

After every signed delivery the bot's queue is drained (the incident job a command queues included, since
recording is part of the command's effect) and the requests the fake received meanwhile are attributed to
the delivery's category. "calls" counts every API request except creating installation tokens (counted
apart, column "tok"); GraphQL requests are counted in "calls" and shown in "gql". For /coc-report, "pages"
is the number of comment pages read for evidence. Exits 0 whatever the figures (it is a benchmark).
"""
from __future__ import annotations

import argparse
import collections
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.fakegithub import FakeGitHub  # noqa: E402
from tests.harness import REPO, TRACKING, BotThread, bot_env, populate_world, wait_until  # noqa: E402  # noqa: E402,F401  (the world's names)

COMMENTERS = [f"user{i:02d}" for i in range(1, 31)] + ["ada", "mia", "wes", "tia", "rey"]

CALM = [
    "Thanks for the report! I can reproduce this on 23.1 with Python 3.11.",
    "Could you share the exact command line you used? I could not reproduce it here.",
    "+1, we hit the same thing in our CI yesterday.",
    "I think this is a duplicate of an older issue, but the traceback looks different.",
    "Here is a minimal example:\n\n```python\nx = [\n    1,\n]\n```\n\nFormatting it twice changes the output.",
    "Good catch. The magic trailing comma should be respected there, as far as I understand the docs.",
    "I'd be happy to open a PR for this if nobody else is working on it.",
    "LGTM, thanks for picking this up.",
    "Small nit: the changelog entry should go under the Preview style section.",
    "Confirmed on main as well. It seems to come from the line splitting logic.",
    "Would it make sense to add a test for the nested case too?",
    "Sorry for the delay, I was travelling. I'll rebase this week.",
    "The docs say this is intended, see the section on string processing.",
    "I tried the branch and it fixes my case. Thanks a lot!",
    "Is there a workaround until the next release? Pinning the version works for now.",
    "We discussed this at the last sync; the consensus was to keep the current behaviour.",
    "CI is green now, ready for another look whenever you have time.",
    "I'm not sure about this approach, it changes the output for a lot of existing code. Maybe behind a flag?",
    "Thanks everyone for the patience here, this one was tricky.",
    "For what it's worth, yapf handles this differently, but I prefer black's output.",
]
MILD = [  # a little frustrated, not hostile
    "Honestly this is getting frustrating, this regression breaks our formatting every release.",
    "Seriously, this has been open for months. Is anyone looking at it?",
    "I really don't understand why this was merged without a test. It broke our pipeline again.",
    "This is a waste of time for everyone, can we just revert the change?",
]
QUOTING = [  # mention a command without running it
    "The docs say maintainers can type `/coc-lock` here, but I don't think that's needed.",
    "> /coc-remind\n\nQuoting the above: no need, the discussion is fine.",
    "Example from the README:\n\n```\n/coc-lock 24h off-topic\n```",
]


# --------------------------------------------------------------------------------------------- world
def setup_world(fake: FakeGitHub) -> None:
    """The test suite's world (tests/harness.py)."""
    fake.reset()
    populate_world(fake)


def start_bot(fake: FakeGitHub, tmp: Path, name: str) -> BotThread:
    return BotThread(bot_env(fake, tmp / f"{name}.sqlite3")).start()


# --------------------------------------------------------------------------------------------- metering
@dataclass
class Cost:
    category: str
    what: str
    calls: int
    tokens: int
    graphql: int
    pages: int
    requests: list = field(repr=False, default_factory=list)
    note: str = ""


def template(req) -> str:
    path = re.sub(r"/\d+(?=/|$)", "/{n}", req.path)
    if req.is_graphql:
        kind = (req.graphql or {}).get("operation") or "query"
        fields = ",".join((req.graphql or {}).get("fields", []))
        return f"POST /graphql {kind} {fields}".rstrip()
    q = req.query or {}
    extra = f"?page={q['page']}" if "page" in q else ""
    return f"{req.method} {path}{extra} -> {req.status}"


def is_token(req) -> bool:
    return req.method == "POST" and re.fullmatch(r"/app/installations/[^/]+/access_tokens", req.path) is not None


class Meter:
    def __init__(self, fake: FakeGitHub, bot: BotThread):
        self.fake, self.bot = fake, bot
        self.results: list[Cost] = []

    def drain(self) -> None:
        """The queue is drained: nothing running, nothing due within a few seconds (retries with a short
        back-off included; timed unlocks and nudges, hours away, are not part of this delivery)."""
        def idle():
            soon = time.time() + 5
            return not self.bot.jobs("running") and not any(j["run_at"] <= soon for j in self.bot.jobs("queued"))
        wait_until(lambda: idle() and idle(), 30, "the bot's queue to drain", interval=0.01)

    def run(self, category: str, what: str, deliver, thread_number: int | None = None, repo: str = REPO) -> Cost:
        before, tok_before = len(self.fake.requests), self.fake.token_requests
        status = deliver()
        assert status == 202, f"delivery refused: {status}"
        self.drain()
        reqs = self.fake.requests[before:]
        calls = [r for r in reqs if not is_token(r)]
        pages = 0
        if thread_number is not None:
            comments_path = f"/repos/{repo}/issues/{thread_number}/comments"
            pages = sum(1 for r in calls if r.method == "GET" and r.path == comments_path)
        cost = Cost(category, what, len(calls), self.fake.token_requests - tok_before,
                    sum(1 for r in calls if r.is_graphql), pages, calls)
        self.results.append(cost)
        return cost


class Thread:
    def __init__(self, world: World, *, pr: bool = False, history: int = 0, opener: str | None = None):
        self.world, self.fake = world, world.fake
        self.pr = pr
        opener = opener or world.rng.choice(COMMENTERS[:30])
        created = world.clock.tick(60)
        self.issue = self.fake.create_issue(REPO, user=opener, title=f"Thread by {opener}",
                                            body="The formatter changes my code in a way I did not expect.",
                                            pull_request=pr, created_at=created)
        self.number = self.issue["number"]
        self.locked = False
        self.comments: list[dict] = []
        self.review_comments: list[dict] = []
        for i in range(history):  # an existing discussion, from before this run (not delivered)
            c = self.fake.add_comment(REPO, self.number, user=world.rng.choice(COMMENTERS[:30]),
                                      body=f"({i + 1}) " + world.rng.choice(CALM), created_at=world.clock.tick(5))
            self.comments.append(c)

    def comment(self, user: str, body: str) -> tuple[dict, callable]:
        c = self.fake.add_comment(REPO, self.number, user=user, body=body, created_at=self.world.clock.tick())
        self.comments.append(c)
        return c, lambda: self.world.bot.deliver(self.fake.event_issue_comment("created", REPO, self.number, c))[0]

    def review_comment(self, user: str, body: str) -> tuple[dict, callable]:
        c = self.fake.add_review_comment(REPO, self.number, user=user, body=body, created_at=self.world.clock.tick())
        self.review_comments.append(c)
        return c, lambda: self.world.bot.deliver(self.fake.event_review_comment("created", REPO, self.number, c))[0]


class Clock:
    """Comment times: a discussion spread over days in the past, never in bursts."""

    def __init__(self, fake: FakeGitHub, rng: random.Random):
        self.t = fake.now() - 20 * 86400
        self.rng = rng

    def tick(self, minutes: float | None = None) -> float:
        self.t += 60 * (minutes if minutes is not None else self.rng.uniform(3, 40))
        return self.t


class World:
    def __init__(self, fake: FakeGitHub, tmp: Path, name: str, seed: int):
        setup_world(fake)
        self.fake = fake
        self.rng = random.Random(seed)
        self.clock = Clock(fake, self.rng)
        self.bot = start_bot(fake, tmp, name)
        self.meter = Meter(fake, self.bot)

    def stop(self) -> None:
        self.bot.stop()

    def command(self, category: str, t: Thread, user: str, body: str, *, review: bool = False) -> Cost:
        c, send = (t.review_comment if review else t.comment)(user, body)
        cost = self.meter.run(category, body.splitlines()[0], send, t.number)
        if body.startswith("/coc-lock") and user in ("ada", "mia", "wes"):
            t.locked = " 5x" not in body
        if body.startswith("/coc-unlock"):
            t.locked = False
        return cost

    def ordinary(self, t: Thread, user: str, body: str, category: str, *, review: bool = False) -> Cost:
        bot_before = len(self.bot_comments(t))
        c, send = (t.review_comment if review else t.comment)(user, body)
        cost = self.meter.run(category, body[:40], send)
        if len(self.bot_comments(t)) > bot_before:  # the heat estimate posted a reminder
            cost.category = "heated reminder (auto)"
        return cost

    def bot_comments(self, t: Thread) -> list[dict]:
        return [c for c in self.fake.comments(REPO, t.number) if c["user"]["login"] == self.fake.bot_login]


# --------------------------------------------------------------------------------------------- scenarios
def cold_phase(fake: FakeGitHub, tmp: Path, seed: int, violations: list[str]) -> list[Cost]:
    """Each command kind as the very first thing a fresh bot does in a fresh world."""
    cases = [
        ("/coc-remind", "wes", "/coc-remind", {}),
        ("/coc-lock", "wes", "/coc-lock", {}),
        ("/coc-lock DURATION", "wes", "/coc-lock 24h off-topic please take a break", {}),
        ("/coc-unlock", "wes", "/coc-unlock", {"locked": True}),
        ("/coc-limit", "wes", "/coc-limit", {}),
        ("/coc-unlimit", "wes", "/coc-unlimit", {}),
        ("/coc-hide issue comment", "wes", "/coc-hide {issue_url}", {}),
        ("/coc-hide review comment", "wes", "/coc-hide {review_url} spam", {"pr": True}),
        ("/coc-help", "wes", "/coc-help", {}),
        ("/coc-report", "tia", "/coc-report they keep insulting people", {"history": 5}),
        ("refused (/coc-lock by triage)", "tia", "/coc-lock", {}),
        ("malformed (/coc-lock 5x)", "wes", "/coc-lock 5x", {}),
        ("ordinary comment", "user01", None, {"ordinary": CALM[0]}),
        ("ordinary comment, mildly heated", "user01", None, {"ordinary": MILD[0]}),
        ("ordinary comment quoting a command", "user01", None, {"ordinary": QUOTING[0]}),
    ]
    out = []
    for i, (cat, user, body, opts) in enumerate(cases):
        w = World(fake, tmp, f"cold{i}", seed + i)
        try:
            t = Thread(w, pr=opts.get("pr", False), history=opts.get("history", 0))
            if opts.get("locked"):
                fake.lock_issue(REPO, t.number, "too heated", user="wes")
            if body is None:
                cost = w.ordinary(t, user, opts["ordinary"], cat)
            else:
                if "{issue_url}" in body:
                    target, _ = t.comment("user02", "you are all clueless")
                    body = body.format(issue_url=target["html_url"])
                if "{review_url}" in body:
                    target, _ = t.review_comment("user02", "buy cheap pills here")
                    body = body.format(review_url=target["html_url"])
                cost = w.command(cat, t, user, body)
            cost.category = "cold " + cat
            out.append(cost)
        finally:
            w.stop()
        violations.extend(fake.violations)
    return out


def mix_phase(fake: FakeGitHub, tmp: Path, seed: int, n_threads: int = 40, n_comments: int = 400):
    w = World(fake, tmp, "mix", seed)
    rng = w.rng
    m = w.meter
    try:
        # 40 threads: a quarter are pull requests; some have a long history (for reports), the others a short one.
        lengths = {0: 5, 1: 50, 2: 105, 3: 150, 4: 250, 7: 150}
        threads = [Thread(w, pr=(i % 4 == 3), history=lengths.get(i, rng.randint(0, 8))) for i in range(n_threads)]
        report_threads = threads[:5]
        long_pr = threads[7]  # reserved for a report typed in a review comment
        ordinary_threads = [t for i, t in enumerate(threads) if i >= 5 and t is not long_pr]
        prs = [t for t in ordinary_threads if t.pr]

        # Warm-up: the first of each kind in this world (tokens, configuration and labels get cached).
        wu = Thread(w)
        wu_pr = Thread(w, pr=True)
        target, _ = wu.comment("user03", "first!")
        rtarget, _ = wu_pr.review_comment("user03", "nit")
        for user, body, t in [
            ("wes", "/coc-help", wu), ("wes", "/coc-remind", wu), ("wes", "/coc-lock", wu), ("wes", "/coc-unlock", wu),
            ("wes", "/coc-limit", wu), ("wes", "/coc-unlimit", wu), ("wes", f"/coc-hide {target['html_url']}", wu),
            ("wes", f"/coc-hide {rtarget['html_url']}", wu_pr), ("tia", "/coc-report warm-up", wu),
        ]:
            w.command("warm-up (first of each kind in the mix world)", t, user, body)

        # The commands of the mix, each on another thread than the warm-up, spread through the comments.
        def free_thread(pool=None):
            return rng.choice([t for t in (pool or ordinary_threads) if not t.locked])

        lock_threads: list[Thread] = []
        remind_threads: list[Thread] = []
        latest_before_review_report: list[str] = []

        def lock(cat, body, user="wes"):
            def go():
                t = free_thread()
                w.command(cat, t, user, body)
                lock_threads.append(t)
            return go

        def unlock():
            def go():
                if lock_threads:
                    w.command("warm /coc-unlock", lock_threads.pop(0), "wes", "/coc-unlock")
            return go

        def simple(cat, body, user="wes", pool=None, review=False):
            def go():
                t = free_thread(pool)
                w.command(cat, t, user, body, review=review)
                if body == "/coc-remind":
                    remind_threads.append(t)
            return go

        def hide(review: bool):
            def go():
                if review:
                    t = free_thread(prs)
                    victim = (rng.choice(t.review_comments) if t.review_comments
                              else t.review_comment("user04", "spam")[0])
                    w.command("warm /coc-hide review comment", t, "wes", f"/coc-hide {victim['html_url']} spam")
                else:
                    t = free_thread()
                    victim = rng.choice(t.comments) if t.comments else t.comment("user04", "rude")[0]
                    w.command("warm /coc-hide issue comment", t, "wes", f"/coc-hide {victim['html_url']}")
            return go

        def limit_pair(body):
            def go():
                w.command("warm /coc-limit", free_thread(), "wes", body)
                w.command("warm /coc-unlimit", free_thread(), "wes", "/coc-unlimit")
            return go

        def report(t: Thread, reason: str):
            return lambda: w.command(f"warm /coc-report ({len(t.comments)}-comment thread)", t, "tia",
                                     f"/coc-report {reason}")

        def review_report():
            latest_before_review_report.append(
                [c for c in long_pr.comments if c["user"]["login"] != "tia"][-1]["html_url"])
            w.command(f"warm /coc-report in a review comment ({len(long_pr.comments)}-comment PR)", long_pr, "tia",
                      "/coc-report insults in the review", review=True)

        def report_on_incident():
            t = remind_threads[0] if remind_threads else free_thread()
            w.command("warm /coc-report, thread with an open incident", t, "tia", "/coc-report they kept going")

        commands = [
            simple("warm /coc-remind", "/coc-remind"), simple("warm /coc-remind", "/coc-remind"),
            simple("warm /coc-remind (review comment)", "/coc-remind", pool=prs, review=True),
            lock("warm /coc-lock", "/coc-lock"), lock("warm /coc-lock", "/coc-lock resolved"),
            lock("warm /coc-lock", "/coc-lock spam"),
            lock("warm /coc-lock DURATION", "/coc-lock 24h"),
            lock("warm /coc-lock DURATION", "/coc-lock 3d off-topic cool down"),
            unlock(), unlock(), unlock(),
            lock("/coc-lock by another maintainer (permission not cached)", "/coc-lock", user="mia"),
            unlock(), unlock(),
            limit_pair("/coc-limit"), limit_pair("/coc-limit collaborators-only 1w"),
            hide(False), hide(False), hide(True), hide(True),
            simple("warm /coc-help", "/coc-help"), simple("warm /coc-help", "/coc-help"),
            simple("refused (/coc-lock by triage)", "/coc-lock", user="tia"),
            simple("refused (/coc-report by read)", "/coc-report they were rude", user="rey"),
            simple("malformed (/coc-lock 5x)", "/coc-lock 5x"),
            simple("malformed (/coc-limit 2d)", "/coc-limit 2d"),
            report(report_threads[0], "name-calling"), report(report_threads[1], "personal attacks"),
            report(report_threads[2], "harassment"), report(report_threads[3], "slurs"),
            report(report_threads[4], "repeated insults"),
            review_report, report_on_incident,
        ]

        slots = sorted(rng.sample(range(20, n_comments), len(commands)))
        slot_of = dict(zip(slots, commands))
        for i in range(n_comments):
            if i in slot_of:
                slot_of[i]()
            t = free_thread(ordinary_threads + report_threads + [long_pr])
            user = rng.choice(COMMENTERS)
            r = rng.random()
            if r < 0.04:
                w.ordinary(t, user, rng.choice(MILD), "ordinary comment, mildly heated")
            elif r < 0.07:
                w.ordinary(t, user, rng.choice(QUOTING), "ordinary comment quoting a command")
            elif t.pr and r < 0.30:
                w.ordinary(t, user, rng.choice(CALM), "ordinary review comment", review=True)
            else:
                w.ordinary(t, user, rng.choice(CALM), "ordinary comment (issue/PR conversation)")
        for t in list(lock_threads):
            w.command("warm /coc-unlock", t, "wes", "/coc-unlock")
        lock_threads.clear()

        # Check the review-comment report's evidence: does it hold the PR's latest comments?
        evidence_note = check_review_report(fake, long_pr, latest_before_review_report)
        return m.results, evidence_note
    finally:
        w.stop()


def check_review_report(fake: FakeGitHub, pr: Thread, latest: list[str]) -> str:
    """Does the evidence of the report typed in a review comment hold the PR's latest comment?"""
    if not latest:
        return ""
    texts = []
    for issue in fake.issues(TRACKING):
        if pr.issue["html_url"] in (issue.get("body") or ""):
            texts = [issue["body"]] + [c["body"] for c in fake.comments(TRACKING, issue["number"])]
    if not texts:
        return "no incident found for the report typed in a review comment"
    if any(latest[0] in t for t in texts):
        return ""
    oldest = pr.comments[0]["html_url"]
    return ("the /coc-report typed in a PR review comment recorded evidence WITHOUT the PR's latest conversation "
            f"comment (its oldest comment is {'in' if any(oldest in t for t in texts) else 'not in'} the evidence)")


# --------------------------------------------------------------------------------------------- report
def table(results: list[Cost]) -> list[tuple]:
    groups: dict[str, list[Cost]] = collections.OrderedDict()
    for c in results:
        groups.setdefault(c.category, []).append(c)
    rows = []
    for cat, cs in groups.items():
        calls = [c.calls for c in cs]
        rows.append((cat, len(cs), statistics.mean(calls), max(calls), sum(c.tokens for c in cs),
                     sum(c.graphql for c in cs), max(c.pages for c in cs),
                     max(c.calls - c.pages for c in cs) if "report" in cat else None))
    return rows


def print_table(title: str, rows, verdicts: dict[str, str]) -> None:
    print(f"\n{title}")
    head = f"{'category':<56} {'n':>4} {'mean':>6} {'max':>4} {'tok':>4} {'gql':>4} {'pages':>5} {'-pages':>6}  target"
    print(head)
    print("-" * len(head) + "-" * 20)
    for cat, n, mean, mx, tok, gql, pages, minus in rows:
        print(f"{cat:<56} {n:>4} {mean:>6.2f} {mx:>4} {tok:>4} {gql:>4} {pages or '':>5} "
              f"{'' if minus is None else minus:>6}  {verdicts.get(cat, '')}")


def judge(results: list[Cost]) -> tuple[dict[str, str], list[str]]:
    verdicts, lines = {}, []
    by: dict[str, list[Cost]] = collections.defaultdict(list)
    for c in results:
        by[c.category].append(c)

    def mark(cat, ok, target):
        verdicts[cat] = f"{target:<22} {'PASS' if ok else 'FAIL'}"
        return ok

    ordinary = [c for cat, cs in by.items() if "ordinary" in cat for c in cs]
    for cat, cs in by.items():
        if "ordinary" in cat:
            mark(cat, max(c.calls for c in cs) == 0, "0 calls")
        elif cat.startswith("warm /coc-lock"):
            mark(cat, max(c.calls for c in cs) <= 5, "<= 5 calls")
        elif "/coc-report" in cat and not cat.startswith("refused") and not cat.startswith("warm-up"):
            mark(cat, max(c.calls - c.pages for c in cs) <= 6, "<= 6 + pages")
    ok_ord = bool(ordinary) and all(c.calls == 0 for c in ordinary)
    locks = [c for cat, cs in by.items() if cat.startswith("warm /coc-lock") for c in cs]
    reports = [c for cat, cs in by.items()
               if "/coc-report" in cat and cat.startswith(("warm /coc-report", "cold /coc-report"))
               for c in cs]
    warm_reports = [c for c in reports if c.category.startswith("warm")]
    lines.append(f"ordinary comment: 0 calls            max {max((c.calls for c in ordinary), default=0)} "
                 f"over {len(ordinary)} deliveries  {'PASS' if ok_ord else 'FAIL'}")
    lines.append(f"warm /coc-lock: <= 5 calls           max {max(c.calls for c in locks)} "
                 f"over {len(locks)} deliveries  {'PASS' if all(c.calls <= 5 for c in locks) else 'FAIL'}")
    lines.append(f"/coc-report (warm): <= 6 + pages     max calls-pages {max(c.calls - c.pages for c in warm_reports)} "
                 f"over {len(warm_reports)} deliveries  "
                 f"{'PASS' if all(c.calls - c.pages <= 6 for c in warm_reports) else 'FAIL'}")
    cold = [c for c in reports if c.category.startswith("cold")]
    if cold:
        lines.append(f"/coc-report (cold): <= 6 + pages     calls-pages {max(c.calls - c.pages for c in cold)}  "
                     f"{'PASS' if all(c.calls - c.pages <= 6 for c in cold) else 'FAIL'}"
                     " (first thing a fresh bot does)")
    return verdicts, lines


def breakdown(cost: Cost | None, title: str) -> None:
    if cost is None:
        return
    print(f"\n{title}: {cost.what!r} — {cost.calls} calls, {cost.pages} comment page(s), {cost.tokens} token(s)")
    for i, r in enumerate(cost.requests, 1):
        print(f"  {i:>2}. {template(r)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=40)
    ap.add_argument("--comments", type=int, default=400)
    args = ap.parse_args(argv)
    started = time.monotonic()
    fake = FakeGitHub().start()
    violations: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="coc-bench-") as tmp:
            cold = cold_phase(fake, Path(tmp), args.seed, violations)
            mix, evidence_note = mix_phase(fake, Path(tmp), args.seed, args.threads, args.comments)
            violations += fake.violations
    finally:
        fake.stop()
    results = cold + mix
    verdicts, lines = judge(results)
    print_table("GitHub API calls per delivery (calls exclude token creation: tok; gql = GraphQL requests; "
                "pages = comment pages read for evidence; -pages = calls minus pages)", table(results), verdicts)
    print("\nTargets")
    for line in lines:
        print("  " + line)
    breakdown(next((c for c in mix if c.category == "warm /coc-lock"), None), "One warm /coc-lock")
    rep = [c for c in mix if c.category.startswith("warm /coc-report (")]
    breakdown(max(rep, key=lambda c: c.pages + c.calls / 100) if rep else None, "One warm /coc-report")
    breakdown(next((c for c in cold if c.category == "cold /coc-report"), None), "The cold /coc-report")
    if evidence_note:
        print(f"\nNote: {evidence_note}")
    print(f"\n{len(results)} deliveries in {time.monotonic() - started:.1f}s")
    if violations:
        print("\nFAIL: requests GitHub's API description does not allow:")
        for v in violations:
            print("  " + v)
    else:
        print("fake.violations: none")
    assert not violations, f"{len(violations)} request(s) GitHub's API description does not allow (listed above)"
    return 0


if __name__ == "__main__":
    sys.exit(main())
