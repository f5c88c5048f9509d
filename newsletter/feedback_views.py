"""👍 / 👎 / "add to my papers" from digest links, and follow / add from the public paper pages.

Digest links carry a token signed for one (reader, paper): GET shows the paper and one button and
changes nothing (mail scanners follow links); only the POST records. Paper pages have no reader
in the URL: opening any reader link leaves the reader's manage token in a cookie on that
browser, and the paper page's buttons act for that reader (a form POST, CSRF-protected).
"""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from newsletter import reader_signals
from newsletter.forms import ResendForm
from newsletter.links import READER_COOKIE, find_link, path_for, remember, remembered_reader
from newsletter.models import Follow, Rating, Subscriber
from newsletter.tokens import BadToken
from newsletter.views import bad_link
from papers.models import Paper

RATINGS = {"more": Rating.Value.MORE, "less": Rating.Value.LESS}
ACTIONS = ("more", "less", "save")


def read_feedback(token: str) -> tuple[Subscriber, Paper]:
    """The reader and paper a feedback token was made for; BadToken for anything else."""
    subscriber, paper_pk, _ = find_link(token, "feedback")
    try:
        paper = Paper.objects.filter(pk=int(paper_pk), hidden=False).first()
    except ValueError as exc:
        raise BadToken(str(exc)) from exc
    if paper is None:
        raise BadToken("paper gone")
    return subscriber, paper


def _page(request, template: str, subscriber: Subscriber, paper: Paper, token: str, **extra) -> HttpResponse:
    context = {
        "subscriber": subscriber,
        "paper": paper,
        "token": token,
        "manage_url": path_for(subscriber, "manage"),
        **extra,
    }
    return remember(render(request, template, context), subscriber)


@require_http_methods(["GET"])
def feedback(request, token: str) -> HttpResponse:
    """The paper with all three choices (where a digest's feedback links start)."""
    try:
        subscriber, paper = read_feedback(token)
    except BadToken:
        return bad_link(request)
    return _page(request, "newsletter/feedback.html", subscriber, paper, token, action="")


@require_http_methods(["GET", "POST"])
def feedback_action(request, token: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404("No such choice.")
    try:
        subscriber, paper = read_feedback(token)
    except BadToken:
        return bad_link(request)
    if request.method == "GET":
        return _page(request, "newsletter/feedback.html", subscriber, paper, token, action=action)
    if action == "save":
        done = reader_signals.add_seed(subscriber, paper)
        return _page(
            request, "newsletter/feedback_done.html", subscriber, paper, token, action=action, done=done
        )
    previous = reader_signals.rate(subscriber, paper, RATINGS[action])
    undo = "" if previous is None else str(previous)
    return _page(request, "newsletter/feedback_done.html", subscriber, paper, token, action=action, undo=undo)


@require_POST
def feedback_undo(request, token: str) -> HttpResponse:
    """Put back what the reader had before: no rating, the other rating, or no seed."""
    try:
        subscriber, paper = read_feedback(token)
    except BadToken:
        return bad_link(request)
    what, previous = request.POST.get("what"), request.POST.get("previous", "")
    if what == "save":
        subscriber.seeds.filter(arxiv_id=paper.paper_id).delete()
    elif what == "rating" and previous in ("", "1", "-1"):
        Rating.objects.restore(subscriber.pk, paper.pk, int(previous) if previous else None)
    else:
        return render(request, "papers/bad_request.html", {"message": "Nothing to undo."}, status=400)
    return _page(request, "newsletter/feedback_done.html", subscriber, paper, token, action="undone")


@require_POST
def paper_action(request, paper_id: str) -> HttpResponse:
    """ "Add to my papers" / "follow" from a public paper page, for the remembered reader."""
    paper = get_object_or_404(Paper, paper_id=paper_id, hidden=False)
    subscriber = remembered_reader(request)
    if subscriber is None:
        context = {"paper": paper, "form": ResendForm()}
        return render(request, "newsletter/reader_unknown.html", context, status=400)
    action, name = request.POST.get("action"), request.POST.get("name", "")
    if action == "save":
        done, what = reader_signals.add_seed(subscriber, paper), "saved"
    elif action == "author" and name in paper.authors:
        done, what = reader_signals.follow(subscriber, Follow.Kind.AUTHOR, name), name
    elif action == "org" and paper.organization_id:
        handle = paper.organization.name
        done, what = (
            reader_signals.follow(subscriber, Follow.Kind.ORGANIZATION, handle),
            str(paper.organization),
        )
    else:
        return render(
            request, "papers/bad_request.html", {"message": "Choose an author of this paper."}, status=400
        )
    context = {"paper": paper, "done": done, "what": what, "action": action}
    context["manage_url"] = path_for(subscriber, "manage")
    return render(request, "newsletter/paper_action_done.html", context)


@require_POST
def forget_reader(request) -> HttpResponse:
    target = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    response = redirect(target if safe else reverse("home"))
    response.delete_cookie(READER_COOKIE)
    return response
