"""``python -m pyclingo_bridge``: the same CLI as ``policykb``."""

from .cli import run

run()
