"""The product's side of the quality bench: a day's papers as PaperDocs, simulated readers sent
through rank(), the catalogue topics of the labels, and the scores of each reader-day."""

import importlib
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import numpy as np

from newsletter.matching import PaperDoc, ReaderDoc, TopicDoc, build_index, rank
from papers.tagging import compile_topic, tag_paper

K = 10
# Which catalogue topic (by slug) stands for each fine label of topics.json.
FINE_SLUGS = {
    "rl_reasoning": "rl-for-reasoning", "gui_agents": "gui-agents", "unlearning": "machine-unlearning",
    "video_diffusion": "video-diffusion", "speculative_decoding": "speculative-decoding",
    "mllm": "multimodal-llms", "jailbreak": "jailbreaks", "hallucination": "hallucination",
    "3dgs": "gaussian-splatting",
}  # fmt: skip


def kinds_of(kinds: set[str], suffix: str) -> list[str]:
    return sorted(k for k in kinds if k.endswith(suffix))


def doc(row: dict, now: datetime, topic_ids: frozenset[int] = frozenset()) -> PaperDoc:
    return PaperDoc(
        row["_i"], row["title"], row["abstract"], now - timedelta(hours=1), topic_ids,
        categories=tuple(row["categories"]),
    )  # fmt: skip


class Day:
    """One day's (or window's) papers for the product, indexed once per topic catalogue."""

    def __init__(self, day: date, rows: list[dict], ctx: dict):
        self.rows, self.ctx = rows, ctx
        self.now = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(days=1)
        self.topics: dict[int, TopicDoc] = {}
        self.topic_ids: dict[int, frozenset[int]] = {}
        self.position = {r["_i"]: pos for pos, r in enumerate(rows)}
        self._index: dict[bool, object] = {}

    @classmethod
    def cached(cls, day: date, rows: list[dict], ctx: dict) -> "Day":
        """The same Day while a run stays on one date (a whole run's indexes would take GBs)."""
        days = ctx.setdefault("days", {})
        if day not in days:
            days.clear()
            days[day] = cls(day, rows, ctx)
        return days[day]

    def index(self):
        key = bool(self.topics)
        if key not in self._index:
            papers = [doc(r, self.now, self.topic_ids.get(r["_i"], frozenset())) for r in self.rows]
            semantic = self.ctx.get("semantic")
            self._index[key] = build_index(
                papers, self.topics, self.ctx["background"], semantic.day(self.rows) if semantic else None
            )
        return self._index[key]


def ours(day: Day, readers: list[dict], library: dict | None = None) -> list[list[int]]:
    """Each reader's top 10 (positions in the day's rows) through the product's rank()."""
    since = day.now - timedelta(days=365)
    docs = [
        ReaderDoc(
            i, tuple(r.get("topic_ids", ())), r.get("interests", ""), K, since,
            **{k: v for k, v in r.items() if k not in ("topic_ids", "interests")},
        )
        for i, r in enumerate(readers)
    ]  # fmt: skip
    picks = rank(docs, day.index(), day.now, library)
    return [[day.position[p.paper_id] for p in picks[i]] for i in range(len(readers))]


def catalogue(readers) -> tuple[dict[int, TopicDoc], list, dict[str, int]]:
    """The starting topic catalogue as TopicDocs, its tagging rules, and each label's topic."""
    seed = importlib.import_module("papers.migrations.0002_seed_topics")
    rows = [(n, s, k, c) for n, s, _, k, c in seed.FINE_TOPICS]
    rows += [(n, s, k, c) for n, s, _, c, k in seed.CATEGORY_TOPICS]
    topics = {i: TopicDoc(i, n, tuple(k), tuple(c)) for i, (n, _, k, c) in enumerate(rows, 1)}
    slug_id = {s: i for i, (_, s, _, _) in enumerate(rows, 1)}
    topic_of = {}
    for kind, _, label in readers:
        if kind == "fine":
            topic_of[label] = slug_id[FINE_SLUGS[label]]
        else:
            topic_of[label] = next(t.id for t in topics.values() if label in t.categories)
    rules = [compile_topic(t.id, t.keywords, t.categories) for t in topics.values()]  # as at import
    return topics, rules, topic_of


def tagged(rows: list[dict], rules) -> dict[int, frozenset[int]]:
    """What the importer would tag each paper with (papers.tagging, as at import)."""
    return {r["_i"]: frozenset(tag_paper(r["title"], r["abstract"], r["categories"], rules)) for r in rows}


def day_scores(picked: list[int], relevant: np.ndarray) -> tuple[float, float]:
    hits = relevant[picked[:K]] if picked else np.zeros(0, dtype=bool)
    n_ideal = min(K, int(relevant.sum()))
    discounts = 1.0 / np.log2(np.arange(2, K + 2))
    ndcg = float((hits * discounts[: len(hits)]).sum() / discounts[:n_ideal].sum())
    return float(hits.sum()) / n_ideal, ndcg


class Scores:
    """Sums of P@10, nDCG@10 (and label coverage) per (kind, system) over scored reader-days."""

    def __init__(self):
        self.sums: dict = defaultdict(lambda: np.zeros(3))
        self.counts: dict = defaultdict(int)
        self.coverage: set[str] = set()

    def add(self, kind, systems, i, relevant, per_label=None, suffix="") -> None:
        if not relevant.any():
            return
        if not suffix:
            self.counts[kind] += 1
        for system, picks in systems.items():
            p, ndcg = day_scores(picks[i], relevant)
            covered = 0.0
            if per_label is not None:
                self.coverage.add(kind)
                wanted = [lab for lab in per_label if lab.any()]
                covered = sum(bool(lab[picks[i][:K]].any()) for lab in wanted) / len(wanted)
            self.sums[kind, system + suffix] += (p, ndcg, covered)
            self.counts[kind, system + suffix] += 1

    def figures(self) -> dict:
        out: dict = {}
        for (kind, system), total in sorted(self.sums.items()):
            mean = np.round(total / self.counts[kind, system], 3).tolist()
            f = {"p_at_10": mean[0], "ndcg_at_10": mean[1]}
            if kind in self.coverage:
                f["label_coverage_at_10"] = mean[2]
            out.setdefault(kind, {"reader_days": self.counts[kind]})[system] = f
        return out
