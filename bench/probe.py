"""Loaded into benchmark workers with `celery worker --include bench.probe`: counts each worker
process's SQL queries and matching time, and records its peak memory, in BENCH_PROBE_DIR."""

import json
import os
import resource
import time
from pathlib import Path

from celery.signals import task_postrun, task_prerun, worker_process_init
from django.db import connection

from newsletter import matching

stats = {"queries": 0, "matching_seconds": 0.0, "tasks": 0}


def count_query(execute, sql, params, many, context):
    stats["queries"] += 1
    return execute(sql, params, many, context)


def timed(function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            stats["matching_seconds"] += time.perf_counter() - started

    return wrapper


@worker_process_init.connect
def install(**kwargs) -> None:
    matching.build_index = timed(matching.build_index)
    matching.rank = timed(matching.rank)


@task_postrun.connect
def report(**kwargs) -> None:
    stats["tasks"] += 1
    stats["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    path = Path(os.environ["BENCH_PROBE_DIR"]) / f"{os.getpid()}.json"
    path.write_text(json.dumps(stats))


@task_prerun.connect
def count_queries(**kwargs) -> None:
    # Django opens a new connection object after close_old_connections(); wrap each one once.
    if count_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(count_query)
