"""Where an ``api_base`` may point.

Checked when an endpoint model is saved and again when the proxy connects,
because DNS can change in between. Link-local and cloud metadata addresses
are never allowed (they hand out cloud credentials). Private and loopback
ranges are allowed by default, for self-hosted models, unless the operator
sets ``GATEWAY_BLOCK_PRIVATE_API_BASE=1``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# Metadata services that are not covered by "link-local".
METADATA_ADDRESSES = {
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("192.0.0.192"),  # Oracle Cloud (legacy)
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IMDS over IPv6
}
METADATA_HOSTNAMES = {
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
}


class UnsafeAddress(ValueError):
    """The URL points somewhere the gateway must not connect to."""


def _unwrap(address: ipaddress.IPv4Address | ipaddress.IPv6Address):
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
    return address


def check_address(address: str, *, block_private: bool | None = None) -> None:
    """Raise ``UnsafeAddress`` unless ``address`` (an IP) is allowed."""
    if block_private is None:
        block_private = settings.GATEWAY_BLOCK_PRIVATE_API_BASE
    ip = _unwrap(ipaddress.ip_address(address.split("%", 1)[0]))
    if ip.is_link_local or ip in METADATA_ADDRESSES:
        raise UnsafeAddress(f"{ip} is a link-local or cloud metadata address.")
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        raise UnsafeAddress(f"{ip} is not a routable host address.")
    if block_private and (ip.is_private or ip.is_loopback):
        raise UnsafeAddress(f"{ip} is a private or loopback address, which this gateway does not allow.")


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeAddress(f"The host {host!r} cannot be resolved.") from None
    return sorted({info[4][0] for info in infos})


def check_url(url: str, *, block_private: bool | None = None) -> None:
    """Raise ``UnsafeAddress`` unless ``url`` is http(s) and every address it resolves to is allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeAddress("The URL is malformed.") from None
    if parts.scheme not in {"http", "https"}:
        raise UnsafeAddress("Only http:// and https:// URLs are allowed.")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeAddress("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeAddress("Put credentials in a key, not in the URL.")
    if host in METADATA_HOSTNAMES:
        raise UnsafeAddress(f"{host} is a cloud metadata service.")
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        addresses = resolve(host, port)
    for address in addresses:
        check_address(address, block_private=block_private)
