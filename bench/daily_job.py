"""The daily digest job end to end, timed: planning, matching, rendering, sending, recording.

    .venv/bin/python bench/daily_job.py --subscribers 100000 --papers 500 [--json]
    .venv/bin/python bench/daily_job.py --esp http --esp-latency-ms 100 [--threads 64]
        [--rate-limited 0.025 --unavailable 0.025] [--max-send-rate 200]

Builds a throwaway database (Django's test database for the configured DATABASE_URL) with a
realistic population: topics from the catalogue in ../shared/data/matching/topics.json, papers
from dev.jsonl.gz there (synthetic ones when the file is absent), readers following 1-3 topics,
some with free-text interests, spread over time zones whose delivery hour is now. Then it starts
real Celery workers (--include bench.probe counts their SQL queries and matching time) that send
through a discard backend (--backend api: Anymail's payload for an API ESP, serialised as JSON;
--backend mime: complete MIME bytes, as for SMTP), each call taking --esp-latency-ms, or with
--esp http through Anymail's real Postmark backend to bench/esp_server.py on 127.0.0.1 (Postmark's
API after the latency, optionally answering 429/503), enqueues one digest tick, and waits for every
row to settle. Use PostgreSQL and Redis (DATABASE_URL, REDIS_URL) for figures that mean something.
"""

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
import psutil  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.site_data import synthetic_papers  # noqa: E402
from config.celery_app import app as celery_app  # noqa: E402
from newsletter.models import DigestDelivery, Subscriber, Suppression, email_hash  # noqa: E402
from papers import tagging  # noqa: E402
from papers.models import Organization, Paper, PaperTopic, Topic  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "matching"
ZONES = ["UTC", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo", "Asia/Kolkata"]
ORGS = ["AI at Meta", "Google DeepMind", "Qwen", "NVIDIA", "Hugging Face", "Allen Institute for AI"]
BATCH = 5000


def load_topics(data_dir: Path) -> list[Topic]:
    """The catalogue's topics (seeded by migrations), else ones made from topics.json."""
    if Topic.objects.filter(active=True).exists():
        return list(Topic.objects.filter(active=True))
    catalogue = (
        json.loads((data_dir / "topics.json").read_text()) if (data_dir / "topics.json").exists() else {}
    )
    rows = [
        Topic(name=spec["phrase"][:120], slug=key.replace("_", "-"), keywords=[spec["phrase"]])
        for key, spec in catalogue.get("fine_topics", {}).items()
    ]
    rows += [
        Topic(
            name=phrase[:120],
            slug=category.lower().replace(".", "-"),
            keywords=[phrase],
            categories=[category],
        )
        for category, phrase in catalogue.get("category_topics", {}).items()
    ]
    if not rows:  # no catalogue file: a few synthetic topics
        rows = [Topic(name=f"Topic {i}", slug=f"topic-{i}", keywords=[f"keyword{i}"]) for i in range(20)]
    return Topic.objects.bulk_create(rows)


def read_papers(path: Path, count: int, rng: random.Random) -> list[dict]:
    """The most recent listing days of the DEV papers, or synthetic ones."""
    if not path.exists():
        return synthetic_papers(count, rng)
    with gzip.open(path, "rt") as lines:
        records = [json.loads(line) for line in lines]
    records.sort(key=lambda r: (r["date"], r["id"]), reverse=True)
    return records[:count]


def load_papers(records: list[dict], topics: list[Topic], rng: random.Random) -> None:
    now = timezone.now()
    orgs = Organization.objects.bulk_create(
        [Organization(name=n.lower().replace(" ", "-"), display_name=n) for n in ORGS]
    )
    papers = Paper.objects.bulk_create(
        [
            Paper(
                paper_id=r["id"],
                title=r["title"],
                abstract=r["abstract"],
                authors=[f"Author {rng.randint(1, 9999)}" for _ in range(rng.randint(1, 8))],
                author_count=rng.randint(1, 12),
                categories=r["categories"],
                primary_category=r["categories"][0] if r["categories"] else "",
                listed_on=now.date(),
                first_seen_at=now - timedelta(minutes=rng.randint(5, 20 * 60)),
                upvotes=int(rng.lognormvariate(2.0, 1.2)),
                source=Paper.Source.FILE,
                code_url="https://github.com/example/code" if rng.random() < 0.4 else "",
                code_stars=rng.randint(1, 5000) if rng.random() < 0.4 else None,
                organization=rng.choice(orgs) if rng.random() < 0.3 else None,
                featured=rng.random() < 0.02,
            )
            for r in records
        ]
    )
    # Tag them the way the catalog's importers do.
    rules = [tagging.compile_topic(t.pk, t.keywords, t.categories) for t in topics]
    links = [
        PaperTopic(paper=paper, topic_id=topic_id, score=score)
        for paper in papers
        for topic_id, score in tagging.tag_paper(paper.title, paper.abstract, paper.categories, rules).items()
    ]
    PaperTopic.objects.bulk_create(links)


def load_readers(count: int, topics: list[Topic], rng: random.Random) -> int:
    """Readers due now; 1% suppressed. Returns how many should get a delivery row."""
    now = timezone.now()
    phrases = [t.keywords[0] for t in topics if t.keywords]
    through = Subscriber.topics.through
    suppressed = 0
    for start in range(0, count, BATCH):
        readers = []
        for i in range(start, min(count, start + BATCH)):
            zone = rng.choice(ZONES)
            local = now.astimezone(ZoneInfo(zone))
            weekly = rng.random() < 0.1
            readers.append(
                Subscriber(
                    email=f"bench{i}@example.com",
                    status=Subscriber.Status.ACTIVE,
                    confirmed_at=now,
                    time_zone=zone,
                    delivery_hour=local.hour,
                    frequency=Subscriber.Frequency.WEEKLY if weekly else Subscriber.Frequency.DAILY,
                    delivery_weekday=local.weekday(),
                    digest_size=rng.choice([5, 10, 10, 10, 15, 20]),
                    interests=", ".join(rng.sample(phrases, 2)) if rng.random() < 0.4 else "",
                )
            )
        readers = Subscriber.objects.bulk_create(readers)
        through.objects.bulk_create(
            [
                through(subscriber_id=r.pk, topic_id=t.pk)
                for r in readers
                for t in rng.sample(topics, rng.randint(1, 3))
            ]
        )
        blocked = [r for r in readers if rng.random() < 0.01]
        Suppression.objects.bulk_create(
            [
                Suppression(email_hash=email_hash(r.email), reason=Suppression.Reason.HARD_BOUNCE)
                for r in blocked
            ]
        )
        suppressed += len(blocked)
    return count - suppressed


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


ESP_HTTP = "Anymail's Postmark backend -> bench/esp_server.py"
BACKENDS = {
    # An API ESP (Postmark, Mailgun, SendGrid...): Anymail's payload, serialised as JSON.
    "api": "newsletter.backends.ApiDiscardBackend",
    # SMTP or a raw-MIME API: complete RFC 822 bytes.
    "mime": "newsletter.backends.DiscardBackend",
}


def worker_env(args: argparse.Namespace, queue: str, probe_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_QUEUE": queue,
        "BENCH_PROBE_DIR": str(probe_dir),
        "BENCH_ESP_LATENCY_MS": str(args.esp_latency_ms),
        "DIGEST_SEND_THREADS": str(args.threads),
        "DIGEST_CHUNK_SIZE": str(args.chunk_size),
        "DIGEST_MAX_SEND_RATE": str(args.max_send_rate or ""),
        "DIGEST_RETRY_BASE_SECONDS": str(args.retry_base_seconds),
        "LOG_LEVEL": "WARNING",
    }
    if args.esp == "http":
        env["DJANGO_EMAIL_BACKEND"] = "anymail.backends.postmark.EmailBackend"
        env["ANYMAIL_POSTMARK_API_URL"] = f"http://127.0.0.1:{args.esp_port}/"
        env["ANYMAIL_POSTMARK_SERVER_TOKEN"] = "bench-server-token"
    else:
        env["DJANGO_EMAIL_BACKEND"] = BACKENDS[args.backend]
    return env


def start_esp(args: argparse.Namespace, log_path: Path) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "bench" / "esp_server.py"), f"--port={args.esp_port}"]
    cmd += [f"--latency-ms={args.esp_latency_ms}", f"--rate-limited={args.rate_limited}"]
    cmd += [f"--unavailable={args.unavailable}"]
    server = subprocess.Popen(cmd, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            esp_stats(args.esp_port)
            time.sleep(0.5)
            if server.poll() is None:  # not another server that holds the port
                return server
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the ESP server did not start:\n" + log_path.read_text(errors="replace")[-2000:])


def esp_stats(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def start_workers(concurrency: int, queue: str, log_path: Path, env: dict[str, str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--include", "bench.probe"]
    cmd += [f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
    worker = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text(errors="replace"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("worker failed to start:\n" + log_path.read_text(errors="replace")[-2000:])
        time.sleep(0.2)
    return worker


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a worker and its pool processes together."""
    try:
        main = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [main, *main.children(recursive=True)]) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a worker and its pool processes: on a shared machine the rate
    depends on the load, CPU per digest does not."""
    main = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [main, *main.children(recursive=True)])


def wait_for_settled(expected: int, timeout: float, worker_pid: int) -> tuple[float, float]:
    """Seconds until every expected row exists and none is unfinished, and the peak memory of
    all worker processes together meanwhile (MB)."""
    started, deadline = time.perf_counter(), time.monotonic() + timeout
    pending = [DigestDelivery.Status.QUEUED, DigestDelivery.Status.CLAIMED, DigestDelivery.Status.SENDING]
    peak = 0.0
    while time.monotonic() < deadline:
        peak = max(peak, tree_rss_mb(worker_pid))
        # The cheap indexed check first: polling must not slow down what it measures.
        busy = DigestDelivery.objects.filter(status__in=pending).exists()
        if not busy and DigestDelivery.objects.count() >= expected:
            return time.perf_counter() - started, peak
        time.sleep(0.25)
    raise SystemExit(f"not settled after {timeout:.0f}s: {DigestDelivery.objects.count()} rows")


def send_all(args: argparse.Namespace, expected: int, tmp: Path) -> tuple[float, float, list[dict], dict]:
    """Start the ESP (with --esp http) and the workers, run one tick, wait for it to settle."""
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    esp = start_esp(args, tmp / "esp.log") if args.esp == "http" else None
    worker = None
    try:
        worker = start_workers(args.concurrency, queue, tmp / "worker.log", worker_env(args, queue, tmp))
        celery_app.send_task("newsletter.tasks.digest_tick", queue=queue)
        seconds, peak = wait_for_settled(expected, args.timeout, worker.pid)
        received = esp_stats(args.esp_port) if esp else {}
        received["worker_cpu_seconds"] = tree_cpu_seconds(worker.pid)
        # The local ESP shares the cores with the workers: its CPU is part of the figure's cost.
        received["esp_cpu_seconds"] = tree_cpu_seconds(esp.pid) if esp else 0.0
    finally:
        if worker:
            worker.terminate()
            worker.wait(60)
        if esp:
            esp.terminate()
            esp.wait(30)
    probes = [json.loads(p.read_text()) for p in tmp.glob("*.json")]
    return seconds, peak, probes, received


def run(args: argparse.Namespace) -> dict:
    rng = random.Random(args.seed)
    started = time.perf_counter()
    topics = load_topics(args.data.parent)
    load_papers(read_papers(args.data, args.papers, rng), topics, rng)
    expected = load_readers(args.subscribers, topics, rng)
    setup_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        seconds, peak_mb, probes, received = send_all(args, expected, Path(tmp))
    counts = dict(DigestDelivery.objects.values_list("status").annotate(n=django.db.models.Count("id")))
    done = sum(counts.values())
    queries = sum(p["queries"] for p in probes)
    cpu = received["worker_cpu_seconds"]
    return {
        "subscribers": args.subscribers,
        "papers": Paper.objects.count(),
        "database": connection.vendor,
        "broker": settings.CELERY_BROKER_URL.split(":")[0],
        "worker_processes": args.concurrency,
        "email_backend": ESP_HTTP if args.esp == "http" else BACKENDS[args.backend],
        "esp_latency_ms": args.esp_latency_ms,
        "send_threads_per_process": args.threads,
        "max_send_rate": args.max_send_rate,
        "setup_seconds": round(setup_seconds, 1),
        "job_seconds": round(seconds, 2),
        "deliveries": counts,
        "digests_per_second": round(counts.get("sent", 0) / seconds, 1),
        "rows_per_second": round(done / seconds, 1),
        "matching_seconds": round(sum(p["matching_seconds"] for p in probes), 2),
        "sql_queries": queries,
        "sql_queries_per_digest": round(queries / max(done, 1), 4),
        "peak_memory_mb_per_process": sorted(round(p["peak_rss_mb"], 1) for p in probes),
        "peak_memory_mb_all_workers": round(peak_mb, 1),
        "worker_cpu_seconds": round(cpu, 1),
        "worker_cpu_ms_per_digest": round(1000 * cpu / max(counts.get("sent", 0), 1), 2),
        "esp_answers": received.get("answers", {}),
        "esp_server_cpu_seconds": round(received["esp_cpu_seconds"], 1),
        "esp_server_cpu_ms_per_request": round(
            1000 * received["esp_cpu_seconds"] / max(sum(received.get("answers", {}).values()), 1), 3
        ),
        "esp_accepted_per_second": received.get("accepted_per_second"),
        "esp_messages_per_recipient": received.get("messages_per_recipient", {}),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2, help="worker processes")
    parser.add_argument("--data", type=Path, default=DATA / "dev.jsonl.gz")
    parser.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        default="api",
        help="what building a message means (see BACKENDS)",
    )
    parser.add_argument("--esp", choices=["discard", "http"], default="discard")
    parser.add_argument("--esp-latency-ms", type=float, default=0.0, help="each ESP call takes this long")
    parser.add_argument("--esp-port", type=int, default=18310)
    parser.add_argument("--rate-limited", type=float, default=0.0, help="share of 429 answers (--esp http)")
    parser.add_argument("--unavailable", type=float, default=0.0, help="share of 503 answers (--esp http)")
    parser.add_argument("--threads", type=int, default=16, help="DIGEST_SEND_THREADS")
    parser.add_argument("--chunk-size", type=int, default=500, help="DIGEST_CHUNK_SIZE")
    parser.add_argument("--max-send-rate", type=float, default=0.0, help="DIGEST_MAX_SEND_RATE")
    parser.add_argument("--retry-base-seconds", type=float, default=60.0, help="DIGEST_RETRY_BASE_SECONDS")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    if args.subscribers < 1 or args.papers < 1:
        parser.error("--subscribers and --papers must be positive")
    return args


def main() -> None:
    args = parse_args()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        result = run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    for key, value in result.items():
        print(f"{key:>28}: {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
