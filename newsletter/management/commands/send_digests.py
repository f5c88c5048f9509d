"""Plan and send digests now, synchronously, through the same code as the scheduled tick."""

from collections import Counter
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from newsletter import digests, planning, sending
from newsletter.addresses import normalize_email
from newsletter.models import Subscriber


class Command(BaseCommand):
    help = (
        "Send the digests that are due now (like the scheduled tick, but in this process). "
        "--date sends everyone's digest for that date whatever their hour; --subscriber limits "
        "it to one reader; --dry-run prints who would get what and why, and sends nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="issue date, YYYY-MM-DD (default: each reader's local today)")
        parser.add_argument("--subscriber", metavar="EMAIL", help="only this reader")
        parser.add_argument("--dry-run", action="store_true", help="print the digests, send nothing")

    def handle(self, *args, **options):
        now = timezone.now()
        readers = self.readers(options, now)
        if options["dry_run"]:
            self.print_plan(readers, now)
            return
        ids = planning.create_deliveries(readers, now)
        if options["date"]:
            # A run that was killed left rows for this date: send those that never went out.
            subscriber_ids = [pk for pk, _, _ in readers] if options["subscriber"] else None
            resumed = planning.unsent_for_date(self.parse_date(options["date"]), subscriber_ids)
            ids = sorted(set(ids) | set(resumed))
        counts = Counter()
        for start in range(0, len(ids), settings.DIGEST_CHUNK_SIZE):
            counts += sending.send_chunk(ids[start : start + settings.DIGEST_CHUNK_SIZE], now)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to send"
        self.stdout.write(f"{len(ids)} digests planned: {summary}.")

    def readers(self, options, now) -> list:
        issue_date = self.parse_date(options["date"])
        if not options["subscriber"]:
            return planning.readers_for_date(issue_date) if issue_date else planning.due_readers(now)
        subscriber = Subscriber.objects.filter(email=normalize_email(options["subscriber"])).first()
        if subscriber is None:
            raise CommandError("send_digests: no subscriber with that email address.")
        if subscriber.status != Subscriber.Status.ACTIVE:
            raise CommandError(
                f"send_digests: subscriber {subscriber.pk} is {subscriber.status}; nothing sent."
            )
        if issue_date is None:
            issue_date = planning.local_date(subscriber.time_zone, now)
        readers = planning.readers_for_date(issue_date, Subscriber.objects.filter(pk=subscriber.pk))
        if not readers:
            raise CommandError(
                f"send_digests: subscriber {subscriber.pk} already has a digest for {issue_date} "
                "(or is weekly on another day)."
            )
        return readers

    def parse_date(self, value: str | None) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise CommandError(f"send_digests: --date {value!r} is not a YYYY-MM-DD date.") from None

    def print_plan(self, readers, now) -> None:
        for pk, email, day, picks, titles in digests.dry_run(readers, now):
            if not picks:
                self.stdout.write(f"{email} (subscriber {pk}), {day}: nothing matched, no email")
                continue
            self.stdout.write(f"{email} (subscriber {pk}), {day}: {len(picks)} papers")
            for pick in picks:
                why = "; ".join(pick.reasons) or "picked for you"
                self.stdout.write(f"  {pick.score:6.3f}  {titles[pick.paper_id][:90]}  ({why})")
        self.stdout.write(f"Dry run: {len(readers)} readers, nothing sent.")
