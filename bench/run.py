"""The gateway against the LiteLLM proxy, in one interleaved run, on this machine.

    .venv/bin/python bench/run.py [--rounds 2] [--duration 8] [--no-litellm]

Everything is local (127.0.0.1, no provider). It starts, each as its own
process:

- two fake OpenAI upstreams (``bench/upstream.py``): one answering at once,
  one after 100 ms, on CPU 0 with the load generator (``bench/load.py``);
- this gateway (``manage.py serve``, one worker, pinned to CPU 1) on a
  throwaway SQLite database, seeded through the services with a token, keys
  and the endpoints ``bench`` (instant upstream) and ``bench-slow``;
- the same gateway with ``GATEWAY_DIRECT_PATH=0`` (every request translated
  by LiteLLM), also on CPU 1;
- the LiteLLM proxy ``litellm[proxy]==1.108.7`` from PyPI, in its own
  virtualenv under /tmp, no database and no callbacks (its fastest setup),
  on CPU 1.

Then, round by round with the order of the targets rotating, it measures
chat and streams at concurrency 1 and 32 against the instant upstream, and
at concurrency 64 against the 100 ms one: requests/s, latency p50/p99, time
to first token, and the CPU each server spent per request. Last, it sends
100,000 requests through the gateway and reads its memory after 10,000 and
after 100,000. It prints every figure, the ratios to LiteLLM, and whether
each target of the project is met. Exits 2 if setup fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
LITELLM_VERSION = "1.108.7"  # the newest release whose [proxy] extra installs from the index here
LITELLM_VENV = Path(
    os.environ.get("BENCH_LITELLM_VENV")
    or Path(tempfile.gettempdir()) / "gateway-bench" / f"venv-litellm-{LITELLM_VERSION}"
)
LOAD_CPU, SERVER_CPU = "0", "1"

# scenario: (endpoint, concurrency, stream)
SCENARIOS = {
    "chat_c1": ("bench", 1, False),
    "chat_c32": ("bench", 32, False),
    "stream_c1": ("bench", 1, True),
    "stream_c32": ("bench", 32, True),
    "chat_c64_100ms": ("bench-slow", 64, False),
    "stream_c64_100ms": ("bench-slow", 64, True),
}

SEED = textwrap.dedent(
    """
    from django.contrib.auth import get_user_model
    from endpoints import lifecycle, services
    from endpoints.validation import ModelSpec
    from keys import services as keys
    from tokens import services as tokens

    user = get_user_model().objects.create_user("bench", "bench@example.invalid", None)
    _, token = tokens.create_token(user, "bench")
    for name, api_base in (("bench", {fast!r}), ("bench-slow", {slow!r})):
        key = keys.create_key(actor=user, name=name, provider="openai", secret="sk-bench", api_base=api_base)
        model = ModelSpec(provider="openai", model_name="bench-model", key_id=key.public_id)
        endpoint = services.create_endpoint(actor=user, name=name, endpoint_type="chat", models=[model])
        lifecycle.start_endpoint(endpoint, actor=user)
    print("TOKEN=" + token)
    """
)

LITELLM_CONFIG = textwrap.dedent(
    """
    model_list:
      - model_name: bench
        litellm_params: {{model: openai/bench-model, api_base: "{fast}", api_key: sk-bench}}
      - model_name: bench-slow
        litellm_params: {{model: openai/bench-model, api_base: "{slow}", api_key: sk-bench}}
    litellm_settings: {{num_retries: 0, callbacks: []}}
    general_settings: {{master_key: sk-bench-master}}
    """
)


class SetupError(Exception):
    pass


@dataclass
class Target:
    name: str
    url: str  # the base URL, or for the upstreams themselves: {endpoint: base URL}
    token: str
    process: subprocess.Popen | None = None  # None: the upstream itself (its CPU is not the server's)
    results: dict[str, list[dict]] = field(default_factory=dict)
    direct: dict[str, str] = field(default_factory=dict)

    def call(self, endpoint: str) -> tuple[str, str]:
        """(URL, model) a request for ``endpoint`` is sent with."""
        if self.direct:
            return f"{self.direct[endpoint]}/chat/completions", "bench-model"
        return f"{self.url}/v1/chat/completions", endpoint


def pinned(cpu: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", cpu, *argv] if shutil.which("taskset") and os.cpu_count() > 1 else argv


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url: str, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SetupError(f"{process.args} exited with {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            if response.status == 200:
                return
        time.sleep(0.3)
    raise SetupError(f"{url} did not answer within {seconds:.0f} s")


def cpu_seconds(process: subprocess.Popen) -> float:
    """utime + stime of the process and its children (taskset execs the server in place)."""
    total = 0.0
    pids = [process.pid]
    with contextlib.suppress(OSError):
        pids += [int(pid) for pid in Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()]
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def rss_mib(process: subprocess.Popen) -> float:
    for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
        self.processes: list[subprocess.Popen] = []

    # -- setup ----------------------------------------------------------------------------------------
    def start(self, argv: list[str], name: str, env: dict | None = None) -> subprocess.Popen:
        log = open(self.dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def upstream(self, delay_ms: float) -> str:
        port = free_port()
        argv = pinned(LOAD_CPU, [PYTHON, "bench/upstream.py", "--port", str(port), "--delay-ms", str(delay_ms)])
        process = self.start(argv, f"upstream-{delay_ms:g}ms")
        wait_http(f"http://127.0.0.1:{port}/health", 20, process)
        return f"http://127.0.0.1:{port}/v1"

    def gateway_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.dir / 'gateway.sqlite3'}",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(40),
            "GATEWAY_ENCRYPTION_KEYS": "YmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtYmVuY2gtMDE=",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "GATEWAY_HTTPS": "0",
            "GATEWAY_LOG_LEVEL": "WARNING",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }

    def gateway(self, env: dict[str, str], fast: str, slow: str) -> str:
        run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "text": True, "timeout": 300}
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], **run)
        seeded = subprocess.run([PYTHON, "manage.py", "shell", "-c", SEED.format(fast=fast, slow=slow)], **run)
        return next(line[6:] for line in seeded.stdout.splitlines() if line.startswith("TOKEN="))

    def serve(self, name: str, env: dict[str, str]) -> tuple[str, subprocess.Popen]:
        port = free_port()
        argv = [PYTHON, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = self.start(pinned(SERVER_CPU, argv), name, env)
        wait_http(f"http://127.0.0.1:{port}/health/live", 120, process)
        return f"http://127.0.0.1:{port}", process

    def litellm(self, fast: str, slow: str) -> tuple[str, subprocess.Popen]:
        if not (LITELLM_VENV / "bin" / "litellm").exists():
            print(f"installing litellm[proxy]=={LITELLM_VERSION} into {LITELLM_VENV} ...", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
            pip = [str(LITELLM_VENV / "bin" / "pip"), "install", "-q", f"litellm[proxy]=={LITELLM_VERSION}", "uvloop"]
            subprocess.run(pip, check=True, timeout=1800)
        config = self.dir / "litellm.yaml"
        config.write_text(LITELLM_CONFIG.format(fast=fast, slow=slow))
        port = free_port()
        argv = [
            str(LITELLM_VENV / "bin" / "litellm"),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        process = self.start(pinned(SERVER_CPU, argv), "litellm", env)
        wait_http(f"http://127.0.0.1:{port}/health/liveliness", 180, process)
        return f"http://127.0.0.1:{port}", process

    def setup(self) -> list[Target]:
        fast, slow = self.upstream(0), self.upstream(100)
        env = self.gateway_env()
        token = self.gateway(env, fast, slow)
        ours, ours_process = self.serve("gateway", env)
        translated, translated_process = self.serve("gateway-translated", {**env, "GATEWAY_DIRECT_PATH": "0"})
        targets = [
            Target("direct", fast, "sk-bench", direct={"bench": fast, "bench-slow": slow}),
            Target("ours", ours, token, ours_process),
            Target("ours_translated", translated, token, translated_process),
        ]
        if not self.args.no_litellm:
            litellm, litellm_process = self.litellm(fast, slow)
            targets.append(Target("litellm", litellm, "sk-bench-master", litellm_process))
        time.sleep(3)  # let the gateways finish their background warm-up (LiteLLM's import)
        return targets

    # -- measuring ------------------------------------------------------------------------------------
    def load(self, target: Target, scenario: str, duration: float, warmup: float, requests: int = 0) -> dict:
        endpoint, concurrency, stream = SCENARIOS[scenario]
        url, model = target.call(endpoint)
        argv = [PYTHON, "bench/load.py", "--url", url, "--token", target.token]
        argv += ["--model", model, "--concurrency", str(concurrency), "--duration", str(duration)]
        argv += ["--warmup", str(warmup), "--requests", str(requests)] + (["--stream"] if stream else [])
        before = cpu_seconds(target.process) if target.process else None
        out = subprocess.run(pinned(LOAD_CPU, argv), capture_output=True, text=True, timeout=duration + 600)
        if out.returncode != 0:
            raise SetupError(f"the load generator failed: {out.stderr[-2000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if before is not None and result["requests"]:
            # Warm-up requests count too: the CPU is per request sent, measured over both.
            total = result["requests"] * (1 + warmup / duration)
            result["cpu_ms"] = round((cpu_seconds(target.process) - before) * 1000 / total, 3)
        if target.process is not None:
            result["rss_mib"] = round(rss_mib(target.process), 1)
        return result

    def rounds(self, targets: list[Target]) -> None:
        for number in range(self.args.rounds):
            for scenario in self.args.scenarios:
                order = targets[number % len(targets) :] + targets[: number % len(targets)]
                for target in order:
                    result = self.load(target, scenario, self.args.duration, self.args.warmup)
                    target.results.setdefault(scenario, []).append(result)
                    print(f"round {number} {scenario:16} {target.name:15} {summary(result)}", flush=True)

    def memory(self, ours: Target) -> dict[str, float]:
        """RSS after 10,000 and after 100,000 requests (chat at concurrency 32)."""
        self.load(ours, "chat_c32", 600, 0, requests=10_000)
        after_10k = rss_mib(ours.process)
        self.load(ours, "chat_c32", 600, 0, requests=90_000)
        return {"rss_10k_mib": round(after_10k, 1), "rss_100k_mib": round(rss_mib(ours.process), 1)}

    def stop(self) -> None:
        for process in self.processes:
            with contextlib.suppress(OSError):
                process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(15)
            if process.poll() is None:
                process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def summary(r: dict) -> str:
    parts = [f"rps={r['rps']:>8}", f"p50={r['p50_ms']}ms", f"p99={r['p99_ms']}ms", f"err={r['errors']}"]
    if r.get("ttft_p50_ms") is not None:
        parts.append(f"ttft50={r['ttft_p50_ms']}ms")
    if "cpu_ms" in r:
        parts.append(f"cpu/req={r['cpu_ms']}ms")
    return " ".join(parts)


def median(results: list[dict], key: str) -> float | None:
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else None


def report(targets: list[Target], memory: dict[str, float]) -> list[tuple[str, bool, str]]:
    by = {t.name: t.results for t in targets}
    rows = [
        "| scenario | target | req/s | p50 ms | p99 ms | TTFT p50 ms | CPU ms/req | RSS MiB | errors | vs LiteLLM |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        for target in targets:
            results = by[target.name].get(scenario)
            if not results:
                continue
            rps = median(results, "rps")
            anchor = median(by.get("litellm", {}).get(scenario, []), "rps")
            ratio = f"{rps / anchor:.1f}x" if anchor and target.name.startswith("ours") else ""
            cells = [median(results, k) for k in ("p50_ms", "p99_ms", "ttft_p50_ms", "cpu_ms", "rss_mib")]
            shown = ["-" if value is None else f"{value:.{2 if i < 4 else 0}f}" for i, value in enumerate(cells)]
            errors = sum(r["errors"] for r in results)
            rows.append(f"| {scenario} | {target.name} | {rps:.0f} | {' | '.join(shown)} | {errors} | {ratio} |")
    print("\n".join(rows))
    if memory:
        print(f"\ngateway RSS after 10,000 requests: {memory['rss_10k_mib']} MiB", end="; ")
        print(f"after 100,000: {memory['rss_100k_mib']} MiB")
    return targets_met(by, memory)


def added(by: dict, target: str, scenario: str, key: str) -> float | None:
    """Median over rounds of (target - direct) for ``key``, paired by round."""
    pairs = zip(by.get(target, {}).get(scenario, []), by["direct"].get(scenario, []), strict=False)
    values = [t[key] - d[key] for t, d in pairs if t.get(key) is not None and d.get(key) is not None]
    return statistics.median(values) if values else None


def targets_met(by: dict, memory: dict[str, float]) -> list[tuple[str, bool, str]]:
    checks: list[tuple[str, bool, str]] = []
    if "litellm" in by:
        for scenario in ("chat_c32", "stream_c32"):
            ours, anchor = median(by["ours"][scenario], "rps"), median(by["litellm"][scenario], "rps")
            checks.append((f"{scenario}: >= 10x LiteLLM's req/s", ours >= 10 * anchor, f"{ours / anchor:.1f}x"))
        for scenario, key in (("chat_c1", "p50_ms"), ("stream_c1", "ttft_p50_ms")):
            ours, anchor = added(by, "ours", scenario, key), added(by, "litellm", scenario, key)
            what = "added p50" if key == "p50_ms" else "added time to first token"
            checks.append(
                (f"{scenario}: {what} <= 0.1x LiteLLM's", ours <= 0.1 * anchor, f"{ours:.2f} vs {anchor:.2f} ms")
            )
        translated, anchor = median(by["ours_translated"]["chat_c32"], "rps"), median(by["litellm"]["chat_c32"], "rps")
        checks.append(
            ("translated path: >= 1.5x LiteLLM's req/s", translated >= 1.5 * anchor, f"{translated / anchor:.1f}x")
        )
    cpu = median(by["ours"]["chat_c32"], "cpu_ms")
    checks.append(("CPU per chat request <= 1.3 ms", cpu <= 1.3, f"{cpu:.2f} ms"))
    if memory:
        first, last = memory["rss_10k_mib"], memory["rss_100k_mib"]
        checks.append(("RSS <= 250 MiB", last <= 250, f"{last} MiB"))
        checks.append(
            ("RSS flat (within 5%) from 10k to 100k requests", last <= first * 1.05, f"{first} -> {last} MiB")
        )
    print()
    for name, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name:55} {detail}")
    return checks


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {system}, load {load}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=8, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2, help="unmeasured seconds before each run")
    parser.add_argument("--scenarios", type=lambda v: v.split(","), default=list(SCENARIOS))
    parser.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM proxy (no install)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 100,000-request memory run")
    args = parser.parse_args(argv)
    bench = Bench(args)
    try:
        print(f"machine: {machine()}", flush=True)
        targets = bench.setup()
        bench.rounds(targets)
        ours = next(t for t in targets if t.name == "ours")
        memory = {} if args.no_memory else bench.memory(ours)
        report(targets, memory)
    except (SetupError, subprocess.CalledProcessError) as exc:
        print(f"setup failed: {exc}", file=sys.stderr)
        return 2
    finally:
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
