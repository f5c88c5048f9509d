from django.core.management.base import BaseCommand, CommandError

from config.schedules import install_schedules


class Command(BaseCommand):
    help = "Create the default periodic tasks in django-celery-beat (edit them in the admin afterwards)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Also reset edited schedules to the defaults."
        )

    def handle(self, *args, reset: bool, **options):
        try:
            results = install_schedules(reset=reset)
        except ValueError as exc:
            raise CommandError(f"setup_schedules: {exc}") from exc
        for name, outcome in results:
            self.stdout.write(f"{name}: {outcome}")
