"""Vectors of papers and interest phrases under the semantic model (written by newsletter.semantic)."""

from django.db import models
from django.utils import timezone


class PaperEmbedding(models.Model):
    """A paper's vector under the semantic model, computed once per paper text (see
    newsletter.semantic). `text_hash` tells when the title or abstract changed since."""

    paper = models.OneToOneField("papers.Paper", on_delete=models.CASCADE, related_name="embedding")
    model = models.CharField(max_length=200)
    text_hash = models.CharField(max_length=32)
    vector = models.BinaryField()  # float32, little-endian, L2-normalised
    computed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.paper_id} ({self.model})"


class PhraseEmbedding(models.Model):
    """A reader's interest phrase under the semantic model: one row per distinct phrase."""

    model = models.CharField(max_length=200)
    phrase = models.CharField(max_length=500)
    vector = models.BinaryField()  # float32, little-endian, L2-normalised

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "phrase"], name="one_embedding_per_model_and_phrase")
        ]

    def __str__(self) -> str:
        return f"{self.phrase} ({self.model})"
