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


@pytest.mark.django_db
def test_the_writers_conversions_are_djangos():
    # The writer converts values for the driver itself (speed); they must be what Django would send.
    import datetime
    import decimal

    from django.db import connection

    samples = {
        "request_id": uuid.uuid4(),
        "cost_usd": decimal.Decimal("0.00012345"),
        "created_at": datetime.datetime(
            2026, 12, 1, 22, 5, 7, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
        ),
        "status_code": 200,
        "latency_ms": 1.25,
        "stream": True,
        "error_type": "provider_error",
    }
    for name, value in samples.items():
        field = RequestLog._meta.get_field(name)
        to_db = usage.database_value(field, connection)
        assert (value if to_db is None else to_db(value)) == field.get_db_prep_save(value, connection), name


@pytest.mark.django_db(transaction=True)
def test_a_long_queue_is_written_at_normal_priority(world, monkeypatch):
    # The writer runs at the lowest priority; a queue it cannot keep up with is rescued.
    endpoint = world.endpoint(start=False)
    monkeypatch.setattr(usage, "RESCUE_AT", 5)
    recorder = usage.UsageRecorder()
    recorder.paused = True  # its own writer does nothing: only the rescue can write
    for _ in range(6):  # the sixth passes RESCUE_AT
        recorder.record(
            usage.Usage(
                request_id=uuid.uuid4(), endpoint_id=endpoint.pk, endpoint_name="chat", status_code=200, latency_ms=1
            )
        )
    recorder._rescuer.join(10)
    assert RequestLog.objects.count() == 6
