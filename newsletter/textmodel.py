"""The one text pipeline of tagging and matching: words, Snowball stems, BM25, TF-IDF vectors.

A phrase is scored with BM25 over the day's papers (title words count twice), by its words alone:
measured on DEV, adding its bigrams as query terms cost fine-topic readers P@10 (odd days 0.863
-> 0.829, categories 0.414 -> 0.418), and weighting them as in the sequential dependence model
(0.85 / 0.15) still cost 0.009. Papers keep their bigrams as TF-IDF features (profiles).

Then the query is expanded by pseudo-relevance feedback, RM3 with Anserini's default settings
(Lavrenko and Croft): the words of the 10 best papers, each paper's word shares weighted by its
score, words in more than 10% of the day's papers left out, keep the 10 heaviest, mixed half and
half with the phrase. "robotics" then also finds the day's papers on dexterous grasping that never
say the word. P@10 on DEV, words only -> with RM3: fine topics 0.863 -> 0.881 (odd days), 0.888 ->
0.870 (even days); categories 0.414 -> 0.427 (odd), 0.406 -> 0.420 (even).

Relevance is the BM25 score divided by the most the (expanded) query can score, (k1 + 1) x its
IDF mass, so it reads 0..1 ("how much of what the reader asked for this paper covers, how
strongly") and one floor works for short and long phrases. IDF comes from the day's papers; a
background of document frequencies (`Background`, built by bench/matching_background.py) can be
mixed in, but none is committed: measured on DEV it moved P@10 by less than 0.01 either way
(issue figures on odd days: 0.830 / 0.401 without, 0.823 / 0.399 with; even days, every 4th:
0.796 / 0.393 without, 0.796 / 0.397 with).

Stems decide ranking; `Mentions` decides what a reason may claim and what tags and mutes hit:
a phrase is mentioned when its words appear in order as the same words, where two words are
the same when they share a stem and differ only in an inflection (their last 4 letters or
fewer). Snowball alone would say "truthfulness" is "truth".
"""

import gzip
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from os.path import commonprefix
from pathlib import Path

import numpy as np
import snowballstemmer
from scipy import sparse

BACKGROUND_PATH = Path(__file__).parent / "data" / "background_df.tsv.gz"
STOP_WORDS_PATH = Path(__file__).parent / "data" / "stop_words_en.txt"

K1 = 1.2  # BM25 term saturation: the usual value
B = 0.75  # BM25 length normalisation: the usual value
TITLE_WEIGHT = 2  # a word in the title counts as two in the abstract
INFLECTION = 4  # letters two forms of one word may differ by at the end ("ations" vs "ated")
FEEDBACK_PAPERS = 10  # RM3: the best papers of the first pass that expand the query (Anserini's default)
FEEDBACK_WORDS = 10  # RM3: words kept from them (Anserini's default)
ORIGINAL_WEIGHT = 0.5  # RM3: the phrase's share of the expanded query (Anserini's default)
# RM3 never adds a word found in more than this share of the day's papers (Anserini's filter):
# "model" or "method" would make every paper related to every phrase.
FEEDBACK_MAX_DF = 0.1

_WORD = re.compile(r"[a-z0-9]+")


def _stop_words() -> frozenset[str]:
    """The English stop list, plus words every abstract uses."""
    lines = STOP_WORDS_PATH.read_text(encoding="utf-8").splitlines()
    listed = {line for line in lines if line and not line.startswith("#")}
    return frozenset(listed | {"based", "using", "via", "paper", "propose", "proposed"})


_STOP = _stop_words()
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    """Lower-cased words, stop words kept: "GUI-Agents for phones" -> ["gui", "agents", "for", "phones"]."""
    return _WORD.findall(text.lower())


def same_word(a: str, b: str) -> bool:
    """An inflection of one another ("agents"/"agent", "hallucinated"/"hallucinations"), not a
    derivation ("truthfulness"/"truth", "computation"/"computer")."""
    if a == b:
        return True
    common = len(commonprefix((a, b)))
    return max(len(a), len(b)) - common <= INFLECTION and _stem(a) == _stem(b)


@lru_cache(maxsize=200_000)
def _term(word: str) -> str | None:
    return None if word in _STOP or len(word) < 2 else _stemmer.stemWord(word)


def _stems(text: str) -> list[str | None]:
    """Stemmed words in order, None where a stop word was (so bigrams never span one)."""
    return list(map(_term, _WORD.findall(text.lower())))


def tokens(text: str) -> list[str]:
    """Lower-cased, stop words dropped, Snowball-stemmed: "Unlearning LLMs" -> ["unlearn", "llm"]."""
    return [s for s in _stems(text) if s]


def terms(text: str) -> list[str]:
    """Unigrams and bigrams of adjacent words ("speculative decoding" -> specul, decod,
    "specul decod"; "learning for reasoning" has no bigram)."""
    stems = _stems(text)
    return [s for s in stems if s] + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False) if a and b]


class Mentions:
    """Which documents mention a phrase (see the module docstring). Each document keeps where
    each stem occurs, so a phrase is only compared where its first word's stem is."""

    def __init__(self, texts: Sequence[str]):
        self.words = [words(text) for text in texts]
        self.stems = [[_stem(w) for w in doc] for doc in self.words]
        self.at: list[dict[str, list[int]]] = []
        self.by_stem: dict[str, list[int]] = {}
        for i, stems in enumerate(self.stems):
            at: dict[str, list[int]] = {}
            for j, stem in enumerate(stems):
                at.setdefault(stem, []).append(j)
            self.at.append(at)
            for stem in at:
                self.by_stem.setdefault(stem, []).append(i)
        self._cache: dict[str, np.ndarray] = {}

    def find(self, phrase: str) -> np.ndarray:
        """Bool per document: does it mention the phrase?"""
        key = " ".join(words(phrase))
        if key not in self._cache:
            self._cache[key] = found = np.zeros(len(self.words), dtype=bool)
            target = key.split()
            stems = [_stem(w) for w in target]
            for i in self.by_stem.get(stems[0], []) if target else []:
                found[i] = self.count(i, target) > 0
        return self._cache[key]

    def count(self, i: int, phrase: Sequence[str]) -> int:
        """How often document i mentions the phrase (given as its words)."""
        stems = [_stem(w) for w in phrase]
        return sum(1 for j in self.at[i].get(stems[0], []) if self._at(i, j, phrase, stems)) if stems else 0

    def _at(self, i: int, j: int, target: Sequence[str], stems: list[str]) -> bool:
        end = j + len(target)
        return self.stems[i][j:end] == stems and all(
            same_word(t, w) for t, w in zip(target, self.words[i][j:end], strict=True)
        )


@lru_cache(maxsize=100_000)
def query_terms(phrase: str) -> tuple[tuple[str, int], ...]:
    return tuple(Counter(tokens(phrase)).items())


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
        self.tfidf = self._tfidf(tf)  # papers x terms, L2-normalised: cosine to a paper

    def _bm25(self, tf: sparse.csr_matrix) -> sparse.csr_matrix:
        words_only = sparse.diags(np.array([" " not in t for t in self.vocab], dtype=np.float32))
        unigrams = (tf @ words_only).tocsr() if self.vocab else tf  # papers x words (bigrams: 0)
        unigrams.eliminate_zeros()
        length = np.asarray(unigrams.sum(axis=1)).ravel()
        # RM3's view of a paper: the share of its words each word takes (common words left out).
        rare = np.bincount(unigrams.indices, minlength=len(self.vocab)) <= FEEDBACK_MAX_DF * tf.shape[0]
        unigrams = (unigrams @ sparse.diags(rare.astype(np.float32))).tocsr()
        self.shares = (sparse.diags(1 / np.maximum(length, 1.0)).astype(np.float32) @ unigrams).tocsr()
        self.shares.eliminate_zeros()
        norm = K1 * (1 - B + B * length / max(length.mean(), 1.0)) if length.size else length
        out = tf.copy()
        row_norm = np.repeat(norm, np.diff(tf.indptr)).astype(np.float32)
        out.data = tf.data * (K1 + 1) / (tf.data + row_norm) * self.idf[tf.indices]
        return out.tocsr()

    def _tfidf(self, tf: sparse.csr_matrix) -> sparse.csr_matrix:
        out = tf.copy()
        out.data = (1 + np.log(out.data)) * self.idf[out.indices]  # sublinear tf, as usual
        norms = np.sqrt(np.asarray(out.multiply(out).sum(axis=1)).ravel())
        return sparse.diags(1 / np.maximum(norms, 1e-9)).astype(np.float32) @ out

    def vectors(self, docs: Sequence[tuple[str, str]]) -> sparse.csr_matrix:
        """Other papers (a reader's library) as TF-IDF rows in this day's vocabulary: their
        products with `tfidf` rows are cosines restricted to the words the day knows."""
        rows, cols, tfs = [], [], []
        for i, (title, abstract) in enumerate(docs):
            for term, n in Counter(terms(title) * TITLE_WEIGHT + terms(abstract)).items():
                j = self.vocab.get(term)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    tfs.append(n)
        tf = sparse.csr_matrix(
            (np.array(tfs, dtype=np.float32), (rows, cols)), shape=(len(docs), len(self.vocab))
        )
        return self._tfidf(tf)

    def term_idf(self, term: str) -> float:
        j = self.vocab.get(term)
        if j is not None:
            return float(self.idf[j])
        return _idf(self.background.df.get(term, 0), self.n_docs)

    def query_matrix(self, phrases: Sequence[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
        """Queries x terms weights (each query's words sum to 1) and each query's IDF mass (what
        a perfect match would score), words the day does not know included."""
        rows, cols, vals = [], [], []
        mass = np.zeros(len(phrases), dtype=np.float32)
        for i, phrase in enumerate(phrases):
            counts = query_terms(phrase)
            total = sum(n for _, n in counts)
            for term, n in counts:
                mass[i] += n / total * self.term_idf(term)
                j = self.vocab.get(term)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(n / total)
        q = sparse.csr_matrix(
            (np.array(vals, dtype=np.float32), (rows, cols)), shape=(len(phrases), len(self.vocab))
        )
        return q, mass

    def relevance(self, phrases: Sequence[str], feedback: bool = False) -> np.ndarray:
        """Queries x papers in [0, 1]: BM25 over the most the query can score; with `feedback`,
        of the query expanded by RM3 (see the module docstring)."""
        q, mass = self.query_matrix(phrases)
        scores = (q @ self.matrix.T).toarray()
        if feedback and len(phrases) and self.vocab:
            expansion = self._feedback_words(scores)
            q = ORIGINAL_WEIGHT * q + (1 - ORIGINAL_WEIGHT) * expansion
            mass = ORIGINAL_WEIGHT * mass + (1 - ORIGINAL_WEIGHT) * (expansion @ self.idf)
            scores = (q @ self.matrix.T).toarray()
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(mass[:, None] > 0, scores / ((K1 + 1) * mass[:, None]), 0.0)
        return np.minimum(rel, 1.0).astype(np.float32)

    def _feedback_words(self, scores: np.ndarray) -> sparse.csr_matrix:
        """Queries x words, each row summing to 1 (or empty when nothing matched): the relevance
        model of the query's best papers, P(w | R) = sum over them of P(w | paper) x the paper's
        share of their scores, cut to its heaviest words."""
        n = min(FEEDBACK_PAPERS, scores.shape[1])
        best = np.argpartition(-scores, n - 1, axis=1)[:, :n]
        weight = np.take_along_axis(scores, best, axis=1)
        weight /= np.maximum(weight.sum(axis=1, keepdims=True), 1e-12)
        papers = sparse.csr_matrix(
            (weight.ravel(), best.ravel(), np.arange(0, best.size + 1, n)), shape=scores.shape
        )
        papers.eliminate_zeros()  # a query that matched fewer papers, or none
        model = (papers @ self.shares).tocsr()
        model.eliminate_zeros()
        rows, cols, vals = [], [], []
        for i in range(model.shape[0]):
            lo, hi = model.indptr[i], model.indptr[i + 1]
            keep = np.argsort(-model.data[lo:hi], kind="stable")[:FEEDBACK_WORDS]
            total = model.data[lo:hi][keep].sum()
            rows += [i] * len(keep)
            cols += model.indices[lo:hi][keep].tolist()
            vals += (model.data[lo:hi][keep] / total).tolist()
        return sparse.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=model.shape)
