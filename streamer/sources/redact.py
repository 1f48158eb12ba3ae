"""Keep credentials out of logs and stats: URLs lose their user info and secret-looking
query values, and error texts lose every secret the source was given."""

from __future__ import annotations

from collections.abc import Iterable

from yarl import URL

# Query parameter names whose values are credentials in someone's API.
_SECRET_PARAMS = ("token", "key", "secret", "password", "passwd", "auth", "signature", "sig")
MASK = "***"


def redact_url(url: str | URL) -> str:
    try:
        parsed = URL(url) if isinstance(url, str) else url
    except (TypeError, ValueError):
        return "<unparsable url>"
    if parsed.user is not None or parsed.password is not None:
        parsed = parsed.with_user(None)
    if parsed.query:
        pairs = [
            (name, MASK if _looks_secret(name) else value) for name, value in parsed.query.items()
        ]
        parsed = parsed.with_query(pairs)
    return str(parsed)


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries (user info, secret-looking query values), so that error
    texts quoting the URL can be cleaned too."""
    try:
        parsed = URL(url)
    except (TypeError, ValueError):
        return []
    found = [v for v in (parsed.user, parsed.password) if v]
    found += [v for k, v in parsed.query.items() if _looks_secret(k) and v]
    return found


def _looks_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_PARAMS)


class Redactor:
    """Replaces each known secret in a text with ***; short strings are ignored so that a
    one-letter "secret" cannot mangle every message."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str, limit: int = 300) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = " ".join(text.split())  # one log line, whatever the server sent
        return text if len(text) <= limit else text[: limit - 1] + "…"
