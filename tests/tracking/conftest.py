import pytest

from tests.tracking.webhooks import ANYMAIL_SETTINGS


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.ANYMAIL = dict(ANYMAIL_SETTINGS)
    settings.TRACKING_SOFT_BOUNCE_LIMIT = 3
    settings.TRACKING_SOFT_BOUNCE_WINDOW_DAYS = 14
    settings.TRACKING_PER_READER = False
