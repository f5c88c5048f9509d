"""Stored embeddings: papers embedded once per text at import, phrases once per distinct phrase.

Imports call ``embed_after_commit(paper_pks)``; a Celery task then runs ``embed_papers`` and only
encodes the papers that have no vector under the current model or whose title or abstract changed
since (a hash of the embedded text tells). ``manage.py embed_papers`` backfills the same way.

For digests (both return nothing while the semantic model is off, so callers stay lexical):

- ``paper_matrix(paper_ids)``: (n, d) float32, row i for ``paper_ids[i]`` (Paper pks, in
  PaperDoc order); a paper not embedded yet gets a zero row (cosine 0 with everything). None when
  the model is off or none of the papers has a vector.
- ``phrase_vectors(phrases)``: {phrase: (d,) float32}, encoding and storing unseen phrases.

e.g. ``matrix = paper_matrix([doc.id for doc in docs])`` once per day's index, then
``matrix @ phrase_vectors(phrases)[phrase]`` is each paper's cosine to a reader's phrase.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from celery import current_app
from django.db import transaction
from django.utils import timezone

from newsletter import embeddings
from newsletter.models import PaperEmbedding, PhraseEmbedding
from papers.models import Paper

logger = logging.getLogger(__name__)

BATCH = 256  # papers read, encoded and written together: bounds a worker's memory per step
# Papers per Celery task: about a minute of one core, far inside the task time limit even when a
# large file import or a month of Hugging Face days arrives at once.
TASK_SIZE = 1000
# By name: the task module imports this one.
EMBED_TASK = "newsletter.tasks.embed_papers"


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def embed_after_commit(paper_pks: Sequence[int]) -> None:
    """Queue the embedding of freshly imported or updated papers once their rows are committed."""
    if not paper_pks or not embeddings.enabled():
        return
    for start in range(0, len(paper_pks), TASK_SIZE):
        pks = list(paper_pks[start : start + TASK_SIZE])
        transaction.on_commit(lambda pks=pks: current_app.send_task(EMBED_TASK, args=[pks]))


def embed_papers(paper_pks: Iterable[int]) -> int:
    """Embed the given papers that need it; returns how many were encoded."""
    pks = list(paper_pks)
    return sum(_embed_batch(pks[start : start + BATCH]) for start in range(0, len(pks), BATCH))


def _embed_batch(pks: Sequence[int]) -> int:
    model = embeddings.model_name()
    current = dict(
        PaperEmbedding.objects.filter(paper__in=pks, model=model).values_list("paper_id", "text_hash")
    )
    todo = []
    for pk, title, abstract in Paper.objects.filter(pk__in=pks).values_list("pk", "title", "abstract"):
        text = embeddings.paper_text(title, abstract)
        if current.get(pk) != (digest := text_hash(text)):
            todo.append((pk, digest, text))
    if not todo:
        return 0
    vectors = embeddings.encode([text for _, _, text in todo])
    now = timezone.now()
    rows = [
        PaperEmbedding(paper_id=pk, model=model, text_hash=digest, vector=to_bytes(vector), computed_at=now)
        for (pk, digest, _), vector in zip(todo, vectors, strict=True)
    ]
    PaperEmbedding.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["paper"],
        update_fields=["model", "text_hash", "vector", "computed_at"],
    )
    logger.info("embedded %d papers with %s", len(rows), model)
    return len(rows)


def backfill(progress: Callable[[int, int], None] | None = None) -> int:
    """Embed every paper that has no current vector; returns how many were encoded."""
    pks = list(Paper.objects.order_by("pk").values_list("pk", flat=True))
    encoded = 0
    for start in range(0, len(pks), BATCH):
        encoded += _embed_batch(pks[start : start + BATCH])
        if progress:
            progress(min(start + BATCH, len(pks)), len(pks))
    return encoded


def paper_matrix(paper_ids: Sequence[int]) -> np.ndarray | None:
    if not paper_ids or not embeddings.enabled():
        return None
    stored = PaperEmbedding.objects.filter(paper__in=paper_ids, model=embeddings.model_name())
    vectors = dict(stored.values_list("paper_id", "vector"))
    if not vectors:
        return None
    if missing := len(set(paper_ids) - vectors.keys()):
        logger.warning("%d of %d papers have no embedding yet", missing, len(set(paper_ids)))
    dimensions = from_bytes(next(iter(vectors.values()))).size
    matrix = np.zeros((len(paper_ids), dimensions), dtype=np.float32)
    for row, pk in enumerate(paper_ids):
        if pk in vectors:
            matrix[row] = from_bytes(vectors[pk])
    return matrix


def paper_vectors(paper_ids: Iterable[int]) -> dict[int, np.ndarray]:
    """{paper pk: (d,) float32} for the given papers that have a current vector (one query)."""
    stored = PaperEmbedding.objects.filter(paper__in=list(paper_ids), model=embeddings.model_name())
    return {pk: from_bytes(vector) for pk, vector in stored.values_list("paper_id", "vector")}


def encode_phrases(phrases: Sequence[str]) -> np.ndarray:
    """(n, d) for matching: each phrase's stored vector, encoded and stored the first time."""
    vectors = phrase_vectors(phrases)
    return np.vstack([vectors[p] for p in phrases]) if phrases else np.zeros((0, 0), np.float32)


def phrase_vectors(phrases: Iterable[str]) -> dict[str, np.ndarray]:
    wanted = {p for p in phrases if p.strip()}
    if not wanted or not embeddings.enabled():
        return {}
    model = embeddings.model_name()
    stored = PhraseEmbedding.objects.filter(model=model, phrase__in=wanted)
    found = {phrase: from_bytes(vector) for phrase, vector in stored.values_list("phrase", "vector")}
    if new := sorted(wanted - found.keys()):
        vectors = embeddings.encode(new)
        longest = PhraseEmbedding._meta.get_field("phrase").max_length
        rows = [
            PhraseEmbedding(model=model, phrase=p, vector=to_bytes(v))
            for p, v in zip(new, vectors, strict=True)
            if len(p) <= longest  # a longer one is simply encoded again next time
        ]
        # Another worker may store the same phrase meanwhile: both computed the same vector.
        PhraseEmbedding.objects.bulk_create(rows, ignore_conflicts=True)
        found.update(zip(new, vectors, strict=True))
    return found
