"""A PostgreSQL restart under a running gateway process: warm traffic goes on, nothing is lost.

A forwarder sits between the gateway process and PostgreSQL, so the test can
cut every connection and refuse new ones without touching the shared server.
The guarantees: during the outage warm proxy requests are served (200); a
request that needs the database (a token never seen, an endpoint not cached)
answers 503 with Retry-After, as do the API (JSON) and the pages (HTML);
once the database is back the first request that needs it succeeds; and
every usage row from before and during the outage lands exactly once.
"""

from __future__ import annotations

import time

import httpx
from django.db import connection
from django.test import Client

from endpoints.models import RequestLog
from tests.reliability.conftest import wait_for
from tests.reliability.forwarder import Forwarder
from tests.servers import GatewayProcess, subprocess_database_url
from tokens import services as token_services

API = "/api/3.0/mlflow/gateway/"
MESSAGES = [{"role": "user", "content": "hi"}]
WARM_REQUESTS = 5


def test_warm_traffic_survives_a_database_restart_and_no_usage_is_lost(world, report, postgres):
    world.endpoint(name="chat")
    world.endpoint(name="cold")  # never called before the outage: not cached
    token = world.token(world.alice)
    session = Client()
    session.force_login(world.alice)  # a UI session, stored in the database
    target = (connection.settings_dict["HOST"] or "127.0.0.1", int(connection.settings_dict["PORT"] or 5432))

    with Forwarder(target) as database:
        env = {"DATABASE_URL": subprocess_database_url("127.0.0.1", database.port)}
        with GatewayProcess(env=env, name="db-outage") as gateway, httpx.Client(base_url=gateway.url) as client:

            def chat(model: str = "chat", as_token: str = token) -> httpx.Response:
                headers = {"Authorization": f"Bearer {as_token}"}
                return client.post("/v1/chat/completions", json={"model": model, "messages": MESSAGES}, headers=headers)

            before = [chat().status_code for _ in range(WARM_REQUESTS)]
            assert wait_for(lambda: RequestLog.objects.count() == WARM_REQUESTS, timeout=10), "rows before"

            database.cut()
            during = [chat().status_code for _ in range(WARM_REQUESTS)]
            _, new_token = token_services.create_token(world.alice, "made during the outage")  # direct, not cut
            cold_token, cold_endpoint = chat(as_token=new_token), chat(model="cold")
            api = client.get(f"{API}endpoints/", headers={"Authorization": f"Bearer {token}"})
            page = client.get("/keys/", cookies={"sessionid": session.cookies["sessionid"].value})
            time.sleep(1.0)  # the usage writer meanwhile fails and keeps its rows
            rows_during_outage = RequestLog.objects.count()

            database.restore()
            restored = time.monotonic()
            first_needing_database = chat(as_token=new_token).status_code
            first_answered_after = time.monotonic() - restored
            after = [chat(model="cold").status_code, chat().status_code]
            expected_rows = WARM_REQUESTS * 2 + 1 + len(after)
            landed_after = wait_for(lambda: RequestLog.objects.count() >= expected_rows, timeout=15)
            time.sleep(1.5)  # a duplicate would show up by now
            rows = RequestLog.objects.count()
            log, context = gateway.log(), gateway.describe()

    report(
        before=before,
        during=during,
        cold_token_during=cold_token.status_code,
        cold_endpoint_during=cold_endpoint.status_code,
        api_during=api.status_code,
        page_during=page.status_code,
        rows_during_outage=rows_during_outage,
        first_request_needing_database=first_needing_database,
        first_answered_after_restore_s=round(first_answered_after, 3),
        after=after,
        rows=f"{rows}/{expected_rows}",
        rows_landed_after_restore_s=None if landed_after is None else round(landed_after, 2),
        poll_failure_log_lines=log.count("invalidation version poll (database) is failing"),
    )
    assert before == [200] * WARM_REQUESTS and during == [200] * WARM_REQUESTS, context
    for refused in (cold_token, cold_endpoint):
        assert refused.status_code == 503 and refused.headers.get("retry-after"), refused.text
        assert refused.json()["error"]["code"] == "database_unavailable", refused.text
    assert api.status_code == 503 and api.headers.get("retry-after") and api.json()["detail"], api.text
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html"), page.text
    assert "Traceback" not in api.text + page.text
    assert rows_during_outage == WARM_REQUESTS
    assert first_needing_database == 200, context
    assert after == [200, 200], context
    assert rows == expected_rows, f"{rows} usage rows, expected exactly {expected_rows}\n{context}"
    assert log.count("invalidation version poll (database) is failing") == 1, context
