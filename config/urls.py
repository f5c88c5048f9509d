from django.contrib import admin
from django.urls import include, path

from newsletter import outbox

urlpatterns = [
    path("admin/", admin.site.urls),
    # ESP tracking webhooks: /anymail/<esp>/tracking/ (newsletter/tracking.py receives the events).
    path("anymail/", include("anymail.urls")),
    # Development-only letter opener; the views answer 404 unless DEBUG is on.
    path("dev/outbox/", outbox.outbox_list, name="outbox-list"),
    path("dev/outbox/<str:name>/", outbox.outbox_detail, name="outbox-detail"),
    path("dev/outbox/<str:name>/html", outbox.outbox_html, name="outbox-html"),
    path("", include("papers.urls")),
    path("", include("newsletter.urls")),
]

handler400 = "config.errors.bad_request"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
