"""Bluesky profiles from an AppView: `app.bsky.actor.getProfiles`, up to 25 DIDs a request.

Jetstream posts name their author by DID only; the AppView knows the handle, display name and
bio. The public AppView needs no credentials and rate-limits by IP, announcing its budget in
`RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (a Unix time in seconds). This
module makes one request and says what came back; when to ask, how fast, and what to do with
failures is `streamer.runtime.enrichment`'s business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aiohttp
import orjson
from yarl import URL

from streamer.sources.http_stream import USER_AGENT, describe_error
from streamer.sources.reconnect import Reason

__all__ = [
    "MAX_ACTORS",
    "AppViewClient",
    "AppViewError",
    "BskyProfile",
    "ProfilesAnswer",
    "RateLimit",
    "parse_profiles",
    "parse_rate_limit",
]

MAX_ACTORS = 25  # the lexicon's maxLength for `actors`
GET_PROFILES = "/xrpc/app.bsky.actor.getProfiles"
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # 25 profiles are a few tens of kB; more is not an answer
# The lexicon's maxLength of each field (bytes of UTF-8, so characters are never more).
MAX_HANDLE = 253
MAX_DISPLAY_NAME = 640
MAX_DESCRIPTION = 2560


@dataclass(frozen=True)
class BskyProfile:
    did: str
    handle: str | None
    display_name: str | None
    description: str | None  # the bio; None when the user wrote none


@dataclass(frozen=True)
class RateLimit:
    """The AppView's `RateLimit-*` headers; None where a header was absent or unreadable."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None  # Unix seconds


@dataclass(frozen=True)
class ProfilesAnswer:
    profiles: list[BskyProfile]
    missing: list[str]  # asked for, not answered: the DID no longer exists (or is hidden)
    rate_limit: RateLimit


class AppViewError(Exception):
    """A request that brought no answer: why (a reconnect Reason, for the back-off schedule),
    the HTTP status if there was one, and the rate-limit headers of a refusal."""

    def __init__(
        self,
        reason: Reason,
        detail: str,
        status: int | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status
        self.rate_limit = rate_limit or RateLimit()


def _header_number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if number >= 0 and number == number and number != float("inf") else None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimit:
    limit = _header_number(headers, "RateLimit-Limit")
    remaining = _header_number(headers, "RateLimit-Remaining")
    return RateLimit(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset=_header_number(headers, "RateLimit-Reset"),
    )


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def parse_profiles(body: bytes, asked: Sequence[str]) -> tuple[list[BskyProfile], list[str]]:
    """The profiles of a getProfiles answer that were asked for, and the DIDs it left out.
    Raises ValueError for a body that is not such an answer."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    items = data.get("profiles") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("no profiles list")
    wanted = set(asked)
    found: dict[str, BskyProfile] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        did = item.get("did")
        if not isinstance(did, str) or did not in wanted:
            continue  # never let an answer write a profile we did not ask about
        found[did] = BskyProfile(
            did,
            _text(item.get("handle"), MAX_HANDLE),
            _text(item.get("displayName"), MAX_DISPLAY_NAME),
            _text(item.get("description"), MAX_DESCRIPTION),
        )
    missing = [did for did in dict.fromkeys(asked) if did not in found]
    return list(found.values()), missing


class AppViewClient:
    """One getProfiles request at a time, each within `timeout` seconds."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.url = URL(base_url.rstrip("/") + GET_PROFILES)
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            )
        return self._session

    async def get_profiles(self, dids: Sequence[str]) -> ProfilesAnswer:
        if not 0 < len(dids) <= MAX_ACTORS:
            raise ValueError(f"getProfiles takes 1 to {MAX_ACTORS} actors, not {len(dids)}")
        url = self.url.with_query([("actors", did) for did in dids])
        try:
            async with self._client().get(url, allow_redirects=False) as resp:
                limits = parse_rate_limit(resp.headers)
                if resp.status in (420, 429):
                    raise AppViewError(Reason.RATE_LIMITED, "HTTP 429", resp.status, limits)
                if resp.status in (401, 403):
                    raise AppViewError(Reason.AUTH, f"HTTP {resp.status}", resp.status, limits)
                if resp.status != 200:
                    raise AppViewError(Reason.HTTP, f"HTTP {resp.status}", resp.status, limits)
                body = await resp.content.read(MAX_ANSWER_BYTES + 1)
        except AppViewError:
            raise
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise AppViewError(Reason.NETWORK, describe_error(exc)) from None
        if len(body) > MAX_ANSWER_BYTES:
            raise AppViewError(Reason.HTTP, "answer too large", 200, limits)
        try:
            profiles, missing = parse_profiles(body, dids)
        except ValueError as exc:
            raise AppViewError(Reason.HTTP, f"bad answer: {exc}", 200, limits) from None
        return ProfilesAnswer(profiles, missing, limits)
