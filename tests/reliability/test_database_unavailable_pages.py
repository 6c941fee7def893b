"""Pages and API calls that need the database while it is down: 503 with Retry-After, never a 500.

Every query fails here as it does when PostgreSQL is away (``OperationalError``
from the driver); ``test_database_outage`` shows the same over a real cut
connection.
"""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.db.backends import utils as db_utils

API = "/api/3.0/mlflow/gateway/"


@pytest.fixture
def database_down():
    """Call it to make every query fail; undone before the test database is cleaned up."""
    original = db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    def down() -> None:
        db_utils.CursorWrapper.execute = db_utils.CursorWrapper.executemany = refuse

    yield down
    db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany = original


def test_an_api_call_answers_503_json(api, alice, database_down):
    client = api(alice)  # authenticated without a query
    database_down()
    response = client.get(f"{API}keys/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json() == {"detail": "The database is unavailable; retry shortly."}


def test_a_page_answers_a_short_html_503(client, alice, database_down):
    client.force_login(alice)
    database_down()  # loading the session is the first query
    response = client.get("/keys/")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Temporarily unavailable" in body and "Traceback" not in body


def test_other_database_errors_are_not_hidden(client, alice):
    from django.db import ProgrammingError

    client.force_login(alice)
    original = db_utils.CursorWrapper.execute

    def broken(*args, **kwargs):
        raise ProgrammingError("a query bug, not an outage")

    db_utils.CursorWrapper.execute = broken
    try:
        with pytest.raises(ProgrammingError):
            client.get("/keys/")
    finally:
        db_utils.CursorWrapper.execute = original
