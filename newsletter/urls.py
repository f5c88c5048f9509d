from django.urls import path  # noqa: F401

# Each section is owned by one module; keep them apart.
urlpatterns: list = [
    # --- Subscription lifecycle (views.py): sign-up, confirm, manage, unsubscribe, export, erase ---
    # --- Digests (digest_views.py): view in browser, admin preview ---
    # --- Tracking (tracking.py / dashboard.py): staff dashboard ---
]
