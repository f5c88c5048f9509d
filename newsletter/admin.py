from django.contrib import admin  # noqa: F401

# Deliveries and tracking events register their ModelAdmins in their own modules.
from newsletter import admin_deliveries, admin_tracking  # noqa: F401
