"""Query and path input from anyone: a clear 400 or 404 with the site's page, never a 500."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from tests.factories import make_paper, make_topic

pytestmark = pytest.mark.django_db
NUL = "\x00"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_a_date_outside_the_catalogue_s_range_gets_a_clear_error(client, day, period):
    response = client.get(reverse("home"), {"date": day, "period": period})
    assert response.status_code == 400
    assert "Pick a date from 1900 to 2999" in response.content.decode()


def test_the_first_and_last_days_of_the_range_show_their_pages(client):
    assert client.get(reverse("home"), {"date": "1900-01-01", "period": "month"}).status_code == 200
    assert client.get(reverse("home"), {"date": "2999-12-31", "period": "week"}).status_code == 200


@pytest.mark.parametrize("name", ["q", "topic", "period", "date", "page"])
def test_a_nul_character_in_any_home_page_parameter_gets_a_clear_error(client, name):
    make_topic("Robots", slug="robots")
    response = client.get(reverse("home"), {name: f"robots{NUL}"})
    assert response.status_code == 400
    assert "We could not show that page" in response.content.decode()


@pytest.mark.parametrize("path", ["/papers/%00/", "/papers/2501.00001%00/", "/topics/robots%00/"])
def test_a_nul_character_in_a_page_address_is_not_found(client, path):
    make_paper("A paper", paper_id="2501.00001")
    make_topic("Robots", slug="robots")
    response = client.get(path)
    assert response.status_code == 404
    assert "Nothing here" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/topics/?page=%00",
        "/topics/robots/?page=99999999999999999999",
        f"/subscribe/?email={NUL}",
        "/confirm/%00/",
        "/manage/%00/",
        "/manage/%00/export/",
        "/unsubscribe/%00/",
        "/digest/%00/",
        "/subscribe/?email=%ED%A0%80",
    ],
)
def test_other_public_pages_answer_hostile_input_without_an_error(client, path):
    make_topic("Robots", slug="robots")
    assert client.get(path).status_code in (200, 400, 404)


@pytest.mark.parametrize("query", ["²", "9" * 40, f"a{NUL}@example.com", "١٢"])
def test_the_staff_reader_search_answers_odd_queries_with_not_found(client, query):
    client.force_login(User.objects.create_user("editor", password="pw", is_staff=True, is_superuser=True))
    response = client.get("/staff/sending/", {"q": query}, follow=True)
    assert response.status_code == 200
    assert "No reader has that address or id." in response.content.decode()
