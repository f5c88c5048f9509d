"""The learned profile learns from a reader's newest ratings. Pure: no database."""

from newsletter import profiles


def test_only_the_newest_ratings_are_kept_whatever_their_kind():
    ratings = [(5, 1), (4, -1), (3, 1), (2, 1), (1, -1)]  # newest first

    assert profiles.newest(ratings, limit=3) == ([5, 3], [4])
    assert profiles.newest(ratings, limit=10) == ([5, 3, 2], [4, 1])
    assert profiles.newest([], limit=3) == ([], [])
