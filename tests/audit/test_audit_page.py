"""The audit page (/audit/): events on the objects the viewer can READ, as sentences, filtered and paginated.

alice owns a key and an endpoint; bob is given READ on some of them; charlie
is an outsider with a key of his own; dave reads through his group ``team``;
root is a superuser and sees every event, deleted objects included.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from audit.models import AuditEvent
from endpoints import lifecycle
from endpoints import services as endpoint_services
from endpoints.validation import ModelSpec
from keys import services as key_services
from sharing import services as sharing
from sharing.levels import Level

pytestmark = pytest.mark.django_db

URL = "/audit/"
API = "/api/3.0/mlflow/gateway/audit/"
HTMX = {"HX-Request": "true"}


def client_for(user=None, **headers) -> Client:
    client = Client(headers=headers or None)
    if user is not None:
        client.force_login(user)
    return client


def sentences(response) -> list[str]:
    """The feed's sentences as a reader sees them, newest first."""
    found = re.findall(
        r'<span class="feed-sentence">(.*?)</span>\s*<div class="feed-meta">', response.content.decode(), re.S
    )
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()) for text in found]


def listed(response) -> set:
    return {event.pk for event in response.context["page"].object_list}


def events(**lookup) -> set:
    return set(AuditEvent.objects.filter(**lookup).values_list("pk", flat=True))


@pytest.fixture
def key(alice):
    return key_services.create_key(
        actor=alice, name="openai-main", provider="openai", secret="sk-audit-0123456789abcdef"
    )


@pytest.fixture
def endpoint(alice, key):
    spec = ModelSpec(provider="openai", model_name="gpt-4o", key_id=key.public_id)
    return endpoint_services.create_endpoint(actor=alice, name="chat-prod", endpoint_type="chat", models=[spec])


@pytest.fixture
def charlies_key(charlie):
    return key_services.create_key(
        actor=charlie, name="charlies-key", provider="openai", secret="sk-charlie-0123456789"
    )


# -- who sees what ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/audit/"


def test_the_owner_reads_what_happened_as_sentences_newest_first(alice, key, endpoint, team):
    lifecycle.start_endpoint(endpoint, actor=alice)
    sharing.grant(key, team, Level.USE, actor=alice)
    endpoint_services.update_endpoint(endpoint, actor=alice, rate_limit_rpm=60)
    endpoint_services.restore_revision(endpoint, 1, actor=alice)

    response = client_for(alice).get(URL)

    assert response.status_code == 200
    assert sentences(response) == [
        "alice restored revision 1 of endpoint chat-prod (changed: rate_limit_rpm)",
        "alice updated endpoint chat-prod (changed: rate_limit_rpm)",
        "alice shared key openai-main with team team at USE",
        "alice started endpoint chat-prod",
        "alice created endpoint chat-prod",
        "alice created key openai-main",
    ]


def test_a_reader_sees_events_on_what_is_shared_with_them_until_the_share_is_revoked(
    alice, bob, key, endpoint, charlies_key
):
    sharing.grant(key, bob, Level.READ, actor=alice)
    bob_view = client_for(bob).get(URL)
    assert listed(bob_view) == events(object_id=key.pk)
    assert sentences(bob_view) == ["alice shared key openai-main with bob at READ", "alice created key openai-main"]

    sharing.revoke(key, bob, actor=alice)
    after = client_for(bob).get(URL)
    assert listed(after) == set()
    assert "Nothing recorded yet" in after.content.decode()


def test_a_group_grant_lets_its_members_read_the_events(alice, dave, team, key, endpoint):
    sharing.grant(endpoint, team, Level.READ, actor=alice)
    assert listed(client_for(dave).get(URL)) == events(object_id=endpoint.pk)


def test_an_outsider_sees_only_their_own_objects(charlie, key, endpoint, charlies_key):
    assert listed(client_for(charlie).get(URL)) == events(object_id=charlies_key.pk)


def test_a_superuser_sees_every_event_deleted_objects_named_but_not_linked(
    alice, admin_user, key, endpoint, charlies_key
):
    endpoint_services.delete_endpoint(endpoint, actor=alice)
    response = client_for(admin_user).get(URL)
    assert listed(response) == events()
    content = response.content.decode()
    assert "alice deleted endpoint chat-prod" in sentences(response)
    assert "/endpoints/" not in content.split('<section class="card" aria-label="Events">')[1]
    assert f'<a href="/keys/{charlies_key.public_id}/">charlies-key</a>' in content


def test_the_page_and_the_api_show_the_same_events(alice, bob, key, endpoint, charlies_key, api):
    sharing.grant(endpoint, bob, Level.READ, actor=alice)
    page_ids = listed(client_for(bob).get(URL))
    api_ids = {event["id"] for event in api(bob).get(API).json()["results"]}
    assert page_ids == events(object_id=endpoint.pk)
    assert api_ids == {pk.hex for pk in page_ids}


def test_object_names_link_to_the_objects_page(alice, key, endpoint):
    content = client_for(alice).get(URL).content.decode()
    assert f'<a href="/keys/{key.public_id}/">openai-main</a>' in content
    assert f'<a href="/endpoints/{endpoint.public_id}/">chat-prod</a>' in content


def test_team_events_read_as_sentences_for_its_members(alice, bob, charlie, key):
    from teams import services as teams

    ml = teams.create_team(actor=alice, name="ml")
    teams.add_member(ml, bob, actor=alice)
    teams.set_role(ml, bob, "manager", actor=alice)
    sharing.grant(key, ml.group, Level.USE, actor=alice)
    team_events = events(object_type="team")

    response = client_for(alice).get(f"{URL}?object_type=team")
    assert sentences(response) == [
        "alice made bob manager of team ml",
        "alice added bob to team ml as member",
        "alice created team ml",
    ]
    assert f'<a href="/teams/{ml.public_id}/">ml</a>' in response.content.decode()
    assert "alice shared key openai-main with team ml at USE" in sentences(client_for(alice).get(URL))
    # bob, a member, reads the team and (through its grant) the key.
    assert listed(client_for(bob).get(URL)) == team_events | events(object_id=key.pk)
    assert listed(client_for(charlie).get(URL)) == set()

    teams.remove_member(ml, bob, actor=bob)
    assert sentences(client_for(alice).get(f"{URL}?action=remove_member")) == ["bob left team ml"]
    assert listed(client_for(bob).get(URL)) == set()


# -- filters ---------------------------------------------------------------------------------------


@pytest.fixture
def trail(alice, bob, key, endpoint, charlies_key, admin_user):
    """A varied trail, seen by root (who sees everything): shares, a start, an update by bob."""
    sharing.grant(key, bob, Level.EDIT, actor=alice)
    lifecycle.start_endpoint(endpoint, actor=alice)
    key_services.update_key(key, actor=bob, description="rotated monthly")
    return client_for(admin_user)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("object_type=key", {"object_type": "key"}),
        ("object_type=endpoint", {"object_type": "endpoint"}),
        ("action=share", {"action": "share"}),
        ("action=start", {"action": "start"}),
        ("actor=bob", {"actor_name": "bob"}),
        ("actor=charlie", {"actor_name": "charlie"}),
        ("name=CHAT", {"object_name": "chat-prod"}),
        ("name=key", {"object_name": "charlies-key"}),
        ("object_type=key&action=create&actor=alice", {"object_name": "openai-main", "action": "create"}),
    ],
)
def test_each_filter_narrows_to_exactly_its_events(trail, query, expected):
    response = trail.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert listed(response) == events(**expected) != set()


def test_the_object_filter_shows_one_objects_history(trail, key):
    response = trail.get(f"{URL}?object={key.public_id}")
    assert listed(response) == events(object_id=key.pk)
    assert "Only key <strong>openai-main</strong>" in response.content.decode()


def test_dates_are_whole_days_in_the_viewers_time_zone(trail, key, endpoint):
    late_evening_in_new_york = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)  # April 30, 23:00 there
    AuditEvent.objects.filter(object_id=key.pk).update(created_at=late_evening_in_new_york)
    AuditEvent.objects.filter(object_id=endpoint.pk).update(created_at=datetime(2024, 5, 2, 12, 0, tzinfo=UTC))
    key_events, endpoint_events = events(object_id=key.pk), events(object_id=endpoint.pk)

    def shown(query: str) -> set:
        return listed(trail.get(f"{URL}?{query}")) - events(created_at__year__gt=2024)

    assert shown("since=2024-05-01") == key_events | endpoint_events
    assert shown("since=2024-05-01&tz=America/New_York") == endpoint_events
    assert shown("until=2024-04-30&tz=America/New_York") == key_events
    assert shown("until=2024-04-30") == set()
    assert shown("since=2024-05-02&until=2024-05-02&tz=Europe/Paris") == endpoint_events


def test_the_ends_of_the_calendar_are_open_bounds_not_errors(trail):
    everything = events()
    assert listed(trail.get(f"{URL}?since=0001-01-01&tz=Pacific/Kiritimati")) == everything
    assert listed(trail.get(f"{URL}?until=9999-12-31&tz=Pacific/Pago_Pago")) == everything


def test_no_match_says_so(trail):
    response = trail.get(f"{URL}?actor=nobody")
    assert response.status_code == 200
    assert listed(response) == set()
    assert "No events match" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=explode", "Action: Select a valid choice. explode is not one of the available choices."),
        ("object_type=widget", "Kind: Select a valid choice. widget is not one of the available choices."),
        ("object=not-an-id", "Object: Enter a valid UUID."),
        ("since=yesterday", "From: Enter a valid date."),
        ("until=2024-13-01", "To: Enter a valid date."),
        ("since=2024-05-02&until=2024-05-01", "To: “To” is before “From”."),
        ("since=2024-05-01&tz=Mars/Olympus", "Time zone: Unknown time zone."),
        ("since=2024-05-01&tz=../../etc/passwd", "Time zone: Unknown time zone."),
        ("actor=al%00ice", "Who: Null characters are not allowed."),
    ],
)
def test_bad_filter_values_are_form_errors(trail, query, message):
    for headers in ({}, HTMX):
        response = trail.get(f"{URL}?{query}", headers=headers)
        assert response.status_code == 200
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
        assert "These filters can’t be used" in text
        assert message in text
        assert listed(response) == set()


def test_an_htmx_filter_change_swaps_only_the_results(trail):
    response = trail.get(f"{URL}?action=share", headers=HTMX)
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="audit-results"')
    assert "<html" not in content
    assert "HX-Request" in response["Vary"]
    assert sentences(response) == ["alice shared key openai-main with bob at EDIT"]


def test_the_full_page_keeps_the_filters_in_the_form(trail):
    content = trail.get(f"{URL}?action=share&actor=alice").content.decode()
    assert '<option value="share" selected>' in content
    assert 'name="actor" value="alice"' in content
    assert 'hx-push-url="true"' in content


def test_pages_hold_25_events_newest_first(alice, key):
    for number in range(30):
        key_services.update_key(key, actor=alice, description=f"v{number}")
    client = client_for(alice)
    first = client.get(URL)
    assert len(first.context["page"].object_list) == 25
    assert "1–25 of 31 events" in first.content.decode()
    assert sentences(first)[0] == "alice updated key openai-main (changed: description)"
    stamps = [event.created_at for event in first.context["page"].object_list]
    assert stamps == sorted(stamps, reverse=True)
    second = client.get(f"{URL}?action=update&page=2")
    assert len(second.context["page"].object_list) == 5
    assert 'href="?action=update&amp;page=1"' in second.content.decode()
    assert listed(client.get(f"{URL}?page=nonsense")) == listed(first)


def test_the_number_of_queries_does_not_grow_with_the_events_listed(alice, bob, key, endpoint):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sharing.grant(key, bob, Level.READ, actor=alice)
    sharing.grant(endpoint, bob, Level.READ, actor=alice)
    client = client_for(bob)
    client.get(URL)  # the session and the user, once

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for number in range(20):
        key_services.update_key(key, actor=alice, description=f"v{number}")
        endpoint_services.update_endpoint(endpoint, actor=alice, rate_limit_rpm=number + 1)
    assert queries() == few


# -- ways in ---------------------------------------------------------------------------------------


def test_the_main_nav_links_the_audit_page(alice):
    content = client_for(alice).get(URL).content.decode()
    assert '<a href="/audit/" aria-current="page">Audit</a>' in content


def test_detail_pages_link_to_all_of_their_objects_activity(alice, key, endpoint):
    client = client_for(alice)
    key_page = client.get(f"/keys/{key.public_id}/").content.decode()
    endpoint_page = client.get(f"/endpoints/{endpoint.public_id}/").content.decode()
    assert f'href="/audit/?object={key.public_id}">See all activity' in key_page
    assert f'href="/audit/?object={endpoint.public_id}">See all activity' in endpoint_page
