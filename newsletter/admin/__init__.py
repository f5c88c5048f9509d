"""The newsletter's admin, one module per concern; importing them registers their ModelAdmins.

- readers: readers, their consents and choices
- deliveries: digest deliveries, what failed and re-queueing
- subscription_emails: the confirmation outbox
- events: ESP tracking events and the suppression list
"""

from newsletter.admin import deliveries, events, readers, subscription_emails  # noqa: F401
