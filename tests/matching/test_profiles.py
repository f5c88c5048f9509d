"""The learned profile: what sets a reader's papers apart from the day's papers, from their
newest ratings. Pure: no database."""

from newsletter import profiles
from newsletter.matching import match_readers
from tests.matching.helpers import NOW, fillers, paper, reader

ROBOT = paper(1, "Robots that fold towels", "Robots fold towels.")
LANGUAGE = paper(2, "Language models follow instructions", "Language models follow instructions.")
FIELDS = ["law", "medicine", "chemistry", "finance", "poetry", "math", "music", "sports", "games", "news"]
LLMS = [
    paper(10 + i, f"Language models for {field}", f"We adapt language models to {field} with instructions.")
    for i, field in enumerate(FIELDS)
]
LIKED = paper(
    51,
    "Language instructions for robots",
    "Robots follow language instructions: language models read the instructions and follow them.",
)


def test_what_the_liked_paper_shares_with_every_paper_of_the_day_counts_less_than_what_sets_it_apart():
    # The liked paper's words are nearer the instruction-following paper, but those words are
    # what the whole day talks about; robots are what only this reader's paper has.
    result = match_readers(
        [reader(liked_ids=(51,))], [ROBOT, LANGUAGE, *LLMS, *fillers()], {}, NOW, {51: LIKED}
    )

    assert [p.paper_id for p in result[1][:2]] == [1, 2]
    assert result[1][0].reasons == ("like 'Language instructions for robots' you liked",)


def test_a_seed_reader_gets_no_paper_that_is_only_like_the_rest_of_the_day():
    seed = paper(50, "Folding towels with robots", "Robots fold towels and cloth.")
    result = match_readers([reader(seed_ids=(50,))], [ROBOT, *LLMS], {}, NOW, {50: seed})

    assert [p.paper_id for p in result[1]] == [1]


def test_only_the_newest_ratings_are_kept_whatever_their_kind():
    ratings = [(5, 1), (4, -1), (3, 1), (2, 1), (1, -1)]  # newest first

    assert profiles.newest(ratings, limit=3) == ([5, 3], [4])
    assert profiles.newest(ratings, limit=10) == ([5, 3, 2], [4, 1])
    assert profiles.newest([], limit=3) == ([], [])
