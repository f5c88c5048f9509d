"""Operators choose the Celery broker: Redis by default, RabbitMQ through CELERY_BROKER_URL."""

import json

from tests.test_settings import load_settings

PROBE = """
import json, django
django.setup()
from django.conf import settings as s
from config.celery_app import app
print(json.dumps({
    "broker": app.conf.broker_url, "cache": s.CACHES["default"]["LOCATION"],
    "options": app.conf.broker_transport_options or {}, "hold": s.CELERY_BROKER_HOLD_SECONDS,
    "retry_cap": s.DIGEST_RETRY_MAX_SECONDS, "rate": s.DIGEST_MAX_SEND_RATE,
}))
"""


def settings_with(**env: str) -> dict:
    result = load_settings(PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_rabbitmq_carries_the_tasks_while_redis_stays_the_cache():
    s = settings_with(REDIS_URL="redis://cache:6379/1", CELERY_BROKER_URL="amqp://guest:guest@mq:5672//")
    assert s["broker"] == "amqp://guest:guest@mq:5672//"
    assert s["cache"] == "redis://cache:6379/1"
    assert "visibility_timeout" not in s["options"]
    # RabbitMQ closes a consumer holding a task past consumer_timeout (30 min by default).
    assert s["hold"] == 1800


def test_redis_is_the_broker_when_no_other_is_named():
    s = settings_with(REDIS_URL="redis://cache:6379/1")
    assert s["broker"] == "redis://cache:6379/1"
    assert s["options"]["visibility_timeout"] == s["hold"] > s["retry_cap"]


def test_the_send_rate_is_uncapped_unless_set():
    assert settings_with()["rate"] is None
    assert settings_with(DIGEST_MAX_SEND_RATE="14")["rate"] == 14.0
