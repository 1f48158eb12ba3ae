# ruff: noqa: RUF001  (look-alike characters are what some of the texts test)
"""The fast paths of issue 7, each against the plain path it replaces: they must give the same
lines, records, Redis entries and language decisions, only cheaper."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import pickle
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pytest
import redis

from streamer.core.records import (
    Detected,
    PackedRecords,
    PackedUsers,
    Post,
    UserSeen,
    pack_records,
    pack_users,
    seen_id,
)
from streamer.delivery.journal import Entry
from streamer.ingest import worker
from streamer.ingest.langid import word_model
from streamer.ingest.langid.default import build_default_detector
from streamer.ingest.langid.evidence import leader
from streamer.ingest.langid.tweet_text import strip_noise
from streamer.ingest.parser import parse_payload
from streamer.runtime.periodic import cancel_all
from streamer.runtime.pipeline import _part
from streamer.sources.base import LineBlock
from streamer.sources.demo_corpus import CORPUS
from streamer.sources.generator import generate
from streamer.sources.lines import LineSplitter
from streamer.sources.replay import ReplaySource, _blocks_of
from streamer.storage.connections import redis_client
from streamer.storage.keys import Keys
from streamer.storage.store import Store, encode_point
from tests.unit.test_langid_shortcuts import strip_noise_the_long_way
from tests.unit.test_parser import jetstream, v1_tweet, v2_message

# --- reading: LineSplitter.feed_block and LineBlocks ---------------------------------------


def random_input(rnd: random.Random) -> bytes:
    parts = []
    for _ in range(rnd.randint(0, 40)):
        body = rnd.choice([b"", b"x", b"abc", b"y" * 9, b"z" * 14, b"w" * 70])
        parts.append(
            body + (b"\r\n" if rnd.random() < 0.1 else b"\n" if rnd.random() < 0.8 else b"")
        )
    return b"".join(parts)


def reads_of(data: bytes, rnd: random.Random) -> Iterator[bytes]:
    at = 0
    while at < len(data):
        n = rnd.randint(1, 50)
        yield data[at : at + n]
        at += n


@pytest.mark.parametrize("seed", range(300))
def test_feed_block_gives_the_lines_feed_gives_with_the_same_cuts_and_positions(seed: int) -> None:
    rnd = random.Random(seed)
    limit = rnd.choice([5, 12, 60, 1000])
    size = rnd.choice([1, 2, 3, 1000])
    data = random_input(rnd)
    start = rnd.choice([0, 17])
    plain, fast = LineSplitter(limit, offset=start), LineSplitter(limit, offset=start)
    lines, ends, got, got_ends = [], [], [], []
    for read in reads_of(data, rnd):
        lines += plain.feed(read)
        ends += plain.ends
        buffer = fast.feed_block(read)
        if limit == 1000 and buffer:  # nothing cut: the input's own bytes
            assert data[fast.block_end - start - len(buffer) : fast.block_end - start] == buffer
        for block, end in _blocks_of(buffer, fast.block_end, size):
            assert 1 <= len(block) <= size
            got += list(block)
            got_ends.append((len(got), end))
    assert lines + plain.close() == got + fast.close()
    assert plain.offset == fast.offset
    for count, end in got_ends:  # each block ends where its last line ends
        assert ends[count - 1] == end


def test_a_line_block_reads_as_its_lines() -> None:
    block = LineBlock(b"a\n\nbc\r\n", 3)
    assert len(block) == 3
    assert list(block) == [b"a", b"", b"bc\r"]
    assert block[2] == b"bc\r" and block[:2] == [b"a", b""]


def test_a_file_is_read_in_blocks_that_end_where_their_position_says(tmp_path: Path) -> None:
    rnd = random.Random(7)
    lines = [orjson.dumps({"text": "x" * rnd.randint(0, 3000), "n": n}) for n in range(3000)]
    path = tmp_path / "in.ndjson"
    path.write_bytes(b"\n".join(lines) + b"\n")
    data = path.read_bytes()
    with gzip.open(tmp_path / "in.ndjson.gz", "wb") as fh:
        fh.write(data)
    for name in ("in.ndjson", "in.ndjson.gz"):
        src = ReplaySource([str(tmp_path / name)])
        got: list[bytes] = []

        async def collect(src: ReplaySource = src, got: list[bytes] = got) -> None:
            async for chunk in src.chunks():
                assert isinstance(chunk, LineBlock) and 1 <= len(chunk) <= 1000
                assert _part(chunk) == chunk.data
                got.extend(chunk)
                position = src.position()
                assert position is not None
                # The position is just past the block's last line: a resume repeats nothing.
                assert data[: position["offset"]] == b"".join(line + b"\n" for line in got)

        asyncio.run(collect())
        assert got == lines, name
    assert _part([b"a", b"b"]) == [b"a", b"b"]


# --- the pool process: process_parts -----------------------------------------------------


@pytest.fixture(scope="module")
def pool_process() -> Iterator[None]:
    """This process as a pool process (without its signal and parent-watch set-up)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(worker, "prepare_pool_process", lambda pid: None)
        patch.setattr(worker, "_chooser", None)
        worker.init_worker("default", None, os.getpid())
        yield


def sample_lines() -> list[bytes]:
    tagged = v1_tweet(text="Good morning #Coffee lovers", lang="en")
    return [line for line, _ in generate(300, 3, 0.3)] + [
        orjson.dumps(tagged),
        orjson.dumps(v1_tweet(text="Bonjour à tous, il fait très beau aujourd'hui")),
        orjson.dumps(v2_message({"text": "東京タワーに行きました #旅行"})),
        orjson.dumps(jetstream({"text": "Learning Python today", "langs": ["en"]})),
        b'{"delete":{"status":{"id":1}}}',
        b"not json",
        b"",
        orjson.dumps({"text": "a bare post #Tag"}),
    ]


def same(a: worker.PackedBatch, b: worker.PackedBatch) -> bool:
    return (a.records, a.skipped, a.samples, a.users, a.lang_sources) == (
        b.records, b.skipped, b.samples, b.users, b.lang_sources,
    )  # fmt: skip


def test_process_parts_packs_what_process_batch_finds(pool_process: None) -> None:
    lines = sample_lines() * 2
    plain = worker.process_batch(lines)
    expected = worker.PackedBatch(
        pack_records(plain.records), plain.skipped, plain.samples,
        pack_users(plain.users), plain.lang_sources,
    )  # fmt: skip
    buffer = b"\n".join(lines) + b"\n"
    for parts in (
        [lines],
        [buffer],
        [lines[:5], b"\n".join(lines[5:]) + b"\n"],
        pickle.loads(pickle.dumps([buffer])),
    ):
        assert same(worker.process_parts(parts), expected), parts
    # Unpacked, a record's id is the de-duplication key it names (seen_id keeps those as they
    # are); the rest is the record itself.
    keyed = [r._replace(id=seen_id(r.id) if r.id else None) for r in plain.records]
    assert list(expected.records) == keyed
    assert len(expected.records) == len(plain.records)


# --- packed records, users and the journal -----------------------------------------------

LONG_ID = "at://did:plc:" + "x" * 80 + "/app.bsky.feed.post/1"
RECORDS = [
    Detected("en", ("a", "b"), (1.0, 2.0), "1"),
    Detected("ja", ("東京", 'q"uote'), None, LONG_ID),
    Detected("und", (), (-33.868819, 151.209295), None),
    Detected("ar", ("x\\y",), (1e-06, -0.5), ""),
]


def test_packed_records_unpack_to_what_the_commit_needs() -> None:
    packed = pack_records(RECORDS)
    assert len(packed) == 4
    rows = orjson.loads(packed.data)
    assert rows[0] == ["1", "en", "[1.0,2.0]", "a", "b"]
    assert rows[1][0] == seen_id(LONG_ID) and len(rows[1][0]) <= 64
    back = packed.unpack()
    assert [(r.lang, r.hashtags, r.geo) for r in back] == [
        (r.lang, r.hashtags, r.geo) for r in RECORDS
    ]
    # Ids come back as the de-duplication key they name, which seen_id keeps as it is.
    assert [r.id for r in back] == ["1", seen_id(LONG_ID), None, None]
    assert [seen_id(r.id) for r in back if r.id] == [r[0] for r in rows if r[0]]
    assert pickle.loads(pickle.dumps(packed)) == packed
    assert pickle.loads(pickle.dumps(pack_users([]))) == PackedUsers(b"[]", 0)


def test_the_journal_keeps_packed_batches_and_reads_old_ones() -> None:
    packed = Entry(7, {"offset": 3}, {"lines": 4}, pack_records(RECORDS))
    raw = orjson.loads(packed.encode())
    assert raw[0] == "b" and raw[-1] == 1
    again = Entry.decode(raw)
    assert isinstance(again.records, PackedRecords)
    assert (again.seq, again.position, again.counters) == (7, {"offset": 3}, {"lines": 4})
    assert again.records.data == packed.records.data  # type: ignore[union-attr, attr-defined]
    old = Entry(8, None, {}, RECORDS)
    assert orjson.loads(old.encode())[-1] != 1  # a Detected list is written as before
    assert Entry.decode(orjson.loads(old.encode())).records == RECORDS


def test_packed_and_plain_commits_store_the_same(redis_url: str) -> None:
    async def go() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        stored = []
        for prefix, records in (("pa:", RECORDS), ("pb:", pack_records(RECORDS))):
            client = redis_client(redis_url)
            store = Store(client, Keys(prefix))
            await store.commit_batch("r", 1, records, {"lines": 5}, {"o": 1}, now=1234.5)
            await client.aclose()
            raw = redis.Redis.from_url(redis_url, decode_responses=True)
            keys = sorted(k for k in raw.keys(prefix + "*") if "checkpoint" not in k)
            stored.append(
                {
                    k[len(prefix) :]: raw.lrange(k, 0, -1)
                    if raw.type(k) == "list"
                    else sorted(map(str, raw.hgetall(k).items()))
                    if raw.type(k) == "hash"
                    else sorted(raw.smembers(k))
                    for k in keys
                }
            )
        return stored[0], stored[1]

    plain, packed = asyncio.run(go())
    assert plain == packed
    assert plain["geo_en"] == [encode_point((1.0, 2.0), 1234).decode()]
    assert plain["geo_ar"] == [encode_point((1e-06, -0.5), 1234).decode()]
    assert plain["hashtag_ja"] == ["東京", 'q"uote']


def test_users_are_stored_as_they_always_were(redis_url: str) -> None:
    users = [
        UserSeen("1", "ann", 'Coffee "addict", recipes ☕', "en"),
        UserSeen("2", None, "", None),
        UserSeen("3", "bob\\", "line\nbreak", "ja"),
    ]
    now = 1_764_067_287.123456

    async def go() -> None:
        client = redis_client(redis_url)
        store = Store(client, Keys("us:"))
        await store.update_users(pack_users(users), now)
        await store.update_users(users[:1], now + 1)  # a plain list still works
        await client.aclose()

    asyncio.run(go())
    raw = redis.Redis.from_url(redis_url)
    values = raw.hgetall("us:users")
    expected = {
        u.user_id.encode(): orjson.dumps([u.screen_name, u.bio, u.lang, round(now, 3)])
        for u in users[1:]
    }
    expected[b"1"] = orjson.dumps(["ann", users[0].bio, "en", round(now + 1, 3)])
    assert values == expected
    assert dict(raw.zrange("us:users:seen", 0, -1, withscores=True)) == {
        b"2": now,
        b"3": now,
        b"1": now + 1,
    }


# --- the event loop ------------------------------------------------------------------------


def test_stopping_outlasts_a_task_that_swallows_its_cancellation() -> None:
    async def stubborn(ended: list[str]) -> None:
        with contextlib.suppress(asyncio.CancelledError):  # as redis-py can, mid-command
            await asyncio.sleep(60)
        try:
            await asyncio.sleep(60)
        finally:
            ended.append("stubborn")

    async def go() -> list[str]:
        ended: list[str] = []
        tasks = [asyncio.create_task(stubborn(ended)), asyncio.create_task(asyncio.sleep(60))]
        await asyncio.sleep(0)
        async with asyncio.timeout(10):
            await cancel_all(tasks)
        assert all(t.done() for t in tasks)
        return ended

    assert asyncio.run(go()) == ["stubborn"]


# --- language detection: the same answers, faster ----------------------------------------


def reference_leader(costs: np.ndarray) -> tuple[int, int]:
    best = int(np.argmin(costs))
    if len(costs) == 1:
        return best, np.iinfo(np.int32).max
    return best, int(np.partition(costs, 1)[1]) - int(costs[best])


def test_leader_matches_numpy() -> None:
    rnd = np.random.default_rng(1)
    for n in (1, 2, 3, 13, 27):
        for _ in range(300):
            costs = rnd.integers(0, 40, size=n).astype(np.int32)  # plenty of ties
            assert leader(costs.tolist()) == reference_leader(costs)


@pytest.fixture(scope="module")
def detector():  # type: ignore[no-untyped-def]
    return build_default_detector(None)


def texts() -> list[str]:
    out = [text for corpus in CORPUS.values() for text in corpus.sentences]
    out += [
        item.text
        for line, _ in generate(2000, 5, 0.3)
        if isinstance(item := parse_payload(line), Post)
    ]
    out += [
        "RT @someone: Check https://t.co/abc #HumanRights now!!! www.example.com",
        "l'homme d'État est arrivé à Paris… ’quoted’ İstanbul’da",
        "Привет всем #МирТруд 123",
        "",
        "   ",
        "a.b.com mail@x.org ＠user ＃タグ",
    ]
    return out


def test_restricted_word_costs_are_the_full_tables_columns(detector) -> None:  # type: ignore[no-untyped-def]
    words = detector._models.words
    rows = words.rows_of(word_model.lookup_words("the house of the rising sun est la maison"))
    assert rows
    for candidates in (words.languages, words.languages[:3], words.languages[::-2]):
        columns = [words.languages.index(c) for c in candidates]
        table = words.restricted(candidates)
        assert (words.summed_costs(table, rows) == words.costs(rows)[columns]).all()


def reference_lookup_words(text: str) -> list[str]:
    if text.isascii():
        return word_model._ASCII_WORD.findall(text.lower())
    table = str.maketrans(word_model._BEFORE_FOLDING)
    text = text.translate(table).casefold()
    if word_model._ABJAD.search(text):
        text = word_model._ABJAD_MARKS.sub("", unicodedata.normalize("NFKC", text))
    return word_model._WORD.findall(text)


def test_text_preparation_matches_the_plain_way() -> None:
    for text in texts():
        assert strip_noise(text) == strip_noise_the_long_way(text), text
        cleaned = strip_noise(text)
        assert word_model.lookup_words(cleaned) == reference_lookup_words(cleaned), text
