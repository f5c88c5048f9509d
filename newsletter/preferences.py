"""What a reader chose, as data: read from the reader, applied to them, stored with every
consent record (so the history of what they agreed to survives later edits), and compared to
tell them what a save changed."""

from collections.abc import Mapping
from typing import Any

from newsletter import reader_signals
from newsletter.models import ConsentRecord, Subscriber
from papers.models import Topic

# Bump when the wording next to the sign-up button changes; stored with every consent.
CONSENT_VERSION = "signup-form-v1"
PREFERENCE_FIELDS = (
    "frequency",
    "digest_size",
    "delivery_hour",
    "time_zone",
    "delivery_weekday",
    "interests",
    "muted",
    "trending",
)


def preferences_of(subscriber: Subscriber) -> dict[str, Any]:
    """What the reader chose, as plain JSON-able data (stored with consents and exported)."""
    prefs = {name: getattr(subscriber, name) for name in PREFERENCE_FIELDS}
    prefs["topics"] = sorted(subscriber.topics.values_list("slug", flat=True))
    prefs.update(reader_signals.taught(subscriber))
    return prefs


def consent(
    subscriber: Subscriber, ip: str | None = None, user_agent: str = "", choices: Mapping | None = None
) -> dict[str, Any]:
    """The fields of a ConsentRecord for something the reader did (choices: what they chose)."""
    return {
        "ip_address": ip or None,
        "user_agent": user_agent[:300],
        "consent_version": CONSENT_VERSION,
        "choices": preferences_of(subscriber) if choices is None else choices,
    }


def record(subscriber: Subscriber, action: str, ip: str | None = None, user_agent: str = "") -> None:
    ConsentRecord.objects.create(subscriber=subscriber, action=action, **consent(subscriber, ip, user_agent))


def apply(subscriber: Subscriber, prefs: Mapping[str, Any]) -> None:
    for name in PREFERENCE_FIELDS:
        setattr(subscriber, name, prefs[name])
    subscriber.save()
    subscriber.topics.set(prefs["topics"])
    reader_signals.apply(subscriber, prefs)


def choices_of(prefs: Mapping[str, Any]) -> dict[str, Any]:
    """Form choices (topics as Topic objects) as JSON-able data, topics by slug."""
    choices = {name: prefs[name] for name in PREFERENCE_FIELDS}
    # Seeds and follows wait with the rest (reader_signals.apply takes the keys present).
    choices.update({name: list(prefs[name]) for name in reader_signals.SIGNAL_KEYS if name in prefs})
    return {**choices, "topics": sorted(topic.slug for topic in prefs["topics"])}


def prefs_from(choices: Mapping[str, Any]) -> dict[str, Any]:
    """choices_of() back to preferences; a topic retired since then is left out."""
    return {**choices, "topics": list(Topic.objects.filter(slug__in=choices["topics"], active=True))}


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Human sentences for what a preferences save changed (pure: compares two preferences_of())."""
    labels = {
        "topics": "Topics",
        "interests": "Interests",
        "frequency": "Frequency",
        "digest_size": "Papers per email",
        "delivery_hour": "Delivery hour",
        "time_zone": "Time zone",
        "delivery_weekday": "Weekly delivery day",
        "seed_papers": "Papers like these",
        "followed_authors": "Authors you follow",
        "followed_orgs": "Organizations you follow",
        "muted": "Muted words",
        "trending": "How much trending",
    }
    changes = []
    for name, label in labels.items():
        old, new = before.get(name), after.get(name)
        if old != new:
            changes.append(f"{label}: {_show(name, old)} → {_show(name, new)}")
    return changes


def _show(name: str, value: Any) -> str:
    if name in ("topics", "seed_papers", "followed_authors", "followed_orgs"):
        return ", ".join(value or []) or "none"
    if name == "muted":
        return ", ".join(value.splitlines()) or "none"
    if name == "trending":
        return Subscriber.Trending(value).label
    if name == "delivery_hour":
        return f"{value:02d}:00"
    if name == "delivery_weekday":
        return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")[value]
    if name == "frequency":
        return Subscriber.Frequency(value).label
    return str(value) if value != "" else "none"


def as_shown(subscriber: Subscriber) -> dict[str, Any]:
    """Preferences with topic names (not slugs), for telling the reader what changed."""
    return {**preferences_of(subscriber), "topics": sorted(t.name for t in subscriber.topics.all())}


def preferences_of_objects(subscriber: Subscriber) -> dict[str, Any]:
    prefs = {name: getattr(subscriber, name) for name in PREFERENCE_FIELDS}
    prefs["topics"] = list(subscriber.topics.all())
    return prefs
