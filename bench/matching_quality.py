"""How well matching picks papers, measured against human topic labels.

    python bench/matching_quality.py [--data PATH] [--window-days N] [--from-date D] [--to-date D]
                                     [--background PATH|none] [--json]

Simulated readers, each described only by a phrase and sent through the product's own rank():
one per fine topic (e.g. "machine unlearning"; relevant = the paper is in that topic's curated
list) and one per arXiv category (e.g. "robotics"; relevant = the paper lists cs.RO). Each day's
papers (or each window of N days: a weekly reader's candidates) are ranked; reader-days with no
relevant paper are skipped. P@10 = relevant papers in the top 10 / min(10, relevant that day),
so a day with one relevant paper scores 1 if it made the digest; nDCG@10 uses binary gains.
The labels are only read to score: ranking never sees them (papers carry no topic tags here).
The baseline counts how many of the phrase's words occur as substrings of title + abstract.
"""

import argparse
import gzip
import json
import re
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newsletter.matching import PaperDoc, ReaderDoc, build_index, rank  # noqa: E402
from newsletter.textmodel import Background, default_background  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "matching" / "dev.jsonl.gz"
K = 10
_STOP = {"and", "for", "of", "on", "the", "in", "a", "to", "with", "from", "by"}


def load_papers(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_readers(topics_path: Path) -> list[tuple[str, str, str]]:
    """(reader type, phrase, label) for every simulated reader."""
    catalogue = json.loads(topics_path.read_text())
    fine = [("fine_phrase", v["phrase"], key) for key, v in catalogue["fine_topics"].items()]
    cats = [("category_phrase", phrase, cat) for cat, phrase in catalogue["category_topics"].items()]
    return fine + cats


def in_split(row: dict, split: str) -> bool:
    """Days alternate between two halves, so a held-out check sees the same seasons."""
    parity = date.fromisoformat(row["date"]).toordinal() % 2
    return split == "all" or parity == {"even": 0, "odd": 1}[split]


def is_relevant(row: dict, kind: str, label: str) -> bool:
    return label in (row["topics"] if kind == "fine_phrase" else row["categories"])


def windows(rows: list[dict], days: int) -> dict[date, list[dict]]:
    """Papers grouped by listing day, or by blocks of `days` consecutive days."""
    groups: dict[date, list[dict]] = defaultdict(list)
    for row in rows:
        day = date.fromisoformat(row["date"])
        groups[date.fromordinal(day.toordinal() // days * days)].append(row)
    return dict(sorted(groups.items()))


def ours(phrases: list[str], rows: list[dict], day: date, background: Background) -> list[list[int]]:
    """Each phrase's top 10 (row positions), through the same code path as a real digest."""
    now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
    papers = [
        PaperDoc(i, r["title"], r["abstract"], now - timedelta(hours=1), categories=tuple(r["categories"]))
        for i, r in enumerate(rows)
    ]
    since = now - timedelta(days=365)
    readers = [ReaderDoc(i, (), phrase, K, since) for i, phrase in enumerate(phrases)]
    picks = rank(readers, build_index(papers, {}, background), now)
    return [[p.paper_id for p in picks[i]] for i in range(len(phrases))]


def baseline(phrases: list[str], rows: list[dict], rng: np.random.Generator) -> list[list[int]]:
    texts = [f"{r['title']} {r['abstract']}".lower() for r in rows]
    out = []
    for phrase in phrases:
        words = [w for w in re.findall(r"\w+", phrase.lower()) if w not in _STOP]
        score = np.array([sum(w in t for w in words) for t in texts], dtype=float)
        order = np.lexsort((rng.random(len(texts)), -score))[:K]
        out.append([int(i) for i in order if score[i] > 0])
    return out


def day_scores(picked: list[int], relevant: np.ndarray) -> tuple[float, float]:
    hits = relevant[picked[:K]] if picked else np.zeros(0, dtype=bool)
    n_ideal = min(K, int(relevant.sum()))
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    ndcg = float((hits * discounts[: len(hits)]).sum() / discounts[:n_ideal].sum())
    return float(hits.sum()) / n_ideal, ndcg


def evaluate(rows, readers, days, background) -> dict:
    rng = np.random.default_rng(0)
    sums: dict = defaultdict(lambda: np.zeros(2))
    counts: dict = defaultdict(int)
    phrases = [phrase for _, phrase, _ in readers]
    for day, group in windows(rows, days).items():
        systems = {"ours": ours(phrases, group, day, background), "baseline": baseline(phrases, group, rng)}
        for i, (kind, _, label) in enumerate(readers):
            relevant = np.array([is_relevant(r, kind, label) for r in group])
            if not relevant.any():
                continue
            counts[kind] += 1
            for system, picks in systems.items():
                sums[kind, system] += day_scores(picks[i], relevant)
    return {
        kind: {
            system: dict(
                zip(("p_at_10", "ndcg_at_10"), np.round(sums[kind, system] / n, 3).tolist(), strict=True)
            )
            for system in ("ours", "baseline")
        }
        | {"reader_days": n}
        for kind, n in counts.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--topics", type=Path, help="default: topics.json beside --data")
    parser.add_argument("--window-days", type=int, default=1, help="1: each day's papers; 7: weekly")
    parser.add_argument("--from-date", default="", help="only days on or after (YYYY-MM-DD)")
    parser.add_argument("--to-date", default="9999", help="only days before (YYYY-MM-DD)")
    parser.add_argument("--split", choices=["all", "even", "odd"], default="all", help="days by parity")
    parser.add_argument("--background", default="", help="document frequencies file, or 'none'")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    topics = args.topics or args.data.parent / "topics.json"
    if not args.data.exists() or not topics.exists():
        sys.exit(f"matching_quality: missing {args.data if not args.data.exists() else topics}")
    background = {"": default_background(), "none": Background.empty()}.get(args.background)
    background = background or Background.load(Path(args.background))
    rows = [
        r
        for r in load_papers(args.data)
        if args.from_date <= r["date"] < args.to_date and in_split(r, args.split)
    ]
    started = time.perf_counter()
    result = evaluate(rows, load_readers(topics), args.window_days, background)
    print(f"{len(rows)} papers, window {args.window_days} day(s), {time.perf_counter() - started:.0f} s")
    for kind, figures in result.items():
        print(f"{kind:16} ({figures['reader_days']} reader-days)")
        for system in ("ours", "baseline"):
            f = figures[system]
            print(f"  {system:9} P@10 {f['p_at_10']:.3f}   nDCG@10 {f['ndcg_at_10']:.3f}")
    if args.json:
        print(json.dumps({k: {s: v[s] for s in ("ours", "baseline")} for k, v in result.items()}))


if __name__ == "__main__":
    main()
