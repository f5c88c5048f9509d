"""Admin login is throttled per username and client address (django-axes), behind proxies too."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture(autouse=True)
def editor(settings):
    settings.AXES_FAILURE_LIMIT = 5
    return get_user_model().objects.create_superuser("editor", "editor@example.org", "right-password")


def log_in(client, password: str, address: str = "203.0.113.7", **headers):
    data = {"username": "editor", "password": password, "next": "/admin/"}
    return client.post(LOGIN, data, REMOTE_ADDR=address, **headers)


def fail(client, times: int, **kwargs) -> list[int]:
    return [log_in(client, "wrong", **kwargs).status_code for _ in range(times)]


def test_the_right_password_logs_in(client):
    response = log_in(client, "right-password")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_after_five_wrong_passwords_even_the_right_one_is_refused(client):
    assert fail(client, 4) == [200] * 4  # the login form again, with its error
    assert log_in(client, "wrong").status_code == 429
    response = log_in(client, "right-password")
    assert response.status_code == 429
    assert "too many login attempts" in response.content.decode().lower()
    assert "_auth_user_id" not in client.session


def test_the_lockout_ends_after_the_cool_off(client, settings):
    fail(client, 5)
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        assert log_in(client, "right-password").status_code == 302


def test_a_lockout_holds_for_one_username_and_address_only(client):
    fail(client, 5, address="203.0.113.7")
    assert log_in(client, "right-password", address="198.51.100.9").status_code == 302


def test_behind_a_proxy_each_visitor_is_counted_by_their_forwarded_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    fail(client, 5, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    locked = log_in(client, "right-password", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert locked.status_code == 429
    # Another visitor through the same proxy is not locked out by the first one's failures.
    other = log_in(client, "right-password", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert other.status_code == 302


def test_a_garbled_forwarded_address_does_not_break_the_login(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    response = log_in(client, "right-password", address="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert response.status_code == 302
