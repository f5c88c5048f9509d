from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from newsletter import outbox, webhooks

admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Papers, topics and readers"
# The app sidebar took a third of a 1280 px screen and pushed list columns out of view.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    # The configured ESP's tracking webhook, /anymail/<ANYMAIL_ESP>/tracking/ (newsletter/webhooks.py;
    # newsletter/tracking.py receives the events). Other ESPs' URLs answer 404.
    path("anymail/<str:esp>/tracking/", webhooks.tracking, name="tracking-webhook"),
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
