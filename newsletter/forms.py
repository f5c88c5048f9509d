"""The reader-facing forms: sign-up, preferences, and "send me my link again"."""

import re
import time
from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core import signing

from newsletter.models import Subscriber, normalize_email
from papers.models import Topic

FORM_SALT = "paperboy.signup-form"
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(name for name in available_timezones() if "/" in name or name == "UTC")
    return [(name, name.replace("_", " ")) for name in names]


def no_control_characters(value: str) -> None:
    if CONTROL_CHARS.search(value):
        raise forms.ValidationError(
            "Please use plain text on one line (no line breaks or control characters)."
        )


class EmailInput(forms.EmailField):
    """Trimmed, lower-cased, and refused outright if it smuggles line breaks or NULs."""

    def to_python(self, value):
        if isinstance(value, str) and CONTROL_CHARS.search(value):
            raise forms.ValidationError("Enter one email address, without line breaks.")
        value = super().to_python(value)
        return normalize_email(value) if value else value


class PreferencesForm(forms.Form):
    """What a reader wants; used on its own by the manage page and inside the sign-up form."""

    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.filter(active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "That topic does not exist (any more). Please pick from the list."},
    )
    interests = forms.CharField(
        max_length=500,
        required=False,
        validators=[no_control_characters],
        help_text="Optional, comma-separated, e.g. “diffusion for video, speculative decoding”.",
    )
    frequency = forms.ChoiceField(
        choices=Subscriber.Frequency.choices, widget=forms.RadioSelect, initial=Subscriber.Frequency.DAILY
    )
    digest_size = forms.IntegerField(min_value=5, max_value=20, initial=10, label="Papers per email")
    delivery_hour = forms.TypedChoiceField(
        coerce=int,
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        initial=8,
        label="Delivery time",
        help_text="In your time zone.",
    )
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC", label="Time zone")
    delivery_weekday = forms.TypedChoiceField(
        coerce=int, choices=list(enumerate(WEEKDAYS)), initial=0, label="Weekly digests arrive on"
    )

    def clean(self):
        data = super().clean()
        # Judged even when other fields have errors, so an empty form lists every problem at once.
        unchecked = "topics" in self.errors or "interests" in self.errors
        if not unchecked and not data.get("topics") and not data.get("interests", "").strip():
            raise forms.ValidationError("Pick at least one topic or describe an interest.")
        if "interests" in data:
            data["interests"] = " ".join(data["interests"].split())
        return data

    @classmethod
    def for_subscriber(cls, subscriber: Subscriber, data=None) -> "PreferencesForm":
        initial = {name: getattr(subscriber, name) for name in cls.base_fields if name != "topics"}
        initial["topics"] = list(subscriber.topics.values_list("pk", flat=True))
        return cls(data, initial=initial)


class SubscribeForm(PreferencesForm):
    email = EmailInput(max_length=254, label="Email address")
    # Bots fill every field and submit at once; people never see this one and take a few seconds.
    website = forms.CharField(required=False, label="Leave this empty")
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].initial = signing.dumps(time.time(), salt=FORM_SALT)


def looks_automated(data) -> bool:
    """Honeypot filled, or the form came back too fast (or without our signed timestamp)."""
    if data.get("website"):
        return True
    try:
        started = float(signing.loads(data.get("started", ""), salt=FORM_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return True
    return time.time() - started < settings.SIGNUP_MIN_SECONDS


class ResendForm(forms.Form):
    email = EmailInput(max_length=254, label="Email address")
