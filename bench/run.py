"""Benchmark the gateway's OpenAI-compatible proxy against the fake upstream.

One command, everything local (127.0.0.1 only, no real provider)::

    .venv/bin/python bench/run.py [--requests N] [--duration S] [--servers daphne,uvicorn]

It creates a throwaway data directory (own SQLite database, generated
secrets), migrates and seeds it (user, gateway token, key, running chat
endpoint ``bench-chat`` pointing at the fake upstream), starts the fake
upstream and the gateway as separate processes, and measures, at each
concurrency, non-streaming chat (req/s, latency p50/p99) and streaming chat
(time to the first ``data:`` chunk p50/p99), both directly against the fake
upstream and through the gateway, with the CPU time each server process
spent per request. See bench/README.md.

Exits 1 if any measured or warm-up request failed, 2 if setup failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin directory (run with .venv/bin/python)
CLK_TCK = os.sysconf("SC_CLK_TCK")
ENDPOINT_NAME = "bench-chat"
UPSTREAM_MODEL = "bench-model"
UPSTREAM_SECRET = "sk-bench"
MESSAGES = [{"role": "user", "content": "Say hello in three words."}]
MAX_ERRORS_SHOWN = 10

SEED_SCRIPT = textwrap.dedent(
    """
    import sys
    from django.contrib.auth import get_user_model
    from endpoints import lifecycle, services
    from endpoints.models import Endpoint
    from endpoints.validation import ModelSpec
    from keys import services as key_services
    from tokens import services as token_services

    api_base = {api_base!r}
    user = get_user_model().objects.create_user("bench", "bench@example.invalid", "bench-password-not-used")
    _, plaintext = token_services.create_token(user, "bench")
    key = key_services.create_key(actor=user, name="bench", provider="openai", secret={secret!r}, api_base=api_base)
    endpoint = services.create_endpoint(
        actor=user,
        name={endpoint!r},
        endpoint_type="chat",
        models=[ModelSpec(provider="openai", model_name={model!r}, key_id=key.public_id)],
    )
    lifecycle.start_endpoint(endpoint, actor=user)
    endpoint = Endpoint.objects.get(pk=endpoint.pk)
    if endpoint.status != "running":
        sys.exit(f"endpoint status is {{endpoint.status!r}}: {{endpoint.last_error}}")
    print("BENCH_TOKEN=" + plaintext)
    """
)


class SetupError(Exception):
    pass


# -- processes -------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` and its live descendants (all threads included)."""
    try:
        import psutil  # type: ignore[import-not-found]

        proc = psutil.Process(pid)
        total = sum(proc.cpu_times()[:2])
        for child in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total
    except ImportError:
        pass
    stats: dict[int, tuple[int, float]] = {}  # pid -> (ppid, seconds)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                raw = fh.read()
        except OSError:
            continue
        fields_ = raw[raw.rindex(")") + 2 :].split()  # after "pid (comm) "
        stats[int(entry)] = (int(fields_[1]), (int(fields_[11]) + int(fields_[12])) / CLK_TCK)
    family, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _) in stats.items():
            if ppid == parent and child not in family:
                family.add(child)
                frontier.append(child)
    return sum(stats[p][1] for p in family if p in stats)


class Proc:
    """A child process in its own session, its output in a log file; stopped by its own pid/group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE if name == "fakeupstream" else self._log,
            stderr=self._log,
            start_new_session=True,  # Ctrl+C reaches only us; we stop the children in order
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            self._log.flush()
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.alive():
            for sig, wait in ((signal.SIGTERM, 8), (signal.SIGKILL, 5)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, sig)  # the group we created for it, nothing else
                try:
                    self.popen.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self.popen.stdout:
            self.popen.stdout.close()
        self._log.close()


def start_upstream(env: dict[str, str], log_dir: Path, procs: list[Proc]) -> tuple[Proc, str]:
    proc = Proc(
        "fakeupstream", [sys.executable, "-m", "fakeupstream", "--host", "127.0.0.1", "--port", "0"], env, log_dir
    )
    procs.append(proc)
    import select

    ready, _, _ = select.select([proc.popen.stdout], [], [], 60)
    # first line: LISTENING http://127.0.0.1:<port> (it prints nothing else on stdout)
    line = proc.popen.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("LISTENING "):
        raise SetupError(f"fake upstream did not start (first line {line!r}):\n{proc.tail()}")
    return proc, line.split(" ", 1)[1]


def start_gateway(server: str, env: dict[str, str], log_dir: Path, procs: list[Proc]) -> tuple[Proc, str]:
    port = free_port()
    if server == "daphne":
        argv = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "gateway_site.asgi:application"]
    elif server == "uvicorn":
        argv = [
            str(BIN / "uvicorn"), "gateway_site.asgi:application", "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    else:
        raise SetupError(f"unknown server {server!r} (daphne or uvicorn)")
    proc = Proc(f"gateway-{server}", argv, env, log_dir)
    procs.append(proc)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if not proc.alive():
            raise SetupError(f"{server} exited with {proc.popen.returncode}:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(f"{url}/health/live", timeout=2) as response:
                if response.status == 200:
                    return proc, url
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SetupError(f"{server} did not answer /health/live within 90 s:\n{proc.tail()}")


def wait_quiet(proc: Proc, limit: float = 90.0, interval: float = 0.5, busy: float = 0.15) -> tuple[float, float]:
    """Wait until ``proc`` stops burning CPU (the gateway imports LiteLLM in a background
    thread after it starts answering); returns (seconds waited, CPU seconds spent meanwhile)."""
    start, first = time.monotonic(), cpu_seconds(proc.pid)
    last, calm = first, 0
    while time.monotonic() - start < limit and proc.alive():
        time.sleep(interval)
        now = cpu_seconds(proc.pid)
        calm = calm + 1 if (now - last) / interval < busy else 0
        last = now
        if calm >= 3:
            break
    return time.monotonic() - start, last - first


def idle_cpu(proc: Proc, seconds: float = 3.0) -> float:
    """Share of one core ``proc`` uses while no request is in flight."""
    before = cpu_seconds(proc.pid)
    time.sleep(seconds)
    return (cpu_seconds(proc.pid) - before) / seconds


def make_env(data_dir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GATEWAY_", "DATABASE_", "REDIS_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="gateway_site.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        GATEWAY_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        GATEWAY_HTTPS="0",
        DJANGO_DEBUG="0",
        GATEWAY_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir / 'gateway.sqlite3'}",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def seed(env: dict[str, str], api_base: str, log_dir: Path) -> str:
    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        (log_dir / f"manage-{args[0]}.log").write_text(done.stdout + done.stderr)
        if done.returncode:
            raise SetupError(
                f"manage.py {args[0]} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
            )
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    script = SEED_SCRIPT.format(api_base=api_base, secret=UPSTREAM_SECRET, endpoint=ENDPOINT_NAME, model=UPSTREAM_MODEL)
    out = manage("shell", "-c", script)
    for line in out.splitlines():
        if line.startswith("BENCH_TOKEN="):
            return line.split("=", 1)[1]
    raise SetupError(f"seeding printed no token:\n{out[-2000:]}")


# -- load ------------------------------------------------------------------------
@dataclass
class Target:
    name: str  # "direct" or "daphne" / "uvicorn"
    url: str  # .../v1/chat/completions
    token: str
    model: str
    proc: Proc | None  # the gateway process (CPU accounting); None for direct
    upstream: Proc


@dataclass
class Result:
    scenario: str
    target: str
    concurrency: int
    planned: int
    done: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ttfb: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    gateway_cpu: float | None = None
    upstream_cpu: float | None = None
    capped: bool = False

    @property
    def rps(self) -> float:
        return self.done / self.wall if self.wall else 0.0


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def one_request(session: Any, target: Target, stream: bool) -> tuple[float, float | None]:
    body: dict[str, Any] = {"model": target.model, "messages": MESSAGES}
    if stream:
        body["stream"] = True
    headers = {"Authorization": f"Bearer {target.token}"}
    start = time.perf_counter()
    async with session.post(target.url, json=body, headers=headers) as response:
        if response.status != 200:
            text = (await response.text())[:300]
            raise RuntimeError(f"HTTP {response.status}: {text}")
        if not stream:
            data = await response.json(content_type=None)
            if not data.get("choices"):
                raise RuntimeError(f"no choices in response: {str(data)[:300]}")
            return time.perf_counter() - start, None
        first: float | None = None
        last = b""
        async for line in response.content:
            line = line.strip()
            if not line.startswith(b"data:"):
                continue
            if first is None:
                first = time.perf_counter() - start
            last = line
        if first is None or last != b"data: [DONE]":
            raise RuntimeError(f"stream ended without [DONE] (last {last[:200]!r})")
        return time.perf_counter() - start, first


async def run_load(target: Target, stream: bool, concurrency: int, count: int, cap: float) -> Result:
    import aiohttp

    result = Result("stream" if stream else "chat", target.name, concurrency, count)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    issued = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker(deadline: float) -> None:
            nonlocal issued
            while issued < count:
                if time.perf_counter() > deadline:
                    result.capped = True
                    return
                issued += 1
                try:
                    latency, first = await one_request(session, target, stream)
                except Exception as exc:  # every failure is counted and reported
                    result.errors.append(f"{exc.__class__.__name__}: {exc}"[:400])
                    continue
                result.latencies.append(latency)
                if first is not None:
                    result.ttfb.append(first)

        cpu_gw = cpu_seconds(target.proc.pid) if target.proc else None
        cpu_up = cpu_seconds(target.upstream.pid)
        started = time.perf_counter()
        deadline = started + cap
        await asyncio.gather(*(worker(deadline) for _ in range(concurrency)))
        result.wall = time.perf_counter() - started
        if target.proc:
            result.gateway_cpu = cpu_seconds(target.proc.pid) - cpu_gw
        result.upstream_cpu = cpu_seconds(target.upstream.pid) - cpu_up
    result.done = len(result.latencies)
    return result


# -- report ----------------------------------------------------------------------
def machine_line() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: nproc={nproc} | cpu={model} | python={platform.python_version()} "
        f"({platform.python_implementation()}) | {platform.system()} {platform.release()} | loadavg(1/5/15m)={load}"
    )


def versions_line() -> str:
    from importlib import metadata

    parts = []
    for name in ("django", "litellm", "daphne", "uvicorn", "aiohttp", "uvloop", "httptools"):
        try:
            parts.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name}=absent")
    return "versions: " + " ".join(parts)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.2f}"


def per_request(cpu: float | None, done: int) -> str:
    return "-" if cpu is None or not done else f"{cpu * 1000 / done:.2f}"


def as_dict(r: Result) -> dict[str, Any]:
    def millis(value: float | None) -> float | None:
        return None if value is None else value * 1000

    return {
        "scenario": r.scenario,
        "target": r.target,
        "concurrency": r.concurrency,
        "planned": r.planned,
        "done": r.done,
        "errors": len(r.errors),
        "capped": r.capped,
        "wall_s": r.wall,
        "rps": r.rps,
        "p50_ms": millis(pct(r.latencies, 50)),
        "p99_ms": millis(pct(r.latencies, 99)),
        "ttfb_p50_ms": millis(pct(r.ttfb, 50)),
        "ttfb_p99_ms": millis(pct(r.ttfb, 99)),
        "gateway_cpu_s": r.gateway_cpu,
        "upstream_cpu_s": r.upstream_cpu,
    }


def table(results: list[Result]) -> str:
    header = [
        "scenario", "target", "conc", "ok/planned", "errors", "req/s", "p50 ms", "p99 ms",
        "TTFB p50", "TTFB p99", "gateway CPU ms/req", "upstream CPU ms/req",
    ]  # fmt: skip
    rows = [header]
    for r in results:
        rows.append(
            [
                r.scenario,
                r.target if r.target == "direct" else f"gateway/{r.target}",
                str(r.concurrency),
                f"{r.done}/{r.planned}" + (" (time cap)" if r.capped else ""),
                str(len(r.errors)),
                f"{r.rps:.1f}",
                ms(pct(r.latencies, 50)),
                ms(pct(r.latencies, 99)),
                ms(pct(r.ttfb, 50)),
                ms(pct(r.ttfb, 99)),
                per_request(r.gateway_cpu, r.done),
                per_request(r.upstream_cpu, r.done),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            " | ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row))
        )
        if n == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def added_latency(results: list[Result]) -> list[str]:
    by = {(r.scenario, r.target, r.concurrency): r for r in results}
    lines = []
    for r in results:
        if r.target == "direct":
            continue
        direct = by.get((r.scenario, "direct", r.concurrency))
        if direct is None:
            continue
        if r.scenario == "chat":
            a, b, what = pct(r.latencies, 50), pct(direct.latencies, 50), "latency p50"
        else:
            a, b, what = pct(r.ttfb, 50), pct(direct.ttfb, 50), "TTFB p50"
        if a is None or b is None:
            continue
        lines.append(
            f"  gateway/{r.target:<8} c={r.concurrency:<3} {r.scenario:<6} {what:<11}: "
            f"+{(a - b) * 1000:.2f} ms ({a * 1000:.2f} through gateway - {b * 1000:.2f} direct)"
        )
    return lines


# -- main ------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per scenario at the highest concurrency (default 2000)"
    )
    parser.add_argument(
        "--requests-serial",
        type=int,
        default=None,
        help="requests per scenario at concurrency 1 (default --requests/5)",
    )
    parser.add_argument("--duration", type=float, default=60.0, help="hard time cap per scenario, seconds (default 60)")
    parser.add_argument("--concurrency", default="1,32", help="comma-separated concurrencies (default 1,32)")
    parser.add_argument(
        "--servers", default="daphne,uvicorn", help="gateway servers to measure (default daphne,uvicorn)"
    )
    parser.add_argument("--warmup", type=int, default=50, help="warm-up requests per target and mode (default 50)")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct-to-upstream baseline")
    parser.add_argument("--json", metavar="PATH", help="also write the raw figures as JSON to PATH")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir (logs, database) for inspection")
    args = parser.parse_args(argv)
    args.concurrency = sorted({int(c) for c in args.concurrency.split(",") if c.strip()})
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if args.requests_serial is None:
        args.requests_serial = max(1, args.requests // 5)
    if args.requests < 1 or args.duration <= 0 or not args.concurrency or min(args.concurrency) < 1:
        parser.error("--requests, --duration and --concurrency must be positive")
    return args


async def warm_up(target: Target, count: int) -> list[str]:
    errors: list[str] = []
    for stream in (False, True):
        r = await run_load(target, stream, min(8, max(1, count)), count, 60)
        errors += [f"warm-up {target.name} {r.scenario}: {e}" for e in r.errors]
    return errors


async def measure(target: Target, args: argparse.Namespace, results: list[Result]) -> None:
    for stream in (False, True):
        for conc in args.concurrency:
            count = args.requests_serial if conc == 1 else args.requests
            r = await run_load(target, stream, conc, count, args.duration)
            results.append(r)
            print(
                f"  {r.scenario:<6} {target.name:<8} c={conc:<3} {r.done}/{count} ok in {r.wall:.1f}s "
                f"({r.rps:.1f} req/s){'  ' + str(len(r.errors)) + ' errors' if r.errors else ''}",
                flush=True,
            )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(machine_line())
    print(versions_line())
    print("note: client, fake upstream and gateway share this machine's CPUs; other work on it adds noise.")
    data_dir = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    procs: list[Proc] = []
    results: list[Result] = []
    errors: list[str] = []
    idle: dict[str, float] = {}

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    code = 0
    try:
        env = make_env(data_dir)
        upstream, upstream_url = start_upstream(env, data_dir, procs)
        print(f"fake upstream: {upstream_url} (pid {upstream.pid})", flush=True)
        token = seed(env, f"{upstream_url}/v1", data_dir)
        print(f"seeded {data_dir} (endpoint {ENDPOINT_NAME!r} running)", flush=True)
        targets = []
        if not args.no_direct:
            targets.append(
                Target("direct", f"{upstream_url}/v1/chat/completions", UPSTREAM_SECRET, UPSTREAM_MODEL, None, upstream)
            )
        targets += args.servers
        for target in targets:
            gateway = None
            if isinstance(target, str):
                gateway, url = start_gateway(target, env, data_dir, procs)
                waited, spent = wait_quiet(gateway)
                print(
                    f"gateway ({target}): {url} (pid {gateway.pid}); background start-up work done "
                    f"{waited:.1f} s after /health/live ({spent:.1f} CPU s)",
                    flush=True,
                )
                target = Target(target, f"{url}/v1/chat/completions", token, ENDPOINT_NAME, gateway, upstream)
            warm_errors = asyncio.run(warm_up(target, args.warmup))
            if warm_errors:
                # A broken setup would only produce a table of failures: say why and move on.
                errors += warm_errors
                log = target.proc.tail(15) if target.proc else target.upstream.tail(15)
                print(f"  warm-up of {target.name} failed ({len(warm_errors)} errors); skipping it. Log tail:\n{log}")
            else:
                if gateway is not None:
                    time.sleep(1.0)  # let the usage writer flush the warm-up rows
                    idle[target.name] = idle_cpu(gateway)
                asyncio.run(measure(target, args, results))
            if gateway is not None:
                if not gateway.alive():
                    errors.append(f"{target.name} exited during the run:\n{gateway.tail()}")
                gateway.stop()
                procs.remove(gateway)
    except SetupError as exc:
        print(f"SETUP FAILED: {exc}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        code = 130
    finally:
        for proc in reversed(procs):
            proc.stop()
        if args.keep:
            print(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)

    if results:
        print()
        print(
            f"requests per scenario: {args.requests_serial} at c=1, {args.requests} at higher concurrency; "
            f"time cap {args.duration:g} s per scenario"
        )
        print(
            "chat = non-streaming (p50/p99 = full response); stream = stream=true (p50/p99 = whole stream, "
            "TTFB = first 'data:' chunk). CPU = utime+stime of the server process per completed request."
        )
        print(table(results))
        print()
        print("gateway added latency (through gateway - direct):")
        for line in added_latency(results):
            print(line)
        for name, share in idle.items():
            print(
                f"gateway/{name} idle CPU (usage writer + change poll, no traffic): {share * 100:.1f}% of a core "
                f"(included in the CPU ms/req figures)"
            )
        for r in results:
            errors += [f"{r.scenario} {r.target} c={r.concurrency}: {e}" for e in r.errors]
        if args.json:
            Path(args.json).write_text(
                json.dumps(
                    {
                        "machine": machine_line(),
                        "versions": versions_line(),
                        "idle_cpu_share": idle,
                        "results": [as_dict(r) for r in results],
                    },
                    indent=2,
                )
            )
    if errors:
        print(f"\n{len(errors)} request(s) failed; first {min(len(errors), MAX_ERRORS_SHOWN)}:", file=sys.stderr)
        for line in errors[:MAX_ERRORS_SHOWN]:
            print(f"  {line}", file=sys.stderr)
        code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
