"""Where a webhook may point: http(s) to public addresses only (no SSRF into the installation's network).

Checked when an endpoint is saved and again, after resolving the name, before each
attempt (a name may resolve elsewhere later). WEBHOOKS_ALLOW_PRIVATE (development and
tests) lets private, loopback and link-local addresses through.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (OSError, UnicodeError):
        raise ValidationError(_("The host name %(host)s does not resolve.") % {"host": host}) from None


def check_url(url: str) -> list[str]:
    """The addresses `url` resolves to; ValidationError when it is not http(s) or reaches a private one."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(_("Enter a valid URL.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(_("A webhook URL starts with https:// or http://."))
    if parts.username or parts.password:
        raise ValidationError(_("A webhook URL holds no user name or password."))
    addresses = resolve(parts.hostname, port)
    private = not addresses or not all(_public(address) for address in addresses)
    if private and not getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False):
        raise ValidationError(
            _("%(host)s is a private, loopback or link-local address: webhooks only go to the internet.")
            % {"host": parts.hostname}
        )
    return addresses
