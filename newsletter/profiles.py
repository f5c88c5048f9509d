"""What each reader taught us: a Rocchio profile over their seed papers and 👍/👎. Pure.

profile(p) = mean cosine of p to the reader's seeds and 👍 − DISLIKED x mean cosine to their 👎,
Rocchio's usual weights (beta 0.75 for the relevant, gamma 0.15 for the rest) divided by beta.
Cosines are linear in the paper vectors, so this is the cosine to the Rocchio centroid, and a
block of readers costs one sparse (readers x library) by dense (library x papers) product: each
library paper's similarities to the day's papers are computed once per index, whoever rated it.
Only a reader's newest MAX_RATINGS ratings count. The reason names the reader's own paper the
pick is closest to.

The day's papers as weak negatives (liked centroid minus the day's mean paper, the
nearest-centroid classifier close to arxiv-sanity's C=0.01 SVM) were measured on DEV and not
kept: every 10th day, category seed readers 0.426 -> 0.445 P@10 but category feedback readers
0.490 -> 0.465.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from newsletter.matching import PaperDoc, PaperIndex, ReaderDoc

# Ratings a profile learns from, newest first: 200 is 20 digests of 10 papers, a month of daily
# digests; older tastes fade and a profile's cost stays bounded (settings.PROFILE_MAX_RATINGS).
MAX_RATINGS = 200
DISLIKED = 0.15 / 0.75  # Rocchio's gamma over beta: the weight of the 👎 centroid
PROFILE_MIN = 0.0  # relevant to the profile: nearer the liked papers than the disliked ones


def newest(ratings: Iterable[tuple[int, int]], limit: int = MAX_RATINGS) -> tuple[list[int], list[int]]:
    """(liked, disliked) paper ids from (paper id, +1 | -1) pairs, newest first, keeping the
    newest `limit` ratings."""
    liked, disliked = [], []
    for n, (paper_id, value) in enumerate(ratings):
        if n >= limit:
            break
        (liked if value > 0 else disliked).append(paper_id)
    return liked, disliked


def _library_ids(reader: "ReaderDoc") -> list[int]:
    return [*reader.seed_ids, *reader.liked_ids, *reader.disliked_ids]


def prepare(index: "PaperIndex", readers: Sequence["ReaderDoc"], library: Mapping[int, "PaperDoc"]) -> None:
    """Similarities of the library papers not met yet to the day's papers, kept on the index."""
    new = {
        pid for r in readers for pid in _library_ids(r) if pid in library and pid not in index.library_rows
    }
    if not new:
        return
    docs = [library[pid] for pid in sorted(new)]
    sim = (index.text.vectors([(d.title, d.abstract) for d in docs]) @ index.text.tfidf.T).toarray()
    if index.semantic is not None:
        sim = (sim + _embedding_cosines(index, docs)) / 2
    start = len(index.library_titles)
    index.library_rows.update({d.id: start + i for i, d in enumerate(docs)})
    index.library_titles += [d.title for d in docs]
    old = index.library_sim if index.library_sim.size else np.zeros((0, len(index.papers)), np.float32)
    index.library_sim = np.vstack([old, sim.astype(np.float32)])


def _embedding_cosines(index: "PaperIndex", docs: Sequence["PaperDoc"]) -> np.ndarray:
    semantic = index.semantic
    missing = [d for d in docs if d.id not in semantic.library]
    encoded = semantic.encode([semantic.paper_text(d.title, d.abstract) for d in missing]) if missing else []
    known = {**semantic.library, **dict(zip([d.id for d in missing], encoded, strict=True))}
    if not docs:
        return np.zeros((0, len(index.papers)), np.float32)
    return np.vstack([known[d.id] for d in docs]) @ semantic.papers.T


def block_scores(readers: Sequence["ReaderDoc"], index: "PaperIndex") -> np.ndarray | None:
    """Readers x papers profile scores (-inf for readers without a seed or 👍), or None when
    nobody in the block has one."""
    rows, cols, weights, has = [], [], [], np.zeros(len(readers), dtype=bool)
    for i, reader in enumerate(readers):
        liked = _rows(index, [*reader.seed_ids, *reader.liked_ids])
        if not liked:
            continue
        has[i] = True
        disliked = _rows(index, reader.disliked_ids)
        for group, weight in ((liked, 1.0 / len(liked)), (disliked, -DISLIKED / max(len(disliked), 1))):
            rows += [i] * len(group)
            cols += group
            weights += [weight] * len(group)
    if not has.any():
        return None
    w = sparse.csr_matrix((weights, (rows, cols)), shape=(len(readers), len(index.library_titles)))
    scores = np.asarray(w @ index.library_sim, dtype=np.float32)
    return np.where(has[:, None], scores, -np.inf)


def _rows(index: "PaperIndex", paper_ids: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(index.library_rows[p] for p in paper_ids if p in index.library_rows))


def reasons(reader: "ReaderDoc", index: "PaperIndex", cols: Sequence[int]) -> list[str]:
    """ "like 'Paper X' you liked" for each column: the reader's seed or 👍 most like the pick."""
    candidates = [(p, "added") for p in reader.seed_ids] + [(p, "liked") for p in reader.liked_ids]
    known = [(index.library_rows[p], how) for p, how in candidates if p in index.library_rows]
    if not cols or not known:
        return ["" for _ in cols]
    nearest = index.library_sim[np.ix_([row for row, _ in known], list(cols))].argmax(axis=0)
    return [f"like '{index.library_titles[known[k][0]]}' you {known[k][1]}" for k in nearest.tolist()]
