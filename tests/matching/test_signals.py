"""What readers teach their digest (seeds, 👍/👎, follows, mutes, the trending dial), how several
interests share a digest, and reasons that say what really matched."""

from newsletter.matching import build_index, match_readers, rank
from tests.matching.helpers import NOW, fillers, paper, reader, topic

SPEC = paper(1, "Faster inference with speculative decoding", "A draft model proposes tokens to verify.")
DRAFT = paper(2, "Draft models for speculative sampling", "Tokens drafted by a small model are verified.")
ROBOT = paper(3, "Grasping cloth with a robot arm", "A policy folds towels.", authors=("Jane Doe",))
LAB = paper(4, "A survey of protein folding", "Structures from sequences.", organization="deepmind")


def picked(result, reader_id=1):
    return [p.paper_id for p in result[reader_id]]


def test_a_muted_word_keeps_a_paper_out_whatever_else_matches():
    result = match_readers(
        [reader(interests="speculative decoding", muted=("Draft",))], [SPEC, DRAFT, *fillers()], {}, NOW
    )

    assert picked(result) == []


def test_a_muted_word_matches_whole_words_only():
    result = match_readers([reader(interests="robot arm", muted=("bot", "arms race"))], [ROBOT], {}, NOW)

    assert picked(result) == [3]


def test_a_followed_author_brings_their_paper_with_the_reason():
    result = match_readers([reader(followed_authors=("jane doe",))], [ROBOT, SPEC, *fillers()], {}, NOW)

    assert picked(result) == [3]
    assert result[1][0].reasons == ("by jane doe, whom you follow",)


def test_a_followed_organization_brings_its_paper_with_the_reason():
    result = match_readers([reader(followed_orgs=("DeepMind",))], [LAB, SPEC, *fillers()], {}, NOW)

    assert picked(result) == [4]
    assert result[1][0].reasons == ("from DeepMind, which you follow",)


def test_a_reader_with_only_seed_papers_gets_papers_like_them():
    seed = paper(50, "Speculative decoding with draft models", "Draft tokens are verified in parallel.")
    result = match_readers([reader(seed_ids=(50,))], [SPEC, ROBOT, *fillers()], {}, NOW, {50: seed})

    assert picked(result)[0] == 1
    assert result[1][0].reasons == ("like 'Speculative decoding with draft models' you added",)


def test_a_liked_paper_brings_similar_ones_and_names_itself():
    liked = paper(51, "Towel folding robots", "A robot arm folds cloth and towels.")
    result = match_readers([reader(liked_ids=(51,))], [SPEC, ROBOT, *fillers()], {}, NOW, {51: liked})

    assert picked(result)[0] == 3
    assert result[1][0].reasons == ("like 'Towel folding robots' you liked",)


def test_a_disliked_paper_lowers_its_look_alikes_more_than_the_others():
    liked = paper(51, "Speculative sampling with draft models", "Faster inference: speculative decoding.")
    disliked = paper(52, DRAFT.title, DRAFT.abstract)  # 👎 on a copy of the draft paper
    library, papers = {51: liked, 52: disliked}, [SPEC, DRAFT, *fillers()]
    plain = match_readers([reader(liked_ids=(51,))], papers, {}, NOW, library)[1]
    taught = match_readers([reader(liked_ids=(51,), disliked_ids=(52,))], papers, {}, NOW, library)[1]

    before = {p.paper_id: p.relevance for p in plain}
    after = {p.paper_id: p.relevance for p in taught}
    assert before[2] - after[2] > 2 * (before[1] - after[1]) > 0


def test_library_papers_the_caller_did_not_supply_are_ignored():
    result = match_readers([reader(interests="speculative decoding", liked_ids=(99,))], [SPEC], {}, NOW, {})

    assert picked(result) == [1]


def test_only_what_matches_me_gets_no_popularity_boost():
    strong = paper(1, "Speculative decoding", "Speculative decoding with speculative drafts.")
    popular = paper(2, "Speculative decoding at scale", "We decode.", upvotes=400, featured=True)
    readers = [
        reader(1, interests="speculative decoding"),
        reader(2, interests="speculative decoding", trending="matches"),
    ]
    result = match_readers(readers, [strong, popular, *fillers()], {}, NOW)

    assert picked(result, 1) == [2, 1]
    assert picked(result, 2) == [1, 2]


def test_one_interest_with_many_matches_does_not_take_every_slot():
    rl = [
        paper(10 + i, f"Reinforcement learning for reasoning {i}", "RL for LLM reasoning.") for i in range(9)
    ]
    forget = [paper(30 + i, f"Machine unlearning method {i}", "We forget data.") for i in range(4)]
    result = match_readers(
        [reader(interests="reinforcement learning for reasoning; machine unlearning", size=10)],
        [*rl, *forget, *fillers()],
        {},
        NOW,
    )

    chosen = picked(result)
    assert len([p for p in chosen if p >= 30]) >= 3
    assert len([p for p in chosen if p < 30]) >= 5


def test_every_interest_gets_its_best_paper_first():
    many = [paper(10 + i, f"Speculative decoding trick {i}", "Speculative decoding.") for i in range(20)]
    one = paper(40, "Machine unlearning", "Machine unlearning of facts.")
    result = match_readers(
        [reader(interests="speculative decoding; machine unlearning", size=3)], [*many, one], {}, NOW
    )

    assert 40 in picked(result)[:2]


def test_tagged_papers_are_ordered_by_how_well_they_match_not_flat():
    hallucination = topic(7, "Hallucination", ["hallucination"])
    weak = paper(1, "Evaluating chatbots", "We also measure hallucination.", topic_ids=frozenset({7}))
    strong = paper(
        2, "Hallucination detection", "Hallucination in language models.", topic_ids=frozenset({7})
    )
    result = match_readers([reader(topic_ids=[7])], [weak, strong, *fillers()], {7: hallucination}, NOW)

    assert picked(result) == [2, 1]
    assert result[1][0].relevance > result[1][1].relevance


def test_a_topic_an_editor_removed_keeps_the_paper_out_of_that_topic():
    robotics = topic(8, "Robotics", ["robot"], ["cs.RO"])
    removed = paper(
        5, "A robot that folds towels", "A robot policy.", categories=("cs.RO",), topic_ids=frozenset({8}),
        removed_topic_ids=frozenset({8}),
    )  # fmt: skip
    result = match_readers([reader(topic_ids=[8])], [removed, *fillers()], {8: robotics}, NOW)

    assert picked(result) == []


def test_a_stemming_coincidence_is_not_shown_as_a_topic_match():
    hallucination = topic(7, "Hallucination", ["hallucination", "truthfulness"])
    labels = paper(1, "Cheaper ground truth labels", "We collect ground truth for segmentation.")
    result = match_readers([reader(topic_ids=[7])], [labels, *fillers()], {7: hallucination}, NOW)

    assert picked(result) == []


def test_an_interest_is_said_to_be_mentioned_only_when_its_words_are_there():
    index = build_index([SPEC, DRAFT, *fillers()], {})
    result = rank([reader(interests="speculative decoding")], index, NOW)

    assert result[1][0].reasons == ("mentions 'speculative decoding'",)
    assert result[1][1].reasons == ("related to 'speculative decoding'",)
