"""Packages found, not listed: every package under pyclingo_bridge/, and kb/ as pyclingo_bridge.kb.

Everything else is in pyproject.toml. This file exists because pyproject.toml's
``packages.find`` cannot add a package that lives outside its parent's folder (kb/ is mapped
to ``pyclingo_bridge.kb`` by ``package-dir``).
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["pyclingo_bridge", "pyclingo_bridge.*"]), "pyclingo_bridge.kb"])
