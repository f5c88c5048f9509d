"""The public site under load, on the production stack, next to the static-file rate.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/site_load.py [--json]

Builds a throwaway database (dropped at the end) holding a month of papers (bench/site_data.py),
starts gunicorn (3 workers, as in the Procfile) with DEBUG off on a loopback port, and loads each
public page (day, week, month, topic, paper, search) and a static file with 16 connections: wrk
when installed (`apt-get install -y wrk`), else a bounded Python loop. Then readers sign up for
--signup-seconds, each from its own client address (TRUSTED_PROXY_COUNT=1), while a Celery worker
sends the confirmations to an outbox; every pending reader must get exactly one.
Targets: each page >= 50% of the static rate and p99 <= 100 ms (search p99 <= 200 ms); sign-ups
>= 100/s with no 5xx and every confirmation sent exactly once.
"""

import argparse
import email
import http.client
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from bench import http_load, site_data  # noqa: E402
from bench.daily_job import DATA, database_url  # noqa: E402
from config.celery_app import app as celery_app  # noqa: E402
from newsletter.models import Subscriber  # noqa: E402
from papers.models import Paper, Topic  # noqa: E402
from papers.pagecache import bump_catalogue_version  # noqa: E402

SEARCHES = ["diffusion", "language model", "robot", "reinforcement learning", "graph neural network",
            "speculative decoding", "video generation", '"chain of thought"', "medical imaging",
            "benchmark -survey", "retrieval augmented", "quantization", "protein", "agents tools",
            "3d reconstruction", "speech recognition", "federated", "unlearning", "multilingual",
            "reward model"]  # fmt: skip


def server_env(tmp: Path, queue: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_DEBUG": "off",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp / "static"),
        "TRUSTED_PROXY_COUNT": "1",
        "DJANGO_EMAIL_BACKEND": "newsletter.backends.OutboxBackend",
        "OUTBOX_DIR": str(tmp / "outbox"),
        "CELERY_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
        "PAPERBOY_ENV_FILE": "",
    }


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited:\n" + log.read_text(errors="replace")[-2000:])
        try:
            get(port, "/static/css/site.css")
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def get(port: int, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.body = response.read()
    return response


def pages(newest) -> dict[str, str]:
    topic = max(Topic.objects.filter(active=True), key=lambda t: t.paper_links.count())
    paper = Paper.objects.filter(listed_on=newest).order_by("-upvotes").first()
    day = newest.isoformat()
    return {
        "static": "/static/css/site.css",
        "day": "/",
        "week": f"/?period=week&date={day}",
        "month": f"/?period=month&date={day}",
        "topic": topic.get_absolute_url(),
        "paper": paper.get_absolute_url(),
        "search": "/?q=" + quote(SEARCHES[0]),
    }


def search_script() -> str:
    paths = ", ".join(f'"/?q={quote(q)}"' for q in SEARCHES)
    return (
        http_load.COUNT_5XX
        + f"""
local paths = {{ {paths} }}
local n = 0
request = function() n = n + 1; return wrk.format("GET", paths[(n % #paths) + 1]) end
"""
    )


def load_page(name: str, path: str, args: argparse.Namespace) -> dict:
    if http_load.have_wrk():
        script = search_script() if name == "search" else http_load.COUNT_5XX
        return http_load.wrk(args.port, path, args.seconds, args.connections, script)
    paths = [f"/?q={quote(q)}" for q in SEARCHES] if name == "search" else [path]
    return http_load.python_loop(
        args.port, lambda i, n: ("GET", paths[(i + n) % len(paths)], {}, b""), args.seconds, args.connections
    )


def signup_form(port: int) -> tuple[str, str, dict[str, str]]:
    """A real form's CSRF cookie and token and its signed start time, reused by every sign-up."""
    response = get(port, "/subscribe/")
    cookie = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    html = response.body.decode()
    fields = {
        name: re.search(rf'name="{name}" value="([^"]*)"', html).group(1)
        for name in ("csrfmiddlewaretoken", "started")
    }
    topic = Topic.objects.filter(active=True).first()
    fields.update(topics=str(topic.pk), frequency="daily", digest_size="10", delivery_hour="8")
    fields.update(time_zone="Europe/Berlin", delivery_weekday="0", website="", interests="")
    prefix = urlencode(fields) + "&email=bench"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}"}
    return prefix, quote("@example.com"), headers


def run_signups(args: argparse.Namespace, outbox: Path, queue: str) -> dict:
    prefix, suffix, headers = signup_form(args.port)
    time.sleep(4)  # the form must not come back faster than a person could fill it in
    if http_load.have_wrk():
        script = http_load.signup_script(prefix, suffix, headers)
        result = http_load.wrk(args.port, "/subscribe/", args.signup_seconds, args.connections, script)
    else:

        def make(i: int, n: int):
            ip = f"10.{i}.{n // 256 % 256}.{n % 256}"
            body = f"{prefix}{i * 10_000_000 + n}{suffix}".encode()
            return "POST", "/subscribe/", {**headers, "X-Forwarded-For": ip}, body

        result = http_load.python_loop(args.port, make, args.signup_seconds, args.connections)
    return {**result, **confirmations(outbox, queue, args.signup_seconds)}


def queued(queue: str) -> int:
    with celery_app.connection_for_write() as conn:
        # Redis drops an empty list: a plain declare answers 0 for it instead of raising.
        return conn.default_channel.queue_declare(queue).message_count


def confirmations(outbox: Path, queue: str, seconds: int, timeout: float = 1200) -> dict:
    """Waits until the worker has mailed every pending reader (or has sent nothing for a minute),
    then counts mails per address."""
    pending = Subscriber.objects.filter(status=Subscriber.Status.PENDING)
    deadline, last, idle_since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - idle_since < 60:
        sent_so_far = len(list(outbox.glob("*.eml")))
        if sent_so_far >= pending.count():
            break
        if sent_so_far != last:
            last, idle_since = sent_so_far, time.monotonic()
        time.sleep(2)
    time.sleep(3)  # anything sent twice would arrive now
    sent = Counter(email.message_from_bytes(p.read_bytes())["To"] for p in outbox.glob("*.eml"))
    readers = set(pending.values_list("email", flat=True))
    return {
        "signups": len(readers),
        "signups_per_second": round(len(readers) / seconds, 1),
        "confirmations_sent": sum(sent.values()),
        "confirmations_still_queued": queued(queue),
        "readers_without_confirmation": len(readers - set(sent)),
        "readers_with_duplicates": sum(1 for n in sent.values() if n > 1),
    }


def run(args: argparse.Namespace, tmp: Path) -> dict:
    newest = site_data.load(args.data, args.papers, args.days, random.Random(args.seed))
    bump_catalogue_version()  # pages cached by an earlier run belong to another database
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    env = server_env(tmp, queue)
    manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(manage, cwd=ROOT, env=env, check=True)
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "3"]
    web = start([*gunicorn, "--bind", f"127.0.0.1:{args.port}"], env, tmp / "web.log")
    worker_cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--concurrency=1"]
    worker = start([*worker_cmd, "--without-gossip", "--without-mingle"], env, tmp / "worker.log")
    try:
        wait_for_port(args.port, web, tmp / "web.log")
        result = {"papers": Paper.objects.count(), "tool": "wrk" if http_load.have_wrk() else "python"}
        for name, path in pages(newest).items():
            get(args.port, path)  # warm: the first visit fills the cache
            result[name] = load_page(name, path, args)
        if args.signup_seconds:
            result["signup"] = run_signups(args, tmp / "outbox", queue)
    finally:
        for process in (web, worker):
            process.terminate()
            process.wait(60)
    return with_ratios(result)


def with_ratios(result: dict) -> dict:
    static = result["static"]["requests_per_second"]
    for name in ("day", "week", "month", "topic", "paper", "search"):
        page = result[name]
        page["share_of_static"] = round(page["requests_per_second"] / static, 2)
        p99_target = 200 if name == "search" else 100
        page["meets_target"] = page["share_of_static"] >= 0.5 and page["p99_ms"] <= p99_target
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=18700)
    parser.add_argument("--papers", type=int, default=4600)
    parser.add_argument("--days", type=int, default=22, help="weekdays of listings (22 ≈ a month)")
    parser.add_argument("--seconds", type=int, default=8, help="per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--signup-seconds", type=int, default=30, help="0 to skip the sign-up run")
    parser.add_argument("--data", type=Path, default=DATA / "dev.jsonl.gz")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    if min(args.papers, args.days, args.seconds, args.connections) < 1 or args.signup_seconds < 0:
        parser.error("--papers, --days, --seconds and --connections must be positive")
    if connection.vendor != "postgresql":
        parser.error("set DATABASE_URL to a PostgreSQL server (and REDIS_URL): SQLite figures mean nothing")
    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_site_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args, Path(tmp))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    for key, value in result.items():
        print(f"{key:>8}: {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
