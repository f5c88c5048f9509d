"""Demo data for `make run`: an admin login, the sample papers, and a demo reader. Idempotent."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from newsletter.models import Subscriber
from papers.ingestion.file import import_file
from papers.ingestion.records import SourceError
from papers.models import Topic

DEMO_EMAIL = "reader@example.com"
DEMO_PAPERS = settings.BASE_DIR / "demo" / "papers.json"


class Command(BaseCommand):
    help = "Load the demo data once: admin/admin (DEBUG only), sample papers, a demo subscriber."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("load_demo: refusing to load demo data with DJANGO_DEBUG off.")
        self.ensure_admin()
        self.load_papers()
        # After the papers, so that the demo reader's first digest has something in it.
        self.ensure_demo_subscriber()

    def ensure_admin(self) -> None:
        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "admin@example.com", "admin")
            self.stdout.write("Created superuser admin (password: admin).")

    def load_papers(self) -> None:
        """The same import as `import_papers file demo/papers.json`; a re-run changes nothing."""
        try:
            result = import_file(DEMO_PAPERS)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Demo papers ({DEMO_PAPERS.name}): {result}.")

    def ensure_demo_subscriber(self) -> None:
        if Subscriber.objects.filter(email=DEMO_EMAIL).exists():
            return
        now = timezone.now()
        # Due at the current UTC hour, so the running beat delivers the demo digest right away.
        subscriber = Subscriber.objects.create(
            email=DEMO_EMAIL,
            status=Subscriber.Status.ACTIVE,
            confirmed_at=now,
            delivery_hour=now.hour,
            time_zone="UTC",
            interests="reinforcement learning for reasoning, hallucination",
        )
        subscriber.topics.set(Topic.objects.filter(active=True)[:3])
        self.stdout.write(f"Created demo subscriber {DEMO_EMAIL}.")
