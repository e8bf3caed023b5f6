"""The ``policykb`` command line: thin commands over the library API.

Each command lives in a module of its own and is registered here. Library errors become
``click.ClickException`` (exit 1) in :func:`library_errors`; bad flags are click usage
errors (exit 2).
"""

from __future__ import annotations

import click

from .._version import __version__
from .audit import audit
from .policies import policies
from .query import query


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policykb")
def main() -> None:
    """Decide NHS clinical commissioning policies, with clause-by-clause explanations."""


main.add_command(query)
main.add_command(policies)
main.add_command(audit)
