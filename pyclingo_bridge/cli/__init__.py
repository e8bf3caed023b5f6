"""The ``policykb`` command line: thin commands over the library API.

Each command lives in a module of its own, registered here by name and imported only when
it runs: a query should not pay for the checker, YAML or the web stack at start-up. Library
errors become ``click.ClickException`` (exit 1) in :func:`library_errors`; bad flags are
click usage errors (exit 2).
"""

from __future__ import annotations

import importlib

import click

from .._version import __version__

COMMANDS = {
    "query": "query:query",
    "audit": "audit:audit",
    "policies": "policies:policies",
    "check": "check:check",
    "test": "test:test_command",
    "show": "show:show",
    "serve": "serve:serve",
    "ask": "ask:ask",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (click's documented lazy pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policykb")
def main() -> None:
    """Decide NHS clinical commissioning policies, with clause-by-clause explanations."""
