"""Which webhook URLs Lakesis will POST to: http(s) only, https in production, never the
app itself, and in production never an address inside the network (loopback, private,
link-local, the cloud metadata service): a webhook must not become a way into it."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 500
_DEFAULT_PORTS = {"http": 80, "https": 443}


class BadUrl(ValueError):
    """The URL is refused; the message says why, for the form."""


def _host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        port = None
    return (parts.hostname or "").lower().rstrip("."), port


def _same_server(host: str, own_host: str) -> bool:
    """Whether two host names are one server: the same name, or both this machine."""
    return host == own_host or (_loopback(host) and _loopback(own_host))


def _loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check(url: str, *, production: bool, own_urls: tuple[str, ...]) -> str:
    """The URL as it will be stored, or BadUrl."""
    url = url.strip()
    if not url:
        raise BadUrl("Enter the URL the booking workflow receives webhooks at.")
    if len(url) > MAX_URL:
        raise BadUrl(f"The URL is too long (at most {MAX_URL} characters).")
    if any(ord(char) < 33 for char in url):
        raise BadUrl("The URL must not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise BadUrl("The URL must start with https:// (or http:// outside production).")
    if production and parts.scheme != "https":
        raise BadUrl("The URL must use https:// in production.")
    host, port = _host_port(url)
    if not host or port is None:
        raise BadUrl("The URL must name a host, e.g. https://workflow.example.com/hooks.")
    if parts.username or parts.password:
        raise BadUrl("The URL must not carry a user name or password; Lakesis signs each "
                     "delivery instead.")
    if parts.fragment:
        raise BadUrl("The URL must not have a #fragment.")
    if any(_same_server(host, own_host) and port == own_port
           for own_host, own_port in map(_host_port, own_urls)):
        raise BadUrl("The URL points at this Lakesis dashboard itself; enter the booking "
                     "workflow's address.")
    if production:
        refuse_private_addresses(url)
    return url


def _inside(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
            or ip.is_multicast or ip.is_unspecified or not ip.is_global)


def refuse_private_addresses(url: str) -> None:
    """BadUrl unless every address the host resolves to is a public one."""
    host, port = _host_port(url)
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadUrl(f"The host {host} could not be resolved.") from exc
    if any(_inside(info[4][0]) for info in found):
        raise BadUrl(f"The host {host} resolves to an internal address (loopback, private, "
                     "link-local or metadata); Lakesis only sends webhooks to public "
                     "addresses.")
