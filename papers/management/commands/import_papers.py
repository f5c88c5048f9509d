"""import_papers hf|arxiv|file: the same functions the scheduled Celery tasks call."""

import re
from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from papers.ingestion import arxiv, file, hf
from papers.ingestion.records import SourceError

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import papers from Hugging Face Daily Papers, arXiv, or a file in the Hugging Face JSON shape."

    def add_arguments(self, parser):
        sources = parser.add_subparsers(dest="source", required=True, metavar="{hf,arxiv,file}")
        hf_parser = sources.add_parser("hf", help="Hugging Face Daily Papers (default: yesterday, UTC)")
        when = hf_parser.add_mutually_exclusive_group()
        when.add_argument("--date", help="a day, YYYY-MM-DD")
        when.add_argument("--week", help="an ISO week, YYYY-Www (e.g. 2025-W40)")
        when.add_argument("--month", help="a month, YYYY-MM")
        arxiv_parser = sources.add_parser("arxiv", help="arXiv's announcement feed, or papers by id")
        arxiv_parser.add_argument(
            "--categories", help="comma-separated, e.g. cs.CL,cs.LG (default: settings)"
        )
        arxiv_parser.add_argument("--ids", help="comma-separated arXiv ids, fetched from the query API")
        file_parser = sources.add_parser("file", help="a JSON file in the Hugging Face API shape")
        file_parser.add_argument("path")

    def handle(self, *args, **options):
        try:
            label, result = self.run_import(options)
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{label}: {result}")

    def run_import(self, options):
        progress = self.progress_bar()
        if options["source"] == "file":
            return f"file {options['path']}", file.import_file(options["path"], progress=progress)
        if options["source"] == "hf":
            params = hf_params(options)
            label = "hf " + " ".join(f"{k}={v}" for k, v in params.items())
            return label, hf.import_hf(params, progress=progress)
        if options["ids"]:
            ids = [i.strip() for i in options["ids"].split(",") if i.strip()]
            return f"arxiv ids ({len(ids)})", arxiv.import_ids(ids, progress=progress)
        categories = split(options["categories"] or "") or list(settings.PAPERS_ARXIV_CATEGORIES)
        return f"arxiv {','.join(categories)}", arxiv.import_feed(categories, progress=progress)

    def progress_bar(self):
        """A bar on a terminal only: logs and cron mail get just the summary line."""
        if not self.stdout.isatty():
            return None

        def show(done: int, total: int) -> None:
            filled = BAR_WIDTH * done // max(total, 1)
            self.stdout.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}", ending="")
            if done == total:
                self.stdout.write("")

        return show


def hf_params(options) -> dict[str, str]:
    if options["week"]:
        if not re.fullmatch(r"\d{4}-W\d{2}", options["week"]):
            raise CommandError(f"hf: --week {options['week']!r} is not an ISO week like 2025-W40")
        return {"week": options["week"]}
    if options["month"]:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", options["month"]):
            raise CommandError(f"hf: --month {options['month']!r} is not a month like 2025-09")
        return {"month": options["month"]}
    if options["date"]:
        try:
            return {"date": date.fromisoformat(options["date"]).isoformat()}
        except ValueError:
            raise CommandError(f"hf: --date {options['date']!r} is not a date like 2025-09-30") from None
    return {"date": (timezone.now().date() - timedelta(days=1)).isoformat()}


def split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
