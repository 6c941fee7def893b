"""The one-command demo (``make demo``): fake providers, a team's setup, and traffic to watch.

Three fake providers on 127.0.0.1 (``fakeupstream``), each with its own
latency; the middle one fails on demand. ``seed`` creates the demo's users, a
team, keys, endpoints (a chat endpoint split 70/30 with a priority-2
fallback, an embedding endpoint, a Gemini passthrough endpoint, two judges)
and two scorers, all through the services the UI and API use. ``Traffic``
then calls the gateway over HTTP the way applications would (the OpenAI SDK,
Gemini's own API, the scorers API), with a burst of failures on one model in
the middle so that failover and cooldown show on the endpoint's charts.

The ``demo`` management command puts these together around ``manage.py
serve``; the demo test runs ``seed`` and ``Traffic`` in a short mode.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.contrib.auth import get_user_model
from django.db import transaction

from endpoints import lifecycle
from endpoints import services as endpoint_services
from endpoints.validation import ModelSpec
from fakeupstream import FakeUpstream
from keys import services as key_services
from scorers import services as scorer_services
from sharing import services as sharing
from sharing.levels import Level
from teams import services as teams
from tokens import services as tokens

logger = logging.getLogger("gateway.demo")

# Who signs in to the demo (printed by ``make demo``; the demo listens on 127.0.0.1 only).
USERS = {
    "alice": {"password": "alice-demo", "is_superuser": False, "about": "platform lead: owns the keys and endpoints"},
    "bob": {"password": "bob-demo", "is_superuser": False, "about": "on alice's team: uses what is shared with it"},
    "admin": {"password": "admin-demo", "is_superuser": True, "about": "superuser: sees everything, /admin/"},
}
TEAM = "platform"


@dataclass(frozen=True)
class Provider:
    """One fake provider: a name for its keys, a latency for every answer."""

    name: str
    delay: float
    about: str


PROVIDERS = (
    Provider("northwind", 0.03, "fast (30 ms)"),
    Provider("contoso", 0.12, "steady (120 ms); fails on demand"),
    Provider("fabrikam", 0.40, "slow (400 ms); the fallback"),
)
FAILING = "contoso"  # the provider whose model fails in the burst: the one with 70% of support-chat
FAILING_MODEL = "gpt-4o-mini"

# The models each fake provider serves (it lists them, so the start probes find them).
MODELS = {
    "northwind": ("gpt-4o", "text-embedding-3-small", "gpt-4.1-nano", "gpt-5.4-mini"),
    "contoso": ("gpt-4o-mini", "gpt-4.1-mini"),
    "fabrikam": ("gpt-4.1", "gemini-2.5-flash-lite"),
}
CORRECTNESS = json.dumps({"score": "yes", "reason": "The answer gives the refund window the policy states."})
# What "Create endpoint" on a new scorer suggests for an OpenAI key (docs/demo.md, step 4).
SUGGESTED_JUDGE = json.dumps({"score": "yes", "reason": "The answer is courteous and to the point."})
HELPFULNESS = json.dumps({"score": 4, "reason": "Correct and polite; it could link the policy page."})


class FakeProviders:
    """The three fake providers, started on free ports of 127.0.0.1."""

    def __init__(self) -> None:
        self.servers = {provider.name: FakeUpstream() for provider in PROVIDERS}

    def start(self) -> FakeProviders:
        for provider in PROVIDERS:
            server = self.servers[provider.name].start()
            for model in MODELS[provider.name]:
                server.configure(model, delay=provider.delay)
        # The judges answer as judges are asked to (scorers read a JSON verdict).
        self.servers["northwind"].configure("gpt-4.1-nano", delay=0.05, chunks=[CORRECTNESS])
        self.servers["contoso"].configure("gpt-4.1-mini", delay=0.15, chunks=[HELPFULNESS])
        self.servers["northwind"].configure("gpt-5.4-mini", delay=0.05, chunks=[SUGGESTED_JUDGE])
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __getitem__(self, name: str) -> FakeUpstream:
        return self.servers[name]

    def fail(self, name: str = FAILING, model: str = FAILING_MODEL) -> None:
        """Make ``model`` at provider ``name`` answer 503 until ``recover``."""
        self.servers[name].configure(model, fail_status=503, delay=delay_of(name))

    def recover(self, name: str = FAILING, model: str = FAILING_MODEL) -> None:
        self.servers[name].configure(model, delay=delay_of(name))


def delay_of(name: str) -> float:
    return next(provider.delay for provider in PROVIDERS if provider.name == name)


class DemoError(Exception):
    """The demo could not be set up."""


@dataclass
class Demo:
    """What ``seed`` made: the users, and the tokens the traffic calls with."""

    users: dict[str, Any]
    tokens: dict[str, str]
    scorers: dict[str, str]  # name -> public id
    endpoints: dict[str, str]  # name -> public id


def seed(providers: FakeProviders) -> Demo:
    """Create the demo's users, team, keys, endpoints and scorers, and start the endpoints."""
    with transaction.atomic():
        users = _users()
        alice = users["alice"]
        team = teams.create_team(actor=alice, name=TEAM)
        teams.add_member(team, users["bob"], actor=alice)
        keys = {
            provider.name: key_services.create_key(
                actor=alice,
                name=f"{provider.name}-openai",
                provider="openai",
                secret=f"sk-demo-{provider.name}-0000000000000000",
                api_base=providers[provider.name].base_url,
                description=f"The fake provider “{provider.name}”, {provider.about}.",
            )
            for provider in PROVIDERS
        }
        keys["gemini"] = key_services.create_key(
            actor=alice,
            name="fabrikam-gemini",
            provider="gemini",
            secret="AIza-demo-fabrikam-00000000000000",
            api_base=providers["fabrikam"].url,
            description="Google AI's own API at the fake provider “fabrikam”.",
        )

        def model(key: str, name: str, **fields: Any) -> ModelSpec:
            provider = "gemini" if key == "gemini" else "openai"
            return ModelSpec(provider=provider, model_name=name, key_id=keys[key].public_id, **fields)

        specs = {
            "support-chat": (
                "chat",
                "The support assistant: 70/30 across two providers, a third as the fallback.",
                [
                    model(FAILING, FAILING_MODEL, weight=0.7, priority=1),
                    model("northwind", "gpt-4o", weight=0.3, priority=1),
                    model("fabrikam", "gpt-4.1", weight=1.0, priority=2),
                ],
            ),
            "docs-embeddings": ("embedding", "Embeds the help centre.", [model("northwind", "text-embedding-3-small")]),
            "gemini-native": (
                "chat",
                "For code that speaks Google's own API (google-genai): a passthrough endpoint.",
                [model("gemini", "gemini-2.5-flash-lite")],
            ),
            "correctness-judge": ("chat", "The judge of scorer “Correctness”.", [model("northwind", "gpt-4.1-nano")]),
            "helpfulness-judge": ("chat", "The judge of scorer “Helpfulness”.", [model(FAILING, "gpt-4.1-mini")]),
        }
        endpoints = {
            name: endpoint_services.create_endpoint(
                actor=alice, name=name, endpoint_type=kind, description=about, models=models
            )
            for name, (kind, about, models) in specs.items()
        }
        group = team.group
        for obj in [*keys.values(), *endpoints.values()]:
            sharing.grant(obj, group, Level.USE, actor=alice)
        scorers = {
            "Correctness": scorer_services.create_scorer(
                actor=alice,
                name="Correctness",
                instructions=(
                    "Does the support answer in {{ outputs }} answer the customer's question in {{ inputs }} "
                    "correctly, agreeing with the policy in {{ expectations }}?"
                ),
                answer_kind="yes_no",
                endpoint=endpoints["correctness-judge"],
            ),
            "Helpfulness": scorer_services.create_scorer(
                actor=alice,
                name="Helpfulness",
                instructions="How helpful is the answer {{ outputs }} to the question {{ inputs }}?",
                answer_kind="scale_1_5",
                endpoint=endpoints["helpfulness-judge"],
            ),
        }
        for scorer in scorers.values():
            sharing.grant(scorer, group, Level.USE, actor=alice)
        demo_tokens = {name: tokens.create_token(users[name], "demo traffic")[1] for name in ("alice", "bob")}
    for endpoint in endpoints.values():
        lifecycle.start_endpoint(endpoint, actor=alice)
        endpoint.refresh_from_db()
        if endpoint.status != "running":
            raise DemoError(f"Endpoint {endpoint.name} did not start: {endpoint.last_error}")
    return Demo(
        users=users,
        tokens=demo_tokens,
        scorers={name: scorer.public_id for name, scorer in scorers.items()},
        endpoints={name: endpoint.public_id for name, endpoint in endpoints.items()},
    )


def _users() -> dict[str, Any]:
    model = get_user_model()
    users = {}
    for name, spec in USERS.items():
        user = model(username=name, is_superuser=spec["is_superuser"], is_staff=spec["is_superuser"])
        user.set_password(spec["password"])
        user.save()
        users[name] = user
    return users


QUESTIONS = (
    "How long do I have to return an order?",
    "Can I change the delivery address after ordering?",
    "Do you ship to Norway?",
    "My parcel arrived damaged. What now?",
    "How do I reset my password?",
)


@dataclass
class Traffic:
    """Calls the gateway like its applications do, for ``duration`` seconds, until stopped.

    About ``rate`` requests a second in all: mostly chat (one in four
    streamed), some embeddings, some through Gemini's own API, and now and
    then a scorer run. Between 40% and 70% of the time, the failing provider's
    model answers 503: requests fail over to the other models and the Router
    cools the failing one down.
    """

    base_url: str
    demo: Demo
    providers: FakeProviders
    duration: float
    rate: float = 4.0
    stop: threading.Event = field(default_factory=threading.Event)
    sent: Counter = field(default_factory=Counter)  # what was called, by kind
    statuses: Counter = field(default_factory=Counter)  # the gateway's answers, by status
    # Not for secrets: which call comes next, and when (a seed repeats a run).
    rng: random.Random = field(default_factory=random.Random)

    def run(self) -> None:
        from openai import OpenAI

        clients = {
            name: OpenAI(base_url=f"{self.base_url}/v1", api_key=token, max_retries=0, timeout=30)
            for name, token in self.demo.tokens.items()
        }
        http = httpx.Client(base_url=self.base_url, timeout=30)
        started = time.monotonic()
        failing = False
        try:
            while not self.stop.is_set() and (elapsed := time.monotonic() - started) < self.duration:
                in_burst = 0.4 * self.duration <= elapsed < 0.7 * self.duration
                if in_burst != failing:
                    failing = in_burst
                    (self.providers.fail if failing else self.providers.recover)()
                    logger.info("demo: %s %s/%s", "failing" if failing else "recovered", FAILING, FAILING_MODEL)
                user = self.rng.choice(("alice", "alice", "bob"))
                self._one(clients[user], http, self.demo.tokens[user])
                self.stop.wait(self.rng.expovariate(self.rate))
        finally:
            if failing:
                self.providers.recover()
            http.close()

    def _one(self, client: Any, http: httpx.Client, token: str) -> None:
        import openai

        draw = self.rng.random()
        question = self.rng.choice(QUESTIONS)
        try:
            if draw < 0.62:
                self._chat(client, question, stream=draw < 0.15)
            elif draw < 0.80:
                kind = "embeddings"
                client.embeddings.create(model="docs-embeddings", input=question)
                self._count(kind, 200)
            elif draw < 0.94:
                response = http.post(
                    "/gemini/v1beta/models/gemini-native:generateContent",
                    headers={"x-goog-api-key": token},
                    json={"contents": [{"role": "user", "parts": [{"text": question}]}]},
                )
                self._count("gemini", response.status_code)
            else:
                name = self.rng.choice(sorted(self.demo.scorers))
                response = http.post(
                    f"/api/3.0/mlflow/gateway/scorers/{self.demo.scorers[name]}/run",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"inputs": question, "outputs": "Within 30 days.", "expectations": "Returns: 30 days."},
                )
                self._count("scorer", response.status_code)
        except openai.APIStatusError as exc:
            self._count("chat" if draw < 0.62 else "embeddings", exc.status_code)
        except (openai.APIError, httpx.HTTPError) as exc:
            logger.warning("demo: a call failed: %s", exc)
            self._count("error", 0)

    def _chat(self, client: Any, question: str, *, stream: bool) -> None:
        messages = [{"role": "user", "content": question}]
        if stream:
            for _chunk in client.chat.completions.create(model="support-chat", messages=messages, stream=True):
                pass
        else:
            client.chat.completions.create(model="support-chat", messages=messages)
        self._count("chat", 200)

    def _count(self, kind: str, status: int) -> None:
        self.sent[kind] += 1
        self.statuses[status] += 1
