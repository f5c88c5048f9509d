"""A reader suppressed by a webhook gets no digest from the next planning run."""

import datetime as dt

import pytest
from django.test import Client

from newsletter import planning
from newsletter.models import DigestDelivery, Subscriber
from tests.factories import make_delivery, make_reader
from tests.tracking.webhooks import payload, post_mailgun, post_postmark, post_sendgrid, post_ses

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
]
TOMORROW_9AM = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("poster", "fixture"),
    [
        (post_postmark, "postmark_spam_complaint"),
        (post_mailgun, "mailgun_failed_permanent"),
        (post_sendgrid, "sendgrid_bounce"),
        (post_ses, "ses_complaint"),
    ],
)
def test_a_reader_suppressed_by_a_webhook_is_skipped_by_the_next_planning_run(poster, fixture):
    complainer, other = make_reader(), make_reader()
    Subscriber.objects.update(delivery_hour=8, time_zone="UTC")
    yesterday = make_delivery(complainer, esp_message_id="esp-1", issue_date=dt.date(2026, 11, 24))
    assert poster(Client(), payload(fixture, complainer.email, "esp-1", yesterday.pk)).status_code == 200

    planned = planning.plan_due(TOMORROW_9AM)

    today = DigestDelivery.objects.filter(pk__in=planned)
    assert list(today.values_list("subscriber_id", flat=True)) == [other.pk]


def test_a_suppressed_address_is_skipped_even_if_staff_set_the_reader_active_again():
    """Only a fresh double opt-in clears the suppression list; the planner checks it too."""
    reader, other = make_reader(), make_reader()
    Subscriber.objects.update(delivery_hour=8, time_zone="UTC")
    post_postmark(Client(), payload("postmark_hard_bounce", reader.email, "confirm-1"))
    Subscriber.objects.filter(pk=reader.pk).update(status=Subscriber.Status.ACTIVE)

    planned = planning.plan_due(TOMORROW_9AM)

    # The other reader, due at the same hour, shows that planning did run.
    assert list(DigestDelivery.objects.filter(pk__in=planned).values_list("subscriber_id", flat=True)) == [
        other.pk
    ]
