"""Site-wide error pages, rendered with the request so they carry the site's layout and links."""

from django.shortcuts import render


def bad_request(request, exception=None):
    # Reached for requests Django refuses before any view runs: a body over
    # DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a disallowed host.
    return render(request, "400.html", status=400)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)
