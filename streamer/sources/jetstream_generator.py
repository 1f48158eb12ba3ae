"""Synthetic Bluesky Jetstream events, deterministic for a seed: the demo's other format.

The mix is the one a Jetstream subscriber sees: mostly new posts (replies, quotes, images,
external links, one or two languages, facets marking mentions, links and tags, and some
posts whose tags are only in the text, as clients without rich-text detection write them),
then post deletes, profile updates, likes, reposts and follows, `identity` events and
`account` events (a few of them accounts taken down or deactivated). DIDs look like
`did:plc:` and 24 base32 characters, record keys are TIDs, and `time_us` grows like a cursor.

Authors' profiles are not in the stream, as on the real one: `demo_profile(did)` makes one
from the DID alone, so the demo's stand-in AppView (`streamer.sources.demo_appview`) can
answer for any author without sharing state with this generator.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from streamer.sources.demo_corpus import BIO_TOPICS, CORPUS
from streamer.sources.demo_locations import CITY_FORMS

__all__ = ["JetstreamTruth", "demo_profile", "generate_jetstream", "make_did", "make_tid"]

USERS_PER_LANGUAGE = 150
STREAM_RATE = 50.0  # events per second, for time_us spacing
DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
UNKNOWN_SHARE = 0.04  # authors the AppView no longer knows
NO_BIO_SHARE = 0.1  # authors who wrote no bio
# Of bios: a last line that says where the author is ("📍 Madrid", "based in Osaka"). Bluesky
# has no location field; this is the share of v1.1 authors who name a place (~40%) times the
# share of those who would put it in a bio (~30%), an assumption, not a measurement.
PLACED_BIO_SHARE = 0.12
_PLACE_MARKERS = ("📍 ", "📍", "based in ")

# Event kinds and their shares (the rest are posts).
_SHARES = (
    ("delete", 0.03),
    ("profile", 0.02),
    ("like", 0.05),
    ("repost", 0.03),
    ("follow", 0.02),
    ("identity", 0.01),
    ("account", 0.01),
)
_B32 = "abcdefghijklmnopqrstuvwxyz234567"  # did:plc's alphabet
_S32 = "234567abcdefghijklmnopqrstuvwxyz"  # TIDs' sortable alphabet
_LANGS = tuple(CORPUS)
_LANG_WEIGHTS = tuple(CORPUS[lang].share for lang in _LANGS)
_GONE_STATUSES = ("takendown", "deactivated", "deleted", "suspended")
_WORDS = ("sun", "moss", "kite", "river", "ember", "fern", "atlas", "pixel", "otter", "comet")


class JetstreamTruth(NamedTuple):
    """What one generated event means. kind: post, delete, profile, like, repost, follow,
    identity, account (still active) or account_gone."""

    kind: str
    did: str
    id: str | None  # a post's at:// URI
    lang: str | None
    hashtags: tuple[str, ...]  # lower-cased, as they must land in Redis


def make_did(rng: random.Random) -> str:
    return "did:plc:" + "".join(rng.choices(_B32, k=24))


def make_tid(time_us: int, clock_id: int) -> str:
    """A record key: 53 bits of microseconds and 10 of clock id, in sortable base32."""
    value = ((time_us & ((1 << 53) - 1)) << 10) | (clock_id & 1023)
    chars = []
    for _ in range(13):
        chars.append(_S32[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def demo_profile(did: str) -> dict[str, Any] | None:
    """The profile the demo AppView shows for `did` (a profileViewDetailed subset), or None
    for an author it no longer knows. A pure function of the DID."""
    rng = random.Random(f"profile:{did}")
    if rng.random() < UNKNOWN_SHARE:
        return None
    topic = rng.choice(sorted(BIO_TOPICS))
    word = rng.choice(_WORDS)
    handle = f"{word}-{topic}{rng.randint(1, 9999)}.bsky.social"
    profile: dict[str, Any] = {
        "did": did,
        "handle": handle,
        "displayName": f"{word.title()} {topic.title()}",
        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei{did[-12:]}@jpeg",
        "associated": {"lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": False},
        "labels": [],
        "createdAt": "2024-11-12T08:30:00.000Z",
        "indexedAt": "2025-03-01T10:00:00.000Z",
        "followersCount": int(rng.paretovariate(1.2) * 40),
        "followsCount": rng.randint(10, 900),
        "postsCount": rng.randint(1, 20_000),
    }
    if rng.random() >= NO_BIO_SHARE:
        phrases = rng.sample(BIO_TOPICS[topic], 2)
        lang = rng.choices(_LANGS, _LANG_WEIGHTS)[0]
        line = rng.choice(CORPUS[lang].bio_lines)
        profile["description"] = f"{phrases[0].capitalize()} · {phrases[1]} · {line}"
        if rng.random() < PLACED_BIO_SHARE:
            city = rng.choice(CORPUS[lang].cities).name
            form = rng.choice(CITY_FORMS.get(city, (city,))).removeprefix("📍").strip()
            profile["description"] += f"\n{rng.choice(_PLACE_MARKERS)}{form}"
    return profile


def generate_jetstream(
    count: int, seed: int = 1, start: datetime | None = None
) -> Iterator[tuple[bytes, JetstreamTruth]]:
    """Yield `count` (event line without newline, truth) pairs. Same seed, same lines."""
    return _Generator(seed, start or DEFAULT_EPOCH + timedelta(days=seed)).run(count)


class _Generator:
    def __init__(self, seed: int, start: datetime) -> None:
        self.rng = random.Random(f"jetstream:{seed}")
        self.start_us = int(start.timestamp() * 1_000_000)
        self.users = {
            lang: [make_did(self.rng) for _ in range(USERS_PER_LANGUAGE)] for lang in _LANGS
        }
        self.all_users = [did for dids in self.users.values() for did in dids]
        self.tag_weights = {
            lang: [1.0 / (rank + 1) ** 1.1 for rank in range(len(CORPUS[lang].hashtags))]
            for lang in _LANGS
        }
        self.posts: list[tuple[str, str]] = []  # (did, rkey) of recent posts, for deletes

    def run(self, count: int) -> Iterator[tuple[bytes, JetstreamTruth]]:
        for i in range(count):
            time_us = self.start_us + int(i * 1_000_000 / STREAM_RATE) + self.rng.randint(0, 999)
            roll = self.rng.random()
            kind = "post"
            for name, share in _SHARES:
                if roll < share:
                    kind = name
                    break
                roll -= share
            if kind == "delete" and not self.posts:
                kind = "post"
            event, truth = getattr(self, f"_{kind}")(time_us)
            yield orjson.dumps(event), truth

    # --- events ------------------------------------------------------------------------

    def _commit(
        self, did: str, time_us: int, operation: str, collection: str, rkey: str, record: Any
    ) -> dict[str, Any]:
        commit: dict[str, Any] = {
            "rev": make_tid(time_us, self.rng.randint(0, 1023)),
            "operation": operation,
            "collection": collection,
            "rkey": rkey,
        }
        if record is not None:
            commit["record"] = record
            commit["cid"] = "bafyrei" + "".join(self.rng.choices(_B32, k=52))
        # Jetstream writes did, time_us and kind first: the source finds the cursor early.
        return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit}

    def _ref(self) -> dict[str, str]:
        did = self.rng.choice(self.all_users)
        rkey = make_tid(self.start_us - self.rng.randint(1, 10**10), self.rng.randint(0, 1023))
        return {
            "cid": "bafyrei" + "".join(self.rng.choices(_B32, k=52)),
            "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        }

    def _post(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        rng = self.rng
        lang = rng.choices(_LANGS, _LANG_WEIGHTS)[0]
        did = rng.choice(self.users[lang])
        rkey = make_tid(time_us, rng.randint(0, 1023))
        corpus = CORPUS[lang]
        text = (". " if lang != "ja" else "。").join(
            rng.sample(corpus.sentences, rng.choice((1, 1, 2)))
        )
        facets: list[dict[str, Any]] = []
        if rng.random() < 0.15:  # a mention, marked by a facet
            handle = f"{rng.choice(_WORDS)}.bsky.social"
            facets.append(_facet(0, len(handle) + 1, "mention", did=rng.choice(self.all_users)))
            text = f"@{handle} {text}"
        if rng.random() < 0.1:  # a link, marked by a facet
            link = f"https://example.com/{rng.choice(_WORDS)}"
            start = len(text.encode()) + 1
            facets.append(_facet(start, start + len(link.encode()), "link", uri=link))
            text += " " + link
        n_tags = rng.choices((0, 1, 2, 3), (40, 35, 18, 7))[0]
        tags: list[str] = []
        while len(tags) < n_tags:
            tag = rng.choices(corpus.hashtags, self.tag_weights[lang])[0]
            if tag not in tags:
                tags.append(tag)
        # A fifth of tagged posts come from clients that mark nothing: tags only in the text.
        text_only = bool(tags) and rng.random() < 0.2
        if text_only:
            facets = []
        for tag in tags:
            start = len(text.encode()) + 1
            text += f" #{tag}"
            if not text_only:
                facets.append(_facet(start, start + 1 + len(tag.encode()), "tag", tag=tag))
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "createdAt": _iso(time_us - rng.randint(0, 2_000_000)),
            "langs": [lang] if rng.random() < 0.9 else [lang, "en"],
            "text": text,
        }
        if facets:
            record["facets"] = facets
        embed = rng.random()
        if embed < 0.12:
            record["embed"] = _images(rng, did)
        elif embed < 0.2:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": self._ref()}
        elif embed < 0.25:
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": "https://example.com/story", "title": "A story",
                             "description": "What happened today"},
            }  # fmt: skip
        elif embed < 0.28:
            record["embed"] = {
                "$type": "app.bsky.embed.recordWithMedia",
                "record": {"$type": "app.bsky.embed.record", "record": self._ref()},
                "media": _images(rng, did),
            }
        if rng.random() < 0.25:
            root = self._ref()
            record["reply"] = {"root": root, "parent": root if rng.random() < 0.5 else self._ref()}
        self.posts.append((did, rkey))
        if len(self.posts) > 5000:
            del self.posts[:1000]
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        event = self._commit(did, time_us, "create", "app.bsky.feed.post", rkey, record)
        return event, JetstreamTruth("post", did, uri, lang, tuple(t.lower() for t in tags))

    def _delete(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        did, rkey = self.posts.pop(self.rng.randrange(len(self.posts)))
        event = self._commit(did, time_us, "delete", "app.bsky.feed.post", rkey, None)
        return event, JetstreamTruth("delete", did, None, None, ())

    def _profile(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        did = self.rng.choice(self.all_users)
        shown = demo_profile(did) or {}
        record: dict[str, Any] = {"$type": "app.bsky.actor.profile",
                                  "displayName": shown.get("displayName", "")}  # fmt: skip
        if "description" in shown:
            record["description"] = shown["description"]
        event = self._commit(did, time_us, "update", "app.bsky.actor.profile", "self", record)
        return event, JetstreamTruth("profile", did, None, None, ())

    def _subject_record(self, collection: str, time_us: int) -> dict[str, Any]:
        subject: Any = self._ref()
        if collection == "app.bsky.graph.follow":
            subject = self.rng.choice(self.all_users)
        return {"$type": collection, "createdAt": _iso(time_us), "subject": subject}

    def _other(self, time_us: int, kind: str, collection: str) -> tuple[Any, JetstreamTruth]:
        did = self.rng.choice(self.all_users)
        rkey = make_tid(time_us, self.rng.randint(0, 1023))
        record = self._subject_record(collection, time_us)
        return (
            self._commit(did, time_us, "create", collection, rkey, record),
            JetstreamTruth(kind, did, None, None, ()),
        )

    def _like(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        return self._other(time_us, "like", "app.bsky.feed.like")

    def _repost(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        return self._other(time_us, "repost", "app.bsky.feed.repost")

    def _follow(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        return self._other(time_us, "follow", "app.bsky.graph.follow")

    def _identity(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        did = self.rng.choice(self.all_users)
        handle = (demo_profile(did) or {}).get("handle", "handle.invalid")
        event = {"did": did, "time_us": time_us, "kind": "identity",
                 "identity": {"did": did, "handle": handle, "seq": time_us // 1000,
                              "time": _iso(time_us)}}  # fmt: skip
        return event, JetstreamTruth("identity", did, None, None, ())

    def _account(self, time_us: int) -> tuple[dict[str, Any], JetstreamTruth]:
        # Accounts that go are fresh DIDs: the demo's authors keep posting.
        gone = self.rng.random() < 0.5
        did = make_did(self.rng) if gone else self.rng.choice(self.all_users)
        account: dict[str, Any] = {"active": not gone, "did": did, "seq": time_us // 1000,
                                   "time": _iso(time_us)}  # fmt: skip
        if gone:
            account["status"] = self.rng.choice(_GONE_STATUSES)
        event = {"did": did, "time_us": time_us, "kind": "account", "account": account}
        return event, JetstreamTruth("account_gone" if gone else "account", did, None, None, ())


def _facet(start: int, end: int, kind: str, **value: str) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": start, "byteEnd": end},
        "features": [{"$type": f"app.bsky.richtext.facet#{kind}", **value}],
    }


def _images(rng: random.Random, did: str) -> dict[str, Any]:
    return {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "alt": "",
                "aspectRatio": {"height": 1000, "width": 750},
                "image": {
                    "$type": "blob",
                    "ref": {"$link": "bafkrei" + "".join(rng.choices(_B32, k=52))},
                    "mimeType": "image/jpeg",
                    "size": rng.randint(50_000, 900_000),
                },
            }
            for _ in range(rng.choice((1, 1, 2, 4)))
        ],
    }


def _iso(time_us: int) -> str:
    moment = datetime.fromtimestamp(time_us / 1_000_000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
