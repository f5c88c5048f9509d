"""Reader pages: sign-up, confirm, manage, unsubscribe, export, erase. Thin: the lifecycle lives
in newsletter/subscriptions.py. No accounts: signed links (newsletter/tokens.py) are the key."""

import json
from functools import wraps

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from newsletter import links, privacy, ratelimit, subscriptions
from newsletter.forms import (
    WEEKDAYS,
    PreferencesForm,
    ResendForm,
    SubscribeForm,
    claim_started,
    looks_automated,
)
from newsletter.models import Subscriber
from newsletter.tokens import BadToken

# A sign-up is a few hundred bytes (plus ~30 bytes per topic); anything far larger is not a person.
MAX_FORM_BYTES = 32 * 1024


def bad_link(request) -> HttpResponse:
    """One page for every broken link: tampered, truncated, expired, cross-purpose or deleted."""
    return render(request, "newsletter/bad_link.html", {"form": ResendForm()}, status=400)


def with_subscriber(purpose: str):
    """Resolve the <token> URL argument to a Subscriber, or answer with the bad-link page."""

    def decorator(view):
        # A reader's page shows their address and choices: no browser or proxy may keep a copy.
        @never_cache
        @wraps(view)
        def wrapper(request, token: str, *args, **kwargs):
            try:
                subscriber = links.find_subscriber(token, purpose)
            except BadToken:
                return bad_link(request)
            return view(request, subscriber, token, *args, **kwargs)

        return wrapper

    return decorator


def who(request) -> dict[str, str]:
    """Where a consent came from, for the ConsentRecord."""
    return {"ip": ratelimit.client_ip(request), "user_agent": request.META.get("HTTP_USER_AGENT", "")}


def too_many(request) -> HttpResponse:
    return render(request, "newsletter/too_many.html", status=429)


def oversized(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_FORM_BYTES
    except ValueError:
        return True


@require_http_methods(["GET", "POST"])
def subscribe(request):
    if request.method == "GET":
        form = SubscribeForm(initial={"email": request.GET.get("email", "")[:254]})
        return render(request, "newsletter/subscribe.html", {"form": form})
    if oversized(request):
        return render(request, "newsletter/too_large.html", status=413)
    if not ratelimit.allow_ip(request):
        return too_many(request)
    if looks_automated(request.POST):
        # Same answer as a real sign-up so bots learn nothing; nothing is saved or sent.
        return render(request, "newsletter/subscribe_done.html", {"email": request.POST.get("email", "")})
    form = SubscribeForm(request.POST)
    if not form.is_valid():
        return render(request, "newsletter/subscribe.html", {"form": form}, status=400)
    if not claim_started(request.POST):
        # A replayed form: the same answer as for any bot, and nothing is saved or sent.
        return render(request, "newsletter/subscribe_done.html", {"email": request.POST.get("email", "")})
    email = form.cleaned_data["email"]
    if not ratelimit.allow_address(email):
        return too_many(request)
    subscriptions.sign_up(form.cleaned_data, **who(request))
    return render(request, "newsletter/subscribe_done.html", {"email": email})


@require_http_methods(["GET", "POST"])
def resend(request):
    """Lost or expired link: a pending reader gets a new confirmation, a confirmed one a manage link."""
    if request.method == "GET":
        return render(request, "newsletter/resend.html", {"form": ResendForm()})
    if oversized(request):
        return render(request, "newsletter/too_large.html", status=413)
    if not ratelimit.allow_ip(request):
        return too_many(request)
    form = ResendForm(request.POST)
    if not form.is_valid():
        return render(request, "newsletter/resend.html", {"form": form}, status=400)
    if not ratelimit.allow_address(form.cleaned_data["email"]):
        return too_many(request)
    subscriptions.resend_link(form.cleaned_data["email"])
    return render(request, "newsletter/subscribe_done.html", {"email": form.cleaned_data["email"]})


@require_http_methods(["GET", "POST"])
@with_subscriber("confirm")
def confirm(request, subscriber: Subscriber, token: str):
    # GET only shows a button: link scanners in mail systems must not confirm on someone's behalf.
    just_confirmed = False
    if request.method == "POST":
        just_confirmed = subscriptions.confirm(subscriber, **who(request))
        subscriber.refresh_from_db()
    context = {"subscriber": subscriber, "manage_url": links.path_for(subscriber, "manage")}
    context.update(just_confirmed=just_confirmed, weekday=WEEKDAYS[subscriber.delivery_weekday])
    return render(request, "newsletter/confirm.html", context)


@require_http_methods(["GET", "POST"])
@with_subscriber("manage")
def manage(request, subscriber: Subscriber, token: str):
    if request.method == "POST" and oversized(request):
        return render(request, "newsletter/too_large.html", status=413)
    context = {
        "subscriber": subscriber,
        "token": token,
        "unsubscribe_url": links.path_for(subscriber, "unsubscribe"),
    }
    action = request.POST.get("action", "save") if request.method == "POST" else None
    form = PreferencesForm.for_subscriber(subscriber, request.POST if action == "save" else None)
    status = 200
    if action == "save":
        if form.is_valid():
            context["changes"] = subscriptions.update_preferences(
                subscriber, form.cleaned_data, **who(request)
            )
            context["saved"] = True
            form = PreferencesForm.for_subscriber(subscriber)
        else:
            status = 400
    elif action == "sign_out":
        subscriptions.sign_out_links(subscriber)
        return render(request, "newsletter/signed_out.html", {"subscriber": subscriber})
    elif action is not None:
        done = quick_action(request, subscriber, action)
        if done is None:
            return render(request, "newsletter/manage.html", {**context, "form": form}, status=400)
        context.update(done)
    context["form"] = form
    return render(request, "newsletter/manage.html", context, status=status)


def quick_action(request, subscriber: Subscriber, action: str) -> dict | None:
    """A one-button action on the preferences page: what the page then says, None if unknown."""
    if action in ("pause", "resume"):
        return {"status_changed": subscriptions.change_status(subscriber, action, **who(request))}
    if action == "resubscribe":
        if subscriber.status in (Subscriber.Status.UNSUBSCRIBED, Subscriber.Status.SUPPRESSED):
            subscriptions.resubscribe(subscriber, **who(request))
        return {"resubscribed": True}
    if action in ("export", "erase"):
        return {"data_link": action, "data_link_sent": privacy.email_data_link(subscriber, action)}
    return None


@require_http_methods(["GET"])
@with_subscriber("export")
def export(request, subscriber: Subscriber, token: str):
    """ "Download my data" from the short-lived emailed link: reading only, so a plain GET."""
    body = json.dumps(privacy.export_data(subscriber), cls=DjangoJSONEncoder, indent=2)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="paperboy-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@with_subscriber("erase")
def erase(request, subscriber: Subscriber, token: str):
    """ "Delete me" from the short-lived emailed link: GET asks, POST erases."""
    if request.method == "GET":
        context = {"subscriber": subscriber, "manage_url": links.path_for(subscriber, "manage")}
        return render(request, "newsletter/erase.html", context)
    privacy.erase(subscriber)
    return render(request, "newsletter/erased.html")


@csrf_exempt  # RFC 8058 one-click: the mail client POSTs with no cookie and no CSRF token.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        subscriber, _, current = links.find_link(token, "unsubscribe")
    except links.SubscriberGone:
        # An erased reader is on no list: one-click must still succeed, and stays idempotent.
        return render(request, "newsletter/unsubscribed.html", {"subscriber": None})
    except BadToken:
        return bad_link(request)
    # GET never changes anything: mail scanners follow links. POST acts at once, no redirect.
    if request.method == "POST":
        subscriptions.change_status(subscriber, "unsubscribe", **who(request))
        # Unsubscribe links outlive a sign-out (RFC 8058); only a current one leads further.
        manage_url = links.path_for(subscriber, "manage") if current else ""
        context = {"subscriber": subscriber, "manage_url": manage_url}
        return render(request, "newsletter/unsubscribed.html", context)
    return render(request, "newsletter/unsubscribe.html", {"subscriber": subscriber})
