#!/usr/bin/env python3
"""Install the browser packages listed in a lock file: npm pack, check the hash, unpack.

    install_web_assets.py [--lock scripts/web-assets.lock] [--dest .cache/web-assets] [--check]

Each package lands in DEST/<name>/ with only the files the lock lists, plus `.integrity`, so a
second run that finds the same hash does nothing; --check only says (exit 1) whether any is
missing or stale. Uses only the standard library and `npm`
(the registry's own client), so it runs before the virtualenv exists.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MARKER = ".integrity"  # holds the hash of the tarball a package directory was unpacked from


@dataclass(frozen=True)
class Pinned:
    name: str
    spec: str  # name@version
    integrity: str  # "sha512-<base64>", as the registry publishes it
    keep: tuple[str, ...]  # file paths, or directory prefixes ending in "/", inside the package


def read_lock(path: Path) -> list[Pinned]:
    pinned = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        spec, integrity, *keep = line.split()
        name = spec.rsplit("@", 1)[0]
        if not keep or not integrity.startswith("sha512-") or not name:
            sys.exit(f"{path}:{number}: expected 'package@version sha512-... file...'")
        pinned.append(Pinned(name, spec, integrity, tuple(keep)))
    return pinned


def is_installed(package: Pinned, dest: Path) -> bool:
    marker = dest / package.name / MARKER
    return marker.is_file() and marker.read_text().strip() == package.integrity


def integrity_of(tarball: Path) -> str:
    digest = hashlib.sha512(tarball.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def npm_pack(spec: str, into: Path) -> Path:
    """Download the package's tarball from the registry (no install, no scripts run)."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is missing: run 'make setup' (it installs it) or apt-get install npm")
    subprocess.run(
        [npm, "pack", "--silent", "--ignore-scripts", "--pack-destination", str(into), spec],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = into.glob("*.tgz")
    return tarball


def wanted(member: tarfile.TarInfo, keep: tuple[str, ...]) -> PurePosixPath | None:
    """The member's path inside the package if the lock keeps it; None for anything else."""
    path = PurePosixPath(member.name)
    if not member.isfile() or path.parts[:1] != ("package",) or ".." in path.parts:
        return None
    inside = PurePosixPath(*path.parts[1:])
    text = str(inside)
    if any(text == k or (k.endswith("/") and text.startswith(k)) for k in keep):
        return inside
    return None


def unpack(tarball: Path, keep: tuple[str, ...], into: Path) -> list[str]:
    """Write the kept regular files under `into`; links and anything else are never extracted."""
    written = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            inside = wanted(member, keep)
            source = archive.extractfile(member) if inside else None
            if inside is None or source is None:
                continue
            target = into / inside
            target.parent.mkdir(parents=True, exist_ok=True)
            with source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
            written.append(str(inside))
    return written


def install(package: Pinned, dest: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="web-assets-") as tmp:
        tarball = npm_pack(package.spec, Path(tmp))
        actual = integrity_of(tarball)
        if actual != package.integrity:
            sys.exit(f"{package.spec}: got {actual}, but the lock says {package.integrity}")
        staging = Path(tmp) / "unpacked"
        written = unpack(tarball, package.keep, staging)
        missing = [k for k in package.keep if not any(w == k or w.startswith(k) for w in written)]
        if missing:
            sys.exit(f"{package.spec}: not in the package: {', '.join(missing)}")
        (staging / MARKER).write_text(package.integrity + "\n")
        # Replace the old directory whole, so a reader never mixes two versions.
        target = dest / package.name
        dest.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        shutil.move(str(staging), target)
    print(f"installed {package.spec} into {target} ({len(written)} files)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lock", type=Path, default=Path("scripts/web-assets.lock"))
    parser.add_argument("--dest", type=Path, default=Path(".cache/web-assets"))
    parser.add_argument("--check", action="store_true", help="install nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    needed = [p for p in read_lock(args.lock) if not is_installed(p, args.dest)]
    if args.check:
        return 1 if needed else 0
    for package in needed:
        install(package, args.dest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
