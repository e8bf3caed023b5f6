"""The ``policykb`` command line: thin commands over the library API.

Each command lives in a module of its own, registered here by name and imported only when
it runs: a query should not pay for the checker, YAML or the web stack at start-up. Library
errors become ``click.ClickException`` (exit 1) in :func:`library_errors`; bad flags are
click usage errors (exit 2).
"""

from __future__ import annotations

import errno
import gc
import importlib
import os
import sys
from typing import Any

import click

from .._version import __version__
from .options import BROKEN_PIPE_EXIT as BROKEN_PIPE_EXIT
from .options import cannot_write, end_quietly_on_closed_output, silence_stdout

COMMANDS = {
    "query": "query:query",
    "audit": "audit:audit",
    "policies": "policies:policies",
    "check": "check:check",
    "test": "test:test_command",
    "show": "show:show",
    "serve": "serve:serve",
    "diff": "diff:diff",
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

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, with a did-you-mean for a mistyped command (click offers it for options only)."""
        name = args[0] if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            import difflib  # only for the message

            close = difflib.get_close_matches(name, list(COMMANDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {name!r}.{hint} Commands: {', '.join(sorted(COMMANDS))}.")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # Output is flushed here, inside the command, so that a write that fails late (stdout
        # on a full disk, /dev/full) is one message now, not a traceback at interpreter exit.
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()
            return result
        except BrokenPipeError:
            end_quietly_on_closed_output()
        except OSError as error:
            if error.errno not in OUTPUT_ERRNOS:
                raise
            silence_stdout()
            raise cannot_write(error, "standard output") from None


OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EBADF})
"""The errors of a write that fails: told in one message, never a traceback."""


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="policykb")
def main() -> None:
    """Decide NHS clinical commissioning policies, with clause-by-clause explanations."""


QUICK_COMMANDS = frozenset({"query"})
"""Commands that decide one input and end. Run from the console, they run without the cyclic
collector and end without the interpreter's teardown once their output is flushed: the
collector's passes over the engine's objects and the teardown were about a tenth of a
query's time. The others run long, fork workers or clean up at exit, and keep both."""


def run() -> None:
    """The console entry (``policykb``, ``python -m pyclingo_bridge``): ``main``; for a quick
    command, without the collector, and ended at once with the command's exit code."""
    if len(sys.argv) < 2 or sys.argv[1] not in QUICK_COMMANDS:
        main(prog_name="policykb")
        return
    gc.disable()
    code: object = 0
    try:
        main(prog_name="policykb")
    except SystemExit as end:
        code = end.code
    if isinstance(code, str):  # sys.exit("message"): the message, and exit 1
        click.echo(code, err=True)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # output closed: already told by the command
        pass
    os._exit(code if isinstance(code, int) else 0)
