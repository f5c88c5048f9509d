"""The life of a DigestDelivery: its states, the allowed transitions, and the only code that
changes them (the QuerySet methods below, reached as DigestDelivery.objects.…).

    queued --claim--> claimed --start--> sending --record--> sent | failed | unknown | queued
                         |--skip--> skipped          \\--mark_unknown--> unknown --confirm--> sent
                         |--fail--> failed
                         \\--release--> queued        failed | unknown --requeue--> queued

A worker claims a chunk of rows with a lease (one UPDATE … WHERE status = 'queued'), then marks
each row 'sending' in its own commit right before the ESP call and writes its outcome right after
it. So a killed worker leaves at most one 'sending' row per message in flight, whose fate only the
ESP knows ('unknown'), and 'claimed' rows that provably never reached the ESP: those are released
to 'queued' and sent by another worker.
"""

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db import connection, models, transaction
from django.db.models import Case, F, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    CLAIMED = "claimed", "Claimed by a worker"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown (ESP may have accepted it)"
    SKIPPED = "skipped", "Skipped (nothing matched)"


S = DeliveryStatus
# action -> (states it moves rows from, states it may move them to). The one table of allowed
# transitions: every method below filters on its sources, and tests walk the table.
TRANSITIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "claim": (frozenset({S.QUEUED}), frozenset({S.CLAIMED})),
    "skip": (frozenset({S.CLAIMED}), frozenset({S.SKIPPED})),
    "start": (frozenset({S.CLAIMED}), frozenset({S.SENDING})),
    "release": (frozenset({S.CLAIMED}), frozenset({S.QUEUED})),
    "record": (frozenset({S.CLAIMED, S.SENDING}), frozenset({S.SENT, S.FAILED, S.UNKNOWN, S.QUEUED})),
    "mark_unknown": (frozenset({S.SENDING}), frozenset({S.UNKNOWN})),
    "confirm_delivered": (frozenset({S.UNKNOWN}), frozenset({S.SENT})),
    "requeue": (frozenset({S.FAILED, S.UNKNOWN}), frozenset({S.QUEUED})),
}
# Rows whose papers the reader got, or may have got: never picked for them again.
MAY_HAVE_REACHED_READER = (S.SENDING, S.SENT, S.UNKNOWN)


def sources(action: str) -> list[str]:
    return sorted(TRANSITIONS[action][0])


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one message: the row's new state and what to remember about it."""

    id: int
    status: str
    error: str = ""
    esp_message_id: str = ""
    sent_at: datetime | None = None
    paper_ids: Sequence[int] = ()
    reasons: Sequence[str] = ()


def write_outcomes(model, lease: uuid.UUID, outcomes: Sequence[Outcome], now: datetime) -> None:
    table = model._meta.db_table
    pg = connection.vendor == "postgresql"
    cast = {"int": "::bigint", "time": "::timestamptz", "json": "::jsonb"} if pg else {}
    one = "({})".format(
        ", ".join(f"%s{cast.get(t, '')}" for t in ("int", "", "", "", "time", "json", "json"))
    )
    adapt = connection.ops.adapt_datetimefield_value
    params: list = []
    for o in outcomes:
        papers, reasons = json.dumps(list(o.paper_ids)), json.dumps(list(o.reasons))
        params += [o.id, o.status, o.error, o.esp_message_id, adapt(o.sent_at), papers, reasons]
    marks = ", ".join(["%s"] * len(TRANSITIONS["record"][0]))
    sql = (
        f"WITH v(id, status, error, message_id, sent_at, paper_ids, reasons) AS "
        f"(VALUES {', '.join([one] * len(outcomes))}) "
        f"UPDATE {table} SET status = v.status, error = v.error, esp_message_id = v.message_id, "
        f"sent_at = v.sent_at, paper_ids = v.paper_ids, reasons = v.reasons, updated_at = %s "
        f"FROM v WHERE {table}.id = v.id AND {table}.lease = %s AND {table}.status IN ({marks})"
    )
    lease_param = model._meta.get_field("lease").get_db_prep_value(lease, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, adapt(now), lease_param, *sources("record")])


class DeliveryQuerySet(models.QuerySet):
    def queued(self):
        return self.filter(status=S.QUEUED)

    def claim(self, ids: Sequence[int], now: datetime) -> tuple[uuid.UUID, dict[int, int]]:
        """Take the queued rows among `ids` for this caller: (lease, {id: attempt number}). One
        conditional UPDATE, so two workers can never both win a row."""
        lease = uuid.uuid4()
        with transaction.atomic():
            won = self.filter(pk__in=ids, status__in=sources("claim")).update(
                status=S.CLAIMED, lease=lease, claimed_at=now, updated_at=now, attempts=F("attempts") + 1
            )
            if not won:
                return lease, {}
            return lease, dict(self.model.objects.filter(lease=lease).values_list("id", "attempts"))

    def leased(self, lease: uuid.UUID):
        return self.filter(lease=lease)

    def skip(self, reasons: dict[int, str], now: datetime) -> int:
        """Claimed rows that get no email, each with its reason (one UPDATE per distinct reason)."""
        by_reason = defaultdict(list)
        for pk, why in reasons.items():
            by_reason[why].append(pk)
        claimed = self.filter(status__in=sources("skip"))
        return sum(
            claimed.filter(pk__in=ids).update(status=S.SKIPPED, error=why, updated_at=now)
            for why, ids in by_reason.items()
        )

    def start(self, ids: Iterable[int], active_reader: str, now: datetime) -> set[int]:
        """The write-ahead mark, committed right before the ESP call: these rows now may reach
        the reader. Only rows still claimed (by this lease: filter with leased()) whose reader is
        still active; returns their ids."""
        ids = list(ids)
        claimed = self.filter(pk__in=ids, status__in=sources("start"))
        started = claimed.filter(subscriber__status=active_reader).update(status=S.SENDING, updated_at=now)
        if started == len(ids):
            return set(ids)
        return set(self.filter(pk__in=ids, status=S.SENDING).values_list("id", flat=True))

    def release(self, now: datetime) -> list[int]:
        """Claimed rows that never reached the ESP go back to the queue; returns their ids."""
        with transaction.atomic():
            rows = self.filter(status__in=sources("release")).select_for_update()
            ids = list(rows.values_list("id", flat=True))
            self.model.objects.filter(pk__in=ids).update(status=S.QUEUED, lease=None, updated_at=now)
        return ids

    def record(self, lease: uuid.UUID, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Outcomes of rows this lease holds, in one UPDATE … FROM (VALUES …). Django's
        bulk_update builds a CASE per field and row: a chunk of 1,000 rows (561 digests to
        bench/esp_server.py at 100 ms, 64 threads) took 12.0 s with it, 7.3 s of them in
        bulk_update, and takes 4.4 s with this statement."""
        for outcome in outcomes:
            assert outcome.status in TRANSITIONS["record"][1], outcome.status
        if outcomes:
            write_outcomes(self.model, lease, outcomes, now)

    def mark_unknown(self, error: str, now: datetime) -> int:
        return self.filter(status__in=sources("mark_unknown")).update(
            status=S.UNKNOWN, error=error, updated_at=now
        )

    def confirm_delivered(self, message_id: str, when: datetime) -> int:
        """The ESP delivered a digest whose send result we never learnt: it was sent after all."""
        return self.filter(status__in=sources("confirm_delivered")).update(
            status=S.SENT,
            sent_at=Coalesce(F("sent_at"), Value(when)),
            # Lets later events (and staff) find the digest by the ESP's id too.
            esp_message_id=Case(When(esp_message_id="", then=Value(message_id)), default=F("esp_message_id")),
        )

    def confirm_reported(self) -> int:
        """Unknown rows the ESP has reported delivered become sent. The report can come while the
        row is still 'sending' (linked, nothing to confirm yet) and the send only then time out or
        lose its worker, so this runs whenever rows become 'unknown'."""
        events = apps.get_model("newsletter", "DeliveryEvent").objects
        first = events.filter(delivery=OuterRef("pk"), kind="delivered").order_by("occurred_at")
        rows = self.filter(status__in=sources("confirm_delivered")).annotate(
            delivered_at=Subquery(first.values("occurred_at")[:1]),
            delivered_message_id=Subquery(first.values("message_id")[:1]),
        )
        confirmed = 0
        for pk, message_id, when in rows.filter(delivered_at__isnull=False).values_list(
            "pk", "delivered_message_id", "delivered_at"
        ):
            confirmed += self.model.objects.filter(pk=pk).confirm_delivered(message_id, when)
        return confirmed

    def requeue(self, statuses: Iterable[str], now: datetime) -> list[int]:
        """Failed or (after an operator checked the ESP) unknown rows get a fresh attempt budget."""
        allowed = [s for s in statuses if s in TRANSITIONS["requeue"][0]]
        with transaction.atomic():
            ids = list(self.filter(status__in=allowed).select_for_update().values_list("id", flat=True))
            self.model.objects.filter(pk__in=ids).update(
                status=S.QUEUED, attempts=0, error="", lease=None, updated_at=now
            )
        return ids
