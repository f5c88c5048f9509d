"""The reader-facing forms: sign-up, preferences, and "send me my link again"."""

import re
import secrets
import time
from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache as shared_cache

from newsletter.addresses import InvalidAddress, canonical_email
from newsletter.models import Subscriber
from newsletter.signals_forms import SIGNAL_FIELDS, SignalsFields, signal_initial
from papers.models import Topic

FORM_SALT = "paperboy.signup-form"
# A person fills the sign-up form in minutes; an older "form shown at" value was harvested, and
# each value is accepted once (remembered in the shared cache, Redis in production).
FORM_MAX_AGE = 3600
FORM_EXPIRED = "This page was open for more than an hour. Please check your choices and send it again."
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
    """The canonical form (newsletter/addresses.py), refused outright if it smuggles line breaks,
    NULs or invisible characters; validated after canonicalisation, so IDN domains pass."""

    def to_python(self, value):
        if isinstance(value, str) and CONTROL_CHARS.search(value):
            raise forms.ValidationError("Enter one email address, without line breaks.")
        value = super().to_python(value)
        if not value:
            return value
        try:
            return canonical_email(value)
        except InvalidAddress as exc:
            raise forms.ValidationError(str(exc)) from exc


class PreferencesForm(SignalsFields, forms.Form):
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
        described = data.get("topics") or data.get("interests", "").strip() or self.has_signals()
        if not unchecked and not described:
            raise forms.ValidationError(
                "Pick at least one topic, describe an interest or name a paper you like."
            )
        if "interests" in data:
            data["interests"] = " ".join(data["interests"].split())
        return data

    @classmethod
    def for_subscriber(cls, subscriber: Subscriber, data=None) -> "PreferencesForm":
        names = [name for name in cls.base_fields if name not in ("topics", *SIGNAL_FIELDS)]
        initial = {name: getattr(subscriber, name) for name in names}
        initial["topics"] = list(subscriber.topics.values_list("pk", flat=True))
        initial.update(signal_initial(subscriber))
        return cls(data, initial=initial)


class SubscribeForm(PreferencesForm):
    email = EmailInput(max_length=254, label="Email address")
    # Bots fill every field and submit at once; people never see this one and take a few seconds.
    website = forms.CharField(required=False, label="Leave this empty")
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started"].initial = new_started()

    def clean(self):
        if started_at(self.data.get("started", "")) is EXPIRED:
            # Shown again with a fresh value, so sending it once more works.
            self.data = self.data.copy()
            self.data["started"] = new_started()
            self.add_error(None, FORM_EXPIRED)
        return super().clean()


EXPIRED = object()


def new_started(now: float | None = None) -> str:
    """The signed "form shown at" value: when, plus a nonce that makes it single-use."""
    at = time.time() if now is None else now
    return signing.dumps({"at": at, "nonce": secrets.token_urlsafe(12)}, salt=FORM_SALT)


def started_at(value: str) -> dict | object | None:
    """The signed payload, EXPIRED when older than FORM_MAX_AGE (or from before nonces), None if forged."""
    try:
        payload = signing.loads(value, salt=FORM_SALT)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("at"), (int, float)):
        return EXPIRED
    return EXPIRED if time.time() - payload["at"] > FORM_MAX_AGE else payload


def looks_automated(data) -> bool:
    """Honeypot filled, or the form came back too fast (or without our signed timestamp)."""
    if data.get("website"):
        return True
    payload = started_at(data.get("started", ""))
    if payload is None:
        return True
    if payload is EXPIRED:
        return False  # a person who left the tab open: the form says so
    return time.time() - payload["at"] < settings.SIGNUP_MIN_SECONDS


def claim_started(data) -> bool:
    """Use up the form's nonce; False when this value was already used (a replayed form)."""
    payload = started_at(data.get("started", ""))
    if not isinstance(payload, dict):
        return False
    return shared_cache.add(f"paperboy:signup-form:{payload['nonce']}", 1, timeout=FORM_MAX_AGE + 60)


class ResendForm(forms.Form):
    email = EmailInput(max_length=254, label="Email address")
