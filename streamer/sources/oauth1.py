"""OAuth 1.0a request signing (RFC 5849, HMAC-SHA1), as Twitter's v1.1 streams require.

The signature covers the method, the base URL and every parameter: the query string's, the
form body's and the oauth_* ones. Nonce and timestamp are injectable so that tests can
reproduce published examples byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

SIGNATURE_METHOD = "HMAC-SHA1"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class OAuth1Credentials:
    consumer_key: str
    consumer_secret: str = field(repr=False)
    token: str = field(repr=False)
    token_secret: str = field(repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Everything that must never reach a log."""
        return (self.consumer_secret, self.token, self.token_secret)


def percent_encode(value: str) -> str:
    """RFC 3986 percent-encoding of the UTF-8 bytes: only A-Z a-z 0-9 - . _ ~ stay as is."""
    return quote(value, safe="")


def base_string_uri(url: str) -> str:
    """Scheme and host lower-cased, default port dropped, no query or fragment (3.4.1.2)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def normalized_parameters(params: Iterable[tuple[str, str]]) -> str:
    """Each name and value encoded, sorted by name then value, joined with & (3.4.1.3.2)."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in params)
    return "&".join(f"{k}={v}" for k, v in encoded)


def query_parameters(url: str) -> list[tuple[str, str]]:
    """The query's name/value pairs, decoded as a form (+ is a space), blanks kept."""
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """`params` must already include the query's, the body's and the oauth_* parameters."""
    return "&".join(
        [
            method.upper(),
            percent_encode(base_string_uri(url)),
            percent_encode(normalized_parameters(params)),
        ]
    )


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode(), base_string.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def parse_authorization(header: str) -> dict[str, str]:
    """The oauth_* parameters of an `Authorization: OAuth ...` header, decoded."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "oauth":
        return {}
    params: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            params[unquote(name)] = unquote(value.strip().strip('"'))
    return params


class OAuth1Signer:
    """Builds the Authorization header for one request; a fresh nonce and timestamp each time."""

    def __init__(
        self,
        credentials: OAuth1Credentials,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self._nonce = nonce
        self._clock = clock

    def oauth_parameters(self) -> dict[str, str]:
        return {
            "oauth_consumer_key": self.credentials.consumer_key,
            "oauth_nonce": self._nonce(),
            "oauth_signature_method": SIGNATURE_METHOD,
            "oauth_timestamp": str(int(self._clock())),
            "oauth_token": self.credentials.token,
            "oauth_version": "1.0",
        }

    def authorization(
        self, method: str, url: str, body_params: Sequence[tuple[str, str]] = ()
    ) -> str:
        """`url` is the full request URL: its query parameters are signed too."""
        oauth = self.oauth_parameters()
        params = [*query_parameters(url), *body_params, *oauth.items()]
        base = signature_base_string(method, url, params)
        oauth["oauth_signature"] = hmac_sha1_signature(
            base, self.credentials.consumer_secret, self.credentials.token_secret
        )
        fields = ", ".join(
            f'{percent_encode(k)}="{percent_encode(v)}"' for k, v in sorted(oauth.items())
        )
        return f"OAuth {fields}"
