from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Newsletter"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the system checks)
        from newsletter import tracking  # noqa: F401  (connects the Anymail tracking receiver)
