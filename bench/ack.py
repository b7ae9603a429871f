"""Acknowledgement speed: conduct-bot vs a bare aiohttp server that answers 202 without checking or storing.

Sends signed deliveries built from GitHub's real `issue_comment` example payloads,
first as fast as a fixed number of concurrent clients allows (throughput), then
at a steady 200 deliveries per second (latency). Both servers run as separate
processes on 127.0.0.1 and are measured in the same run. Every delivery the bot
acknowledges with 202 has been committed to its SQLite store (WAL, synchronous=FULL).

    python bench/ack.py [--requests 4000] [--concurrency 128] [--rate 200] [--seconds 10] [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "app" / "fakegithub" / "reference" / "webhooks" / "issue_comment"
SECRET = b"bench-secret"

BARE = """
from aiohttp import web
async def hook(request):
    await request.read()
    return web.json_response({"status": "accepted"}, status=202)
app = web.Application(client_max_size=25 * 1024 * 1024)
app.router.add_post("/webhook", hook)
web.run_app(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payloads() -> list[dict]:
    files = sorted(SHARED.glob("created*.json")) or sorted(SHARED.glob("*.json"))
    if not files:
        sys.exit(f"no example payloads found in {SHARED}")
    out = []
    for f in files:
        data = json.loads(f.read_text())
        data["comment"]["body"] = "Thanks, this looks good to me. I left two small notes on the diff."
        out.append(data)
    return out


def make_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


async def wait_up(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.post(url, data=b"{}") as r:
                    await r.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


_COUNTER = iter(range(1, 10**9))


def request_for(template: dict) -> tuple[bytes, dict]:
    """A distinct delivery: its own comment on one of 200 threads, like a busy organisation's traffic."""
    n = next(_COUNTER)
    data = dict(template)
    data["issue"] = {**template["issue"], "number": 1 + n % 200}
    data["comment"] = {**template["comment"], "id": 10**6 + n}
    return signed(data)


def signed(data: dict, event: str = "issue_comment") -> tuple[bytes, dict]:
    """The body and headers of a delivery of DATA, signed as GitHub signs it."""
    body = json.dumps(data).encode()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest(),
    }
    return body, headers


async def throughput(url: str, templates: list[dict], n: int, concurrency: int) -> tuple[float, list[float], int]:
    reqs = [request_for(templates[i % len(templates)]) for i in range(n)]
    latencies: list[float] = []
    bad = 0
    idx = 0
    conn = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=conn) as s:
        async def worker():
            nonlocal idx, bad
            while idx < n:
                body, headers = reqs[idx]
                idx += 1
                t0 = time.perf_counter()
                async with s.post(url, data=body, headers=headers) as r:
                    await r.read()
                    if r.status != 202:
                        bad += 1
                latencies.append(time.perf_counter() - t0)
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return n / elapsed, latencies, bad


async def steady(url: str, templates: list[dict], rate: float, seconds: float) -> tuple[list[float], int]:
    n = int(rate * seconds)
    return await paced(url, [request_for(templates[i % len(templates)]) for i in range(n)], rate)


async def paced(url: str, reqs: list[tuple[bytes, dict]], rate: float) -> tuple[list[float], int]:
    """Send the deliveries at RATE per second, each as soon as its time comes: (latencies, answers other
    than 202)."""
    latencies: list[float] = []
    bad = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as s:
        async def one(body, headers):
            nonlocal bad
            t0 = time.perf_counter()
            async with s.post(url, data=body, headers=headers) as r:
                await r.read()
                if r.status != 202:
                    bad += 1
            latencies.append(time.perf_counter() - t0)
        start = time.perf_counter()
        tasks = []
        for i, (body, headers) in enumerate(reqs):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, headers)))
        await asyncio.gather(*tasks)
    return latencies, bad


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


async def drained(url: str, timeout: float = 120.0) -> float | None:
    """Seconds until the bot's queue has no due work (None for a server without /healthz)."""
    health = url.rsplit("/", 1)[0] + "/healthz"
    start = time.perf_counter()
    async with aiohttp.ClientSession() as s:
        while time.perf_counter() - start < timeout:
            async with s.get(health) as r:
                if r.status == 404:
                    return None
                body = await r.json()
            if not body["queue"]["due"] and not body["queue"]["running"]:
                return time.perf_counter() - start
            await asyncio.sleep(0.05)
    return timeout


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(name: str, url: str, templates, args, pid: int) -> dict:
    await wait_up(url)
    await throughput(url, templates, 200, args.concurrency)  # warm-up
    await drained(url)
    cpu0 = cpu_seconds(pid)
    rps, lat, bad1 = await throughput(url, templates, args.requests, args.concurrency)
    cpu = (cpu_seconds(pid) - cpu0) / args.requests
    drain = await drained(url)
    steady_lat, bad2 = await steady(url, templates, args.rate, args.seconds)
    await drained(url)
    return {"name": name, "rps": rps, "p50_burst": pct(lat, 50), "p99_burst": pct(lat, 99),
            "p50": pct(steady_lat, 50), "p99": pct(steady_lat, 99), "non_202": bad1 + bad2, "drain": drain,
            "cpu_us": cpu * 1e6}


def start_bot(port: int):
    """`python -m app` on 127.0.0.1:PORT with a fresh database, against a simulated GitHub run in this
    process (so nothing fails for want of an API; ordinary comments need none): (fake, process)."""
    sys.path.insert(0, str(ROOT))
    from app.fakegithub import FakeGitHub

    tmp = tempfile.mkdtemp(prefix="coc-bench-")
    fake = FakeGitHub(validator=None).start()
    inst = fake.add_installation("Codertocat")
    fake.add_repo("Codertocat/Hello-World", installation_id=inst)
    env = {**os.environ, "GITHUB_APP_ID": str(fake.app_id), "GITHUB_PRIVATE_KEY": fake.private_key_pem,
           "GITHUB_WEBHOOK_SECRET": SECRET.decode(), "GITHUB_API_URL": fake.url,
           "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "HOST": "127.0.0.1", "PORT": str(port)}
    bot = subprocess.Popen([sys.executable, "-m", "app"], cwd=ROOT, env=env,
                           stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL)
    return fake, bot


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=4000)
    # Enough deliveries in flight to saturate either server, so the ratio compares capacity, not latency.
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    templates = payloads()
    bare_port, bot_port = free_port(), free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bare_port)], stderr=subprocess.DEVNULL)
    fake, bot = start_bot(bot_port)
    if os.environ.get("BENCH_PYSPY"):
        subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200",
                          "-d", os.environ["BENCH_PYSPY"], "-f", "raw", "-o", "/tmp/pyspy.txt", "-p", str(bot.pid),
                          "--threads"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Same conditions for both servers: each gets core 1, the load generator core 0 (where there are two),
    # and they are measured in alternating rounds: the table shows each one's best round, the verdicts use the
    # median round.
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) >= 2:
        os.sched_setaffinity(0, {cores[0]})
        for p in (bare, bot):
            os.sched_setaffinity(p.pid, {cores[1]})
    try:
        rounds: dict[str, list[dict]] = {"bare": [], "bot": []}
        for _ in range(args.rounds):
            rounds["bare"].append(asyncio.run(measure("bare aiohttp (no check, no store)",
                                                      f"http://127.0.0.1:{bare_port}/webhook", templates, args,
                                                      bare.pid)))
            rounds["bot"].append(asyncio.run(measure("conduct-bot (verified, committed)",
                                                     f"http://127.0.0.1:{bot_port}/webhook", templates, args, bot.pid)))
        results = [max(rounds["bare"], key=lambda r: r["rps"]), max(rounds["bot"], key=lambda r: r["rps"])]
        ratios = [b["rps"] / a["rps"] for a, b in zip(rounds["bare"], rounds["bot"])]
    finally:
        for p in (bare, bot):
            p.terminate()
            p.wait(10)
        fake.stop()
    size = statistics.mean(len(json.dumps(t)) for t in templates)
    print(f"payloads: {len(templates)} real issue_comment examples, mean {size / 1024:.1f} KiB; "
          f"{args.rounds} alternating rounds (table: best round of each); burst: {args.requests} deliveries, "
          f"{args.concurrency} concurrent; steady: {args.rate:.0f}/s for {args.seconds:.0f}s")
    print(f"{'server':38} {'deliveries/s':>12} {'burst p50':>10} {'burst p99':>10} {'200/s p50':>10} "
          f"{'200/s p99':>10} {'non-202':>8} {'CPU/delivery':>13}")
    for r in results:
        print(f"{r['name']:38} {r['rps']:12.0f} {r['p50_burst']:9.1f}ms {r['p99_burst']:9.1f}ms "
              f"{r['p50']:9.1f}ms {r['p99']:9.1f}ms {r['non_202']:8d} {r['cpu_us']:11.0f}us")
    bot = results[1]
    if bot["drain"] is not None:
        total = args.requests / (args.requests / bot["rps"] + bot["drain"])
        print(f"conduct-bot processed the burst's backlog {bot['drain']:.1f}s after the last 202 "
              f"(acknowledged and processed: {total:.0f} deliveries/s end to end)")
    # Each round measures both servers back to back; the median round ratio resists a noisy neighbour.
    ratio = statistics.median(ratios)
    print(f"per-round ratios: {', '.join(f'{r:.2f}' for r in ratios)} (best of each server: "
          f"{results[1]['rps'] / results[0]['rps']:.2f})")
    p99s = [r["p99"] for r in rounds["bot"]]
    print(f"conduct-bot p99 at {args.rate:.0f}/s per round: {', '.join(f'{p:.1f}' for p in p99s)} ms")
    print(f"throughput ratio conduct-bot / bare, median round: {ratio:.2f} (target >= 0.50); "
          f"p99 at {args.rate:.0f}/s, median round: {statistics.median(p99s):.1f} ms (target < 50 ms)")


if __name__ == "__main__":
    main()
