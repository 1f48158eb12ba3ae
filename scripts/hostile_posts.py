"""Write an NDJSON file of hostile posts, to check that the input caps hold (README, "Input caps").

Every post is a valid v1.1 status with a point (so it reaches the maps) and a user with a bio
(so it reaches the user window); what makes it hostile is what strangers can put in it:

  giant-tag    one hashtag of --tag-bytes bytes (900 KB by default) among ordinary ones
  many-tags    --many hashtag entities (10,000 by default), each distinct
  max-tags     30 distinct hashtags of exactly the cap's length, the most a post may store
  blank-tags   whitespace-only tags, tags with newlines, escapes and bidi overrides inside
  escapes      terminal escapes in hashtags, the bio and the screen name
  giant-bio    a bio, screen name and text far over their caps, a user id too long to be one

    python scripts/hostile_posts.py --out hostile.ndjson --count 40
    tweetheat run --replay-file hostile.ndjson --rate max --exit-at-eof

Each kind takes --count posts in turn; the file is written in one pass, nothing held whole
(a 40-post giant-tag file is 36 MB).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

KINDS = ("giant-tag", "many-tags", "max-tags", "blank-tags", "escapes", "giant-bio")
ESCAPES = "\u001b]0;PWNED\u0007\u001b[2J"
CAP = 139  # streamer.ingest.limits.HASHTAG_MAX_CHARS (a script: no import of the product)


def status(n: int, text: str, tags: list[str], **user: Any) -> dict[str, Any]:
    """A v1.1 status in English with a point in the Atlantic and hashtag entities."""
    profile = {"id_str": f"9{n:08d}", "screen_name": f"hostile{n}", "description": "a bio"}
    profile.update(user)
    return {
        "id_str": f"1{n:018d}",
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "text": text,
        "lang": "en",
        "coordinates": {"type": "Point", "coordinates": [-30.0 + n % 50, 20.0 + n % 40]},
        "entities": {"hashtags": [{"text": tag} for tag in tags]},
        "user": profile,
    }


TEXT = "this is an ordinary english sentence about the weather and the news"


def giant_tag(n: int, args: argparse.Namespace) -> dict[str, Any]:
    return status(n, TEXT, [f"g{n}" + "x" * args.tag_bytes, "weather"])


def many_tags(n: int, args: argparse.Namespace) -> dict[str, Any]:
    return status(n, TEXT, [f"m{n}t{i}" for i in range(args.many)])


def max_tags(n: int, _args: argparse.Namespace) -> dict[str, Any]:
    # Distinct per post and per place, so that none of them ranks above another.
    return status(n, TEXT, [f"{n:05d}{i:03d}".ljust(CAP, "z") for i in range(30)])


def blank_tags(n: int, _args: argparse.Namespace) -> dict[str, Any]:
    return status(n, TEXT, ["   ", "\t", "two\nlines", f"rtl\u202e{n}", ESCAPES, "fine"])


def escapes(n: int, _args: argparse.Namespace) -> dict[str, Any]:
    bio = f"hello\nkmeans: 999\n{ESCAPES}"
    return status(n, f"{TEXT} #{ESCAPES}", [ESCAPES, "ok"], description=bio, screen_name=ESCAPES)


def giant_bio(n: int, args: argparse.Namespace) -> dict[str, Any]:
    # Each field a third of the giant size, so the line stays under the line cap and is read.
    post = status(
        n,
        TEXT + " word" * (args.tag_bytes // 15),
        ["bio"],
        description="b" * (args.tag_bytes // 3),
        screen_name="s" * 10_000,
    )
    if n % 2:
        post["user"]["id_str"] = "7" * 100_000
    return post


MAKERS: dict[str, Callable[[int, argparse.Namespace], dict[str, Any]]] = {
    "giant-tag": giant_tag,
    "many-tags": many_tags,
    "max-tags": max_tags,
    "blank-tags": blank_tags,
    "escapes": escapes,
    "giant-bio": giant_bio,
}


def hostile_lines(args: argparse.Namespace) -> Iterator[bytes]:
    n = 0
    for kind in args.kinds:
        for _ in range(args.count):
            n += 1
            yield orjson.dumps(MAKERS[kind](n, args))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", required=True, help="the NDJSON file ('-' for stdout)")
    parser.add_argument("--count", type=int, default=40, help="posts of each kind")
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--tag-bytes", type=int, default=900_000, help="giant tag and bio size")
    parser.add_argument("--many", type=int, default=10_000, help="entities in a many-tags post")
    args = parser.parse_args(argv)
    out = sys.stdout.buffer if args.out == "-" else Path(args.out).open("wb")  # noqa: SIM115
    try:
        for line in hostile_lines(args):
            out.write(line + b"\n")
    finally:
        if out is not sys.stdout.buffer:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
