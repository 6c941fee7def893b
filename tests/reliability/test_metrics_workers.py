"""`manage.py serve --workers 2`: one scrape of /metrics counts every request of every worker.

The real command in a subprocess over the test database, the fake upstream
behind it, requests over fresh connections so both workers serve some.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.servers import GatewayProcess

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS_TOTAL = "litellm_proxy_total_requests_metric_total"
REQUESTS = re.compile(
    r'^litellm_proxy_total_requests_metric_total\{api_provider="openai",model="upstream-a",'
    r'requested_model="chat",status_code="200"\} (\S+)$',
    re.M,
)


def _requests_per_worker(metrics_dir) -> dict[int, float]:
    """What each worker's own file says it served, read the way prometheus-client merges them."""
    served = {}
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if (
                    sample.name == "litellm_proxy_total_requests_metric_total"
                    and sample.labels["requested_model"] == "chat"
                ):
                    served[pid] = served.get(pid, 0) + sample.value
    return served


def _chat(gateway: GatewayProcess, token: str) -> None:
    # A new connection each time: the kernel hands it to whichever worker accepts first.
    response = httpx.post(
        f"{gateway.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}", "Connection": "close"},
        json={"model": "chat", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_one_scrape_counts_the_requests_of_both_workers(world, tmp_path, report):
    world.endpoint()
    token = world.token(world.alice)
    metrics_dir = tmp_path / "metrics"
    gateway = GatewayProcess(
        env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, name="workers", args=("--workers", "2")
    )
    with gateway:
        sent = 0
        # Until both workers have served some (in practice a handful of requests), at most 200.
        while sent < 200 and (sent < 20 or len(_requests_per_worker(metrics_dir)) < 2):
            _chat(gateway, token)
            sent += 1
        per_worker = _requests_per_worker(metrics_dir)
        assert len(per_worker) == 2, (per_worker, gateway.describe())
        assert all(count > 0 for count in per_worker.values()), per_worker

        # Every scrape, whichever worker answers it, reports the sum.
        scraped = []
        for _ in range(10):
            body = httpx.get(f"{gateway.url}/metrics", headers={"Connection": "close"}, timeout=10).text
            match = REQUESTS.search(body)
            assert match, body[:3000]
            scraped.append(float(match.group(1)))
        assert scraped == [float(sent)] * 10
        assert sum(per_worker.values()) == sent
        report(requests=sent, per_worker=sorted(int(count) for count in per_worker.values()))

        gateway.signal(signal.SIGTERM)
        assert gateway.wait(30) == 0, gateway.describe()
    # The operator's directory stays; only one the supervisor made itself is removed.
    assert metrics_dir.is_dir()


def _worker_pids(supervisor_pid: int) -> set[int]:
    """The supervisor's worker processes (spawned interpreters; not multiprocessing's resource tracker)."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if parent == supervisor_pid and b"spawn_main" in command and b"resource_tracker" not in command:
            pids.add(int(stat.parent.name))
    return pids


def test_a_worker_that_dies_is_replaced_and_its_counts_stay(world, tmp_path):
    world.endpoint()
    token = world.token(world.alice)
    metrics_dir = tmp_path / "metrics"
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with GatewayProcess(env=env, name="workers-replace", args=("--workers", "2")) as gateway:
        first = _worker_pids(gateway.pid)
        assert len(first) == 2, (first, gateway.describe())
        for _ in range(10):
            _chat(gateway, token)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)

        deadline = time.monotonic() + 60
        while len((now := _worker_pids(gateway.pid)) - {victim}) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert victim not in now and len(now) == 2, (now, gateway.describe())
        assert "exited with -9; starting another" in gateway.log()

        # The replacement serves (every request succeeds while it starts), and the dead worker's counts still count.
        for _ in range(10):
            _chat(gateway, token)
        body = httpx.get(f"{gateway.url}/metrics", headers={"Connection": "close"}, timeout=10).text
        assert float(REQUESTS.search(body).group(1)) == 20
