"""How well matching picks papers, measured against human topic labels, next to the baselines.

    python bench/matching_quality.py [--data PATH] [--kinds K,K] [--days N] [--window-days N]
        [--split all|even|odd] [--background PATH|none] [--semantic] [--embeddings PATH] [--json]

Simulated readers, one per fine topic (e.g. "machine unlearning"; relevant = the paper is in that
topic's curated list) and one per arXiv category of topics.json (e.g. "robotics"; relevant = the
paper lists cs.RO). Each day's papers are ranked; reader-days with no relevant paper are skipped.
P@10 = relevant papers in the top 10 / min(10, relevant that day); nDCG@10 with binary gains.
Labels are only read to score, to pick seeds and to simulate ratings: rankers never see them.

Reader kinds (`--kinds`, default all):
- fine_phrase, category_phrase: the topic's phrase as the reader's interest.
- fine_topic, category_topic: the reader follows the catalogue topic of the label, through the
  real topic path (the day's papers tagged by papers.tagging, arXiv categories, keywords). The
  starting catalogue (papers/migrations/0002_seed_topics.py) copies this evaluation's label set:
  its nine fine topics are the nine curated lists of topics.json and its category topics are
  topics.json's categories with the same phrases, and its keywords were written by the same
  people who had these data. Topic figures are therefore optimistic for a new topic; a category
  topic matches on metadata (the paper's categories), which is the label itself.
- multi_interest: 200 readers with 3 labels each (numpy default_rng(0)), their phrases as
  interests; relevant = any of the labels; label_coverage_at_10 = share of the reader's labels
  that had a relevant paper that day and got at least one in the top 10.
- fine_seeds, category_seeds: protocol B, fine_feedback, category_feedback: protocol C of
  PROTOCOLS.md (bench/matching_protocols.py), with `<method>_last_half`.

Systems: ours (the product's rank()), bm25 and baseline (keyword; for topic readers both are
given the label's phrase) everywhere, svm
(arxiv-sanity-lite) for seeds and feedback; see bench/matching_baselines.py. `--semantic` turns on
the product's optional embeddings with paper vectors from a cache (never downloaded): `dev.npy`
and `dev_ids.json` (paper ids in row order, text "title. abstract") under --embeddings, default
var/bench-cache/minilm; phrases are embedded by newsletter.embeddings.
"""

import argparse
import gzip
import json
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import matching_baselines as baselines  # noqa: E402
from bench import matching_protocols as protocols  # noqa: E402
from bench.matching_readers import Day, Scores, catalogue, kinds_of, ours, tagged  # noqa: E402
from newsletter.textmodel import Background, default_background  # noqa: E402

# Beside the checkout (or beside the folder of worktrees that holds it).
DEFAULT_DATA = (
    next(
        (p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.exists()),
        ROOT.parent / "shared",
    )
    / "data"
    / "matching"
    / "dev.jsonl.gz"
)
K = baselines.K
KINDS = (
    "fine_phrase", "category_phrase", "fine_topic", "category_topic", "multi_interest",
    "fine_seeds", "category_seeds", "fine_feedback", "category_feedback",
)  # fmt: skip
MULTI_READERS = 200


def load_papers(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for i, row in enumerate(rows):
        row["_i"] = i  # the paper's id for the product: stable across days (seeds, ratings)
    return rows


def load_readers(topics_path: Path) -> list[tuple[str, str, str]]:
    """(fine | category, phrase, label) for every simulated reader."""
    data = json.loads(topics_path.read_text())
    fine = [("fine", v["phrase"], key) for key, v in data["fine_topics"].items()]
    return fine + [("category", phrase, cat) for cat, phrase in data["category_topics"].items()]


def in_split(row: dict, split: str) -> bool:
    """Days alternate between two halves, so a held-out check sees the same seasons."""
    parity = date.fromisoformat(row["date"]).toordinal() % 2
    return split == "all" or parity == {"even": 0, "odd": 1}[split]


def is_relevant(row: dict, kind: str, label: str) -> bool:
    return label in (row["topics"] if kind == "fine" else row["categories"])


def windows(rows: list[dict], days: int) -> dict[date, list[dict]]:
    """Papers grouped by listing day, or by blocks of `days` consecutive days."""
    groups: dict[date, list[dict]] = defaultdict(list)
    for row in rows:
        day = date.fromisoformat(row["date"])
        groups[date.fromordinal(day.toordinal() // days * days)].append(row)
    return dict(sorted(groups.items()))


def multi_readers(readers: list[tuple[str, str, str]]) -> list[list[tuple[str, str, str]]]:
    rng = np.random.default_rng(0)
    return [[readers[i] for i in rng.choice(len(readers), 3, replace=False)] for _ in range(MULTI_READERS)]


def interests(phrases: list[str]) -> str:
    return "; ".join(p.replace(",", " ").replace(";", " ") for p in phrases)


def static_kinds(rows, readers, kinds, window, ctx) -> Scores:
    """Phrase, topic and multi-interest readers: nothing learned, each window on its own."""
    scores = Scores()
    multi = multi_readers(readers)
    topics, rules, topic_of = catalogue(readers)
    rng = np.random.default_rng(0)
    every = max(ctx.get("every") or 1, 1)
    for n, (day, group) in enumerate(windows(rows, window).items()):
        if n % every:
            continue
        d = Day.cached(day, group, ctx) if window == 1 else Day(day, group, ctx)
        relevant = {label: np.array([is_relevant(r, k, label) for r in group]) for k, _, label in readers}
        phrases = [p for _, p, _ in readers]
        lexical = {}
        if {"fine_phrase", "category_phrase", "fine_topic", "category_topic"} & kinds:
            lexical = {
                "bm25": baselines.bm25(phrases, group),
                "baseline": baselines.keyword(phrases, group, rng),
            }
        if {"fine_phrase", "category_phrase"} & kinds:
            systems = {"ours": ours(d, [dict(interests=interests([p])) for p in phrases]), **lexical}
            for i, (kind, _, label) in enumerate(readers):
                if f"{kind}_phrase" in kinds:
                    scores.add(f"{kind}_phrase", systems, i, relevant[label])
        if {"fine_topic", "category_topic"} & kinds:
            d.topics, d.topic_ids = topics, tagged(group, rules)
            systems = {
                "ours": ours(d, [dict(topic_ids=(topic_of[label],)) for _, _, label in readers]),
                **lexical,
            }
            for i, (kind, _, label) in enumerate(readers):
                if f"{kind}_topic" in kinds:
                    scores.add(f"{kind}_topic", systems, i, relevant[label])
            d.topics, d.topic_ids = {}, {}
        if "multi_interest" in kinds:
            multi_day(scores, d, multi, relevant, rng)
    return scores


def multi_day(scores: Scores, d: Day, multi, relevant, rng) -> None:
    queries = [interests([p for _, p, _ in labels]) for labels in multi]
    systems = {
        "ours": ours(d, [dict(interests=q) for q in queries]),
        "bm25": baselines.bm25([q.replace(";", " ") for q in queries], d.rows),
        "baseline": baselines.keyword(queries, d.rows, rng),
    }
    for i, labels in enumerate(multi):
        per_label = [relevant[label] for _, _, label in labels]
        scores.add("multi_interest", systems, i, np.logical_or.reduce(per_label), per_label)


def run(rows, readers, kinds, window, ctx) -> dict:
    scores = static_kinds(rows, readers, kinds, window, ctx)
    if kinds_of(kinds, "_seeds") or kinds_of(kinds, "_feedback"):
        protocols.run(scores, rows, readers, kinds, ctx)
    return scores.figures()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--topics", type=Path, help="default: topics.json beside --data")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated reader kinds")
    parser.add_argument("--window-days", type=int, default=1, help="1: each day's papers; 7: weekly")
    parser.add_argument("--days", type=int, default=0, help="only every n-th day (0: all), to iterate")
    parser.add_argument("--split", choices=["all", "even", "odd"], default="all", help="days by parity")
    parser.add_argument("--background", default="", help="document frequencies file, or 'none'")
    parser.add_argument("--semantic", action="store_true", help="with the optional embeddings")
    parser.add_argument("--embeddings", type=Path, help="folder with dev.npy and dev_ids.json")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    kinds = set(args.kinds.split(","))
    if unknown := kinds - set(KINDS):
        sys.exit(f"matching_quality: unknown kind {sorted(unknown)[0]!r} (known: {', '.join(KINDS)})")
    topics = args.topics or args.data.parent / "topics.json"
    if not args.data.exists() or not topics.exists():
        sys.exit(f"matching_quality: missing {args.data if not args.data.exists() else topics}")
    background = {"": default_background(), "none": Background.empty()}.get(args.background)
    ctx = {"background": background or Background.load(Path(args.background)), "every": args.days}
    rows = [r for r in load_papers(args.data) if in_split(r, args.split)]
    if args.semantic:
        ctx["semantic"] = protocols.load_embeddings(args.embeddings, rows)
        dates = sorted({r["date"] for r in rows})
        if not dates:
            sys.exit("matching_quality: the embeddings cache holds none of these days")
        print(f"embeddings cover {len(dates)} days, {dates[0]} to {dates[-1]}")
    started, cpu = time.perf_counter(), time.process_time()
    result = run(rows, load_readers(topics), kinds, args.window_days, ctx)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{len(rows)} papers, window {args.window_days} day(s), {seconds:.0f} s ({cpu:.0f} s CPU)")
    for kind, figures in result.items():
        print(f"{kind:18} ({figures['reader_days']} reader-days)")
        for system, f in figures.items():
            if system == "reader_days":
                continue
            extra = "".join(f"   {k} {v:.3f}" for k, v in f.items() if k not in ("p_at_10", "ndcg_at_10"))
            print(f"  {system:22} P@10 {f['p_at_10']:.3f}   nDCG@10 {f['ndcg_at_10']:.3f}{extra}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
