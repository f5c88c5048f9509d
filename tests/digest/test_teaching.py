"""What readers taught their digest, end to end through planning, ranking and sending: the
signals reach ranking in bulk, pinned and trending papers get their own sections, mutes hold."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from newsletter import day_index, digests, links, planning, sending
from newsletter.models import DigestDelivery, Follow, Rating, SeedPaper, Subscriber
from tests.factories import make_due_reader, make_new_paper, make_robot_paper, unlearning_topic

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    day_index.forget()
    with time_machine.travel(NOW, tick=False):
        yield


def send(*readers) -> list[int]:
    ids = planning.create_deliveries([(r.pk, r.email, NOW.date()) for r in readers], NOW)
    sending.send_chunk(ids)
    return ids


def html_and_text(message) -> tuple[str, str]:
    return message.alternatives[0][0], message.body


def reader_values(*readers) -> list[dict]:
    return list(Subscriber.objects.filter(pk__in=[r.pk for r in readers]).values(*digests.READER_FIELDS))


def teach(reader: Subscriber, liked=(), disliked=(), seeds=(), authors=(), orgs=()) -> None:
    for n, paper in enumerate(liked):
        Rating.objects.create(subscriber=reader, paper=paper, value=1, created_at=NOW - timedelta(hours=n))
    for paper in disliked:
        Rating.objects.create(subscriber=reader, paper=paper, value=-1)
    SeedPaper.objects.bulk_create([SeedPaper(subscriber=reader, arxiv_id=a) for a in seeds])
    Follow.objects.bulk_create([Follow(subscriber=reader, kind="author", name=n) for n in authors])
    Follow.objects.bulk_create([Follow(subscriber=reader, kind="org", name=n) for n in orgs])


def test_reader_docs_carry_everything_the_reader_taught():
    topic = unlearning_topic()
    older, newer, meh, seeded = (make_new_paper(topic) for _ in range(4))
    reader = make_due_reader(topic, muted="crypto\nLLM agents", trending="top")
    teach(reader, liked=[newer, older], disliked=[meh], seeds=[seeded.paper_id, "2401.99999"])
    teach(reader, authors=["Jane Doe"], orgs=["facebook"])

    [doc], library, _ = digests.chunk_docs(reader_values(reader), NOW, {reader.pk: NOW.date()})

    assert doc.liked_ids == (newer.pk, older.pk)  # newest first
    assert doc.disliked_ids == (meh.pk,)
    assert doc.seed_ids == (seeded.pk,)  # the unknown id waits for its import
    assert doc.followed_authors == ("Jane Doe",)
    assert doc.followed_orgs == ("facebook",)
    assert doc.muted == ("crypto", "llm agents")
    assert doc.trending == "top"
    assert set(library) == {older.pk, newer.pk, meh.pk, seeded.pk}
    assert library[seeded.pk].title == seeded.title
    assert library[seeded.pk].topic_ids == frozenset({topic.pk})
    assert library[seeded.pk].authors == tuple(seeded.authors)


def test_only_a_readers_newest_ratings_teach_their_profile(settings):
    settings.PROFILE_MAX_RATINGS = 3
    topic = unlearning_topic()
    papers = [make_new_paper(topic) for _ in range(5)]
    reader, other = make_due_reader(topic), make_due_reader(topic)
    for n, (paper, value) in enumerate(zip(papers, [1, -1, 1, 1, -1], strict=True)):
        Rating.objects.create(
            subscriber=reader, paper=paper, value=value, created_at=NOW - timedelta(hours=n)
        )
    teach(other, liked=papers[4:])

    docs, library, _ = digests.chunk_docs(reader_values(reader, other), NOW, {})
    doc = next(d for d in docs if d.id == reader.pk)

    assert doc.liked_ids == (papers[0].pk, papers[2].pk)  # the newest three: 👍, 👎, 👍
    assert doc.disliked_ids == (papers[1].pk,)
    assert next(d for d in docs if d.id == other.pk).liked_ids == (papers[4].pk,)
    assert papers[3].pk not in library


def test_a_chunk_reads_every_readers_signals_in_the_same_queries_whatever_its_size(django_assert_num_queries):
    topic = unlearning_topic()
    papers = [make_new_paper(topic, pinned_on=NOW.date()) for _ in range(2)] + [make_new_paper(topic)]
    readers = [make_due_reader(topic) for _ in range(12)]
    for reader in readers:
        teach(reader, liked=papers[:1], disliked=papers[1:2], seeds=[papers[2].paper_id], authors=["A B"])
    values = reader_values(*readers)
    # topics, sent papers, ratings, seeds, follows, rated/seeded/pinned papers, their topics
    for size in (1, 12):
        with django_assert_num_queries(7):
            digests.chunk_docs(values[:size], NOW, {r.pk: NOW.date() for r in readers})


@pytest.mark.parametrize(("trending", "shown"), [("top", True), ("balanced", False), ("matches", False)])
def test_the_trending_section_is_there_only_for_readers_who_asked(trending, shown):
    topic = unlearning_topic()
    match = make_new_paper(topic)
    robots = [make_robot_paper() for _ in range(4)]
    for n, paper in enumerate(robots):
        paper.upvotes = 100 * (n + 1)
        paper.save()
    reader = make_due_reader(topic, trending=trending)
    send(reader)

    [message] = mail.outbox
    html, text = html_and_text(message)
    row = DigestDelivery.objects.get()
    if shown:
        # The three most upvoted papers that did not match, after the matches.
        assert row.paper_ids == [match.pk, robots[3].pk, robots[2].pk, robots[1].pk]
        assert "Trending today" in html
        assert "== Trending today ==" in text
    else:
        assert row.paper_ids == [match.pk]
        assert "Trending today" not in html
        assert "Trending today" not in text


def test_editors_pins_reach_every_reader_but_those_who_want_only_their_matches():
    topic = unlearning_topic()
    make_new_paper(topic)
    pinned = make_robot_paper()
    pinned.pinned_on, pinned.editor_note = NOW.date(), "Read this one <closely>."
    pinned.save()
    balanced, strict = make_due_reader(topic), make_due_reader(topic, trending="matches")
    send(balanced, strict)

    by_reader = {m.to[0]: m for m in mail.outbox}
    html, text = html_and_text(by_reader[balanced.email])
    assert "From the editors" in html
    assert "== From the editors ==" in text
    assert "Read this one &lt;closely&gt;." in html
    assert "Editor’s note: Read this one <closely>." in text
    assert html.index("From the editors") < html.index("Picked for you")
    assert pinned.title not in by_reader[strict.email].body
    assert DigestDelivery.objects.get(subscriber=balanced).paper_ids[0] == pinned.pk


def test_a_pinned_or_trending_paper_the_reader_muted_or_disliked_is_not_sent():
    topic = unlearning_topic()
    make_new_paper(topic)
    muted = make_robot_paper()
    muted.pinned_on, muted.upvotes = NOW.date(), 900
    muted.save()
    disliked = make_robot_paper()
    disliked.upvotes = 800
    disliked.save()
    reader = make_due_reader(topic, trending="top", muted="quadruped")
    teach(reader, disliked=[disliked])
    send(reader)
    assert set(DigestDelivery.objects.get().paper_ids).isdisjoint({muted.pk, disliked.pk})


def test_pins_and_trending_papers_alone_make_no_digest():
    pinned = make_robot_paper()
    pinned.pinned_on = NOW.date()
    pinned.save()
    send(make_due_reader(unlearning_topic(), trending="top"))
    assert mail.outbox == []
    assert DigestDelivery.objects.get().status == "skipped"


def test_view_in_browser_shows_the_same_sections_and_feedback_links(client: Client):
    topic = unlearning_topic()
    match = make_new_paper(topic)
    pinned = make_robot_paper()
    pinned.pinned_on, pinned.editor_note = NOW.date(), "A classic."
    pinned.save()
    reader = make_due_reader(topic)
    [delivery_id] = send(reader)

    page = client.get(f"/digest/{links.token_for(reader, 'digest', delivery_id)}/").content.decode()
    assert "From the editors" in page
    assert "A classic." in page
    assert "Picked for you" in page
    token = links.token_for(reader, "feedback", match.pk)
    assert f"/feedback/{token}/more/" in page
    assert f"/feedback/{token}/save/" in page


def test_a_muted_paper_never_reaches_the_reader():
    topic = unlearning_topic()
    kept = make_new_paper(topic)
    make_new_paper(topic, title="Unlearning for crypto trading bots")
    reader = make_due_reader(topic, muted="Crypto")
    send(reader)
    assert DigestDelivery.objects.get().paper_ids == [kept.pk]


def test_a_followed_authors_new_paper_is_sent_with_its_reason():
    paper = make_robot_paper()
    paper.authors = ["Jane Doe", "John Roe"]
    paper.save()
    reader = make_due_reader(unlearning_topic())
    teach(reader, authors=["Jane Doe"])
    send(reader)
    row = DigestDelivery.objects.get()
    assert row.paper_ids == [paper.pk]
    assert row.reasons == ["by Jane Doe, whom you follow"]
    assert "by Jane Doe, whom you follow" in mail.outbox[0].body


def test_every_paper_in_the_email_has_feedback_links_for_its_reader_in_both_parts(settings):
    settings.SITE_URL = "https://papers.example.org"
    topic = unlearning_topic()
    papers = [make_new_paper(topic) for _ in range(3)]
    reader = make_due_reader(topic)
    send(reader)

    html, text = html_and_text(mail.outbox[0])
    for paper in papers:
        base = f"https://papers.example.org/feedback/{links.token_for(reader, 'feedback', paper.pk)}/"
        assert f'href="{base}more/"' in html
        assert f'href="{base}less/"' in html
        assert f"👍 More like this: {base}more/" in text
        assert f"👎 Less like this: {base}less/" in text
    assert html.count("More like this") == 3
