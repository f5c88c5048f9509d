"""Where a digest's CPU goes: one process sends chunks, every component timed in CPU seconds.

    .venv/bin/python bench/send_profile.py --subscribers 10000 --papers 500
        [--backend mime|api|http] [--threads 16] [--esp-port 18311] [--profile --top 30]

Builds the same throwaway database as bench/daily_job.py, plans every reader, then calls
sending.send_chunk in this process, as a worker does. It prints the CPU per sent digest (the
thread CPU time of each component, whatever thread it ran in, so the figures hold on a busy
machine): loading and matching a chunk, the digest's context (of which signing links), its
templates, the ESP call (Anymail's payload, MIME, HTTP), the database writes, and the
PostgreSQL backend's own CPU. --profile adds a cProfile of the calling thread (CPU time).
--backend http sends through Anymail's Postmark backend to bench/esp_server.py (no latency).
"""

import argparse
import cProfile
import functools
import os
import pstats
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import daily_job  # noqa: E402  (sets Django up)
from newsletter import day_index, delivery_states, digests, emails, matching, planning, sending  # noqa: E402

spent: dict[str, float] = defaultdict(float)
lock = threading.Lock()
# label -> (module, attribute path); nested components count inside their callers too
COMPONENTS = {
    "load and match a chunk": (digests, "load_chunk"),
    "  of which matching.rank": (matching, "rank"),
    "digest context": (emails, "DigestRenderer.context"),
    "  of which link signing": (emails, "reader_token"),
    "digest templates": (emails, "render"),
    "ESP call (payload, MIME, HTTP)": (sending, "send_one"),
    "claim": (delivery_states, "DeliveryQuerySet.claim"),
    "write-ahead marks": (delivery_states, "DeliveryQuerySet.start"),
    "recorded outcomes": (sending, "Sender.record"),
}


def timed(label: str, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        depth = getattr(local, label, 0)
        setattr(local, label, depth + 1)
        started = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            setattr(local, label, depth)
            if not depth:  # recursion counts once
                with lock:
                    spent[label] += time.thread_time() - started

    return wrapper


local = threading.local()


profilers: list[cProfile.Profile] = []


def profiled(function):
    """Each send thread profiles its own calls (CPU time), merged with the calling thread's."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        profiler = getattr(local, "profiler", None)
        if profiler is None:
            profiler = local.profiler = cProfile.Profile(time.thread_time)
            with lock:
                profilers.append(profiler)
        profiler.enable()
        try:
            return function(*args, **kwargs)
        finally:
            profiler.disable()

    return wrapper


def install_timers() -> None:
    for label, (module, path) in COMPONENTS.items():
        owner_name, _, name = path.rpartition(".")
        owner = getattr(module, owner_name) if owner_name else module
        setattr(owner, name, timed(label, getattr(owner, name)))


def configure(args: argparse.Namespace) -> None:
    settings.DIGEST_SEND_THREADS = args.threads
    settings.DIGEST_CHUNK_SIZE = args.chunk_size
    settings.DIGEST_MAX_SEND_RATE = None
    if args.backend == "http":
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {
            **settings.ANYMAIL,
            "POSTMARK_API_URL": f"http://127.0.0.1:{args.esp_port}/",
            "POSTMARK_SERVER_TOKEN": "bench-server-token",
        }
    else:
        settings.EMAIL_BACKEND = daily_job.BACKENDS[args.backend]


def backend_cpu() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return sum(psutil.Process(pid).cpu_times()[:2])


def send_everything(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    topics = daily_job.load_topics(args.data.parent)
    daily_job.load_papers(daily_job.read_papers(args.data, args.papers, rng), topics, rng)
    daily_job.load_readers(args.subscribers, topics, rng)
    now = timezone.now()
    ids = planning.create_deliveries(planning.due_readers(now), now)
    chunks = [ids[i : i + args.chunk_size] for i in range(0, len(ids), args.chunk_size)]
    day_index.day_papers(now)  # the day's index and fragments: built once a day, not per digest
    install_timers()
    profiler = cProfile.Profile(time.thread_time) if args.profile else None
    if profiler and args.threads > 1:
        sending.Sender.send = profiled(sending.Sender.send)
    counts: Counter = Counter()
    wall, cpu, pg = time.perf_counter(), time.process_time(), backend_cpu()
    if profiler:
        profiler.enable()
    for chunk in chunks:
        counts.update(sending.send_chunk(chunk, now))
    if profiler:
        profiler.disable()
    wall, cpu, pg = time.perf_counter() - wall, time.process_time() - cpu, backend_cpu() - pg
    sent = counts.get("sent", 0)
    print(f"deliveries: {dict(counts)}; {wall:.1f}s wall, {args.threads} send threads")
    print(f"{'process CPU per sent digest (ms)':>36}: {1000 * cpu / max(sent, 1):.3f}")
    print(f"{'PostgreSQL backend CPU (ms)':>36}: {1000 * pg / max(sent, 1):.3f}")
    for label in COMPONENTS:
        print(f"{label:>36}: {1000 * spent[label] / max(sent, 1):.3f}")
    if profiler:
        pstats.Stats(profiler, *profilers).sort_stats(args.sort).print_stats(args.top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--data", type=Path, default=daily_job.DATA / "dev.jsonl.gz")
    parser.add_argument("--backend", choices=["api", "mime", "http"], default="mime")
    parser.add_argument("--threads", type=int, default=16, help="DIGEST_SEND_THREADS")
    parser.add_argument("--esp-port", type=int, default=18310)
    parser.add_argument("--esp-latency-ms", type=float, default=0.0)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="cProfile the calling thread")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    if args.subscribers < 1 or args.papers < 1 or args.threads < 1:
        parser.error("--subscribers, --papers and --threads must be positive")
    configure(args)
    server = None
    if args.backend == "http":
        cmd = [sys.executable, str(ROOT / "bench" / "esp_server.py"), f"--port={args.esp_port}"]
        cmd.append(f"--latency-ms={args.esp_latency_ms}")
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        time.sleep(2)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        send_everything(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        if server:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    main()
