"""Pseudo-relevance feedback: a phrase also finds the day's papers that speak of its subject in
other words, learned from the day's papers that use the phrase's own."""

from newsletter.matching import match_readers
from tests.matching.helpers import NOW, paper, reader

ROBOTS = [
    paper(1, "Robotics with dexterous grasping", "A robotics policy for dexterous grasping of tools."),
    paper(2, "Robotics at home", "Dexterous grasping of cups by household robotics."),
    paper(3, "Robotics benchmark", "We evaluate robotics systems on dexterous grasping tasks."),
]
GRASPING = paper(4, "Learning dexterous grasping", "A hand learns dexterous grasping from demonstrations.")
# Many papers of other fields, so that "dexterous grasping" is a rare pair of words that day.
OTHERS = [
    paper(
        100 + i,
        f"A study of {field} number {i}",
        f"We report results on {field} with a new method and careful experiments.",
    )
    for i, field in enumerate(["protein folding", "tax policy", "graph coloring", "poetry metre"] * 10)
]


def test_a_phrase_finds_a_paper_that_says_it_in_other_words():
    result = match_readers([reader(interests="robotics")], [*ROBOTS, GRASPING, *OTHERS], {}, NOW)

    picks = result[1]
    assert {p.paper_id for p in picks[:3]} == {1, 2, 3}
    assert [p.paper_id for p in picks[3:]] == [4]
    assert picks[3].reasons[0] == "related to 'robotics'"
    assert picks[0].reasons[0] == "mentions 'robotics'"


def test_words_most_papers_share_never_make_a_paper_related():
    result = match_readers([reader(interests="robotics")], [*ROBOTS, *OTHERS], {}, NOW)

    assert {p.paper_id for p in result[1]} == {1, 2, 3}
