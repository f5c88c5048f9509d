"""Site-wide error pages, rendered with the request so they carry the site's layout and links."""

from django.shortcuts import render
from django.views import defaults

from config.csp import shows_inline_styles


def bad_request(request, exception=None):
    # Reached for requests Django refuses before any view runs: a body over
    # DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a disallowed host.
    return render(request, "400.html", status=400)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


@shows_inline_styles
def server_error(request):
    # Django's own handler (no context, nothing that could fail again); 500.html keeps its few
    # styles inline so that it looks right even when static files are the problem.
    return defaults.server_error(request)
