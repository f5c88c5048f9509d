"""The newsletter's tables, one module per concern; import them from here (``newsletter.models``).

- readers: Subscriber (its status machine, TRANSITIONS), ConsentRecord, Suppression, email_hash
- teaching: what readers teach their digest (Rating, SeedPaper, Follow)
- deliveries: DigestDelivery (states in newsletter/delivery_states.py), DeliveryEvent,
  EngagementCount, Heartbeat
- subscription_emails: the outbox of confirmation emails (SubscriptionEmail)
- vectors: the semantic model's PaperEmbedding and PhraseEmbedding
"""

from newsletter.models.deliveries import DeliveryEvent, DigestDelivery, EngagementCount, Heartbeat
from newsletter.models.readers import TRANSITIONS, ConsentRecord, Subscriber, Suppression, email_hash
from newsletter.models.subscription_emails import SubscriptionEmail, SubscriptionEmailQuerySet
from newsletter.models.teaching import Follow, Rating, SeedPaper
from newsletter.models.vectors import PaperEmbedding, PhraseEmbedding

__all__ = [
    "TRANSITIONS",
    "ConsentRecord",
    "DeliveryEvent",
    "DigestDelivery",
    "EngagementCount",
    "Follow",
    "Heartbeat",
    "PaperEmbedding",
    "PhraseEmbedding",
    "Rating",
    "SeedPaper",
    "Subscriber",
    "SubscriptionEmail",
    "SubscriptionEmailQuerySet",
    "Suppression",
    "email_hash",
]
