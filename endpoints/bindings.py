"""What uses an endpoint: bindings, the hand-off that records them, and how pages name their resources.

The hand-off (the contract documented in the README, "Linking a tool to a new
endpoint"): a page elsewhere links to

    /endpoints/new?for=<resource_type>:<resource_id>&return_to=<path>[&name=...&provider=...&model=...]

The endpoint form opens pre-filled; saving it creates the endpoint, records
the binding ``<resource_type>:<resource_id>`` and redirects to ``return_to``
(a path on this site only) with ``endpoint=<name>`` added to its query.

Any tool may use the contract with its own resource type. An app that owns a
resource type registers it here (``register``) so the endpoint pages can name
its resources and link to them, and so a new binding can link the resource
to the endpoint at once (a scorer takes the endpoint as its judge).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    from django.http import HttpRequest

    from endpoints.models import Binding, Endpoint

# (resource ids, viewer) -> {resource id: (display name, URL)} for the ids the viewer may see.
Describer = Callable[[list[str], Any], dict[str, tuple[str, str]]]
# (endpoint, resource id, actor): a binding to the endpoint was recorded (or is about to be
# removed); the app may act on it, or refuse with a ValidationError.
OnBinding = Callable[["Endpoint", str, Any], None]


@dataclass(frozen=True)
class ResourceType:
    label: str
    describe: Describer
    on_bound: OnBinding | None = None
    on_unbound: OnBinding | None = None


RESOURCE_TYPES: dict[str, ResourceType] = {}


def register(name: str, resource_type: ResourceType) -> None:
    """Called from the owning app's ``ready()``."""
    RESOURCE_TYPES[name] = resource_type


@dataclass(frozen=True)
class UsedBy:
    """One binding as a page shows it: the resource's name and link when the viewer may see it."""

    binding: Binding
    label: str
    name: str | None = None
    url: str | None = None


def described(bindings: Iterable[Binding], viewer: Any) -> list[UsedBy]:
    """The bindings with their resources named (one lookup per resource type)."""
    bindings = list(bindings)
    by_type: dict[str, list[str]] = {}
    for binding in bindings:
        by_type.setdefault(binding.resource_type, []).append(binding.resource_id)
    names = {
        resource_type: RESOURCE_TYPES[resource_type].describe(ids, viewer)
        for resource_type, ids in by_type.items()
        if resource_type in RESOURCE_TYPES
    }
    rows = []
    for binding in bindings:
        registered = RESOURCE_TYPES.get(binding.resource_type)
        name, url = names.get(binding.resource_type, {}).get(binding.resource_id, (None, None))
        label = registered.label if registered is not None else binding.resource_type
        rows.append(UsedBy(binding=binding, label=label, name=name, url=url))
    return rows


@dataclass(frozen=True)
class HandOff:
    """What a page asked the endpoint form for: the resource to bind and where to return."""

    target: str = ""  # ``for`` as given
    return_to: str | None = None

    @property
    def resource_type(self) -> str:
        return self.target.partition(":")[0].strip()

    @property
    def resource_id(self) -> str:
        return self.target.partition(":")[2].strip()

    @property
    def binds(self) -> bool:
        return bool(self.resource_type and self.resource_id)

    def carried(self) -> dict[str, str]:
        """The hidden fields that carry the hand-off through the form's POST."""
        return {name: value for name, value in (("for", self.target), ("return_to", self.return_to)) if value}

    def describe(self, viewer: Any) -> UsedBy | None:
        """The resource as the form's notice names it."""
        if not self.binds:
            return None
        from endpoints.models import Binding

        binding = Binding(resource_type=self.resource_type, resource_id=self.resource_id)
        return described([binding], viewer)[0]

    def returning(self, endpoint: Endpoint) -> str | None:
        """``return_to`` with ``endpoint=<name>`` in its query."""
        if self.return_to is None:
            return None
        parts = urlsplit(self.return_to)
        query = [(name, value) for name, value in parse_qsl(parts.query) if name != "endpoint"]
        query.append(("endpoint", endpoint.name))
        return urlunsplit(parts._replace(query=urlencode(query)))


FOR_LIMIT, RETURN_TO_LIMIT = 320, 2000


def hand_off(request: HttpRequest, data: Any) -> HandOff:
    """Read ``for`` and ``return_to`` from a query string or a form; a ``return_to`` off this site is dropped."""
    target = str(data.get("for", "")).strip()[:FOR_LIMIT]
    return_to = str(data.get("return_to", "")).strip()
    return HandOff(target=target, return_to=return_to if _on_this_site(request, return_to) else None)


def _on_this_site(request: HttpRequest, url: str) -> bool:
    # A path on this site only: no scheme-relative //host, no other host, no
    # javascript: (url_has_allowed_host_and_scheme refuses those).
    return bool(
        url
        and len(url) <= RETURN_TO_LIMIT
        and url.startswith("/")
        and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    )


def bind(endpoint: Endpoint, *, actor: Any, resource_type: str, resource_id: str) -> Binding:
    """Record a binding and let the resource's app link it (in the caller's transaction).

    The hand-off and ``POST endpoints/{id}/bindings`` both come here.
    """
    from endpoints import services

    binding = services.add_binding(endpoint, actor=actor, resource_type=resource_type, resource_id=resource_id)
    registered = RESOURCE_TYPES.get(resource_type)
    if registered is not None and registered.on_bound is not None:
        registered.on_bound(endpoint, resource_id, actor)
    return binding


def unbind(endpoint: Endpoint, *, actor: Any, resource_type: str, resource_id: str) -> bool:
    """Remove a binding, once the resource's app has let it go (it may refuse); False when there was none."""
    from endpoints import services

    if not endpoint.bindings.filter(resource_type=resource_type, resource_id=resource_id).exists():
        return False
    registered = RESOURCE_TYPES.get(resource_type)
    if registered is not None and registered.on_unbound is not None:
        registered.on_unbound(endpoint, resource_id, actor)
    services.remove_binding(endpoint, resource_type=resource_type, resource_id=resource_id)
    return True


def bind_hand_off(endpoint: Endpoint, handoff: HandOff, *, actor: Any) -> Binding:
    """The hand-off's binding; a ``for`` without ``<resource_type>:<resource_id>`` is a field error."""
    if not handoff.binds:
        raise ValidationError({"for": ["Give the resource as <resource_type>:<resource_id>."]})
    return bind(endpoint, actor=actor, resource_type=handoff.resource_type, resource_id=handoff.resource_id)
