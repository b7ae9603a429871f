"""Acknowledgement latency while hostile comments arrive: no comment may stall the bot.

Runs the real server (`python -m app`, loopback only, against a simulated GitHub; the helpers of
bench/ack.py) and sends signed `issue_comment` deliveries of ordinary comments at a steady rate, in
alternating phases of the same run: ordinary comments only (the baseline), then the same traffic while
hostile comments (tests/hostile.py: 20,000 characters of nested markup, `<!--` * 5000, thousands of lines
of code spans or of command lines, ...) arrive from an outsider on a few threads and the bot answers them
through the simulated GitHub. The ordinary deliveries are sent and timed from a process of their own.
Prints first what each hostile comment costs to parse and to clean for the heat estimate (in this
process), then the acknowledgement p50/p99 of the ordinary comments in both phases and their ratio.
Bounded in count and time: about 45 seconds.

    python bench/hostile.py [--rate 200] [--seconds 5] [--rounds 3] [--hostile-rate 4] [--size 20000]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from ack import drained, free_port, paced, payloads, pct, signed, start_bot, steady, wait_up  # noqa: E402

from tests.hostile import hostile_comments  # noqa: E402


def costs(comments: dict[str, str]) -> None:
    """What each hostile comment costs here: command parsing, and the heat estimate's cleaning and signals."""
    from app import heat
    from app.commands import parse_commands

    print(f"{'hostile comment':22} {'chars':>6} {'parse_commands':>15} {'heat clean_text':>16} {'heat signals':>13}")
    for name, body in comments.items():
        times = []
        for fn in (parse_commands, heat.clean_text, heat.comment_signals):
            start = time.perf_counter()
            fn(body)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{name:22} {len(body):6d} {times[0]:12.1f} ms {times[1]:13.1f} ms {times[2]:10.1f} ms")


REPO = "Codertocat/Hello-World"


def hostile_requests(fake, comments: dict[str, str], count: int) -> list[tuple[bytes, dict]]:
    """COUNT signed deliveries of hostile comments by an outsider, cycling through COMMENTS, spread over a
    few threads. Each is a distinct comment of the simulated GitHub (commands act once per comment), so
    the bot answers it through the API as it would on GitHub."""
    threads = [fake.create_issue(REPO, user="Codertocat", title=f"Thread {i}")["number"] for i in range(3)]
    bodies = list(comments.values())
    out = []
    for i in range(count):
        number = threads[i % len(threads)]
        c = fake.add_comment(REPO, number, user="mallory", body=bodies[i % len(bodies)])
        event, payload = fake.event_issue_comment("created", REPO, number, c)
        out.append(signed(payload, event))
    return out


async def send(url: str, reqs: list[tuple[bytes, dict]], rate: float) -> None:
    """The deliveries at RATE per second (answers are not measured)."""
    await paced(url, reqs, rate)


def measure(url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Ordinary deliveries at RATE per second for SECONDS: (latencies, answers other than 202). Runs in a
    process of its own, so that the simulated GitHub answering the bot in this one never delays it."""
    return asyncio.run(steady(url, payloads(), rate, seconds))


async def run(url: str, warm_up, hostile: list, args) -> dict:
    await wait_up(url)
    loop = asyncio.get_running_loop()
    out: dict = {"baseline": [], "hostile": [], "non_202": 0, "drain": []}
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as meter:
        # Warm-up: ordinary traffic and one of each hostile comment, processed before anything is measured.
        await loop.run_in_executor(meter, measure, url, args.rate, 1.0)
        await send(url, warm_up, len(warm_up))
        await drained(url, 60)
        per_round = len(hostile) // args.rounds
        for i in range(args.rounds):
            # each round: ordinary comments alone, then the same traffic with hostile comments arriving
            latencies, bad = await loop.run_in_executor(meter, measure, url, args.rate, args.seconds)
            out["baseline"].append(latencies)
            out["non_202"] += bad
            await drained(url, 60)
            batch = hostile[i * per_round:(i + 1) * per_round]
            (latencies, bad), _ = await asyncio.gather(
                loop.run_in_executor(meter, measure, url, args.rate, args.seconds),
                send(url, batch, args.hostile_rate))
            out["hostile"].append(latencies)
            out["non_202"] += bad
            out["drain"].append(await drained(url, 60))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=200.0, help="ordinary deliveries per second")
    ap.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the two phases, alternating")
    ap.add_argument("--hostile-rate", type=float, default=4.0, help="hostile deliveries per second")
    ap.add_argument("--size", type=int, default=20_000, help="characters of markup in a hostile comment")
    args = ap.parse_args()
    if not (0 < args.rate <= 1000 and 0 < args.seconds <= 20 and 0 < args.rounds <= 5
            and 0 < args.hostile_rate <= 50 and 0 < args.size <= 65_536):
        ap.error("keep it bounded: --rate <= 1000, --seconds <= 20, --rounds <= 5, --hostile-rate <= 50, "
                 "--size <= 65536")
    comments = hostile_comments(args.size)
    costs(comments)
    port = free_port()
    fake, bot = start_bot(port)
    try:
        warm_up = hostile_requests(fake, comments, len(comments))
        hostile = hostile_requests(fake, comments, args.rounds * int(args.hostile_rate * args.seconds))
        r = asyncio.run(run(f"http://127.0.0.1:{port}/webhook", warm_up, hostile, args))
        writes = sum(request.is_write for request in fake.requests)   # the bot's answers: reactions, replies
    finally:
        bot.terminate()
        bot.wait(10)
        fake.stop()
    print()
    print(f"ordinary comments at {args.rate:.0f}/s, {args.rounds} rounds of {args.seconds:g}s without and "
          f"{args.seconds:g}s with hostile comments (unpinned, loopback); hostile: {len(hostile)} comments of "
          f"~{args.size} characters at {args.hostile_rate:g}/s ({len(comments)} kinds, by an outsider, 3 threads)")
    print(f"{'phase':30} {'p50':>8} {'p99':>8} {'max':>8}   p99 per round")
    for name, phase in (("baseline (ordinary only)", "baseline"), ("while hostile comments arrive", "hostile")):
        pooled = [x for latencies in r[phase] for x in latencies]
        rounds = ", ".join(f"{pct(latencies, 99):.1f}" for latencies in r[phase])
        print(f"{name:30} {pct(pooled, 50):6.1f}ms {pct(pooled, 99):6.1f}ms {max(pooled) * 1000:6.1f}ms   {rounds} ms")
    base = statistics.median(pct(latencies, 99) for latencies in r["baseline"])
    attacked = statistics.median(pct(latencies, 99) for latencies in r["hostile"])
    print(f"p99, median round: {base:.1f} ms baseline, {attacked:.1f} ms while hostile comments arrive: "
          f"ratio {attacked / base:.2f}; non-202: {r['non_202']}")
    print(f"the bot answered the {len(warm_up) + len(hostile)} hostile comments with {writes} writes to GitHub "
          f"(reactions, replies); its queue drained {max(r['drain']):.1f}s after the last delivery at most")


if __name__ == "__main__":
    main()
