"""Readers stored under different spellings of one mailbox (user@exämple.com and
user@xn--exmple-cua.com, fullwidth letters, soft hyphens) become one reader with the canonical
address. Nothing is lost: consents, deliveries and events of the merged rows move to the reader
that is kept, and a consent record says which rows were merged.
"""

import hashlib
from collections import defaultdict

from django.db import migrations
from django.utils import timezone

from newsletter.addresses import normalize_email


def merge_duplicate_readers(apps, schema_editor) -> None:
    Subscriber = apps.get_model("newsletter", "Subscriber")
    groups = defaultdict(list)
    for pk, email in Subscriber.objects.values_list("pk", "email").iterator():
        groups[normalize_email(email)].append((pk, email))
    for canonical, rows in groups.items():
        if len(canonical) > 254:  # a long IDN domain grows as A-labels: leave such a row alone
            continue
        if len(rows) > 1 or rows[0][1] != canonical:
            merge_group(apps, canonical, [pk for pk, _ in rows])


def survivor(readers):
    """A bounce or complaint concerns the mailbox, so a suppressed row wins; otherwise the row
    whose status the mailbox owner changed last says what they want now."""
    suppressed = [r for r in readers if r.status == "suppressed"]
    return max(suppressed or readers, key=lambda r: (r.status_changed_at, r.pk))


def merge_group(apps, canonical: str, pks: list[int]) -> None:
    Subscriber = apps.get_model("newsletter", "Subscriber")
    readers = list(Subscriber.objects.filter(pk__in=pks))
    keep = survivor(readers)
    others = [r for r in readers if r.pk != keep.pk]
    for other in others:
        move_history(apps, other, keep)
        keep.last_digest_at = max(filter(None, [keep.last_digest_at, other.last_digest_at]), default=None)
    Subscriber.objects.filter(pk__in=[r.pk for r in others]).delete()
    rekey_suppressions(apps, [r.email for r in readers], canonical)
    keep.email = canonical
    keep.save()
    if others:
        apps.get_model("newsletter", "ConsentRecord").objects.create(
            subscriber=keep,
            action="change",
            created_at=timezone.now(),
            choices={"source": "one reader per mailbox", "merged_subscribers": sorted(r.pk for r in others)},
        )


def move_history(apps, other, keep) -> None:
    apps.get_model("newsletter", "ConsentRecord").objects.filter(subscriber=other).update(subscriber=keep)
    apps.get_model("newsletter", "DeliveryEvent").objects.filter(subscriber=other).update(subscriber=keep)
    deliveries = apps.get_model("newsletter", "DigestDelivery").objects.filter(subscriber=other)
    taken = keep.deliveries.values("issue_date")
    # One digest per reader and day: a second one for the same day stays, detached, for the
    # sending statistics (its events still point to it).
    deliveries.filter(issue_date__in=taken).update(subscriber=None)
    deliveries.update(subscriber=keep)


def rekey_suppressions(apps, spellings: list[str], canonical: str) -> None:
    """Suppressions were hashed from the trimmed, lower-cased spelling; add the canonical hash."""
    Suppression = apps.get_model("newsletter", "Suppression")
    old_hashes = [hashlib.sha256(s.strip().lower().encode()).hexdigest() for s in spellings]
    new_hash = hashlib.sha256(canonical.encode()).hexdigest()
    old = Suppression.objects.filter(email_hash__in=old_hashes).order_by("created_at").first()
    if old and not Suppression.objects.filter(email_hash=new_hash).exists():
        Suppression.objects.create(
            email_hash=new_hash, reason=old.reason, source=old.source, created_at=old.created_at
        )


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0003_digest_delivery_reasons")]

    operations = [migrations.RunPython(merge_duplicate_readers, migrations.RunPython.noop, elidable=True)]
