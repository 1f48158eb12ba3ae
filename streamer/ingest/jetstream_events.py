"""Every Bluesky Jetstream event, read or skipped with a named reason.

A Jetstream event is `{"did", "time_us", "kind", ...}`:

* `commit` events carry a repository write, `{"operation", "collection", "rkey", "record"}`:
  new posts (`app.bsky.feed.post`, with or without reply, quote and media embeds) become
  Posts; profile records (`app.bsky.actor.profile`) become Profiles (a bio for the user
  window); post deletes count as `delete`, post updates as `post_update`, profile deletes as
  `profile_delete`, a profile without a description as `profile_no_bio`, any other
  collection (likes, reposts, follows, ...) as `other_collection`;
* `identity` events (a handle or DID document changed) count as `identity`;
* `account` events count as `account` while the account is active; one that is not
  (`"active": false`, status takendown, deactivated, deleted, suspended, ...) becomes an
  AccountGone: the daemon removes the user's entry and cached profile;
* any other kind counts as `unknown_kind`.

Posts and profiles carry no location and no handle: a post's author is only a DID, which the
daemon's profile enrichment looks up (`streamer.runtime.enrichment`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from streamer.core.records import (
    ACCOUNT,
    ACCOUNT_GONE,
    DELETE,
    IDENTITY,
    OTHER_COLLECTION,
    POST_UPDATE,
    PROFILE_DELETE,
    PROFILE_NO_BIO,
    UNKNOWN_KIND,
    WRONG_TYPE,
    AccountGone,
    Post,
    Profile,
    Skip,
)
from streamer.ingest.bsky_tags import clean_bsky_tags, extract_bsky_tags

__all__ = ["POST_COLLECTION", "PROFILE_COLLECTION", "is_jetstream_event", "parse_event"]

POST_COLLECTION = "app.bsky.feed.post"
PROFILE_COLLECTION = "app.bsky.actor.profile"

Obj = dict[str, Any]
NormalizeTime = Callable[[object], str | None]


def is_jetstream_event(payload: Obj) -> bool:
    return "did" in payload and "kind" in payload


def parse_event(event: Obj, normalize_time: NormalizeTime) -> Post | Profile | AccountGone | Skip:
    """One decoded Jetstream event. `normalize_time` is the parser's ISO 8601 normalizer."""
    kind = event.get("kind")
    if kind == "commit":
        return _commit(event, normalize_time)
    if kind == "identity":
        return Skip(IDENTITY)
    if kind == "account":
        return _account(event)
    return Skip(UNKNOWN_KIND, f"jetstream kind {_brief(kind)}")


def _commit(event: Obj, normalize_time: NormalizeTime) -> Post | Profile | Skip:
    commit = event.get("commit")
    if not isinstance(commit, dict):
        return Skip(WRONG_TYPE, "jetstream commit is not an object")
    collection, operation = commit.get("collection"), commit.get("operation")
    if not isinstance(collection, str) or not isinstance(operation, str):
        return Skip(WRONG_TYPE, "jetstream commit without collection or operation")
    if collection == POST_COLLECTION:
        if operation == "create":
            return _post(event, commit, normalize_time)
        if operation == "delete":
            return Skip(DELETE)
        return Skip(POST_UPDATE)
    if collection == PROFILE_COLLECTION:
        if operation == "delete":
            return Skip(PROFILE_DELETE)
        return _profile(event, commit)
    return Skip(OTHER_COLLECTION)


def _post(event: Obj, commit: Obj, normalize_time: NormalizeTime) -> Post | Skip:
    record = commit.get("record")
    text = record.get("text") if isinstance(record, dict) else None
    if not isinstance(record, dict) or not isinstance(text, str):
        return Skip(WRONG_TYPE, "jetstream record text is not a string")
    facets = record.get("facets")
    extra = record.get("tags")
    for value, name in ((facets, "facets"), (extra, "tags")):
        if value is not None and not isinstance(value, list):
            return Skip(WRONG_TYPE, f"record.{name} is not a list")
    did = _str(event.get("did"))
    rkey = _str(commit.get("rkey"))
    langs = record.get("langs")
    return Post(
        id=f"at://{did}/{POST_COLLECTION}/{rkey}" if did and rkey else None,
        created_at=normalize_time(record.get("createdAt")),
        text=text,
        hashtags=_tags(facets, extra, text),
        geo=None,  # Bluesky posts carry no location
        user_id=did,
        screen_name=None,
        bio=None,
        platform_lang=_str(langs[0]) if isinstance(langs, list) and langs else None,
    )


def _tags(facets: list[Any] | None, extra: list[Any] | None, text: str) -> tuple[str, ...]:
    """Facet tags, then the record's own tags; the text only when the record has neither."""
    if facets is None and extra is None:
        return extract_bsky_tags(text)
    return clean_bsky_tags([*_facet_tags(facets or []), *(extra or [])])


def _facet_tags(facets: list[Any]) -> Iterable[object]:
    for facet in facets:
        features = facet.get("features") if isinstance(facet, dict) else None
        if not isinstance(features, list):
            continue
        for feature in features:
            if isinstance(feature, dict) and (_str(feature.get("$type")) or "").endswith("#tag"):
                yield feature.get("tag")


def _profile(event: Obj, commit: Obj) -> Profile | Skip:
    record = commit.get("record")
    did = _str(event.get("did"))
    if not isinstance(record, dict) or not did:
        return Skip(WRONG_TYPE, "jetstream profile without did or record")
    bio = _str(record.get("description"))
    if bio is None:
        return Skip(PROFILE_NO_BIO)
    return Profile(user_id=did, screen_name=_str(record.get("displayName")), bio=bio)


def _account(event: Obj) -> AccountGone | Skip:
    account = event.get("account")
    did = _str(event.get("did"))
    if not isinstance(account, dict) or not did:
        return Skip(WRONG_TYPE, "jetstream account event without did or account")
    active = account.get("active")
    if active is True:
        return Skip(ACCOUNT)
    if active is False:
        status = _str(account.get("status")) or "inactive"
        return AccountGone(did, status[:64])
    return Skip(WRONG_TYPE, "jetstream account.active is not a boolean")


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _brief(value: object) -> str:
    return repr(value)[:40]


# The skip reasons this module can give, for documentation and tests.
REASONS = (
    DELETE,
    POST_UPDATE,
    PROFILE_DELETE,
    PROFILE_NO_BIO,
    OTHER_COLLECTION,
    IDENTITY,
    ACCOUNT,
    ACCOUNT_GONE,
    UNKNOWN_KIND,
    WRONG_TYPE,
)
