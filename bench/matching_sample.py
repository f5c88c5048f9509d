"""Write the small sample of DEV days that the suite's matching quality test runs on.

    python bench/matching_sample.py [--data PATH] [--days 10] [--seed 0] [--out DIR]

Picks `--days` listing days at random (numpy default_rng(seed)) among the DEV days with at least
MIN_PAPERS papers, keeps all of their papers, and copies topics.json beside them. The committed
tests/fixtures/matching/sample.jsonl.gz is `--days 10 --seed 0`; the test's thresholds were set
to hold for seeds 0-5 too, so they describe samples of this size, not this one sample.
"""

import argparse
import gzip
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.matching_quality import DEFAULT_DATA, load_papers  # noqa: E402

MIN_PAPERS = 100  # a listing day, not a holiday stub
OUT = ROOT / "tests" / "fixtures" / "matching"


def sample(rows: list[dict], days: int, seed: int) -> list[dict]:
    counts = Counter(r["date"] for r in rows)
    full = sorted(day for day, n in counts.items() if n >= MIN_PAPERS)
    chosen = {full[i] for i in np.random.default_rng(seed).choice(len(full), days, replace=False)}
    return [r for r in rows if r["date"] in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = sample(load_papers(args.data), args.days, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out / "sample.jsonl.gz", "wt", encoding="utf-8", compresslevel=9) as f:
        for row in rows:
            f.write(json.dumps({k: v for k, v in row.items() if k != "_i"}) + "\n")
    shutil.copy(args.data.parent / "topics.json", args.out / "topics.json")
    print(f"{len(rows)} papers of {args.days} days -> {args.out}")


if __name__ == "__main__":
    main()
