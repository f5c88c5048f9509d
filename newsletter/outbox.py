"""A local letter opener: browse the .eml files that OutboxBackend wrote. DEBUG only."""

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import wraps
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from config.csp import framed_by_own_pages, shows_email

SAFE_NAME = re.compile(r"^[\w.-]+\.eml$")


def debug_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404("The outbox is only available in development (DJANGO_DEBUG=on).")
        return view(request, *args, **kwargs)

    return wrapper


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as f:
        return BytesParser(policy=policy.default).parse(f)


def message_path(name: str) -> Path:
    path = Path(settings.OUTBOX_DIR) / name
    if not SAFE_NAME.match(name) or not path.is_file():
        raise Http404("No such message.")
    return path


def body(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


@debug_only
def outbox_list(request):
    outbox = Path(settings.OUTBOX_DIR)
    paths = sorted(outbox.glob("*.eml"), reverse=True)[:200] if outbox.is_dir() else []
    messages = [{"name": p.name, "message": read_message(p)} for p in paths]
    return render(request, "dev/outbox_list.html", {"messages_": messages, "outbox_dir": outbox})


@debug_only
def outbox_detail(request, name: str):
    message = read_message(message_path(name))
    context = {
        "name": name,
        "message": message,
        "headers": list(message.items()),
        "text": body(message, "plain"),
        "has_html": message.get_body(preferencelist=("html",)) is not None,
    }
    return render(request, "dev/outbox_detail.html", context)


@debug_only
@xframe_options_sameorigin
@framed_by_own_pages
@shows_email
def outbox_html(request, name: str):
    html = body(read_message(message_path(name)), "html")
    return HttpResponse(html, content_type="text/html; charset=utf-8")
