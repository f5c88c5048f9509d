"""The text side of matching: stemmed unigrams + bigrams scored with BM25 against title + abstract.

Relevance is BM25 normalised by the query's own IDF mass, so it reads as "how much of what the
reader asked for this paper covers" (0..1) and one threshold works for short and long queries.
IDF mixes the day's papers with a committed background of arXiv abstracts: a day of 150 papers
alone is too small to tell a rare term from a common one.
"""

import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import snowballstemmer
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

BACKGROUND_PATH = Path(__file__).parent / "data" / "background_df.tsv.gz"

K1 = 1.2  # BM25 term saturation: the usual value
B = 0.75  # BM25 length normalisation: the usual value
TITLE_WEIGHT = 2  # a word in the title counts as two in the abstract

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(ENGLISH_STOP_WORDS) | {"based", "using", "via", "paper", "propose", "proposed"}
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _stems(text: str) -> list[str | None]:
    """Stemmed words in order, None where a stop word was (so bigrams never span one)."""
    return [None if w in _STOP or len(w) < 2 else _stem(w) for w in _WORD.findall(text.lower())]


def tokens(text: str) -> list[str]:
    """Lower-cased, stop words dropped, Snowball-stemmed: "Unlearning LLMs" -> ["unlearn", "llm"]."""
    return [s for s in _stems(text) if s]


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of adjacent words ("speculative decoding" -> specul, decod,
    "specul decod"; "learning for reasoning" has no bigram)."""
    stems = _stems(text)
    return [s for s in stems if s] + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False) if a and b]


@lru_cache(maxsize=100_000)
def query_terms(phrase: str) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(terms(phrase)).items())


@dataclass(frozen=True, slots=True)
class Background:
    """Document frequencies of terms in a corpus of papers (no labels, only text)."""

    n_docs: int
    df: dict[str, int]

    @classmethod
    def empty(cls) -> "Background":
        return cls(0, {})

    @classmethod
    def load(cls, path: Path = BACKGROUND_PATH) -> "Background":
        with gzip.open(path, "rt", encoding="utf-8") as f:
            n_docs = int(f.readline().split("\t")[1])
            df = {term: int(n) for term, n in (line.rstrip("\n").split("\t") for line in f)}
        return cls(n_docs, df)

    @classmethod
    def fit(cls, texts: Iterable[str], min_df: int = 3) -> "Background":
        counts: Counter[str] = Counter()
        n_docs = 0
        for text in texts:
            counts.update(set(terms(text)))
            n_docs += 1
        return cls(n_docs, {t: n for t, n in counts.items() if n >= min_df})

    def save(self, path: Path) -> None:
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
            f.write(f"__docs__\t{self.n_docs}\n")
            for term, n in sorted(self.df.items(), key=lambda kv: (-kv[1], kv[0])):
                f.write(f"{term}\t{n}\n")


@lru_cache(maxsize=1)
def default_background() -> Background:
    return Background.load() if BACKGROUND_PATH.exists() else Background.empty()


def _idf(df: float, n_docs: float) -> float:
    return math.log(1 + (n_docs - df + 0.5) / (df + 0.5))


class TextIndex:
    """BM25-weighted papers x terms matrix for one day's papers; scores many queries at once."""

    def __init__(self, docs: Sequence[tuple[str, str]], background: Background | None = None):
        self.background = background if background is not None else default_background()
        counts = [Counter(terms(title) * TITLE_WEIGHT + terms(abstract)) for title, abstract in docs]
        self.vocab: dict[str, int] = {}
        rows, cols, tfs = [], [], []
        for i, c in enumerate(counts):
            for term, tf in c.items():
                rows.append(i)
                cols.append(self.vocab.setdefault(term, len(self.vocab)))
                tfs.append(tf)
        tf = sparse.csr_matrix(
            (np.array(tfs, dtype=np.float32), (rows, cols)), shape=(len(docs), len(self.vocab))
        )
        day_df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(self.vocab))
        self.n_docs = self.background.n_docs + len(docs)
        bg = self.background.df
        self.idf = np.array(
            [_idf(bg.get(t, 0) + day_df[j], self.n_docs) for t, j in self.vocab.items()], dtype=np.float32
        )
        self.matrix = self._bm25(tf)  # papers x terms, IDF folded in

    def _bm25(self, tf: sparse.csr_matrix) -> sparse.csr_matrix:
        length = np.asarray(tf.sum(axis=1)).ravel()
        norm = K1 * (1 - B + B * length / max(length.mean(), 1.0)) if length.size else length
        out = tf.copy()
        row_norm = np.repeat(norm, np.diff(tf.indptr)).astype(np.float32)
        out.data = tf.data * (K1 + 1) / (tf.data + row_norm) * self.idf[tf.indices]
        return out.tocsr()

    def term_idf(self, term: str) -> float:
        j = self.vocab.get(term)
        if j is not None:
            return float(self.idf[j])
        return _idf(self.background.df.get(term, 0), self.n_docs)

    def query_matrix(self, phrases: Sequence[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Queries x terms matrix and each query's IDF mass (what a perfect match would score)."""
        rows, cols, vals = [], [], []
        mass = np.zeros(len(phrases), dtype=np.float32)
        for i, phrase in enumerate(phrases):
            for term, n in query_terms(phrase):
                mass[i] += n * self.term_idf(term)
                j = self.vocab.get(term)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(n)
        q = sparse.csr_matrix(
            (np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(phrases), len(self.vocab))
        )
        return q, mass

    def relevance(self, phrases: Sequence[str]) -> np.ndarray:
        """Queries x papers, each in [0, 1]: the share of the query's IDF mass the paper covers."""
        q, mass = self.query_matrix(phrases)
        scores = (q @ self.matrix.T).toarray()
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(mass[:, None] > 0, scores / mass[:, None], 0.0)
        return np.minimum(rel, 1.0).astype(np.float32)
