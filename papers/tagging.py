"""Automatic topic tagging from the topics' own definitions. Pure: plain data in, scores out.

The rule editors can predict: a paper gets a topic when one of the topic's words or phrases
appears in its title or abstract, or when it is listed in one of the topic's arXiv categories.
Matching ignores case, punctuation and common word endings ("GUI agents" matches "GUI agent",
"hallucinations" matches "hallucinated"). The score (0..1) says how strongly: title mentions
and the primary category count double.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SUFFIXES = ("ational", "ations", "ation", "ities", "ity", "ings", "ing", "ated", "ates", "ate")
SUFFIXES += ("ies", "ied", "ers", "er", "ed", "es", "s", "e")
MIN_STEM = 3
FULL_SCORE = 5.0  # raw points at which the score reaches 1.0


def stem(word: str) -> str:
    """A deliberately rough stemmer: the same word in different forms maps to one key."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    if len(word) > MIN_STEM and word[-1] == word[-2]:
        word = word[:-1]  # "splatting" -> "splatt" -> "splat"
    return word


def tokens(text: str) -> list[str]:
    return [stem(word) for word in re.findall(r"[a-z0-9]+", text.lower())]


@dataclass(frozen=True, slots=True)
class TopicRule:
    id: int
    phrases: tuple[tuple[str, ...], ...]
    categories: frozenset[str]


def compile_topic(topic_id: int, keywords: Iterable[str], categories: Iterable[str]) -> TopicRule:
    phrases = {tuple(tokens(k)) for k in keywords}
    return TopicRule(topic_id, tuple(sorted(p for p in phrases if p)), frozenset(categories))


def count_phrase(phrase: tuple[str, ...], words: Sequence[str]) -> int:
    size = len(phrase)
    return sum(1 for i in range(len(words) - size + 1) if tuple(words[i : i + size]) == phrase)


def score_topic(rule: TopicRule, title: list[str], abstract: list[str], categories: Sequence[str]) -> float:
    raw = 0.0
    for phrase in rule.phrases:
        raw += 2 * count_phrase(phrase, title) + count_phrase(phrase, abstract)
    if categories and categories[0] in rule.categories:
        raw += 2
    raw += sum(1 for c in categories[1:] if c in rule.categories)
    return round(min(raw / FULL_SCORE, 1.0), 3)


def tag_paper(
    title: str, abstract: str, categories: Sequence[str], rules: Iterable[TopicRule]
) -> dict[int, float]:
    """Topic id -> score for every topic the paper matches (categories: primary first)."""
    title_words, abstract_words = tokens(title), tokens(abstract)
    scores = {rule.id: score_topic(rule, title_words, abstract_words, categories) for rule in rules}
    return {topic_id: score for topic_id, score in scores.items() if score > 0}
