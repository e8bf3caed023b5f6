"""``python -m pyclingo_bridge``: the same CLI as ``policykb``."""

from .cli import main

main(prog_name="policykb")
