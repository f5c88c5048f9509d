"""How long matching takes for a whole population, and how much memory it needs.

    python bench/matching_speed.py [--readers 100000] [--papers 500] [--population topics|signals]
                                   [--semantic] [--data PATH] [--json]

Readers follow 1-4 topics of a catalogue built from topics.json (fine topics and arXiv-category
topics) and half of them also write 1-3 free-text interests; papers are drawn from the DEV data
with upvotes, editor picks and catalog tags. `--population signals` also gives every reader 5 seed
papers and 20 ratings (10 👍, 10 👎) drawn from a library of LIBRARY earlier DEV papers, one
followed author, one muted word and a trending setting. Prints the seconds for build_index() and
rank() and the process's peak RSS (target: 100,000 x 500 in <= 30 s and <= 1 GB). `--semantic`
adds the semantic model's share as digests hand it over: stored 384-dimension vectors of the day's
papers, the library papers and the interest phrases (random unit vectors here: the cost of matching
does not depend on their values; encoding happens once per paper at import and once per phrase).
"""

import argparse
import gzip
import json
import resource
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DIMENSIONS = 384  # all-MiniLM-L6-v2
sys.path.insert(0, str(ROOT))

from bench.matching_quality import DEFAULT_DATA  # noqa: E402
from newsletter.matching import PaperDoc, ReaderDoc, Semantic, TopicDoc, build_index, rank  # noqa: E402

EXTRA_INTERESTS = [
    "diffusion models", "retrieval-augmented generation", "LLM agents", "reward modeling",
    "mixture of experts", "state space models", "code generation", "vision-language-action models",
    "federated learning", "graph neural networks", "time series forecasting", "AI safety",
    "model compression and quantization", "text-to-speech", "medical imaging", "autonomous driving",
]  # fmt: skip


def catalogue(topics_path: Path) -> dict[int, TopicDoc]:
    data = json.loads(topics_path.read_text())
    topics = [TopicDoc(0, v["phrase"].capitalize(), (v["phrase"],)) for v in data["fine_topics"].values()]
    topics += [TopicDoc(0, p.capitalize(), (p,), (c,)) for c, p in data["category_topics"].items()]
    return {i + 1: TopicDoc(i + 1, t.name, t.keywords, t.categories) for i, t in enumerate(topics)}


def sample_papers(path: Path, n: int, topics: dict, now: datetime, rng) -> list[PaperDoc]:
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if rng.random() < 3 * n / 50_000:
                rows.append(json.loads(line))
            if len(rows) == n:
                break
    upvotes = rng.zipf(1.8, size=len(rows)).clip(0, 400)
    return [
        PaperDoc(
            i + 1, r["title"], r["abstract"], now - timedelta(hours=float(rng.uniform(1, 30))),
            frozenset(int(t) for t in rng.choice(list(topics), size=int(rng.integers(0, 3)))),
            int(upvotes[i]), bool(rng.random() < 0.02), tuple(r["categories"]),
        )
        for i, r in enumerate(rows)
    ]  # fmt: skip


def population(n: int, topics: dict, paper_ids: list[int], now: datetime, rng) -> list[ReaderDoc]:
    phrases = [t.keywords[0] for t in topics.values()] + EXTRA_INTERESTS
    readers = []
    for i in range(n):
        followed = tuple(
            int(t) for t in rng.choice(list(topics), size=int(rng.integers(1, 5)), replace=False)
        )
        n_interests = int(rng.integers(1, 4)) if rng.random() < 0.5 else 0
        interests = ", ".join(rng.choice(phrases, size=n_interests, replace=False))
        exclude = frozenset(int(p) for p in rng.choice(paper_ids, size=int(rng.integers(0, 5))))
        size = int(rng.choice([5, 10, 20]))
        readers.append(ReaderDoc(i + 1, followed, interests, size, now - timedelta(days=1), exclude))
    return readers


LIBRARY = 20_000  # distinct papers readers rated or seeded: a few weeks of a busy site
MUTES = ["survey", "benchmark", "medical", "quantum", "crypto", "legal"]


def library_papers(path: Path, n: int, now: datetime) -> dict[int, PaperDoc]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for _, line in zip(range(n), f, strict=False)]
    old = now - timedelta(days=30)
    return {
        1_000_000 + i: PaperDoc(1_000_000 + i, r["title"], r["abstract"], old) for i, r in enumerate(rows)
    }


def with_signals(readers: list[ReaderDoc], library: list[int], authors: list[str], rng) -> list[ReaderDoc]:
    out = []
    for reader in readers:
        ids = [int(i) for i in rng.choice(library, size=25, replace=False)]
        out.append(
            replace(
                reader, seed_ids=tuple(ids[:5]), liked_ids=tuple(ids[5:15]), disliked_ids=tuple(ids[15:]),
                followed_authors=(str(rng.choice(authors)),), muted=(str(rng.choice(MUTES)),),
                trending=str(rng.choice(["matches", "balanced", "top"])),
            )
        )  # fmt: skip
    return out


def stored_vectors(papers: list[PaperDoc], library: dict[int, PaperDoc], rng) -> Semantic:
    """What digests read from PaperEmbedding and PhraseEmbedding, as random unit vectors."""

    def unit(n: int) -> np.ndarray:
        vectors = rng.standard_normal((n, DIMENSIONS)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    phrases: dict[str, np.ndarray] = {}

    def stored_phrases(texts) -> np.ndarray:
        for text in texts:
            if text not in phrases:
                phrases[text] = unit(1)[0]
        return np.vstack([phrases[t] for t in texts]) if texts else np.zeros((0, DIMENSIONS), np.float32)

    return Semantic(unit(len(papers)), stored_phrases, dict(zip(library, unit(len(library)), strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=100_000)
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--population", choices=["topics", "signals"], default="topics")
    parser.add_argument("--semantic", action="store_true", help="with stored embedding vectors")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"matching_speed: missing {args.data}")
    rng = np.random.default_rng(0)
    now = datetime(2026, 6, 1, 7, tzinfo=UTC)
    topics = catalogue(args.data.parent / "topics.json")
    papers = sample_papers(args.data, args.papers, topics, now, rng)
    readers = population(args.readers, topics, [p.id for p in papers], now, rng)
    library: dict[int, PaperDoc] = {}
    if args.population == "signals":
        library = library_papers(args.data, LIBRARY, now)
        authors = [f"Author {i}" for i in range(2000)]
        papers = [replace(p, authors=(str(rng.choice(authors)),)) for p in papers]
        readers = with_signals(readers, list(library), authors, rng)
    semantic = stored_vectors(papers, library, rng) if args.semantic else None
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu_started = time.perf_counter(), time.process_time()
    index = build_index(papers, topics, semantic=semantic)
    indexed = time.perf_counter()
    picks = rank(readers, index, now, library)
    done, cpu_done = time.perf_counter(), time.process_time()
    figures = {
        "population": args.population,
        "semantic": args.semantic,
        "readers": len(readers),
        "papers": len(papers),
        "index_seconds": round(indexed - started, 2),
        "rank_seconds": round(done - indexed, 2),
        "matching_seconds": round(done - started, 2),
        # CPU seconds: what a worker spends, also on a shared, busy machine
        "matching_cpu_seconds": round(cpu_done - cpu_started, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_matching_mb": round(rss_before),
        "readers_with_picks": sum(1 for p in picks.values() if p),
        "mean_picks": round(sum(len(p) for p in picks.values()) / max(len(picks), 1), 2),
    }
    for key, value in figures.items():
        print(f"{key:24} {value}")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
