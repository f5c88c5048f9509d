from datetime import timedelta

from newsletter.matching import build_index, interest_phrases, match_readers, rank
from tests.matching.helpers import NOW, fillers, paper, reader, topic

SPEC = paper(
    1,
    "Faster inference with speculative decoding",
    "A draft model proposes tokens; speculative decoding verifies them.",
)
UNLEARN = paper(
    2, "Machine unlearning for language models", "We make a model forget its training data on request."
)
PARTIAL = paper(
    3, "Decoding strategies for summarisation", "Beam search and sampling for abstractive summaries."
)
UNLEARNING = topic(7, "Machine unlearning", ["machine unlearning", "forgetting training data"])


def picked(result, reader_id=1):
    return [p.paper_id for p in result[reader_id]]


def test_it_ranks_the_paper_that_matches_the_whole_interest_first():
    result = match_readers([reader(interests="speculative decoding")], [PARTIAL, SPEC, *fillers()], {}, NOW)

    assert picked(result)[0] == 1
    assert result[1][0].reasons[0] == "mentions 'speculative decoding'"


def test_it_gives_a_weaker_match_a_related_reason_and_a_lower_score():
    result = match_readers([reader(interests="speculative decoding")], [PARTIAL, SPEC, *fillers()], {}, NOW)

    assert picked(result) == [1, 3]
    assert result[1][1].reasons[0] == "related to 'speculative decoding'"
    assert result[1][0].score > result[1][1].score


def test_each_interest_is_matched_on_its_own():
    result = match_readers(
        [reader(interests="speculative decoding; machine unlearning")], [SPEC, UNLEARN, *fillers()], {}, NOW
    )

    assert set(picked(result)[:2]) == {1, 2}
    assert {p.reasons[0] for p in result[1][:2]} == {
        "mentions 'speculative decoding'",
        "mentions 'machine unlearning'",
    }


def test_a_followed_topic_matches_by_its_keywords_and_says_so():
    result = match_readers([reader(topic_ids=[7])], [SPEC, UNLEARN, *fillers()], {7: UNLEARNING}, NOW)

    assert picked(result) == [2]
    assert result[1][0].reasons == ("matches your topic Machine unlearning",)


def test_a_paper_the_catalog_tagged_with_the_topic_matches_without_the_words():
    tagged = paper(
        4,
        "Removing knowledge from trained networks",
        "We erase facts after training.",
        topic_ids=frozenset({7}),
    )
    result = match_readers([reader(topic_ids=[7])], [tagged, *fillers()], {7: UNLEARNING}, NOW)

    assert picked(result) == [4]


def test_a_topic_following_an_arxiv_category_gets_its_papers():
    robot = paper(
        5, "Grasping deformable objects", "A policy for cloth folding.", categories=("cs.RO", "cs.LG")
    )
    robotics = topic(8, "Robotics", ["robot learning"], ["cs.RO"])
    result = match_readers([reader(topic_ids=[8])], [robot, *fillers()], {8: robotics}, NOW)

    assert picked(result) == [5]
    assert result[1][0].reasons == ("matches your topic Robotics",)


def test_a_reader_with_nothing_relevant_gets_nothing():
    readers = [
        reader(interests="quantum chromodynamics lattice"),
        reader(2, interests=""),
        reader(3, topic_ids=[99]),
    ]
    result = match_readers(readers, [SPEC, UNLEARN, *fillers()], {}, NOW)

    assert result == {1: [], 2: [], 3: []}


def test_popularity_and_editor_picks_alone_never_qualify_a_paper():
    hot = paper(6, "Scaling laws for everything", "A big model.", upvotes=900, featured=True)
    result = match_readers([reader(interests="speculative decoding")], [hot, SPEC, *fillers()], {}, NOW)

    assert picked(result) == [1]


def test_a_paper_sharing_no_word_with_the_interest_is_never_sent():
    result = match_readers([reader(interests="quantum chromodynamics")], [PARTIAL, SPEC, *fillers()], {}, NOW)

    assert picked(result) == []


def test_upvotes_put_the_trending_paper_first_among_equally_relevant_ones():
    quiet = paper(1, "Speculative decoding revisited", "Speculative decoding with a draft model.", upvotes=0)
    hot = paper(2, "Speculative decoding revisited", "Speculative decoding with a draft model.", upvotes=180)
    result = match_readers([reader(interests="speculative decoding")], [quiet, hot, *fillers()], {}, NOW)

    assert picked(result) == [2, 1]
    assert result[1][0].reasons == ("mentions 'speculative decoding'", "trending: 180 upvotes")


def test_an_editors_pick_goes_first_among_equally_relevant_ones():
    plain = paper(1, "Speculative decoding revisited", "Speculative decoding with a draft model.")
    pick = paper(
        2, "Speculative decoding revisited", "Speculative decoding with a draft model.", featured=True
    )
    result = match_readers([reader(interests="speculative decoding")], [plain, pick, *fillers()], {}, NOW)

    assert picked(result) == [2, 1]
    assert "editor's pick" in result[1][0].reasons


def test_a_much_more_relevant_paper_still_beats_a_popular_weak_match():
    weak = paper(
        3, "Decoding strategies for summarisation", "Beam search and sampling.", upvotes=400, featured=True
    )
    result = match_readers([reader(interests="speculative decoding")], [weak, SPEC, *fillers()], {}, NOW)

    assert picked(result) == [1, 3]


def test_only_papers_first_seen_after_since_and_never_sent_are_candidates():
    old = paper(1, SPEC.title, SPEC.abstract, hours_ago=30)
    sent = paper(2, SPEC.title, SPEC.abstract)
    new = paper(3, SPEC.title, SPEC.abstract)
    readers = [
        reader(1, interests="speculative decoding", exclude=frozenset({2})),
        reader(2, interests="speculative decoding", since=NOW - timedelta(days=7)),
    ]
    result = match_readers(readers, [old, sent, new, *fillers()], {}, NOW)

    assert picked(result, 1) == [3]
    assert sorted(picked(result, 2)) == [1, 2, 3]


def test_it_returns_at_most_the_readers_size():
    papers = [paper(i, f"Speculative decoding study {i}", "Speculative decoding.") for i in range(1, 9)]
    result = match_readers(
        [
            reader(1, interests="speculative decoding", size=3),
            reader(2, interests="speculative decoding", size=0),
        ],
        papers,
        {},
        NOW,
    )

    assert len(result[1]) == 3
    assert result[2] == []


def test_one_index_serves_many_chunks_of_readers():
    index = build_index([SPEC, UNLEARN, *fillers()], {7: UNLEARNING})

    first = rank([reader(1, topic_ids=[7])], index, NOW)
    second = rank([reader(2, interests="speculative decoding")], index, NOW)

    assert picked(first, 1) == [2]
    assert picked(second, 2) == [1]


def test_a_day_without_papers_matches_nobody():
    assert match_readers([reader(interests="anything")], [], {}, NOW) == {1: []}


def test_interests_split_on_commas_semicolons_and_lines():
    assert interest_phrases(" RL for  reasoning,\nGUI agents;; ") == ("RL for reasoning", "GUI agents")
