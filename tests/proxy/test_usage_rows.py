"""Usage rows are written once each, even when a batch is written twice."""

from __future__ import annotations

import uuid

import pytest

from endpoints.models import RequestLog
from proxy import usage


@pytest.mark.django_db
def test_a_batch_written_twice_lands_once(world):
    # The writer retries a batch whose commit it never heard acknowledged (the
    # connection dropped after COMMIT): the request id keeps the rows single.
    endpoint = world.endpoint(start=False)
    batch = [
        usage.Usage(
            request_id=uuid.uuid4(), endpoint_id=endpoint.pk, endpoint_name="chat", status_code=200, latency_ms=1
        )
        for _ in range(3)
    ]
    usage._write(batch)
    usage._write(batch)
    assert RequestLog.objects.count() == 3
    assert set(RequestLog.objects.values_list("request_id", flat=True)) == {u.request_id for u in batch}


def test_the_proxy_logs_each_request_under_the_id_the_client_saw(gateway, world):
    import httpx

    world.endpoint()
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {world.token(world.alice)}"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    usage.recorder.flush()
    assert RequestLog.objects.get().request_id == uuid.UUID(response.headers["x-request-id"])
