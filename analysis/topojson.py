"""Turn a TopoJSON object into one GeoJSON MultiPolygon: the offline maps' country outlines.

TopoJSON (the format of Natural Earth's `world-atlas` package) stores each shared border once, as
an "arc"; polygons list the arcs they are made of, a negative index (~i) meaning arc i reversed.
Quantized topologies store arcs as integer deltas, scaled and translated by `transform`.
Only the polygon geometries an outline needs are read; points and lines are ignored.

world-atlas keeps countries whole across the antimeridian (Fiji, eastern Russia), as a globe
would. A flat Leaflet map would join 179.9° to -179.9° straight across the world, so such a
polygon is made continuous (some longitudes pass 180) and drawn twice, one world apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

Position = list[float]  # [lon, lat], GeoJSON order
Ring = list[Position]


def decode_arcs(topology: dict[str, Any], digits: int) -> list[Ring]:
    """Every arc as absolute [lon, lat] positions, rounded to `digits` decimals."""
    transform = topology.get("transform")
    arcs: list[Ring] = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([[round(x, digits), round(y, digits)] for x, y, *_ in arc])
            continue
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        positions = []
        for dx, dy, *_ in arc:
            x, y = x + dx, y + dy  # quantized arcs are delta-encoded
            positions.append([round(x * sx + tx, digits), round(y * sy + ty, digits)])
        arcs.append(positions)
    return arcs


def stitch_ring(arc_indexes: Sequence[int], arcs: Sequence[Ring]) -> Ring:
    """Join a ring's arcs; consecutive arcs share an end point, which is kept once."""
    ring: Ring = []
    for index in arc_indexes:
        positions = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(positions[1:] if ring else positions)
    return ring


def polygons_of(topology: dict[str, Any], object_name: str, *, digits: int = 2) -> list[list[Ring]]:
    """The polygons of `objects[object_name]` (a geometry or a GeometryCollection)."""
    arcs = decode_arcs(topology, digits)
    root = topology["objects"][object_name]
    geometries = (
        root.get("geometries", [root]) if root.get("type") == "GeometryCollection" else [root]
    )
    polygons: list[list[Ring]] = []
    for geometry in geometries:
        kind = geometry.get("type")
        if kind == "Polygon":
            parts = [geometry["arcs"]]
        elif kind == "MultiPolygon":
            parts = geometry["arcs"]
        else:
            continue
        for polygon in parts:
            rings = [stitch_ring(ring, arcs) for ring in polygon]
            polygons.extend(for_flat_map(rings, digits))
    return polygons


def unwrap(ring: Ring, digits: int) -> Ring:
    """The ring with no step longer than half the world: longitudes may leave -180..180."""
    shift = 0.0
    out = [ring[0]]
    for (lon0, _), (lon1, lat1) in pairwise(ring):
        if lon1 - lon0 > 180:
            shift -= 360
        elif lon1 - lon0 < -180:
            shift += 360
        out.append([round(lon1 + shift, digits), lat1])
    return out


def for_flat_map(rings: list[Ring], digits: int) -> list[list[Ring]]:
    """The polygon as Leaflet can draw it: itself, or two copies if it crosses the antimeridian."""
    unwrapped = [unwrap(ring, digits) for ring in rings if ring]
    if unwrapped == rings:
        return [rings]
    if any(abs(ring[-1][0] - ring[0][0]) > 180 for ring in unwrapped):
        # A ring around a pole (Antarctica): as stored, its flat outline is already right.
        return [rings]
    east = max(lon for ring in unwrapped for lon, _ in ring) > 180
    offset = -360 if east else 360
    copy = [[[round(lon + offset, digits), lat] for lon, lat in ring] for ring in unwrapped]
    return [unwrapped, copy]


def as_multipolygon(
    topology: dict[str, Any], object_name: str, *, digits: int = 2
) -> dict[str, Any]:
    """A GeoJSON MultiPolygon geometry of the object: Leaflet's L.geoJSON draws it as is."""
    return {
        "type": "MultiPolygon",
        "coordinates": polygons_of(topology, object_name, digits=digits),
    }
