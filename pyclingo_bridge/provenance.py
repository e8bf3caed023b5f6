"""Provenance: which knowledge-base content decided an answer.

Every answer carries the policy's reference, the version and its effective dates, a SHA-256
of the KB files that were grounded for it (each file's path inside the KB and its bytes, so
two copies of the same KB at different places hash alike), and the policykb version. It is
computed once per engine (per policy version), never per answer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .records import record

# CPython's own SHA-256 (the same digest): hashlib would load OpenSSL first, about 2 ms of a
# CLI query's start-up. Any other Python takes hashlib's.
if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha256 import sha256  # Python 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # Python 3.12 and later
        except ImportError:
            from hashlib import sha256


@record
class Provenance:
    policy: str
    version: str
    effective_from: str | None
    effective_to: str | None
    status: str
    kb_sha256: str
    policykb_version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "version": self.version,
            "effective_from": self.effective_from,
            "effective_to": self.effective_to,
            "status": self.status,
            "kb_sha256": self.kb_sha256,
            "policykb_version": self.policykb_version,
        }


def files_sha256(files: Iterable[Path], root: Path) -> str:
    """SHA-256 over each file's path relative to ``root`` (as ``/``-separated text; the name
    alone for a file outside it, such as a link's target) and its contents, in order."""
    digest = sha256()
    for path in files:
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.name
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def file_sha256(path: Path | str) -> str:
    """SHA-256 of one file's bytes, read in blocks (an extract may be large: through OpenSSL,
    five times as fast as CPython's own module, which the KB's few small files use)."""
    import hashlib  # loads OpenSSL: only an audit's manifest hashes its extract

    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_manifest(
    input_name: str,
    input_sha256: str | None,
    rows: int,
    errors: int,
    statuses: Mapping[str, int],
    versions: Iterable[Provenance],
    started: datetime,
    ended: datetime,
) -> dict[str, Any]:
    """What an audit run was: its input (and the input file's hash), its row counts, the
    versions applied and their KB hashes, when it started and ended (UTC)."""
    return {
        "input": {"name": input_name, "sha256": input_sha256},
        "rows": {"total": rows, "decided": rows - errors, "errors": errors, "by_status": dict(sorted(statuses.items()))},
        "versions": [version.to_dict() for version in versions],
        "policykb_version": __version__,
        "started": started.astimezone(UTC).isoformat(timespec="seconds"),
        "ended": ended.astimezone(UTC).isoformat(timespec="seconds"),
    }


def relative_files(files: Iterable[Path], root: Path) -> list[str]:
    """The files as paths inside ``root`` (for a manifest)."""
    return [os.path.relpath(path, root) for path in files]


__all__ = ["Provenance", "file_sha256", "files_sha256", "relative_files", "run_manifest", "sha256"]
