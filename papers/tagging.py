"""Automatic topic tagging from the topics' own definitions. Pure: plain data in, scores out.

The rule editors can predict: a paper gets a topic when one of the topic's words or phrases
appears in its title or abstract, or when it is listed in one of the topic's arXiv categories.
Words are compared as matching compares them (newsletter.textmodel, one text pipeline): case,
punctuation and inflections are ignored ("GUI agents" matches "GUI agent", "hallucinations"
matches "hallucinated"), derivations are not ("truthfulness" does not match "truth"). The
score (0..1) says how strongly: title mentions and the primary category count double.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from newsletter.textmodel import Mentions, words

FULL_SCORE = 5.0  # raw points at which the score reaches 1.0


@dataclass(frozen=True, slots=True)
class TopicRule:
    id: int
    phrases: tuple[tuple[str, ...], ...]
    categories: frozenset[str]


def compile_topic(topic_id: int, keywords: Iterable[str], categories: Iterable[str]) -> TopicRule:
    phrases = {tuple(words(k)) for k in keywords}
    return TopicRule(topic_id, tuple(sorted(p for p in phrases if p)), frozenset(categories))


def score_topic(rule: TopicRule, text: Mentions, categories: Sequence[str]) -> float:
    """`text` holds the title (document 0) and the abstract (document 1)."""
    raw = 0.0
    for phrase in rule.phrases:
        raw += 2 * text.count(0, phrase) + text.count(1, phrase)
    if categories and categories[0] in rule.categories:
        raw += 2
    raw += sum(1 for c in categories[1:] if c in rule.categories)
    return round(min(raw / FULL_SCORE, 1.0), 3)


def tag_paper(
    title: str, abstract: str, categories: Sequence[str], rules: Iterable[TopicRule]
) -> dict[int, float]:
    """Topic id -> score for every topic the paper matches (categories: primary first)."""
    text = Mentions([title, abstract])
    scores = {rule.id: score_topic(rule, text, categories) for rule in rules}
    return {topic_id: score for topic_id, score in scores.items() if score > 0}
