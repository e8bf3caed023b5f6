"""A copy of the installed KB in which Clin086 holds two dated versions (minimum age 16, then 19)."""

from __future__ import annotations

import shutil
from pathlib import Path

from pyclingo_bridge.knowledge_base import installed_kb_root

POLICY = "CMICB_Clin086"
VERSION_1 = """metadata(version, "1").
metadata(status, "ratified").
metadata(ratified, "2024-03").
metadata(effective_from, "2024-04-01").
metadata(effective_to, "2026-03-31").
parameter(minimum_age, age, 16, "1.5").
"""
VERSION_2 = """metadata(version, "2").
metadata(status, "draft").
metadata(effective_from, "2026-04-01").
parameter(minimum_age, age, 19, "1.5").
"""


def versioned_kb(root: Path, version_1: str = VERSION_1, version_2: str = VERSION_2) -> Path:
    """``root`` made a KB whose Clin086 has versions/1 and versions/2 (the given texts)."""
    shutil.copytree(installed_kb_root(), root, ignore=shutil.ignore_patterns("__pycache__"))
    folder = root / "policies" / "cmicb_clin086"
    policy = (folder / "policy.lp").read_text()
    for line in ('metadata(version, "1").\n', 'metadata(ratified, "2024-03").\n', 'parameter(minimum_age, age, 16, "1.5").\n'):
        assert line in policy
        policy = policy.replace(line, "")
    (folder / "policy.lp").write_text(policy)
    for number, text in (("1", version_1), ("2", version_2)):
        (folder / "versions" / number).mkdir(parents=True)
        (folder / "versions" / number / "version.lp").write_text(text)
    return root
