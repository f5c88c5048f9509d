from django.urls import path

from newsletter import dashboard, digest_views, feedback_views, links, views

# Each section is owned by one module; keep them apart.
urlpatterns = [
    # --- Subscription lifecycle (views.py): sign-up, confirm, manage, unsubscribe, export, erase ---
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/resend/", views.resend, name="resend"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("manage/<str:token>/", links.remembering(views.manage), name="manage"),
    path("manage/<str:token>/export/", views.export, name="export"),
    path("manage/<str:token>/delete/", views.erase, name="erase"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # --- What readers teach their digest (feedback_views.py): 👍/👎, add to my papers, follow ---
    path("feedback/<str:token>/", feedback_views.feedback, name="feedback"),
    path("feedback/<str:token>/undo/", feedback_views.feedback_undo, name="feedback-undo"),
    path("feedback/<str:token>/<str:action>/", feedback_views.feedback_action, name="feedback-action"),
    path("me/papers/<path:paper_id>/", feedback_views.paper_action, name="paper-action"),
    path("me/forget/", feedback_views.forget_reader, name="forget-reader"),
    # --- Digests (digest_views.py): view in browser ("digest-web", a "digest" token), admin preview ---
    path("digest/<str:token>/", digest_views.web, name="digest-web"),
    path("staff/digests/<int:subscriber_id>/preview/", digest_views.preview, name="digest-preview"),
    path("staff/digests/<int:subscriber_id>/test/", digest_views.send_test, name="digest-test"),
    # --- Tracking (tracking.py / dashboard.py): staff dashboard ---
    path("staff/sending/", dashboard.dashboard, name="tracking-dashboard"),
    path("staff/sending/readers/<int:pk>/", dashboard.reader_history, name="tracking-reader-history"),
]
