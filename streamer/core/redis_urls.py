"""The `redis+cluster://` URL form: what the configuration checks and the cluster client reads.

redis+cluster://host:port[,host:port...]          plain TCP
redis+cluster://[user]:password@host:port,...     with AUTH (percent-encode odd characters)
rediss+cluster://host:port,...                    TLS
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
DEFAULT_PORT = 6379


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


@dataclass(frozen=True)
class ClusterUrl:
    nodes: tuple[tuple[str, int], ...]
    username: str | None
    password: str | None
    tls: bool


_NODE = re.compile(r"(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]/]+))(?::(?P<port>\d{1,5}))?")


def parse_cluster_url(url: str) -> ClusterUrl:
    """The startup nodes and credentials of a `redis+cluster://` URL; ValueError if it is not
    one (the message never repeats the password)."""
    if not is_cluster_url(url):
        raise ValueError("expected redis+cluster:// or rediss+cluster://")
    tls = url.startswith("rediss+")
    rest = url.split("://", 1)[1]
    authority, _, tail = rest.partition("/")
    if tail not in ("", "0"):
        raise ValueError("a Redis Cluster has only database 0: no path after the nodes")
    if "?" in authority:
        raise ValueError("no query options in a redis+cluster:// URL")
    username = password = None
    if "@" in authority:
        userinfo, authority = authority.rsplit("@", 1)
        user, sep, secret = userinfo.partition(":")
        if sep:
            username, password = unquote(user) or None, unquote(secret)
        else:
            password = unquote(user)
    nodes = []
    for part in authority.split(","):
        found = _NODE.fullmatch(part.strip())
        if found is None:
            raise ValueError(f"not host:port: {part.strip()!r}")
        port = int(found.group("port") or DEFAULT_PORT)
        if not 1 <= port <= 65535:
            raise ValueError(f"port out of range: {port}")
        nodes.append((found.group("v6") or found.group("host"), port))
    return ClusterUrl(tuple(nodes), username, password, tls)
