"""Form fields for what readers teach their digest: seed papers, follows, mutes, the trending
dial. Mixed into the preferences form (and so the sign-up form): one form, saved whole or not."""

from django import forms

from newsletter import reader_signals, sections
from newsletter.models import Subscriber

SIGNAL_FIELDS = reader_signals.SIGNAL_KEYS


def _parsed(parse, value: str):
    try:
        return parse(value)
    except reader_signals.SignalError as exc:
        raise forms.ValidationError(str(exc)) from exc


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class SignalsFields(forms.Form):
    # Not stripped: an error's line number must be the line the reader sees.
    seed_papers = forms.CharField(
        required=False,
        strip=False,
        max_length=5000,
        widget=_textarea(4),
        label="Papers like these",
        help_text="Up to 50 arXiv ids or arXiv / Hugging Face paper links, one per line or comma-separated.",
    )
    followed_authors = forms.CharField(
        required=False,
        strip=False,
        max_length=5000,
        widget=_textarea(),
        label="Authors you follow",
        help_text="One name per line, as written on papers, e.g. “Jane Doe”.",
    )
    followed_orgs = forms.CharField(
        required=False,
        strip=False,
        max_length=5000,
        widget=_textarea(),
        label="Labs and organizations you follow",
        help_text="One per line, as shown on papers, e.g. “Google DeepMind”.",
    )
    muted = forms.CharField(
        required=False,
        max_length=1000,
        widget=_textarea(2),
        label="Muted words and phrases",
        help_text="Comma-separated or one per line: a paper that mentions one is never sent to you.",
    )
    # Optional: a form sent without it (older pages, scripts) means the default.
    trending = forms.ChoiceField(
        required=False,
        choices=Subscriber.Trending.choices,
        initial=Subscriber.Trending.BALANCED,
        widget=forms.RadioSelect,
        label="How much trending",
    )

    def clean_seed_papers(self) -> list[str]:
        return _parsed(reader_signals.parse_seeds, self.cleaned_data["seed_papers"])

    def clean_followed_authors(self) -> list[str]:
        return _parsed(reader_signals.parse_authors, self.cleaned_data["followed_authors"])

    def clean_followed_orgs(self) -> list[str]:
        return _parsed(reader_signals.parse_orgs, self.cleaned_data["followed_orgs"])

    def clean_muted(self) -> str:
        phrases = sections.muted_phrases(self.cleaned_data["muted"])
        if any(len(p) > 100 for p in phrases):
            raise forms.ValidationError("A muted word or phrase is at most 100 characters.")
        return "\n".join(phrases)

    def clean_trending(self) -> str:
        return self.cleaned_data["trending"] or Subscriber.Trending.BALANCED

    def has_signals(self) -> bool:
        return any(self.cleaned_data.get(name) for name in SIGNAL_FIELDS)


def signal_initial(subscriber: Subscriber) -> dict[str, str]:
    """The reader's seeds and follows as the form's text fields show them."""
    return {name: "\n".join(values) for name, values in reader_signals.taught(subscriber).items()}
