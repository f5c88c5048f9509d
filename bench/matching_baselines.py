"""The baselines bench/matching_quality.py compares matching with, each with its published settings.

- keyword: how many of the query's words occur as substrings of title + abstract (random ties).
- bm25: `bm25s` over the day's papers (English stop words, PyStemmer's English stemmer); papers
  scoring 0 are not delivered.
- svm: arxiv-sanity-lite's per-user model: TF-IDF (1-2-grams, 20k features, max_df 0.1, min_df 5,
  sublinear tf) fitted on the history papers, LinearSVC(class_weight='balanced', C=0.01) with the
  reader's papers as positives and the day's papers (and 👎) as negatives.
"""

import re
import warnings

import bm25s
import numpy as np
import Stemmer
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

K = 10
_STOP = {"and", "for", "of", "on", "the", "in", "a", "to", "with", "from", "by"}
_stemmer = Stemmer.Stemmer("english")


def text(row: dict) -> str:
    return f"{row['title']}. {row['abstract']}"


def keyword(queries: list[str], rows: list[dict], rng: np.random.Generator) -> list[list[int]]:
    texts = [f"{r['title']} {r['abstract']}".lower() for r in rows]
    out = []
    for query in queries:
        words = [w for w in re.findall(r"\w+", query.lower()) if w not in _STOP]
        score = np.array([sum(w in t for w in words) for t in texts], dtype=float)
        order = np.lexsort((rng.random(len(texts)), -score))[:K]
        out.append([int(i) for i in order if score[i] > 0])
    return out


def bm25_scores(queries: list[str], rows: list[dict]) -> np.ndarray:
    """Queries x papers BM25 scores (bm25s defaults: Lucene, k1 1.5, b 0.75)."""
    corpus = bm25s.tokenize([text(r) for r in rows], stopwords="en", stemmer=_stemmer, show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    tokens = bm25s.tokenize(queries, stopwords="en", stemmer=_stemmer, show_progress=False, return_ids=False)
    return np.array([retriever.get_scores(q) if q else np.zeros(len(rows)) for q in tokens])


def top(scores: np.ndarray, k: int = K, positive: bool = True) -> list[int]:
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(i) for i in order if scores[i] > 0 or not positive]


def bm25(queries: list[str], rows: list[dict]) -> list[list[int]]:
    return [top(s) for s in bm25_scores(queries, rows)]


def svm_vectorizer(history: list[dict]) -> TfidfVectorizer:
    vectorizer = TfidfVectorizer(
        strip_accents="unicode", lowercase=True, analyzer="word", stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2), max_features=20000,
        norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=True, max_df=0.1, min_df=5,
    )  # fmt: skip
    return vectorizer.fit([text(r) for r in history])


def svm_scores(positives, negatives, day) -> np.ndarray:
    """Decision function on the day's rows (sparse matrices in the SVM's TF-IDF space)."""
    from scipy import sparse

    x = sparse.vstack([positives, negatives, day])
    y = np.r_[np.ones(positives.shape[0]), np.zeros(negatives.shape[0] + day.shape[0])]
    model = LinearSVC(class_weight="balanced", C=0.01, tol=1e-6, max_iter=10000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return model.decision_function(day)


def rrf(*rankings: list[int], k: int = 60) -> list[int]:
    """Reciprocal-rank fusion of full rankings (row positions, best first)."""
    score: dict[int, float] = {}
    for ranking in rankings:
        for rank, i in enumerate(ranking, 1):
            score[i] = score.get(i, 0.0) + 1.0 / (k + rank)
    return sorted(score, key=lambda i: -score[i])
